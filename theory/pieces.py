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
        if bool(t <= self.k_lo):
            return "lower"
        if bool(t >= self.k_hi):
            return "upper"
        return "linear"

    def response(self, t) -> sp.Expr:
        """``g(t)`` as one SymPy ``Piecewise`` (kinks belong to the flat pieces)."""
        return sp.Piecewise(
            (self.value("lower", t), t <= self.k_lo),
            (self.value("upper", t), t >= self.k_hi),
            (self.value("linear", t), True),
        )

    def subs(self, *args, **kwargs) -> "UnitPieces":
        return UnitPieces(
            sp.sympify(self.k_lo).subs(*args, **kwargs),
            sp.sympify(self.k_hi).subs(*args, **kwargs),
            {p: tuple(sp.sympify(c).subs(*args, **kwargs) for c in ab)
             for p, ab in self.coefficients.items()},
        )


def general_ramp(lo, hi, slope) -> UnitPieces:
    """``slope ([t - lo]_+ - [t - hi]_+)``: 0 below ``lo``, ``slope (hi - lo)`` above ``hi``."""
    lo, hi, slope = map(sp.sympify, (lo, hi, slope))
    return UnitPieces(lo, hi, {
        "lower": (sp.Integer(0), sp.Integer(0)),
        "linear": (slope, -slope * lo),
        "upper": (sp.Integer(0), slope * (hi - lo)),
    })


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
