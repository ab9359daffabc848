"""Vectorised NumPy evaluation of the closed-form denoisers and scores — the lambdify call site.

Every formula lives once, in :mod:`theory`: the unit responses of :mod:`theory.pieces` (kinks and
per-piece affine coefficients, as functions of ``rho``) are compiled here with
:func:`sympy.lambdify`, and combined with the dataset's float geometry (origin, directions).  A
denoiser on a batch ``Y`` of shape ``(n_points, d)`` is then::

    T = (Y - o) U^T            projections t_n, shape (n_points, N)
    P = piece of each t_n       0 lower, 1 linear, 2 upper (kinks are flat: docs/math.md §5)
    G = A[P] T + B[P]           unit responses
    h = o + G U                 (n_points, d)
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import sympy as sp

from theory.datasets import Dataset
from theory.denoisers import unit_ramp
from theory.pieces import PIECES, check_model, on_lower, on_upper

from .validation import as_batch, check_dataset, check_number  # noqa: F401 (as_batch re-exported)

LOWER, LINEAR, UPPER = 0, 1, 2

_RHO = sp.Symbol("rho", positive=True)
_R = sp.Symbol("r", positive=True)


def piece_codes(T: np.ndarray, k_lo, k_hi) -> np.ndarray:
    """Piece index (``LOWER``, ``LINEAR``, ``UPPER``) of each projection ``t_n`` under the kink
    convention of :mod:`theory.pieces` (:func:`~theory.pieces.on_lower`,
    :func:`~theory.pieces.on_upper`)."""
    T = np.asarray(T, dtype=float)
    return np.where(on_lower(T, k_lo), LOWER, np.where(on_upper(T, k_hi), UPPER, LINEAR))


@dataclass(frozen=True)
class UnitParameters:
    """Numeric unit responses at one ``rho``: kinks ``k_lo``, ``k_hi`` (shape ``(N,)``) and the
    affine coefficients ``A``, ``B`` of shape ``(3, N)`` indexed by piece (lower, linear, upper),
    and the kink rates ``dk`` of shape ``(2, N)``."""

    rho: float
    k_lo: np.ndarray
    k_hi: np.ndarray
    A: np.ndarray
    B: np.ndarray
    dk: np.ndarray = None  # (2, N): d k_lo / d rho, d k_hi / d rho


class CompiledDenoiser:
    """NumPy evaluation of ``dataset``'s closed-form denoiser family ``h_rho`` in ``model``.

    ``rho`` is a run-time argument (so one object serves the whole probability flow, where
    ``rho(s) = rho_0 e^{-s}``).  It is *not* re-validated here: callers check the low-noise regime
    once with :func:`theory.denoisers.min_cost_denoiser` (see :func:`compile_denoiser`).
    """

    def __init__(self, dataset: Dataset, model: str = "exact"):
        check_model(model)
        self.dataset = dataset
        self.model = model
        geo = dataset.float_geometry  # float64 origin, directions and lengths (NumPy, O(N d))
        self.origin, self.U, self.r = geo.origin, geo.U, geo.r
        self.d = dataset.d
        self.N = self.U.shape[0]
        # every unit is one ramp of (rho, r_n) (equilateral: three identical ramps of R), so the
        # whole table is one broadcast evaluation over units (and over points for params_many):
        # the only lambdify of the unit formulas of theory.pieces
        ramp = unit_ramp(dataset.kind, model, _R, _RHO)
        generic = [ramp.k_lo, ramp.k_hi] + [ramp.coefficients[p][0] for p in PIECES] + [
            ramp.coefficients[p][1] for p in PIECES] + [sp.diff(ramp.k_lo, _RHO),
                                                          sp.diff(ramp.k_hi, _RHO)]
        self._generic = sp.lambdify((_RHO, _R), generic, modules="numpy", cse=True)
        self._generic_ab = sp.lambdify((_RHO, _R), generic[2:8], modules="numpy", cse=True)

    @cached_property
    def dual(self) -> np.ndarray:
        """Dual rows ``(U U^T)^{-1} U`` (N, d): ``y - o = T dual`` for a point of the data span
        with projections ``T`` (for orthogonal data ``dual = U`` up to the data's rounding)."""
        return np.linalg.solve(self.U @ self.U.T, self.U)

    @lru_cache(maxsize=4096)
    def _params_cached(self, rho: float) -> UnitParameters:
        with np.errstate(all="ignore"):
            vals = self._generic(rho, self.r)
        tab = np.empty((10, self.N))
        for k, v in enumerate(vals):
            tab[k] = v
        return UnitParameters(rho, tab[0], tab[1], tab[2:5], tab[5:8], tab[8:10])

    def params(self, rho: float) -> UnitParameters:
        try:
            rho = float(rho)
        except (TypeError, ValueError):
            check_number(rho, "rho")  # raises the one-line error naming what was received
        return self._params_cached(rho)

    def params_many(self, rho) -> UnitParameters:
        """Unit parameters at one ``rho`` per point (array of shape ``(n,)``): the fields of
        :class:`UnitParameters` gain a leading point axis (``k_lo`` (n, N), ``A`` (n, 3, N), ...)."""
        rho = np.asarray(rho, dtype=float).reshape(-1)
        shape = (rho.size, self.N)
        with np.errstate(all="ignore"):
            vals = self._generic(rho[:, None], self.r[None, :])
        tab = np.empty((rho.size, 10, self.N))
        for k, v in enumerate(vals):
            tab[:, k, :] = np.broadcast_to(v, shape)
        return UnitParameters(rho, tab[:, 0], tab[:, 1], tab[:, 2:5], tab[:, 5:8], tab[:, 8:10])

    def coefficients_many(self, rho) -> list:
        """The six affine coefficients ``[A_lower, A_linear, A_upper, B_lower, B_linear,
        B_upper]`` at one ``rho`` per point (array ``(n,)``), each broadcastable to ``(n, N)``
        (a coefficient that does not depend on ``rho`` or ``r`` stays a scalar): the cheap
        per-stage evaluation of :mod:`numerics.batch_ivp`."""
        rho = np.asarray(rho, dtype=float).reshape(-1, 1)
        with np.errstate(all="ignore"):
            return self._generic_ab(rho, self.r[None, :])

    # -- evaluation -----------------------------------------------------------------------
    def projections(self, Y) -> np.ndarray:
        """``t_n = u_n^T (y - o)``, shape ``(n_points, N)``."""
        return (as_batch(Y, self.d) - self.origin) @ self.U.T

    def pieces(self, T: np.ndarray, rho: float) -> np.ndarray:
        """Piece index of each projection (kinks belong to the flat pieces)."""
        p = self.params(rho)
        return piece_codes(T, p.k_lo, p.k_hi).astype(np.int8)

    def responses(self, T: np.ndarray, rho: float, P: np.ndarray | None = None) -> np.ndarray:
        """Unit responses ``g_n(t_n)``; with ``P`` given, each unit is held on that piece."""
        p = self.params(rho)
        if P is None:
            P = self.pieces(T, rho)
        cols = np.arange(self.N)
        return p.A[P, cols] * T + p.B[P, cols]

    def denoise(self, Y, rho: float, P: np.ndarray | None = None) -> np.ndarray:
        """``h_rho(y)`` for a batch, shape ``(n_points, d)``."""
        Y = as_batch(Y, self.d)
        T = (Y - self.origin) @ self.U.T
        return self.origin + self.responses(T, rho, P) @ self.U

    def drift(self, Y, rho: float, P: np.ndarray | None = None) -> np.ndarray:
        """``h_rho(y) - y``: the right-hand side of the rescaled flows (eqs. 12, 14)."""
        Y = as_batch(Y, self.d)
        return self.denoise(Y, rho, P) - Y

    def score(self, Y, sigma: float, c: float) -> np.ndarray:
        """Tweedie score ``(h_{c sigma}(y) - y)/sigma^2`` (eq. 10, ``rho = c sigma``)."""
        return self.drift(Y, c * sigma) / sigma ** 2

    def jacobian(self, Y, rho: float) -> np.ndarray:
        """``dh/dy = sum_n A_n(piece) u_n u_n^T`` per point, shape ``(n_points, d, d)``."""
        T = self.projections(Y)
        A = self.params(rho).A[self.pieces(T, rho), np.arange(self.N)]
        return np.einsum("pn,ni,nj->pij", A, self.U, self.U)


@lru_cache(maxsize=64)
def _compiled(dataset_id: int, dataset: Dataset, model: str) -> CompiledDenoiser:
    return CompiledDenoiser(dataset, model)


def compile_denoiser(dataset: Dataset, model: str = "exact") -> CompiledDenoiser:
    """A (cached) :class:`CompiledDenoiser` for ``dataset`` and ``model``."""
    check_dataset(dataset)
    check_model(model)
    return _compiled(id(dataset), dataset, model)
