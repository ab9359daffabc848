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

**Probability flow** (eqs. 12, 20) over a noise schedule, rho = c sigma (docs/math.md §1):

* above the low-noise regime (``c sigma >= rho_max = min_n r_n/2``) no closed form exists; the
  empirical MMSE denoiser of the training set (:mod:`numerics.mmse`, docs/math.md §6) is used, with
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

**Below c_0** (``c_fractions``): from the same switch state (the MMSE stage for ``c``), the
min-cost stage is rerun with ``c' = q c_max`` (``c_max = rho_max / sigma_switch``) for each ``q``.
Thm 4.4 (docs/math.md §5): a sample ends on its closest vertex iff ``c' > c_0(y)``, ``c_0`` from
its state at the switch (:func:`numerics.threshold.c0_closed_form`); the boundary share grows as
``c'`` falls below the samples' ``c_0`` — the early stopping that the score flow (always a vertex,
Thm 4.3) does not have.  The JSON holds the fractions, the predicted off-vertex share and the one
measured at the tight default threshold (they agree: the flows are exact).
"""
from __future__ import annotations

import math

import numpy as np

from ..classify import CLASSES, classify, default_threshold
from ..evaluate import compile_denoiser
from ..flows import probability_flow, probability_flow_batch, score_flow, score_flow_batch
from ..mmse import MMSEDenoiser
from ..schedules import euler_probability_flow, score_flow_iterations
from ._data import orthonormal_dataset
from ..plotting import CLASS_COLORS, plot_endpoint_classes
from ..threshold import c0_closed_form
from ._runtime import chunks, default_workers, parallel_map, pyplot, save_figure, write_results
from .parameters import float_list, number_list

NAME = "endpoints"

#: The switch to the min-cost denoiser happens at ``c sigma = (1 - SWITCH_MARGIN) rho_max``: just
#: inside the low-noise regime, where the ramp slope ``r/(r - 2 rho)`` (here ``1/SWITCH_MARGIN``)
#: is still finite.
SWITCH_MARGIN = 1e-3

#: The paper's description of Fig. 2 in words (its fractions are read off its figure, not restated).
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
    if p.get("c_fractions"):
        # the same switch state for every c: only the low-noise stage's rho = c sigma changes
        s_sw = switch_sigma(ds, p["c_base"])
        Y = mmse_stage(ds, Y0, p["sigma_max"], s_sw, p["n_high"])
        c_max = min(float(r) for r in ds.r) / (2 * s_sw)
        out["below/c0"] = np.array([[_c0(ds, y, s_sw)] for y in Y])
        for q in p["c_fractions"]:
            out[f"below/q={q:.6g}"] = probability_flow_batch(
                ds, Y, c=q * c_max, sigma_max=s_sw, sigma_min=0.0, model="exact", method="exact")
    return out


def _c0(dataset, y, sigma_max) -> float:
    """Thm 4.4's ``c_0(y)`` (exact model) from ``y`` at ``sigma_max``; ``0`` when the closest
    hyperbox point is a vertex (reached for every ``c``)."""
    r = c0_closed_form(dataset, y, sigma_max, "exact")
    return 0.0 if r.c0 is None else float(r.c0)


def fractions(dataset, Y, thresholds, norms=("l2", "linf")) -> dict:
    """``{norm: {threshold: {class: fraction}}}`` for endpoints ``Y`` (docs/math.md §6, App. E)."""
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


def run(out_dir, *, seed: int = 0, N: int = 30, d: int | None = None, n_points: int = 500,
        sigma_max: float = 10.0, c: float = 1.0, c_sweep=(0.5, 1.0, 2.0, "sqrt(d)"),
        c_fractions=(0.1, 0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.999),
        rho_score: float = 0.1, score_steps: int = 20, eta: float = 1.0, n_high: int = 400,
        n_low: int = 50, thresholds=(0.01, 0.1), threshold: float = 0.1,
        progress: bool = True, workers: int | None = None, scheduler: str | None = None) -> dict:
    """Run the Fig. 2 experiment; write ``results.json`` and ``endpoints.png``.

    ``c_sweep`` entries are numbers or the string ``"sqrt(d)"`` (the noise-norm link of
    docs/math.md §1); each moves the switch point.  ``c_fractions`` keeps the switch state of ``c``
    and runs the low-noise stage with ``c' = q c_max`` for each ``q`` (``c_max = rho_max /
    sigma_switch``): Thm 4.4 says a sample ends on a vertex iff ``c' > c_0(y)``, so the non-vertex
    (boundary) share grows as ``c'`` falls; the JSON holds the measured fractions and the share
    predicted from the ``c_0`` of every sample.  ``threshold`` (l2) is the one plotted; all of
    ``thresholds`` are in the JSON.
    """
    d = N if d is None else int(d)
    dataset = orthonormal_dataset(N, d)
    cs = sorted({float(math.sqrt(d)) if x == "sqrt(d)" else float(x) for x in c_sweep} | {float(c)})
    thresholds = sorted(set(map(float, thresholds)) | {float(threshold)})
    qs = sorted({float(q) for q in c_fractions})
    if any(not 0 < q < 1 for q in qs):
        raise ValueError(f"c_fractions must lie strictly between 0 and 1 (fractions of c_max, "
                         f"the edge of the low-noise regime), got {list(c_fractions)}")
    rng = np.random.default_rng(seed)
    Y0 = sigma_max * rng.standard_normal((n_points, d))
    params = {"score": True, "rho_score": rho_score, "eta": eta, "score_steps": score_steps,
              "cs": cs, "methods": ("ode",), "sigma_max": sigma_max, "n_high": n_high,
              "n_low": n_low, "c_fractions": qs, "c_base": float(c)}
    ends = simulate((N, d), Y0, params, workers=workers, scheduler=scheduler, progress=progress)
    euler = simulate((N, d), Y0, {**params, "score": False, "cs": [float(c)],
                                  "methods": ("euler",), "c_fractions": ()},
                     workers=workers, scheduler=scheduler, progress=progress,
                     label=f"{NAME} (euler)")
    ends.update(euler)
    key = lambda m, cc: f"probability/{m}/c={cc:.6g}"  # noqa: E731
    s_sw = switch_sigma(dataset, c)
    c_max = min(float(r) for r in dataset.r) / (2 * s_sw)
    c0 = ends["below/c0"][:, 0]
    results = {
        "seed": seed,
        "parameters": {"N": N, "d": d, "n_points": n_points, "sigma_max": sigma_max, "c": c,
                       "c_sweep": cs, "c_fractions": qs, "rho_score": rho_score,
                       "score_steps": score_steps, "eta": eta, "n_high": n_high, "n_low": n_low,
                       "thresholds": thresholds, "threshold": threshold,
                       "switch_margin": SWITCH_MARGIN, "sigma_switch": s_sw},
        "score_flow": {"limit": fractions(dataset, ends["score/limit"], thresholds),
                       "iterations": fractions(dataset, ends["score/iterations"], thresholds)},
        "probability_flow": {"ode": fractions(dataset, ends[key("ode", c)], thresholds),
                             "euler": fractions(dataset, ends[key("euler", c)], thresholds)},
        "c_sweep": {f"{cc:.6g}": {"sigma_switch": switch_sigma(dataset, cc),
                                  "fractions": fractions(dataset, ends[key("ode", cc)],
                                                         [threshold], ("l2",))["l2"][str(threshold)]}
                    for cc in cs},
        "below_c0": {
            "sigma_start": s_sw, "c_max": c_max,
            "c0_quantiles": {f"{q:g}": float(np.quantile(c0, q)) for q in (0.1, 0.25, 0.5, 0.75,
                                                                            0.9)},
            "rows": [{"q": q, "c": q * c_max,
                      "predicted_vertex_share": float(np.mean(q * c_max > c0)),
                      "vertex_share_tight": _tight_vertex_share(dataset,
                                                                ends[f"below/q={q:.6g}"]),
                      "fractions": fractions(dataset, ends[f"below/q={q:.6g}"], [threshold],
                                             ("l2",))["l2"][str(threshold)]} for q in qs]},
        "mean_vertex_size": {
            "score_limit": float(np.mean(np.sum(ends["score/limit"][:, :N] > 0.5, axis=1))),
            "probability_ode": float(np.mean(np.sum(ends[key("ode", c)][:, :N] > 0.5, axis=1)))},
        "paper": PAPER,
    }
    sizes = {"score flow (limit)": _vertex_sizes(dataset, ends["score/limit"], threshold),
             f"probability flow (c = {c:g})": _vertex_sizes(dataset, ends[key("ode", c)],
                                                           threshold)}
    results["figures"] = [_figure(out_dir, results, sizes)]
    write_results(out_dir, NAME, results)
    return results


def _tight_vertex_share(dataset, Y) -> float:
    """Share of endpoints within the default (tight, ``1e-6 max_n r_n``) l2 threshold of a vertex:
    the exact flows' reading of Thm 4.4, free of the coarse figure threshold."""
    labels = [cl.cls for cl in classify(dataset, Y, threshold=default_threshold(dataset))]
    return sum(lab in ("training", "virtual") for lab in labels) / len(labels)


def _vertex_sizes(dataset, Y, threshold) -> np.ndarray:
    """``|S|`` of the vertex each endpoint is (``-1`` for non-vertex endpoints)."""
    out = []
    for cl in classify(dataset, Y, threshold=threshold, norm="l2"):
        out.append(len(cl.vertex_subset) if cl.vertex_subset is not None else -1)
    return np.array(out)


#: Command-line parameters of ``flows experiment endpoints`` (defaults: :func:`run`).
PARAMETERS = {
    "N": (int, "number of orthonormal training points x_n = e_n"),
    "d": (int, "ambient dimension (default: N)"),
    "n_points": (int, "Gaussian initial points y0 ~ N(0, sigma_max^2 I)"),
    "sigma_max": (float, "initial noise level of the probability flow"),
    "c": (float, "rho = c sigma of the reported probability flow"),
    "c_sweep": (number_list("sqrt(d)"), "further c values that move the switch point, comma "
                "list of numbers or sqrt(d)"),
    "c_fractions": (float_list, "c/c_max values (0 < q < 1) of the low-noise stage from the "
                    "same switch state, comma list"),
    "rho_score": (float, "noise radius of the score flow's denoiser"),
    "score_steps": (int, "score-flow iterations (eq. 21)"),
    "eta": (float, "step size of the score-flow iterations"),
    "n_high": (int, "Euler steps of the MMSE stage above the low-noise regime"),
    "n_low": (int, "Euler levels of the min-cost stage (euler variant)"),
    "thresholds": (float_list, "classification thresholds stored in the JSON, comma list"),
    "threshold": (float, "l2 classification threshold of the figure and summary"),
}


def _pct(fr: dict) -> str:
    return ", ".join(f"{k} {100 * fr[k]:.1f}%" for k in CLASSES)


def summary(results) -> list[str]:
    """Headline numbers: class fractions of each flow, of the c sweeps, mean vertex sizes."""
    p = results["parameters"]
    t = str(p["threshold"])
    rows = results["below_c0"]["rows"]
    lo, hi = rows[0], rows[-1]
    sf, pf, b = results["score_flow"], results["probability_flow"], results["below_c0"]
    vs = results["mean_vertex_size"]
    return [
        f"{p['n_points']} starts, N = {p['N']}, d = {p['d']}, l2 threshold {p['threshold']:g}:",
        f"score flow, {p['score_steps']} iterations: {_pct(sf['iterations']['l2'][t])}",
        f"score flow, limit: {_pct(sf['limit']['l2'][t])}",
        f"probability flow, c = {p['c']:g} (ODE): {_pct(pf['ode']['l2'][t])}",
        f"probability flow, c = {p['c']:g} (Euler): {_pct(pf['euler']['l2'][t])}",
        f"same switch state, c = {lo['c']:.3g} (q = {lo['q']:g}): {_pct(lo['fractions'])}; "
        f"Thm 4.4 predicts {100 * (1 - lo['predicted_vertex_share']):.1f}% off the vertices "
        f"(measured at threshold 1e-6: {100 * (1 - lo['vertex_share_tight']):.1f}%)",
        f"same switch state, c = {hi['c']:.3g} (q = {hi['q']:g}): {_pct(hi['fractions'])}",
        f"median c_0 of the samples at the switch: {b['c0_quantiles']['0.5']:.3g} "
        f"(c_max = {b['c_max']:.3g})",
        *(f"switch at sigma = {row['sigma_switch']:.3g} (c = {cc}): {_pct(row['fractions'])}"
          for cc, row in results["c_sweep"].items()),
        f"mean |S| of the endpoint vertex: score limit {vs['score_limit']:.1f}, "
        f"probability flow {vs['probability_ode']:.1f}",
    ]


# -- figure ---------------------------------------------------------------------------------------
def _figure(out_dir, results, sizes) -> str:
    plt = pyplot()
    p = results["parameters"]
    thr = str(p["threshold"])
    fig = plt.figure(figsize=(15, 10))
    grid = fig.add_gridspec(2, 2, width_ratios=(1.35, 1), hspace=0.42, wspace=0.5)
    ax = fig.add_subplot(grid[0, 0])
    runs = {f"score flow, {p['score_steps']} iterations\n(eq. 21, rho = {p['rho_score']:g})":
            results["score_flow"]["iterations"]["l2"][thr],
            "score flow, limit tau -> inf\n(Thm 4.3)": results["score_flow"]["limit"]["l2"][thr],
            f"probability flow, c = {p['c']:g}\n(MMSE, then min-cost ODE)":
            results["probability_flow"]["ode"]["l2"][thr],
            f"probability flow, c = {p['c']:g}\n(MMSE, then min-cost Euler)":
            results["probability_flow"]["euler"]["l2"][thr]}
    plot_endpoint_classes(runs, ax, title=f"(a) endpoint classes, l2 threshold {p['threshold']:g}")

    ax = fig.add_subplot(grid[0, 1])
    top = max(int(max(v.max() for v in sizes.values())), 2)
    edges = np.arange(-1.5, top + 1.5)
    centres = edges[:-1] + 0.5
    w = 0.4
    for j, ((label, v), col) in enumerate(zip(sizes.items(), ("tab:green", "tab:purple"))):
        counts, _ = np.histogram(v, bins=edges)
        ax.bar(centres + (j - 0.5) * w, counts, w, color=col, label=label)
    from matplotlib.patches import Patch
    ax.axvspan(-1.5, -0.5, color="tab:orange", alpha=0.2)
    ax.axvspan(-0.5, 1.5, color="tab:red", alpha=0.15)
    handles, _ = ax.get_legend_handles_labels()
    handles += [Patch(color="tab:orange", alpha=0.2, label="-1: not a vertex"),
                Patch(color="tab:red", alpha=0.15, label="|S| <= 1: training point"),
                Patch(color="white", label="|S| >= 2: virtual point")]
    ax.set_xlabel("|S|: training points summed in the endpoint's vertex "
                  "x_0 + sum_{n in S} (x_n - x_0)")
    ax.set_ylabel("endpoints")
    ax.set_title("(b) which vertex: virtual points are sums of several training points", fontsize=10)
    ax.legend(handles=handles, fontsize=8, loc="upper right")

    ax = fig.add_subplot(grid[1, 0])
    b = results["below_c0"]
    cvals = np.array([row["c"] for row in b["rows"]])
    for k in CLASSES:
        vals = [100 * row["fractions"][k] for row in b["rows"]]
        if max(vals) > 0:
            ax.plot(cvals, vals, "o-", color=CLASS_COLORS[k], label=k)
    ax.plot(cvals, [100 * (1 - row["predicted_vertex_share"]) for row in b["rows"]], "k--",
            lw=1.2, label="Thm 4.4: share of samples with c < c_0(y)")
    ax.plot(cvals, [100 * (1 - row["vertex_share_tight"]) for row in b["rows"]], "kx", ms=8,
            label="measured off-vertex share (threshold 1e-6)")
    med = b["c0_quantiles"]["0.5"]
    ax.axvline(med, color="tab:gray", ls=":", lw=1.5)
    ax.text(med, 101, f"median c_0 = {med:.3g} ", color="tab:gray", fontsize=8, ha="right",
            va="bottom")
    ax.axvline(b["c_max"], color="k", lw=0.8)
    ax.text(b["c_max"], 101, " c_max", fontsize=8, ha="left", va="bottom")
    ax.set_xlim(0, 1.03 * b["c_max"])
    ax.set_ylim(-3, 100)
    ax.set_xlabel(f"c = rho/sigma of the min-cost stage (from the same state at sigma = "
                  f"{b['sigma_start']:.3g})")
    ax.set_ylabel("endpoints (%)")
    ax.set_title("(c) probability flow: the boundary share grows as c falls below c_0 "
                 "(early stopping)", fontsize=10, pad=16)
    ax.legend(fontsize=8, loc="best", framealpha=0.9)
    ax.grid(alpha=0.3)

    ax = fig.add_subplot(grid[1, 1])
    sweep = {f"c = {float(cc):.3g}\n(switch at\nsigma = {row['sigma_switch']:.3g})": row["fractions"]
             for cc, row in results["c_sweep"].items()}
    plot_endpoint_classes(sweep, ax, title="(d) probability flow vs the switch to the min-cost "
                          "denoiser\n(rho = c sigma; earlier switch = less MMSE collapse)",
                          legend=False)
    fig.suptitle(f"Endpoints of {p['n_points']} Gaussian starts (sigma_max = {p['sigma_max']:g}), "
                 f"N = {p['N']} orthonormal points in d = {p['d']}", fontsize=12)
    return save_figure(fig, out_dir, "endpoints.png")
