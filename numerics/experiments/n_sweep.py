"""Fig. 3: probability-flow endpoint fractions as the number of training points shrinks
(paper §5.2).

The full probability flow of :mod:`.endpoints` (empirical MMSE denoiser above the low-noise
regime, exact min-cost ODE inside it) for ``N`` orthonormal points ``x_n = e_n`` (and ``x_0 = 0``)
in a fixed dimension ``d``, from the same ``n_points`` Gaussian starts for every ``N``.  The paper
reports that generalisation (virtual and boundary endpoints) grows with ``N`` and memorisation
(training endpoints) falls.
"""
from __future__ import annotations

import numpy as np

from ..classify import CLASSES
from ._data import orthonormal_dataset
from ._runtime import pyplot, save_figure, write_results
from .endpoints import CLASS_COLORS, fractions, simulate, switch_sigma

NAME = "n-sweep"
PAPER = ("generalisation increases with N: a larger share of samples converges to virtual "
         "points or the hyperbox boundary; memorisation (training points) dominates at small N")


def run(out_dir, *, seed: int = 0, Ns=(30, 20, 10, 5), d: int = 30, n_points: int = 500,
        sigma_max: float = 10.0, c: float = 1.0, n_high: int = 400, n_low: int = 50,
        thresholds=(0.01, 0.1), threshold: float = 0.1, method: str = "ode",
        progress: bool = True, workers: int | None = None, scheduler: str | None = None) -> dict:
    """Run the Fig. 3 experiment; write ``results.json`` and ``n_sweep.png``.

    ``method`` is the low-noise stage (``"ode"`` exact, ``"euler"`` eq. 20 with ``n_low`` levels).
    """
    Ns = [int(n) for n in Ns]
    if any(n < 1 or n > d for n in Ns):
        raise ValueError(f"every N must lie in 1..d = {d}, got {Ns}")
    thresholds = sorted(set(map(float, thresholds)) | {float(threshold)})
    rng = np.random.default_rng(seed)
    Y0 = sigma_max * rng.standard_normal((n_points, d))
    rows = {}
    for N in Ns:
        ds = orthonormal_dataset(N, d)
        params = {"score": False, "cs": [float(c)], "methods": (method,), "sigma_max": sigma_max,
                  "n_high": n_high, "n_low": n_low}
        ends = simulate((N, d), Y0, params, workers=workers, scheduler=scheduler,
                        progress=progress, label=f"{NAME} N={N}")
        Y = ends[f"probability/{method}/c={float(c):.6g}"]
        rows[str(N)] = {"fractions": fractions(ds, Y, thresholds),
                        "mean_vertex_size": float(np.mean(np.sum(Y[:, :N] > 0.5, axis=1))),
                        "sigma_switch": switch_sigma(ds, c)}
    results = {"seed": seed,
               "parameters": {"Ns": Ns, "d": d, "n_points": n_points, "sigma_max": sigma_max,
                              "c": c, "n_high": n_high, "n_low": n_low, "method": method,
                              "thresholds": thresholds, "threshold": threshold},
               "by_N": rows, "paper": PAPER}
    results["figures"] = [_figure(out_dir, results)]
    write_results(out_dir, NAME, results)
    return results


def _figure(out_dir, results) -> str:
    plt = pyplot()
    p = results["parameters"]
    Ns = p["Ns"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    x = np.arange(len(Ns))
    w = 0.2
    for ax, norm in zip(axes, ("l2", "linf")):
        for j, k in enumerate(CLASSES):
            vals = [100 * results["by_N"][str(n)]["fractions"][norm][str(p["threshold"])][k]
                    for n in Ns]
            rects = ax.bar(x + (j - 1.5) * w, vals, w, color=CLASS_COLORS[k], label=k)
            for rect, v in zip(rects, vals):
                if v > 0:
                    ax.annotate(f"{v:.0f}" if v >= 1 else f"{v:.1f}", (rect.get_x() + rect.get_width() / 2, v),
                                ha="center", va="bottom", fontsize=7)
        ax.set_xticks(x, [f"N = {n}" for n in Ns])
        ax.set_ylim(0, 110)
        ax.set_ylabel("endpoints (%)")
        ax.set_title(f"{norm} threshold {p['threshold']:g}")
        ax.legend(fontsize=8)
    fig.suptitle(f"Probability-flow endpoints vs N (d = {p['d']}, {p['n_points']} starts, "
                 f"sigma_max = {p['sigma_max']:g}, c = {p['c']:g}, low-noise stage: "
                 f"{p['method']})")
    fig.tight_layout()
    return save_figure(fig, out_dir, "n_sweep.png")
