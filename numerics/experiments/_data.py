"""Datasets and float network parameters shared by the experiments (paper §5, App. B-C)."""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from theory.datasets import MAX_COORDINATES, EquilateralTriangle, ObtuseSimplex, OrthogonalDataset
from theory.errors import OutOfRangeError, ShapeError

from ..network import ShallowNetwork


@lru_cache(maxsize=32)
def orthonormal_dataset(N: int, d: int | None = None) -> OrthogonalDataset:
    """``x_0 = 0`` and ``x_n = e_n`` (n = 1..N) in ``R^d`` (default ``d = N``): the paper's
    orthonormal training set (§5).  Exact integer data: the hyperbox geometry and an isotropic
    Gaussian initialisation are rotation invariant, so the standard basis loses no generality and
    keeps the SymPy layer exact and fast."""
    d = N if d is None else int(d)
    if N < 1 or d < N:
        raise ShapeError(f"need 1 <= N <= d for N orthonormal points in R^d, got N={N}, d={d}")
    if (N + 1) * d > MAX_COORDINATES:
        raise OutOfRangeError(f"N = {N} points in dimension d = {d} are {(N + 1) * d} coordinates; "
                              f"at most {MAX_COORDINATES} are supported")
    pts = [[0] * d] + [[1 if j == n else 0 for j in range(d)] for n in range(N)]
    return OrthogonalDataset(pts)


@lru_cache(maxsize=4)
def obtuse_triangle() -> ObtuseSimplex:
    """The obtuse 2-simplex of Fig. 4: ``x_0 = 0``, ``x_1 = (1, 0)``, ``x_2 = (-2/5, 9/10)``
    (the angle at ``x_0`` is about 114 degrees)."""
    return ObtuseSimplex([[0, 0], [1, 0], [sp.Rational(-2, 5), sp.Rational(9, 10)]])


@lru_cache(maxsize=4)
def equilateral_triangle() -> EquilateralTriangle:
    """The equilateral triangle of Fig. 5: circumradius 1, centroid at the origin."""
    s3 = sp.sqrt(3)
    return EquilateralTriangle([[0, 1], [-s3 / 2, -sp.Rational(1, 2)], [s3 / 2, -sp.Rational(1, 2)]])


def network_arrays(dataset, rho) -> ShallowNetwork:
    """Float parameters of the exact min-cost denoiser (:meth:`ShallowNetwork.from_closed_form`)."""
    return ShallowNetwork.from_closed_form(dataset, rho)
