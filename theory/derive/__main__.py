"""Command line: ``python -m theory.derive NAME [NAME ...] | all | --list`` (``theory-derive``).

Exit status: 0 when every requested derivation verifies, 1 when a claim fails, 2 for an unknown
name or bad usage (``--list`` with names, an unknown option).  Every error is one line on stderr,
``theory-derive: error: ...``.
"""
from __future__ import annotations

import argparse
import sys

from ..errors import quiet_on_closed_stdout
from . import DERIVATIONS, DerivationFailed, run, summary


PROG = "theory-derive"


class _UsageError(Exception):
    """A usage problem (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """``argparse`` parser whose errors are one line (no usage block) and exit status 2."""

    def error(self, message):  # noqa: D401 - argparse API
        raise _UsageError(message)


def _error(message) -> None:
    print(f"{PROG}: error: {' '.join(str(message).split())}", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="theory-derive",
        description="Run the symbolic derivations of the paper's closed forms; each prints its "
                    "steps and verifies them with SymPy.",
        epilog="examples: theory-derive --list | theory-derive lemma_d3 | theory-derive all")
    p.add_argument("names", nargs="*", metavar="NAME",
                   help=f"derivations to run ({', '.join(DERIVATIONS)}) or 'all'")
    p.add_argument("--list", action="store_true", help="list the derivations and exit")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="print only one result line per derivation")
    return p


class _Null:
    def write(self, _text):
        return 0

    def flush(self):
        pass


@quiet_on_closed_stdout
def main(argv=None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        if args.list and args.names:
            raise _UsageError(f"--list takes no names (got {' '.join(args.names)}); run "
                              "theory-derive --list alone, or name derivations without --list")
        if not args.list and not args.names:
            raise _UsageError("give a derivation name, 'all' or --list")
        unknown = [n for n in args.names if n != "all" and n not in DERIVATIONS]
        if unknown:
            raise _UsageError(_unknown_message(unknown))
    except _UsageError as exc:
        _error(exc)
        return 2
    if args.list:
        width = max(map(len, DERIVATIONS))
        for name in DERIVATIONS:
            print(f"{name:<{width}}  {summary(name)}")
        return 0
    names = list(DERIVATIONS) if "all" in args.names else list(dict.fromkeys(args.names))
    for name in names:
        try:
            steps = run(name, _Null() if args.quiet else None)
        except DerivationFailed as exc:
            _error(exc)
            return 1
        if args.quiet:
            print(f"{name}: all {steps.checks} checks passed")
    return 0


def _unknown_message(unknown) -> str:
    return (f"unknown derivation{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"choose from: {', '.join(DERIVATIONS)} (or 'all')")


if __name__ == "__main__":
    sys.exit(main())
