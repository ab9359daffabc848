"""Closed-form per-piece solutions of the score and probability flows, and the early-stopping
thresholds (docs/math.md §4, §5; paper Lemma D.3, App. D.2-D.3, eqs. 64-88).

Per coordinate ``t = u_n^T (y - x_0)`` of orthogonal data, with the unit's response
``g(t) = A t + B`` on the current piece, the flows are scalar affine ODEs:

* score flow (eq. 14, rescaled time ``tau``): ``dt/dtau = (A - 1) t + B`` with fixed ``rho``;
* probability flow (eq. 12, log-noise time ``s = ln(sigma_max/sigma)``):
  ``dt/ds = g_{rho(s)}(t) - t`` with ``rho(s) = rho_0 e^{-s}``, ``rho_0 = c sigma_max``.

Every function returns a SymPy expression; :mod:`theory.derive` verifies each against its ODE.
"""
from __future__ import annotations

import sympy as sp

from .pieces import check_model, unit_pieces

t0, r, rho, rho0, tau, s = sp.symbols("t0 r rho rho0 tau s", positive=True)
sigma_max, c = sp.symbols("sigma_max c", positive=True)
alpha, beta, z0, time = sp.symbols("alpha beta z0 t", real=True)


def lemma_d3(alpha=alpha, beta=beta, z0=z0, time=time) -> sp.Expr:
    """Lemma D.3 (eq. 60): ``dz/dt = alpha z + beta``, ``z(0) = z0`` has
    ``z(t) = (z0 + beta/alpha) e^{alpha t} - beta/alpha``."""
    return (z0 + beta / alpha) * sp.exp(alpha * time) - beta / alpha


def lemma_d4(M: sp.Matrix, b: sp.Matrix, z0: sp.Matrix, time=time) -> sp.Matrix:
    """Lemma D.4 (eq. 105): ``dz/dt = M z + b`` (``M`` non-singular) has
    ``z(t) = e^{M t}(z0 + M^{-1} b) - M^{-1} b``."""
    shift = M.inv() * b
    return (M * time).exp() * (z0 + shift) - shift


def rho_of_s(rho0=rho0, s=s) -> sp.Expr:
    """``rho(s) = rho_0 e^{-s}``: the noise radius along the probability flow (App. A)."""
    return rho0 * sp.exp(-s)


def rescaled_time(rho0=rho0, s=s) -> sp.Expr:
    """``T(s) = int_0^s rho(s') ds' = rho_0 (1 - e^{-s})`` (eqs. 78-82); bounded by ``rho_0``."""
    return rho0 * (1 - sp.exp(-s))


# -- score flow (fixed rho) -------------------------------------------------------------------
def score_flow_piece(piece: str, model: str = "exact", t0=t0, r=r, rho=rho, tau=tau) -> sp.Expr:
    """``t(tau)`` on one piece of the score flow, started at ``t0`` (docs/math.md §4, eqs. 45-51).

    ``lower``: ``t0 e^{-tau}``; ``upper``: ``r + (t0 - r) e^{-tau}``; ``linear``:
    ``r/2 + (t0 - r/2) e^{(a - 1) tau}`` with ``a - 1 = 2 rho/(r - 2 rho)`` (exact) or ``2 rho / r``
    (Taylor models).  Valid while the solution stays on the piece.
    """
    check_model(model)
    if piece == "lower":
        return t0 * sp.exp(-tau)
    if piece == "upper":
        return r + (t0 - r) * sp.exp(-tau)
    if piece == "linear":
        return r / 2 + (t0 - r / 2) * sp.exp(linear_rate(model, r, rho) * tau)
    raise ValueError(f"unknown piece {piece!r}")


def linear_rate(model: str, r=r, rho=rho) -> sp.Expr:
    """Growth rate of the linear piece's score, ``a - 1``: ``2rho/(r - 2rho)`` (exact), ``2rho/r``
    (Taylor models, eq. 19)."""
    slope = unit_pieces(model, r, rho).coefficients["linear"][0]
    return sp.factor(sp.together(slope - 1))


def tau_exit(model: str = "exact", t0=t0, r=r, rho=rho) -> sp.Expr:
    """Rescaled time at which the score flow leaves the linear piece (docs/math.md §4):
    ``ln((r/2 - k)/|t0 - r/2|) / (a - 1)`` with ``k`` the lower kink (``rho``, or ``0`` in
    ``taylor-fixed-kinks``).  Grows like ``1/rho`` as ``rho -> 0`` (Thm 4.3 (ii) witnesses)."""
    kink = kinks(model, r, rho)[0]
    return sp.log((r / 2 - kink) / sp.Abs(t0 - r / 2)) / linear_rate(model, r, rho)


# -- probability flow ---------------------------------------------------------------------------
def probability_flow_piece(piece: str, model: str = "exact", t0=t0, r=r, rho0=rho0, s=s) -> sp.Expr:
    """``t(s)`` on one piece of the probability flow (docs/math.md §4, eqs. 64-86).

    Flat pieces: ``t0 e^{-s}`` and ``r + (t0 - r) e^{-s}``.  Linear piece, exact model:
    ``r/2 + (t0 - r/2)(r - 2 rho(s))/(r - 2 rho_0)``; Taylor models:
    ``r/2 + (t0 - r/2) exp(2 T(s)/r)``.
    """
    check_model(model)
    if piece == "lower":
        return t0 * sp.exp(-s)
    if piece == "upper":
        return r + (t0 - r) * sp.exp(-s)
    if piece != "linear":
        raise ValueError(f"unknown piece {piece!r}")
    if model == "exact":
        return r / 2 + (t0 - r / 2) * (r - 2 * rho_of_s(rho0, s)) / (r - 2 * rho0)
    return r / 2 + (t0 - r / 2) * sp.exp(2 * rescaled_time(rho0, s) / r)


def probability_flow_limit(piece: str, model: str = "exact", t0=t0, r=r, rho0=rho0) -> sp.Expr:
    """``lim_{s -> oo}`` of :func:`probability_flow_piece` (valid if the piece is never left).

    Exact model, linear piece: ``r/2 + (t0 - r/2) r/(r - 2 rho_0)``, strictly inside ``(0, r)``.
    Taylor models: ``r/2 + (t0 - r/2) e^{2 rho_0 / r}``.
    """
    return sp.limit(probability_flow_piece(piece, model, t0, r, rho0, s), s, sp.oo)


def kinks(model: str, r=r, rho=rho) -> tuple:
    """The two kinks of a unit in ``model``: ``(rho, r - rho)``, or ``(0, r)`` for fixed kinks
    (those of :func:`theory.pieces.unit_pieces`)."""
    unit = unit_pieces(model, r, rho)
    return unit.k_lo, unit.k_hi


# -- early stopping (Thm 4.4, B.3) -------------------------------------------------------------
def c0_coordinate(model: str, t0=t0, r=r, sigma_max=sigma_max) -> sp.Expr:
    """Threshold on ``c`` for one coordinate ``0 < t0 < r`` to end on a vertex coordinate.

    exact / ``taylor``: ``min(t0, r - t0)/sigma_max`` (the coordinate starts on a flat piece
    iff ``c sigma_max >= min(t0, r - t0)``; from the linear piece it never leaves it).
    ``taylor-fixed-kinks``: ``r/(2 sigma_max) ln(r/|2 t0 - r|)`` (the linear piece reaches a kink
    iff ``|t0 - r/2| e^{2 c sigma_max/r} >= r/2``).  Infinite (``oo``) at ``t0 = r/2``.
    """
    check_model(model)
    if model == "taylor-fixed-kinks":
        return r / (2 * sigma_max) * sp.log(r / sp.Abs(2 * t0 - r))
    return sp.Min(t0, r - t0) / sigma_max


def c0_threshold(model: str, coordinates, radii, sigma_max) -> sp.Expr | None:
    """``c_0 = max_{n in S} c0_coordinate(t_n, r_n)`` over the coordinates with ``0 < t_n < r_n``.

    Returns ``None`` when ``S`` is empty (the closest hyperbox point is already a vertex: no
    finite threshold) and ``oo`` when a fixed-kinks coordinate sits exactly at ``r_n/2``.
    """
    inside = [(tn, rn) for tn, rn in zip(coordinates, radii) if bool(0 < tn) and bool(tn < rn)]
    if not inside:
        return None
    if model == "taylor-fixed-kinks" and any(sp.sympify(2 * tn - rn).is_zero for tn, rn in inside):
        return sp.oo  # a midpoint coordinate never reaches a kink: no finite threshold
    return sp.Max(*[c0_coordinate(model, tn, rn, sigma_max) for tn, rn in inside])


def reaches_vertex_fixed_kinks(t0=t0, r=r, rho0=rho0) -> sp.Expr:
    """``taylor-fixed-kinks`` criterion: ``|t0 - r/2| e^{2 rho_0 / r} >= r/2`` (docs/math.md §5)."""
    return sp.Abs(t0 - r / 2) * sp.exp(2 * rho0 / r) >= r / 2
