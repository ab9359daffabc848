"""The early-stopping threshold ``c_0`` of the probability flow (docs/math.md §5, Thm 4.4 and
Thm B.3; paper eqs. 87-88).

With ``rho = c sigma`` and coordinates ``t_n = u_n^T (y_0 - x_0)``, the probability flow from
``y_0`` ends on the closest hyperbox vertex when ``c > c_0`` and on a non-vertex point of the box
when ``c < c_0``.  The closed form is :func:`theory.closed_forms.c0_threshold` (evaluated here,
never re-typed): the maximum over the coordinates with ``0 < t_n < r_n`` of

* exact and ``taylor``: ``min(t_n, r_n - t_n) / sigma_max``;
* ``taylor-fixed-kinks``: ``r_n / (2 sigma_max) ln(r_n / |2 t_n - r_n|)``.

There is no finite threshold when no coordinate is strictly inside ``(0, r_n)`` (the closest
hyperbox point is already a vertex, reached for every ``c``), nor in ``taylor-fixed-kinks`` when a
coordinate sits exactly at ``r_n / 2`` (it stays there for every ``c``).  The theorem needs the
low-noise regime ``c sigma_max < min_n r_n / 2``: a threshold at or above ``c_max = min_n r_n /
(2 sigma_max)`` is reported as not valid (then every admissible ``c`` ends off the vertices).

Thm B.3 (obtuse simplex) is stated for one coordinate ``0 < t_m < r_m`` with every other
``t_n < 0``; other starts on obtuse data raise :class:`~theory.errors.InputError`.

:func:`c0_bisection` confirms the closed form numerically: it bisects on ``c`` the predicate
"the integrated probability flow (``sigma_min = 0``) ends within ``vertex_tol`` of a vertex".
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from theory.closed_forms import c0_coordinate, c0_threshold
from theory.datasets import Dataset, RidgeDataset
from theory.errors import InputError, NotRepresentableError, OutOfRangeError
from theory.pieces import check_model

from .validation import (MIN_BISECTION_RTOL, as_point, check_choice, check_dataset, check_number,
                         check_positive)
from .flows import probability_flow
from .geometry import hyperbox, nearest_vertex


class NoThresholdError(InputError):
    """The predicate of :func:`c0_bisection` does not change sign on the bracket."""


#: Bisection stops when the bracket is this small relative to its upper end.
BISECTION_RTOL = 1e-10

#: Default bisection bracket, as fractions of ``c_max = min_n r_n / (2 sigma_max)``: the ends of
#: the open low-noise regime, kept 1e-6 away so the exact ramp slope ``r/(r - 2 rho)`` stays finite.
BRACKET = (1e-6, 1 - 1e-6)

#: "Ends on a vertex" tolerance of the bisection, relative to ``max_n r_n``, per integration method.
#: The exact integrator is accurate to ~1e-14 relative; DOP853 at rtol 1e-10 / atol 1e-12 to
#: ~1e-10.  Just below ``c_0`` the endpoint's distance to the vertex grows like
#: ``sigma_max (c_0 - c)``, so the bisection lands within ``vertex_tol / sigma_max`` of ``c_0``.
VERTEX_TOL = {"exact": 1e-10, "ivp": 1e-7}


@dataclass(frozen=True)
class ThresholdResult:
    """``c0`` (``None`` if there is no finite threshold, with ``reason``); ``c_max`` the end of the
    low-noise regime; ``valid`` whether ``c0 < c_max``; ``coordinates`` the ``t_n``;
    ``deciding`` the 1-based coordinate attaining the maximum."""

    c0: float | None
    reason: str | None
    model: str
    sigma_max: float
    c_max: float
    valid: bool | None
    coordinates: tuple[float, ...]
    deciding: int | None

    def to_json(self) -> dict:
        out = {"c0": self.c0}
        if self.reason is not None:
            out["reason"] = self.reason
        out.update({"model": self.model, "sigma_max": self.sigma_max, "c_max": self.c_max,
                    "valid": self.valid, "deciding_coordinate": self.deciding,
                    "coordinates": list(self.coordinates)})
        return out


def _positive(value, name: str) -> float:
    return check_positive(value, name, example="1.0")


#: Smallest threshold reported: below it a float64 keeps fewer than ~30 significant bits (a
#: subnormal number's spacing is 4.9e-324, so 4.9e-315 is still accurate to 1e-9 relative).
MIN_REPORTED = 1e9 * np.finfo(float).smallest_subnormal


def c_max_of(r_min: float, sigma_max: float) -> float:
    """``c_max = min_n r_n / (2 sigma_max)``, computed as ``(r_min / 2) / sigma_max`` (``2
    sigma_max`` overflows from ``sigma_max ~ 9e307`` on); :class:`NotRepresentableError` when it
    underflows below :data:`MIN_REPORTED`."""
    return _reportable((r_min / 2) / sigma_max, "c_max = min_n r_n / (2 sigma_max)", sigma_max)


def _reportable(value: float, name: str, sigma_max: float) -> float:
    if not (math.isfinite(value) and value >= MIN_REPORTED):
        raise NotRepresentableError(
            f"{name} = {value:g} is not representable in float64 at full precision "
            f"(sigma_max = {sigma_max:g}; thresholds c are lengths over sigma_max and must lie in "
            f"[{MIN_REPORTED:.3g}, {np.finfo(float).max:.3g}]); pass a sigma_max closer to the "
            "data's scale")
    return value


def _single_point(dataset: Dataset, y0) -> np.ndarray:
    return as_point(y0, dataset.d, "y0")


def _ridge(dataset: Dataset) -> RidgeDataset:
    check_dataset(dataset)
    if not isinstance(dataset, RidgeDataset):
        raise InputError(f"the early-stopping threshold (Thm 4.4 / B.3) is stated for orthogonal "
                         f"and obtuse data, not for {dataset.kind} data")
    return dataset


def c0_closed_form(dataset: Dataset, y0, sigma_max: float, model: str = "exact") -> ThresholdResult:
    """``c_0`` of Thm 4.4 (orthogonal data) / Thm B.3 (obtuse simplex) in ``model``."""
    check_model(model)
    dataset = _ridge(dataset)
    sigma_max = _positive(sigma_max, "sigma_max")
    y = _single_point(dataset, y0)
    box = hyperbox(dataset)
    t = box.U @ (y - box.origin)
    r = box.r
    inside = np.flatnonzero((t > 0) & (t < r))
    if dataset.kind == "obtuse":
        others = [n for n in range(box.N) if n not in inside]
        if len(inside) != 1 or any(t[n] >= 0 for n in others):
            raise InputError(
                "Thm B.3 (obtuse simplex) needs exactly one coordinate 0 < t_m < r_m and t_n < 0 "
                "for all others; here t = [" + ", ".join(f"{x:.6g}" for x in t) + "]")
    c_max = c_max_of(float(r.min()), sigma_max)
    common = dict(model=model, sigma_max=sigma_max, c_max=c_max, coordinates=tuple(map(float, t)))
    if model == "taylor-fixed-kinks":
        mid = [n for n in inside if 2 * t[n] == r[n]]
        if mid:
            n = int(mid[0]) + 1
            return ThresholdResult(
                None, f"coordinate t_{n} = {t[n - 1]:.17g} sits exactly at its midpoint r_{n}/2: in "
                "taylor-fixed-kinks it stays there for every c and never reaches a vertex",
                valid=None, deciding=n, **common)
    T = [sp.Float(float(x), 17) for x in t]
    R = [sp.Float(float(x), 17) for x in r]
    S = sp.Float(sigma_max, 17)
    value = c0_threshold(model, T, R, S)
    if value is None:
        return ThresholdResult(None, "the closest hyperbox point is already a vertex (no coordinate "
                               "strictly inside (0, r_n)): the flow reaches it for every c",
                               valid=None, deciding=None, **common)
    c0 = _reportable(float(value), "c_0", sigma_max)
    per = [float(c0_coordinate(model, T[n], R[n], S)) for n in inside]
    deciding = int(inside[int(np.argmax(per))]) + 1
    return ThresholdResult(c0, None, valid=bool(c0 < c_max), deciding=deciding, **common)


def ends_on_vertex(dataset: Dataset, y0, c: float, sigma_max: float, model: str = "exact",
                   method: str = "exact", vertex_tol: float | None = None) -> bool:
    """Does the probability flow (``sigma_min = 0``, log-noise time) from ``y0`` with ``rho_0 =
    c sigma_max`` end within ``vertex_tol`` (l2) of a hyperbox vertex?"""
    check_choice(method, "method", VERTEX_TOL)
    if vertex_tol is None:
        vertex_tol = VERTEX_TOL[method] * float(hyperbox(dataset).r.max())
    else:
        vertex_tol = check_positive(vertex_tol, "vertex_tol", example="1e-10")
    res = probability_flow(dataset, y0, c=c, sigma_max=sigma_max, sigma_min=0.0, model=model,
                           method=method)
    _, dist = nearest_vertex(dataset, res.endpoint[None, :], "l2")
    return bool(dist[0] <= vertex_tol)


def c0_bisection(dataset: Dataset, y0, sigma_max: float, model: str = "exact", *,
                 method: str = "exact", c_lo: float | None = None, c_hi: float | None = None,
                 vertex_tol: float | None = None, rtol: float = BISECTION_RTOL) -> float:
    """Numerical ``c_0``: bisection on ``c`` over integrated probability flows (Thm 4.4 / B.3).

    The bracket defaults to :data:`BRACKET` times ``c_max``; the flow must end off the vertices at
    ``c_lo`` and on one at ``c_hi`` (Thm 4.4's monotonicity), else :class:`NoThresholdError`.
    Returns the midpoint of the final bracket.
    """
    check_model(model)
    check_choice(method, "method", VERTEX_TOL)
    rtol = check_number(rtol, "rtol", minimum=MIN_BISECTION_RTOL, maximum=0.5, example="1e-10")
    if vertex_tol is not None:
        vertex_tol = check_positive(vertex_tol, "vertex_tol", example="1e-10")
    dataset = _ridge(dataset)
    sigma_max = _positive(sigma_max, "sigma_max")
    y = _single_point(dataset, y0)
    c_max = c_max_of(float(hyperbox(dataset).r.min()), sigma_max)
    lo = BRACKET[0] * c_max if c_lo is None else _positive(c_lo, "c_lo")
    hi = BRACKET[1] * c_max if c_hi is None else _positive(c_hi, "c_hi")
    if not lo < hi:
        raise OutOfRangeError(f"bisection bracket is empty: c_lo = {lo:g} >= c_hi = {hi:g}; pass "
                              "c_lo < c_hi")

    def on_vertex(c):
        return ends_on_vertex(dataset, y, c, sigma_max, model, method, vertex_tol)

    if on_vertex(lo):
        raise NoThresholdError(f"the probability flow already ends on a vertex at c = {lo:.6g}: "
                               "no threshold in the bracket")
    if not on_vertex(hi):
        raise NoThresholdError(f"the probability flow still ends off the vertices at c = {hi:.6g} "
                               f"(c_max = {c_max:.6g}): no threshold in the low-noise regime")
    while hi - lo > rtol * hi:
        mid = 0.5 * (lo + hi)
        if not lo < mid < hi:  # adjacent floats: the bracket cannot shrink further
            break
        if on_vertex(mid):
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)
