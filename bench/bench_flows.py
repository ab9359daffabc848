"""Benchmark of the flow integrators (docs/numerics.md "Benchmark").  A script, not a test:

    python bench/bench_flows.py [--n 10000] [--subset 16] [--out bench/bench_flows.json]

For 10,000 initial points on

* orthogonal data, d = N = 30 (random rotation, radii in [1, 2]): probability flow (exact model,
  sigma_min = 0, i.e. the limit s -> oo) and score flow (tau -> oo);
* an obtuse simplex, d = 20, N = 10: score flow and probability flow,

it times (a) a per-trajectory ``solve_ivp`` loop (DOP853, rtol 1e-10 / atol 1e-12, kink events;
timed on ``--subset`` points and scaled to ``--n``), (b) the batch integrator
(``*_flow_batch(method="ivp")``: the vectorised DOP853 of ``numerics.batch_ivp``, on all
``--n`` points) and (c) the exact integrator (``*_flow_batch(method="exact")``)
where it exists, and reports each one's maximum error (l-infinity, over the subset) against a
high-accuracy reference: the same per-trajectory integration at rtol 1e-13 / atol 1e-15.  It
also reports the largest disagreement between (b) and (c) over all points, and the speed ratios
(a)/(b), (a)/(c).  Results are printed and written as JSON.  Runs in well under 5 minutes on the
2-core reference machine (see docs/numerics.md for the recorded figures).
"""
from __future__ import annotations

import os

# single-threaded BLAS: the per-trajectory loops are single-threaded anyway, and idle BLAS threads
# spinning on a shared 2-core machine made the vectorised timings vary by 5x between runs
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from numerics import flows  # noqa: E402
from theory.datasets import ObtuseSimplex, OrthogonalDataset  # noqa: E402

#: The tolerances of the reference integration: three orders of magnitude below the default
#: rtol 1e-10 / atol 1e-12 whose error is being measured.
REFERENCE_RTOL, REFERENCE_ATOL = 1e-13, 1e-15

#: Finite times (rescaled time tau, or log-noise time s) at which paths are compared.
PATH_TIMES = (0.0, 0.5, 2.0, 8.0)


def orthogonal_dataset(rng, d=30):
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    radii = rng.uniform(1.0, 2.0, size=d)
    x0 = rng.normal(size=d)
    return OrthogonalDataset([x0.tolist()] + (x0 + Q * radii[:, None]).tolist())


def obtuse_dataset(rng, d=20, N=10):
    """Unit offsets with pairwise cosines in [-0.9/N, -0.1/N] (strictly obtuse, well
    conditioned), radii in [1, 2], rotated into R^d."""
    C = np.eye(N)
    for i in range(N):
        for j in range(i + 1, N):
            C[i, j] = C[j, i] = -rng.uniform(0.1, 0.9) / N
    L = np.linalg.cholesky(C)
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    radii = rng.uniform(1.0, 2.0, size=N)
    x0 = rng.normal(size=d)
    return ObtuseSimplex([x0.tolist()] + (x0 + (L * radii[:, None]) @ Q[:N]).tolist())


def initial_points(rng, ds, n):
    """Box coordinates uniform in [-0.25, 1.25] plus an off-span component: every piece occurs."""
    X = np.array([[float(x) for x in v] for v in ds.offsets])
    x0 = np.array([float(x) for x in ds.apex])
    lam = rng.uniform(-0.25, 1.25, size=(n, X.shape[0]))
    return x0 + lam @ X + 0.1 * rng.normal(size=(n, ds.d))


def timed(fn):
    """``(result, wall seconds, CPU seconds)``; the CPU time is the robust figure on a shared
    machine, the wall time the one a user waits."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def run_case(name, ds, flow, params, Y0, subset, has_exact, exact_points=None, exact_chunk=None):
    """Time and check one case.  The per-trajectory loop (a) and ``*_batch(method="ivp")`` (b)
    run on the first ``subset`` points and are scaled to ``n``; the exact integrator (c) on
    ``exact_points`` points (default all), in chunks of ``exact_chunk`` if given, scaled to ``n``."""
    single = flows.score_flow if flow == "score" else flows.probability_flow
    batch = flows.score_flow_batch if flow == "score" else flows.probability_flow_batch
    args = (params["rho"],) if flow == "score" else ()
    kw = {"model": params["model"]}
    if flow == "probability":
        kw.update(c=params["c"], sigma_max=params["sigma_max"], sigma_min=0.0)
    n = Y0.shape[0]
    sub = Y0[:subset]
    ref = np.array([single(ds, y, *args, method="ivp", rtol=REFERENCE_RTOL, atol=REFERENCE_ATOL,
                           **kw).endpoint for y in sub])
    loop, t_loop, c_loop = timed(lambda: np.array([single(ds, y, *args, method="ivp", **kw).endpoint
                                           for y in sub]))
    row = {"case": name, "flow": flow, "d": ds.d, "N": ds.N, "n_points": n, "subset": subset,
           **params,
           "loop_seconds_subset": t_loop, "loop_seconds_scaled": t_loop * n / subset,
           "loop_cpu_seconds_scaled": c_loop * n / subset,
           "loop_ms_per_trajectory": 1e3 * t_loop / subset,
           "loop_max_error": float(np.abs(loop - ref).max())}
    # endpoints are limits that the integrators may reach analytically once every unit has
    # settled on a flat piece, so also compare the paths at finite times (tau or s)
    def paths(method, **tol):
        return np.array([single(ds, y, *args, method=method, times=PATH_TIMES, **tol, **kw).path
                         for y in sub])
    P_ref = paths("ivp", rtol=REFERENCE_RTOL, atol=REFERENCE_ATOL)
    row["path_times"] = list(PATH_TIMES)
    row["loop_path_max_error"] = float(np.abs(paths("ivp") - P_ref).max())
    if has_exact:
        row["exact_path_max_error"] = float(np.abs(paths("exact") - P_ref).max())
    # (b) on all n points: the vectorised DOP853 amortises its per-step overhead over the batch
    E_batch, t_batch, c_batch = timed(lambda: batch(ds, Y0, *args, method="ivp", **kw))
    row.update(batch_seconds_scaled=t_batch, batch_cpu_seconds_scaled=c_batch,
               batch_ms_per_trajectory=1e3 * t_batch / n,
               batch_max_error=float(np.abs(E_batch[:subset] - ref).max()),
               batch_nonfinite=int((~np.isfinite(E_batch)).sum()),
               speedup_batch=row["loop_seconds_scaled"] / t_batch,
               speedup_batch_cpu=row["loop_cpu_seconds_scaled"] / c_batch)
    if has_exact:
        # the two vectorised integrators over all n points
        row["batch_vs_exact_max"] = None
    if has_exact:
        # first call compiles the closed forms (lambdify, sympy.solve): a one-off set-up cost,
        # reported separately and kept out of the per-point timing
        _, t_setup, _ = timed(lambda: batch(ds, Y0[:2], *args, method="exact", **kw))
        row["exact_setup_seconds"] = t_setup
        m = n if exact_points is None else min(n, exact_points)
        step = m if exact_chunk is None else exact_chunk
        E_exact, t_exact, c_exact = timed(lambda: np.vstack([batch(ds, Y0[i:i + step], *args,
                                                          method="exact", **kw)
                                                    for i in range(0, m, step)]))
        t_scaled = t_exact * n / m
        row.update(exact_points_timed=m, exact_chunk=step, exact_seconds_scaled=t_scaled,
                   exact_cpu_seconds_scaled=c_exact * n / m,
                   speedup_exact_cpu=row["loop_cpu_seconds_scaled"] / (c_exact * n / m),
                   exact_max_error=float(np.abs(E_exact[:subset] - ref).max()),
                   exact_nonfinite=int((~np.isfinite(E_exact)).sum()),
                   batch_vs_exact_max=float(np.abs(E_exact - E_batch[:m]).max()),
                   speedup_exact=row["loop_seconds_scaled"] / t_scaled)
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="initial points per case")
    parser.add_argument("--subset", type=int, default=16,
                        help="points for the per-trajectory loop and the reference")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--obtuse-exact-points", type=int, default=1000,
                        help="points on which the obtuse exact score flow is timed (then scaled): "
                             "its cost grows faster than linearly with the batch size")
    parser.add_argument("--obtuse-exact-chunk", type=int, default=100,
                        help="batch size for the obtuse exact score flow")
    parser.add_argument("--out", default=str(Path(__file__).with_name("bench_flows.json")))
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    orth = orthogonal_dataset(rng)
    obt = obtuse_dataset(rng)
    Y_orth = initial_points(rng, orth, args.n)
    Y_obt = initial_points(rng, obt, args.n)
    rmin_o = min(float(r) for r in orth.r)
    rmin_b = min(float(r) for r in obt.r)
    cases = [
        ("orthogonal d=N=30", orth, "probability", {"c": 0.3, "sigma_max": 0.5 * rmin_o,
                                                     "model": "exact"}, Y_orth, True),
        ("orthogonal d=N=30", orth, "score", {"rho": 0.15 * rmin_o, "model": "exact"}, Y_orth,
         True),
        ("obtuse d=20 N=10", obt, "score", {"rho": 0.15 * rmin_b, "model": "exact"}, Y_obt, True,
         args.obtuse_exact_points, args.obtuse_exact_chunk),
        ("obtuse d=20 N=10", obt, "probability", {"c": 0.3, "sigma_max": 0.5 * rmin_b,
                                                   "model": "exact"}, Y_obt, False),
    ]
    rows = []
    t0 = time.perf_counter()
    for name, ds, flow, params, Y0, has_exact, *exact_opts in cases:
        row = run_case(name, ds, flow, params, Y0, args.subset, has_exact, *exact_opts)
        rows.append(row)
        line = (f"{name:18s} {flow:11s} loop {row['loop_ms_per_trajectory']:7.1f} ms/traj "
                f"(scaled {row['loop_seconds_scaled']:6.0f} s, err {row['loop_max_error']:.1e}, "
                f"path {row['loop_path_max_error']:.1e}) | "
                f"batch {row['batch_seconds_scaled']:7.1f} s err {row['batch_max_error']:.1e} "
                f"x{row['speedup_batch']:.0f}")
        if has_exact:
            line += (f" | exact {row['exact_seconds_scaled']:7.3f} s err {row['exact_max_error']:.1e} "
                     f"path {row['exact_path_max_error']:.1e} "
                     f"x{row['speedup_exact']:.0f} | batch vs exact {row['batch_vs_exact_max']:.1e}")
        line += f" | CPU ratios x{row['speedup_batch_cpu']:.0f}"
        if has_exact:
            line += f" / x{row['speedup_exact_cpu']:.0f}"
        print(line, flush=True)
    total = time.perf_counter() - t0
    print(f"total wall time {total:.1f} s")
    out = {"machine": platform.platform(), "python": platform.python_version(),
           "seed": args.seed, "total_seconds": total, "cases": rows}
    Path(args.out).write_text(json.dumps(out, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
