"""Scalar building blocks: the ramp of one hidden unit pair, per score model (docs/math.md §2-§3).

Every closed-form denoiser of the paper is a sum of *ridge units*
``h(y) = o + sum_n u_n g_n(u_n^T (y - o))`` whose scalar response ``g_n`` is piecewise affine in
``t = u_n^T (y - o)`` with three pieces::

    lower   t <= k_lo        g = A_lo  t + B_lo
    linear  k_lo < t < k_hi  g = A_lin t + B_lin
    upper   t >= k_hi        g = A_up  t + B_up

(the **kink convention**: a point exactly on a kink belongs to the flat piece, docs/math.md §5 "Kink
starts").  This module is the single place where those coefficients are written down, for the
three score models of docs/math.md §3:

``exact``
    the min-cost ramp ``phi(t; r, rho) = r/(r - 2 rho) ([t - rho]_+ - [t - (r - rho)]_+)``
    (paper eq. 17 / eq. 36).
``taylor``
    kinks kept at ``rho`` and ``r - rho``; the linear-piece *score* ``(a - 1)(t - r/2)`` replaced
    by its first-order form ``2 rho / r (t - r/2)`` (paper eqs. 18-19, most likely reading).
``taylor-fixed-kinks``
    the same first-order linear piece, kinks moved to their ``rho -> 0`` limits ``0`` and ``r``.

The equilateral denoiser (paper eq. 37, docs/math.md §2) is a general ramp with its own
``(lo, hi, slope)``; only the ``exact`` model exists for it.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp


def on_lower(t, k_lo):
    """Is ``t`` on the lower (flat) piece?  ``t <= k_lo``: the **kink convention** (docs/math.md
    §5 "Kink starts"), a point exactly on a kink belongs to the flat piece next to it.

    This comparison is the convention's only statement: :func:`on_upper` is its mirror image,
    :data:`KINK_IS_FLAT` and :func:`piece_margins` are derived from it, and every piece decision
    of the toolkit (SymPy relations, activation patterns, stationary points, NumPy piece codes,
    the integrators' starting pieces and their choice at a repelling kink) goes through them.
    Works for numbers, NumPy arrays (element-wise) and SymPy expressions (a relation)."""
    return t <= k_lo


def on_upper(t, k_hi):
    """Is ``t`` on the upper (flat) piece?  The mirror image of :func:`on_lower`: ``k_hi <= t``."""
    return on_lower(k_hi, t)


#: Does a point exactly on a kink belong to the flat piece?  (Read off :func:`on_lower`.)
KINK_IS_FLAT = bool(on_lower(0, 0))


def piece_margins(piece: str, t, k_lo, k_hi) -> list:
    """``(value, strict)`` pairs: ``t`` is on ``piece`` iff every ``value >= 0`` (``> 0`` where
    ``strict``).  The flat pieces include their kink, the linear piece excludes both."""
    if piece == "lower":
        return [(k_lo - t, not KINK_IS_FLAT)]
    if piece == "upper":
        return [(t - k_hi, not KINK_IS_FLAT)]
    return [(t - k_lo, KINK_IS_FLAT), (k_hi - t, KINK_IS_FLAT)]


def piece_conditions(piece: str, t, k_lo, k_hi) -> list:
    """The SymPy relations defining ``piece`` in ``t``: :func:`on_lower`, :func:`on_upper`, and
    for the linear piece the negation of both."""
    if piece == "lower":
        return [on_lower(t, k_lo)]
    if piece == "upper":
        return [on_upper(t, k_hi)]
    return [sp.Not(on_lower(t, k_lo)), sp.Not(on_upper(t, k_hi))]


#: The three named score models of docs/math.md §3 (a **[choice]** exposed as an option).
MODELS = ("exact", "taylor", "taylor-fixed-kinks")
#: Piece names, in the order of increasing ``t``.
PIECES = ("lower", "linear", "upper")


def check_model(model: str) -> str:
    """Return ``model`` if it names a score model, else raise
    :class:`~theory.errors.UnknownChoiceError` (a ``ValueError``) listing them."""
    if not isinstance(model, str) or model not in MODELS:
        from .errors import UnknownChoiceError
        raise UnknownChoiceError(f"unknown score model {model!r}; choose one of "
                                 f"{', '.join(MODELS)}")
    return model


@dataclass(frozen=True)
class UnitPieces:
    """The piecewise-affine scalar response ``g(t)`` of one ridge unit (symbolic).

    ``coefficients[piece] = (A, B)`` means ``g(t) = A t + B`` on that piece.  All entries are
    SymPy expressions, typically in the noise radius ``rho``.
    """

    k_lo: sp.Expr
    k_hi: sp.Expr
    coefficients: dict  # piece name -> (A, B)

    def value(self, piece: str, t):
        A, B = self.coefficients[piece]
        return A * t + B

    def piece_of(self, t) -> str:
        """The piece holding the number ``t`` (kink convention: kinks are flat)."""
        if bool(on_lower(t, self.k_lo)):
            return "lower"
        if bool(on_upper(t, self.k_hi)):
            return "upper"
        return "linear"

    def margins(self, piece: str, t) -> list:
        """:func:`piece_margins` of this unit."""
        return piece_margins(piece, t, self.k_lo, self.k_hi)

    def conditions(self, piece: str, t) -> list:
        """:func:`piece_conditions` of this unit."""
        return piece_conditions(piece, t, self.k_lo, self.k_hi)

    def response(self, t) -> sp.Expr:
        """``g(t)`` as one SymPy ``Piecewise`` (kinks belong to the flat pieces)."""
        return sp.Piecewise(
            (self.value("lower", t), on_lower(t, self.k_lo)),
            (self.value("upper", t), on_upper(t, self.k_hi)),
            (self.value("linear", t), True),
        )


def general_ramp(lo, hi, slope) -> UnitPieces:
    """``slope ([t - lo]_+ - [t - hi]_+)``: 0 below ``lo``, ``slope (hi - lo)`` above ``hi``."""
    lo, hi, slope = map(sp.sympify, (lo, hi, slope))
    return UnitPieces(lo, hi, {
        "lower": (sp.Integer(0), sp.Integer(0)),
        "linear": (slope, -slope * lo),
        "upper": (sp.Integer(0), slope * (hi - lo)),
    })


def equilateral_ramp(R, rho) -> UnitPieces:
    """The unit of the equilateral denoiser (paper eq. 37): ``k([t - beta_lo]_+ - [t - beta_hi]_+)``
    with ``beta_lo = -R/2 + rho``, ``beta_hi = R - rho``, ``k = R/(3R/2 - 2 rho)``."""
    R, rho = sp.sympify(R), sp.sympify(rho)
    lo, hi = -R / 2 + rho, R - rho
    return general_ramp(lo, hi, R / (hi - lo))


def ramp_slope(r, rho) -> sp.Expr:
    """``a = r / (r - 2 rho)``, the middle slope of the min-cost ramp (docs/math.md §2)."""
    return sp.sympify(r) / (sp.sympify(r) - 2 * sp.sympify(rho))


def unit_pieces(model: str, r, rho) -> UnitPieces:
    """Scalar response of a unit of height ``r`` at noise radius ``rho`` in ``model``.

    ``exact``: ``phi(t; r, rho)`` (eqs. 17, 36).  ``taylor`` / ``taylor-fixed-kinks``: flat pieces
    exact (``0`` below, ``r`` above), linear piece ``t + 2 rho/r (t - r/2)`` (eqs. 18-19).
    """
    check_model(model)
    r, rho = sp.sympify(r), sp.sympify(rho)
    if model == "exact":
        return general_ramp(rho, r - rho, ramp_slope(r, rho))
    # first-order linear piece: g - t = 2 rho / r (t - r/2)  =>  g = (1 + 2rho/r) t - rho
    linear = (1 + 2 * rho / r, -rho)
    k_lo, k_hi = (rho, r - rho) if model == "taylor" else (sp.Integer(0), r)
    return UnitPieces(k_lo, k_hi, {
        "lower": (sp.Integer(0), sp.Integer(0)),
        "linear": linear,
        "upper": (sp.Integer(0), r),
    })


def phi(t, r, rho) -> sp.Expr:
    """The min-cost ramp ``phi(t; r, rho) = r/(r-2rho) ([t-rho]_+ - [t-(r-rho)]_+)``
    (docs/math.md §2)."""
    t, r, rho = map(sp.sympify, (t, r, rho))
    return ramp_slope(r, rho) * (sp.Max(t - rho, 0) - sp.Max(t - (r - rho), 0))
