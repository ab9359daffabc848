"""Figs. 4, 5 and 15: the score field of the min-cost denoiser for an obtuse 2-simplex and an
equilateral triangle, normalised and raw, with score-flow trajectories and the ReLU boundaries
(paper App. B, App. C, App. J).

Score ``s(y) = (h_rho(y) - y) / sigma^2`` (eq. 10, ``rho = c sigma``).  The paper's normalised
field is ``s log|s| / |s|`` (App. B: "the score multiplied by the log of the norm of the score and
divided by the norm"); ``log|s| < 0`` where ``|s| < 1`` would flip those arrows, so the plotted
length is ``max(log|s|, 0)`` (arrows vanish instead of reversing; only tiny neighbourhoods of the
stationary points are affected at the default ``sigma``).  The ReLU boundaries are the kink lines
``u_n^T (y - o) = k_lo`` and ``= k_hi`` of each unit (:mod:`numerics.evaluate` parameters);
for the triangle they are parallel to the edges (docs/math.md §2).
"""
from __future__ import annotations

import numpy as np

from ..evaluate import compile_denoiser
from ..flows import score_flow
from ..plotting import normalised_score, plot_score_field, plot_trajectories, score_grid
from ._data import equilateral_triangle, obtuse_triangle
from ._runtime import pyplot, save_figure, write_results

NAME = "score-fields"

#: Default starts of the drawn trajectories, per dataset.
STARTS = {
    "obtuse": [(0.45, 0.08), (0.1, 0.42), (0.62, 0.55), (-0.35, -0.3), (1.3, 0.4), (0.3, 1.1)],
    "equilateral": [(0.05, -0.42), (-0.45, 0.2), (0.4, 0.28), (0.0, 0.05), (-1.0, -0.9),
                    (0.9, 0.9)],
}


# the normalisation and the ReLU boundary lines live in numerics.plotting (shared with notebooks)
normalised = normalised_score


def field(dataset, rho: float, sigma: float, lim, n_grid: int):
    """Grid ``(X, Y)`` and the score on it, shape ``(n_grid^2, 2)``."""
    h = compile_denoiser(dataset, "exact")
    return score_grid(dataset, lambda P: h.denoise(P, rho), sigma, lim, n_grid)


def trajectories(dataset, rho: float, starts, tau_max: float) -> list[dict]:
    """Exact score-flow paths (eq. 14) from ``starts``."""
    out = []
    for y0 in starts:
        res = score_flow(dataset, np.array(y0, float), rho, model="exact", method="exact",
                         times=np.linspace(0.0, tau_max, 600))
        out.append({"y0": list(y0), "endpoint": res.endpoint, "path": res.path,
                    "kink_events": res.kink_events})
    return out


def run(out_dir, *, seed: int = 0, rho: float = 0.15, c: float = 1.0, n_grid: int = 25,
        tau_max: float = 40.0, progress: bool = True, workers: int | None = None,
        scheduler: str | None = None) -> dict:
    """Draw the fields; write ``results.json`` and ``score_fields.png``.

    Deterministic (``seed`` is recorded only); ``workers``/``scheduler``/``progress`` are accepted
    for a uniform interface (the work is a few thousand vectorised evaluations).
    """
    sigma = rho / c
    sets = {"obtuse": (obtuse_triangle(), ((-0.8, 1.6), (-0.6, 1.4))),
            "equilateral": (equilateral_triangle(), ((-1.4, 1.4), (-1.1, 1.5)))}
    results = {"seed": seed, "parameters": {"rho": rho, "c": c, "sigma": sigma, "n_grid": n_grid,
                                            "tau_max": tau_max}, "datasets": {}}
    drawn = {}
    for name, (ds, lim) in sets.items():
        X, Y, S = field(ds, rho, sigma, lim, n_grid)
        tr = trajectories(ds, rho, STARTS[name], tau_max)
        drawn[name] = (ds, lim, X, Y, S, tr)
        results["datasets"][name] = {
            "points": ds.to_json()["points"],
            "score_norm_range": [float(np.linalg.norm(S, axis=1).min()),
                                 float(np.linalg.norm(S, axis=1).max())],
            "trajectories": [{"y0": t["y0"], "endpoint": t["endpoint"],
                              "kink_events": t["kink_events"]} for t in tr]}
    results["figures"] = [_figure(out_dir, drawn, results)]
    write_results(out_dir, NAME, results)
    return results


#: Command-line parameters of ``flows experiment score-fields`` (defaults: :func:`run`).
PARAMETERS = {
    "rho": (float, "noise radius of the min-cost denoiser h_rho"),
    "c": (float, "rho = c sigma: sets sigma = rho / c in s = (h(y) - y)/sigma^2"),
    "n_grid": (int, "arrows per axis"),
    "tau_max": (float, "score-flow time of the drawn trajectories"),
}


def summary(results) -> list[str]:
    """Headline numbers: the score's range and where each drawn trajectory ends."""
    p = results["parameters"]
    out = [f"rho = {p['rho']:g}, sigma = {p['sigma']:g}, {p['n_grid']}x{p['n_grid']} grid:"]
    for name, row in results["datasets"].items():
        lo, hi = row["score_norm_range"]
        ends = "; ".join("(" + ", ".join(f"{round(x, 3) + 0.0:g}" for x in t["endpoint"]) + ")"
                         for t in row["trajectories"])
        out.append(f"{name}: |s| from {lo:.3g} to {hi:.3g}; score-flow endpoints {ends}")
    return out


def _figure(out_dir, drawn, results) -> str:
    plt = pyplot()
    p = results["parameters"]
    fig, axes = plt.subplots(2, 2, figsize=(13, 12))
    fig_no = {("obtuse", True): "Fig. 4", ("equilateral", True): "Fig. 5",
              ("obtuse", False): "Fig. 15"}
    for row, (name, (ds, lim, X, Y, S, tr)) in enumerate(drawn.items()):
        for col, norm in enumerate((True, False)):
            ax = axes[row, col]
            kind = ("normalised score s·log|s|/|s|" if norm else "raw score s = (h(y) - y)/σ²")
            plot_score_field(ds, p["rho"], ax, normalised=norm, c=p["c"], lim=lim,
                             n_grid=p["n_grid"], legend=False,
                             title=f"{name} {'2-simplex' if name == 'obtuse' else 'triangle'}: "
                                   f"{kind}\nrho = {p['rho']:g}, sigma = {p['sigma']:g}  "
                                   f"{fig_no.get((name, norm), '')}")
            plot_trajectories(ds, [t["path"] for t in tr], ax, colors=["k"] * len(tr),
                              labels=["score-flow path"] + [None] * (len(tr) - 1), lw=1.4,
                              legend=False, geometry=False)
            ax.set_aspect("equal", adjustable="box")
            ax.set_xlim(*lim[0])
            ax.set_ylim(*lim[1])
            ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return save_figure(fig, out_dir, "score_fields.png")
