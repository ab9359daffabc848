"""Fig. 1: stability of the predicted virtual points (paper §5.1, App. E Fig. 6).

From every pair / triple / quadruple sum ``v_S = sum_{n in S} x_n`` of ``N`` orthonormal training
points (Thm 4.2: the ``2^N`` partial sums are the stable stationary points of the score flow),
run ``n_iterations`` fixed-point iterations ``y <- h(y)`` (eq. 21 with ``eta = 1``) and count the
runs that end within ``threshold`` of ``v_S``:

* with the exact min-cost denoiser (eq. 17) every vertex is a fixed point on the flat pieces of
  every unit, so all runs converge (the analytic model's answer: 100 % at every order);
* with a *perturbed* network — the exact denoiser's ReLU network (eq. 4, two units per training
  point, :meth:`theory.denoisers.RidgeDenoiser.network`) with i.i.d. ``N(0, eps^2)`` added to every
  input weight and bias (the ReLU boundaries) — a unit whose pre-activation noise at ``v_S``
  exceeds its distance ``rho`` to the kink enters its unstable linear piece.  That noise grows like
  ``eps sqrt(|S| + 1)``, so higher-order sums lose stability first: the paper's explanation of its
  trained network's 429/435, 3390/4060, 6965/27405.

This toolkit does not take over the paper's threshold value and noise level: ``threshold`` and
``rho`` are options here (this toolkit's defaults: l2 threshold ``0.1``, ``rho = 0.1``, i.e. a
tenth of the training points' norm).
"""
from __future__ import annotations

import math
from itertools import combinations

import numpy as np

from ..geometry import check_norm
from ..schedules import score_flow_iterations
from ._data import network_arrays, orthonormal_dataset
from ._runtime import parallel_map, pyplot, save_figure, write_results
from .parameters import float_list, int_list

NAME = "virtual-stability"
#: The paper's counts (Fig. 1): order -> (stable, total), trained min-norm network, N = 30.
PAPER_COUNTS = {2: (429, 435), 3: (3390, 4060), 4: (6965, 27405)}


def vertex_sums(N: int, order: int, d: int) -> np.ndarray:
    """All ``C(N, order)`` sums of ``order`` distinct standard basis vectors ``e_1..e_N`` in ``R^d``
    (the orthonormal training set of :func:`._data.orthonormal_dataset`), shape ``(C, d)``."""
    idx = np.array(list(combinations(range(N), order)), dtype=int)
    out = np.zeros((len(idx), d))
    np.put_along_axis(out, idx, 1.0, axis=1)
    return out


def _distance(D: np.ndarray, norm: str) -> np.ndarray:
    return np.linalg.norm(D, axis=1) if norm == "l2" else np.max(np.abs(D), axis=1)


def _count_task(task) -> dict:
    """One perturbed network: converged counts for every order and threshold (worker function)."""
    net, eps, seed, N, d, orders, n_iter, thresholds, norms = task
    rng = np.random.default_rng(seed)
    pnet = net.perturbed(rng, eps) if eps > 0 else net
    out = {}
    for m in orders:
        V = vertex_sums(N, m, d)
        Y = score_flow_iterations(pnet, V, eta=1.0, n_steps=n_iter)
        out[m] = {norm: {float(t): int(np.sum(_distance(Y - V, norm) <= t)) for t in thresholds}
                  for norm in norms}
    return {"eps": eps, "seed": seed, "counts": out}


def run(out_dir, *, seed: int = 0, N: int = 30, d: int | None = None, rho: float = 0.1,
        perturbation: float = 0.012, n_iterations: int = 10, threshold: float = 0.1,
        norm: str = "l2", orders=(2, 3, 4), sweep=(0.0, 0.004, 0.008, 0.012, 0.016, 0.02, 0.025),
        n_draws: int = 3, progress: bool = True, workers: int | None = None,
        scheduler: str | None = None) -> dict:
    """Run the Fig. 1 experiment; write ``results.json`` and ``virtual_stability.png``.

    ``perturbation`` is the standard deviation ``eps`` of the noise on the ReLU weights/biases of
    the reported perturbed network (one draw from ``seed``); ``sweep`` lists further ``eps`` values,
    each averaged over ``n_draws`` draws, for the stability-versus-perturbation curves.
    Thresholds: counts are reported for ``threshold`` in ``norm`` and, as App. E does, for a
    factor-2 range around it in both norms.
    """
    check_norm(norm)
    d = N if d is None else d
    if any(m < 1 or m > N for m in orders):
        raise ValueError(f"orders {orders} must lie in 1..N={N}")
    if n_iterations < 1:
        raise ValueError(f"n_iterations must be >= 1, got {n_iterations}")
    dataset = orthonormal_dataset(N, d)
    net = network_arrays(dataset, rho)
    thresholds = sorted({threshold / 2, threshold, 2 * threshold})
    norms = ("l2", "linf")
    seeds = np.random.SeedSequence(seed).generate_state(1 + len(sweep) * n_draws).tolist()
    tasks = [(net, 0.0, seeds[0], N, d, orders, n_iterations, thresholds, norms),
             (net, float(perturbation), seeds[0], N, d, orders, n_iterations, thresholds, norms)]
    tasks += [(net, float(eps), seeds[1 + i * n_draws + j], N, d, orders, n_iterations,
               thresholds, norms) for i, eps in enumerate(sweep) for j in range(n_draws)]
    res = parallel_map(_count_task, tasks, workers=workers, scheduler=scheduler,
                       progress=progress, label="virtual-stability")
    totals = {m: math.comb(N, m) for m in orders}

    def summary(r):
        return {str(m): {"converged": r["counts"][m][norm][threshold], "total": totals[m],
                         "fraction": r["counts"][m][norm][threshold] / totals[m]} for m in orders}

    sweep_rows = []
    for i, eps in enumerate(sweep):
        rows = res[2 + i * n_draws: 2 + (i + 1) * n_draws]
        sweep_rows.append({"eps": eps, "fraction": {
            str(m): float(np.mean([r["counts"][m][norm][threshold] for r in rows]) / totals[m])
            for m in orders}})
    results = {
        "seed": seed, "task_seeds": seeds,
        "parameters": {"N": N, "d": d, "rho": rho, "perturbation": perturbation,
                       "n_iterations": n_iterations, "eta": 1.0, "threshold": threshold,
                       "norm": norm, "orders": list(orders), "sweep": list(sweep),
                       "n_draws": n_draws},
        "exact": summary(res[0]),
        "perturbed": summary(res[1]),
        "all_thresholds": {"exact": {str(m): res[0]["counts"][m] for m in orders},
                           "perturbed": {str(m): res[1]["counts"][m] for m in orders}},
        "sweep": sweep_rows,
        "paper": {str(m): {"converged": s, "total": t, "fraction": s / t}
                  for m, (s, t) in PAPER_COUNTS.items()},
    }
    results["figures"] = [_figure(out_dir, results, orders)]
    write_results(out_dir, NAME, results)
    return results


#: Command-line parameters of ``flows experiment virtual-stability`` (defaults: :func:`run`).
PARAMETERS = {
    "N": (int, "number of orthonormal training points x_n = e_n"),
    "d": (int, "ambient dimension (default: N)"),
    "rho": (float, "noise radius of the min-cost denoiser h_rho"),
    "perturbation": (float, "std eps of the noise on ReLU weights and biases (reported network)"),
    "n_iterations": (int, "fixed-point iterations y <- h(y) from each vertex sum"),
    "threshold": (float, "converged = ends within this distance of its vertex sum"),
    "norm": (str, "distance of the convergence test", ("l2", "linf")),
    "orders": (int_list, "sizes |S| of the vertex sums v_S, comma list"),
    "sweep": (float_list, "perturbation levels eps of the stability curves, comma list"),
    "n_draws": (int, "random perturbed networks per sweep level"),
}


def summary(results) -> list[str]:
    """Headline numbers: converged / total per order, exact and perturbed, and the paper's."""
    p = results["parameters"]
    out = [f"converged within {p['norm']} {p['threshold']:g} after {p['n_iterations']} "
           f"iterations (N = {p['N']}, rho = {p['rho']:g}):"]
    for m in p["orders"]:
        e, q = results["exact"][str(m)], results["perturbed"][str(m)]
        line = (f"|S| = {m}: exact {e['converged']}/{e['total']}, perturbed (eps = "
                f"{p['perturbation']:g}) {q['converged']}/{q['total']} ({100 * q['fraction']:.1f}%)")
        if str(m) in results["paper"]:
            pp = results["paper"][str(m)]
            line += f"; paper {pp['converged']}/{pp['total']} ({100 * pp['fraction']:.1f}%)"
        out.append(line)
    return out


def _figure(out_dir, results, orders) -> str:
    plt = pyplot()
    p = results["parameters"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.6))
    x = np.arange(len(orders))
    width = 0.27
    bars = [("exact min-cost denoiser", results["exact"], "tab:green"),
            (f"perturbed network (eps = {p['perturbation']:g})", results["perturbed"], "tab:orange")]
    paper = results["paper"]
    for k, (label, data, color) in enumerate(bars):
        vals = [100 * data[str(m)]["fraction"] for m in orders]
        rects = ax1.bar(x + (k - 1) * width, vals, width, label=label, color=color)
        for rect, m in zip(rects, orders):
            ax1.annotate(f"{data[str(m)]['converged']}/{data[str(m)]['total']}",
                         (rect.get_x() + rect.get_width() / 2, rect.get_height()),
                         ha="center", va="bottom", fontsize=7, rotation=90, xytext=(0, 2),
                         textcoords="offset points")
    pv = [100 * paper[str(m)]["fraction"] if str(m) in paper else np.nan for m in orders]
    rects = ax1.bar(x + width, pv, width, label="paper (trained net, N = 30)", color="tab:gray")
    for rect, m in zip(rects, orders):
        if str(m) in paper:
            ax1.annotate(f"{paper[str(m)]['converged']}/{paper[str(m)]['total']}",
                         (rect.get_x() + rect.get_width() / 2, rect.get_height()), ha="center",
                         va="bottom", fontsize=7, rotation=90, xytext=(0, 2),
                         textcoords="offset points")
    ax1.set_xticks(x, [{2: "pairs", 3: "triples", 4: "quadruples"}.get(m, f"{m}-sums")
                       for m in orders])
    ax1.set_ylim(0, 135)
    ax1.set_ylabel(f"converged within {p['norm']} {p['threshold']:g} (%)")
    ax1.set_title(f"Virtual points after {p['n_iterations']} fixed-point iterations\n"
                  f"N = {p['N']} orthonormal, rho = {p['rho']:g}")
    ax1.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2)
    eps = [row["eps"] for row in results["sweep"]]
    for m in orders:
        ax2.plot(eps, [100 * row["fraction"][str(m)] for row in results["sweep"]], "o-",
                 label=f"|S| = {m}")
    ax2.set_xlabel("std of the perturbation of ReLU weights and biases (eps)")
    ax2.set_ylabel("converged (%)")
    ax2.set_title(f"Stability vs perturbation (mean of {p['n_draws']} draws)")
    ax2.legend()
    ax2.grid(alpha=0.3)
    return save_figure(fig, out_dir, "virtual_stability.png")
