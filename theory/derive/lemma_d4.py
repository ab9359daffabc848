"""Lemma D.4 (eqs. 104-106): ``dz/dt = M z + b`` (``M`` non-singular) has
``z(t) = e^{M t}(z0 + M^{-1} b) - M^{-1} b``; for symmetric ``M = sum_i lambda_i v_i v_i^T``,
``z(t) = sum_i (v_i^T z0 + v_i^T b / lambda_i) e^{lambda_i t} v_i - M^{-1} b`` (eq. 106).

The symmetric 2x2 ``M`` is fully symbolic: every real symmetric 2x2 matrix with distinct
eigenvalues is ``m I + k [[cos th, sin th], [sin th, -cos th]]`` (``k > 0``, ``-pi < th <= pi``),
and with ``u = tan(th/2)`` the entries are rational in ``m, k, u`` -- the matrix exponential then
stays free of nested radicals, so SymPy can simplify it.  Every ``th`` except ``th = pi`` (``M``
diagonal with the larger eigenvalue second: the same matrix with the axes swapped) is covered.
(SymPy does not finish simplifying ``exp(M t)`` for the raw form ``[[p, q], [q, w]]``, whose
eigenvalues carry ``sqrt((p - w)^2 + 4 q^2)``.)
"""
from __future__ import annotations

import sympy as sp

from .. import closed_forms as cf
from ._steps import Steps

NAME = "lemma_d4"


def derive(out=None) -> Steps:
    """Lemma D.4: theory.closed_forms.lemma_d4 solves dz/dt = M z + b (matrix exponential,
    eigen-decomposition form eq. 106, dsolve on a non-symmetric example)."""
    st = Steps(NAME, "Lemma D.4, the affine system dz/dt = M z + b", out)
    t = sp.Symbol("t", real=True)
    m, u = sp.symbols("m u", real=True)
    k = sp.Symbol("k", positive=True)
    b = sp.Matrix(sp.symbols("b1 b2", real=True))
    z0 = sp.Matrix(sp.symbols("z1 z2", real=True))
    cos, sin = (1 - u ** 2) / (1 + u ** 2), 2 * u / (1 + u ** 2)
    M = sp.Matrix([[m + k * cos, k * sin], [k * sin, m - k * cos]])
    st.step("A symbolic symmetric 2x2 M (m real, k > 0, u = tan(theta/2) real; non-singular "
            "when m^2 != k^2)", M)
    st.equal(M, M.T, "M is symmetric")
    st.equal(M.det(), m ** 2 - k ** 2, "det M = m^2 - k^2")

    z = cf.lemma_d4(M, b, z0, t)
    st.step("Claimed solution (eq. 105), theory.closed_forms.lemma_d4: "
            "e^{Mt}(z0 + M^-1 b) - M^-1 b, with SymPy's matrix exponential")
    st.zero(z.diff(t) - (M * z + b), "dz/dt - (M z + b) = 0")
    st.equal(z.subs(t, 0), z0, "z(0) = z0")

    lam = (m + k, m - k)
    vec = (sp.Matrix([1, u]) / sp.sqrt(1 + u ** 2), sp.Matrix([-u, 1]) / sp.sqrt(1 + u ** 2))
    st.step("Eigen-decomposition: lambda_1,2 = m +- k with orthonormal v_1 = (1, u)/sqrt(1+u^2), "
            "v_2 = (-u, 1)/sqrt(1+u^2)", *(v.T for v in vec))
    for i, (l, v) in enumerate(zip(lam, vec), start=1):
        st.zero(M * v - l * v, f"M v_{i} = lambda_{i} v_{i}")
    st.zero(vec[0].dot(vec[1]), "v_1 . v_2 = 0")
    shift = M.inv() * b
    eq106 = sum(((v.dot(z0) + v.dot(b) / l) * sp.exp(l * t) * v for l, v in zip(lam, vec)),
                sp.zeros(2, 1)) - shift
    st.step("Eq. 106: z(t) = sum_i (v_i^T z0 + v_i^T b/lambda_i) e^{lambda_i t} v_i - M^-1 b")
    st.equal(eq106, z, "eq. 106 equals eq. 105 (symmetric M)")

    st.step("Repeated eigenvalue, M = m I: e^{Mt} = e^{mt} I (m != 0)")
    mI = sp.Symbol("m", real=True, nonzero=True) * sp.eye(2)
    z_scalar = cf.lemma_d4(mI, b, z0, t)
    st.zero(z_scalar.diff(t) - (mI * z_scalar + b), "dz/dt - (mI z + b) = 0")
    st.equal(z_scalar.subs(t, 0), z0, "z(0) = z0")

    A = sp.Matrix([[1, 2], [0, -3]])
    f = sp.symbols("f1 f2", cls=sp.Function)
    Z = sp.Matrix([fi(t) for fi in f])
    rhs = A * Z + b
    st.step("A non-symmetric non-singular M: compare with SymPy's dsolve for the system", A)
    sol = sp.dsolve([sp.Eq(Z[i].diff(t), rhs[i]) for i in range(2)], list(Z),
                    ics={f[0](0): z0[0], f[1](0): z0[1]})
    by_dsolve = sp.Matrix([next(eq.rhs for eq in sol if eq.lhs == Zi) for Zi in Z])
    st.equal(cf.lemma_d4(A, b, z0, t), by_dsolve, "lemma_d4 equals dsolve's solution")
    return st.done()
