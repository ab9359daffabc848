"""Lemma D.3 (eqs. 59-63): ``dz/dt = alpha z + beta``, ``z(0) = z0`` has
``z(t) = (z0 + beta/alpha) e^{alpha t} - beta/alpha`` -- checked against ``dsolve`` and by
substitution; it is the building block of every per-piece solution (docs/math.md §4).
"""
from __future__ import annotations

import sympy as sp

from .. import closed_forms as cf
from ._steps import Steps

NAME = "lemma_d3"


def derive(out=None) -> Steps:
    """Lemma D.3: theory.closed_forms.lemma_d3 is the solution of the scalar affine ODE (dsolve)."""
    st = Steps(NAME, "Lemma D.3, the scalar affine ODE dz/dt = alpha z + beta", out)
    alpha = sp.Symbol("alpha", real=True, nonzero=True)
    beta, z0, t = sp.symbols("beta z0 t", real=True)
    z = sp.Function("z")
    claimed = cf.lemma_d3(alpha, beta, z0, t)
    st.step("Claimed solution (eq. 60), from theory.closed_forms.lemma_d3", claimed)

    ode = sp.Eq(z(t).diff(t), alpha * z(t) + beta)
    st.step("Solve eq. 59 with SymPy's dsolve, z(0) = z0", ode)
    solution = sp.dsolve(ode, z(t), ics={z(0): z0})
    st.step("dsolve returns", solution)
    st.equal(solution.rhs, claimed,
             "dsolve's solution equals lemma_d3 (uniqueness: Picard-Lindeloef)")

    st.step("Direct verification (eqs. 61-63)")
    st.zero(sp.diff(claimed, t) - (alpha * claimed + beta), "dz/dt - (alpha z + beta) = 0")
    st.equal(claimed.subs(t, 0), z0, "z(0) = z0")

    st.step("The fixed point -beta/alpha attracts for alpha < 0 and repels for alpha > 0")
    a_neg = sp.Symbol("a", negative=True)
    st.equal(sp.limit(cf.lemma_d3(a_neg, beta, z0, t), t, sp.oo), -beta / a_neg,
             "alpha < 0: z(t) -> -beta/alpha")
    st.equal(cf.lemma_d3(alpha, beta, z0, t) + beta / alpha,
             (z0 + beta / alpha) * sp.exp(alpha * t),
             "z(t) - z* = (z0 - z*) e^{alpha t}: the distance to z* = -beta/alpha scales by "
             "e^{alpha t}")
    st.equal(sp.limit(claimed, alpha, 0), z0 + beta * t,
             "alpha -> 0 limit: z0 + beta t (the solution is continuous in alpha)")
    return st.done()
