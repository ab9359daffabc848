"""The sampling question: ``M`` samples per ball relax the ball constraint (docs/math.md §7).

The min-cost interpolant (paper eq. 8) must equal ``x_n`` on the whole ball ``B(x_n, rho)``.
Training sees only ``M`` noisy samples per ball, so ``h(y_nm) = x_n`` for those samples is a
*relaxation*: its minimum cost can be below the closed form's (a unit's boundary may cut through
a ball between the samples), and the trained function need not be constant on the ball.  This
experiment trains one denoiser per ``M`` and measures, against the closed form
(:func:`numerics.premise.compare`):

* ``cost_ratio`` (trained weight cost / closed-form min cost): below 1 means the relaxation was
  exploited;
* ``sup_error_balls_rel``: how far ``h`` is from ``x_n`` on *fresh* points of the balls (the
  constraint the theory assumes), relative to ``max r``;
* the distance on the hull and the boundary alignment.

Two instances: ``d = 2`` (the obtuse triangle, unique minimiser) and ``d = 30`` (``N``
orthonormal points in ``R^30``; the paper's Fig. 1 has ``N = 30``).  Trained nets are cached as
in :mod:`.trained_virtual_stability`.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ._data import obtuse_triangle, orthonormal_dataset
from ._runtime import Progress, pyplot, save_figure, write_results
from ._trained import trained_network
from .parameters import int_list

NAME = "sampling-relaxation"
#: Sample points per region for each comparison: the RMS to ~3 %.
COMPARE_POINTS = 2048
#: The quantities recorded per run (keys of :func:`numerics.premise.compare`).
KEYS = ("cost_ratio", "representation_cost_ratio", "sup_error_balls_rel", "rms_error_balls_rel",
        "sup_error_hull_rel", "rms_error_hull_rel", "boundary_angle_max_deg",
        "boundary_angle_weighted_deg", "boundary_offset_weighted_rel",
        "boundary_offset_max_rel", "dead_fraction", "duplicate_fraction", "kinks_covered",
        "kinks_total")


def _cases(rho_d2: float, N30: int, rho_d30: float) -> list:
    return [{"name": "d2", "data": "obtuse triangle (Fig. 4)", "dataset": obtuse_triangle(),
             "rho": rho_d2},
            {"name": "d30", "data": f"{N30} orthonormal points in R^30",
             "dataset": orthonormal_dataset(N30, 30), "rho": rho_d30}]


def _names(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in str(text).split(",") if p.strip())


#: Steerable parameters (``flows experiment sampling-relaxation --help``).
PARAMETERS = {
    "Ms": (int_list, "samples per ball M for the d = 2 case, comma list"),
    "Ms_d30": (int_list, "samples per ball M for the d = 30 case, comma list"),
    "rho_d2": (float, "ball radius of the d = 2 (obtuse triangle) case"),
    "N30": (int, "orthonormal training points of the d = N case"),
    "rho_d30": (float, "ball radius of the d = N case"),
    "cases": (_names, "which cases to run: d2, d30 (comma list)"),
    "protocol": (str, "training protocol", ("al", "adam", "adam-wd", "dropout")),
    "width": (int, "hidden units K (default: the training package's)"),
}


def summary(results) -> list[str]:
    """Headline numbers: cost ratio and distance to the closed form as M grows."""
    out = []
    for row in results["rows"]:
        out.append(f"{row['case']} M = {row['M']}: " + ", ".join(
            f"{k} {row[k]:.3g}" for k in KEYS if isinstance(row.get(k), (int, float))))
    return out


def run(out_dir, *, seed: int = 0, Ms=(2, 5, 20, 100, 500), Ms_d30=(2, 5, 20, 100),
        rho_d2: float = 0.2,
        N30: int = 30, rho_d30: float = 0.1, cases=("d2", "d30"), protocol: str = "al",
        width: int | None = None, hyper: dict | None = None, cache_dir=None,
        progress: bool = True, workers: int | None = None, scheduler: str | None = None) -> dict:
    """Train one denoiser per ``M`` in ``Ms`` (``d = 30``: in ``Ms_d30``, default ``Ms``; each
    ``d = 30`` run at ``M = 100`` took 19 min on a shared 2-core machine) and instance in
    ``cases``; write ``results.json`` and ``sampling_relaxation.png``.  ``workers``/``scheduler`` are unused (training runs in
    this process)."""
    Ms = [int(m) for m in Ms]
    Ms_d30 = Ms if Ms_d30 is None else [int(m) for m in Ms_d30]
    if not Ms or not Ms_d30 or min(Ms + Ms_d30) < 1:
        raise ValueError(f"Ms and Ms_d30 must be positive sample counts, got {Ms}, {Ms_d30}")
    chosen = [c for c in _cases(rho_d2, N30, rho_d30) if c["name"] in cases]
    if len(chosen) != len(set(cases)):
        raise ValueError(f"cases must be a subset of ('d2', 'd30'), got {cases}")
    from ..premise import compare

    cache = Path(out_dir) / "cache" if cache_dir is None else Path(cache_dir)
    t_start = time.perf_counter()
    rows = []
    grid = {"d2": Ms, "d30": Ms_d30}
    bar = Progress(sum(len(grid[c["name"]]) for c in chosen), "sampling-relaxation",
                   enabled=progress)
    for case in chosen:
        for M in grid[case["name"]]:
            tr = trained_network(case["dataset"], case["rho"], cache_dir=cache, protocol=protocol,
                                 width=width, samples=M, seed=seed, hyper=hyper, progress=False)
            res = compare(tr["net"], case["dataset"], case["rho"], n_points=COMPARE_POINTS,
                          seed=seed)
            rep = tr["report"]
            rows.append({"case": case["name"], "M": M, **{k: res[k] for k in KEYS},
                         "residual_max": rep.get("residual_max"),
                         "converged": rep.get("converged"),
                         "train_seconds": rep.get("seconds"), "cached": tr["cached"],
                         "width": tr["net"].K, "network_file": tr["path"]})
            bar.update()
    hp = None
    if rows:
        from ..network import load_network
        hp = load_network(rows[-1]["network_file"]).metadata.get("hyperparameters")
    results = {
        "seed": seed,
        "parameters": {"Ms": Ms, "Ms_d30": Ms_d30, "protocol": protocol, "width": width,
                       "cases": [{k: c[k] for k in ("name", "data", "rho")} |
                                 {"N": int(c["dataset"].size - 1), "d": c["dataset"].d}
                                 for c in chosen]},
        "hyperparameters": hp or (hyper or {}),
        "rows": rows,
        "seconds": time.perf_counter() - t_start,
    }
    results["figures"] = [_figure(out_dir, results)]
    write_results(out_dir, NAME, results)
    return results


def _figure(out_dir, results) -> str:
    plt = pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.6))
    colors = {"d2": "tab:blue", "d30": "tab:red"}
    for case in results["parameters"]["cases"]:
        rows = [r for r in results["rows"] if r["case"] == case["name"]]
        M = [r["M"] for r in rows]
        lab = f"{case['data']}, rho = {case['rho']:g}"
        c = colors[case["name"]]
        ax1.plot(M, [r["cost_ratio"] for r in rows], "o-", color=c, label=lab)
        ax2.plot(M, [max(r["sup_error_balls_rel"], 1e-16) for r in rows], "o-", color=c,
                 label=f"{case['name']}: sup on fresh ball points")
        ax2.plot(M, [max(r["rms_error_hull_rel"], 1e-16) for r in rows], "s--", color=c,
                 label=f"{case['name']}: RMS on the hull")
        bad = [r for r in rows if not r["converged"]]  # hollow: training did not converge
        if bad:
            ax1.plot([r["M"] for r in bad], [r["cost_ratio"] for r in bad], "o", mfc="white",
                     color=c, label=f"{case['name']}: training not converged")
    ax1.axhline(1.0, color="k", lw=1, ls=":")
    ax1.set_xscale("log")
    ax1.set_xlabel("samples per ball M")
    ax1.set_ylabel("trained weight cost / closed-form min cost")
    ax1.set_title("cost ratio (< 1: the sampled constraint was exploited)", fontsize=10)
    ax1.legend(fontsize=8)
    ax1.grid(alpha=0.3)
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel("samples per ball M")
    ax2.set_ylabel("|h - h*| / max r")
    ax2.set_title("distance to the closed form", fontsize=10)
    ax2.legend(fontsize=8)
    ax2.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return save_figure(fig, out_dir, "sampling_relaxation.png")
