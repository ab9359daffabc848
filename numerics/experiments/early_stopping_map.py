"""The early-stopping map: Thm 4.4 at a glance (docs/math.md §5 "Thm 4.4"; paper §4.1, App. D.3).

Orthonormal data in the plane (``x_0 = 0``, ``x_1 = e_1``, ``x_2 = e_2``; the hyperbox is the unit
square).  Every initial point ``y_0`` of a grid is run through the probability flow
(``sigma_max = 1``, ``sigma_min = 0``, ``rho_0 = c``; exact closed forms) for several ``c`` and
each score model, and coloured by the class of its endpoint (training vertex ``0, e_1, e_2``,
virtual vertex ``e_1 + e_2``, boundary, other = interior of the square).

Overlaid: the level set ``c_0(y_0) = c`` of the early-stopping threshold of each model
(:func:`numerics.threshold.c0_closed_form`).  Thm 4.4: the flow ends on the closest vertex when
``c > c_0(y_0)`` and off the vertices when ``c < c_0(y_0)``, so in each panel the curve of the
panel's own model must separate the vertex colours from the others — and the other models'
curves show where the models disagree (``taylor-fixed-kinks`` has a different threshold formula).
"""
from __future__ import annotations

import numpy as np

from theory.errors import InputError
from theory.pieces import MODELS

from ..classify import CLASSES, classify
from ..flows import probability_flow_batch
from ..threshold import c0_closed_form
from ._data import orthonormal_dataset
from ._runtime import chunks, default_workers, parallel_map, pyplot, save_figure, write_results
from .parameters import float_list

NAME = "early-stopping-map"
STYLES = {"exact": ("k", "-"), "taylor": ("tab:cyan", "--"), "taylor-fixed-kinks": ("tab:red", ":")}
CLASS_CODES = {k: i for i, k in enumerate(CLASSES)}
#: The map's colours, in CLASSES order (training, virtual, boundary, other).
CLASS_RGB = ["#f4a3a3", "#9cc3ee", "#fdd49e", "#e0e0e0"]


def _c0_task(task) -> np.ndarray:
    """Worker: ``c_0`` of each point and model; ``0`` where no threshold exists because the
    closest hyperbox point is a vertex (reached for every ``c``), ``inf`` where none exists
    because a fixed-kinks coordinate sits at its midpoint."""
    P, sigma_max = task
    ds = orthonormal_dataset(2)
    out = np.empty((len(P), len(MODELS)))
    for i, y in enumerate(P):
        for j, m in enumerate(MODELS):
            r = c0_closed_form(ds, y, sigma_max, m)
            out[i, j] = r.c0 if r.c0 is not None else (np.inf if "midpoint" in r.reason else 0.0)
    return out


def run(out_dir, *, seed: int = 0, n_grid: int = 81, lim=(-0.3, 1.3),
        cs=(0.05, 0.15, 0.3, 0.45), threshold: float = 1e-6, progress: bool = True,
        workers: int | None = None, scheduler: str | None = None) -> dict:
    """Compute the map; write ``results.json`` and ``early_stopping_map.png``.

    Deterministic (``seed`` recorded only).  ``threshold`` is the l2 classification threshold
    (the flows are exact, so a tight one is right).  ``c`` must stay below ``c_max = 1/2``.
    """
    ds = orthonormal_dataset(2)
    sigma_max = 1.0
    if n_grid < 2:
        raise InputError(f"n_grid must be at least 2 (points per axis of the map), got {n_grid}")
    if len(lim) != 2 or not float(lim[0]) < float(lim[1]):
        raise InputError(f"lim must be two numbers lower,upper with lower < upper, got "
                         f"{tuple(lim)}")
    xs = np.linspace(lim[0], lim[1], n_grid)
    X, Y = np.meshgrid(xs, xs)
    P = np.column_stack([X.ravel(), Y.ravel()])
    n_workers = default_workers() if workers is None else workers
    blocks = chunks(len(P), 1 if n_workers == 1 and scheduler is None else 4 * n_workers)
    C0 = np.vstack(parallel_map(_c0_task, [(P[a:b], sigma_max) for a, b in blocks],
                                workers=workers, scheduler=scheduler, progress=progress,
                                label=f"{NAME} c0"))
    maps, agreement = {}, {}
    for m_idx, m in enumerate(MODELS):
        for c in cs:
            E = probability_flow_batch(ds, P, c=c, sigma_max=sigma_max, sigma_min=0.0, model=m,
                                       method="exact")
            codes = np.array([CLASS_CODES[cl.cls] for cl in classify(ds, E, threshold=threshold)])
            maps[(m, c)] = codes.reshape(X.shape)
            vertex = codes <= CLASS_CODES["virtual"]
            c0 = C0[:, m_idx]
            decided = np.abs(c - c0) > 1e-9  # points exactly on the threshold are not decided
            predicted = c > c0
            agreement[f"{m}/c={c:g}"] = {
                "points": int(decided.sum()),
                "agree": int(np.sum(predicted[decided] == vertex[decided])),
                "fractions": {k: float(np.mean(codes == CLASS_CODES[k])) for k in CLASSES}}
    gap = C0[:, MODELS.index("taylor-fixed-kinks")] - C0[:, MODELS.index("exact")]
    finite = np.isfinite(gap) & (C0[:, 0] > 0)
    results = {"seed": seed,
               "parameters": {"n_grid": n_grid, "lim": list(lim), "cs": list(cs),
                              "sigma_max": sigma_max, "threshold": threshold},
               "thm_4_4_agreement": agreement,
               "c0_gap_fixed_kinks_minus_exact": {
                   "max": float(gap[finite].max()), "min": float(gap[finite].min()),
                   "points": int(finite.sum())}}
    results["figures"] = [_figure(out_dir, X, Y, C0, maps, results)]
    write_results(out_dir, NAME, results)
    return results


#: Command-line parameters of ``flows experiment early-stopping-map`` (defaults: :func:`run`).
PARAMETERS = {
    "n_grid": (int, "initial points per axis"),
    "lim": (float_list, "lower,upper limit of both axes"),
    "cs": (float_list, "values of c = rho_0/sigma_max (each < 1/2), one column each, comma list"),
    "threshold": (float, "l2 classification threshold of the endpoints"),
}


def summary(results) -> list[str]:
    """Headline numbers: Thm 4.4's agreement per model and c, and the fixed-kinks c_0 gap."""
    out = []
    for m in MODELS:
        parts = []
        for c in results["parameters"]["cs"]:
            a = results["thm_4_4_agreement"][f"{m}/c={c:g}"]
            parts.append(f"c = {c:g}: {a['agree']}/{a['points']}")
        out.append(f"Thm 4.4 agrees ({m}): " + ", ".join(parts))
    g = results["c0_gap_fixed_kinks_minus_exact"]
    out.append(f"c_0(taylor-fixed-kinks) - c_0(exact) from {g['min']:.3g} to {g['max']:.3g} over "
               f"{g['points']} points")
    return out


def _figure(out_dir, X, Y, C0, maps, results) -> str:
    plt = pyplot()
    from matplotlib.colors import ListedColormap
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    p = results["parameters"]
    cs = p["cs"]
    fig, axes = plt.subplots(len(MODELS), len(cs), figsize=(3.6 * len(cs) + 1, 3.6 * len(MODELS)),
                             squeeze=False)
    cmap = ListedColormap(CLASS_RGB)
    for i, m in enumerate(MODELS):
        for j, c in enumerate(cs):
            ax = axes[i, j]
            ax.pcolormesh(X, Y, maps[(m, c)], cmap=cmap, vmin=-0.5, vmax=3.5, shading="nearest")
            for k, mm in enumerate(MODELS):
                col, ls = STYLES[mm]
                Z = np.clip(C0[:, k], 0, 10).reshape(X.shape)
                ax.contour(X, Y, Z, levels=[c], colors=[col], linestyles=[ls], linewidths=1.5)
            ax.plot([0, 1, 1, 0, 0], [0, 0, 1, 1, 0], color="k", lw=0.6)
            ax.set_aspect("equal")
            agree = results["thm_4_4_agreement"][f"{m}/c={c:g}"]
            ax.set_title(f"{m}, c = {c:g}\nThm 4.4 agrees on {agree['agree']}/{agree['points']}",
                         fontsize=9)
            if i == len(MODELS) - 1:
                ax.set_xlabel("$y_1$ (initial)")
            if j == 0:
                ax.set_ylabel("$y_2$ (initial)")
    handles = [Patch(color=CLASS_RGB[CLASS_CODES[k]], label=f"endpoint: {k}") for k in CLASSES]
    handles += [Line2D([], [], color=STYLES[m][0], ls=STYLES[m][1], label=f"c_0(y_0) = c, {m}")
                for m in MODELS]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=9,
               bbox_to_anchor=(0.5, -0.02))
    fig.suptitle("Probability-flow endpoint class of each initial point (rows: score model, "
                 "columns: c = rho_0/sigma_max) with the early-stopping curves c_0 = c",
                 fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    return save_figure(fig, out_dir, "early_stopping_map.png")
