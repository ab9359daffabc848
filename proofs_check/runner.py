"""Run registered statements with Hypothesis and collect a report (docs/math.md §5).

For each :class:`~proofs_check.registry.Statement` the runner builds a Hypothesis test from the
statement's strategy and check, with an explicit seed (``@seed``), no example database, and
``max_examples`` from the profile (times the statement's ``weight``) or ``--examples``.  A failing
margin raises inside the test, so Hypothesis **shrinks** the instance; the shrunk instance (the
last one replayed) is the reported counterexample, with its ``flows`` command.

Statuses: a statement expected to ``pass`` is ``pass`` if no instance fails and its symbolic
obligation (if any) is not disproved, ``fail`` otherwise.  A statement expected to be
``refuted`` (a claim known to be false) is ``refuted`` when a counterexample is found (Hypothesis
is steered towards it with ``target(-margin)``, and a statement's recorded counterexample runs
first as an explicit example, so ``--examples 1`` refutes too) and ``fail`` when none is found any
more.  An exception in a check, or a statement past its time budget, is ``error``.

Margins are relative (see :class:`~proofs_check.registry.Margin`); the reported worst margin is
over the instances float64 decided, and the instances decided at high precision are counted
apart (their margins carry only a sign).

Time budget: every statement runs under a deadline (``time_budget``, default
:func:`default_budget`).  It is checked before each example and enforced inside a running one by
``SIGALRM`` (main thread, POSIX), so a check that stops converging ends as ``error: timeout``
with the instance it was on, never as a hang.
"""
from __future__ import annotations

import math
import platform
import signal
import threading
import time
import traceback
from dataclasses import dataclass, field
from importlib import metadata
from typing import Callable

from hypothesis import (HealthCheck, Phase, Verbosity, example, given, seed as hypothesis_seed,
                        settings, target)

from .registry import Margin, Proof, Statement, statements as all_statements

#: Base example counts per profile (multiplied by each statement's ``weight``).  ``ci`` is sized so
#: the default ``proofs-check run`` finishes in about two minutes on a 2-core machine; ``dev`` is
#: a deeper local run (~2.5x); ``thorough`` a long one (~10x).
PROFILES = {"ci": 96, "dev": 250, "thorough": 1000}
DEFAULT_PROFILE = "ci"
DEFAULT_SEED = 20250623  # the paper's arXiv month; any fixed number makes runs reproducible
#: Default time budget of one statement: BUDGET_BASE_S plus BUDGET_PER_EXAMPLE_S per example.
#: The slowest built-in check takes ~0.2 s per example and its symbolic obligation ~2 s, so the
#: default (252 s at the ci profile's 96 examples) is more than 10x the usual time; a check that
#: stops converging (a wrong formula making an integrator crawl) is stopped instead of hanging.
BUDGET_BASE_S = 60.0
BUDGET_PER_EXAMPLE_S = 2.0


class _Counterexample(AssertionError):
    """Raised inside the Hypothesis test when a margin is not positive."""


class _Timeout(BaseException):
    """The statement's time budget ran out.  A ``BaseException`` (not an ``Exception``), so
    Hypothesis does not treat it as a failure to shrink and stops at once."""


@dataclass
class Result:
    """Outcome of one statement (the JSON ``results`` entries).

    ``worst_margin`` is the smallest *relative* margin over the instances float64 decided
    (``None`` when every instance was decided at high precision); ``worst_margin_abs`` the same
    margin in the data's units; ``mpmath_rechecks`` counts the instances decided at high
    precision (their margins carry only a sign).  ``time_budget_s`` is the budget the statement
    ran under.
    """

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
    worst_margin_abs: float | None = None
    time_budget_s: float | None = None
    timed_out: bool = False

    def to_json(self) -> dict:
        def num(x):
            return None if x is None or (isinstance(x, float) and math.isnan(x)) else x
        return {"id": self.id, "statement": self.statement, "expected": self.expected,
                "status": self.status, "examples": self.examples,
                "worst_margin": num(self.worst_margin),
                "worst_margin_abs": num(self.worst_margin_abs), "proved": self.proved,
                "counterexample": self.counterexample, "seconds": round(self.seconds, 3),
                "worst_example": self.worst_example, "proof_detail": self.proof_detail,
                "mpmath_rechecks": self.mpmath_rechecks, "stats": self.stats,
                "message": self.message, "time_budget_s": self.time_budget_s,
                "timed_out": self.timed_out}


@dataclass
class Report:
    seed: int
    profile: str
    results: list
    time_budget_s: float | None = None
    files: tuple = ()

    @property
    def ok(self) -> bool:
        return all(r.status in ("pass", "refuted") for r in self.results)

    def to_json(self) -> dict:
        return {"seed": self.seed, "profile": self.profile, "versions": versions(),
                "time_budget_s": self.time_budget_s, "files": list(self.files),
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


#: Share of the time budget that shrinking a found counterexample may use (at least
#: ``SHRINK_MIN_S``): a wrong formula whose instances are slow to check is then reported as
#: ``fail`` with the smallest counterexample found so far, not as a timeout.
SHRINK_SHARE = 0.25
SHRINK_MIN_S = 30.0


def default_budget(n_examples: int) -> float:
    """Default per-statement time budget in seconds for ``n_examples`` examples."""
    return BUDGET_BASE_S + BUDGET_PER_EXAMPLE_S * n_examples


def _run_proof(proof: Callable[[], Proof]) -> Proof:
    """Run a symbolic obligation (never cached: a mutated theory must be seen by it)."""
    try:
        return proof()
    except Exception as exc:  # noqa: BLE001 - an obligation that crashes is reported, not raised
        return Proof(None, f"symbolic obligation raised {type(exc).__name__}: {exc}")


#: Longest alarm ``_HardStop`` arms (about three years; ``setitimer`` overflows ``time_t``
#: beyond ~1e11 s on some platforms).
MAX_ALARM_S = 1e8


class _HardStop:
    """Interrupt the running example at the deadline (``SIGALRM``), where the platform and the
    thread allow it; the runner also checks the deadline between examples."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.armed = False

    def __enter__(self):
        if (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
                and math.isfinite(self.seconds)):
            def on_alarm(signum, frame):
                raise _Timeout()
            self.previous = signal.signal(signal.SIGALRM, on_alarm)
            # setitimer takes at most a time_t worth of seconds: beyond ~3 years the deadline
            # between examples is the only guard (a budget that long is "no budget")
            signal.setitimer(signal.ITIMER_REAL, min(max(self.seconds, 1e-3), MAX_ALARM_S))
            self.armed = True
        return self

    def __exit__(self, *exc):
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
        return False


def _case(instance, margin: Margin | None, exc: BaseException | None = None) -> dict:
    out = {"instance": instance.to_json() if hasattr(instance, "to_json") else repr(instance),
           "repr": repr(instance)}
    if hasattr(instance, "short"):
        out["short"] = instance.short()
    if margin is not None:
        out.update(margin=margin.value, margin_abs=margin.absolute, scale=margin.scale,
                   detail=margin.detail, flows_command=margin.flows_command, mpmath=margin.mpmath)
    if exc is not None:
        out["error"] = f"{type(exc).__name__}: {exc}"
    if "flows_command" not in out and hasattr(instance, "flows_command"):
        try:
            out["flows_command"] = instance.flows_command()
        except Exception:  # noqa: BLE001 - an instance without a flow has no replay
            pass
    return out


def run_statement(statement: Statement, *, profile: str = DEFAULT_PROFILE,
                  seed: int = DEFAULT_SEED, examples: int | None = None,
                  check: Callable | None = None, strategy=None,
                  run_proof: bool = True, shrink: bool = True,
                  time_budget: float | None = None) -> Result:
    """Check one statement on Hypothesis-drawn instances (see the module docstring).

    ``check`` / ``strategy`` replace the statement's own (mutation tests inject a broken
    denoiser or threshold this way); ``run_proof=False`` skips the symbolic obligation;
    ``shrink=False`` reports the first counterexample found instead of a shrunk one.
    ``time_budget`` (seconds, default :func:`default_budget`) bounds the whole statement
    (examples, shrinking, obligation): past it the status is ``error`` with message
    ``timeout: ...`` and the instance being checked as ``counterexample``.
    """
    check = check or statement.check
    n = example_count(statement, profile, examples)
    budget = default_budget(n) if time_budget is None else float(time_budget)
    if not budget > 0:
        raise ValueError(f"time_budget must be a positive number of seconds, got {time_budget!r}")
    start = time.perf_counter()
    deadline = start + budget
    state = {"calls": 0, "failed_at": None, "last": None, "worst": None, "mp": 0, "stats": {},
             "current": None, "fail_time": None}

    def body(instance):
        state["current"] = instance
        now = time.perf_counter()
        if now > deadline or (state["fail_time"] is not None
                              and now > state["fail_time"] + max(SHRINK_MIN_S,
                                                                 SHRINK_SHARE * budget)):
            raise _Timeout()
        try:
            margin = check(instance)
        except Exception as exc:
            if state["failed_at"] is None:
                state["calls"] += 1
                state["failed_at"] = state["calls"]
            state["last"] = ("error", instance, None, exc)
            raise
        if not isinstance(margin, Margin):
            raise TypeError(f"the check of {statement.id} returned {type(margin).__name__}, "
                            "not a Margin")
        value = margin.value if not math.isnan(margin.value) else -math.inf
        if state["failed_at"] is None:
            state["calls"] += 1
            state["mp"] += bool(margin.mpmath)
            for k, v in margin.stats.items():
                lo, hi = state["stats"].get(k, (math.inf, -math.inf))
                state["stats"][k] = (min(lo, v), max(hi, v))
            # the worst margin is over float64-decided instances: a high-precision verdict's
            # value is a sign, its size the draw's distance to a kink (see Margin)
            if not margin.mpmath and (state["worst"] is None
                                      or value < state["worst"][1].value):
                state["worst"] = (instance, margin)
        if statement.expected == "refuted":
            target(max(-value, -1e300), label="-margin")
        if not margin.passed:
            if state["failed_at"] is None:
                state["failed_at"] = state["calls"]
                state["fail_time"] = time.perf_counter()
            state["last"] = ("fail", instance, margin, None)
            raise _Counterexample(f"margin {margin.value:.6g} <= 0")

    test = given(statement.strategy() if strategy is None else strategy)(body)
    explicit = () if statement.examples is None or strategy is not None else statement.examples()
    for inst_ in reversed(tuple(explicit)):
        test = example(inst_)(test)
    phases = tuple(Phase) if shrink else (Phase.explicit, Phase.reuse, Phase.generate,
                                          Phase.target)
    test = settings(max_examples=n, database=None, deadline=None, derandomize=False, phases=phases,
                    report_multiple_bugs=False, verbosity=Verbosity.quiet, print_blob=False,
                    # dataset draws build validated SymPy objects: slow per draw by design
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])(test)
    test = hypothesis_seed(seed)(test)

    outcome, message, timed_out = None, "", False
    proved, proof_detail = None, None
    with _HardStop(budget) as _:
        try:
            try:
                test()
            except _Counterexample:
                outcome = "fail"
            except _Timeout:
                raise
            except Exception as exc:  # noqa: BLE001 - reported as status "error"
                outcome = "error"
                if state["last"] is None or state["last"][0] != "error":
                    state["last"] = ("error", None, None, exc)
                message = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            if run_proof and statement.proof is not None:
                proof = _run_proof(statement.proof)
                proved, proof_detail = proof.proved, proof.detail
        except _Timeout:
            timed_out = True
    if timed_out and state["last"] is not None and state["last"][0] == "fail":
        # a counterexample was found; the time ran out while shrinking it (or in the
        # obligation): report the failure with the smallest counterexample found so far
        timed_out, outcome = False, "fail"
        message = ("counterexample found; shrinking stopped by the time budget (the smallest "
                   "counterexample found so far is reported)")

    if timed_out:
        elapsed = time.perf_counter() - start
        where = ("in the symbolic obligation" if outcome is not None or state["calls"] >= n
                 else f"at example {state['calls'] + 1}")
        message = (f"timeout: stopped after {elapsed:.1f} s (time budget {budget:g} s) {where}; "
                   "the instance being checked is reported (raise --time-budget if the check is "
                   "just slow)")
        inst_ = state["current"]
        counterexample = _case(inst_, None) if inst_ is not None else None
        if counterexample is not None:
            counterexample["error"] = "timeout"
        worst = state["worst"][1] if state["worst"] else None
        return Result(id=statement.id, statement=statement.summary(),
                      expected=statement.expected, status="error", examples=state["calls"],
                      worst_margin=None if worst is None else worst.value, proved=proved,
                      seconds=elapsed, counterexample=counterexample,
                      worst_example=_case(*state["worst"]) if state["worst"] else None,
                      proof_detail=proof_detail, mpmath_rechecks=state["mp"],
                      stats={k: {"min": lo, "max": hi} for k, (lo, hi) in state["stats"].items()},
                      message=message,
                      worst_margin_abs=None if worst is None else worst.absolute,
                      time_budget_s=budget, timed_out=True)

    counterexample = None
    worst_m = state["worst"][1] if state["worst"] else None
    if outcome == "fail":
        _, inst_, margin, _ = state["last"]
        counterexample = _case(inst_, margin)
        worst_m = margin
    elif outcome == "error":
        _, inst_, _, exc = state["last"]
        counterexample = _case(inst_, None, exc) if inst_ is not None else {"error": message}
        message = message or f"{type(exc).__name__}: {exc}"

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
                  worst_margin=None if worst_m is None else worst_m.value, proved=proved,
                  seconds=time.perf_counter() - start,
                  counterexample=counterexample, worst_example=worst_example,
                  proof_detail=proof_detail, mpmath_rechecks=state["mp"],
                  stats={k: {"min": lo, "max": hi} for k, (lo, hi) in state["stats"].items()},
                  message=message,
                  worst_margin_abs=None if worst_m is None else worst_m.absolute,
                  time_budget_s=budget)


def run(ids=None, *, profile: str = DEFAULT_PROFILE, seed: int = DEFAULT_SEED,
        examples: int | None = None, progress: Callable[[str, int, int, Result | None], None]
        | None = None, extra: list | tuple = (), time_budget: float | None = None,
        files: tuple = ()) -> Report:
    """Run the statements with the given ids, in report order.

    ``extra``: statements from user files (:func:`proofs_check.registry.load_file`); ids may
    name them too.  With no ``ids`` every built-in statement runs, or only ``extra`` when given.
    ``time_budget``: seconds per statement (default :func:`default_budget`).
    """
    by_id = {s.id: s for s in extra}
    if ids:
        from .registry import get
        chosen = [by_id[i] if i in by_id else get(i) for i in ids]
    else:
        chosen = list(extra) if extra else all_statements()
    results = []
    for k, st in enumerate(chosen, start=1):
        if progress:
            progress(st.id, k, len(chosen), None)
        res = run_statement(st, profile=profile, seed=seed, examples=examples,
                            time_budget=time_budget)
        results.append(res)
        if progress:
            progress(st.id, k, len(chosen), res)
    return Report(seed=seed, profile=profile, results=results, time_budget_s=time_budget,
                  files=tuple(str(f) for f in files))
