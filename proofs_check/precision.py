"""High-precision re-checks for cases float64 cannot decide (near a kink or a threshold).

A check first works in float64.  When the quantity that decides its verdict (the distance of a
coordinate to a kink, of ``c`` to ``c_0``, of ``rho`` to Thm B.1's criterion) is below
:data:`DECIDE_RTOL` relative to the data's scale, float64 rounding (~1e-16 per operation, times
the few operations of a projection) could flip it, so the check re-decides at ``MP_DPS`` digits
(mpmath, through SymPy ``Float``) and marks its margin ``mpmath=True``.

The instance is the exact object: float coordinates are exact binary numbers (SymPy ``Float`` of
17 digits keeps all 53 bits), exact coordinates are SymPy numbers; both are evaluated here at
``MP_DPS`` digits.  :func:`hp_dataset` returns a *shadow* of a dataset whose derived attributes
(apex, offsets, ``r_n``, ``u_n``; centroid, ``R``, ``v_n``) are recomputed from the points at
``MP_DPS`` digits, so that the theory's own constructions (:func:`theory.min_cost_denoiser`,
:mod:`theory.closed_forms`) run unchanged at high precision: no formula is re-typed.
"""
from __future__ import annotations

import copy
from functools import lru_cache

import sympy as sp

from theory.datasets import Dataset, EquilateralTriangle

#: Digits of the re-checks: 50 digits leave ~34 digits beyond float64, far more than any
#: cancellation in a projection of O(1) data (the inputs are exact binary numbers).
MP_DPS = 50
#: Below this relative size a float64 sign is not trusted: projections of rotated d <= 5 data
#: carry ~1e-15 relative error; 1e-12 leaves a factor of 1000.
DECIDE_RTOL = 1e-12
#: Margin reported when only the high-precision re-check could decide and the deciding quantity is
#: exactly zero at ``MP_DPS`` digits (the verdict is then the kink convention's, docs/math.md §5).
MP_DECIDED = 1e-30


def hp(x) -> sp.Float:
    """``x`` (float, int, SymPy number) as an ``MP_DPS``-digit SymPy ``Float``."""
    if isinstance(x, float):
        return sp.Float(x, MP_DPS)
    return sp.Float(sp.N(sp.sympify(x), MP_DPS), MP_DPS)


def hp_point(y) -> sp.Matrix:
    """A point as a column of ``MP_DPS``-digit Floats (float inputs are exact binary numbers)."""
    return sp.Matrix([hp(float(x)) if not isinstance(x, sp.Basic) else hp(x) for x in y])


def _norm(v: sp.Matrix):
    return sp.sqrt(v.dot(v))


@lru_cache(maxsize=128)
def _shadow(dataset_id: int, dataset: Dataset) -> Dataset:
    shadow = copy.copy(dataset)
    shadow.points = tuple(sp.Matrix([hp(x) for x in p]) for p in dataset.points)
    if isinstance(dataset, EquilateralTriangle):
        shadow.centroid = (shadow.points[0] + shadow.points[1] + shadow.points[2]) / 3
        shadow.R = _norm(shadow.points[0] - shadow.centroid)
        shadow.side = sp.sqrt(3) * shadow.R
        shadow.v = tuple((p - shadow.centroid) / shadow.R for p in shadow.points)
        shadow.r = (shadow.R,) * 3
    else:
        shadow.apex = shadow.points[0]
        shadow.offsets = tuple(p - shadow.apex for p in shadow.points[1:])
        shadow.r = tuple(_norm(v) for v in shadow.offsets)
        shadow.u = tuple(v / r for v, r in zip(shadow.offsets, shadow.r))
    shadow.exact = False
    return shadow


def hp_dataset(dataset: Dataset) -> Dataset:
    """A shadow of ``dataset`` with every derived attribute at ``MP_DPS`` digits (cached)."""
    return _shadow(id(dataset), dataset)


def undecided(value: float, scale: float) -> bool:
    """Is ``|value|`` too small, relative to ``scale``, for float64 to trust its sign?"""
    return abs(value) <= DECIDE_RTOL * scale
