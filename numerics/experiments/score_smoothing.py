"""Score smoothing on a segment (Chen 2025, "Interpolation effect of score smoothing in diffusion
models"): the empirical score memorizes, the smoothed score fills the segment (docs/models.md;
docs/experiments/score-smoothing.md).

Setting: ``M`` training points evenly spaced on a segment of length ``L`` along a random unit
direction in ``R^d`` (seeded); ``n_samples`` initial points drawn from the noised training
distribution at ``sigma_max`` (``y0 = x_m + sigma_max z``, ``m`` uniform, ``z ~ N(0, I)``: the
exact initial law of the empirical probability flow); the probability flow of each model by the
Heun sampler (EDM) on ``steps`` geometric levels from ``sigma_max`` to ``sigma_min``, identical
initial points for every model.

Models: ``empirical``; ``smoothed`` for every ``delta`` in ``deltas``; the min-norm shallow
denoiser ``min-cost`` on the segment's two end points for each ``c`` in ``cs`` (``N = 1``
orthogonal data, the only
min-cost closed form on collinear data: three or more collinear points are not a simplex, and no
closed form exists), with ``rho = c sigma`` and ``c sigma_max`` inside the low-noise regime.

With ``net`` (a network file trained on ``out_dir/data.json``, which every run writes: ``flows
train --data DIR/data.json ...``, the ``train`` extra) the trained shallow ReLU denoiser on the
same 9 points is added as a further model (:mod:`numerics.models.trained`).

Reported: the histogram of the samples' coordinate along the line, the fraction memorized
(Pham et al. 2024: nearest training point within ``delta_m = memorized_rel * spacing``), the
distance to the segment, for each model.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from theory.datasets import from_json

from ..metrics import distance_to_manifold, nearest_neighbours
from ..models import make_denoiser
from ..samplers import heun_sampler
from ..schedules import geometric_sigmas
from ._runtime import Progress, pyplot, save_figure, write_results
from .parameters import float_list

NAME = "score-smoothing"

PARAMETERS = {
    "M": (int, "training points evenly spaced on the segment"),
    "d": (int, "ambient dimension"),
    "length": (float, "length of the segment"),
    "n_samples": (int, "samples (shared initial points for every model)"),
    "deltas": (float_list, "kernel widths of the smoothed model, comma list"),
    "sigma_max": (float, "initial noise level"),
    "sigma_min": (float, "final noise level (> 0)"),
    "steps": (int, "Heun steps on the geometric grid"),
    "cs": (float_list, "c = rho/sigma of the min-cost model on the two end points, comma list"),
    "memorized_rel": (float, "memorized: within memorized_rel * spacing of a training point"),
    "net": (str, "optional network file trained on DIR/data.json (flows train), added as the "
                 "'trained' model"),
}


def summary(results) -> list[str]:
    """Headline numbers: the fraction memorized of every model."""
    return [f"{label}: memorized {100 * r['memorized_fraction']:.1f}%"
            for label, r in results["models"].items()]


def segment_data(M: int, d: int, length: float, rng) -> np.ndarray:
    """``M`` evenly spaced points on a segment of ``length`` centred at 0 along a random unit
    direction of ``R^d`` (``M >= 2``: a spacing needs two points)."""
    if M < 2:
        from theory.errors import OutOfRangeError
        raise OutOfRangeError(f"M must be at least 2 (points evenly spaced on a segment), got {M}")
    u = rng.standard_normal(d)
    u /= np.linalg.norm(u)
    return np.linspace(-length / 2, length / 2, M)[:, None] * u, u


def run(out_dir, *, seed: int = 0, M: int = 9, d: int = 8, length: float = 2.0,
        n_samples: int = 2000, deltas=(0.02, 0.05, 0.1, 0.2, 0.3, 0.5), sigma_max: float = 3.0,
        sigma_min: float = 1e-3, steps: int = 80, cs=(0.02, 0.15), memorized_rel: float = 0.05,
        net: str | None = None, progress: bool = True, workers=None, scheduler=None) -> dict:
    rng = np.random.default_rng(seed)
    X, u = segment_data(M, d, length, rng)
    spacing = length / (M - 1)
    data = from_json({"kind": "general", "points": X.tolist()})
    out_path = Path(out_dir)
    out_path.mkdir(parents=True, exist_ok=True)
    (out_path / "data.json").write_text(json.dumps(data.to_json()) + "\n")  # for flows train
    ends = from_json({"kind": "orthogonal", "points": [X[0].tolist(), X[-1].tolist()]})
    Y0 = X[rng.integers(0, M, n_samples)] + sigma_max * rng.standard_normal((n_samples, d))
    grid = geometric_sigmas(sigma_max, sigma_min, steps + 1)
    delta_m = memorized_rel * spacing
    models = [("empirical", make_denoiser("empirical", data))]
    models += [(f"smoothed delta={dl:g}", make_denoiser("smoothed", data, delta=dl))
               for dl in deltas]
    for c in cs:
        mc = make_denoiser("min-cost", ends, c=c)
        mc.check_sigma_range(sigma_max, sigma_min)
        models.append((f"min-cost (2 end points, c={c:g})", mc))
    if net is not None:  # a trained shallow ReLU denoiser on the same 9 points (train extra)
        models.append(("trained", make_denoiser("trained", data, net=net)))
    results, along = {}, {}
    bar = Progress(len(models), "score-smoothing", enabled=progress)
    for label, D in models:
        Y = heun_sampler(D, Y0, grid)
        t = Y @ u
        dist_train = nearest_neighbours(Y, X)[1]
        dist_seg = distance_to_manifold(data, Y)
        along[label] = t
        results[label] = {
            "denoiser": D.describe(),
            "memorized_fraction": float(np.mean(dist_train <= delta_m)),
            "median_distance_to_training": float(np.median(dist_train)),
            "median_distance_to_segment": float(np.median(dist_seg)),
            "max_distance_to_segment": float(np.max(dist_seg)),
            "fraction_inside_segment": float(np.mean(np.abs(t) <= length / 2 + delta_m)),
            "histogram": np.histogram(t, bins=np.linspace(-length / 2 - spacing,
                                                          length / 2 + spacing, 4 * M + 9))[0],
        }
        bar.update()
    figures = [_figure(out_dir, X @ u, along, results, deltas, len(cs) + (net is not None),
                       length, spacing, delta_m)]
    out = {"seed": seed, "M": M, "d": d, "length": length, "spacing": spacing,
           "n_samples": n_samples, "sigma_max": sigma_max, "sigma_min": sigma_min,
           "steps": steps, "sampler": "heun", "initial": "x_m + sigma_max z",
           "delta_m": delta_m, "deltas": list(deltas), "cs": list(cs), "net": net,
           "data_file": "data.json", "models": results,
           "figures": figures}
    write_results(out_dir, NAME, out)
    return out


def _figure(out_dir, t_train, along, results, deltas, n_c, length, spacing, delta_m):
    plt = pyplot()
    labels = list(along)
    show = [labels[0]] + [labels[1 + i] for i in sorted({0, len(deltas) // 2,
                                                         len(deltas) - 1})] + labels[-n_c:]
    fig = plt.figure(figsize=(3.0 * len(show), 6.2))
    gs = fig.add_gridspec(2, len(show), height_ratios=(1, 1.05), hspace=0.45)
    bins = np.linspace(-length / 2 - spacing, length / 2 + spacing, 8 * len(t_train) + 17)
    for k, label in enumerate(show):
        ax = fig.add_subplot(gs[0, k])
        color = "C0" if "smoothed" in label else ("C3" if label == "empirical" else
                                                  f"C{2 + 2 * labels[-n_c:].index(label)}")
        ax.hist(along[label], bins=bins, color=color)
        ax.plot(t_train, np.zeros_like(t_train), "k^", ms=6, clip_on=False)
        ax.set_title(f"{label}\nmemorized {100 * results[label]['memorized_fraction']:.0f}%",
                     fontsize=9)
        ax.set_xlabel("position along the line")
        if k == 0:
            ax.set_ylabel("samples")
    ax = fig.add_subplot(gs[1, :])
    mem = [results[labels[1 + i]]["memorized_fraction"] for i in range(len(deltas))]
    ax.plot(np.asarray(deltas) / spacing, mem, "o-", color="C0", label="smoothed")
    ax.axhline(results[labels[0]]["memorized_fraction"], color="C3", ls="--",
               label="empirical")
    for k, label in enumerate(labels[-n_c:]):
        ax.axhline(results[label]["memorized_fraction"], color=f"C{2 + 2 * k}", ls=":",
                   label=label)
    ax.set_xscale("log")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("kernel width delta / spacing")
    ax.set_ylabel(f"fraction memorized\n(within {delta_m:.3g} of a training point)")
    ax.legend(fontsize=8, loc="center left")
    ax.grid(alpha=0.3)
    fig.suptitle("Score smoothing on a segment: the empirical score memorizes, smoothing fills "
                 "the segment", fontsize=11)
    return save_figure(fig, out_dir, "score_smoothing.png")
