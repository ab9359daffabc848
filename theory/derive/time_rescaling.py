"""App. A (eqs. 27-34) and eqs. 9-14: the probability flow for ANY schedule ``sigma(t)`` becomes
``dy/ds = h_{rho(s)}(y) - y`` with ``s = ln(sigma_max/sigma)``, ``rho(s) = c sigma_max e^{-s}``;
the score flow becomes ``dy/dtau = h(y) - y`` with ``tau = t/sigma^2`` (docs/math.md §3).

The denoiser ``D`` is an undefined SymPy function and ``sigma`` an undefined positive function
of ``t``, so nothing here depends on the schedule or on the denoiser; the flows act on each
coordinate separately, so one scalar coordinate ``x`` carries the argument.
"""
from __future__ import annotations

import sympy as sp

from .. import closed_forms as cf
from ._steps import Steps

NAME = "time_rescaling"


def _chain_rule(outer: sp.Function, inner: sp.Expr, var: sp.Symbol):
    """``d/dvar outer(inner(var))`` with the outer derivative replaced by a plain symbol.

    Returns ``(derivative, outer_prime)``: the derivative equals ``outer_prime * inner'(var)``,
    where ``outer_prime`` stands for ``outer'`` evaluated at ``inner(var)``.
    """
    outer_prime = sp.Symbol(f"{outer.__name__}'", real=True)
    derivative = sp.diff(outer(inner), var)
    derivative = derivative.replace(lambda e: isinstance(e, sp.Subs), lambda e: outer_prime)
    derivative = derivative.replace(lambda e: isinstance(e, sp.Derivative)
                                    and e.expr.func == outer, lambda e: outer_prime)
    return derivative, outer_prime


def derive(out=None) -> Steps:
    """Time rescaling of the probability flow (App. A) for a general schedule, and of the score
    flow (eqs. 13-14)."""
    st = Steps(NAME, "App. A: probability flow -> dy/ds = h_rho(s)(y) - y for any sigma(t)", out)
    t = sp.Symbol("t", real=True)
    sigma = sp.Function("sigma", positive=True)(t)
    sigma_max, sigma_min, c = sp.symbols("sigma_max sigma_min c", positive=True)
    D = sp.Function("D")          # D(x, sigma): the denoiser at noise level sigma
    X = sp.Function("x")(t)

    # -- Tweedie (eqs. 9-10) on a two-point mixture -----------------------------------------
    y, x1, x2 = sp.symbols("y x1 x2", real=True)
    w = sp.Symbol("w", positive=True)
    sig = sp.Symbol("sigma", positive=True)
    gauss = [sp.exp(-(y - xn) ** 2 / (2 * sig ** 2)) for xn in (x1, x2)]
    density = w * gauss[0] + (1 - w) * gauss[1]
    mmse = (w * gauss[0] * x1 + (1 - w) * gauss[1] * x2) / density
    st.step("Tweedie (eqs. 9-10): for p = w N(x1, sigma^2) + (1 - w) N(x2, sigma^2) the MMSE "
            "denoiser is E[x | y]; the score is (E[x|y] - y)/sigma^2", mmse)
    st.equal(sp.diff(sp.log(density), y), (mmse - y) / sig ** 2,
             "d/dy log p(y) = (D(y) - y)/sigma^2")

    # -- probability flow (eq. 11) ----------------------------------------------------------
    score = (D(X, sigma) - X) / sigma ** 2
    rhs = -sp.diff(sigma, t) * sigma * score
    st.step("Probability flow, VE (eq. 11): dx/dt = -sigma'(t) sigma(t) score, score from eq. 10",
            sp.Eq(sp.Derivative(X, t), rhs))
    st.equal(rhs, -(sp.diff(sigma, t) / sigma) * (D(X, sigma) - X),
             "dx/dt = -(sigma'/sigma) (D_sigma(x) - x)")

    s_of_t = sp.log(sigma_max / sigma)
    ds_dt = sp.diff(s_of_t, t)
    st.step("Change of variable (eqs. 29-31): s = ln(sigma_max / sigma(t))",
            sp.Eq(sp.Symbol("s"), s_of_t))
    st.equal(ds_dt, -sp.diff(sigma, t) / sigma, "ds/dt = -sigma'/sigma (whatever sigma(t) is)")
    st.equal(sigma_max * sp.exp(-s_of_t), sigma, "sigma(t) = sigma_max e^{-s}")

    Y = sp.Function("y")
    dx_dt, y_prime = _chain_rule(Y, s_of_t, t)
    st.step("Write x(t) = y(s(t)); the chain rule gives dx/dt = y'(s) ds/dt", sp.Eq(
        sp.Derivative(X, t), dx_dt))
    st.equal(dx_dt, y_prime * ds_dt, "chain rule")
    solved = sp.solve(sp.Eq(dx_dt, rhs.subs(X, Y(s_of_t))), y_prime)
    st.holds(len(solved) == 1, "dx/dt = rhs determines y'(s) uniquely (sigma' cancels)",
             f"solutions: {solved}")
    st.step("Solve for y'(s) (eqs. 32-34)", sp.Eq(y_prime, solved[0]))
    st.equal(solved[0], D(Y(s_of_t), sigma) - Y(s_of_t),
             "dy/ds = D_sigma(y) - y: the schedule has dropped out")

    s = cf.s
    st.step("With rho = c sigma ([choice, the paper's]) the denoiser D_sigma is the min-cost "
            "h_rho, and along the flow rho(s) = c sigma_max e^{-s} = rho_0 e^{-s}",
            sp.Eq(sp.Symbol("rho(s)"), cf.rho_of_s(c * sigma_max, s)))
    st.equal(c * sigma, cf.rho_of_s(c * sigma_max, s_of_t),
             "c sigma(t) = rho_of_s(rho_0 = c sigma_max, s(t))  =>  dy/ds = h_{rho(s)}(y) - y "
             "(eq. 12)")
    s_end = s_of_t.subs(sigma, sigma_min)
    st.step("Range of s: s = 0 at sigma = sigma_max, s_end = ln(sigma_max/sigma_min)", s_end)
    st.holds(sp.limit(s_end, sigma_min, 0, "+") == sp.oo,
             "s_end -> oo as sigma_min -> 0: sigma = 0 (finite t) is s = oo, where the exact "
             "flow has reached its limit (footnote 4)")
    st.negative(ds_dt.subs(sp.diff(sigma, t), sp.Symbol("sigma_dot", positive=True)),
                "for an increasing schedule ds/dt < 0: s increases while t runs back from T to 0")

    # -- consistency on one piece, back in the original time -------------------------------
    x0 = sp.Symbol("x0", real=True)
    lower = cf.probability_flow_piece("lower", "exact", x0, cf.r, cf.rho0, s_of_t)
    st.step("Check in the original time: the lower-piece solution y = x0 e^{-s} is "
            "x(t) = x0 sigma(t)/sigma_max; it solves eq. 11 with D = 0 for every schedule", lower)
    st.zero(sp.diff(lower, t) + sp.diff(sigma, t) / sigma * (0 - lower),
            "dx/dt + (sigma'/sigma)(0 - x) = 0")
    for label, schedule in (("EDM sigma(t) = t", t),
                            ("VE sigma(t) = sigma_min (sigma_max/sigma_min)^t",
                             sigma_min * (sigma_max / sigma_min) ** t)):
        x_t = lower.subs(sigma, schedule).doit()
        st.zero(sp.diff(x_t, t) - (-sp.diff(schedule, t) / schedule) * (0 - x_t),
                f"{label}: x(t) = x0 sigma(t)/sigma_max solves dx/dt = -(sigma'/sigma)(0 - x)")

    # -- score flow (eqs. 13-14) ------------------------------------------------------------
    h = sp.Function("h")
    sigma_fixed = sp.Symbol("sigma", positive=True)
    tau_of_t = t / sigma_fixed ** 2
    Z = sp.Function("z")
    st.step("Score flow (eq. 13), fixed sigma: dy/dt = (h(y) - y)/sigma^2; "
            "write y(t) = z(tau(t)), tau = t/sigma^2", tau_of_t)
    dz_dt, z_prime = _chain_rule(Z, tau_of_t, t)
    solved = sp.solve(sp.Eq(dz_dt, (h(Z(tau_of_t)) - Z(tau_of_t)) / sigma_fixed ** 2), z_prime)
    st.holds(len(solved) == 1, "y'(t) = score determines z'(tau)", f"solutions: {solved}")
    st.equal(solved[0], h(Z(tau_of_t)) - Z(tau_of_t), "dz/dtau = h(z) - z (eq. 14)")
    st.step("So the score flow is the probability flow's ODE with rho frozen at c sigma: "
            "only the rho-schedule distinguishes the two (the 'early stopping' of §4)")
    return st.done()
