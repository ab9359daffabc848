"""Runnable symbolic derivations (docs/derivations.md): each prints its numbered steps and
verifies every claim with SymPy, raising :class:`DerivationFailed` (an ``AssertionError``) on the first failure.

Registry: :data:`DERIVATIONS` maps a name to ``derive(out=None) -> Steps``.  Run one with
``python -m theory.derive NAME`` (or ``theory-derive NAME``), all with ``... all``, list them with
``--list``.  What each proves: ``docs/derivations.md``.
"""
from __future__ import annotations

from . import (early_stopping, equilateral, lemma_d3, lemma_d4, probability_flow_pieces,
               score_flow_pieces, stationary_orthogonal, time_rescaling)
from ._steps import DerivationFailed, Steps

_MODULES = (time_rescaling, lemma_d3, lemma_d4, score_flow_pieces, probability_flow_pieces,
            early_stopping, stationary_orthogonal, equilateral)

#: name -> ``derive(out=None) -> Steps``, in a readable order (each builds on the previous).
DERIVATIONS = {module.NAME: module.derive for module in _MODULES}


class UnknownDerivationError(KeyError):
    """No derivation of that name."""

    def __str__(self):
        return self.args[0]


def summary(name: str) -> str:
    """One-line description of a derivation (the first paragraph of its docstring, joined)."""
    paragraph = _lookup(name).__doc__.strip().split("\n\n")[0]
    return " ".join(line.strip() for line in paragraph.splitlines())


def _lookup(name: str):
    try:
        return DERIVATIONS[name]
    except KeyError:
        raise UnknownDerivationError(
            f"unknown derivation {name!r}; choose one of: {', '.join(DERIVATIONS)} (or 'all')"
        ) from None


def run(name: str, out=None) -> Steps:
    """Run the derivation ``name``, printing to ``out`` (stdout by default); return its steps."""
    return _lookup(name)(out)


__all__ = ["DERIVATIONS", "DerivationFailed", "Steps", "UnknownDerivationError", "run", "summary"]
