"""Fig. 2 with trained denoisers: endpoints of the score flow and of the probability flow (paper
§5.1, App. E Figs. 7-10; docs/math.md §6, §7).

The set-up is :mod:`._fig2`'s: ``N`` orthonormal points ``x_n = e_n`` (and ``x_0 = 0``) in
``R^d``, ``n_points`` starts ``y_0 ~ N(0, sigma_max^2 I)`` (the same as the analytic
:mod:`.endpoints`), a stack of denoisers trained on ``n_outside`` levels equally spaced outside
the low-noise regime and ``n_inside`` inside it.

(a) **Score flow** (eq. 21): ``score_steps`` iterations ``y <- y + eta (h(y) - y)`` of one
low-noise denoiser of the stack (the level whose radius ``c sigma`` is nearest ``rho_score``).
(b) **Probability flow** (eq. 20): Euler over every level of the stack, then ``y <- D_1(y)``.

Endpoints are classified as training / virtual / boundary / other in l2 and l-infinity for every
threshold (App. E).  Each flow is run twice from the same starts: with the trained nets and with
the analytic denoisers on the same grid (the closed form ``h_{c sigma}`` of eq. 17 inside the
low-noise regime, the empirical MMSE denoiser outside).  The results put three columns side by
side: the paper's description, trained, closed form.  The JSON also records how far the score
flow's net is from the closed form (:func:`numerics.premise.compare`), the training report, and
the speed of the Euler flow over the stack.
"""
from __future__ import annotations

import time

import numpy as np

from ..classify import CLASSES
from ..evaluate import compile_denoiser
from ..plotting import CLASS_COLORS, plot_endpoint_classes
from . import _fig2
from ._data import orthonormal_dataset
from ._runtime import pyplot, save_figure, write_results

NAME = "trained-endpoints"

#: The paper's Fig. 2 in words (its fractions are drawn as bars, not printed).
PAPER = {
    "score": "almost all points converged to virtual points; the rest to the hyperbox boundary",
    "probability": "a large percentage of the samples are virtual points; from the low-noise "
                   "regime onwards the points travel along the boundaries of the hyperbox "
                   "towards their nearest stable point, usually a training point",
}
#: Sample points per region of the premise measurement (``flows compare``): RMS to ~3 %.
COMPARE_POINTS = 1024
#: Distances to the boundary below this are drawn in the histogram's first bin: the closed
#: form's endpoints lie on the box up to rounding, and their logarithm says nothing more.
DISTANCE_FLOOR = 1e-4


def run(out_dir, *, seed: int = 0, N: int = 30, d: int | None = None,
        n_points: int = _fig2.N_POINTS, sigma_max: float = _fig2.SIGMA_MAX, c: float = _fig2.C,
        n_outside: int = _fig2.N_OUTSIDE, n_inside: int = _fig2.N_INSIDE, noise: str = _fig2.NOISE,
        protocol: str = "al", samples: int = _fig2.SAMPLES, width: int | None = None,
        outer_steps: int | None = None, inner_steps: int | None = None, steps: int | None = None,
        hyper: dict | None = None, schedule: str = _fig2.SCHEDULE, rho_score: float = 0.1,
        score_steps: int = 20, eta: float = 1.0,
        thresholds=_fig2.THRESHOLDS, threshold: float = _fig2.THRESHOLD, path_index: int = 0,
        cache_dir: str | None = None, progress: bool = True, workers: int | None = None,
        scheduler: str | None = None) -> dict:
    """Train (or reuse) the stack, run both flows trained and closed form; write
    ``results.json`` and ``trained_endpoints.png``.  ``workers``/``scheduler`` are accepted for
    the common interface and unused (training runs in this process; the flows take seconds)."""
    t_start = time.perf_counter()
    setup = _fig2.Setup.from_run(out_dir, locals())
    d = N if d is None else int(d)
    ds = orthonormal_dataset(N, d)
    thresholds = sorted(set(map(float, thresholds)) | {float(threshold)})
    levels = setup.levels(ds)
    if not 0 <= path_index < n_points:
        raise ValueError(f"path_index must lie in 0..{n_points - 1}, got {path_index}")
    Y0 = setup.starts(n_points, d)
    tr = setup.stack(ds, protocol)
    stack = tr["stack"]

    # (a) score flow of one low-noise level, trained and closed form
    s_score = _fig2.score_level(levels, ds, c, rho_score)
    net = stack.network_at(s_score)
    h = compile_denoiser(ds, "exact")
    t0 = time.perf_counter()
    score = {"trained": _fig2.score_endpoints(net, Y0, eta=eta, steps=score_steps),
             "closed_form": _fig2.score_endpoints(lambda Z: h.denoise(Z, c * s_score), Y0,
                                                  eta=eta, steps=score_steps)}
    # (b) Euler probability flow over the stack, and over the same grid with analytic denoisers
    prob, speed = _fig2.probability_endpoints(stack, Y0, ds, c)
    flow_seconds = time.perf_counter() - t0
    inside = _fig2.inside_mask(ds, levels, c)
    path = _projected_path(stack, ds, levels, inside, Y0[path_index], threshold)

    from ..premise import compare
    prem = compare(net, ds, c * s_score, n_points=COMPARE_POINTS, seed=seed)
    prem.pop("units")
    results = {
        "seed": seed,
        "parameters": {"N": N, "d": d, "n_points": n_points, **setup.record(),
                       "protocol": protocol, "width": net.K, "rho_score": rho_score,
                       "score_sigma": s_score,
                       "score_rho": c * s_score, "score_steps": score_steps, "eta": eta,
                       "thresholds": thresholds, "threshold": threshold,
                       "path_index": path_index},
        "levels": {"sigmas": levels, "inside": inside, "rho_max": _fig2.rho_max(ds)},
        "training": _fig2.training_record(tr),
        "score_flow": {k: _fig2.fractions(ds, Y, thresholds) for k, Y in score.items()},
        "probability_flow": {k: _fig2.fractions(ds, Y, thresholds) for k, Y in prob.items()},
        "mean_vertex_size": {f"{flow}/{k}": _mean_vertex_size(Y, N)
                             for flow, runs in (("score", score), ("probability", prob))
                             for k, Y in runs.items()},
        "path": path,
        "premise": prem,
        "euler_speed": speed,
        "paper": PAPER,
        "seconds": {"training_this_run": tr["seconds"], "flows": flow_seconds,
                    "total": time.perf_counter() - t_start},
    }
    results["table"] = side_by_side(results)
    results["figures"] = [_figure(out_dir, results, ds, score, prob)]
    write_results(out_dir, NAME, results)
    return results


def _mean_vertex_size(Y, N: int) -> float:
    """Mean number of coordinates above 1/2 (the size ``|S|`` of the nearest vertex) over the
    finite endpoints."""
    Y = np.asarray(Y)
    ok = np.all(np.isfinite(Y), axis=1)
    return float(np.mean(np.sum(Y[ok, :N] > 0.5, axis=1))) if ok.any() else float("nan")


def _projected_path(stack, ds, levels, inside, y0, threshold) -> dict:
    """One sample's Euler path from the first low-noise level on, in the three coordinates that
    move most there (the paper's left panels: a projection on three dimensions)."""
    P = _fig2.euler_flow(stack.denoise_at, levels, y0[None], return_path=True)[:, 0]
    start = int(np.argmax(inside))  # index of the first inside level in the path
    low = P[start:]
    coords = np.argsort(-np.ptp(low[:, :ds.N], axis=0))[:3]
    return {"coordinates": coords, "sigma_start": float(levels[start]),
            "points": low[:, coords], "endpoint_class": _fig2.labels(ds, P[-1:], threshold)[0]}


def side_by_side(results) -> list[dict]:
    """Rows ``{flow, class, paper, trained, closed_form}`` at the l2 ``threshold``."""
    t = str(float(results["parameters"]["threshold"]))
    rows = []
    for flow, key in (("score", "score_flow"), ("probability", "probability_flow")):
        for k in CLASSES:
            rows.append({"flow": flow, "class": k, "paper": PAPER[flow],
                         "trained": results[key]["trained"]["l2"][t][k],
                         "closed_form": results[key]["closed_form"]["l2"][t][k]})
    return rows


#: Command-line parameters of ``flows experiment trained-endpoints`` (defaults: :func:`run`).
PARAMETERS = _fig2.parameters(
    "N", "d", "protocol",
    rho_score=(float, "radius c sigma of the score flow's level (the nearest inside level)"),
    score_steps=(int, "score-flow iterations (eq. 21)"),
    eta=(float, "step size of the score-flow iterations"),
    path_index=(int, "which start's path the figure projects"),
)


def summary(results) -> list[str]:
    """Headline numbers: class fractions of both flows, trained and closed form."""
    p = results["parameters"]
    t = str(float(p["threshold"]))
    tr = results["training"]
    sp = results["euler_speed"]
    out = [f"{p['n_points']} starts, N = {p['N']}, d = {p['d']}, {len(results['levels']['sigmas'])}"
           f" levels ({p['n_outside']} outside + {p['n_inside']} inside), {p['protocol']}, "
           f"l2 threshold {p['threshold']:g}:"]
    for flow, key in (("score flow", "score_flow"), ("probability flow", "probability_flow")):
        for k in ("trained", "closed_form"):
            out.append(f"{flow}, {k.replace('_', ' ')}: {_fig2.pct(results[key][k]['l2'][t])}")
    out.append(f"stack: {'cached' if tr['cached'] else 'trained'} ({tr['report']['seconds']:.0f} s "
               f"of training), residual_max {tr['report']['residual_max']:.3g}; Euler flow "
               f"{sp['points_per_second']:.0f} points/s over {sp['levels']} levels")
    return out


# -- figure -------------------------------------------------------------------------------------
def _finish_3d(ax, names, title):
    """Unit cube, axis names, title and legend of a 3-d projection panel."""
    _cube(ax)
    for set_label, name in zip((ax.set_xlabel, ax.set_ylabel, ax.set_zlabel), names):
        set_label(name)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper left")


def _cube(ax):
    """Edges of the unit cube [0, 1]^3 (the hyperbox projected on three coordinates)."""
    for a in (0, 1):
        for b in (0, 1):
            for axis in range(3):
                seg = np.zeros((2, 3))
                seg[:, axis] = (0, 1)
                seg[:, (axis + 1) % 3] = a
                seg[:, (axis + 2) % 3] = b
                ax.plot(*seg.T, color="0.6", lw=0.8)


def _distance_panel(ax, ds, runs: dict, threshold: float, title: str):
    """Histograms of log10 of the l2 distance to the hyperbox boundary, one per run; distances
    below :data:`DISTANCE_FLOOR` (the closed form ends exactly on the box) in the first bin."""
    data = {k: np.log10(np.maximum(_fig2.distances(ds, Y)["boundary"], DISTANCE_FLOOR))
            for k, Y in runs.items()}
    lo = np.log10(DISTANCE_FLOOR)
    hi = max(max(v.max(), np.log10(threshold)) for v in data.values())
    bins = np.linspace(lo - 0.1, hi + 0.1, 40)
    for (k, v), col in zip(data.items(), ("tab:purple", "tab:green")):
        ax.hist(v, bins=bins, histtype="step", lw=1.6, color=col, label=k)
    ax.axvline(np.log10(threshold), color="k", ls="--", lw=1, label="threshold")
    ax.set_xlabel(f"log10 l2 distance to the hyperbox boundary (first bin: <= "
                  f"{DISTANCE_FLOOR:g})")
    ax.set_ylabel("endpoints")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)


def _figure(out_dir, results, ds, score, prob) -> str:
    plt = pyplot()
    p = results["parameters"]
    t = str(float(p["threshold"]))
    fig = plt.figure(figsize=(20, 10.5))
    grid = fig.add_gridspec(2, 3, width_ratios=(1, 1.35, 0.9), hspace=0.35, wspace=0.45)

    ax = fig.add_subplot(grid[0, 0], projection="3d")
    Y = np.asarray(score["trained"])
    ok = np.all(np.isfinite(Y), axis=1)
    lab = np.array(_fig2.labels(ds, Y, p["threshold"]))
    shown = ok & np.all(np.abs(Y[:, :3] - 0.5) <= 1.0, axis=1)
    for k in CLASSES:
        m = shown & (lab == k)
        if m.any():
            ax.scatter(*Y[m][:, :3].T, s=10, color=CLASS_COLORS[k], label=f"{k} ({m.sum()})")
    _finish_3d(ax, ("y_1", "y_2", "y_3"), f"(a) score flow, trained net at rho = "
               f"{p['score_rho']:.3g}: endpoints\nprojected on y_1..y_3 ({shown.sum()} of "
               f"{len(Y)} inside [-0.5, 1.5]^3)")

    ax = fig.add_subplot(grid[0, 1])
    sf = results["score_flow"]
    plot_endpoint_classes(
        {f"trained, l2 {p['threshold']:g}": sf["trained"]["l2"][t],
         f"trained, l-inf {p['threshold']:g}": sf["trained"]["linf"][t],
         f"closed form (eq. 17), l2 {p['threshold']:g}": sf["closed_form"]["l2"][t]},
        ax, title=f"(a) score flow: {p['score_steps']} iterations of eq. 21 (eta = {p['eta']:g}) "
                  f"from {p['n_points']} starts ~ N(0, {p['sigma_max']:g}^2 I)")
    _distance_panel(fig.add_subplot(grid[0, 2]), ds, {"trained": score["trained"],
                                                      "closed form": score["closed_form"]},
                    p["threshold"], "(a) score flow: how far from the boundary")

    ax = fig.add_subplot(grid[1, 0], projection="3d")
    path = results["path"]
    P = np.asarray(path["points"])
    ax.plot(*P.T, "-o", ms=2.5, color="tab:purple", lw=1.2)
    ax.scatter(*P[0], s=40, color="k", marker="^", label=f"sigma = {path['sigma_start']:.3g}")
    ax.scatter(*P[-1], s=50, color="tab:red", marker="*",
               label=f"endpoint ({path['endpoint_class']})")
    _finish_3d(ax, [f"y_{i + 1}" for i in path["coordinates"]],
               f"(b) probability flow of start {p['path_index']} through the low-noise "
               f"levels\n(the three coordinates that move most)")

    ax = fig.add_subplot(grid[1, 1])
    pf = results["probability_flow"]
    plot_endpoint_classes(
        {f"trained stack, l2 {p['threshold']:g}": pf["trained"]["l2"][t],
         f"trained stack, l-inf {p['threshold']:g}": pf["trained"]["linf"][t],
         f"MMSE + closed form, l2 {p['threshold']:g}": pf["closed_form"]["l2"][t]},
        ax, title=f"(b) probability flow: Euler (eq. 20) over {len(results['levels']['sigmas'])} "
                  f"levels ({p['n_outside']} outside + {p['n_inside']} inside the low-noise "
                  f"regime), then sigma = 0")
    _distance_panel(fig.add_subplot(grid[1, 2]), ds, {"trained": prob["trained"],
                                                      "MMSE + closed form": prob["closed_form"]},
                    p["threshold"], "(b) probability flow: how far from the boundary")
    fig.suptitle(f"Fig. 2 with trained denoisers ({p['protocol']}, K = {p['width']}, M = "
                 f"{p['samples']}): N = {p['N']} orthonormal points in d = {p['d']}, seed "
                 f"{results['seed']}", fontsize=12)
    return save_figure(fig, out_dir, "trained_endpoints.png")
