"""Probability flow per piece (docs/math.md §4, App. D.3 eqs. 64-86): every piece of
:func:`theory.closed_forms.probability_flow_piece` solves ``dt/ds = g_{rho(s)}(t) - t`` with
``rho(s) = rho_0 e^{-s}``; in the exact model every piece is INVARIANT (the kinks move exactly as
fast as the solutions), so the linear piece is never left and its limit lies strictly inside
``(0, r)``; the ``taylor`` model's middle solution never reaches its moving kinks either; the
rescaled time ``T(s) = rho_0 (1 - e^{-s})`` of eqs. 78-82 is bounded by ``rho_0`` (early stopping).
"""
from __future__ import annotations

import sympy as sp

from .. import closed_forms as cf
from ..pieces import MODELS, PIECES, unit_pieces
from ._steps import Steps

NAME = "probability_flow_pieces"


def derive(out=None) -> Steps:
    """Probability-flow pieces: ODE per piece and model, invariance of the pieces (exact), the
    limit inside (0, r), the taylor middle never meets its kinks, T(s) <= rho_0."""
    st = Steps(NAME, "closed-form probability flow per piece (eq. 12), invariance, early stopping",
               out)
    r, rho0, s = cf.r, cf.rho0, cf.s
    t0 = sp.Symbol("t0", real=True)
    rho_s = cf.rho_of_s(rho0, s)
    st.step("Along the probability flow rho(s) = rho_of_s(rho_0, s); dt/ds = g_{rho(s)}(t) - t",
            rho_s)

    # -- every piece solves its ODE -----------------------------------------------------------
    for model in MODELS:
        g = unit_pieces(model, r, rho_s)
        for piece in PIECES:
            A, B = g.coefficients[piece]
            sol = cf.probability_flow_piece(piece, model, t0, r, rho0, s)
            st.step(f"{model}/{piece}: g = {sp.simplify(A * sp.Symbol('t') + B)}", sol)
            st.zero(sp.diff(sol, s) - (A * sol + B - sol),
                    f"{model}/{piece}: dt/ds = g_rho(s)(t) - t")
            st.equal(sol.subs(s, 0), t0, f"{model}/{piece}: t(0) = t0")

    # -- the rescaled time (eqs. 78-82) -------------------------------------------------------
    T = cf.rescaled_time(rho0, s)
    s_var = sp.Symbol("s'", positive=True)
    st.step("Rescaled time T(s) = int_0^s rho(s') ds' (eqs. 78-80)", T)
    st.equal(sp.integrate(cf.rho_of_s(rho0, s_var), (s_var, 0, s)), T, "T(s) = rho_0 (1 - e^{-s})")
    st.positive(sp.diff(T, s), "T is increasing")
    st.equal(sp.limit(T, s, sp.oo), rho0,
             "T(oo) = rho_0: T(s) < rho_0 for every s, the EARLY STOPPING")
    w, Tv = sp.Function("w"), sp.Symbol("T", positive=True)
    ode = sp.Eq(w(Tv).diff(Tv), 2 / r * (w(Tv) - r / 2))
    st.step("In T the Taylor linear-piece ODE dt/ds = (2rho(s)/r)(t - r/2) becomes autonomous "
            "(eqs. 81-82); dsolve it", ode)
    sol_T = sp.dsolve(ode, w(Tv), ics={w(0): t0}).rhs
    st.equal(sol_T.subs(Tv, T), cf.probability_flow_piece("linear", "taylor", t0, r, rho0, s),
             "dsolve's w(T(s)) equals the Taylor middle piece (eqs. 83-84)")

    # -- invariance of the pieces in the exact model -------------------------------------------
    st.step("Exact model: the pieces are invariant, via quantities conserved along each piece")
    lower = cf.probability_flow_piece("lower", "exact", t0, r, rho0, s)
    upper = cf.probability_flow_piece("upper", "exact", t0, r, rho0, s)
    middle = cf.probability_flow_piece("linear", "exact", t0, r, rho0, s)
    k_lo, k_hi = cf.kinks("exact", r, rho_s)
    st.equal(lower / k_lo, t0 / rho0,
             "lower: t(s)/rho(s) = t0/rho_0, so t0 <= rho_0 gives t(s) <= rho(s)")
    st.equal((r - upper) / (r - k_hi), (r - t0) / rho0,
             "upper: (r - t(s))/rho(s) = (r - t0)/rho_0, so t0 >= r - rho_0 gives t(s) >= r - "
             "rho(s)")
    st.equal((middle - r / 2) / (r / 2 - k_lo), (t0 - r / 2) / (r / 2 - rho0),
             "linear: (t - r/2)/(r/2 - rho(s)) is constant, so |t0 - r/2| < r/2 - rho_0 keeps "
             "|t(s) - r/2| < r/2 - rho(s): it never meets a kink")
    st.equal(k_hi - k_lo, r - 2 * rho_s,
             "the linear piece (rho(s), r - rho(s)) widens as rho(s) shrinks")
    st.step("The same conservation laws hold on the flat pieces of 'taylor' (same kinks, same flat "
            "responses); with 'taylor-fixed-kinks' the flat pieces t <= 0 and t >= r are invariant "
            "because t0 e^{-s} keeps the sign of t0 and r + (t0 - r) e^{-s} that of t0 - r")
    lo_t = cf.probability_flow_piece("lower", "taylor", t0, r, rho0, s)
    st.equal(lo_t / cf.kinks("taylor", r, rho_s)[0], t0 / rho0, "taylor lower: t/rho(s) constant")
    fixed_lower = cf.probability_flow_piece("lower", "taylor-fixed-kinks", t0, r, rho0, s)
    fixed_upper = cf.probability_flow_piece("upper", "taylor-fixed-kinks", t0, r, rho0, s)
    for label, expr in (("lower", fixed_lower / t0), ("upper", (fixed_upper - r) / (t0 - r))):
        st.positive(expr, f"taylor-fixed-kinks {label}: the ratio to the initial signed distance "
                    "from the kink is e^{-s} > 0")

    # -- starts exactly on a moving kink (kink convention) -------------------------------------
    st.step("Start exactly on the lower kink t = rho(s): compare the linear piece's velocity there "
            "with the kink's own velocity d rho/ds = -rho(s)")
    kink_speed = sp.diff(rho_s, s)
    for model in ("exact", "taylor"):
        A, B = unit_pieces(model, r, rho_s).coefficients["linear"]
        v_mid = A * rho_s + B - rho_s
        if model == "exact":
            st.equal(v_mid, kink_speed,
                     "exact: the linear-piece velocity at the kink equals the kink's "
                     "(-rho(s)): one solution, it rides the kink -- the pieces' common "
                     "boundary is invariant")
        else:
            st.equal(v_mid - kink_speed, 2 * rho_s ** 2 / r,
                     "taylor: linear-piece velocity minus kink velocity = 2 rho(s)^2/r > 0: "
                     "a solution entering the linear piece exists besides the one riding the "
                     "kink (non-unique)")
    st.step("[choice] the kink convention (kinks belong to the flat pieces) picks the solution "
            "that rides the kink, t = t0 e^{-s} = rho(s) -> 0: a vertex coordinate, so c = c_0 "
            "counts as 'c >= c_0' in early_stopping")

    # -- the exact limit is strictly inside (0, r) -------------------------------------------
    p = sp.Symbol("p", positive=True)
    start = rho0 + p * (r - 2 * rho0)
    limit = cf.probability_flow_limit("linear", "exact", t0, r, rho0)
    st.step("Exact limit s -> oo of the linear piece (eqs. 85-86); write the start as the fraction "
            "p in (0, 1) of the initial linear piece, t0 = rho_0 + p (r - 2 rho_0)", limit)
    st.equal(limit, r / 2 + (t0 - r / 2) * r / (r - 2 * rho0),
             "limit = r/2 + (t0 - r/2) r/(r - 2rho_0)")
    st.equal(limit.subs(t0, start), p * r,
             "limit = p r: the flow maps fraction p of (rho_0, r - rho_0) to fraction p of (0, r), "
             "so the limit lies strictly in (0, r) -- a non-vertex coordinate")

    # -- the taylor middle never meets its moving kinks ---------------------------------------
    st.step("'taylor' middle: t(s) - r/2 = (t0 - r/2) e^{2T(s)/r}, kinks at rho(s), r - rho(s). "
            "With x = T(s) in [0, rho_0) and b = r/2 - rho_0 > 0, the distance from r/2 to the "
            "kinks is r/2 - rho(s) = b + x")
    x = sp.Symbol("x", nonnegative=True)
    q = sp.Symbol("q", positive=True)      # q = 2 rho_0 / r in (0, 1)
    b = r / 2 - rho0
    taylor_mid = cf.probability_flow_piece("linear", "taylor", t0, r, rho0, s)
    st.equal((taylor_mid - r / 2) / (t0 - r / 2), sp.exp(2 * T / r),
             "|t(s) - r/2| = |t0 - r/2| e^{2x/r}")
    st.equal(r / 2 - rho_s, b + T, "r/2 - rho(s) = b + T(s)")
    f = b + x - b * sp.exp(2 * x / r)
    st.step("Since |t0 - r/2| < b, it suffices that f(x) = b + x - b e^{2x/r} >= 0 on [0, rho_0]",
            f)
    st.zero(f.subs(x, 0), "f(0) = 0")
    f_q = f.subs(rho0, q * r / 2)
    fprime = sp.diff(f_q, x)
    st.equal(fprime, 1 - (1 - q) * sp.exp(2 * x / r), "f'(x) = 1 - (1 - q) e^{2x/r}, q = 2rho_0/r")
    st.negative(sp.diff(fprime, x).subs(q, 1 / (1 + sp.Symbol("m", positive=True))),
                "f''(x) = -(1 - q)(2/r) e^{2x/r} < 0 for 0 < q < 1: f' decreases")
    st.equal(fprime.subs(x, rho0).subs(rho0, q * r / 2), 1 - (1 - q) * sp.exp(q),
             "f'(rho_0) = 1 - (1 - q) e^q")
    kq = (1 - q) * sp.exp(q)
    st.equal(kq.subs(q, 0), 1, "k(q) = (1 - q) e^q has k(0) = 1")
    st.equal(sp.diff(kq, q), -q * sp.exp(q), "k'(q) = -q e^q < 0 for q > 0, so (1 - q) e^q <= 1")
    st.negative(sp.diff(kq, q), "k'(q) < 0")
    st.step("Hence f'(x) > f'(rho_0) = 1 - (1 - q)e^q >= 0 on [0, rho_0), f increases from "
            "f(0) = 0, and |t(s) - r/2| < b e^{2x/r} <= b + x = r/2 - rho(s): the taylor middle "
            "solution never reaches its moving kinks when it starts strictly inside (and by the "
            "symmetry t -> r - t the same holds on the upper side)")
    st.equal(r - cf.probability_flow_piece("linear", "taylor", r - t0, r, rho0, s), taylor_mid,
             "symmetry: t0 -> r - t0 maps the middle solution t(s) to r - t(s)")
    lim_t = cf.probability_flow_limit("linear", "taylor", t0, r, rho0)
    st.equal(lim_t, r / 2 + (t0 - r / 2) * sp.exp(2 * rho0 / r),
             "taylor limit: r/2 + (t0 - r/2) e^{2rho_0/r}; |limit - r/2| < b e^q "
             "= (r/2)(1-q)e^q <= r/2, strictly inside (0, r)")
    st.equal(b * sp.exp(2 * rho0 / r), (r / 2) * kq.subs(q, 2 * rho0 / r),
             "b e^{2rho_0/r} = (r/2) k(q)")
    return st.done()
