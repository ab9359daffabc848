"""Fig. 16: trajectories of the three score models from the same starts (paper App. J, eqs. 18-19;
docs/math.md §3 "Taylor model").

Orthonormal data in the plane (``x_0 = 0``, ``x_1 = e_1``, ``x_2 = e_2``).  For each start the
probability flow (log-noise time ``s``, ``rho(s) = rho_0 e^{-s}``) and the score flow (fixed
``rho``) are integrated exactly (closed forms, docs/math.md §4) in the ``exact``, ``taylor`` and
``taylor-fixed-kinks`` models.  The paper says the exact and approximated trajectories are
"nearly identical at low noise levels"; the experiment measures how the gap scales with
``rho_0``: the linear-piece rates ``2 rho/(r - 2 rho)`` and ``2 rho/r`` differ at second order,
so a middle coordinate's endpoint differs by ``O(rho_0^2)`` (exact:
``r/2 + (t0 - r/2) r/(r - 2 rho_0)``, Taylor: ``r/2 + (t0 - r/2) e^{2 rho_0 / r}``), while
``taylor-fixed-kinks`` also moves the kinks and differs at first order for starts near a kink.
"""
from __future__ import annotations

import numpy as np

from theory.pieces import MODELS

from ..flows import probability_flow, score_flow
from ._data import orthonormal_dataset
from ..plotting import draw_geometry
from ._runtime import pyplot, save_figure, write_results
from .parameters import float_list

NAME = "taylor-vs-exact"
STARTS = [(0.3, 0.62), (0.45, 0.2), (0.56, 0.7), (0.72, 0.38), (0.15, 0.9), (-0.2, 0.55)]
STYLES = {"exact": ("k", "-"), "taylor": ("tab:blue", "--"), "taylor-fixed-kinks": ("tab:red", ":")}
#: One marker per model, so the three can be told apart where their lines overlap.
MARKERS = {"exact": "o", "taylor": "s", "taylor-fixed-kinks": "^"}


def paths(dataset, y0, *, flow: str, rho0: float, s_max: float, n_times: int) -> dict:
    """Trajectory of each model from ``y0`` (``sigma_max = 1`` so ``c = rho0``)."""
    out = {}
    times = np.linspace(0.0, s_max, n_times)
    for m in MODELS:
        if flow == "probability":
            r = probability_flow(dataset, y0, c=rho0, sigma_max=1.0, sigma_min=0.0, model=m,
                                 method="exact", times=times)
        else:
            r = score_flow(dataset, y0, rho0, model=m, method="exact", times=times)
        out[m] = r
    return out


def run(out_dir, *, seed: int = 0, rho0: float = 0.1, rho0_sweep=(0.005, 0.01, 0.02, 0.05, 0.1,
        0.2, 0.3, 0.4), s_max: float = 8.0, tau_max: float = 60.0, n_times: int = 400,
        progress: bool = True, workers: int | None = None, scheduler: str | None = None) -> dict:
    """Run the Fig. 16 comparison; write ``results.json`` and ``taylor_vs_exact.png``.

    Deterministic (``seed`` recorded only).  ``rho0`` is the drawn case; ``rho0_sweep`` the
    deviation table (max over :data:`STARTS` of the endpoint and path gaps to ``exact``).
    """
    ds = orthonormal_dataset(2)
    starts = [np.array(y, float) for y in STARTS]
    drawn = {flow: [paths(ds, y0, flow=flow, rho0=rho0, n_times=n_times,
                          s_max=s_max if flow == "probability" else tau_max) for y0 in starts]
             for flow in ("probability", "score")}
    table = []
    for r0 in rho0_sweep:
        row = {"rho0": r0}
        for flow in ("probability", "score"):
            runs = [paths(ds, y0, flow=flow, rho0=r0, n_times=n_times,
                          s_max=s_max if flow == "probability" else tau_max) for y0 in starts]
            for m in MODELS[1:]:
                row[f"{flow}/{m}/endpoint_gap"] = max(
                    float(np.linalg.norm(r[m].endpoint - r["exact"].endpoint)) for r in runs)
                row[f"{flow}/{m}/path_gap"] = max(
                    float(np.max(np.linalg.norm(r[m].path - r["exact"].path, axis=1)))
                    for r in runs)
        table.append(row)
    results = {"seed": seed,
               "parameters": {"rho0": rho0, "rho0_sweep": list(rho0_sweep), "s_max": s_max,
                              "tau_max": tau_max, "n_times": n_times, "sigma_max": 1.0,
                              "starts": STARTS},
               "endpoints": {flow: [{m: r[m].endpoint for m in MODELS} for r in drawn[flow]]
                             for flow in drawn},
               "gaps": table}
    results["figures"] = [_figure(out_dir, drawn, results)]
    write_results(out_dir, NAME, results)
    return results


#: Command-line parameters of ``flows experiment taylor-vs-exact`` (defaults: :func:`run`).
PARAMETERS = {
    "rho0": (float, "rho_0 = c sigma_max of the drawn trajectories"),
    "rho0_sweep": (float_list, "rho_0 values of the gap table, comma list"),
    "s_max": (float, "probability-flow time s = ln(sigma_max/sigma) integrated"),
    "tau_max": (float, "score-flow time tau integrated"),
    "n_times": (int, "output times per trajectory"),
}


def summary(results) -> list[str]:
    """Headline numbers: the largest gaps to the exact model and their growth with rho_0."""
    out = ["max gap to the exact model over the starts (l2):"]
    rows = results["gaps"]
    for m in MODELS[1:]:
        first, last = rows[0], rows[-1]
        gap = f"probability/{m}/endpoint_gap"
        out.append(f"{m}: probability-flow endpoint gap {first[gap]:.3g} "
                   f"at rho_0 = {first['rho0']:g}, {last[gap]:.3g} at "
                   f"rho_0 = {last['rho0']:g}; score-flow path gap "
                   f"{last[f'score/{m}/path_gap']:.3g} at rho_0 = {last['rho0']:g}")
    return out


def _model_lines(ax, x, curves, every):
    for m in MODELS:
        col, ls = STYLES[m]
        ax.plot(x, curves[m], ls, color=col, lw=1.6, marker=MARKERS[m], markevery=every, ms=5,
                label=m)


def _difference_inset(ax, x, curves, loc):
    """Inset: each Taylor model minus the exact model (their lines overlap in the main axes)."""
    ins = ax.inset_axes(loc)
    for m in MODELS[1:]:
        col, ls = STYLES[m]
        ins.plot(x, curves[m] - curves["exact"], ls, color=col, lw=1.3)
    ins.axhline(0, color="k", lw=0.6)
    ins.set_title("model - exact", fontsize=7)
    ins.tick_params(labelsize=6)
    return ins


def _figure(out_dir, drawn, results) -> str:
    plt = pyplot()
    p = results["parameters"]
    fig, axes = plt.subplots(2, 2, figsize=(14, 11.5))
    ds = orthonormal_dataset(2)
    ax = axes[0, 0]
    draw_geometry(ds, ax)
    for k, runs in enumerate(drawn["probability"]):
        for m in MODELS:
            col, ls = STYLES[m]
            path = runs[m].path
            ax.plot(path[:, 0], path[:, 1], ls, color=col, lw=1.4, label=m if k == 0 else None)
            ax.plot(*path[-1], MARKERS[m], color=col, ms=6, mfc="none", mew=1.3)
        ax.plot(*runs["exact"].path[0], ".", color="tab:gray", ms=6,
                label="start" if k == 0 else None)
    ax.set_aspect("equal")
    ax.set_xlim(-0.3, 1.3)
    ax.set_ylim(-0.1, 1.45)  # headroom above the box for the legend
    ax.set_xlabel("$y_1$")
    ax.set_ylabel("$y_2$")
    ax.set_title(f"probability-flow paths, rho_0 = c·sigma_max = {p['rho0']:g}\n"
                 "ends: o exact, □ taylor, △ taylor-fixed-kinks", fontsize=10)
    ax.legend(fontsize=7, loc="upper center", ncol=3, handlelength=1.8)
    y0 = tuple(p["starts"][0])
    every = max(1, p["n_times"] // 12)
    ax = axes[0, 1]
    s = np.linspace(0, p["s_max"], p["n_times"])
    curves = {m: drawn["probability"][0][m].path[:, 0] for m in MODELS}
    _model_lines(ax, s, curves, every)
    _difference_inset(ax, s, curves, [0.45, 0.4, 0.5, 0.35])
    ax.set_xlabel("s = ln(sigma_max / sigma)  (probability-flow time)")
    ax.set_ylabel("$t_1 = u_1^T (y - x_0)$")
    ax.set_title(f"probability flow: coordinate t_1 from y_0 = {y0}", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    ax = axes[1, 0]
    tau = np.linspace(0, p["tau_max"], p["n_times"])
    curves = {m: drawn["score"][0][m].path[:, 0] for m in MODELS}
    shown = tau <= min(p["tau_max"], 10.0)  # the score flow has settled long before tau_max
    _model_lines(ax, tau[shown], {m: v[shown] for m, v in curves.items()},
                 max(1, int(shown.sum()) // 12))
    _difference_inset(ax, tau[shown], {m: v[shown] for m, v in curves.items()},
                      [0.45, 0.4, 0.5, 0.35])
    ax.set_xlabel("tau  (score-flow time, fixed rho = rho_0)")
    ax.set_ylabel("$t_1 = u_1^T (y - x_0)$")
    ax.set_title(f"score flow: coordinate t_1 from y_0 = {y0}", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    ax = axes[1, 1]
    r0 = np.array([row["rho0"] for row in results["gaps"]])
    for m in MODELS[1:]:
        col, ls = STYLES[m]
        ax.loglog(r0, [max(row[f"probability/{m}/endpoint_gap"], 1e-17) for row in results["gaps"]],
                  MARKERS[m] + ls, color=col, label=f"{m}: probability-flow endpoint gap")
        ax.loglog(r0, [max(row[f"score/{m}/path_gap"], 1e-17) for row in results["gaps"]],
                  MARKERS[m] + ls, color=col, alpha=0.45, mfc="none",
                  label=f"{m}: score-flow path gap (equal tau)")
    ax.loglog(r0, r0 ** 2, color="tab:gray", lw=0.8, label="rho_0^2 (reference)")
    ax.set_xlabel("rho_0")
    ax.set_ylabel("max gap to the exact model (l2)")
    ax.set_title("Taylor models vs exact, over all starts", fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return save_figure(fig, out_dir, "taylor_vs_exact.png")
