"""Benchmark of the training protocols (training/, docs/training.md).  A script, not a test:

    python bench/bench_training.py [--quick] [--out bench/bench_training.json]

(1) Fig. 1's denoiser: N = d = 30 orthonormal points (``x_0 = 0``, ``x_n = e_n``), ball radius
``rho = 0.2``, ``M = 20`` uniform samples per point plus the centre, default width
``K = 4 * 31``, trained to ``residual_max <= 1e-3`` -- wall time, CPU time, iterations, residual,
costs and cost ratio for every protocol (``al`` with each inner solver, ``adam``, ``adam-wd``,
``dropout``; the last two do not interpolate by design and run their whole step budget).

(2) A stack of 16 levels (``sigma_i`` evenly spaced in ``[0.05, 0.2]``, ``c = 1``) trained with a
fixed budget (the tolerance is set unreachable so every level does the same work) three ways:
one level alone, the 16 levels vectorised (``train_stack``), and the 16 levels in a per-level
Python loop (``vectorise=False``); the ratios vectorised / one level and loop / vectorised.

``--quick``: N = d = 6 and small budgets (under a minute).  The machine's load average is
recorded in the JSON (the reference machine is shared; CPU seconds are the robust figure).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from numerics.experiments._data import orthonormal_dataset  # noqa: E402
from training import train_denoiser, train_stack  # noqa: E402
from training.api import versions  # noqa: E402

#: The benchmark's residual target, relative to r = 1: Fig. 1's denoiser fitted to 1e-3 of its scale.
TARGET = 1e-3
RHO = 0.2
SAMPLES = 20

FULL = {"N": 30, "protocols": {"al-adam": {"protocol": "al", "inner": "adam"},
                               "al-lbfgs": {"protocol": "al", "inner": "lbfgs"},
                               "adam": {"protocol": "adam"},
                               "adam-wd": {"protocol": "adam-wd"},
                               "dropout": {"protocol": "dropout"}},
        "stack": {"levels": 16, "outer_steps": 3, "inner_steps": 200}}
QUICK = {"N": 6, "protocols": {"al-adam": {"protocol": "al", "inner": "adam"},
                               "al-lbfgs": {"protocol": "al", "inner": "lbfgs"},
                               "adam": {"protocol": "adam", "steps": 4000},
                               "adam-wd": {"protocol": "adam-wd", "steps": 4000},
                               "dropout": {"protocol": "dropout", "steps": 4000}},
         "stack": {"levels": 16, "outer_steps": 2, "inner_steps": 100}}


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(Path(__file__).with_name("bench_training.json")))
    args = ap.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    ds = orthonormal_dataset(cfg["N"])
    load0 = os.getloadavg()
    rows = []
    for name, kw in cfg["protocols"].items():
        res, wall, cpu = timed(lambda: train_denoiser(
            ds, rho=RHO, samples=SAMPLES, seed=args.seed, tolerance=TARGET,
            progress_seconds=30.0, **kw))
        r = res.report
        rows.append({"case": name, **kw, "wall_seconds": wall, "cpu_seconds": cpu,
                     "train_seconds": r["seconds"], "iterations": r["iterations"],
                     "residual_max": r["residual_max"], "converged": r["converged"],
                     "weight_cost": r["weight_cost"], "representation_cost":
                     r["representation_cost"], "closed_form_cost": r["closed_form_cost"],
                     "cost_ratio": r["representation_cost"] / r["closed_form_cost"],
                     "hyperparameters": r["hyperparameters"]})
        print(f"{name:>9}: {wall:8.1f} s wall {cpu:8.1f} s CPU  iterations {r['iterations']:>6}  "
              f"residual {r['residual_max']:.2e}  cost ratio {rows[-1]['cost_ratio']:.4f}  "
              f"{'converged' if r['converged'] else 'NOT converged'}", flush=True)
    st = cfg["stack"]
    sig = list(np.linspace(0.05, RHO, st["levels"]))
    kw = dict(c=1.0, samples=SAMPLES, seed=args.seed, tolerance=1e-300, progress=False,
              outer_steps=st["outer_steps"], inner_steps=st["inner_steps"])
    train_stack(ds, sig[:1], **kw)  # warm-up: the timings below exclude nothing else
    _, t_one, c_one = timed(lambda: train_stack(ds, sig[-1:], **kw))
    _, t_vec, c_vec = timed(lambda: train_stack(ds, sig, **kw))
    _, t_loop, c_loop = timed(lambda: train_stack(ds, sig, vectorise=False, **kw))
    stack = {"levels": st["levels"], "sigmas": sig, "c": 1.0, "outer_steps": st["outer_steps"],
             "inner_steps": st["inner_steps"], "one_level_seconds": t_one,
             "vectorised_seconds": t_vec, "loop_seconds": t_loop, "one_level_cpu": c_one,
             "vectorised_cpu": c_vec, "loop_cpu": c_loop,
             "vectorised_over_one_level": t_vec / t_one, "loop_over_vectorised": t_loop / t_vec,
             "note": "every timing includes its program's JIT compilation; the per-level loop "
                     "compiles one program per level, as a user's loop over train_denoiser would"}
    print(f"stack of {st['levels']}: one level {t_one:.1f} s, vectorised {t_vec:.1f} s "
          f"({t_vec / t_one:.2f}x one level), per-level loop {t_loop:.1f} s "
          f"({t_loop / t_vec:.2f}x vectorised)")
    out = {"benchmark": "training", "quick": args.quick, "N": cfg["N"], "d": cfg["N"],
           "rho": RHO, "samples": SAMPLES, "target_residual": TARGET, "seed": args.seed,
           "protocols": rows, "stack": stack, "load_average_start": list(load0),
           "load_average_end": list(os.getloadavg()), "cpu_count": os.cpu_count(),
           "machine": platform.platform(), "versions": versions()}
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
