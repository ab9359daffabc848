"""Exact solutions of the score and probability flows, used as an integrator (docs/math.md §3-§4).

Two exact integrators, both vectorised over many initial points:

**Orthogonal data, both flows, all three models** (:func:`orthogonal_score_flow`,
:func:`orthogonal_probability_flow`).  The coordinates ``t_n = u_n^T (y - x_0)`` decouple and each
follows the per-piece closed forms of :mod:`theory.closed_forms` (docs/math.md §4, paper
eqs. 45-88), which are *lambdified here, not re-typed*: ``score_flow_piece``, ``tau_exit``,
``probability_flow_piece``, ``probability_flow_limit``; the exit time of the ``taylor-fixed-kinks``
middle piece in the probability flow is ``sympy.solve`` of ``probability_flow_piece = kink``.
The component orthogonal to the data span follows the lower-piece law ``t0 e^{-tau}``.
Piece switches: score flow, the middle piece is left at ``tau_exit`` towards the nearer kink and
the flat law continues from the kink; probability flow, in the ``exact`` and ``taylor`` models
every piece is invariant (docs/math.md §4, checked in ``tests/test_exact.py``), in
``taylor-fixed-kinks`` the middle piece reaches its kink (``0`` or ``r``) at a finite ``s`` iff
``|t0 - r/2| e^{2 rho_0/r} > r/2`` and stays there.

**Any ridge dataset, score flow** (:class:`PiecewiseAffineScoreFlow`).  With the unit pieces held
fixed the rescaled score flow (eq. 14) ``dy/dtau = h(y) - y`` is affine with the *symmetric*
matrix ``J - I``, ``J = sum_n A_n u_n u_n^T`` (docs/math.md §2).  In coordinates ``c`` of the data
span (orthonormal basis ``B``; the orthogonal part decays as ``e^{-tau}``) it is integrated exactly by
eigendecomposition, ``c(tau) = c_0 + Q diag((e^{lambda tau} - 1)/lambda) Q^T f_0``.  Each unit's
projection is then a sum of exponentials; the next kink time is found by a *certified march*
(:func:`_march`): the variation of ``sum_k C_k (e^{lambda_k tau} - 1)/lambda_k`` over
``[tau_a, tau_b]`` is at most ``sum_k |C_k| (phi_k(tau_b) - phi_k(tau_a))`` (each ``phi_k`` is
increasing), so a step is taken only where no crossing is possible, and the march converges onto
the first crossing (or proves there is none).  This is the vectorised form of "scalar root
finding on each unit's projection": it cannot skip a double crossing, which a sign-change
bracket (``brentq``) can.  Filippov sliding (``taylor-fixed-kinks`` on obtuse data) is a region
too: the sliding units' projections are held at their kink, the field is projected onto the
constraint set (still symmetric: ``P (J - I) P``), and the sliding ends when the equivalent
response ``gamma`` leaves the interval spanned by the two one-sided responses.

Conventions.  A start exactly on a kink is on the flat piece (docs/math.md §5 "Kink starts").  At a
kink reached during the flow, the piece is chosen from the two one-sided normal velocities
(:func:`kink_transition`): both up -> above, both down -> below, attracting from both sides ->
slide along the kink (Filippov), repelling (only possible for a start on the kink) -> the flat
piece.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import sympy as sp

from theory import closed_forms as cf
from theory.pieces import KINK_IS_FLAT, PIECES, check_model

from .evaluate import LINEAR, LOWER, UPPER, CompiledDenoiser, piece_codes

#: Region codes beyond the three pieces: a unit sliding along its lower / upper kink (Filippov).
SLIDE_LO, SLIDE_HI = 3, 4

#: Absolute tolerance (in units of ``max_n r_n``) at which a unit counts as having reached its
#: kink in the certified march: float64 rounding of ``t_n`` is ~1e-16 r, the integrator's own
#: error ~1e-14 r; 1e-13 keeps the march from chasing rounding noise.
KINK_TOL = 1e-13
#: Eigenvalues this close to 0 are treated as 0 when taking ``tau -> infinity`` (their amplitude
#: must then vanish; rounding leaves ~1e-16).
LAMBDA_TOL = 1e-12
#: Normal velocities (relative to the kink, in units of ``max r`` per unit time) below this count
#: as zero when choosing the piece at a kink: a flat piece whose fixed point is the kink itself
#: moves at a speed equal to the distance from it, ~KINK_TOL r there.
VELOCITY_TOL = 100 * KINK_TOL
#: Mode coefficients below this (times ``max r``) are float64 noise of ``t_n ~ r`` (8 ulp).
COEFF_NOISE = 8 * np.finfo(float).eps
#: Eigenvalues within this (times ``max(1, max |lambda|)``) of zero are zero: ``eigh`` computes
#: them to ~eps ||J||, and 64 eps keeps a rounded zero from becoming a growth rate.
EIG_NOISE = 64 * np.finfo(float).eps
#: Iterations of the certified march per round before a checkpoint (no switch) is taken.
MARCH_ITERATIONS = 200
#: A round never advances a point with an unstable mode beyond ``MAX_GROWTH / lambda_max`` in
#: rescaled time (``e^{40}`` ~ 2e17: float64 would lose the stable components).
MAX_GROWTH = 40.0
#: Safety cap on the number of rounds (kink switches plus checkpoints) of one integration.
MAX_ROUNDS = 10_000


# ================================================================================================
# Orthogonal data: per-coordinate closed forms (lambdified from theory.closed_forms)
# ================================================================================================
class OrthogonalClosedForms:
    """NumPy versions of the per-piece closed forms of :mod:`theory.closed_forms` for one model."""

    def __init__(self, model: str):
        check_model(model)
        self.model = model
        t0, r, rho, rho0, tau, s = cf.t0, cf.r, cf.rho, cf.rho0, cf.tau, cf.s
        lam = lambda args, e: sp.lambdify(args, e, modules="numpy")  # noqa: E731
        self.score = {
            "lower": lam((t0, r, rho, tau), cf.score_flow_piece("lower", model)),
            "upper": lam((t0, r, rho, tau), cf.score_flow_piece("upper", model)),
            "linear": lam((t0, r, rho, tau), cf.score_flow_piece("linear", model)),
        }
        self.tau_exit = lam((t0, r, rho), cf.tau_exit(model))
        self.prob = {p: lam((t0, r, rho0, s), cf.probability_flow_piece(p, model))
                     for p in ("lower", "upper", "linear")}
        self.prob_limit = {p: lam((t0, r, rho0), cf.probability_flow_limit(p, model))
                           for p in ("lower", "upper", "linear")}
        self.s_exit = None
        if model == "taylor-fixed-kinks":
            k = sp.Symbol("k", real=True)
            t0r = sp.Symbol("t0", real=True)
            piece = cf.probability_flow_piece("linear", model).subs(t0, t0r)
            self.s_exit = lam((t0r, r, rho0, k), _verified_branch(piece, k, t0r))

    # -- score flow --------------------------------------------------------------------------
    def score_coordinates(self, T0, r, rho, k_lo, k_hi, P, times):
        """``t_n(tau)`` for every time, shape ``(len(times),) + T0.shape``; and the exit times.

        Each law is evaluated only on the entries of its piece (the middle piece's exit time
        and continuation only where a unit starts on it: usually few entries)."""
        shape = np.shape(T0)
        rb, klo, khi = (np.broadcast_to(a, shape) for a in (r, k_lo, k_hi))
        te = np.full(shape, np.inf)
        lin_ = P == LINEAR
        with np.errstate(all="ignore"):
            t_l, r_l = T0[lin_], rb[lin_]
            te_l = self.tau_exit(t_l, r_l, rho) * np.ones_like(t_l)
            te[lin_] = te_l
            below = t_l < r_l / 2
            kink = np.where(below, klo[lin_], khi[lin_])
            out = []
            for tau in np.atleast_1d(np.asarray(times, dtype=float)):
                v = np.where(P == LOWER, self.score["lower"](T0, rb, rho, tau),
                             self.score["upper"](T0, rb, rho, tau))
                lin = self.score["linear"](t_l, r_l, rho, tau) * np.ones_like(t_l)
                # at t0 = r/2 exactly (tau_exit = oo) the middle law is the constant r/2
                lin = np.where(np.isinf(te_l) & (t_l == r_l / 2), t_l, lin)
                after = tau - te_l
                flat = np.where(below, self.score["lower"](kink, r_l, rho, after),
                                self.score["upper"](kink, r_l, rho, after))
                v[lin_] = np.where(after >= 0, flat, lin)
                out.append(v)
        return np.array(out), te

    # -- probability flow ----------------------------------------------------------------------
    def probability_coordinates(self, T0, r, rho0, P, times):
        """``t_n(s)`` for every ``s`` in ``times`` (``np.inf`` allowed); and the exit ``s``.

        As in :meth:`score_coordinates`, each law is evaluated on its piece's entries only."""
        shape = np.shape(T0)
        rb = np.broadcast_to(r, shape)
        lin_ = P == LINEAR
        t_l, r_l = T0[lin_], rb[lin_]
        se = np.full(shape, np.inf)
        with np.errstate(all="ignore"):
            if self.s_exit is not None:
                kink = np.where(t_l < r_l / 2, 0.0, r_l)
                se_l = self.s_exit(t_l, r_l, rho0, kink) * np.ones_like(t_l)
                se_l = np.where(np.isfinite(se_l) & (se_l >= 0), se_l, np.inf)
                se[lin_] = se_l
            out = []
            for s in np.atleast_1d(np.asarray(times, dtype=float)):
                if np.isinf(s):
                    law = {p: (lambda t, rr, p=p: self.prob_limit[p](t, rr, rho0)) for p in PIECES}
                else:
                    law = {p: (lambda t, rr, p=p: self.prob[p](t, rr, rho0, s)) for p in PIECES}
                v = np.where(P == LOWER, law["lower"](T0, rb), law["upper"](T0, rb)) * 1.0
                lin = law["linear"](t_l, r_l) * np.ones_like(t_l)
                if self.s_exit is not None:
                    after = s - se_l
                    flat = np.where(t_l < r_l / 2, self.prob["lower"](kink, r_l, rho0, after),
                                    self.prob["upper"](kink, r_l, rho0, after))
                    lin = np.where(after >= 0, flat, lin)
                v[lin_] = lin
                out.append(v)
        return np.array(out), se


def _verified_branch(expr, k, t0):
    """The solution ``s`` of ``expr(s) = k`` (from ``sympy.solve``) that checks numerically."""
    probe = {t0: sp.Rational(1, 10), cf.r: 1, cf.rho0: sp.Rational(2, 5), k: 0}
    for sol in sp.solve(sp.Eq(expr, k), cf.s):
        val = sp.N(sol.subs(probe), 30)
        if val.is_real and abs(sp.N(expr.subs(probe).subs(cf.s, val), 30)) < 1e-20:
            return sol
    raise RuntimeError("no branch of the fixed-kinks exit time verifies")  # pragma: no cover


@lru_cache(maxsize=None)
def orthogonal_forms(model: str) -> OrthogonalClosedForms:
    """Cached :class:`OrthogonalClosedForms` for ``model``."""
    return OrthogonalClosedForms(model)


#: Points per chunk of the orthogonal closed forms: their temporaries are a few arrays of
#: ``chunk x N`` floats, so memory stays a small multiple of the input ``(n, d)``.
CHUNK = 512


def _orthogonal_flow(cd: CompiledDenoiser, Y0, times, coordinates, decay):
    """Shared driver of the orthogonal closed forms, in chunks of :data:`CHUNK` points.

    ``coordinates(T0, P_rho)`` returns ``(t_n at every time, exit times)``; ``decay[k]`` is the
    lower-piece factor of the component orthogonal to the data span at ``times[k]`` (0 at the
    limit, where that component is not formed at all).  ``y = o + T dual + z_perp decay`` with
    ``dual = (U U^T)^{-1} U`` (:attr:`CompiledDenoiser.dual`): the span part from the
    projections ``T`` without a solve per point."""
    Y0 = np.asarray(Y0, dtype=float)
    n = Y0.shape[0]
    times = np.atleast_1d(np.asarray(times, dtype=float))
    Y = np.empty((times.size, n, cd.d))
    exits = np.empty((n, cd.N))
    dual = cd.dual
    for start in range(0, n, CHUNK):
        Z = Y0[start:start + CHUNK] - cd.origin
        T0 = Z @ cd.U.T
        vals, ex_ = coordinates(T0)
        exits[start:start + CHUNK] = ex_
        Zperp = Z - T0 @ dual if np.any(decay != 0) else None
        for k, f in enumerate(decay):
            Yk = cd.origin + vals[k] @ dual
            if f != 0:
                Yk += Zperp * f
            Y[k, start:start + CHUNK] = Yk
    return Y, exits


def orthogonal_score_flow(cd: CompiledDenoiser, Y0, rho: float, times=(np.inf,)):
    """Exact score flow (eq. 14) of orthogonal data for a batch, at rescaled ``times``.

    Returns ``(Y, switches)``: ``Y`` of shape ``(len(times), n, d)``; ``switches`` (n,) counts the
    coordinates that leave the middle piece before the last finite time (or ever, if the last
    time is ``inf``).  ``np.inf`` in ``times`` gives the limit ``tau -> oo``.
    """
    p = cd.params(rho)
    forms = orthogonal_forms(cd.model)
    times = np.atleast_1d(np.asarray(times, dtype=float))

    def coordinates(T0):
        return forms.score_coordinates(T0, cd.r, rho, p.k_lo, p.k_hi, cd.pieces(T0, rho), times)
    decay = np.array([forms.score["lower"](1.0, 1.0, rho, t) for t in times])
    Y, te = _orthogonal_flow(cd, Y0, times, coordinates, decay)
    switches = np.sum(np.isfinite(te) & (te <= np.max(times)), axis=1)
    return Y, switches


def orthogonal_probability_flow(cd: CompiledDenoiser, Y0, rho0: float, times=(np.inf,)):
    """Exact probability flow (eq. 12, log-noise time ``s``) of orthogonal data, at ``times``.

    ``rho_0 = c sigma_max``; ``np.inf`` in ``times`` gives the limit ``sigma -> 0``.  Returns
    ``(Y, switches)`` as :func:`orthogonal_score_flow` (switches happen only in
    ``taylor-fixed-kinks``).
    """
    forms = orthogonal_forms(cd.model)
    times = np.atleast_1d(np.asarray(times, dtype=float))

    def coordinates(T0):
        return forms.probability_coordinates(T0, cd.r, rho0, cd.pieces(T0, rho0), times)
    with np.errstate(over="ignore"):
        decay = np.array([forms.prob_limit["lower"](1.0, 1.0, rho0) if np.isinf(t)
                          else forms.prob["lower"](1.0, 1.0, rho0, t) for t in times], dtype=float)
    Y, se = _orthogonal_flow(cd, Y0, times, coordinates, decay)
    switches = np.sum(np.isfinite(se) & (se <= np.max(times)), axis=1)
    return Y, switches


# ================================================================================================
# Any ridge dataset: the score flow is piecewise affine with symmetric matrices
# ================================================================================================
def kink_transition(v_below, v_above, flat_is_below, vtol=0.0):
    """Piece chosen at a kink from the one-sided normal velocities (relative to the kink).

    Velocities within ``vtol`` of zero count as zero (tangential).  Returns ``0`` (below), ``1`` (above) or ``2`` (slide, Filippov): both velocities up -> above;
    both down -> below; attracting (below pushes up, above pushes down) -> slide; tangential or
    repelling -> the flat piece (``flat_is_below``: the kink's flat side is below it).
    """
    v_below, v_above = np.asarray(v_below, dtype=float), np.asarray(v_above, dtype=float)
    v_below = np.where(np.abs(v_below) <= vtol, 0.0, v_below)
    v_above = np.where(np.abs(v_above) <= vtol, 0.0, v_above)
    # the kink convention (theory.pieces.KINK_IS_FLAT) decides where nothing moves the unit
    flat = np.where(np.asarray(flat_is_below) == KINK_IS_FLAT, 0, 1)
    out = np.where((v_below > 0) & (v_above > 0), 1,
                   np.where((v_below < 0) & (v_above < 0), 0, flat))
    return np.where((v_below > 0) & (v_above < 0), 2, out)


def held_pieces(code):
    """The piece whose affine response is used for each unit of a region code: sliding units
    are held on the piece *below* their kink (the Filippov projection removes the difference)."""
    code = np.asarray(code)
    return np.where(code == SLIDE_LO, LOWER, np.where(code == SLIDE_HI, LINEAR, code))


@dataclass
class _Region:
    """Affine dynamics ``dc/dtau = P (J c + b)`` of one activation pattern (with sliding units).

    In mode coordinates ``y = Q^T c`` (``c = cfix + Q y``; ``cfix`` holds the sliding units on
    their kinks, zero without sliding) the dynamics decouple: ``dy_k/dtau = lam_k y_k + g_k``."""

    code: tuple
    J: np.ndarray            # (m, m) symmetric: Ut^T diag(A) Ut - I
    b: np.ndarray            # (m,)
    Pr: np.ndarray           # (m, m) projector onto the sliding constraint set (I if none)
    lam: np.ndarray = field(default=None)   # (m,) eigenvalues of P J P on range(P), padded
    Q: np.ndarray = field(default=None)     # (m, m) eigenvectors, zero-padded
    L: np.ndarray = field(default=None)     # (N, m) event quantities X = L c + Lc
    Lc: np.ndarray = field(default=None)    # (N,)
    lo: np.ndarray = field(default=None)    # (N,) allowed interval of X (open/closed: see march)
    hi: np.ndarray = field(default=None)
    shift: np.ndarray = field(default=None)  # (m,) g_k / lam_k per non-marginal mode, else nan
    cfix: np.ndarray = field(default=None)   # (m,) the sliding units' kink offset (else 0)
    g: np.ndarray = field(default=None)      # (m,) Q^T (J cfix + b): constant mode forcing
    LQ: np.ndarray = field(default=None)     # (N, m) event quantities per mode: L Q
    K0: np.ndarray = field(default=None)     # (N,) L cfix + Lc


def _modal_state(C, Q, lam, shift, g, scale):
    """Mode coordinates ``y = Q^T c``, velocities ``a = lam y + g`` and the form of each mode.

    ``modal[k]``: the mode is advanced as ``y_k(t) = -shift_k + (y_k + shift_k) e^{lam_k t}``
    (its fixed point ``-shift_k`` plus a decaying or growing part), which never cancels: a start
    at ``|y| = 1e300`` decays to the data with float64's relative accuracy at every time.  The
    other modes (marginal ones, or a fixed point so far away that the difference would lose
    more than the state) are advanced as ``y_k + a_k (e^{lam_k t} - 1)/lam_k``.  A non-marginal
    mode's velocity is computed as ``lam (y + shift)``: its rounding is then ~eps |lam| |y|, so
    a start a few ulp off a saddle still leaves along its unstable mode."""
    y = np.einsum("nji,nj->ni", Q, C)
    finite = np.isfinite(shift)
    sh = np.where(finite, shift, 0.0)
    with np.errstate(all="ignore"):
        a = np.where(finite, lam * (y + sh), g + lam * y)
    # marginal modes (rho = 0: slope-1 middle pieces) carry only rounding noise
    a = np.where((np.abs(lam) <= LAMBDA_TOL) & (np.abs(a) <= COEFF_NOISE * scale), 0.0, a)
    modal = finite & (np.abs(sh) <= np.maximum(np.abs(y), scale))
    return y, a, modal


def _advance_modes(y, a, modal, lam, shift, t):
    """Mode coordinates after a time ``t`` (``(n,)`` or ``(n, 1)``, ``inf`` allowed: stable modes
    reach their fixed point, non-stable modes must then have ``a = 0`` and stay)."""
    t = np.asarray(t, dtype=float).reshape(-1, 1)
    sh = np.where(np.isfinite(shift), shift, 0.0)
    with np.errstate(all="ignore"):
        E = np.where(np.isinf(t) & (lam < 0), 0.0, np.exp(lam * t))
        y_modal = -sh + (y + sh) * E
        y_phi = y + _phi(lam, t, a) * a
    return np.where(a == 0, y, np.where(modal, y_modal, y_phi))


class PiecewiseAffineScoreFlow:
    """Exact rescaled score flow (eq. 14) of any ridge dataset at a fixed ``rho`` (or ``rho = 0``).

    ``run(Y0)`` integrates a batch exactly, region by region (see the module docstring).  Works
    in the coordinates ``c`` of the data span (``y = o + c B + z_perp``), so the cost per point
    and round is ``O(N m)`` with ``m = dim span <= N``.
    """

    def __init__(self, cd: CompiledDenoiser, rho: float):
        self.cd = cd
        self.rho = float(rho)
        self.p = cd.params(self.rho)
        _, sv, Vt = np.linalg.svd(cd.U, full_matrices=False)
        m = int(np.sum(sv > 1e-12 * sv[0]))  # rank of the directions (2 for the triangle)
        self.B = Vt[:m]                       # (m, d) orthonormal basis of the span
        self.Ut = cd.U @ self.B.T             # (N, m): t = Ut c
        self.m, self.N = m, cd.N
        self.scale = float(np.max(cd.r))
        self.tol = KINK_TOL * self.scale
        self._regions: dict = {}

    # -- regions ---------------------------------------------------------------------------
    def held_pieces(self, code):
        return held_pieces(code)

    def region(self, code) -> _Region:
        key = tuple(int(x) for x in code)
        reg = self._regions.get(key)
        if reg is None:
            reg = self._build(key)
            self._regions[key] = reg
        return reg

    def _build(self, code) -> _Region:
        p, Ut, m, N = self.p, self.Ut, self.m, self.N
        cols = np.arange(N)
        held = self.held_pieces(code)
        A, Bc = p.A[held, cols], p.B[held, cols]
        J = Ut.T @ (A[:, None] * Ut) - np.eye(m)
        b = Ut.T @ Bc
        code_arr = np.array(code)
        S = np.flatnonzero(code_arr >= SLIDE_LO)
        if S.size:
            Us = Ut[S]
            Mss_inv = np.linalg.inv(Us @ Us.T)
            Pr = np.eye(m) - Us.T @ Mss_inv @ Us
            w, V = np.linalg.eigh(Pr)
            Z = V[:, w > 0.5]                     # basis of range(P)
        else:
            Pr, Z = np.eye(m), np.eye(m)
        lam_r, Q_r = np.linalg.eigh(Z.T @ J @ Z)
        # eigenvalues at eigh's rounding level (~eps ||J||) are zero: a rounded 1e-16 would turn
        # a far start's coordinate (up to 1e308) into a spurious velocity
        lam_r = np.where(np.abs(lam_r) <= EIG_NOISE * max(1.0, float(np.max(np.abs(lam_r)))),
                         0.0, lam_r)
        lam = np.full(m, -1.0)
        Q = np.zeros((m, m))
        lam[:lam_r.size], Q[:, :lam_r.size] = lam_r, Z @ Q_r
        # event quantities: free units X = t_n; sliding units X = gamma_n (equivalent response)
        L = Ut.copy()
        Lc = np.zeros(N)
        lo = np.where(held == LOWER, -np.inf, np.where(held == LINEAR, p.k_lo, p.k_hi))
        hi = np.where(held == LOWER, p.k_lo, np.where(held == LINEAR, p.k_hi, np.inf))
        if S.size:
            Mss_inv_Us = Mss_inv @ Us
            kink = np.where(code_arr[S] == SLIDE_LO, p.k_lo[S], p.k_hi[S])
            below = np.where(code_arr[S] == SLIDE_LO, LOWER, LINEAR)
            above = below + 1
            g_below = p.A[below, S] * kink + p.B[below, S]
            g_above = p.A[above, S] * kink + p.B[above, S]
            L[S] = -Mss_inv_Us @ J
            Lc[S] = g_below - Mss_inv_Us @ b
            lo[S], hi[S] = g_above, g_below
        cfix = np.zeros(m)
        if S.size:
            cfix = Us.T @ (Mss_inv @ np.where(code_arr[S] == SLIDE_LO, p.k_lo[S], p.k_hi[S]))
        g = Q.T @ (J @ cfix + b)
        shift = np.full(m, np.nan)
        modal = (np.abs(lam) > LAMBDA_TOL) & np.any(Q != 0, axis=0)
        shift[modal] = g[modal] / lam[modal]
        return _Region(code, J, b, Pr, lam, Q, L, Lc, lo, hi, shift, cfix, g, L @ Q,
                       L @ cfix + Lc)

    def drift(self, code, C):
        """Field ``P (J c + b)`` of region ``code`` at span coordinates ``C`` (n, m)."""
        reg = self.region(code)
        return (C @ reg.J.T + reg.b) @ reg.Pr.T

    # -- integration ------------------------------------------------------------------------
    def initial_codes(self, C):
        """Pieces at the start (kinks are flat)."""
        return piece_codes(C @ self.Ut.T, self.p.k_lo, self.p.k_hi).astype(np.int64)

    def run(self, Y0, tau_end=np.inf, record=False):
        """Integrate the batch ``Y0`` (n, d) to ``tau_end``; return a :class:`AffineRun`."""
        cd = self.cd
        Y0 = np.asarray(Y0, dtype=float)
        Zs = Y0 - cd.origin
        C = Zs @ self.B.T
        Zperp = Zs - C @ self.B
        n = C.shape[0]
        codes = self.initial_codes(C)
        tau = np.zeros(n)
        tau_end = np.broadcast_to(np.asarray(tau_end, dtype=float), (n,)).copy()
        switches = np.zeros(n, dtype=np.int64)
        active = np.ones(n, dtype=bool)
        stalled = np.zeros(n, dtype=np.int64)  # consecutive rounds without progress in tau
        segments = [[] for _ in range(n)] if record else None
        for _ in range(MAX_ROUNDS):
            idx = np.flatnonzero(active)
            if idx.size == 0:
                break
            C_new, tau_hit, j_hit, regs = self._round(C[idx], codes[idx], tau_end[idx] - tau[idx])
            if record:
                for k, i in enumerate(idx):
                    segments[i].append((tau[i], C[i].copy(), regs[0][regs[1][k]],
                                        min(tau_hit[k], tau_end[i] - tau[i])))
            finished = ~np.isfinite(tau_hit) | (tau[idx] + tau_hit >= tau_end[idx])
            step = np.where(finished, tau_end[idx] - tau[idx], tau_hit)
            C[idx] = C_new
            tau[idx] = tau[idx] + step
            stalled[idx] = np.where(step > 0, 0, stalled[idx] + 1)
            # a point switching back and forth at one instant sits on a kink with (numerically)
            # zero velocity on both sides: it is stationary there
            finished |= stalled[idx] > 4 * self.N
            done = idx[finished]
            active[done] = False
            sw = idx[~finished & (j_hit >= 0)]
            jj = j_hit[~finished & (j_hit >= 0)]
            if sw.size:
                self._switch(C, codes, sw, jj)
                switches[sw] += 1
        else:  # pragma: no cover - defensive
            raise RuntimeError("piecewise-affine integration did not finish in MAX_ROUNDS rounds")
        decay = np.exp(-tau)[:, None]  # y_perp: lower-piece law t0 e^{-tau} (docs/math.md §4)
        Y = cd.origin + C @ self.B + Zperp * decay
        return AffineRun(self, Y, tau, switches, codes, segments, Zperp)

    def _stacked(self, codes, names):
        """Per-point arrays of the regions of ``codes`` (n, N), built once per distinct region."""
        keys = codes.astype(np.int64) @ (5 ** np.arange(self.N, dtype=np.int64))
        uk, first, inv = np.unique(keys, return_index=True, return_inverse=True)
        rl = [self.region(codes[i]) for i in first]
        return rl, inv, [np.stack([getattr(r, nm) for r in rl])[inv] for nm in names]

    def _round(self, C, codes, remaining):
        """One region step for every point: exact advance to the next event (or the end)."""
        n, m, N = C.shape[0], self.m, self.N
        rl, inv, (lam, Q, shift, g, cfix, LQ, K0, lo, hi) = self._stacked(
            codes, ("lam", "Q", "shift", "g", "cfix", "LQ", "K0", "lo", "hi"))
        y, a, modal = _modal_state(C, Q, lam, shift, g, self.scale)
        # event quantities X_j(tau) = K_j + sum_k Cm_jk psi_k(tau), psi_k = e^{lam tau}/lam for
        # modal modes (K_j then holds their fixed points: no cancellation for far starts), the
        # phi_k = (e^{lam tau} - 1)/lam of the others
        K = K0 + np.einsum("nkm,nm->nk", LQ, np.where(modal, -np.where(modal, shift, 0.0), y))
        Cm = LQ * a[:, None, :]                                     # (n, N, m)
        # merge modes with equal eigenvalues and form (an eigenbasis of a repeated eigenvalue is
        # arbitrary: unmerged, its coefficients can cancel and inflate the march's variation bound)
        close = ((np.abs(lam[:, :, None] - lam[:, None, :])
                  <= 1e-12 * (1 + np.abs(lam[:, :, None])))
                 & (modal[:, :, None] == modal[:, None, :]))
        leader = np.argmax(close, axis=1)                           # (n, m) first equal mode
        onehot = leader[:, :, None] == np.arange(m)[None, None, :]  # (n, j, k)
        Cm = np.einsum("nij,njk->nik", Cm, onehot.astype(float))
        # coefficients whose displacement (Cm/lam; Cm itself for marginal modes) is below
        # float64 resolution of t_n are rounding noise (e.g. the coupling of an orthogonal
        # dataset's units after a rotation): drop them
        noise = COEFF_NOISE * self.scale * np.where(np.abs(lam) > LAMBDA_TOL, np.abs(lam), 1.0)
        Cm = np.where(np.abs(Cm) <= noise[:, None, :], 0.0, Cm)
        tau_hit, j_hit = _march(K, Cm, lam, modal, lo, hi, self.tol, remaining,
                                VELOCITY_TOL * self.scale)
        t_adv = np.where(np.isfinite(tau_hit), np.minimum(tau_hit, remaining), remaining)
        # tau -> oo without a certified exit: the non-decaying modes carry only amplitudes that
        # never move any unit out of its interval (noise, e.g. a start on a saddle): drop them
        a_adv = np.where(np.isinf(t_adv)[:, None] & (lam >= -LAMBDA_TOL), 0.0, a)
        y_new = _advance_modes(y, a_adv, modal, lam, shift, t_adv)
        C_new = cfix + np.einsum("nml,nl->nm", Q, y_new)
        return C_new, tau_hit, j_hit, (rl, inv)

    def _switch(self, C, codes, pts, units):
        """New codes for units that reached a kink (or left a sliding mode), vectorised."""
        p = self.p
        k_ = np.arange(pts.size)
        T = C[pts] @ self.Ut.T
        old = codes[pts, units]
        t = T[k_, units]
        at_lo = np.abs(t - p.k_lo[units]) <= np.abs(t - p.k_hi[units])
        at_lo = np.where(old == SLIDE_LO, True, np.where(old == SLIDE_HI, False, at_lo))
        below = np.where(at_lo, LOWER, LINEAR)
        above = below + 1
        v = []
        for side in (below, above):
            cs = codes[pts].copy()
            cs[k_, units] = side
            _, _, (J, b, Pr) = self._stacked(cs, ("J", "b", "Pr"))
            f = np.einsum("nij,nj->ni", Pr, np.einsum("nij,nj->ni", J, C[pts]) + b)
            v.append(np.einsum("nm,nm->n", self.Ut[units], f))
        choice = kink_transition(v[0], v[1], at_lo, VELOCITY_TOL * self.scale)
        # a sliding unit leaves towards the side whose one-sided response gamma reached
        for k in np.flatnonzero(old >= SLIDE_LO):
            reg = self.region(codes[pts[k]])
            gamma = reg.L[units[k]] @ C[pts[k]] + reg.Lc[units[k]]
            near_above = abs(gamma - reg.lo[units[k]]) <= abs(gamma - reg.hi[units[k]])
            choice[k] = 1 if near_above else 0
        new = np.where(choice == 0, below, np.where(choice == 1, above,
                                                    np.where(at_lo, SLIDE_LO, SLIDE_HI)))
        codes[pts, units] = new
        # snap the switched unit (and every sliding unit) exactly onto its kink (least-norm)
        kink_j = np.where(at_lo, p.k_lo[units], p.k_hi[units])
        sliding = np.any(codes[pts] >= SLIDE_LO, axis=1)
        simple = ~sliding
        if simple.any():
            uj = self.Ut[units[simple]]
            C[pts[simple]] += uj * ((kink_j[simple] - t[simple]) / np.sum(uj * uj, axis=1))[:, None]
        for k in np.flatnonzero(sliding):
            i, j = pts[k], units[k]
            A = np.union1d(np.flatnonzero(codes[i] >= SLIDE_LO), [j])
            kink = np.where(codes[i, A] == SLIDE_LO, p.k_lo[A], np.where(
                codes[i, A] == SLIDE_HI, p.k_hi[A], kink_j[k]))
            UA = self.Ut[A]
            C[i] += UA.T @ np.linalg.lstsq(UA @ UA.T, kink - UA @ C[i], rcond=None)[0]


@dataclass
class AffineRun:
    """Result of :meth:`PiecewiseAffineScoreFlow.run` (``segments`` only with ``record=True``)."""

    flow: PiecewiseAffineScoreFlow
    Y: np.ndarray
    tau: np.ndarray
    switches: np.ndarray
    codes: np.ndarray
    segments: list | None
    Zperp: np.ndarray

    def sample(self, i: int, times) -> np.ndarray:
        """The trajectory of point ``i`` at rescaled ``times`` (``inf`` = endpoint), (k, d)."""
        fl = self.flow
        segs = self.segments[i]
        out = []
        for t in np.atleast_1d(np.asarray(times, dtype=float)):
            if t >= self.tau[i]:
                if np.isfinite(self.tau[i]) and t > self.tau[i] and np.isfinite(t):
                    raise ValueError(f"time {t} is beyond the integrated range {self.tau[i]}")
                out.append(self.Y[i] if not np.isinf(t) else self.Y[i])
                continue
            for t0, c0, reg, length in reversed(segs):
                if t >= t0:
                    y, a, modal = _modal_state(c0[None], reg.Q[None], reg.lam[None],
                                               reg.shift[None], reg.g[None], fl.scale)
                    c = reg.cfix + reg.Q @ _advance_modes(y, a, modal, reg.lam[None],
                                                          reg.shift[None], t - t0)[0]
                    out.append(fl.cd.origin + c @ fl.B + self.Zperp[i] * np.exp(-t))
                    break
        return np.array(out)


def _phi(lam, tau, amp=None):
    """``(e^{lambda tau} - 1)/lambda`` (``tau`` at ``lambda = 0``), with ``tau = inf`` allowed:
    ``-1/lambda`` for stable modes, ``0`` for (near-)marginal modes whose amplitude vanishes."""
    lam = np.asarray(lam, dtype=float)
    tau = np.asarray(tau, dtype=float)
    with np.errstate(all="ignore"):
        out = np.expm1(lam * tau)
        zero = lam == 0
        if zero.any():
            out = np.where(zero, tau, out / np.where(zero, 1.0, lam))
        else:
            out /= lam
        if np.isinf(tau).any():
            inf = np.isinf(tau) & np.ones_like(lam, dtype=bool)
            lim = np.where(lam < -LAMBDA_TOL, -1.0 / np.where(lam < -LAMBDA_TOL, lam, -1.0), np.inf)
            if amp is not None:
                lim = np.where((lam >= -LAMBDA_TOL) & (amp == 0), 0.0, lim)
            out = np.where(inf, lim, out)
    return out


def _march(X0, Cm, lam, modal, lo, hi, tol, remaining, vtol):
    """First time each point's event quantities leave their intervals (certified, vectorised).

    ``X_j(tau) = X0_j + sum_k Cm_jk psi_k(tau)`` with ``psi_k = e^{lam_k tau}/lam_k`` for the
    ``modal`` modes and ``phi(lam_k, tau) = (e^{lam_k tau} - 1)/lam_k`` for the others (both have
    the derivative ``e^{lam_k tau}``, so every bound below holds for either); the allowed set
    is ``[lo_j, hi_j]``;
    ``e_j = min(X_j - lo_j, hi_j - X_j)``.  A step ``h`` from ``ta`` is taken only when the
    variation bound ``sum_k |Cm_jk| e^{lam_k ta} phi(lam_k, h)`` is at most ``e_j(ta)`` (no crossing
    possible); where the plain Newton step lands outside, the bracket is bisected.  On the
    boundary, a quantity moving inward (``e' > vtol``, or ``e' ~ 0`` and ``e'' > 0``) takes a step
    over which that sign provably persists.  Returns ``(tau_hit, j_hit)`` per point: ``inf`` / ``-1``
    when no unit ever leaves; ``j_hit = -1`` with a finite time is a checkpoint (progress without a
    switch, after :data:`MARCH_ITERATIONS` or :data:`MAX_GROWTH`).  Work is done on the flattened
    list of unresolved (point, unit) pairs only.
    """
    n, N, m = Cm.shape
    W0all = np.abs(Cm)
    lmax = np.max(np.where(np.any(W0all > 0, axis=1), lam, -np.inf), axis=1)
    with np.errstate(all="ignore"):
        horizon = np.where(lmax > 0, MAX_GROWTH / np.where(lmax > 0, lmax, 1.0), np.inf)
    horizon = np.minimum(horizon, remaining)
    # flattened pairs
    pt = np.repeat(np.arange(n), N)
    X0f, lof, hif = X0.ravel(), lo.ravel(), hi.ravel()
    Cf = Cm.reshape(n * N, m)
    Lf = np.repeat(lam, N, axis=0)
    Mf = np.repeat(modal, N, axis=0)
    W0f = np.abs(Cf)
    ta = np.zeros(n * N)
    root = np.zeros(n * N, dtype=bool)
    never = np.zeros(n * N, dtype=bool)
    best = np.full(n, np.inf)
    act = np.flatnonzero(np.ones(n * N, dtype=bool))
    tiny = 1e-300
    with np.errstate(all="ignore"):
        stable = Lf < -LAMBDA_TOL
        phi_inf = -1.0 / np.where(stable, Lf, -1.0)   # phi(lam, oo) of a stable mode
        for _it in range(MARCH_ITERATIONS):
            if act.size == 0:
                break
            C, L, Mo, W0, t = Cf[act], Lf[act], Mf[act], W0f[act], ta[act]
            x0, l_, h_ = X0f[act], lof[act], hif[act]
            E = np.exp(L * t[:, None])
            terms = C * _psi(L, t[:, None], Mo)
            X = x0 + np.sum(terms, axis=1)
            dX = np.sum(C * E, axis=1)
            d2X = np.sum(C * L * E, axis=1)
            dlo, dhi = X - l_, h_ - X
            sgn = np.where(dlo <= dhi, 1.0, -1.0)
            e, de, d2e = np.minimum(dlo, dhi), sgn * dX, sgn * d2X
            w = W0 * E
            # range of X over [t, oo): each term is monotone in tau, from its value now to its
            # limit (0 for a modal stable mode, C phi(lam, oo) otherwise; unbounded unless C = 0
            # for a non-stable mode).  Summing the terms' extremes (not |C| times a variation)
            # keeps far starts, whose terms are huge now and decay, free of cancellation.
            st_ = stable[act]
            limit = np.where(st_, np.where(Mo, 0.0, C * phi_inf[act]), 0.0)
            bounded = ~np.any(~st_ & (C != 0), axis=1)
            x_min = x0 + np.sum(np.minimum(terms, limit), axis=1)
            x_max = x0 + np.sum(np.maximum(terms, limit), axis=1)
            stays = bounded & (x_min - l_ >= -tol) & (h_ - x_max >= -tol)
            on = e <= tol
            first = on & (np.abs(de) > vtol)
            second = on & ~first
            is_never = (stays & ~(on & ((first & (de < 0)) | (second & (d2e < 0))))) \
                | (second & ~(d2e > 0) & ~(d2e < 0))
            is_root = ~is_never & ((first & (de < 0)) | (second & (d2e < 0)))
            # Newton bracket for the others moving outward
            rest = ~is_never & ~is_root
            tryN = rest & ~on & (de < 0)
            bis_t = np.full(act.size, np.nan)
            if tryN.any():
                k = np.flatnonzero(tryN)
                hN = e[k] / -de[k]
                eN = _eval_e1(x0[k], C[k], L[k], Mo[k], l_[k], h_[k], t[k] + hN)
                br = eN < 0
                if br.any():
                    kb = k[br]
                    bis_t[kb] = _bisect1(x0[kb], C[kb], L[kb], Mo[kb], l_[kb], h_[kb], t[kb],
                                         t[kb] + hN[br], tol)
                    is_root[kb] = True
                    rest[kb] = False
            # steps for the remaining pairs
            esc1 = rest & first
            esc2 = rest & second
            norm = rest & ~on
            h = np.zeros(act.size)
            if esc1.any():
                h[esc1] = 0.25 * de[esc1] / (np.sum(w[esc1] * np.abs(L[esc1]), axis=1) + tiny)
            if esc2.any():
                h[esc2] = 0.25 * d2e[esc2] / (np.sum(w[esc2] * L[esc2] ** 2, axis=1) + tiny)
            if norm.any():
                h[norm] = _newton_step(w[norm], L[norm], np.maximum(e[norm], 0.0))
            chk = np.flatnonzero(rest)
            for _k in range(60):  # verify the certificate, halve where it fails
                if chk.size == 0:
                    break
                hk, Lk, wk = h[chk], L[chk], w[chk]
                em1 = np.abs(np.expm1(Lk * hk[:, None]))
                ok = np.where(esc1[chk], np.sum(wk * em1, axis=1) <= 0.5 * de[chk],
                              np.where(esc2[chk], np.sum(wk * np.abs(Lk) * em1, axis=1) <= 0.5 * d2e[chk],
                                       np.sum(wk * _phi(Lk, hk[:, None]), axis=1) <= e[chk]))
                h[chk[~ok]] *= 0.5
                chk = chk[~ok]
            # commit
            t_new = np.where(is_never, np.inf, np.where(is_root, np.where(np.isnan(bis_t), t, bis_t),
                                                       t + h))
            ta[act] = t_new
            never[act[is_never]] = True
            root[act[is_root]] = True
            if is_root.any():
                np.minimum.at(best, pt[act[is_root]], t_new[is_root])
            keep = rest & (t_new < np.minimum(best, horizon)[pt[act]])
            act = act[keep]
    tr = np.where(root, ta, np.inf).reshape(n, N)
    tau_hit = np.min(tr, axis=1)
    j_hit = np.where(np.isfinite(tau_hit), np.argmin(tr, axis=1), -1)
    # unresolved pairs (horizon or iteration cap) give certified lower bounds: a checkpoint
    # there (no switch) if one comes before the first root
    lower = np.min(np.where(root | never, np.inf, ta).reshape(n, N), axis=1)
    lower = np.minimum(lower, horizon)
    check = lower < tau_hit
    return np.where(check, lower, tau_hit), np.where(check, -1, j_hit)


def _psi(lam, tau, modal):
    """``e^{lam tau}/lam`` for the modal modes, ``(e^{lam tau} - 1)/lam`` for the others."""
    with np.errstate(all="ignore"):
        return np.where(modal, np.exp(lam * tau) / np.where(modal, lam, 1.0), _phi(lam, tau))


def _eval_e1(x0, C, L, M, lo, hi, t):
    X = x0 + np.sum(C * _psi(L, t[:, None], M), axis=1)
    return np.minimum(X - lo, hi - X)


def _bisect1(x0, C, L, M, lo, hi, a, b, tol=0.0):
    """Locate the crossing in brackets ``[a, b]`` (``e(a) >= 0 > e(b)``) by the Illinois
    (regula falsi) method; returns the inside end ``a`` once ``e(a) <= tol / 100`` or the
    bracket has shrunk to float64 resolution."""
    fa = _eval_e1(x0, C, L, M, lo, hi, a)
    fb = _eval_e1(x0, C, L, M, lo, hi, b)
    side = np.zeros(a.size)
    for _ in range(100):
        with np.errstate(all="ignore"):
            c = b - fb * (b - a) / (fb - fa)
        bad = ~np.isfinite(c) | (c <= a) | (c >= b)
        c = np.where(bad, 0.5 * (a + b), c)
        fc = _eval_e1(x0, C, L, M, lo, hi, c)
        inside = fc >= 0
        fb = np.where(inside & (side == 1), 0.5 * fb, fb)    # Illinois: halve the stale end
        fa = np.where(~inside & (side == -1), 0.5 * fa, fa)
        a, fa = np.where(inside, c, a), np.where(inside, fc, fa)
        b, fb = np.where(inside, b, c), np.where(inside, fb, fc)
        side = np.where(inside, 1, -1)
        if np.all((fa <= 1e-2 * tol) | (b - a <= 4e-16 * np.maximum(1.0, np.abs(a)))):
            break
    return a


def _newton_step(w, lam, e):
    """Largest ``h`` with ``sum_k w_k phi(lam_k, h) <= e`` (a few Newton steps; verified later)."""
    W = np.sum(w, axis=1)
    with np.errstate(all="ignore"):
        h = e / np.where(W > 0, W, 1e-300)
        for _ in range(4):
            V = np.sum(w * _phi(lam, h[:, None]), axis=1)
            dV = np.sum(w * np.exp(lam * h[:, None]), axis=1)
            h_new = h - (V - e) / np.where(dV > 0, dV, 1e-300)
            h = np.where(np.isfinite(h_new) & (h_new > 0), h_new, h)
    return np.where(W > 0, h, np.inf)
