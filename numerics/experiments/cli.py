"""``flows experiment NAME --out DIR [--seed N] [--quick] [--workers K] [--scheduler ADDR]``.

Registered in :mod:`numerics.cli` through its ``add_command`` hook
(:func:`configure_experiment`, :func:`run_experiment`); :func:`add_experiment_parser` wires the
same command into any ``argparse`` sub-parser collection.  The command prints a short summary
(the JSON file and figures it wrote); the full numbers are in ``DIR/results.json``.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from . import EXPERIMENTS, run


def configure_experiment(p: argparse.ArgumentParser) -> None:
    """Arguments of ``flows experiment``."""
    p.add_argument("name", choices=list(EXPERIMENTS), help="which experiment")
    p.add_argument("--out", required=True, help="output directory (created if missing)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0; recorded)")
    p.add_argument("--quick", action="store_true", help="tiny sizes (a few seconds)")
    p.add_argument("--workers", type=int, default=None,
                   help="local worker processes (default: CPU count; 1 = no parallelism)")
    p.add_argument("--scheduler", default=None,
                   help="Dask scheduler address, e.g. tcp://127.0.0.1:8786 (needs the 'dask' "
                        "extra); default: local processes")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def run_experiment(args: argparse.Namespace) -> dict:
    """Run the chosen experiment; return ``{experiment, out, results, figures, seed}``."""
    from ..validation import check_int
    from ._runtime import check_workers
    check_int(args.seed, "--seed", minimum=0)  # NumPy's generators take non-negative seeds
    args.workers = check_workers(args.workers, "--workers")
    check_output_dir(args.out, "--out")
    res = run(args.name, args.out, quick=args.quick, seed=args.seed, workers=args.workers,
              scheduler=args.scheduler, progress=not args.no_progress)
    out = Path(args.out)
    return {"experiment": args.name, "out": str(out), "seed": args.seed,
            "results": str(out / "results.json"),
            "figures": [str(out / f) for f in res.get("figures", [])]}


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


def add_experiment_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``experiment`` to an ``argparse`` sub-parser collection; its handler is stored as
    ``set_defaults(_run=run_experiment)``."""
    p = subparsers.add_parser("experiment", help="run one of the paper's experiments",
                              description="Run one of the paper's experiments and write "
                                          "results.json and PNG figures into --out.")
    configure_experiment(p)
    p.set_defaults(_run=run_experiment)
    return p
