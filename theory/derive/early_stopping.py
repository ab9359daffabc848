"""Early-stopping thresholds ``c_0`` of Thm 4.4 / eqs. 87-88 (docs/math.md §5) for the three score
models, derived from the per-piece solutions, and their agreement to first order near a vertex.

exact / ``taylor``: a coordinate ends on a vertex coordinate iff it STARTS on a flat piece, i.e.
``t0 <= c sigma_max`` or ``t0 >= r - c sigma_max`` (the pieces are invariant, see
``probability_flow_pieces``): ``c_0 = min(t0, r - t0)/sigma_max``.
``taylor-fixed-kinks``: the middle solution reaches a kink iff
``|t0 - r/2| e^{2 c sigma_max/r} >= r/2``: ``c_0 = r/(2 sigma_max) ln(r/|2 t0 - r|)``.
Both are ``t0/sigma_max + O(t0^2)`` as ``t0 -> 0`` (and symmetrically at ``r``); the gap's
leading term is ``t0^2/(r sigma_max)``.
"""
from __future__ import annotations

import sympy as sp

from .. import closed_forms as cf
from ._steps import Steps, regime

NAME = "early_stopping"


def derive(out=None) -> Steps:
    """Early stopping: c_0 of each model from its piece solutions; first-order agreement as
    t0 -> 0 and t0 -> r, and the second-order gap."""
    st = Steps(NAME, "the early-stopping thresholds c_0 (Thm 4.4, eqs. 87-88)", out)
    r, sm, c, s = cf.r, cf.sigma_max, cf.c, cf.s
    delta = sp.Symbol("delta", positive=True)   # |t0 - r/2|, 0 < delta < r/2
    eps = sp.Symbol("epsilon", positive=True)   # distance of t0 from the vertex coordinate
    rho0 = c * sm

    # -- exact and taylor: the flat-piece start condition ------------------------------------
    st.step("exact / taylor: rho_0 = c sigma_max; the coordinate ends at 0 or r iff it starts on a "
            "flat piece (t0 <= rho_0 or t0 >= r - rho_0), since every piece is invariant "
            "(derivation probability_flow_pieces); solve each boundary case for c")
    lower_c = sp.solve(sp.Eq(cf.kinks("exact", r, rho0)[0], r / 2 - delta), c)
    upper_c = sp.solve(sp.Eq(cf.kinks("exact", r, rho0)[1], r / 2 + delta), c)
    st.holds(len(lower_c) == 1 and len(upper_c) == 1, "each boundary case has one solution c",
             f"{lower_c}, {upper_c}")
    st.step("t0 = r/2 - delta: the lower kink reaches t0 at c =", lower_c[0])
    st.step("t0 = r/2 + delta: the upper kink reaches t0 at c =", upper_c[0])
    for model in ("exact", "taylor"):
        st.equal(cf.c0_coordinate(model, r / 2 - delta, r, sm), lower_c[0],
                 f"{model}: c0_coordinate(t0 = r/2 - delta) = (r/2 - delta)/sigma_max "
                 "= t0/sigma_max")
        st.equal(cf.c0_coordinate(model, r / 2 + delta, r, sm), upper_c[0],
                 f"{model}: c0_coordinate(t0 = r/2 + delta) = (r/2 - delta)/sigma_max "
                 "= (r - t0)/sigma_max")
        st.equal(cf.kinks(model, r, rho0)[0].subs(c, lower_c[0]), r / 2 - delta,
                 f"{model}: at c = c_0 the start sits exactly on the kink (flat by the "
                 "kink convention)")

    # -- taylor-fixed-kinks: the middle solution reaches the fixed kink -------------------------
    st.step("taylor-fixed-kinks: the middle piece is t(s) = r/2 + (t0 - r/2) e^{2T(s)/r}, kinks "
            "fixed at 0 and r, T(s) increases to rho_0 = c sigma_max")
    mid = cf.probability_flow_piece("linear", "taylor-fixed-kinks", r / 2 - delta, r, cf.rho0, s)
    T = sp.Symbol("T", positive=True)
    T_hit = sp.solve(sp.Eq(r / 2 - delta * sp.exp(2 * T / r), 0), T)
    st.holds(len(T_hit) == 1, "the kink 0 is reached at one rescaled time", f"{T_hit}")
    st.step("rescaled time needed to reach the kink 0 from t0 = r/2 - delta", T_hit[0])
    st.equal(mid.subs(s, sp.solve(sp.Eq(cf.rescaled_time(cf.rho0, s), T_hit[0]), s)[0]), 0,
             "at T(s) = T_hit the middle solution is on the kink 0")
    c_fk = sp.solve(sp.Eq(delta * sp.exp(2 * c * sm / r), r / 2), c)
    st.holds(len(c_fk) == 1, "|t0 - r/2| e^{2 c sigma_max/r} = r/2 has one solution c", f"{c_fk}")
    st.step("It is reached (for s < oo, or in the limit) iff T_hit <= rho_0 = c sigma_max, "
            "i.e. iff |t0 - r/2| e^{2 c sigma_max / r} >= r/2; equality at c =", c_fk[0])
    st.equal(T_hit[0] / sm, c_fk[0], "T_hit / sigma_max is the same threshold")
    for sign in (-1, 1):
        st.equal(cf.c0_coordinate("taylor-fixed-kinks", r / 2 + sign * delta, r, sm), c_fk[0],
                 f"c0_coordinate('taylor-fixed-kinks', t0 = r/2 {'-+'[sign > 0]} delta) = "
                 "r/(2 sigma_max) ln(r/(2 delta))")
    st.equal(cf.reaches_vertex_fixed_kinks(r / 2 - delta, r, cf.rho0).lhs.subs(cf.rho0, rho0)
             .subs(c, c_fk[0]), r / 2, "closed_forms.reaches_vertex_fixed_kinks is tight at c_0")

    # -- first-order agreement near a vertex ---------------------------------------------------
    exact_lo = cf.c0_coordinate("exact", r / 2 - delta, r, sm).subs(delta, r / 2 - eps)
    fixed_lo = cf.c0_coordinate("taylor-fixed-kinks", r / 2 - delta, r, sm).subs(delta, r / 2 - eps)
    exact_hi = cf.c0_coordinate("exact", r / 2 + delta, r, sm).subs(delta, r / 2 - eps)
    fixed_hi = cf.c0_coordinate("taylor-fixed-kinks", r / 2 + delta, r, sm).subs(delta, r / 2 - eps)
    st.step("Near a vertex: t0 = epsilon (-> 0) or t0 = r - epsilon (-> r), series in epsilon",
            sp.series(fixed_lo, eps, 0, 3))
    for label, ex, fk in (("t0 -> 0", exact_lo, fixed_lo), ("t0 -> r", exact_hi, fixed_hi)):
        st.equal(ex, eps / sm, f"{label}: exact/taylor c_0 = epsilon/sigma_max")
        st.equal(sp.series(fk, eps, 0, 2).removeO(), eps / sm,
                 f"{label}: fixed-kinks c_0 = epsilon/sigma_max + O(epsilon^2): "
                 "first-order agreement")
        st.equal(sp.series(fk - ex, eps, 0, 3).removeO(), eps ** 2 / (r * sm),
                 f"{label}: the gap is epsilon^2/(r sigma_max) + O(epsilon^3)")
    u, v = regime(1, "v")   # u = 2 t0 / r = v/(1 + v) sweeps (0, 1): the checks below use it
    gap = (fixed_lo - exact_lo).subs(eps, u * r / 2)
    U = sp.Symbol("u", positive=True)  # the printed formula speaks of u, not of the helper v
    st.step("The gap for t0 < r/2, with u = 2 t0/r in (0, 1): c_0^fixed - c_0^exact",
            sp.simplify(sp.simplify(gap).subs(v, U / (1 - U))))
    st.equal(gap, r / (2 * sm) * (-sp.log(1 - u) - u), "gap = r/(2 sigma_max) (-ln(1 - u) - u)")
    g = -sp.log(1 - U) - U
    st.equal(sp.diff(g, U), U / (1 - U),
             "d/du(-ln(1 - u) - u) = u/(1 - u) > 0 on (0, 1), zero at u = 0: "
             "the fixed-kinks threshold is the larger one")
    st.zero(g.subs(U, 0), "-ln(1 - u) - u = 0 at u = 0")
    st.positive((U / (1 - U)).subs(U, u), "u/(1 - u) > 0 for every u in (0, 1)")
    diverges = sp.limit(fixed_lo, eps, r / 2, "-") == sp.oo
    st.holds(diverges and exact_lo.subs(eps, r / 2) == r / (2 * sm),
             "at t0 -> r/2 the fixed-kinks c_0 diverges while the exact one is r/(2 sigma_max): "
             "the thresholds agree only near the vertices")

    # -- the threshold over several coordinates (Thm 4.4) --------------------------------------
    coords = (sp.Rational(1, 4), sp.Rational(3, 2), sp.Integer(3), sp.Rational(-1, 2))
    radii = (sp.Integer(1), sp.Integer(2), sp.Integer(2), sp.Integer(1))
    st.step("Thm 4.4: c_0 = max over the coordinates with 0 < t_n < r_n (here "
            "t = (1/4, 3/2, 3, -1/2), r = (1, 2, 2, 1), sigma_max = 1; only n = 1, 2 count)")
    for model in ("exact", "taylor-fixed-kinks"):
        inside = zip(coords[:2], radii[:2])
        expected = sp.Max(*[cf.c0_coordinate(model, tn, rn, 1) for tn, rn in inside])
        st.equal(cf.c0_threshold(model, coords, radii, 1), expected,
                 f"{model}: c0_threshold = {expected}")
    st.equal(cf.c0_threshold("exact", coords, radii, 1), sp.Rational(1, 2),
             "exact: max(1/4, 1/2) = 1/2")
    return st.done()
