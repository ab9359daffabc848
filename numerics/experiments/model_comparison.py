"""Every score model on identical data, schedule and initial noise (docs/models.md;
docs/experiments/model-comparison.md).

Datasets: ``N`` orthonormal points (``x_0 = 0``, ``x_n = e_n``, ``d = N``; the paper's §5 data)
and the segment data of :mod:`.score_smoothing` (``M`` evenly spaced points on a segment in
``R^d_seg``).  For each dataset one batch of ``n_reference`` initial points
``y0 = x_m + sigma_max z`` (``m`` uniform, ``z ~ N(0, I)``; seeded) is shared by all models; the
first ``n_samples`` are the samples, all ``n_reference`` the reference set of Pham et al.'s
spurious test.  Every model runs the Heun sampler (EDM) on the same ``steps`` geometric levels
from ``sigma_max`` to ``sigma_min``.

Models (parameters relative to the data's spacing ``a``, the smallest distance between training
points: ``a = 1`` orthonormal, ``a = L/(M-1)`` segment): ``empirical``; ``smoothed`` (``delta =
a``; segment only — it needs collinear data); ``regularized`` (``eps = (a/2)^2``); ``coarse``
(``sigma_c = a/2``); ``min-cost`` (orthonormal only, ``rho = c sigma`` with ``c sigma_max`` inside
the low-noise regime: no min-cost closed form exists on three or more collinear points).

Metrics (:mod:`numerics.metrics`), thresholds ``delta_m = threshold_rel * a`` (also the class
threshold) and ``delta_s = spurious_rel * a``: the
paper's endpoint classes (training / virtual / boundary / other; ``training`` / ``other`` on the
segment), Pham et al.'s memorized / spurious / generalized fractions, and the median distances to
the nearest training point and to the data's manifold (hyperbox boundary; segment).
"""
from __future__ import annotations

import numpy as np

from theory.datasets import from_json

from ..classify import CLASSES
from ..metrics import (PHAM_CLASSES, class_fractions, distance_to_manifold, endpoint_classes,
                       nearest_neighbours, pham_classes)
from ..models import make_denoiser
from ..samplers import heun_sampler
from ..schedules import geometric_sigmas
from ._data import orthonormal_dataset
from ._runtime import Progress, pyplot, save_figure, write_results
from .score_smoothing import segment_data

NAME = "model-comparison"

PARAMETERS = {
    "N": (int, "orthonormal training points x_n = e_n (d = N) besides x_0 = 0"),
    "M": (int, "training points on the segment"),
    "d_segment": (int, "ambient dimension of the segment data"),
    "length": (float, "length of the segment"),
    "n_samples": (int, "samples per model (the first of the reference set)"),
    "n_reference": (int, "reference set of Pham et al.'s spurious test"),
    "sigma_max": (float, "initial noise level"),
    "sigma_min": (float, "final noise level (> 0)"),
    "steps": (int, "Heun steps on the geometric grid"),
    "c": (float, "rho = c sigma of the min-cost model (c sigma_max < 1/2)"),
    "threshold_rel": (float, "delta_m and the class threshold, relative to the spacing"),
    "spurious_rel": (float, "delta_s relative to the spacing"),
}


def summary(results) -> list[str]:
    """Headline numbers: Pham et al.'s fractions and the median distance to the manifold."""
    out = []
    for kind, res in results["datasets"].items():
        for label, r in res["models"].items():
            p = r["pham"]
            out.append(f"{kind} / {label}: memorized {100 * p['memorized']:.1f}%, spurious "
                       f"{100 * p['spurious']:.1f}%, generalized {100 * p['generalized']:.1f}%; "
                       f"median distance to manifold {r['median_distance_to_manifold']:.3g}")
    return out


def _models(kind, data, a, c):
    out = [("empirical", "empirical", {})]
    if kind == "segment":
        out.append(("smoothed", "smoothed", {"delta": a}))
    out += [("regularized", "regularized", {"eps": (a / 2) ** 2}),
            ("coarse", "coarse", {"sigma_c": a / 2})]
    if kind == "orthonormal":
        out.append(("min-cost", "min-cost", {"c": c}))
    return out


def run(out_dir, *, seed: int = 0, N: int = 30, M: int = 9, d_segment: int = 8,
        length: float = 2.0, n_samples: int = 500, n_reference: int = 2000,
        sigma_max: float = 2.0, sigma_min: float = 1e-3, steps: int = 60, c: float = 0.2,
        threshold_rel: float = 0.05, spurious_rel: float = 0.01, progress: bool = True,
        workers=None, scheduler=None) -> dict:
    rng = np.random.default_rng(seed)
    grid = geometric_sigmas(sigma_max, sigma_min, steps + 1)
    orth = orthonormal_dataset(N)
    Xs, _ = segment_data(M, d_segment, length, rng)
    datasets = [("orthonormal", orth, 1.0),
                ("segment", from_json({"kind": "general", "points": Xs.tolist()}),
                 length / (M - 1))]
    results = {}
    total = sum(len(_models(k, ds, a, c)) for k, ds, a in datasets)
    bar = Progress(total, "model-comparison", enabled=progress)
    for kind, ds, a in datasets:
        from ..models import training_points
        X = training_points(ds)
        Y0 = X[rng.integers(0, X.shape[0], n_reference)] + sigma_max * rng.standard_normal(
            (n_reference, X.shape[1]))
        thr = threshold_rel * a
        per = {}
        for label, name, params in _models(kind, ds, a, c):
            D = make_denoiser(name, ds, **params)
            D.check_sigma_range(sigma_max, sigma_min)
            R = heun_sampler(D, Y0, grid)
            Y = R[:n_samples]
            dist_train = nearest_neighbours(Y, X)[1]
            dist_man = distance_to_manifold(ds, Y)
            classes = endpoint_classes(ds, Y, thr)
            pham = pham_classes(Y, X, R, thr, spurious_rel * a, self_in_reference=True)
            per[label] = {
                "denoiser": D.describe(),
                "endpoint_classes": class_fractions(classes, CLASSES if kind == "orthonormal"
                                                    else ("training", "other")),
                "pham": class_fractions(pham, PHAM_CLASSES),
                "median_distance_to_training": float(np.median(dist_train)),
                "median_distance_to_manifold": float(np.median(dist_man)),
            }
            bar.update()
        results[kind] = {"spacing": a, "threshold": thr, "delta_s": spurious_rel * a,
                         "n_training_points": int(X.shape[0]),
                         "d": int(X.shape[1]), "models": per}
    figures = [_figure(out_dir, results)]
    out = {"seed": seed, "N": N, "M": M, "d_segment": d_segment, "length": length,
           "n_samples": n_samples, "n_reference": n_reference, "sigma_max": sigma_max,
           "sigma_min": sigma_min, "steps": steps, "sampler": "heun",
           "initial": "x_m + sigma_max z (shared by all models)", "c": c,
           "threshold_rel": threshold_rel, "spurious_rel": spurious_rel, "datasets": results,
           "figures": figures}
    write_results(out_dir, NAME, out)
    return out


def _figure(out_dir, results):
    plt = pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(14, 8.2), gridspec_kw={"hspace": 0.75,
                                                                    "wspace": 0.32})
    colors = {"memorized": "C3", "spurious": "C1", "generalized": "C2", "training": "C3",
              "virtual": "C4", "boundary": "C0", "other": "0.6"}
    for row, (kind, res) in enumerate(results.items()):
        labels = list(res["models"])
        x = np.arange(len(labels))
        for col, (key, classes) in enumerate((("pham", PHAM_CLASSES), ("endpoint_classes",
                                                                        None))):
            ax = axes[row, col]
            classes = classes or list(res["models"][labels[0]][key])
            bottom = np.zeros(len(labels))
            for cl in classes:
                v = np.array([res["models"][m][key][cl] for m in labels])
                ax.bar(x, v, bottom=bottom, color=colors[cl], label=cl, width=0.7)
                bottom += v
            ax.set_xticks(x, labels, rotation=25, fontsize=8)
            ax.set_ylim(0, 1)
            ax.set_ylabel("fraction of samples")
            ax.set_title(f"{kind}: " + ("Pham et al. classes" if key == "pham"
                                        else "endpoint classes"), fontsize=10)
            ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=4,
                      frameon=False)
        ax = axes[row, 2]
        dt = [res["models"][m]["median_distance_to_training"] for m in labels]
        dm = [res["models"][m]["median_distance_to_manifold"] for m in labels]
        ax.bar(x - 0.18, dt, width=0.36, color="C3", label="to nearest training point")
        ax.bar(x + 0.18, dm, width=0.36, color="C0", label="to the manifold")
        ax.axhline(res["threshold"], color="k", ls=":", lw=1, label="delta_m")
        ax.set_yscale("log")
        ax.set_xticks(x, labels, rotation=25, fontsize=8)
        ax.set_ylabel("median distance")
        ax.set_title(f"{kind}: where the samples end", fontsize=10)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=3,
                  frameon=False)
    fig.suptitle("Score models on identical data, schedule and initial noise", fontsize=12)
    return save_figure(fig, out_dir, "model_comparison.png")
