"""Figs. 4, 5 and 15: the score field of the min-cost denoiser for an obtuse 2-simplex and an
equilateral triangle, normalised and raw, with score-flow trajectories and the ReLU boundaries
(paper App. B, App. C, App. J).

Score ``s(y) = (h_rho(y) - y) / sigma^2`` (eq. 10, ``rho = c sigma``).  The paper's normalised
field is ``s log|s| / |s|`` (App. B: "the score multiplied by the log of the norm of the score and
divided by the norm"); ``log|s| < 0`` where ``|s| < 1`` would flip those arrows, so the plotted
length is ``max(log|s|, 0)`` (arrows vanish instead of reversing; only tiny neighbourhoods of the
stationary points are affected at the default ``sigma``).  The ReLU boundaries are the kink lines
``u_n^T (y - o) = k_lo`` and ``= k_hi`` of each unit (:mod:`numerics.evaluate` parameters);
for the triangle they are parallel to the edges (EQUILATERAL.md).
"""
from __future__ import annotations

import numpy as np

from ..evaluate import compile_denoiser
from ..flows import score_flow
from ._data import equilateral_triangle, obtuse_triangle
from ._runtime import pyplot, save_figure, write_results

NAME = "score-fields"

#: Default starts of the drawn trajectories, per dataset.
STARTS = {
    "obtuse": [(0.45, 0.08), (0.1, 0.42), (0.62, 0.55), (-0.35, -0.3), (1.3, 0.4), (0.3, 1.1)],
    "equilateral": [(0.05, -0.42), (-0.45, 0.2), (0.4, 0.28), (0.0, 0.05), (-1.0, -0.9),
                    (0.9, 0.9)],
}


def normalised(S: np.ndarray) -> np.ndarray:
    """``s max(log|s|, 0)/|s|`` row-wise (zero where ``s = 0``)."""
    n = np.linalg.norm(S, axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, S * np.maximum(np.log(n), 0.0) / n, 0.0)


def field(dataset, rho: float, sigma: float, lim, n_grid: int):
    """Grid ``(X, Y)`` and the score on it, shape ``(n_grid^2, 2)``."""
    h = compile_denoiser(dataset, "exact")
    xs = np.linspace(lim[0][0], lim[0][1], n_grid)
    ys = np.linspace(lim[1][0], lim[1][1], n_grid)
    X, Y = np.meshgrid(xs, ys)
    P = np.column_stack([X.ravel(), Y.ravel()])
    return X, Y, h.drift(P, rho) / sigma ** 2


def kink_lines(dataset, rho: float) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """``(point, direction, label)`` of every ReLU boundary line of ``h_rho``."""
    h = compile_denoiser(dataset, "exact")
    p = h.params(rho)
    out = []
    for n in range(h.N):
        u = h.U[n]
        perp = np.array([-u[1], u[0]])
        for k, name in ((p.k_lo[n], "lo"), (p.k_hi[n], "hi")):
            out.append((h.origin + k * u, perp, f"unit {n + 1} {name}"))
    return out


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


def _figure(out_dir, drawn, results) -> str:
    plt = pyplot()
    p = results["parameters"]
    fig, axes = plt.subplots(2, 2, figsize=(13, 12))
    for row, (name, (ds, lim, X, Y, S, tr)) in enumerate(drawn.items()):
        pts = np.array(ds.to_json()["points"])
        for col, kind in enumerate(("normalised", "raw")):
            ax = axes[row, col]
            V = normalised(S) if kind == "normalised" else S
            mag = np.log10(np.linalg.norm(S, axis=1) + 1e-300)
            q = ax.quiver(X.ravel(), Y.ravel(), V[:, 0], V[:, 1], mag, cmap="viridis",
                          angles="xy", pivot="mid", width=0.003)
            q.set_clim(np.percentile(mag, 2), mag.max())  # a grid node on x_n has |s| = 0
            fig.colorbar(q, ax=ax, shrink=0.8, label="log10 |s|")
            for point, direction, _ in kink_lines(ds, p["rho"]):
                seg = point + np.outer([-5, 5], direction)
                ax.plot(seg[:, 0], seg[:, 1], "--", color="tab:gray", lw=0.8)
            for k, t in enumerate(tr):
                ax.plot(t["path"][:, 0], t["path"][:, 1], "-", color="k", lw=1.4,
                        label="score-flow path" if k == 0 else None)
                ax.plot(*t["path"][0], "o", color="k", ms=4)
            for x in pts:
                ax.add_patch(plt.Circle(x, p["rho"], fill=False, color="tab:red", lw=1))
            ax.plot(pts[:, 0], pts[:, 1], "o", color="tab:red", ms=7, label="training points")
            ax.plot([], [], "--", color="tab:gray", label="ReLU boundaries")
            ax.set_xlim(*lim[0])
            ax.set_ylim(*lim[1])
            ax.set_aspect("equal")
            ax.set_xlabel("$y_1$")
            ax.set_ylabel("$y_2$")
            title = ("normalised score s·log|s|/|s|" if kind == "normalised"
                     else "raw score s = (h(y) - y)/σ²")
            fig_no = {("obtuse", "normalised"): "Fig. 4", ("equilateral", "normalised"): "Fig. 5",
                      ("obtuse", "raw"): "Fig. 15"}.get((name, kind), "")
            ax.set_title(f"{name} {'2-simplex' if name == 'obtuse' else 'triangle'}: {title}\n"
                         f"rho = {p['rho']:g}, sigma = {p['sigma']:g}  {fig_no}", fontsize=10)
            ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return save_figure(fig, out_dir, "score_fields.png")
