"""float64 arithmetic that stays right at every scale float64 can represent.

Two tools, used wherever a float dataset or point is measured (:mod:`theory.datasets`,
:mod:`numerics.geometry`, :mod:`numerics.evaluate`):

* :func:`scaled_norms` -- Euclidean norms computed as ``m |V / m|`` with ``m`` the largest
  entry, so they overflow only when the norm itself exceeds float64's range (a plain
  ``sqrt(sum V^2)`` overflows from entries of ~1e154 on and loses every digit below ~1e-154);
* :func:`check_finite_result` -- a derived quantity (an offset, a radius) that is not a finite
  float64 raises one :class:`~theory.errors.NotRepresentableError` naming it.
"""
from __future__ import annotations

import numpy as np

from .errors import NotRepresentableError

#: Largest finite float64.
FLOAT_MAX = float(np.finfo(float).max)
#: Smallest normal float64: below it a number keeps fewer than 53 significant bits.
FLOAT_TINY = float(np.finfo(float).tiny)


def scaled_norms(V, axis: int = -1) -> np.ndarray:
    """Euclidean norms of ``V`` along ``axis``, scaled by the largest entry (no spurious over- or
    underflow; ``inf`` only when the norm itself is beyond float64)."""
    A = np.abs(np.asarray(V, dtype=float))
    if A.shape[axis] == 0:
        return np.zeros(np.delete(A.shape, axis))
    m = np.max(A, axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        scale = np.where((m > 0) & np.isfinite(m), m, 1.0)
        out = scale * np.sqrt(np.sum((A / scale) ** 2, axis=axis, keepdims=True))
    out = np.where(np.isinf(m), np.inf, out)
    return np.squeeze(out, axis=axis)


def check_finite_result(values, name: str, hint: str) -> np.ndarray:
    """``values`` if every entry is finite, else :class:`NotRepresentableError` naming ``name``
    (e.g. ``"offset x_2 - x_0"``) and what to do (``hint``)."""
    values = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(values)):
        raise NotRepresentableError(f"{name} overflows float64 (|x| <= {FLOAT_MAX:.4g}); {hint}")
    return values
