"""The equilateral-triangle min-cost denoiser (Prop. D.2, eq. 37; docs/math.md §2) and
Prop. C.1's rates, from :func:`theory.denoisers.min_cost_denoiser` on an exact triangle with
symbolic ``rho``: the interpolation bound ``rho < 3R/4`` (the ramp would end before it starts),
the cost ``6R/(3R/2 - 2rho) = 4H/(H - 2rho)``, the dilation ``3R/(3R - 4rho)`` on the central
hexagon, the rates ``k/2`` across and ``3k/2`` along an edge, and the minimality bound ``rho*``
with its :class:`~theory.errors.NotMinimalWarning`.

Triangle: ``x_1 = (0, 2, 1)``, ``x_2 = (-sqrt 3, -1, 1)``, ``x_3 = (sqrt 3, -1, 1)`` in ``R^3``
(``R = 2``, centroid ``(0, 0, 1)``, normal ``e_3``).  Every statement is homogeneous in
``(R, rho)``, so ``R = 2`` loses no generality once written in ``rho/R``.
"""
from __future__ import annotations

import warnings

import sympy as sp

from ..datasets import EquilateralTriangle
from ..denoisers import RHO, equilateral_rho_star, min_cost_denoiser
from ..errors import LowNoiseError, NotMinimalWarning
from ._steps import Steps, regime

NAME = "equilateral"


def derive(out=None) -> Steps:
    """Equilateral closed form: bound 3R/4, cost, central dilation, Prop. C.1 rates k/2 and 3k/2,
    rho* and NotMinimalWarning."""
    st = Steps(NAME, "the equilateral min-cost denoiser (eq. 37) and Prop. C.1 rates", out)
    s3 = sp.sqrt(3)
    tri = EquilateralTriangle([[0, 2, 1], [-s3, -1, 1], [s3, -1, 1]])
    R, m, v = tri.R, tri.centroid, tri.v
    den = min_cost_denoiser(tri, RHO)
    H = sp.Rational(3, 2) * R
    st.step("Exact triangle: circumradius R, centroid m, v_n = (x_n - m)/R", R, m.T)
    st.zero(v[0] + v[1] + v[2], "v_1 + v_2 + v_3 = 0")
    st.holds(all(sp.simplify(v[i].dot(v[j]) + sp.Rational(1, 2)) == 0
                 for i, j in ((0, 1), (0, 2), (1, 2))), "v_n . v_m = -1/2 (120 degrees)")

    unit = den.units[0]
    lo, hi, k = unit.k_lo, unit.k_hi, unit.coefficients["linear"][0]
    st.step("Each unit is a ramp along v_n: 0 below beta_lo, R above beta_hi, slope k between",
            sp.Eq(sp.Symbol("beta_lo"), lo), sp.Eq(sp.Symbol("beta_hi"), hi),
            sp.Eq(sp.Symbol("k"), k))
    st.equal(lo, -R / 2 + RHO, "beta_lo = -R/2 + rho (distance rho inside the opposite edge)")
    st.equal(hi, R - RHO, "beta_hi = R - rho (distance rho before the vertex)")
    st.equal(k, R / (sp.Rational(3, 2) * R - 2 * RHO), "k = R/(3R/2 - 2 rho)")
    st.equal(unit.value("upper", 0), R, "the ramp's top value is R (it reaches the vertex)")
    width = hi - lo
    st.equal(sp.solve(width, RHO), [sp.Rational(3, 4) * R],
             "beta_hi - beta_lo = 3R/2 - 2rho vanishes "
             "at rho = 3R/4")
    st.negative(width.subs(RHO, sp.Rational(3, 4) * R + sp.Symbol("w", positive=True)),
                "beyond 3R/4 the ramp would end before it starts: no such interpolant")
    st.positive(s3 / 2 * R - sp.Rational(3, 4) * R,
                "3R/4 < side/2 = sqrt(3) R/2: the interpolation "
                "bound, not ball overlap, limits rho")
    st.equal(den.rho_max(), sp.Rational(3, 4) * R, "RidgeDenoiser.rho_max() = 3R/4")

    st.step("Interpolation for every rho in (0, 3R/4): each unit is constant on each ball "
            "(margins >= 0) and h(x_m) = x_m")
    margins = den.interpolation_margins()
    st.holds(all(sp.simplify(mg) == 0 for mg in margins.values()),
             "every margin is exactly 0: each ball touches both kinks of the units (flat there by "
             "the kink convention) -- the ramps are as steep as interpolation allows")
    st.holds(den.interpolates(), "den.interpolates() for symbolic rho over (0, 3R/4)")

    cost = den.representation_cost()
    st.step("Representation cost (eq. 6) of the closed form", cost)
    st.equal(cost, 6 * R / (sp.Rational(3, 2) * R - 2 * RHO), "cost = 6R/(3R/2 - 2rho)")
    st.equal(cost, 4 * H / (H - 2 * RHO), "cost = 4H/(H - 2rho), H = 3R/2 the altitude")
    small, _ = regime(sp.Rational(3, 4) * R)
    st.equal(den.network().unit_cost().subs(RHO, small), cost.subs(RHO, small),
             "sum_k ||a_k|| ||w_k|| of the realising network equals it on (0, 3R/4)")
    st.equal(sp.limit(cost, RHO, 0), 4, "cost -> 4 as rho -> 0")

    P = sp.diag(1, 1, 0)           # orthogonal projection onto the triangle's plane
    centre = den.region(("linear",) * 3)
    st.step("Central hexagon (all three units on their ramps): h' and the fixed point")
    dilation = 3 * R / (3 * R - 4 * RHO)
    st.equal(centre.jacobian(), dilation * P, "h' = 3R/(3R - 4rho) P_plane (3k/2 = 3R/(3R - 4rho))")
    st.equal(centre.jacobian() * m + centre.offset(), m,
             "h(m) = m: on the hexagon h(y) = m + 3R/(3R - 4rho) P (y - m), a dilation "
             "about m")
    st.equal(sp.solve(lo, RHO), [R / 2],
             "m is inside the hexagon (t_n(m) = 0 > beta_lo) iff rho < R/2")
    st.positive((dilation - 1).subs(RHO, small), "the dilation factor exceeds 1: m repels")

    edge = den.region(("linear", "linear", "lower"))
    J = edge.jacobian()
    across, along, normal = v[0] + v[1], v[0] - v[1], sp.Matrix([0, 0, 1])
    st.step("Prop. C.1, near edge [x_1, x_2]: units 1, 2 on their ramps, unit 3 off; "
            "h' = k(v_1 v_1^T + v_2 v_2^T)", J)
    st.zero(J * across - k / 2 * across, "across the edge (v_1 + v_2 = -v_3): eigenvalue k/2")
    st.zero(J * along - 3 * k / 2 * along, "along the edge (v_1 - v_2): eigenvalue 3k/2")
    st.zero(J * normal, "normal to the plane: eigenvalue 0 (h ignores it)")
    x = sp.Symbol("x")
    basis = sp.Matrix([[1, 0], [0, 1], [0, 0]])
    st.equal((basis.T * J * basis).charpoly(x).as_expr(), (x - k / 2) * (x - 3 * k / 2),
             "restricted to the plane the spectrum is exactly {k/2, 3k/2}")
    st.equal(3 * k / 2 - 1, 2 * RHO / (sp.Rational(3, 2) * R - 2 * RHO),
             "score-flow rate along the edge: 3k/2 - 1 = 2rho/(3R/2 - 2rho)")
    st.positive((3 * k / 2 - 1).subs(RHO, small), "3k/2 > 1 on (0, 3R/4): slowly repelled from the "
                "edge's midpoint along the edge")
    st.equal(sp.solve(k / 2 - 1, RHO), [R / 2], "k/2 = 1 exactly at rho = R/2")
    below, _ = regime(R / 2)
    st.positive((1 - k / 2).subs(RHO, below), "k/2 < 1 for 0 < rho < R/2: the edge's line attracts "
                "(rate 1 - k/2 -> 2/3 as rho -> 0)")
    st.equal(sp.limit(1 - k / 2, RHO, 0), sp.Rational(2, 3), "1 - k/2 -> 2/3 as rho -> 0")
    between = R / 2 + R / 4 * sp.Symbol("w", positive=True) / (1 + sp.Symbol("w", positive=True))
    st.positive((k / 2 - 1).subs(RHO, between),
                "but k/2 > 1 for R/2 < rho < 3R/4: there the edge's "
                "line REPELS across too -- Prop. C.1's two-phase picture needs rho < R/2")
    mid = (tri.points[0] + tri.points[1]) / 2
    st.holds(den.pattern(mid) == ("linear", "linear", "lower"),
             "the edge midpoint lies in this region for every rho in (0, 3R/4)")
    st.equal(J * mid + edge.offset(), mid,
             "h(midpoint) = midpoint: a stationary point (saddle for rho < R/2)")

    st.step("Validity bounds: rho* = (12 + 3 sqrt 3)/26 R (minimal up to rho*), 3R/4 "
            "(interpolating)",
            equilateral_rho_star(R))
    rho_star = equilateral_rho_star(R)
    st.positive(rho_star - R / 2, "rho* > R/2")
    st.positive(sp.Rational(3, 4) * R - rho_star, "rho* < 3R/4")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        min_cost_denoiser(tri, rho_star)
        at_star = [w for w in caught if issubclass(w.category, NotMinimalWarning)]
        min_cost_denoiser(tri, sp.Rational(7, 10) * R)
        beyond = [w for w in caught if issubclass(w.category, NotMinimalWarning)]
    st.holds(not at_star, "rho = rho*: no NotMinimalWarning (the closed form is still minimal)")
    st.holds(len(beyond) == 1, "rho = 0.7 R in (rho*, 3R/4): exactly one NotMinimalWarning")
    try:
        min_cost_denoiser(tri, sp.Rational(3, 4) * R)
        raised = False
    except LowNoiseError:
        raised = True
    st.holds(raised, "rho = 3R/4: LowNoiseError (outside the interpolation regime)")
    return st.done()
