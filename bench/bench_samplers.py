"""Benchmark of the generic samplers (docs/models.md).  A script, not a test:

    python bench/bench_samplers.py [--n 10000] [--subset 20] [--out bench/bench_samplers.json]

Empirical-score probability flow (``numerics.models`` ``empirical``) on ``M = 1000`` training
points in ``d = 100`` (i.i.d. standard normal, seed recorded), ``--n`` samples started from
``N(0, sigma_max^2 I)``, 100 Euler steps (eq. 20) on the geometric grid from ``sigma_max = 80``
to ``sigma_min = 0.002``:

* (a) the batch sampler :func:`numerics.samplers.euler_sampler` on all ``--n`` samples: one
  denoiser evaluation per step on the whole batch;
* (b) a per-sample loop (the same sampler called on one sample at a time), timed on the first
  ``--subset`` samples and extrapolated linearly to ``--n`` (the per-sample cost does not depend
  on the sample).

It reports both times, the speed ratio (b)/(a), and the largest difference between (a) and (b)
on the subset (both are the same arithmetic, so it is rounding only).  Targets: ratio >= 100,
(a) under 10 s.
"""
from __future__ import annotations

import os

# single-threaded BLAS by default (set OPENBLAS_NUM_THREADS to override): the per-sample loop is
# single-threaded, and idle BLAS threads spinning on a shared machine distort both timings
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

from numerics.models import make_denoiser  # noqa: E402
from numerics.samplers import euler_sampler  # noqa: E402
from numerics.schedules import geometric_sigmas  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--subset", type=int, default=20)
    p.add_argument("--M", type=int, default=1000)
    p.add_argument("--d", type=int, default=100)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(Path(__file__).with_name("bench_samplers.json")))
    a = p.parse_args(argv)
    rng = np.random.default_rng(a.seed)
    X = rng.standard_normal((a.M, a.d))
    D = make_denoiser("empirical", X)
    smax, smin = 80.0, 0.002
    grid = geometric_sigmas(smax, smin, a.steps + 1)
    Y0 = smax * rng.standard_normal((a.n, a.d))

    t0 = time.perf_counter()
    Yb = euler_sampler(D, Y0, grid)
    t_batch = time.perf_counter() - t0
    print(f"batch: {a.n} samples, {a.steps} Euler steps: {t_batch:.2f} s", file=sys.stderr)

    t0 = time.perf_counter()
    Yl = np.array([euler_sampler(D, y, grid) for y in Y0[:a.subset]])
    t_sub = time.perf_counter() - t0
    t_loop = t_sub * a.n / a.subset
    diff = float(np.max(np.abs(Yl - Yb[:a.subset])))
    res = {
        "benchmark": "empirical-score probability flow, Euler (eq. 20)",
        "M": a.M, "d": a.d, "n_samples": a.n, "steps": a.steps, "sigma_max": smax,
        "sigma_min": smin, "seed": a.seed,
        "batch_seconds": t_batch,
        "loop_subset": a.subset, "loop_subset_seconds": t_sub,
        "loop_seconds_extrapolated": t_loop,
        "speedup": t_loop / t_batch,
        "max_abs_difference_on_subset": diff,
        "targets": {"speedup": 100, "batch_seconds": 10},
        "targets_met": {"speedup": t_loop / t_batch >= 100, "batch_seconds": t_batch < 10},
        "memorized_fraction": float(np.mean(np.linalg.norm(
            Yb - D.X[np.argmin(((Yb[:, None, :] - D.X[None]) ** 2).sum(-1), axis=1)],
            axis=1) <= 1e-2)) if a.n <= 2000 else None,
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "machine": {"python": platform.python_version(), "numpy": np.__version__,
                    "processor": platform.processor() or platform.machine()},
    }
    print(json.dumps(res, indent=2))
    Path(a.out).write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
