"""Geometry of flow endpoints: the hyperbox, its boundary, its vertices, chords and triangle edges
(docs/math.md §5 "Thm 4.3", §6; paper §4-§5, App. B, App. E).

For a ridge dataset (orthogonal data, obtuse simplex) the **hyperbox** is the parallelotope

    B = { x_0 + sum_n lam_n (x_n - x_0) : lam in [0, 1]^N }

spanned from the apex by the offsets.  Its **vertices** are the partial sums
``x_0 + sum_{n in S} (x_n - x_0)`` (``S`` a subset of ``1..N``, 1-based as in the paper; ``()`` is
``x_0``): the training points (``|S| <= 1``) and the "virtual points" (``|S| >= 2``).  Its
**boundary** is the relative boundary: the points of ``B`` with some ``lam_n in {0, 1}``
(docs/math.md §5; for ``N < d`` the box has no interior in ``R^d``, and this is the meaningful
notion).

Two norms are supported, ``"l2"`` and ``"linf"`` (App. E uses both for its thresholds).

How each quantity is computed (all vectorised over a batch ``Y`` of shape ``(n, d)``):

* **l2 closest point.**  Orthogonal data: clip the dual coordinates ``lam = W (y - x_0)`` to
  ``[0, 1]`` (exact: the box is a product of orthogonal intervals).  Other data: points whose
  ``lam`` already lies in ``[0, 1]^N`` are projected directly; the rest are solved by bounded least
  squares (:func:`scipy.optimize.lsq_linear`, method ``bvls``: an exact active-set method).
* **l2 distance to the boundary.**  If ``lam`` (the dual coordinates of the projection onto the
  affine span) leaves ``[0, 1]^N``, the closest box point is on the boundary and the distance is
  ``dist(y, B)``; otherwise it is ``sqrt(|y_perp|^2 + min_n min(lam_n, 1 - lam_n)^2 / |w_n|^2)``
  (for a convex polytope an interior point's distance to the boundary is its distance to the
  nearest facet hyperplane; ``w_n`` is the dual vector, ``|w_n| = 1/r_n`` for orthogonal data, so
  this is docs/math.md §5's ``sqrt(|y_perp|^2 + min_n min(t_n, r_n - t_n)^2)``).
* **l-infinity.**  If every offset lies along one coordinate axis (the paper's experiments:
  scaled standard basis vectors), the box is a product of coordinate intervals and every distance
  is a per-coordinate computation.  Otherwise the distance to the box (or to one facet) is a small
  linear program solved with HiGHS (one LP per point, ``2N`` per point for the boundary).
* **Nearest vertex.**  Exact by rounding ``lam`` at ``1/2`` when the distance is separable
  (orthogonal data in l2, axis-aligned data in either norm); exact by enumeration of all ``2^N``
  vertices when ``N <= MAX_ENUMERATE_N``; otherwise rounding followed by single-flip descent,
  which is exact whenever ``|y - v*|_2 < sigma_min(X)/2`` (then ``|lam - 1_S*|_inf < 1/2``, so
  rounding already lands on ``v*``): in particular at every classification threshold.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import product

import numpy as np
from scipy.optimize import linprog, lsq_linear

from theory.datasets import Dataset, EquilateralTriangle, RidgeDataset, check_subset
from theory.errors import ArgumentTypeError
from theory.floats import scaled_norms

from .validation import as_batch, check_choice, check_dataset, describe

NORMS = ("l2", "linf")

#: Largest ``N`` for which :func:`nearest_vertex` enumerates all ``2^N`` vertices (16384 vertices;
#: beyond it rounding + descent, exact at classification distances, see the module docstring).
MAX_ENUMERATE_N = 14

#: ``lsq_linear`` stopping tolerance.  BVLS terminates on an exact active set; the tolerance only
#: guards its final least-squares solve, and 1e-14 keeps the residual at float64 level.
LSQ_TOL = 1e-14

#: Relative slack when deciding ``0 <= lam <= 1`` for the unconstrained projection: dual
#: coordinates of float64 data carry ~1e-15 relative rounding, 1e-13 leaves a safety factor.
LAM_SLACK = 1e-13

#: Triangle edges, as 1-based pairs of vertex indices (column order of :func:`distance_to_edges`).
EDGES = ((1, 2), (2, 3), (1, 3))


def check_norm(norm: str) -> str:
    """Return ``norm`` if it is ``"l2"`` or ``"linf"``, else raise
    :class:`~theory.errors.UnknownChoiceError` (a ``ValueError``)."""
    return check_choice(norm, "norm", NORMS)


def _vector_norm(V: np.ndarray, norm: str, axis: int = -1) -> np.ndarray:
    """l2 (scaled: :func:`theory.floats.scaled_norms`, no spurious over- or underflow) or
    l-infinity norms along ``axis``."""
    if norm == "l2":
        return scaled_norms(V, axis)
    A = np.abs(V)
    if A.shape[axis] == 0:
        return np.zeros(np.delete(A.shape, axis))
    return np.max(A, axis=axis)


def vertex_mask(subset, N: int) -> np.ndarray:
    """Box coordinates (0/1, shape ``(N,)``) of the vertex with 1-based index set ``subset``:
    distinct integers in ``1..N`` (:func:`theory.datasets.check_subset`)."""
    lam = np.zeros(N)
    lam[np.array(check_subset(subset, N), dtype=int) - 1] = 1.0
    return lam


@dataclass(frozen=True)
class Hyperbox:
    """Float geometry of a ridge dataset's hyperbox.

    ``origin`` ``x_0`` (d,); ``X`` rows ``x_n - x_0`` (N, d); ``r`` (N,); ``U`` rows ``u_n`` (N, d);
    ``W`` dual rows ``w_n`` (``w_n . (x_m - x_0) = delta_nm``, ``w_n`` in the span) (N, d);
    ``dual_norms`` ``|w_n|``; ``orthogonal``; ``axes`` the coordinate of each offset when every
    offset lies along one axis (else ``None``); ``sigma_min`` the smallest singular value of ``X``.
    """

    origin: np.ndarray
    X: np.ndarray
    r: np.ndarray
    U: np.ndarray
    W: np.ndarray
    dual_norms: np.ndarray
    orthogonal: bool
    axes: np.ndarray | None

    @cached_property
    def sigma_min(self) -> float:
        """Smallest singular value of ``X`` (computed on first use: ``O(N^2 d)``)."""
        return float(np.linalg.svd(self.X, compute_uv=False).min())

    @property
    def N(self) -> int:
        return self.X.shape[0]

    @property
    def d(self) -> int:
        return self.X.shape[1]

    def point(self, lam: np.ndarray) -> np.ndarray:
        """``x_0 + lam X`` for dual coordinates ``lam`` of shape ``(..., N)``."""
        return self.origin + lam @ self.X

    def coordinates(self, Y: np.ndarray) -> np.ndarray:
        """Dual coordinates ``lam = W (y - x_0)`` of the projection onto the affine span, (n, N)."""
        return (Y - self.origin) @ self.W.T

    def vertex(self, subset) -> np.ndarray:
        """The vertex ``x_0 + sum_{n in S}(x_n - x_0)`` (1-based ``S``)."""
        return self.point(vertex_mask(subset, self.N))


@lru_cache(maxsize=64)
def _hyperbox(dataset_id: int, dataset: RidgeDataset) -> Hyperbox:
    geo = dataset.float_geometry
    origin, X, r = geo.origin, geo.X, geo.r
    # dual rows w_n = (X X^T)^{-1} X = diag(1/r) (U U^T)^{-1} U: the Gram of the unit directions
    # stays O(1) at any data scale (X X^T overflows from |x| ~ 1e154 on)
    W = np.linalg.solve(geo.U @ geo.U.T, geo.U) / r[:, None]
    nonzero = X != 0.0
    axes = None
    if np.all(nonzero.sum(axis=1) == 1):
        cols = np.argmax(nonzero, axis=1)
        if len(set(cols.tolist())) == len(cols):
            axes = cols
    return Hyperbox(origin=origin, X=X, r=r, U=geo.U, W=W,
                    dual_norms=scaled_norms(W),
                    orthogonal=dataset.kind == "orthogonal", axes=axes)


def hyperbox(dataset: Dataset) -> Hyperbox:
    """The (cached) :class:`Hyperbox` of a ridge dataset (orthogonal data or obtuse simplex)."""
    if not isinstance(dataset, RidgeDataset):
        check_dataset(dataset)
        raise ArgumentTypeError(f"the hyperbox is defined for orthogonal and obtuse data (apex x_0 plus "
                        f"offsets), not for {type(dataset).__name__}")
    return _hyperbox(id(dataset), dataset)


# -- l-infinity helpers ---------------------------------------------------------------------------
def _axis_intervals(box: Hyperbox) -> tuple[np.ndarray, np.ndarray]:
    """Per-coordinate interval ``[lo_j, hi_j]`` of an axis-aligned box (degenerate off the axes)."""
    lo, hi = box.origin.copy(), box.origin.copy()
    for n, j in enumerate(box.axes):
        lo[j] += min(0.0, box.X[n, j])
        hi[j] += max(0.0, box.X[n, j])
    return lo, hi


def _linf_lp(box: Hyperbox, z: np.ndarray, lb: np.ndarray, ub: np.ndarray):
    """``min_lam |z - lam X|_inf`` over ``lb <= lam <= ub`` as an LP in ``(lam, t)``; returns
    ``(distance, lam)``.  HiGHS' default feasibility tolerance (1e-7, relative to the data's scale
    in its scaled model) bounds the error; results are polished by re-evaluating the norm."""
    N, d = box.N, box.d
    # solve in units of the problem's largest entry (same minimiser lam): HiGHS rejects
    # coefficients near float64's range ("Model error") and loses accuracy far from unit scale
    scale = float(max(np.max(np.abs(z)), np.max(np.abs(box.X)), np.finfo(float).tiny))
    ones = np.ones((d, 1))
    Xs = box.X / scale
    A_ub = np.block([[Xs.T, -ones], [-Xs.T, -ones]])
    b_ub = np.concatenate([z, -z]) / scale
    cost = np.zeros(N + 1)
    cost[-1] = 1.0
    bounds = list(zip(lb, ub)) + [(0, None)]
    res = linprog(cost, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if res.status != 0:  # pragma: no cover - a bounded feasible LP always solves
        raise RuntimeError(f"l-infinity distance LP failed: {res.message}")
    lam = np.clip(res.x[:N], lb, ub)
    return float(np.max(np.abs(z - lam @ box.X))), lam


# -- closest point and distance -------------------------------------------------------------------
def hyperbox_closest_point(dataset: Dataset, Y, norm: str = "l2") -> tuple[np.ndarray, np.ndarray]:
    """Closest point of the hyperbox to each row of ``Y`` and its box coordinates ``lam``.

    Returns ``(points (n, d), lam (n, N))`` with ``points = x_0 + lam X``.  In l-infinity the
    closest point need not be unique; one of them is returned.
    """
    check_norm(norm)
    box = hyperbox(dataset)
    Y = as_batch(Y, box.d)
    lam0 = box.coordinates(Y)
    if norm == "l2":
        if box.orthogonal:
            lam = np.clip(lam0, 0.0, 1.0)
        else:
            lam = lam0.copy()
            outside = np.any((lam0 < -LAM_SLACK) | (lam0 > 1 + LAM_SLACK), axis=1)
            lam[~outside] = np.clip(lam0[~outside], 0.0, 1.0)
            for i in np.flatnonzero(outside):
                res = lsq_linear(box.X.T, Y[i] - box.origin, bounds=(0.0, 1.0), method="bvls",
                                 tol=LSQ_TOL)
                lam[i] = np.clip(res.x, 0.0, 1.0)
        return box.point(lam), lam
    if box.axes is not None:
        lo, hi = _axis_intervals(box)
        P = np.clip(Y, lo, hi)
        return P, np.clip(box.coordinates(P), 0.0, 1.0)
    lam = np.empty_like(lam0)
    zeros, ones = np.zeros(box.N), np.ones(box.N)
    for i in range(Y.shape[0]):
        lam[i] = _linf_lp(box, Y[i] - box.origin, zeros, ones)[1]
    return box.point(lam), lam


def distance_to_hyperbox(dataset: Dataset, Y, norm: str = "l2") -> np.ndarray:
    """``dist(y, B)`` for each row of ``Y`` in ``norm``, shape ``(n,)`` (0 inside the box)."""
    box = hyperbox(dataset)
    Y = as_batch(Y, box.d)
    P, _ = hyperbox_closest_point(dataset, Y, norm)
    return _vector_norm(Y - P, norm)


def distance_to_boundary(dataset: Dataset, Y, norm: str = "l2") -> np.ndarray:
    """Distance to the hyperbox's (relative) boundary, ``{x in B : some lam_n in {0, 1}}``
    (docs/math.md §5, Thm 4.3 (ii)); shape ``(n,)``."""
    check_norm(norm)
    box = hyperbox(dataset)
    Y = as_batch(Y, box.d)
    if box.axes is not None:
        return _axis_boundary_distance(box, Y, norm)
    if norm == "l2":
        lam0 = box.coordinates(Y)
        perp = _vector_norm(Y - box.point(lam0), "l2")
        inside = np.all((lam0 >= 0.0) & (lam0 <= 1.0), axis=1)
        facet = np.min(np.minimum(lam0, 1.0 - lam0) / box.dual_norms, axis=1)
        out = np.where(inside, np.hypot(perp, np.where(inside, facet, 0.0)), 0.0)
        if np.any(~inside):
            out[~inside] = distance_to_hyperbox(dataset, Y[~inside], "l2")
        return out
    out = np.full(Y.shape[0], np.inf)
    for i in range(Y.shape[0]):
        z = Y[i] - box.origin
        for n in range(box.N):
            for value in (0.0, 1.0):
                lb, ub = np.zeros(box.N), np.ones(box.N)
                lb[n] = ub[n] = value
                out[i] = min(out[i], _linf_lp(box, z, lb, ub)[0])
    return out


def _axis_boundary_distance(box: Hyperbox, Y: np.ndarray, norm: str) -> np.ndarray:
    """Boundary distance of an axis-aligned box: the minimum over its ``2N`` facets, each a
    product of coordinate intervals (one of them collapsed to an endpoint)."""
    lo, hi = _axis_intervals(box)
    E = np.abs(Y - np.clip(Y, lo, hi))  # per-coordinate distance to the box's intervals
    best = np.full(Y.shape[0], np.inf)
    for n, j in enumerate(box.axes):
        for end in (box.origin[j], box.origin[j] + box.X[n, j]):
            F = E.copy()
            F[:, j] = np.abs(Y[:, j] - end)
            best = np.minimum(best, _vector_norm(F, norm))
    return best


# -- vertices -------------------------------------------------------------------------------------
def _subsets_of(mask: np.ndarray) -> list[tuple[int, ...]]:
    return [tuple(int(n) + 1 for n in np.flatnonzero(row)) for row in mask]


def nearest_vertex(dataset: Dataset, Y, norm: str = "l2") -> tuple[list[tuple[int, ...]], np.ndarray]:
    """The hyperbox vertex nearest to each row of ``Y``: ``(subsets, distances)``.

    ``subsets[i]`` is the 1-based index set ``S`` of the vertex ``x_0 + sum_{n in S}(x_n - x_0)``
    (``()`` for ``x_0``); ties go to the smaller vertex (a coordinate at ``lam_n = 1/2`` rounds
    down).  See the module docstring for when the answer is exact.
    """
    check_norm(norm)
    box = hyperbox(dataset)
    Y = as_batch(Y, box.d)
    lam0 = box.coordinates(Y)
    mask = lam0 > 0.5
    separable = (box.orthogonal and norm == "l2") or box.axes is not None
    if not separable:
        if box.N <= MAX_ENUMERATE_N:
            mask = _enumerate_nearest(box, Y, norm)
        else:
            mask = _descend(box, Y, mask, norm)
    dist = _vector_norm(Y - box.point(mask.astype(float)), norm)
    return _subsets_of(mask), dist


def _enumerate_nearest(box: Hyperbox, Y: np.ndarray, norm: str) -> np.ndarray:
    """Exact nearest vertex by enumerating all ``2^N`` vertices (chunked over points)."""
    masks = np.array(list(product((False, True), repeat=box.N)))
    V = box.point(masks.astype(float))  # (2^N, d)
    best = np.empty(Y.shape[0], dtype=int)
    chunk = max(1, 2_000_000 // (V.shape[0] * box.d))
    for start in range(0, Y.shape[0], chunk):
        D = _vector_norm(Y[start:start + chunk, None, :] - V[None], norm)
        best[start:start + chunk] = np.argmin(D, axis=1)  # first minimum: smallest mask on ties
    return masks[best]


def _descend(box: Hyperbox, Y: np.ndarray, mask: np.ndarray, norm: str) -> np.ndarray:
    """Single-flip descent from the rounded coordinates until no flip brings the vertex closer."""
    mask = mask.copy()
    for i in range(Y.shape[0]):
        current = _vector_norm(Y[i] - box.point(mask[i].astype(float)), norm)
        while True:
            trials = np.repeat(mask[i][None], box.N, axis=0)
            trials[np.arange(box.N), np.arange(box.N)] ^= True
            D = _vector_norm(Y[i] - box.point(trials.astype(float)), norm)
            k = int(np.argmin(D))
            if D[k] >= current:
                break
            mask[i], current = trials[k], D[k]
    return mask


def vertex_points(dataset: Dataset, subsets) -> np.ndarray:
    """The vertices for a list of 1-based subsets, shape ``(len(subsets), d)``."""
    box = hyperbox(dataset)
    if isinstance(subsets, (str, bytes)) or not hasattr(subsets, "__iter__"):
        raise ArgumentTypeError(f"subsets must be a list of index sets such as [(), (1,), (1, 2)], "
                                f"got {describe(subsets)}")
    subsets = list(subsets)
    return np.array([box.vertex(S) for S in subsets]).reshape(len(subsets), box.d)


# -- chords and edges -----------------------------------------------------------------------------
def _segment_distances(Y: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """l2 distance from each row of ``Y`` to each segment ``[A_k, B_k]``, shape ``(n, k)``.

    Computed as ``|y - a - t (b - a)|`` on the difference vectors (not as ``|y|^2 - t^2``, which
    cancels catastrophically near the segment's line)."""
    D = B - A
    t = np.einsum("nkd,kd->nk", Y[:, None, :] - A[None], D) / np.einsum("kd,kd->k", D, D)
    t = np.clip(t, 0.0, 1.0)
    return _vector_norm(Y[:, None, :] - A[None] - t[..., None] * D[None], "l2", axis=2)


def linf_segment_distances(Y: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """l-infinity distance from each row of ``Y`` to each segment ``[A_k, B_k]``, shape ``(n, k)``.

    ``f(t) = max_j |z_j - t D_j|`` (``z = y - a``, ``D = b - a``) is convex and piecewise linear
    in ``t``; its minimum over ``[0, 1]`` is bracketed by bisection on the slope of the active
    term (``-D_j sign(z_j - t D_j)`` at the maximising ``j``) until the bracket's ends are
    adjacent floats, so the result is ``f`` at the minimiser to float64 resolution.  Memory
    ``O(n d)`` per segment, time ``O(n d)`` per bisection step (at most ~60 steps)."""
    n = Y.shape[0]
    out = np.empty((n, A.shape[0]))
    for k, (a, b) in enumerate(zip(A, B)):
        Z, D = Y - a, b - a
        lo, hi = np.zeros(n), np.ones(n)
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            open_ = (mid > lo) & (mid < hi)
            if not open_.any():
                break
            R = Z - mid[:, None] * D
            j = np.argmax(np.abs(R), axis=1)
            rj = R[np.arange(n), j]
            slope = -D[j] * np.sign(rj)
            hi = np.where(open_ & (slope >= 0), mid, hi)
            lo = np.where(open_ & (slope < 0), mid, lo)
        f_lo = np.max(np.abs(Z - lo[:, None] * D), axis=1)
        f_hi = np.max(np.abs(Z - hi[:, None] * D), axis=1)
        out[:, k] = np.minimum(f_lo, f_hi)
    return out


def distance_to_chords(dataset: Dataset, Y) -> np.ndarray:
    """l2 distance to each chord ``[x_0, x_n]`` (Thm B.2), shape ``(n, N)``."""
    box = hyperbox(dataset)
    Y = as_batch(Y, box.d)
    return _segment_distances(Y, np.repeat(box.origin[None], box.N, axis=0), box.origin + box.X)


def triangle_points(triangle: EquilateralTriangle) -> np.ndarray:
    """The triangle's vertices ``x_1, x_2, x_3`` as a float array of shape ``(3, d)``."""
    if not isinstance(triangle, EquilateralTriangle):
        raise ArgumentTypeError(f"expected an EquilateralTriangle, got {describe(triangle)}")
    return triangle.array


def distance_to_edges(triangle: EquilateralTriangle, Y) -> np.ndarray:
    """l2 distance to the triangle's edges in the order of :data:`EDGES`
    (``[x_1, x_2]``, ``[x_2, x_3]``, ``[x_1, x_3]``; Prop. C.1), shape ``(n, 3)``."""
    P = triangle_points(triangle)
    Y = as_batch(Y, triangle.d)
    A = np.array([P[i - 1] for i, _ in EDGES])
    B = np.array([P[j - 1] for _, j in EDGES])
    return _segment_distances(Y, A, B)


def distance_to_points(dataset: Dataset, Y, norm: str = "l2") -> np.ndarray:
    """Distance to each training point (``dataset.points`` order), shape ``(n, size)``."""
    check_norm(norm)
    check_dataset(dataset)
    P = dataset.array
    Y = as_batch(Y, dataset.d)
    return _vector_norm(Y[:, None, :] - P[None], norm)
