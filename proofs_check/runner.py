"""Run registered statements with Hypothesis and collect a report (MATH.md §5).

For each :class:`~proofs_check.registry.Statement` the runner builds a Hypothesis test from the
statement's strategy and check, with an explicit seed (``@seed``), no example database, and
``max_examples`` from the profile (times the statement's ``weight``) or ``--examples``.  A failing
margin raises inside the test, so Hypothesis **shrinks** the instance; the shrunk instance (the
last one replayed) is the reported counterexample, with its ``flows`` command.

Statuses: a statement expected to ``pass`` is ``pass`` if no instance fails and its symbolic
obligation (if any) is not disproved, ``fail`` otherwise.  A statement expected to be
``refuted`` (a claim known to be false) is ``refuted`` when a counterexample is found (Hypothesis
is steered towards it with ``target(-margin)``) and ``fail`` when none is found any more.  An
exception in a check is ``error``.
"""
from __future__ import annotations

import math
import platform
import time
import traceback
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from typing import Callable

from hypothesis import HealthCheck, Phase, Verbosity, given, seed as hypothesis_seed, settings, target

from .registry import Margin, Proof, Statement, statements as all_statements

#: Base example counts per profile (multiplied by each statement's ``weight``).  ``ci`` is sized so
#: the default ``proofs-check run`` finishes in about two minutes on a 2-core machine.
PROFILES = {"ci": 96, "thorough": 1000}
DEFAULT_PROFILE = "ci"
DEFAULT_SEED = 20250623  # the paper's arXiv month; any fixed number makes runs reproducible


class _Counterexample(AssertionError):
    """Raised inside the Hypothesis test when a margin is not positive."""


@dataclass
class Result:
    """Outcome of one statement (the JSON ``results`` entries)."""

    id: str
    statement: str
    expected: str
    status: str
    examples: int
    worst_margin: float | None
    proved: bool | None
    seconds: float
    counterexample: dict | None = None
    worst_example: dict | None = None
    proof_detail: str | None = None
    mpmath_rechecks: int = 0
    stats: dict = field(default_factory=dict)
    message: str = ""

    def to_json(self) -> dict:
        def num(x):
            return None if x is None or (isinstance(x, float) and math.isnan(x)) else x
        return {"id": self.id, "statement": self.statement, "expected": self.expected,
                "status": self.status, "examples": self.examples,
                "worst_margin": num(self.worst_margin), "proved": self.proved,
                "counterexample": self.counterexample, "seconds": round(self.seconds, 3),
                "worst_example": self.worst_example, "proof_detail": self.proof_detail,
                "mpmath_rechecks": self.mpmath_rechecks, "stats": self.stats,
                "message": self.message}


@dataclass
class Report:
    seed: int
    profile: str
    results: list

    @property
    def ok(self) -> bool:
        return all(r.status in ("pass", "refuted") for r in self.results)

    def to_json(self) -> dict:
        return {"seed": self.seed, "profile": self.profile, "versions": versions(),
                "results": [r.to_json() for r in self.results]}


def versions() -> dict:
    """Versions of Python and the libraries the verdicts depend on."""
    out = {"python": platform.python_version()}
    for pkg in ("memorization-flows", "sympy", "numpy", "scipy", "mpmath", "hypothesis"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
            out[pkg] = None
    return out


def example_count(statement: Statement, profile: str = DEFAULT_PROFILE,
                  examples: int | None = None) -> int:
    if examples is not None:
        return max(1, int(examples))
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    return max(1, round(PROFILES[profile] * statement.weight))


@lru_cache(maxsize=None)
def _cached_proof(statement_id: str, proof: Callable[[], Proof]) -> tuple[Proof, float]:
    start = time.perf_counter()
    try:
        result = proof()
    except Exception as exc:  # noqa: BLE001 - an obligation that crashes is reported, not raised
        result = Proof(None, f"symbolic obligation raised {type(exc).__name__}: {exc}")
    return result, time.perf_counter() - start


def _case(instance, margin: Margin | None, exc: BaseException | None = None) -> dict:
    out = {"instance": instance.to_json() if hasattr(instance, "to_json") else repr(instance),
           "repr": repr(instance)}
    if margin is not None:
        out.update(margin=margin.value, detail=margin.detail, flows_command=margin.flows_command,
                   mpmath=margin.mpmath)
    if exc is not None:
        out["error"] = f"{type(exc).__name__}: {exc}"
    return out


def run_statement(statement: Statement, *, profile: str = DEFAULT_PROFILE,
                  seed: int = DEFAULT_SEED, examples: int | None = None,
                  check: Callable | None = None, strategy=None,
                  run_proof: bool = True, shrink: bool = True) -> Result:
    """Check one statement on Hypothesis-drawn instances (see the module docstring).

    ``check`` / ``strategy`` replace the statement's own (mutation tests inject a broken
    denoiser or threshold this way); ``run_proof=False`` skips the symbolic obligation;
    ``shrink=False`` reports the first counterexample found instead of a shrunk one.
    """
    check = check or statement.check
    n = example_count(statement, profile, examples)
    start = time.perf_counter()
    state = {"calls": 0, "failed_at": None, "last": None, "worst": None, "mp": 0, "stats": {}}

    def body(instance):
        try:
            margin = check(instance)
        except Exception as exc:
            if state["failed_at"] is None:
                state["calls"] += 1
                state["failed_at"] = state["calls"]
            state["last"] = ("error", instance, None, exc)
            raise
        value = margin.value if not math.isnan(margin.value) else -math.inf
        if state["failed_at"] is None:
            state["calls"] += 1
            state["mp"] += bool(margin.mpmath)
            for k, v in margin.stats.items():
                lo, hi = state["stats"].get(k, (math.inf, -math.inf))
                state["stats"][k] = (min(lo, v), max(hi, v))
            if state["worst"] is None or value < state["worst"][1].value:
                state["worst"] = (instance, margin)
        if statement.expected == "refuted":
            target(max(-value, -1e300), label="-margin")
        if not margin.passed:
            if state["failed_at"] is None:
                state["failed_at"] = state["calls"]
            state["last"] = ("fail", instance, margin, None)
            raise _Counterexample(f"margin {margin.value:.6g} <= 0")

    test = given(statement.strategy() if strategy is None else strategy)(body)
    phases = tuple(Phase) if shrink else (Phase.explicit, Phase.reuse, Phase.generate,
                                          Phase.target)
    test = settings(max_examples=n, database=None, deadline=None, derandomize=False, phases=phases,
                    report_multiple_bugs=False, verbosity=Verbosity.quiet, print_blob=False,
                    # dataset draws build validated SymPy objects: slow per draw by design
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])(test)
    test = hypothesis_seed(seed)(test)

    outcome, message = None, ""
    try:
        test()
    except _Counterexample:
        outcome = "fail"
    except Exception as exc:  # noqa: BLE001 - reported as status "error"
        outcome = "error"
        if state["last"] is None or state["last"][0] != "error":
            state["last"] = ("error", None, None, exc)
        message = "".join(traceback.format_exception_only(type(exc), exc)).strip()

    proved, proof_detail = None, None
    if run_proof and statement.proof is not None:
        proof, _ = _cached_proof(statement.id, statement.proof)
        proved, proof_detail = proof.proved, proof.detail

    counterexample = None
    if outcome == "fail":
        _, inst, margin, _ = state["last"]
        counterexample = _case(inst, margin)
        worst = margin.value
    elif outcome == "error":
        _, inst, _, exc = state["last"]
        counterexample = _case(inst, None, exc) if inst is not None else {"error": message}
        message = message or f"{type(exc).__name__}: {exc}"
        worst = state["worst"][1].value if state["worst"] else None
    else:
        worst = state["worst"][1].value if state["worst"] else None

    if outcome == "error":
        status = "error"
    elif statement.expected == "refuted":
        status = "refuted" if outcome == "fail" else "fail"
        if outcome is None:
            message = (f"expected a counterexample (the claim is known to be false) but none was "
                       f"found in {state['calls']} examples")
    else:
        status = "fail" if outcome == "fail" or proved is False else "pass"
        if proved is False:
            message = f"symbolic obligation disproved: {proof_detail}"
    worst_example = None
    if state["worst"] is not None:
        worst_example = _case(*state["worst"])
    return Result(id=statement.id, statement=statement.summary(), expected=statement.expected,
                  status=status, examples=state["failed_at"] or state["calls"],
                  worst_margin=worst, proved=proved, seconds=time.perf_counter() - start,
                  counterexample=counterexample, worst_example=worst_example,
                  proof_detail=proof_detail, mpmath_rechecks=state["mp"],
                  stats={k: {"min": lo, "max": hi} for k, (lo, hi) in state["stats"].items()},
                  message=message)


def run(ids=None, *, profile: str = DEFAULT_PROFILE, seed: int = DEFAULT_SEED,
        examples: int | None = None, progress: Callable[[str, int, int, Result | None], None]
        | None = None) -> Report:
    """Run the statements with the given ids (all, in report order, when ``ids`` is empty)."""
    chosen = all_statements()
    if ids:
        from .registry import get
        chosen = [get(i) for i in ids]
    results = []
    for k, st in enumerate(chosen, start=1):
        if progress:
            progress(st.id, k, len(chosen), None)
        res = run_statement(st, profile=profile, seed=seed, examples=examples)
        results.append(res)
        if progress:
            progress(st.id, k, len(chosen), res)
    return Report(seed=seed, profile=profile, results=results)
