"""The registry of checkable statements (docs/math.md §5): one :class:`Statement` per claim of
the paper.

A statement bundles

* its words (``statement``), the paper's numbering (``source``), the **[choice]** variants it
  depends on (``choices``), its hypotheses in words and how the check works (``method``), and
  notes (``notes``: how the toolkit reads the paper where it had to choose, and findings);
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

from theory.errors import InputError

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
    ``scale``: the instance's natural length (``max_n r_n``; ``R`` for the triangle).

    **Margins are relative.**  ``value`` is dimensionless: each component is an error over its
    tolerance (``1 - err/tol``), a distance over ``scale``, or a rate in the flow's
    dimensionless time, so an instance ten times larger has the same margin and a margin of
    ``1e-9`` always means "a billionth of the instance's size from failing".  ``absolute``
    (``value * scale``) is the same margin in the data's units (JSON ``worst_margin_abs``).
    A check that computes a margin in data units builds it with :meth:`from_absolute`.
    When ``mpmath`` is true the verdict was decided at high precision and ``value`` only
    carries its sign (the report counts these separately and leaves them out of the worst
    margin: their size says how close the draw was to a kink, not how close the claim was to
    failing).
    """

    value: float
    detail: dict = field(default_factory=dict)
    flows_command: str = ""
    mpmath: bool = False
    stats: dict = field(default_factory=dict)
    scale: float = 1.0

    @classmethod
    def from_absolute(cls, absolute: float, scale: float, **kwargs) -> "Margin":
        """A margin measured in the data's units, divided by the instance's ``scale``."""
        if not (scale > 0 and math.isfinite(scale)):
            raise ValueError(f"scale must be a positive finite length, got {scale!r}")
        return cls(float(absolute) / scale, scale=float(scale), **kwargs)

    @property
    def passed(self) -> bool:
        return bool(self.value > 0) and not math.isnan(self.value)

    @property
    def absolute(self) -> float:
        """The margin in the data's units: ``value * scale``."""
        return self.value * self.scale


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
    #: explicit instances run before the generated ones (Hypothesis ``@example``): a claim known
    #: to be false carries its recorded counterexample, so it is refuted at any ``--examples``
    examples: Callable[[], tuple] | None = None

    def __post_init__(self):
        if self.expected not in EXPECTED:
            raise ValueError(f"{self.id}: expected must be one of {EXPECTED}, got {self.expected!r}")
        if not (isinstance(self.weight, (int, float)) and self.weight > 0):
            raise ValueError(f"{self.id}: weight must be a positive number, got {self.weight!r}")
        for name in ("strategy", "check"):
            if not callable(getattr(self, name)):
                raise ValueError(f"{self.id}: {name} must be callable, got "
                                 f"{type(getattr(self, name)).__name__}")

    def summary(self) -> str:
        """One line: the title and the expected status when it is not ``pass``."""
        tag = " [known false: expected refuted]" if self.expected == "refuted" else ""
        return f"{self.title}{tag}"


_REGISTRY: dict[str, Statement] = {}
#: While :func:`load_file` imports a user file, ``register`` collects into this list instead of
#: the built-in registry (a user's statements never leak into ``statements()``).
_CAPTURE: list | None = None


def register(statement: Statement) -> Statement:
    """Add a statement (ids are unique).  Inside a file loaded by :func:`load_file` the
    statement is collected for that file instead."""
    if not isinstance(statement, Statement):
        raise TypeError(f"register() takes a Statement, got {type(statement).__name__}")
    if _CAPTURE is not None:
        _CAPTURE.append(statement)
        return statement
    if statement.id in _REGISTRY and _REGISTRY[statement.id] is not statement:
        raise ValueError(f"statement id {statement.id!r} is registered twice")
    _REGISTRY[statement.id] = statement
    return statement


class StatementFileError(InputError):
    """A ``--file`` of user statements cannot be loaded (one line: the file and the reason)."""


def load_file(path) -> list[Statement]:
    """The statements a user file defines, in file order (``proofs-check run --file FILE``).

    The file is ordinary Python importing the same API as the built-in checks
    (:class:`Statement`, :class:`Margin`, :mod:`proofs_check.strategies`,
    :mod:`proofs_check.instances`).  Its statements are those it passes to :func:`register`
    plus every module-level :class:`Statement` object it defines (a statement both registered
    and bound to a name counts once; import a sibling file as a module, ``import other``, so its
    statements are not collected twice).  While the file loads its folder is on ``sys.path``.  Ids must be unique and must not reuse a built-in id.
    Any problem (missing file, syntax error, an exception while importing, no statement, a
    duplicate id) raises :class:`StatementFileError` with one line naming the file.
    """
    global _CAPTURE
    import importlib.util
    import pathlib
    import sys
    import traceback
    p = pathlib.Path(path)
    if not p.is_file():
        raise StatementFileError(f"--file {str(path)!r}: no such file (pass a Python file that "
                                 "defines Statement objects)")
    if p.suffix != ".py":
        raise StatementFileError(f"--file {str(path)!r}: expected a Python file ending in .py")
    name = f"proofs_check_user_{abs(hash(str(p.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, p)
    module = importlib.util.module_from_spec(spec)
    _load()  # built-ins first, so their ids are known and their own register() calls are real
    captured: list[Statement] = []
    previous, _CAPTURE = _CAPTURE, captured
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    folder = str(p.resolve().parent)
    sys.path.insert(0, folder)  # a claim may import a sibling file (e.g. shared strategies)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise StatementFileError(f"--file {str(path)!r}: syntax error on line {exc.lineno}: "
                                 f"{exc.msg}") from None
    except Exception as exc:  # noqa: BLE001 - any import-time failure is one line
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(p)]
        where = f" (line {frames[-1].lineno})" if frames else ""
        first = (str(exc).splitlines() or [""])[0]
        raise StatementFileError(f"--file {str(path)!r}: importing it raised "
                                 f"{type(exc).__name__}{where}: {first}") from None
    finally:
        _CAPTURE = previous
        sys.modules.pop(name, None)
        if folder in sys.path:
            sys.path.remove(folder)
    found = list(captured)
    for value in vars(module).values():
        if isinstance(value, Statement) and not any(value is s for s in found):
            found.append(value)
    if not found:
        raise StatementFileError(f"--file {str(path)!r}: defines no Statement (define one at "
                                 "module level or pass it to register())")
    seen = set()
    for s in found:
        if s.id in seen:
            raise StatementFileError(f"--file {str(path)!r}: statement id {s.id!r} is defined "
                                     "twice")
        if s.id in _REGISTRY:
            raise StatementFileError(f"--file {str(path)!r}: statement id {s.id!r} is a built-in "
                                     "id; choose another")
        seen.add(s.id)
    return found


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
