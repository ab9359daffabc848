"""Fig. 2: endpoint statistics of the score flow and of the full probability flow (paper §5.1,
App. E Figs. 7-10), with analytic denoisers.

Setting: ``N`` orthonormal training points ``x_n = e_n`` and ``x_0 = 0`` in ``R^d``;
``n_points`` initial points ``y ~ N(0, sigma_max^2 I)``.

**Score flow** (eq. 14) with one low-noise min-cost denoiser ``h_rho``:

* ``limit``: the exact flow's limit ``tau -> inf`` (:func:`numerics.flows.score_flow_batch`) —
  by Thm 4.3 (i) always the hyperbox vertex closest to ``y_0``;
* ``iterations``: ``score_steps`` iterations of eq. 21 with step ``eta`` (as the paper ran it);
  coordinates still on a unit's unstable linear piece after the last step sit on the hyperbox
  boundary (Thm 4.3 (ii): the flow "first converges to the boundary").

**Probability flow** (eqs. 12, 20) over a noise schedule, rho = c sigma (MATH.md §1):

* above the low-noise regime (``c sigma >= rho_max = min_n r_n/2``) no closed form exists; the
  empirical MMSE denoiser of the training set (:mod:`numerics.mmse`, MATH.md §6) is used, with
  Euler steps (eq. 20) on ``n_high`` geometric noise levels from ``sigma_max`` to
  ``sigma_switch = (1 - SWITCH_MARGIN) rho_max / c``;
* inside it the min-cost denoiser ``h_{c sigma}`` takes over, either as the exact ODE
  (``ode``: :func:`numerics.flows.probability_flow_batch` from ``sigma_switch`` to ``0``) or as
  Euler steps over ``n_low`` equally spaced levels ending with a last denoising step at
  ``sigma = 0`` (``euler``, the paper's discretisation with its last 50 low-noise denoisers).

Endpoints are classified (:func:`numerics.classify.classify`) as training / virtual / boundary /
other for every threshold in ``thresholds``, in l2 and l-infinity (App. E).  The switch point is
what the analytic model is most sensitive to: ``c_sweep`` repeats the ODE variant for several
``c`` (smaller ``c`` = later switch = less time for the MMSE denoiser to collapse samples onto
training points).
"""
from __future__ import annotations

import math

import numpy as np

from ..classify import CLASSES, classify
from ..evaluate import compile_denoiser
from ..flows import probability_flow, probability_flow_batch, score_flow, score_flow_batch
from ..mmse import MMSEDenoiser
from ..schedules import euler_probability_flow, score_flow_iterations
from ._data import orthonormal_dataset
from ._runtime import chunks, default_workers, parallel_map, pyplot, save_figure, write_results

NAME = "endpoints"

#: The switch to the min-cost denoiser happens at ``c sigma = (1 - SWITCH_MARGIN) rho_max``: just
#: inside the low-noise regime, where the ramp slope ``r/(r - 2 rho)`` (here ``1/SWITCH_MARGIN``)
#: is still finite.
SWITCH_MARGIN = 1e-3

#: The paper's description of Fig. 2 (numbers were lost from the seed text; the words were not).
PAPER = {
    "score": "almost all points converged to virtual points; the rest to the hyperbox boundary",
    "probability": "training, virtual and boundary points, a large percentage virtual; the "
                   "start of sampling attracts samples to the training mean, then they travel "
                   "along the hyperbox boundary to their nearest stable point",
}


def switch_sigma(dataset, c: float) -> float:
    """``sigma_switch = (1 - SWITCH_MARGIN) rho_max / c``: the first noise level inside the
    low-noise regime ``c sigma < rho_max = min_n r_n / 2``."""
    rho_max = min(float(r) for r in dataset.r) / 2
    return (1 - SWITCH_MARGIN) * rho_max / c


def high_noise_sigmas(sigma_max: float, sigma_switch: float, n_high: int) -> np.ndarray:
    """Geometric noise levels from ``sigma_max`` down to ``sigma_switch`` (``n_high + 1`` values)."""
    return np.geomspace(sigma_max, sigma_switch, n_high + 1)


def low_noise_sigmas(sigma_switch: float, n_low: int) -> np.ndarray:
    """``n_low`` equally spaced levels from ``sigma_switch`` down to ``sigma_switch / n_low``,
    then ``0`` (the final denoising step of eq. 20)."""
    return np.append(np.linspace(sigma_switch, sigma_switch / n_low, n_low), 0.0)


def mmse_stage(dataset, Y0: np.ndarray, sigma_max: float, sigma_switch: float,
               n_high: int) -> np.ndarray:
    """Euler probability flow (eq. 20) with the empirical MMSE denoiser down to ``sigma_switch``."""
    mmse = MMSEDenoiser(dataset)
    return euler_probability_flow(mmse, high_noise_sigmas(sigma_max, sigma_switch, n_high), Y0)


def low_noise_stage(dataset, Y: np.ndarray, c: float, sigma_switch: float, method: str,
                    n_low: int) -> np.ndarray:
    """From ``sigma_switch`` to ``0`` with the min-cost denoiser ``h_{c sigma}``: the exact ODE
    (``method="ode"``) or Euler over :func:`low_noise_sigmas` (``method="euler"``)."""
    if method == "ode":
        return probability_flow_batch(dataset, Y, c=c, sigma_max=sigma_switch, sigma_min=0.0,
                                      model="exact", method="exact")
    if method == "euler":
        h = compile_denoiser(dataset, "exact")
        return euler_probability_flow(lambda Z, s: h.denoise(Z, c * s),
                                      low_noise_sigmas(sigma_switch, n_low), Y)
    raise ValueError(f"unknown low-noise method {method!r}; choose 'ode' or 'euler'")


def probability_endpoints(dataset, Y0, *, c, sigma_max, n_high, n_low, method) -> np.ndarray:
    """Full probability flow: MMSE stage then min-cost stage (see the module docstring)."""
    s_sw = switch_sigma(dataset, c)
    if not s_sw < sigma_max:
        raise ValueError(f"sigma_max = {sigma_max:g} is already inside the low-noise regime "
                         f"(sigma_switch = {s_sw:g} for c = {c:g}): start from a larger noise level")
    Y = mmse_stage(dataset, Y0, sigma_max, s_sw, n_high)
    return low_noise_stage(dataset, Y, c, s_sw, method, n_low)


def _chunk_task(task) -> dict:
    """Worker: every endpoint set for one block of initial points."""
    N, d, Y0, p = task
    ds = orthonormal_dataset(N, d)
    out = {}
    if p["score"]:
        h = compile_denoiser(ds, "exact")
        out["score/limit"] = score_flow_batch(ds, Y0, p["rho_score"], model="exact", method="exact")
        out["score/iterations"] = score_flow_iterations(
            lambda Z: h.denoise(Z, p["rho_score"]), Y0, eta=p["eta"], n_steps=p["score_steps"])
    for c in p["cs"]:
        for method in p["methods"]:
            out[f"probability/{method}/c={c:.6g}"] = probability_endpoints(
                ds, Y0, c=c, sigma_max=p["sigma_max"], n_high=p["n_high"], n_low=p["n_low"],
                method=method)
    return out


def fractions(dataset, Y, thresholds, norms=("l2", "linf")) -> dict:
    """``{norm: {threshold: {class: fraction}}}`` for endpoints ``Y`` (MATH.md §6, App. E)."""
    out = {}
    for norm in norms:
        out[norm] = {}
        for t in thresholds:
            labels = [cl.cls for cl in classify(dataset, Y, threshold=t, norm=norm)]
            out[norm][str(t)] = {k: labels.count(k) / len(labels) for k in CLASSES}
    return out


def simulate(dataset_size, Y0, params, *, workers=None, scheduler=None, progress=True,
             label=NAME) -> dict:
    """Run :func:`_chunk_task` over blocks of ``Y0`` in parallel and stack the endpoints."""
    N, d = dataset_size
    n_workers = default_workers() if workers is None else workers
    blocks = chunks(len(Y0), 1 if n_workers == 1 and scheduler is None else 4 * n_workers)
    parts = parallel_map(_chunk_task, [(N, d, Y0[a:b], params) for a, b in blocks],
                         workers=workers, scheduler=scheduler, progress=progress, label=label)
    return {k: np.vstack([p[k] for p in parts]) for k in parts[0]}


def _paths(dataset, Y0, *, rho_score, c, sigma_max, n_high, eta, score_steps, n_paths) -> list:
    """Trajectories of a few initial points for the projected-path figure."""
    out = []
    h = compile_denoiser(dataset, "exact")
    mmse = MMSEDenoiser(dataset)
    s_sw = switch_sigma(dataset, c)
    for y0 in Y0[:n_paths]:
        sf = score_flow(dataset, y0, rho_score, model="exact", method="exact",
                        times=np.linspace(0.0, 60.0, 400))
        it = [y0]
        for _ in range(score_steps):
            it.append(score_flow_iterations(lambda Z: h.denoise(Z, rho_score), it[-1][None],
                                            eta=eta, n_steps=1)[0])
        sig = high_noise_sigmas(sigma_max, s_sw, n_high)
        hi = [y0]
        for a, b in zip(sig[:-1], sig[1:]):
            hi.append(euler_probability_flow(mmse, np.array([a, b]), hi[-1][None])[0])
        lo = probability_flow(dataset, hi[-1], c=c, sigma_max=s_sw, sigma_min=0.0, model="exact",
                              method="exact", times=np.linspace(0.0, 12.0, 200))
        out.append({"y0": y0, "score_flow": sf.path, "score_iterations": np.array(it),
                    "mmse_stage": np.array(hi), "min_cost_stage": lo.path})
    return out


def run(out_dir, *, seed: int = 0, N: int = 30, d: int | None = None, n_points: int = 500,
        sigma_max: float = 10.0, c: float = 1.0, c_sweep=(0.5, 1.0, 2.0, "sqrt(d)"),
        rho_score: float = 0.1, score_steps: int = 20, eta: float = 1.0, n_high: int = 400,
        n_low: int = 50, thresholds=(0.01, 0.1), threshold: float = 0.1, n_paths: int = 3,
        progress: bool = True, workers: int | None = None, scheduler: str | None = None) -> dict:
    """Run the Fig. 2 experiment; write ``results.json`` and ``endpoints.png``.

    ``c_sweep`` entries are numbers or the string ``"sqrt(d)"`` (the noise-norm link of MATH.md
    §1).  ``threshold`` (l2) is the one plotted; all of ``thresholds`` are in the JSON.
    """
    d = N if d is None else int(d)
    dataset = orthonormal_dataset(N, d)
    cs = sorted({float(math.sqrt(d)) if x == "sqrt(d)" else float(x) for x in c_sweep} | {float(c)})
    thresholds = sorted(set(map(float, thresholds)) | {float(threshold)})
    rng = np.random.default_rng(seed)
    Y0 = sigma_max * rng.standard_normal((n_points, d))
    params = {"score": True, "rho_score": rho_score, "eta": eta, "score_steps": score_steps,
              "cs": cs, "methods": ("ode",), "sigma_max": sigma_max, "n_high": n_high,
              "n_low": n_low}
    ends = simulate((N, d), Y0, params, workers=workers, scheduler=scheduler, progress=progress)
    euler = simulate((N, d), Y0, {**params, "score": False, "cs": [float(c)],
                                  "methods": ("euler",)},
                     workers=workers, scheduler=scheduler, progress=progress,
                     label=f"{NAME} (euler)")
    ends.update(euler)
    key = lambda m, cc: f"probability/{m}/c={cc:.6g}"  # noqa: E731
    results = {
        "seed": seed,
        "parameters": {"N": N, "d": d, "n_points": n_points, "sigma_max": sigma_max, "c": c,
                       "c_sweep": cs, "rho_score": rho_score, "score_steps": score_steps,
                       "eta": eta, "n_high": n_high, "n_low": n_low, "thresholds": thresholds,
                       "threshold": threshold, "switch_margin": SWITCH_MARGIN,
                       "sigma_switch": switch_sigma(dataset, c)},
        "score_flow": {"limit": fractions(dataset, ends["score/limit"], thresholds),
                       "iterations": fractions(dataset, ends["score/iterations"], thresholds)},
        "probability_flow": {"ode": fractions(dataset, ends[key("ode", c)], thresholds),
                             "euler": fractions(dataset, ends[key("euler", c)], thresholds)},
        "c_sweep": {f"{cc:.6g}": {"sigma_switch": switch_sigma(dataset, cc),
                                  "fractions": fractions(dataset, ends[key("ode", cc)],
                                                         [threshold], ("l2",))["l2"][str(threshold)]}
                    for cc in cs},
        "mean_vertex_size": {
            "score_limit": float(np.mean(np.sum(ends["score/limit"][:, :N] > 0.5, axis=1))),
            "probability_ode": float(np.mean(np.sum(ends[key("ode", c)][:, :N] > 0.5, axis=1)))},
        "paper": PAPER,
    }
    paths = _paths(dataset, Y0, rho_score=rho_score, c=c, sigma_max=sigma_max, n_high=n_high,
                   eta=eta, score_steps=score_steps, n_paths=n_paths)
    results["figures"] = [_figure(out_dir, dataset, results, ends, key("ode", c), paths)]
    write_results(out_dir, NAME, results)
    return results


# -- figure ---------------------------------------------------------------------------------------
CLASS_COLORS = {"training": "tab:red", "virtual": "tab:blue", "boundary": "tab:orange",
                "other": "tab:gray"}


def _cube(ax):
    """Edges of the unit cube [0,1]^3 (the hyperbox projected on three coordinates)."""
    for a in (0, 1):
        for b in (0, 1):
            ax.plot([0, 1], [a, a], [b, b], color="k", lw=0.5, alpha=0.4)
            ax.plot([a, a], [0, 1], [b, b], color="k", lw=0.5, alpha=0.4)
            ax.plot([a, a], [b, b], [0, 1], color="k", lw=0.5, alpha=0.4)


def bar_panel(ax, fr: dict, title: str):
    """Bar chart of one ``{class: fraction}`` dict, percentages printed on the bars."""
    vals = [100 * fr[k] for k in CLASSES]
    rects = ax.bar(CLASSES, vals, color=[CLASS_COLORS[k] for k in CLASSES])
    for rect, v in zip(rects, vals):
        ax.annotate(f"{v:.1f}%", (rect.get_x() + rect.get_width() / 2, v), ha="center",
                    va="bottom", fontsize=8)
    ax.set_ylim(0, 112)
    ax.set_ylabel("endpoints (%)")
    ax.set_title(title, fontsize=10)


#: Jitter added to the projected endpoints in the 3-D scatter only (many endpoints share a
#: projected vertex; the jitter makes their number visible).  The JSON holds the exact values.
SCATTER_JITTER = 0.04


def _scatter(ax, dataset, Y, title, threshold):
    labels = [cl.cls for cl in classify(dataset, Y, threshold=threshold, norm="l2")]
    J = Y[:, :3] + SCATTER_JITTER * np.random.default_rng(0).standard_normal((len(Y), 3))
    for k in CLASSES:
        m = np.array([lab == k for lab in labels])
        if m.any():
            ax.scatter(J[m, 0], J[m, 1], J[m, 2], s=5, color=CLASS_COLORS[k], label=k,
                       depthshade=False, alpha=0.6)
    _cube(ax)
    ax.set_xlabel("$y_1$")
    ax.set_ylabel("$y_2$")
    ax.set_zlabel("$y_3$")
    ax.set_title(title, fontsize=10)


def _figure(out_dir, dataset, results, ends, pkey, paths) -> str:
    plt = pyplot()
    p = results["parameters"]
    thr = str(p["threshold"])
    fig = plt.figure(figsize=(16, 9.5))
    ax = fig.add_subplot(2, 3, 1, projection="3d")
    _scatter(ax, dataset, ends["score/iterations"],
             f"(a) score flow: endpoints after {p['score_steps']} iterations\n"
             "projected on $e_1, e_2, e_3$ (jittered), with one path", p["threshold"])
    path = paths[0]["score_iterations"]
    ax.plot(np.clip(path[:, 0], -0.5, 1.5), np.clip(path[:, 1], -0.5, 1.5),
            np.clip(path[:, 2], -0.5, 1.5), "k.-", lw=1, ms=3, label="path (clipped to view)")
    ax.set_xlim(-0.5, 1.5), ax.set_ylim(-0.5, 1.5), ax.set_zlim(-0.5, 1.5)
    ax.legend(fontsize=7, loc="upper left")
    bar_panel(fig.add_subplot(2, 3, 2), results["score_flow"]["iterations"]["l2"][thr],
              f"score flow, {p['score_steps']} iterations (eq. 21, eta={p['eta']:g}), "
              f"rho={p['rho_score']:g}\nl2 threshold {p['threshold']:g}")
    bar_panel(fig.add_subplot(2, 3, 3), results["score_flow"]["limit"]["l2"][thr],
              "score flow, exact limit tau -> inf (Thm 4.3)\n"
              f"l2 threshold {p['threshold']:g}")
    ax = fig.add_subplot(2, 3, 4, projection="3d")
    _scatter(ax, dataset, ends[pkey], "(b) probability flow (MMSE, then min-cost ODE):\n"
             "endpoints projected (jittered), paths", p["threshold"])
    for k, pth in enumerate(paths):
        lo = pth["min_cost_stage"]
        start = pth["mmse_stage"]
        ax.plot(start[-40:, 0], start[-40:, 1], start[-40:, 2], color="tab:purple", lw=1,
                label="MMSE stage (last 40 steps)" if k == 0 else None)
        ax.plot(lo[:, 0], lo[:, 1], lo[:, 2], color="k", lw=1.5,
                label="min-cost stage" if k == 0 else None)
    ax.legend(fontsize=7, loc="upper left")
    bar_panel(fig.add_subplot(2, 3, 5), results["probability_flow"]["ode"]["l2"][thr],
              f"probability flow, exact ODE below the switch (c={p['c']:g}, "
              f"sigma_switch={p['sigma_switch']:.4g})\nl2 threshold {p['threshold']:g}")
    ax = fig.add_subplot(2, 3, 6)
    cs = p["c_sweep"]
    x = np.arange(len(cs))
    w = 0.2
    for j, k in enumerate(CLASSES):
        ax.bar(x + (j - 1.5) * w, [100 * results["c_sweep"][f"{cc:.6g}"]["fractions"][k]
                                   for cc in cs], w, color=CLASS_COLORS[k], label=k)
    ax.set_xticks(x, [f"c={cc:.3g}\nσ_sw={results['c_sweep'][f'{cc:.6g}']['sigma_switch']:.3g}"
                      for cc in cs], fontsize=8)
    ax.set_ylabel("endpoints (%)")
    ax.set_ylim(0, 105)
    ax.set_title("probability flow vs the switch point (rho = c sigma)", fontsize=10)
    ax.legend(fontsize=8)
    fig.suptitle(f"Endpoints of {p['n_points']} Gaussian starts (sigma_max={p['sigma_max']:g}), "
                 f"N={p['N']} orthonormal points in d={p['d']}", fontsize=12)
    fig.tight_layout()
    return save_figure(fig, out_dir, "endpoints.png")
