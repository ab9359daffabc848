"""The shallow ReLU network with skip connection and its representation cost (paper eqs. 4-6).

``h(y) = sum_k a_k [w_k^T y + b_k]_+ + V y + c``; cost ``C = 1/2 sum_k (||a_k||^2 + ||w_k||^2)``
(biases, ``V`` and ``c`` unpenalised); the representation cost of a function is the infimum of
``C`` over its parameterisations, equal to ``sum_k ||a_k|| ||w_k||`` after balancing each unit
(Definition 2.1, eq. 6).
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp


def _norm(v: sp.Matrix) -> sp.Expr:
    return sp.sqrt(v.dot(v))


@dataclass(frozen=True)
class ShallowReLUNetwork:
    """Parameters of eq. 4: lists ``a``, ``w`` (column vectors), ``b`` (scalars), ``V``, ``c``."""

    a: tuple
    w: tuple
    b: tuple
    V: sp.Matrix
    c: sp.Matrix

    def __call__(self, y) -> sp.Matrix:
        y = sp.Matrix(y)
        out = self.V * y + self.c
        for a, w, b in zip(self.a, self.w, self.b):
            out += a * sp.Max(w.dot(y) + b, 0)
        return out

    def weight_cost(self) -> sp.Expr:
        """``C = 1/2 sum_k (||a_k||^2 + ||w_k||^2)`` for these parameters (eq. 5)."""
        return sp.Rational(1, 2) * sum((a.dot(a) + w.dot(w) for a, w in zip(self.a, self.w)),
                                       sp.Integer(0))

    def unit_cost(self) -> sp.Expr:
        """``sum_k ||a_k|| ||w_k||``: the cost after balancing every unit (eq. 6)."""
        return sum((_norm(a) * _norm(w) for a, w in zip(self.a, self.w)), sp.Integer(0))

    def balanced(self) -> "ShallowReLUNetwork":
        """Rescale each unit (``a -> a/s``, ``w, b -> s w, s b``) so that ``||a_k|| = ||w_k||``.

        Positive homogeneity of the ReLU keeps the function; the weight cost then equals
        :meth:`unit_cost`.
        """
        a2, w2, b2 = [], [], []
        for a, w, b in zip(self.a, self.w, self.b):
            s = sp.sqrt(_norm(a) / _norm(w))
            a2.append(a / s)
            w2.append(w * s)
            b2.append(b * s)
        return ShallowReLUNetwork(tuple(a2), tuple(w2), tuple(b2), self.V, self.c)
