"""The registry of checkable statements (MATH.md §5): one :class:`Statement` per claim of the paper.

A statement bundles

* its words (``statement``), the paper's numbering (``source``), the **[choice]** variants it
  depends on (``choices``), its hypotheses in words and how the check works (``method``), and
  reconstruction notes (``notes``, what had to be re-derived because the seed lost the formulas);
* ``strategy()``: a Hypothesis strategy of instances that satisfy the hypotheses;
* ``check(instance) -> Margin``: the conclusion as a *signed margin* (``> 0`` passes; how far from
  failing), with a ``detail`` dict and a ``flows_command`` reproducing the instance;
* optionally ``proof() -> Proof``: a symbolic proof obligation discharged by SymPy, reported as
  "proved" separately from "checked on n examples";
* ``expected``: ``"pass"`` for a claim believed true, ``"refuted"`` for a claim known to be false
  (it must keep producing a counterexample; if it stops, that is a failure).

The same objects drive ``proofs-check`` (:mod:`proofs_check.runner`) and the pytest suite
(``tests/test_proofs_check.py``), so both share one definition of each check.
"""
from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from typing import Any, Callable

#: Expected outcomes of a statement.
EXPECTED = ("pass", "refuted")
#: Statuses a run can report: ``pass`` (no counterexample), ``refuted`` (a counterexample, as
#: expected), ``fail`` (a counterexample to a claim believed true, a symbolic obligation disproved,
#: or an expected refutation that no longer reproduces), ``error`` (the check raised).
STATUSES = ("pass", "refuted", "fail", "error")

#: Modules that register statements, in report order.
STATEMENT_MODULES = ("proofs_check.statements.sec4", "proofs_check.statements.appB",
                     "proofs_check.statements.appC")


@dataclass(frozen=True)
class Margin:
    """A signed margin: ``value > 0`` means the conclusion holds on the instance.

    ``detail``: the components of the margin and the quantities behind them (JSON-able).
    ``flows_command``: a shell command that reproduces the instance with the ``flows`` CLI.
    ``mpmath``: the verdict was decided by a high-precision re-check because float64 could not
    (a margin below ~1e-12 relative near a kink or threshold).
    ``stats``: per-instance numbers to aggregate over a run (e.g. the gap between the two
    threshold formulas of Thm 4.4).
    """

    value: float
    detail: dict = field(default_factory=dict)
    flows_command: str = ""
    mpmath: bool = False
    stats: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return bool(self.value > 0) and not math.isnan(self.value)


@dataclass(frozen=True)
class Proof:
    """Outcome of a symbolic proof obligation: ``proved`` is ``True`` (discharged), ``False``
    (SymPy decided the obligation is false) or ``None`` (undecided); ``detail`` says what was
    shown."""

    proved: bool | None
    detail: str


def combine(components: dict) -> tuple[float, str]:
    """The margin of a conjunction: the smallest component, and its name."""
    if not components:
        raise ValueError("a margin needs at least one component")
    name = min(components, key=lambda k: (not math.isnan(components[k]), components[k]))
    return float(components[name]), name


@dataclass(frozen=True)
class Statement:
    """One checkable claim; see the module docstring for the fields."""

    id: str
    title: str
    source: str
    statement: str
    hypotheses: str
    method: str
    strategy: Callable[[], Any]
    check: Callable[[Any], Margin]
    choices: tuple = ()
    notes: str = ""
    proof: Callable[[], Proof] | None = None
    expected: str = "pass"
    #: example-count factor relative to the profile's base count (expensive checks use fewer)
    weight: float = 1.0
    #: id of the corrected statement (for a refuted claim) or of the refuted one it corrects
    partner: str | None = None

    def __post_init__(self):
        if self.expected not in EXPECTED:
            raise ValueError(f"{self.id}: expected must be one of {EXPECTED}, got {self.expected!r}")

    def summary(self) -> str:
        """One line: the title and the expected status when it is not ``pass``."""
        tag = " [known false: expected refuted]" if self.expected == "refuted" else ""
        return f"{self.title}{tag}"


_REGISTRY: dict[str, Statement] = {}


def register(statement: Statement) -> Statement:
    """Add a statement (ids are unique)."""
    if statement.id in _REGISTRY and _REGISTRY[statement.id] is not statement:
        raise ValueError(f"statement id {statement.id!r} is registered twice")
    _REGISTRY[statement.id] = statement
    return statement


def _load() -> None:
    for name in STATEMENT_MODULES:
        importlib.import_module(name)


def statements() -> list[Statement]:
    """Every registered statement, in report order."""
    _load()
    return list(_REGISTRY.values())


def ids() -> list[str]:
    return [s.id for s in statements()]


class UnknownStatementError(KeyError):
    """No statement has this id."""

    def __str__(self):
        return self.args[0]


def get(statement_id: str) -> Statement:
    """The statement with this id; :class:`UnknownStatementError` lists the known ids."""
    _load()
    if statement_id not in _REGISTRY:
        raise UnknownStatementError(f"unknown statement id {statement_id!r}; known ids: "
                                    f"{', '.join(_REGISTRY)}")
    return _REGISTRY[statement_id]
