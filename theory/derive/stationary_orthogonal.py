"""Thm 4.2 (App. D.1) symbolically, with symbolic ``rho``: on every activation region of the
orthogonal min-cost denoiser (eq. 17) the score Jacobian (eq. 15's matrix) has eigenvalue
``(a - 1)/sigma^2 = 2 rho/((r - 2 rho) sigma^2) > 0`` along each unit on its linear piece and
``-1/sigma^2`` along each flat unit and the orthogonal complement; each of the ``3^N`` regions
holds exactly one stationary point ``x_0 + sum_n t_n u_n``, ``t_n in {0, r_n/2, r_n}``; the stable
ones are exactly the ``2^N`` hyperbox vertices (partial sums).

The dataset is exact and deliberately not axis-aligned: ``x_0 = (1, 0, 1)``, offsets ``(2, 2, 0)``
and ``(-3, 3, 0)`` in ``R^3`` (``r = 2 sqrt 2, 3 sqrt 2``; one direction orthogonal to the span).
"""
from __future__ import annotations

from itertools import product

import sympy as sp

from ..datasets import OrthogonalDataset
from ..denoisers import RHO, min_cost_denoiser
from ..pieces import PIECES
from ._steps import Steps, regime

NAME = "stationary_orthogonal"

#: Stationary coordinate of a unit on each piece (where ``g(t) = t``), stated to be checked.
STATIONARY_FRACTION = {"lower": 0, "linear": sp.Rational(1, 2), "upper": 1}


def derive(out=None) -> Steps:
    """Thm 4.2: eigenvalues of the score Jacobian per region (symbolic rho), one stationary point
    per region, stable set = the 2^N hyperbox vertices."""
    st = Steps(NAME, "Thm 4.2, stationary points and stability of the score flow (eq. 15)", out)
    x0 = [1, 0, 1]
    data = OrthogonalDataset([x0, [3, 2, 1], [-2, 3, 1]])
    den = min_cost_denoiser(data, RHO)
    sigma = sp.Symbol("sigma", positive=True)
    perp = sp.Matrix([0, 0, 1])
    st.step(f"Orthogonal data x_0 = {x0}, x_1 = (3, 2, 1), x_2 = (-2, 3, 1); r_n and the regime "
            "rho < min r_n / 2", sp.Matrix(data.r).T, den.rho_max())
    st.zero(perp.dot(data.u[0]) ** 2 + perp.dot(data.u[1]) ** 2,
            "e_3 is orthogonal to the data span")
    st.equal(den.expression()[2], 1,
             "h_3(y) = (x_0)_3: the denoiser ignores the perpendicular component")

    stable = []
    for pattern in product(PIECES, repeat=data.N):
        region = den.region(pattern)
        J = region.score_jacobian(sigma)
        st.step(f"Region {pattern}: score Jacobian (h'(y) - I)/sigma^2 (eq. 15, eqs. 40-41)")
        eigen = []
        for n, (u, piece, rn) in enumerate(zip(data.u, pattern, data.r), start=1):
            lam = (den.units[n - 1].coefficients[piece][0] - 1) / sigma ** 2
            st.zero(J * u - lam * u, f"J u_{n} = lambda u_{n}, lambda = {sp.simplify(lam)}")
            if piece == "linear":
                st.equal(lam, 2 * RHO / ((rn - 2 * RHO) * sigma ** 2),
                         f"lambda = 2 rho/((r_{n} - 2 rho) sigma^2)")
                small, _ = regime(rn / 2)
                st.positive(lam.subs(RHO, small),
                            f"lambda > 0 for every 0 < rho < r_{n}/2 (unstable)")
                st.holds(den.decide(lam > 0),
                         "lambda > 0 over the whole regime (RidgeDenoiser.decide)")
            else:
                st.equal(lam, -1 / sigma ** 2, "lambda = -1/sigma^2")
            eigen.append(lam)
        st.zero(J * perp + perp / sigma ** 2, "J e_3 = -e_3/sigma^2")
        eigen.append(-1 / sigma ** 2)
        x = sp.Symbol("x")
        st.equal(J.charpoly(x, simplify=lambda e: e).as_expr(), sp.prod([x - lam for lam in eigen]),
                 "det(x I - J) = prod (x - lambda): these are all the eigenvalues, with "
                 "multiplicity")

        fixed = sp.Matrix(data.apex)
        for u, piece, rn in zip(data.u, pattern, data.r):
            fixed += STATIONARY_FRACTION[piece] * rn * u
        st.step("  stationary point x_0 + sum_n t_n u_n, t_n = 0 / r_n/2 / r_n on lower / linear / "
                "upper", fixed.T)
        affine = den.region(pattern).jacobian() * fixed + region.offset()
        st.equal(affine, fixed, "h(y*) = y* on this region's affine map")
        st.holds(den.pattern(fixed) == pattern,
                 "y* lies in this region for every rho in the regime")
        det = sp.factor((den.region(pattern).jacobian() - sp.eye(data.d)).det())
        st.holds(den.decide(sp.Abs(det) > 0), f"det(h' - I) = {det} != 0: y* is the region's only "
                 "stationary point")
        if all(p != "linear" for p in pattern):
            st.holds(all(sp.simplify(lam + 1 / sigma ** 2) == 0 for lam in eigen),
                     "every eigenvalue is -1/sigma^2 < 0: STABLE")
            stable.append((pattern, fixed))
        else:
            st.step("  a positive eigenvalue: unstable")

    st.step(f"Stable stationary points: {len(stable)} of {3 ** data.N}; compare with the hyperbox "
            "vertices x_0 + sum_{n in S}(x_n - x_0) (Thm 4.2)")
    vertices = {tuple(data.vertex(S)) for S in ((), (1,), (2,), (1, 2))}
    st.holds({tuple(sp.simplify(e) for e in p) for _, p in stable} == vertices,
             "the stable set is exactly the 2^N partial sums")
    return st.done()
