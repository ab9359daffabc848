"""Score flow per piece (docs/math.md §4, eqs. 45-58): every piece of
:func:`theory.closed_forms.score_flow_piece` solves ``dt/dtau = g(t) - t`` for the unit response
``g`` of :func:`theory.pieces.unit_pieces`, in all three score models; :func:`tau_exit` is when
the linear solution reaches the kink, and ``tau_exit ~ (r/(2 rho)) ln(r/(2|t0 - r/2|))`` as
``rho -> 0`` (the ``1/rho`` growth behind the witnesses of Thm 4.3 (ii)).
"""
from __future__ import annotations

import sympy as sp

from .. import closed_forms as cf
from ..datasets import OrthogonalDataset
from ..denoisers import RHO, min_cost_denoiser
from ..pieces import MODELS, PIECES, unit_pieces
from ._steps import Steps, regime

NAME = "score_flow_pieces"


def derive(out=None) -> Steps:
    """Score-flow pieces: ODE and initial value per piece and model, tau_exit hits the kink,
    tau_exit ~ 1/rho."""
    st = Steps(NAME, "closed-form score flow per piece (eq. 14), exit times", out)
    r, rho, tau = cf.r, cf.rho, cf.tau
    t0 = sp.Symbol("t0", real=True)
    delta = sp.Symbol("delta", positive=True)   # distance of the start from the middle r/2
    small, _ = regime(r / 2)                    # a generic rho in (0, r/2)

    for model in MODELS:
        g = unit_pieces(model, r, rho)
        st.step(f"Model {model!r}: kinks at ({g.k_lo}, {g.k_hi}); response g(t) = A t + B per "
                "piece (theory.pieces.unit_pieces); the score flow is dt/dtau = g(t) - t")
        for piece in PIECES:
            A, B = g.coefficients[piece]
            sol = cf.score_flow_piece(piece, model, t0, r, rho, tau)
            st.step(f"  {piece} piece, g = {sp.simplify(A * sp.Symbol('t') + B)}: "
                    "t(tau) = score_flow_piece", sol)
            st.zero(sp.diff(sol, tau) - (A * sol + B - sol), f"{model}/{piece}: dt/dtau = g(t) - t")
            st.equal(sol.subs(tau, 0), t0, f"{model}/{piece}: t(0) = t0")
            st.equal(sol, cf.lemma_d3(A - 1, B, t0, tau),
                     f"{model}/{piece}: it is Lemma D.3 with alpha = A - 1, beta = B")
        rate = g.coefficients["linear"][0] - 1
        st.equal(rate, cf.linear_rate(model, r, rho),
                 f"{model}: linear-piece rate a - 1 = linear_rate")
        st.positive(rate.subs(rho, small), f"{model}: a - 1 > 0 for 0 < rho < r/2 (r/2 repels)")

        exit_time = cf.tau_exit(model, t0, r, rho)
        st.step(f"  {model}: tau_exit (leaves the linear piece through the nearer kink)", exit_time)
        for side, kink in ((-1, g.k_lo), (1, g.k_hi)):
            start = r / 2 + side * delta
            hit = cf.score_flow_piece("linear", model, start, r, rho, exit_time.subs(t0, start))
            where = "lower" if side < 0 else "upper"
            st.equal(hit, kink, f"{model}: from t0 = r/2 {'-+'[side > 0]} delta the solution is on "
                     f"the {where} kink {kink} at tau_exit")
        inside = (r / 2 - g.k_lo) / (1 + sp.Symbol("w", positive=True))  # 0 < delta < r/2 - k_lo
        st.positive(exit_time.subs(t0, r / 2 - inside).subs(rho, small),
                    f"{model}: tau_exit > 0 for every start strictly inside the linear piece")
        leading = sp.limit(rho * exit_time.subs(t0, r / 2 - delta), rho, 0)
        st.equal(leading, r / 2 * sp.log(r / (2 * delta)),
                 f"{model}: rho tau_exit -> (r/2) ln(r/(2|t0 - r/2|)) as rho -> 0, i.e. "
                 "tau_exit ~ 1/rho")

    exact, taylor = cf.linear_rate("exact", r, rho), cf.linear_rate("taylor", r, rho)
    st.step("The Taylor rate is the first-order expansion of the exact rate (eqs. 18-19)",
            sp.series(exact, rho, 0, 3))
    st.zero(sp.series(exact - taylor, rho, 0, 2).removeO(), "2rho/(r - 2rho) = 2rho/r + O(rho^2)")

    st.step("After the exit the flat-piece laws take over and converge to the vertex coordinates")
    st.equal(sp.limit(cf.score_flow_piece("lower", "exact", t0, r, rho, tau), tau, sp.oo), 0,
             "lower piece: t -> 0")
    st.equal(sp.limit(cf.score_flow_piece("upper", "exact", t0, r, rho, tau), tau, sp.oo), r,
             "upper piece: t -> r")

    data = OrthogonalDataset([[0, 0], [2, 0]])
    h = min_cost_denoiser(data, RHO).expression()
    y2, z0 = sp.Symbol("y_2", real=True), sp.Symbol("z0", real=True)
    st.step("Component orthogonal to the data span (orthogonal data {0, (2, 0)} in R^2): "
            "h_2(y) - y_2 = -y_2, so y_perp = z0 e^{-tau}", h.T)
    st.equal(h[1] - y2, -y2, "the perpendicular score component is -y_perp")
    perp = cf.lemma_d3(-1, 0, z0, tau)
    st.equal(perp, z0 * sp.exp(-tau), "Lemma D.3 with alpha = -1, beta = 0: z0 e^{-tau}")
    return st.done()
