"""Benchmark of large inputs (docs/numerics.md "Large data").  A script, not a test:

    python bench/bench_large.py [--sizes 300 1000 2000] [--n 10000] [--out bench/bench_large.json]

For orthogonal data with ``d = N`` in ``--sizes`` (random rotation, radii in [1, 2], random apex)
it times, with the peak of the memory NumPy and Python allocate (``tracemalloc``):

* **dataset build** -- ``theory.datasets.from_json`` on the parsed file (float validation in
  NumPy: spread-relative duplicates, Gram cosines, scaled norms) and the compiled denoiser;
* **10,000 endpoints** -- ``score_flow_batch`` (exact, ``tau -> oo``, ``rho = 0.1``) and
  ``probability_flow_batch`` (exact, ``c = 0.1``, ``sigma_max = 1``, ``sigma_min = 0``), and the
  classes of the endpoints (every one must be a training or virtual point);

with two baselines measured in the same run: the **old validation path** (SymPy numbers for every
coordinate, SymPy dot products for the cosines, an mpmath SVD; ``O(N^2 d)`` SymPy operations) at
``d = N`` in ``--old-sizes``, next to the new path at the same sizes; and the **per-trajectory**
``score_flow`` loop (the ``flows endpoint`` path) on ``--subset`` points, scaled to ``--n``.

Then the **l-infinity distance** of points to an equilateral triangle's edges embedded in
``d = --linf-d`` (``flows classify --norm linf``): the new bisection (``O(n d)`` memory) against
the old enumeration of every pair of coordinates (``O(n d^3)`` memory: 7.5 GB at d = 1000, so it
runs at ``--linf-old-sizes`` on ``--linf-old-n`` points only, next to the new one on the same
points), with the largest disagreement between the two.

BLAS runs single-threaded (as in bench_flows.py: reproducible on a shared machine).  Progress on
stderr; results printed and written as JSON.
"""
from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from itertools import combinations  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from numerics.classify import CLASSES, classify  # noqa: E402
from numerics.evaluate import compile_denoiser  # noqa: E402
from numerics.flows import probability_flow_batch, score_flow, score_flow_batch  # noqa: E402
from numerics.geometry import EDGES, linf_segment_distances  # noqa: E402
from theory.datasets import from_json  # noqa: E402

RHO, C, SIGMA_MAX = 0.1, 0.1, 1.0


def log(msg: str) -> None:
    print(f"[bench_large] {msg}", file=sys.stderr, flush=True)


def measured(fn):
    """``(result, seconds, peak MB)`` of ``fn()``."""
    tracemalloc.start()
    start = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return out, seconds, peak


def orthogonal_points(rng, d: int) -> list:
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    radii = rng.uniform(1.0, 2.0, size=d)
    x0 = rng.normal(size=d)
    return np.vstack([x0, x0 + Q * radii[:, None]]).tolist()  # offsets: rows r_n q_n


def initial_points(rng, geo, n: int) -> np.ndarray:
    """Box coordinates uniform in [-0.25, 1.25]: every piece occurs."""
    return geo.origin + rng.uniform(-0.25, 1.25, size=(n, geo.X.shape[0])) @ geo.X


# -- the old validation path (SymPy), as a baseline ------------------------------------------------
def old_sympy_validation(points) -> None:
    """The validation of float orthogonal data before NumPy: every coordinate a SymPy Float,
    offsets, lengths and unit vectors in SymPy, every pairwise cosine a SymPy dot product, the
    rank from an mpmath SVD."""
    import mpmath
    import sympy as sp
    P = [sp.Matrix([sp.Float(float(v), 17) for v in p]) for p in points]
    scale = max(float(sp.sqrt(p.dot(p))) for p in P)
    for i, j in combinations(range(len(P)), 2):  # coinciding points
        if all(abs(float(x)) <= 1e-9 * scale for x in P[i] - P[j]):
            raise ValueError("duplicate")
    off = [p - P[0] for p in P[1:]]
    r = [sp.Float(math.sqrt(float(v.dot(v))), 17) for v in off]
    u = [v / rr for v, rr in zip(off, r)]
    for i, j in combinations(range(len(u)), 2):
        if abs(float(u[i].dot(u[j]))) > 1e-9:
            raise ValueError("not orthogonal")
    M = sp.Matrix.hstack(*u)
    mpmath.svd_r(mpmath.matrix(M.evalf().tolist()), compute_uv=False)


def old_linf_edge_distance(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """The former l-infinity edge distance: every breakpoint of every pair of coordinates as a
    candidate (an ``(n, d^2, d)`` array)."""
    best = np.full(Y.shape[0], np.inf)
    for i, j in EDGES:
        a, D = P[i - 1], P[j - 1] - P[i - 1]
        Z = Y - a
        cands = [np.zeros((Y.shape[0], 1)), np.ones((Y.shape[0], 1))]
        nz = np.flatnonzero(D)
        for k in nz:
            cands.append((Z[:, k] / D[k])[:, None])
        for p in nz:
            for q in nz:
                if p < q:
                    for sgn in (1.0, -1.0):
                        den = D[p] - sgn * D[q]
                        if den != 0.0:
                            cands.append(((Z[:, p] - sgn * Z[:, q]) / den)[:, None])
        T = np.clip(np.hstack(cands), 0.0, 1.0)
        F = np.max(np.abs(Z[:, None, :] - T[..., None] * D), axis=2)
        best = np.minimum(best, F.min(axis=1))
    return best


def triangle_in(rng, d: int) -> np.ndarray:
    Q, _ = np.linalg.qr(rng.normal(size=(d, 2)))
    tri = np.array([[1.0, 0.0], [-0.5, math.sqrt(3) / 2], [-0.5, -math.sqrt(3) / 2]])
    return tri @ Q.T + rng.normal(size=d)


def new_linf_edge_distance(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    A = np.array([P[i - 1] for i, _ in EDGES])
    B = np.array([P[j - 1] for _, j in EDGES])
    return linf_segment_distances(Y, A, B).min(axis=1)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[300, 1000, 2000])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--subset", type=int, default=20, help="points of the per-trajectory loop")
    ap.add_argument("--old-sizes", type=int, nargs="+", default=[20, 40, 60])
    ap.add_argument("--linf-d", type=int, default=1000)
    ap.add_argument("--linf-n", type=int, default=100)
    ap.add_argument("--linf-old-sizes", type=int, nargs="+", default=[50, 100, 200])
    ap.add_argument("--linf-old-n", type=int, default=5,
                    help="points at the old path's sizes (it needs ~16 d^3 bytes per point)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(Path(__file__).with_name("bench_large.json")))
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    t_all = time.perf_counter()
    report = {"machine": platform.platform(), "python": platform.python_version(),
              "numpy": np.__version__, "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
              "seed": args.seed, "n_points": args.n, "rho": RHO, "c": C, "sigma_max": SIGMA_MAX,
              "build_old_vs_new": [], "large": [], "linf": []}

    # warm-up (imports, the closed forms' one-time lambdify) so that no timing below includes it
    small = from_json({"kind": "orthogonal", "points": orthogonal_points(rng, 3)})
    score_flow_batch(small, initial_points(rng, small.float_geometry, 4), RHO)
    probability_flow_batch(small, initial_points(rng, small.float_geometry, 4), c=C,
                           sigma_max=SIGMA_MAX)
    old_sympy_validation(orthogonal_points(rng, 3))

    # 1. the old validation path against the new one, at sizes the old one can reach
    for d in args.old_sizes:
        pts = orthogonal_points(rng, d)
        log(f"old vs new validation, d = N = {d}")
        _, old_s, old_mb = measured(lambda: old_sympy_validation(pts))
        _, new_s, new_mb = measured(lambda: from_json({"kind": "orthogonal", "points": pts}))
        report["build_old_vs_new"].append({"d": d, "N": d, "old_seconds": old_s,
                                           "old_peak_mb": old_mb, "new_seconds": new_s,
                                           "new_peak_mb": new_mb, "speedup": old_s / new_s})

    # 2. large orthogonal data: build and 10,000 endpoints of both flows
    for d in args.sizes:
        pts = orthogonal_points(rng, d)
        text = json.dumps({"kind": "orthogonal", "points": pts})
        log(f"d = N = {d}: parse the file ({len(text) / 1e6:.0f} MB) and build the dataset")
        data, parse_s, _ = measured(lambda: json.loads(text))
        ds, build_s, build_mb = measured(lambda: from_json(data))
        cd, compile_s, _ = measured(lambda: compile_denoiser(ds))
        geo = ds.float_geometry
        Y0 = initial_points(rng, geo, args.n)
        case = {"d": d, "N": d, "file_mb": len(text) / 1e6, "json_parse_seconds": parse_s,
                "build_seconds": build_s, "build_peak_mb": build_mb,
                "compile_seconds": compile_s, "input_mb": Y0.nbytes / 1e6}
        log(f"d = N = {d}: {args.n} score-flow endpoints")
        E, case["score_seconds"], case["score_peak_mb"] = measured(
            lambda: score_flow_batch(ds, Y0, RHO))
        cls = [c.cls for c in classify(ds, E)]
        case["score_classes"] = {k: cls.count(k) for k in CLASSES}
        log(f"d = N = {d}: {args.n} probability-flow endpoints")
        E, case["probability_seconds"], case["probability_peak_mb"] = measured(
            lambda: probability_flow_batch(ds, Y0, c=C, sigma_max=SIGMA_MAX))
        cls = [c.cls for c in classify(ds, E)]
        case["probability_classes"] = {k: cls.count(k) for k in CLASSES}
        log(f"d = N = {d}: per-trajectory score_flow on {args.subset} points")
        sub = Y0[:args.subset]
        ends, loop_s, _ = measured(lambda: np.array([score_flow(ds, y, RHO).endpoint
                                                      for y in sub]))
        case["loop_seconds_scaled"] = loop_s * args.n / args.subset
        case["loop_vs_batch"] = case["loop_seconds_scaled"] / case["score_seconds"]
        case["loop_vs_batch_max_difference"] = float(np.max(np.abs(
            ends - score_flow_batch(ds, sub, RHO))))
        report["large"].append(case)
        log(f"d = N = {d}: build {build_s:.2f} s, score {case['score_seconds']:.1f} s, "
            f"probability {case['probability_seconds']:.1f} s")

    # 3. the l-infinity distance to a triangle's edges
    for d in sorted(set(args.linf_old_sizes + [args.linf_d])):
        P = triangle_in(rng, d)
        n_pts = args.linf_old_n if d in args.linf_old_sizes else args.linf_n
        Ylinf = P.mean(axis=0) + rng.normal(size=(n_pts, d))
        log(f"l-infinity edge distance, d = {d}")
        new, new_s, new_mb = measured(lambda: new_linf_edge_distance(P, Ylinf))
        row = {"d": d, "n_points": n_pts, "new_seconds": new_s, "new_peak_mb": new_mb}
        if d in args.linf_old_sizes:
            old, old_s, old_mb = measured(lambda: old_linf_edge_distance(P, Ylinf))
            row.update(old_seconds=old_s, old_peak_mb=old_mb, speedup=old_s / new_s,
                       memory_ratio=old_mb / new_mb,
                       max_relative_difference=float(np.max(np.abs(old - new) / old)))
        report["linf"].append(row)

    report["total_seconds"] = time.perf_counter() - t_all
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(f"old vs new validation (orthogonal, d = N): "
          + "; ".join(f"d={r['d']}: {r['old_seconds']:.2f} s -> {r['new_seconds'] * 1e3:.1f} ms "
                      f"({r['speedup']:.0f}x)" for r in report["build_old_vs_new"]))
    for c in report["large"]:
        print(f"d = N = {c['d']}: build {c['build_seconds']:.2f} s (peak {c['build_peak_mb']:.0f} "
              f"MB); {args.n} endpoints: score {c['score_seconds']:.1f} s (peak "
              f"{c['score_peak_mb']:.0f} MB), probability {c['probability_seconds']:.1f} s (peak "
              f"{c['probability_peak_mb']:.0f} MB); per-trajectory loop {c['loop_vs_batch']:.0f}x "
              "slower")
    for r in report["linf"]:
        line = f"l-inf edge distance d={r['d']}: {r['new_seconds'] * 1e3:.1f} ms, " \
               f"peak {r['new_peak_mb']:.1f} MB"
        if "old_seconds" in r:
            line += (f"; old {r['old_seconds']:.2f} s, peak {r['old_peak_mb']:.0f} MB "
                     f"({r['speedup']:.0f}x time, {r['memory_ratio']:.0f}x memory, "
                     f"max rel. difference {r['max_relative_difference']:.1e})")
        print(line)
    print(f"total {report['total_seconds']:.0f} s; written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
