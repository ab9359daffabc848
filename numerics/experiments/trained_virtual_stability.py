"""Fig. 1 with a trained denoiser: stability of the virtual points (paper §5.1, App. E Fig. 6).

The paper's Fig. 1 is made with a *trained* min-norm denoiser: ``N = 30`` orthonormal points in
``d = 30``, one low-noise denoiser trained by the augmented Lagrangian method (``al``, §5,
eqs. 22-26), 10 fixed-point iterations ``y <- h(y)`` (eq. 21, ``eta = 1``) from every pair,
triple and quadruple sum ``v_S = sum_{n in S} x_n``; the paper found 429/435, 3390/4060 and
6965/27405 of them stable.  This experiment does the same with a network trained by
:mod:`training` and puts three columns side by side: the paper's counts, the trained net's and
the closed form's (eq. 17, every vertex stable: Thm 4.2).  It also records how far the trained
net is from the closed form (:func:`numerics.premise.compare`), which is what decides the
counts: a vertex ``v_S`` stays a fixed point only while every unit's boundary keeps its distance
to ``v_S``, and a boundary misplaced by ``delta`` along ``u_n`` moves every sum containing ``n``.

The trained net is cached under ``cache_dir`` (default ``<out_dir>/cache``) keyed by the data,
``rho``, protocol, width, samples, hyper-parameters and seed (:mod:`._trained`), so a second run
reuses it.  Counts use the l2 threshold ``threshold`` (and a factor-2 range around it in l2 and
l-inf, as App. E Fig. 6 does).
"""
from __future__ import annotations

import math
import time

import numpy as np

from ..geometry import check_norm
from ..schedules import score_flow_iterations
from ._data import network_arrays, orthonormal_dataset
from ._runtime import pyplot, save_figure, write_results
from ._trained import trained_network
from .parameters import int_list
from .virtual_stability import PAPER_COUNTS, vertex_sums

NAME = "trained-virtual-stability"
#: Sample points per region for the premise summary (numerics.premise.compare): the RMS to ~3 %.
COMPARE_POINTS = 2048
#: Smallest distance drawn on the log-scale histogram (float64 rounding of O(1) coordinates).
DISTANCE_FLOOR = 1e-16


def _final_distances(net, N: int, d: int, orders, n_iter: int) -> dict:
    out = {}
    for m in orders:
        V = vertex_sums(N, m, d)
        Y = score_flow_iterations(net, V, eta=1.0, n_steps=n_iter)
        D = Y - V
        out[m] = {"l2": np.linalg.norm(D, axis=1), "linf": np.max(np.abs(D), axis=1)}
    return out


def _counts(dist: dict, orders, thresholds) -> dict:
    return {str(m): {norm: {str(float(t)): int(np.sum(dist[m][norm] <= t)) for t in thresholds}
                     for norm in ("l2", "linf")} for m in orders}


#: Steerable parameters (``flows experiment trained-virtual-stability --help``).
PARAMETERS = {
    "N": (int, "number of orthonormal training points x_n = e_n"),
    "d": (int, "ambient dimension (default N)"),
    "rho": (float, "noise-ball radius of the trained low-noise denoiser"),
    "protocol": (str, "training protocol", ("al", "adam", "adam-wd", "dropout")),
    "width": (int, "hidden units K (default: the training package's)"),
    "samples": (int, "noisy samples M per training point (default: the training package's)"),
    "n_iterations": (int, "fixed-point iterations y <- h(y) from each vertex sum (eq. 21)"),
    "threshold": (float, "convergence threshold of the counts"),
    "norm": (str, "distance of the threshold", ("l2", "linf")),
    "orders": (int_list, "sizes |S| of the vertex sums, comma list"),
}


def summary(results) -> list[str]:
    """Headline numbers: stable vertex sums, paper | trained | closed form, and the premise."""
    p, tr = results["parameters"], results["training"]["report"]
    out = [f"N = {p['N']} orthonormal, rho = {p['rho']:g}, {p['protocol']}: residual_max "
           f"{tr.get('residual_max', float('nan')):.3g}, converged {tr.get('converged')}"]
    for m in p["orders"]:
        row = [f"|S| = {m}:"]
        for key in ("paper", "trained", "closed_form"):
            if str(m) in results[key]:
                r = results[key][str(m)]
                row.append(f"{key} {r['converged']}/{r['total']}")
        out.append(" ".join(row))
    prem = results.get("premise", {})
    if "cost_ratio" in prem:
        out.append(f"premise: cost ratio {prem['cost_ratio']:.3g}, sup error on the balls "
                   f"{prem.get('sup_error_balls', float('nan')):.3g}")
    return out


def run(out_dir, *, seed: int = 0, N: int = 30, d: int | None = None, rho: float = 0.1,
        protocol: str = "al", width: int | None = None, samples: int | None = None,
        hyper: dict | None = None, n_iterations: int = 10, threshold: float = 0.1,
        norm: str = "l2", orders=(2, 3, 4), cache_dir=None, progress: bool = True,
        workers: int | None = None, scheduler: str | None = None) -> dict:
    """Train (or reuse) the denoiser, count the stable virtual points; write ``results.json`` and
    ``trained_virtual_stability.png``.  ``hyper`` overrides the protocol's defaults
    (:data:`training.DEFAULTS`); ``width``/``samples`` default to the training package's.
    ``workers``/``scheduler`` are accepted for the common experiment interface and unused: the
    training runs in this process (JAX uses the cores itself) and the counting takes seconds."""
    check_norm(norm)
    d = N if d is None else d
    if any(m < 1 or m > N for m in orders):
        raise ValueError(f"orders {orders} must lie in 1..N={N}")
    if n_iterations < 1:
        raise ValueError(f"n_iterations must be >= 1, got {n_iterations}")
    from pathlib import Path

    t_start = time.perf_counter()
    dataset = orthonormal_dataset(N, d)
    cache = Path(out_dir) / "cache" if cache_dir is None else Path(cache_dir)
    tr = trained_network(dataset, rho, cache_dir=cache, protocol=protocol, width=width,
                         samples=samples, seed=seed, hyper=hyper, progress=progress)
    net, exact = tr["net"], network_arrays(dataset, rho)
    thresholds = sorted({threshold / 2, threshold, 2 * threshold})
    t0 = time.perf_counter()
    dist = {"trained": _final_distances(net, N, d, orders, n_iterations),
            "closed_form": _final_distances(exact, N, d, orders, n_iterations)}
    count_seconds = time.perf_counter() - t0
    totals = {m: math.comb(N, m) for m in orders}

    def summary(dd):
        return {str(m): {"converged": int(np.sum(dd[m][norm] <= threshold)), "total": totals[m],
                         "fraction": float(np.sum(dd[m][norm] <= threshold)) / totals[m]}
                for m in orders}

    from ..premise import compare

    prem = compare(net, dataset, rho, n_points=COMPARE_POINTS, seed=seed)
    prem.pop("units")
    meta = tr["metadata"]
    results = {
        "seed": seed,
        "parameters": {"N": N, "d": d, "rho": rho, "protocol": protocol, "width": net.K,
                       "samples": samples, "n_iterations": n_iterations, "eta": 1.0,
                       "threshold": threshold, "norm": norm, "orders": list(orders)},
        "hyperparameters": meta.get("hyperparameters", hyper or {}),
        "training": {"cached": tr["cached"], "network_file": tr["path"], "cache_key": tr["key"],
                     "report": tr["report"], "seconds_this_run": tr["seconds"]},
        "trained": summary(dist["trained"]),
        "closed_form": summary(dist["closed_form"]),
        "paper": {str(m): {"converged": s, "total": t, "fraction": s / t}
                  for m, (s, t) in PAPER_COUNTS.items()},
        "all_thresholds": {"trained": _counts(dist["trained"], orders, thresholds),
                           "closed_form": _counts(dist["closed_form"], orders, thresholds)},
        "final_distance_quantiles": {
            str(m): {q: float(np.quantile(dist["trained"][m][norm], float(q)))
                     for q in ("0.5", "0.9", "0.99", "1.0")} for m in orders},
        "premise": prem,
        "seconds": {"counting": count_seconds, "total": time.perf_counter() - t_start},
    }
    results["figures"] = [_figure(out_dir, results, dist["trained"], orders)]
    write_results(out_dir, NAME, results)
    return results


def _figure(out_dir, results, dist, orders) -> str:
    plt = pyplot()
    p = results["parameters"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12.5, 4.8))
    x = np.arange(len(orders))
    width = 0.27
    cols = [("paper (trained, N = 30)", results["paper"], "tab:gray"),
            (f"trained here ({p['protocol']}, K = {p['width']})", results["trained"], "tab:orange"),
            ("closed form (eq. 17)", results["closed_form"], "tab:green")]
    for k, (label, data, color) in enumerate(cols):
        vals = [100 * data[str(m)]["fraction"] if str(m) in data else np.nan for m in orders]
        rects = ax1.bar(x + (k - 1) * width, vals, width, label=label, color=color)
        for rect, m in zip(rects, orders):
            if str(m) in data:
                ax1.annotate(f"{data[str(m)]['converged']}/{data[str(m)]['total']}",
                             (rect.get_x() + rect.get_width() / 2, rect.get_height()),
                             ha="center", va="bottom", fontsize=7, rotation=90, xytext=(0, 2),
                             textcoords="offset points")
    ax1.set_xticks(x, [{2: "pairs", 3: "triples", 4: "quadruples"}.get(m, f"{m}-sums")
                       for m in orders])
    ax1.set_ylim(0, 135)
    ax1.set_ylabel(f"converged within {p['norm']} {p['threshold']:g} (%)")
    ax1.set_title(f"Virtual points after {p['n_iterations']} fixed-point iterations\n"
                  f"N = {p['N']} orthonormal in d = {p['d']}, rho = {p['rho']:g}", fontsize=10)
    ax1.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=3)
    allv = np.concatenate([dist[m][p["norm"]] for m in orders])
    lo = math.log10(max(float(allv.min()), DISTANCE_FLOOR))
    hi = math.log10(max(float(allv.max()), 10 * DISTANCE_FLOOR))
    bins = np.linspace(lo, max(hi, lo + 1), 40)
    for m in orders:
        ax2.hist(np.log10(np.maximum(dist[m][p["norm"]], DISTANCE_FLOOR)), bins=bins,
                 histtype="step", lw=1.5, density=True, label=f"|S| = {m}")
    ax2.axvline(math.log10(p["threshold"]), color="k", ls="--", lw=1, label="threshold")
    ax2.set_xlabel(f"log10 {p['norm']} distance |y_10 - v_S| (trained net)")
    ax2.set_ylabel("density")
    prem = results["premise"]
    ax2.set_title(f"trained vs closed form: sup on balls {prem['sup_error_balls_rel']:.2g} r, "
                  f"max angle {prem['boundary_angle_max_deg'] or 0:.2g} deg,\nmax kink offset "
                  f"{prem['boundary_offset_max_rel'] or 0:.2g} r, cost ratio "
                  f"{prem['cost_ratio']:.4g}", fontsize=9)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, out_dir, "trained_virtual_stability.png")
