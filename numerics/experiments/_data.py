"""Datasets and float network parameters shared by the experiments (paper §5, App. B-C)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from theory.datasets import EquilateralTriangle, ObtuseSimplex, OrthogonalDataset
from theory.denoisers import min_cost_denoiser
from theory.errors import ShapeError


@lru_cache(maxsize=32)
def orthonormal_dataset(N: int, d: int | None = None) -> OrthogonalDataset:
    """``x_0 = 0`` and ``x_n = e_n`` (n = 1..N) in ``R^d`` (default ``d = N``): the paper's
    orthonormal training set (§5).  Exact integer data: the hyperbox geometry and an isotropic
    Gaussian initialisation are rotation invariant, so the standard basis loses no generality and
    keeps the SymPy layer exact and fast."""
    d = N if d is None else int(d)
    if N < 1 or d < N:
        raise ShapeError(f"need 1 <= N <= d for N orthonormal points in R^d, got N={N}, d={d}")
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


@dataclass(frozen=True)
class NetworkArrays:
    """Float parameters of eq. 4: ``h(y) = relu(Y W^T + b) A + Y V^T + c``.

    ``A`` (K, d) output weights ``a_k``, ``W`` (K, d) input weights ``w_k``, ``b`` (K,), ``V``
    (d, d), ``c`` (d,)."""

    A: np.ndarray
    W: np.ndarray
    b: np.ndarray
    V: np.ndarray
    c: np.ndarray

    def __call__(self, Y) -> np.ndarray:
        Y = np.atleast_2d(np.asarray(Y, dtype=float))
        return np.maximum(Y @ self.W.T + self.b, 0.0) @ self.A + Y @ self.V.T + self.c

    def perturbed(self, rng: np.random.Generator, scale: float) -> "NetworkArrays":
        """Add i.i.d. ``N(0, scale^2)`` to every input weight and bias (the ReLU boundaries); the
        output weights, skip connection and bias are kept (Fig. 1: "small deviations in the ReLU
        boundaries of the trained denoiser")."""
        return NetworkArrays(self.A, self.W + scale * rng.standard_normal(self.W.shape),
                             self.b + scale * rng.standard_normal(self.b.shape), self.V, self.c)


def network_arrays(dataset, rho) -> NetworkArrays:
    """Float arrays of :meth:`theory.denoisers.RidgeDenoiser.network` (exact model), converted once."""
    net = min_cost_denoiser(dataset, rho).network()
    f = lambda m: np.array([[float(x) for x in v] for v in m])  # noqa: E731
    return NetworkArrays(A=f(net.a), W=f(net.w), b=np.array([float(x) for x in net.b]),
                         V=np.array(net.V.tolist(), dtype=float),
                         c=np.array([float(x) for x in net.c]))
