"""``flows experiment NAME --out DIR [--seed N] [--quick] [--workers K] [--scheduler ADDR]
[--PARAMETER VALUE ...]``.

Every experiment is a sub-command with its own ``--help``: the common options above plus one
option per entry of the module's ``PARAMETERS`` table (:mod:`.parameters`), with its default and,
where ``--quick`` changes it, the quick value.  Explicit options override ``--quick``; sequences
are comma lists (``--Ns 30,20,10``).  After the run the command prints the files it wrote and the
module's ``summary(results)`` lines (the headline numbers); everything is in ``DIR/results.json``.

Registered in :mod:`numerics.cli` through its ``add_command`` hook
(:func:`configure_experiment`, :func:`run_experiment`); :func:`add_experiment_parser` wires the
same command into any ``argparse`` sub-parser collection.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from . import EXPERIMENTS, QUICK, get, run
from .parameters import parameters, show

#: ``argparse`` destinations of the common options (everything else is an experiment parameter).
COMMON = ("name", "out", "seed", "quick", "workers", "scheduler", "no_progress", "json")


def _common_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="output directory (created if missing)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0; recorded)")
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes (a few seconds); explicit options below override them")
    p.add_argument("--workers", type=int, default=None,
                   help="local worker processes (default: CPU count; 1 = no parallelism)")
    p.add_argument("--scheduler", default=None,
                   help="Dask scheduler address, e.g. tcp://127.0.0.1:8786 (needs the 'dask' "
                        "extra); default: local processes")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    # SUPPRESS: not given here, the value of `flows experiment --json NAME` (or False) stands
    p.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                   help="print one JSON object")


def _module_or_none(name: str):
    """The experiment's module, or ``None`` when it cannot be imported here (a missing optional
    dependency): its sub-command then has the common options only and the run reports the error."""
    try:
        return get(name)
    except ImportError:
        return None


def configure_experiment(p: argparse.ArgumentParser) -> None:
    """Arguments of ``flows experiment``: one sub-command per experiment."""
    sub = p.add_subparsers(dest="name", metavar="NAME", parser_class=type(p))
    sub.required = True
    for name in EXPERIMENTS:
        module = _module_or_none(name)
        doc = (module.__doc__ or "").strip().split("\n\n")[0] if module else ""
        sp = sub.add_parser(name, help=" ".join(doc.split()) or f"experiment {name}",
                            description=" ".join(doc.split()) or None)
        _common_options(sp)
        if module is None:
            continue
        quick = QUICK.get(name, {})
        group = sp.add_argument_group(f"{name} parameters")
        for prm in parameters(module):
            text = prm.help + f" (default: {'none' if prm.default is None else show(prm.default)}"
            text += f"; --quick: {show(quick[prm.name])})" if prm.name in quick else ")"
            group.add_argument(prm.option, dest=prm.name, type=prm.parse, default=None,
                               choices=prm.choices, metavar=prm.name.upper() if not prm.choices
                               else None, help=text.replace("%", "%%"))


def experiment_options(args: argparse.Namespace) -> dict:
    """The experiment parameters given explicitly on the command line."""
    return {k: v for k, v in vars(args).items()
            if k not in COMMON and not k.startswith("_") and k != "command" and v is not None}


def run_experiment(args: argparse.Namespace) -> dict:
    """Run the chosen experiment; return ``{experiment, out, seed, results, figures, options,
    summary}`` (``summary`` is a list of lines with ``--json``, else one indented text block)."""
    from ..validation import check_int
    from ._runtime import check_workers
    check_int(args.seed, "--seed", minimum=0)  # NumPy's generators take non-negative seeds
    args.workers = check_workers(args.workers, "--workers")
    check_output_dir(args.out, "--out")
    options = experiment_options(args)
    res = run(args.name, args.out, quick=args.quick, seed=args.seed, workers=args.workers,
              scheduler=args.scheduler, progress=not args.no_progress, **options)
    out = Path(args.out)
    module = get(args.name)
    lines = list(module.summary(res)) if hasattr(module, "summary") else []
    return {"experiment": args.name, "out": str(out), "seed": args.seed,
            "options": options, "results": str(out / "results.json"),
            "figures": [str(out / f) for f in res.get("figures", [])],
            "summary": lines if getattr(args, "json", False)
            else "".join(f"\n  {line}" for line in lines)}


def check_output_dir(path: str, name: str = "--out") -> Path:
    """Create the output directory now (before minutes of computing) and check it is writable."""
    from theory.errors import InputError
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise InputError(f"{name} {path}: cannot write there ({exc.strerror or exc}); pass a "
                         "writable directory") from None
    return out


def check_output_file(path: str, name: str) -> Path:
    """Check (before any computing) that the file ``path`` can be written: its folder is created
    and probed (:func:`check_output_dir`), and ``path`` is not itself a folder."""
    from theory.errors import InputError
    out = Path(path)
    check_output_dir(str(out.parent), name)
    if out.is_dir():
        raise InputError(f"{name} {path}: is a folder; pass a file name")
    return out


def add_experiment_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``experiment`` to an ``argparse`` sub-parser collection; its handler is stored as
    ``set_defaults(_run=run_experiment)``."""
    p = subparsers.add_parser("experiment", help="run one of the paper's experiments",
                              description="Run one of the paper's experiments and write "
                                          "results.json and PNG figures into --out.")
    configure_experiment(p)
    p.set_defaults(_run=run_experiment)
    return p
