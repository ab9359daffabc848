"""The step printer and the checks every derivation uses.

A derivation is a function ``derive(out=None) -> Steps``: it prints numbered steps to ``out``
(``sys.stdout`` by default) and verifies each claim with SymPy.  A claim that SymPy cannot
confirm raises :class:`DerivationFailed` (an ``AssertionError`` subclass, raised explicitly so
that ``python -O`` cannot strip it) whose message names the derivation, the step and the residual.
"""
from __future__ import annotations

import sys

import sympy as sp


class DerivationFailed(AssertionError):
    """A claimed identity or inequality of a derivation did not verify."""


def _show(expr) -> str:
    """ASCII pretty form of a SymPy object (plain ``str`` for anything else)."""
    if isinstance(expr, str):
        return expr
    try:
        return sp.pretty(expr, use_unicode=False, num_columns=100)
    except (TypeError, ValueError, AttributeError):  # pragma: no cover - exotic objects
        return str(expr)


def is_zero(expr) -> bool:
    """``simplify(expr) == 0`` for a scalar or a matrix (``expand``/``radsimp``/``expand_log`` as
    fallbacks, all exact rewritings: no numeric evaluation)."""
    if isinstance(expr, sp.MatrixBase):
        return all(is_zero(e) for e in expr)
    expr = sp.sympify(expr)
    if expr == 0:
        return True
    for attempt in (sp.simplify, lambda e: sp.radsimp(sp.expand(e)),
                    lambda e: sp.simplify(sp.expand_log(sp.expand(e)))):
        try:
            if attempt(expr) == 0:
                return True
        except (TypeError, ValueError, NotImplementedError):
            continue
    return False


def regime(top, name: str = "v"):
    """``top v/(1 + v)`` with a positive symbol ``v``: sweeps the open interval ``(0, top)``.

    Substituting it for ``rho`` turns "for every ``rho`` in ``(0, top)``" into "for every
    ``v > 0``", which SymPy's assumption system can decide.  Returns ``(expr, v)``.
    """
    v = sp.Symbol(name, positive=True)
    return top * v / (1 + v), v


class Steps:
    """Numbered, printed steps of one derivation with SymPy-verified claims."""

    def __init__(self, name: str, title: str, out=None):
        self.name = name
        self.out = sys.stdout if out is None else out
        self.number = 0
        self.checks = 0
        self._print(f"== {name}: {title} ==")

    def _print(self, text: str):
        print(text, file=self.out)

    def step(self, text: str, *exprs):
        """Print step ``n``: a sentence and, indented below it, the expressions it introduces."""
        self.number += 1
        self._print(f"{self.number:>3}. {text}")
        for expr in exprs:
            for line in _show(expr).splitlines():
                self._print(f"       {line}")

    def _fail(self, claim: str, detail: str):
        raise DerivationFailed(f"{self.name}, step {self.number}: {claim} FAILED ({detail})")

    def _ok(self, claim: str):
        self.checks += 1
        self._print(f"       [ok] {claim}")

    def equal(self, lhs, rhs, claim: str):
        """Verify ``simplify(lhs - rhs) == 0`` (lists and tuples compare entrywise, same length)."""
        if isinstance(lhs, (list, tuple)) or isinstance(rhs, (list, tuple)):
            lhs, rhs = list(lhs), list(rhs)
            if len(lhs) != len(rhs):
                self._fail(claim, f"{len(lhs)} values {lhs} against {len(rhs)} values {rhs}")
            lhs, rhs = sp.Matrix(lhs), sp.Matrix(rhs)
        if isinstance(lhs, sp.MatrixBase) and not isinstance(rhs, sp.MatrixBase) and rhs == 0:
            diff = sp.Matrix(lhs)
        elif isinstance(lhs, sp.MatrixBase) or isinstance(rhs, sp.MatrixBase):
            diff = sp.Matrix(lhs) - sp.Matrix(rhs)
        else:
            diff = sp.sympify(lhs) - sp.sympify(rhs)
        if not is_zero(diff):
            shown = diff.applyfunc(sp.simplify) if isinstance(diff, sp.MatrixBase) \
                else sp.simplify(diff)
            self._fail(claim, f"lhs - rhs simplifies to {shown}, not 0")
        self._ok(claim)

    def zero(self, expr, claim: str):
        """Verify ``simplify(expr) == 0``."""
        self.equal(expr, 0, claim)

    def holds(self, verdict, claim: str, detail: str = ""):
        """Verify a truth value computed by SymPy (``True`` passes; ``False``/``None`` fail)."""
        if verdict is not True and verdict != sp.true:
            self._fail(claim, detail or f"SymPy answered {verdict!r}")
        self._ok(claim)

    def positive(self, expr, claim: str):
        """Verify ``expr > 0`` from the symbols' assumptions (after simplification)."""
        expr = sp.sympify(expr)
        verdict = expr.is_positive
        if verdict is None:
            verdict = sp.factor(sp.simplify(expr)).is_positive
        self.holds(verdict, claim, f"cannot show {sp.simplify(expr)} > 0 (is_positive = {verdict})")

    def nonnegative(self, expr, claim: str):
        """Verify ``expr >= 0`` from the symbols' assumptions (after simplification)."""
        expr = sp.sympify(expr)
        verdict = expr.is_nonnegative
        if verdict is None:
            verdict = sp.factor(sp.simplify(expr)).is_nonnegative
        self.holds(verdict, claim,
                   f"cannot show {sp.simplify(expr)} >= 0 (is_nonnegative = {verdict})")

    def negative(self, expr, claim: str):
        """Verify ``expr < 0`` from the symbols' assumptions (after simplification)."""
        self.positive(-sp.sympify(expr), claim)

    def done(self) -> "Steps":
        self._print(f"   => {self.name}: all {self.checks} checks passed")
        return self
