"""``proofs-check``: the theorem report on the command line (MATH.md §5).

    proofs-check list
    proofs-check explain ID
    proofs-check run [ID ...] [--profile ci|thorough] [--seed N] [--examples K] [--json FILE]

``run`` shows progress on stderr, prints a table (id, status, examples, worst margin, proved
symbolically?, seconds) and, for every counterexample, the ``flows`` command that replays it.
Exit status: 0 when every statement passes or is refuted as expected, 1 when any fails or errors,
2 on a usage error (one readable line on stderr).
"""
from __future__ import annotations

import argparse
import json
import sys
import textwrap

from . import registry, runner


class UsageError(Exception):
    """A command-line usage error (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="proofs-check", description="Check the paper's statements (MATH.md §5) on "
                "Hypothesis-generated instances and report margins, counterexamples and symbolic "
                "proofs.", epilog="example: proofs-check run thm-4.2 --seed 1 --json report.json")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.add_parser("list", help="ids and one-line statements")
    ex = sub.add_parser("explain", help="statement, hypotheses, choices and how it is checked")
    ex.add_argument("id")
    run = sub.add_parser("run", help="run the checks (all statements by default)")
    run.add_argument("ids", nargs="*", metavar="ID")
    run.add_argument("--profile", choices=tuple(runner.PROFILES), default=runner.DEFAULT_PROFILE,
                     help="example counts: ci (default, ~2 min) or thorough")
    run.add_argument("--seed", type=int, default=runner.DEFAULT_SEED,
                     help=f"Hypothesis seed (default {runner.DEFAULT_SEED}; recorded in the JSON)")
    run.add_argument("--examples", type=int, default=None,
                     help="examples per statement (overrides the profile)")
    run.add_argument("--json", metavar="FILE", default=None, help="write the report as JSON")
    return p


def _fmt_margin(x) -> str:
    return "-" if x is None else f"{x:.3g}"


def _fmt_proved(x) -> str:
    return {True: "yes", False: "DISPROVED", None: "-"}[x]


def table(results) -> str:
    rows = [("id", "status", "examples", "worst margin", "proved", "mp", "seconds")]
    for r in results:
        status = r.status + (" (expected)" if r.status == "refuted" else "")
        rows.append((r.id, status, str(r.examples), _fmt_margin(r.worst_margin),
                     _fmt_proved(r.proved), str(r.mpmath_rechecks), f"{r.seconds:.1f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _explain(st) -> str:
    out = [f"{st.id}: {st.title}", f"source: {st.source}", f"expected: {st.expected}"]
    if st.partner:
        out.append(f"see also: {st.partner}")
    for head, body in (("statement", st.statement), ("hypotheses (generated)", st.hypotheses),
                       ("how it is checked", st.method), ("reconstruction notes", st.notes)):
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
    lines = [f"seed {report.seed}, profile {report.profile}", "", table(report.results)]
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
            if ce.get("flows_command"):
                lines.append("  replay: " + ce["flows_command"])
    return "\n".join(lines)


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
        for sid in args.ids:
            registry.get(sid)
        if args.examples is not None and args.examples < 1:
            raise UsageError(f"--examples must be a positive integer, got {args.examples}")
    except (UsageError, registry.UnknownStatementError) as exc:
        print(f"proofs-check: error: {exc}", file=sys.stderr)
        return 2
    report = runner.run(args.ids, profile=args.profile, seed=args.seed, examples=args.examples,
                        progress=_progress)
    print(_report_text(report))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report.to_json(), fh, indent=2, default=str)
    return 0 if report.ok else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
