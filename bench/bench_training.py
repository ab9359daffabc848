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

(3) ``--stacks DIR``: the stacks the trained Fig. 2 experiments cached in ``DIR`` (their
``--cache-dir``; numerics/experiments/_fig2.py).  For every stack file: levels, width, points,
samples, protocol and the training time recorded when it was trained; for the largest one
(points x width x levels) the speed of the Euler probability flow (eq. 20) of 500 starts over
all its levels -- the vectorised batch (:func:`numerics.experiments._fig2.timed_euler_flow`)
against the naive baseline, one start at a time through the levels (each the best of
:data:`REPEATS` runs).  Only this section runs, and it is merged into the existing JSON (key
``fig2_stacks``).  On a shared machine run it with ``OPENBLAS_NUM_THREADS=1``: BLAS threads
competing with other jobs' threads can make the batched products slower than the single-point
ones.
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

#: Timings of section (3) are the best of this many runs.
REPEATS = 3
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


def _pairs(groups: dict) -> list:
    """Each Gaussian file with a ball file of its group whose levels all lie below its own (one
    mixed stack); every other file alone."""
    out = []
    for files in groups.values():
        balls = [p for p in files if p[1].metadata["noise"] == "ball"]
        for p in files:
            if p[1].metadata["noise"] != "gaussian":
                continue
            low = min(p[1].sigmas)
            mate = next((b for b in balls if max(b[1].sigmas) < low), None)
            if mate is not None:
                balls.remove(mate)
            out.append([p] if mate is None else [p, mate])
        out.extend([b] for b in balls)
    return out


def fig2_stacks(cache_dir: Path, n_points: int = 500, seed: int = 0) -> dict:
    """Section (3) of the module docstring.  A stack of the experiments may be two files (the
    Gaussian levels outside the low-noise regime and the ball levels inside it, noise
    ``"mixed"``): files with the same data, protocol, hyper-parameters, seed, width and samples
    are one stack, its training time their sum."""
    from numerics.experiments import _fig2
    from numerics.network import NetworkStack, load_network
    files = sorted(Path(cache_dir).glob("stack-*.npz"))
    if not files:
        raise SystemExit(f"bench_training: error: no stack-*.npz files in {cache_dir}")
    groups: dict = {}
    for f in files:
        st = load_network(f)
        m = st.metadata
        key = json.dumps([m["data"], m["protocol"], m["hyperparameters"], m["seed"],
                          st.networks[0].K, m["samples"]], sort_keys=True)
        groups.setdefault(key, []).append((f, st))
    rows, stacks = [], []
    for parts in _pairs(groups):
        m = parts[0][1].metadata
        sig = np.concatenate([st.sigmas for _, st in parts])
        nets = [n for _, st in parts for n in st.networks]
        order = np.argsort(-sig)
        stack = NetworkStack(sig[order], tuple(nets[i] for i in order), m)
        rows.append({"files": [f.name for f, _ in parts], "levels": stack.levels,
                     "width": nets[0].K, "points": len(m["data"]["points"]), "d": stack.d,
                     "samples": m["samples"], "noise": [st.metadata["noise"] for _, st in parts],
                     "protocol": m["protocol"], "hyperparameters": m["hyperparameters"],
                     "training_seconds": sum(st.metadata["seconds"] for _, st in parts),
                     "training_seconds_per_file": [st.metadata["seconds"] for _, st in parts]})
        stacks.append(stack)
    k = max(range(len(rows)), key=lambda i: rows[i]["points"] * rows[i]["width"] *
            rows[i]["levels"])
    big, st = rows[k], stacks[k]
    Y0 = _fig2.initial_points(seed, n_points, st.d, 10.0)
    _fig2.timed_euler_flow(st, Y0[:5])  # warm-up (BLAS threads, caches)
    # best of REPEATS: on a shared machine the minimum is the run least disturbed by others
    runs = [_fig2.timed_euler_flow(st, Y0) for _ in range(REPEATS)]
    Y, fast = min(runs, key=lambda r: r[1]["seconds"])
    naive = np.inf
    for _ in range(REPEATS):
        wall = time.perf_counter()
        Y1 = np.vstack([_fig2.euler_flow(st.denoise_at, st.sigmas, y[None]) for y in Y0])
        naive = min(naive, time.perf_counter() - wall)
    assert np.allclose(Y, Y1, rtol=0, atol=1e-9), "batch and one-at-a-time flows differ"
    euler = {"stack": big["files"], "points": n_points, "levels": st.levels,
             "batch_seconds": fast["seconds"], "batch_points_per_second":
             fast["points_per_second"], "batch_point_levels_per_second":
             fast["point_levels_per_second"], "one_at_a_time_seconds": naive,
             "one_at_a_time_points_per_second": n_points / naive,
             "batch_speedup": naive / fast["seconds"]}
    print(f"{len(rows)} cached stacks; largest: {big['levels']} levels, K = {big['width']}, "
          f"{big['points']} points, {big['protocol']}, trained in "
          f"{big['training_seconds']:.0f} s; Euler flow of {n_points} starts: "
          f"{fast['points_per_second']:.0f} points/s batched, {n_points / naive:.0f} points/s "
          f"one at a time ({naive / fast['seconds']:.1f}x)")
    return {"cache_dir": str(cache_dir), "stacks": rows, "largest": big, "euler": euler,
            "repeats": REPEATS, "load_average": list(os.getloadavg()),
            "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS")}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(Path(__file__).with_name("bench_training.json")))
    ap.add_argument("--stacks", default=None, metavar="DIR",
                    help="only section (3): the stacks cached in DIR by the trained Fig. 2 "
                         "experiments, merged into --out")
    args = ap.parse_args(argv)
    if args.stacks is not None:
        path = Path(args.out)
        old = json.loads(path.read_text()) if path.exists() else {"benchmark": "training"}
        old["fig2_stacks"] = fig2_stacks(Path(args.stacks), seed=args.seed)
        path.write_text(json.dumps(old, indent=1) + "\n")
        print(f"wrote {args.out}")
        return 0
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
