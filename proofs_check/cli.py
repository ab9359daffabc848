"""``proofs-check``: the theorem report on the command line (docs/math.md §5).

    proofs-check list
    proofs-check explain ID
    proofs-check run [ID ...] [--file FILE ...] [--profile ci|dev|thorough] [--seed N]
                     [--examples K] [--time-budget SECONDS] [--json FILE]

``run`` shows progress on stderr, prints a table (id, status, examples, worst relative margin,
the instance it came from, high-precision re-checks, proved symbolically?, seconds) with a legend
explaining every column, and, for every counterexample, the ``flows`` command that replays it.
``--file my_claim.py`` loads the user's own statements (same :class:`~proofs_check.registry.
Statement` API; see ``docs/conjectures.md``) and runs them like the built-ins.
Exit status: 0 when every statement passes or is refuted as expected, 1 when any fails or errors
or a ``--file`` cannot be loaded, 2 on a usage error (one readable line on stderr).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import textwrap

from theory.errors import quiet_on_closed_stdout

from . import registry, runner


class UsageError(Exception):
    """A command-line usage error (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="proofs-check", description="Check the paper's statements (docs/math.md §5) "
                "on Hypothesis-generated instances and report margins, counterexamples and symbolic "
                "proofs.", epilog="example: proofs-check run thm-4.2 --seed 1 --json report.json")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.add_parser("list", help="ids and one-line statements")
    ex = sub.add_parser("explain", help="statement, hypotheses, choices and how it is checked")
    ex.add_argument("id")
    run = sub.add_parser("run", help="run the checks (all statements by default)")
    run.add_argument("ids", nargs="*", metavar="ID")
    run.add_argument("--file", action="append", default=[], metavar="FILE",
                     help="a Python file defining your own Statement objects (repeatable); with "
                          "no ID, only the files' statements run")
    run.add_argument("--profile", choices=tuple(runner.PROFILES), default=runner.DEFAULT_PROFILE,
                     help="example counts: " + ", ".join(f"{k} {v}" for k, v in
                                                         runner.PROFILES.items())
                          + " per statement times its weight (ci: default, ~2 min in all)")
    run.add_argument("--seed", type=int, default=runner.DEFAULT_SEED,
                     help=f"Hypothesis seed (default {runner.DEFAULT_SEED}; recorded in the JSON)")
    run.add_argument("--examples", type=int, default=None,
                     help="examples per statement (overrides the profile)")
    run.add_argument("--time-budget", type=float, default=None, metavar="SECONDS",
                     help=f"seconds per statement before it is stopped as 'error: timeout' "
                          f"(default {runner.BUDGET_BASE_S:g} + {runner.BUDGET_PER_EXAMPLE_S:g} "
                          "per example: 252 s at the ci profile, >10x the usual time)")
    run.add_argument("--json", metavar="FILE", default=None, help="write the report as JSON")
    return p


def _fmt_margin(x) -> str:
    return "-" if x is None else f"{x:.3g}"


def _fmt_proved(x) -> str:
    return {True: "yes", False: "DISPROVED", None: "-"}[x]


#: The legend printed under the table: every column in words.
LEGEND = """\
columns:
  status       pass: no instance failed and no symbolic obligation was disproved;
               refuted (expected): a claim known to be false produced its counterexample;
               fail: a claim failed, an obligation was disproved, or a known-false claim was not
               refuted; error: the check raised, or ran past --time-budget (error: timeout)
  examples     instances checked (up to and including the first failure)
  worst rel.   the smallest margin over the instances float64 decided, relative to the
  margin       instance's size: an error over its tolerance (1 - err/tol), a distance over the
               data scale max r_n (R for the triangle), or a rate in the flow's dimensionless
               time. > 0 holds; 1 is far from failing; 1e-9 is a billionth of the instance's
               size from failing. '-': every instance was decided at high precision
  hp           instances decided at high precision (50-digit re-check near a kink or a
               threshold, where float64 cannot trust the sign); their margin is a sign only and
               is not in the worst margin
  proved       symbolic obligation discharged by SymPy: yes / DISPROVED / - (none, or undecided)
  seconds      wall time of the statement (examples, shrinking and the obligation)
the instance with the worst margin is listed under 'closest calls' (its replay command is in
the JSON, field worst_example.flows_command)"""


def table(results) -> str:
    rows = [("id", "status", "examples", "worst rel. margin", "hp", "proved", "seconds")]
    for r in results:
        status = r.status + (" (expected)" if r.status == "refuted" else "")
        if r.timed_out:
            status = "error: timeout"
        rows.append((r.id, status, str(r.examples), _fmt_margin(r.worst_margin),
                     str(r.mpmath_rechecks), _fmt_proved(r.proved), f"{r.seconds:.1f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _explain(st) -> str:
    out = [f"{st.id}: {st.title}", f"source: {st.source}", f"expected: {st.expected}"]
    if st.partner:
        out.append(f"see also: {st.partner}")
    for head, body in (("statement", st.statement), ("hypotheses (generated)", st.hypotheses),
                       ("how it is checked", st.method), ("notes", st.notes)):
        if body:
            out.append(f"\n{head}:\n" + textwrap.fill(body, 96, initial_indent="  ",
                                                       subsequent_indent="  "))
    if st.choices:
        out.append("\nchoices:\n" + "\n".join(f"  - {c}" for c in st.choices))
    out.append(f"\nsymbolic proof obligation: {'yes' if st.proof else 'none'}")
    return "\n".join(out)


def _progress(sid, k, n, res):
    if res is None:
        print(f"[{k}/{n}] {sid} ...", file=sys.stderr, flush=True)
    else:
        print(f"[{k}/{n}] {sid}: {res.status} ({res.examples} examples, {res.seconds:.1f} s)",
              file=sys.stderr, flush=True)


def _report_text(report) -> str:
    budget = ("default" if report.time_budget_s is None else f"{report.time_budget_s:g} s")
    lines = [f"seed {report.seed}, profile {report.profile}, time budget {budget} per statement",
             "", table(report.results), "", LEGEND]
    closest = [r for r in report.results if r.status == "pass" and r.worst_example]
    if closest:
        lines.append("\nclosest calls (the float64-decided instance with the worst margin):")
        for r in closest:
            ex = r.worst_example
            comp = (ex.get("detail") or {}).get("worst")
            lines.append(f"  {r.id}: {r.worst_margin:.3g}" + (f" ({comp})" if comp else "")
                         + f" on {ex.get('short', ex.get('repr', ''))}")
    for r in report.results:
        if r.stats:
            stats = ", ".join(f"{k} in [{v['min']:.3g}, {v['max']:.3g}]" for k, v in r.stats.items())
            lines.append(f"\n{r.id}: {stats}")
    for r in report.results:
        if r.counterexample or r.message:
            label = {"refuted": "counterexample (claim known false, refuted as expected)",
                     "fail": "FAILED", "error": "ERROR"}.get(r.status, "note")
            lines.append(f"\n{r.id}: {label}")
            if r.message:
                lines.append("  " + r.message.splitlines()[0])
            ce = r.counterexample or {}
            if "margin" in ce:
                lines.append(f"  margin {ce['margin']:.6g}; {ce['repr']}")
            elif ce.get("repr"):
                lines.append(f"  instance: {ce['repr']}")
            if ce.get("flows_command"):
                lines.append("  replay: " + ce["flows_command"])
    return "\n".join(lines)


@quiet_on_closed_stdout
def main(argv=None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            raise UsageError("missing command: choose list, explain or run")
        if args.command == "list":
            for st in registry.statements():
                print(f"{st.id:40s} {st.summary()}")
            return 0
        if args.command == "explain":
            print(_explain(registry.get(args.id)))
            return 0
        if args.examples is not None and args.examples < 1:
            raise UsageError(f"--examples must be a positive integer, got {args.examples}")
        if args.seed < 0:
            raise UsageError(f"--seed must be a non-negative integer, got {args.seed}")
        if args.time_budget is not None and not (math.isfinite(args.time_budget)
                                                 and args.time_budget > 0):
            raise UsageError(f"--time-budget must be a positive number of seconds, got "
                             f"{args.time_budget:g}")
    except (UsageError, registry.UnknownStatementError) as exc:
        print(f"proofs-check: error: {exc}", file=sys.stderr)
        return 2
    try:
        extra = [s for f in args.file for s in registry.load_file(f)]
    except registry.StatementFileError as exc:
        print(f"proofs-check: error: {exc}", file=sys.stderr)
        return 1
    try:
        known = {s.id for s in extra}
        for sid in args.ids:
            if sid not in known:
                registry.get(sid)
        # open the report file before the run: an unwritable path fails now, not in 2 minutes
        out = open(args.json, "w") if args.json else None  # noqa: SIM115 - closed below
    except registry.UnknownStatementError as exc:
        print(f"proofs-check: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"proofs-check: error: --json {args.json!r}: cannot write it "
              f"({exc.strerror or exc}); pass a writable path", file=sys.stderr)
        return 2
    try:
        report = runner.run(args.ids, profile=args.profile, seed=args.seed,
                            examples=args.examples, progress=_progress, extra=extra,
                            time_budget=args.time_budget, files=tuple(args.file))
        print(_report_text(report))
        if out is not None:
            json.dump(report.to_json(), out, indent=2, default=str)
    finally:
        if out is not None:
            out.close()
    return 0 if report.ok else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
