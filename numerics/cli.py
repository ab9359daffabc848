"""The ``flows`` command line: flow endpoints, early-stopping thresholds, endpoint classes.

Commands (``flows COMMAND --help`` for every option; ``--json`` prints one JSON object)::

    flows endpoint --data F --y0=-0.2,0.7 --flow score --rho R [--model M] [--method exact|ivp]
    flows endpoint --data F --y0 ... --flow probability --c C --sigma-max S [--sigma-min 0]
                   [--model exact|taylor|taylor-fixed-kinks] [--method exact|ivp]
                   [--threshold T] [--norm l2|linf]
    flows endpoint --data F --y0 ... --flow probability|score --denoiser NAME | --net NET ...
                   (any score model: numerics.models.endpoint_cli, docs/models.md)
    flows threshold --data F --y0 ... --sigma-max S [--model M] [--confirm [--method M]]
    flows classify --data F --y ... [--threshold T] [--norm l2|linf]
    flows trajectory --data F --y0 ... (endpoint's options) --out FIG.png [--t-max T]
    flows experiment NAME --out DIR [--quick] [--workers K] [--scheduler ADDR]
    flows train --data F (--rho R | --sigma S --c C | --sigmas S1,S2 --c C) --out NET
                [--protocol al|adam|adam-wd|dropout]   (training/cli.py; needs the train extra)

Data files are JSON objects ``{"kind": "orthogonal"|"obtuse"|"equilateral", "points": [[...]]}``
with ``points[0]`` the apex ``x_0`` for orthogonal/obtuse data.  Vectors are comma-separated;
negative ones work as ``--y0=-0.2,0.7`` and also as ``--y0 -0.2,0.7``.

Exit status: 0 on success, 1 on bad input (unreadable file, invalid JSON, invalid dataset, NaN,
``rho`` or ``c sigma_max`` outside the low-noise regime, ...), 2 on a usage error (unknown or
missing option, option for the other flow); in both error cases exactly one line
``flows: error: ...`` on stderr.

Adding a subcommand
-------------------
A command is a name, a one-line help, ``configure(parser)`` adding its arguments (the shared
``--json`` flag is added for you), and ``run(args) -> dict`` returning the JSON-serialisable
result (raise :class:`UsageError` for a usage problem, any ``ValueError``/``OSError`` for bad
input).  Register it with :func:`add_command` and list the registration in
:func:`_register_builtin_commands`, e.g. for ``flows experiment NAME --out DIR``::

    from numerics.experiments.cli import configure_experiment, run_experiment
    add_command("experiment", "run one of the paper's experiments", configure_experiment,
                run_experiment)
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

from theory.datasets import Dataset
from theory.datasets import load_dataset as read_dataset
from theory.denoisers import check_low_noise
from theory.errors import (InputError, NotRepresentableError, OutOfRangeError, ShapeError,
                           quiet_on_closed_stdout)
from theory.pieces import MODELS

from . import flows
from .classify import check_threshold, classify, default_threshold
from .validation import (as_point, check_nonnegative, check_number, check_positive, check_radius,
                         describe)
from .geometry import NORMS

PROG = "flows"
#: Data files above this size get progress lines on stderr (reading and validating take seconds:
#: about 1 s per 10 MB of JSON).
PROGRESS_FILE_BYTES = 16_000_000


class UsageError(Exception):
    """A usage problem detected after parsing (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """``argparse`` parser whose errors are one line on stderr and exit status 2."""

    def error(self, message):  # noqa: D401 - argparse API
        raise UsageError(message)


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], dict]


#: Registered subcommands, in ``--help`` order.
COMMANDS: dict[str, Command] = {}

#: Options taking a comma-separated vector (may start with ``-``; see :func:`_join_vectors`).
VECTOR_OPTIONS = {"--y0", "--y"}


def add_command(name: str, help: str, configure, run) -> None:
    """Register subcommand ``name`` (see the module docstring)."""
    if name in COMMANDS:
        raise ValueError(f"flows subcommand {name!r} is already registered")
    COMMANDS[name] = Command(name, help, configure, run)


# -- argument types and input loading ---------------------------------------------------------------
def parse_vector(text: str) -> list[float]:
    """``"a,b,..."`` -> list of floats (argparse type; NaN is parsed and rejected later)."""
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of numbers like -0.2,0.7, got {text!r}") from None
    return values


def parse_number(text: str) -> float:
    """A float argument (NaN/inf parse and are rejected by the command with exit 1)."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _join_vectors(argv: list[str]) -> list[str]:
    """Turn ``--y0 -0.2,0.7`` into ``--y0=-0.2,0.7`` (argparse would take ``-0.2,0.7`` for an
    option)."""
    out, i = [], 0
    while i < len(argv):
        tok = argv[i]
        if tok in VECTOR_OPTIONS and i + 1 < len(argv) and argv[i + 1].startswith("-"):
            try:
                parse_vector(argv[i + 1])
            except argparse.ArgumentTypeError:
                out.append(tok)
                i += 1
                continue
            out.append(f"{tok}={argv[i + 1]}")
            i += 2
            continue
        out.append(tok)
        i += 1
    return out


def load_dataset(path: str) -> Dataset:
    """Read and validate a dataset file (:func:`theory.datasets.load_dataset`: every problem is
    one line naming the file), with a progress line before and after for files above
    :data:`PROGRESS_FILE_BYTES` (reading and validating them takes seconds)."""
    big = _file_size(path) > PROGRESS_FILE_BYTES
    start = time.perf_counter()
    if big:
        print(f"[{PROG}] reading {path} ({_file_size(path) / 1e6:.0f} MB) ...", file=sys.stderr,
              flush=True)
    dataset = read_dataset(path)
    if big:
        print(f"[{PROG}] {path}: {dataset.size} points in d = {dataset.d}, validated in "
              f"{time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    return dataset


def _file_size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0  # open() names the problem


def _finite(value: float, name: str) -> float:
    return check_number(value, name)


def _threshold(args, dataset) -> float:
    if args.threshold is None:
        return default_threshold(dataset)
    return check_threshold(args.threshold, "--threshold")


def _nonfinite_keys(value, key="result") -> list[str]:
    """Keys of the result holding a non-finite float (JSON cannot hold them)."""
    if isinstance(value, dict):
        return [k for name, v in value.items() for k in _nonfinite_keys(v, name)]
    if isinstance(value, (list, tuple)):
        return [k for v in value for k in _nonfinite_keys(v, key)]
    if isinstance(value, float) and not math.isfinite(value):
        return [f"{key} = {value}"]
    return []


def _floats(a) -> list[float]:
    return [float(x) for x in np.asarray(a, dtype=float).ravel()]


# -- endpoint ---------------------------------------------------------------------------------------
def _configure_endpoint(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="dataset JSON file")
    p.add_argument("--y0", required=True, type=parse_vector, help="initial point a,b,...")
    p.add_argument("--flow", required=True, choices=("score", "probability"))
    p.add_argument("--rho", type=parse_number, help="noise radius (score flow)")
    p.add_argument("--c", type=parse_number, help="rho = c sigma (probability flow)")
    p.add_argument("--sigma-max", type=parse_number, help="initial noise level (probability flow)")
    p.add_argument("--sigma-min", type=parse_number, default=None,
                   help="final noise level (probability flow; default 0: the limit s -> oo)")
    p.add_argument("--model", choices=MODELS, default=None, help="score model variant of the "
                   "closed forms (default exact)")
    p.add_argument("--method", choices=("exact", "ivp"), default=None,
                   help="integrator (default: exact where it exists -- every score flow, the "
                        "probability flow on orthogonal data -- else ivp)")
    p.add_argument("--threshold", type=parse_number, default=None,
                   help="classification threshold (default 1e-6 * max_n r_n)")
    p.add_argument("--norm", choices=NORMS, default="l2")
    from .models.endpoint_cli import add_model_options
    add_model_options(p, parse_number)  # --denoiser / --net: the generic flows (docs/models.md)


def _run_endpoint(args: argparse.Namespace) -> dict:
    from .models.endpoint_cli import run_generic_endpoint, wants_generic
    if wants_generic(args):
        return run_generic_endpoint(args, load_dataset, UsageError)
    generic = [o for o, v in (("--delta", args.delta), ("--eps", args.eps), ("--sigma-c",
               args.sigma_c), ("--sigma", args.sigma), ("--sampler", args.sampler),
               ("--steps", args.steps), ("--tau-max", args.tau_max)) if v is not None]
    if generic:
        raise UsageError(f"{generic[0]} needs --denoiser NAME or --net NET")
    args.model = args.model or "exact"
    score = args.flow == "score"
    wrong = ([("--c", args.c), ("--sigma-max", args.sigma_max), ("--sigma-min", args.sigma_min)]
             if score else [("--rho", args.rho)])
    for name, value in wrong:
        if value is not None:
            raise UsageError(f"{name} does not apply to --flow {args.flow}")
    needed = [("--rho", args.rho)] if score else [("--c", args.c), ("--sigma-max", args.sigma_max)]
    missing = [name for name, value in needed if value is None]
    if missing:
        raise UsageError(f"--flow {args.flow} requires {' and '.join(missing)}")
    dataset = load_dataset(args.data)
    _require_closed_form_data(args.data, dataset, "the closed-form flows",
                              "pass --denoiser NAME for the generic flows")
    y0 = as_point(args.y0, dataset.d, "--y0")
    threshold = _threshold(args, dataset)
    if args.method is None:  # the probability flow has closed forms on orthogonal data only
        args.method = "exact" if score or dataset.kind == "orthogonal" else "ivp"
    out: dict = {}
    if score:
        rho = check_radius(args.rho, "--rho")
        check_low_noise(dataset, rho, args.model)  # raises outside the low-noise regime
        res = flows.score_flow(dataset, y0, rho, model=args.model, method=args.method)
        params = {"rho": rho}
    else:
        c = check_positive(args.c, "--c")
        sigma_max = check_positive(args.sigma_max, "--sigma-max", example="1.0")
        sigma_min = (0.0 if args.sigma_min is None
                     else check_nonnegative(args.sigma_min, "--sigma-min"))
        if not sigma_min < sigma_max:
            raise OutOfRangeError(f"--sigma-min must satisfy 0 <= sigma_min < sigma_max = "
                                  f"{sigma_max:g}, got {sigma_min:g}")
        check_radius(c * sigma_max, "c * sigma_max")
        try:
            check_low_noise(dataset, c * sigma_max, args.model)
        except ValueError as exc:
            raise type(exc)(f"c * sigma_max = {c * sigma_max:.6g} is outside the low-noise regime: "
                            f"{exc}") from None
        res = flows.probability_flow(dataset, y0, c=c, sigma_max=sigma_max, sigma_min=sigma_min,
                                     model=args.model, method=args.method)
        params = {"c": c, "sigma_max": sigma_max, "sigma_min": sigma_min, "rho0": c * sigma_max}
    cls = classify(dataset, res.endpoint, threshold, args.norm)[0]
    out.update({"endpoint": _floats(res.endpoint), **cls.to_json(), "threshold": threshold,
                "norm": args.norm, "flow": args.flow, "model": args.model, "method": args.method,
                **params, "kink_events": int(res.kink_events), "message": res.message})
    return out


# -- threshold --------------------------------------------------------------------------------------
def _configure_threshold(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="dataset JSON file (orthogonal or obtuse)")
    p.add_argument("--y0", required=True, type=parse_vector, help="initial point a,b,...")
    p.add_argument("--sigma-max", required=True, type=parse_number)
    p.add_argument("--model", choices=MODELS, default="exact")
    p.add_argument("--confirm", action="store_true",
                   help="also bisect on c over integrated probability flows (c0_bisection)")
    p.add_argument("--method", choices=("exact", "ivp"), default=None,
                   help="integrator for --confirm (default: exact on orthogonal data, else ivp, "
                        "as for flows endpoint)")


def _run_threshold(args: argparse.Namespace) -> dict:
    from .threshold import NoThresholdError, c0_bisection, c0_closed_form

    dataset = load_dataset(args.data)
    sigma_max = check_positive(args.sigma_max, "--sigma-max", example="1.0")
    y0 = as_point(args.y0, dataset.d, "--y0")
    result = c0_closed_form(dataset, y0, sigma_max, args.model)
    out = result.to_json()
    if args.confirm:
        if args.method is None:  # closed-form probability flows exist on orthogonal data only
            args.method = "exact" if dataset.kind == "orthogonal" else "ivp"
        out["method"] = args.method
        try:
            out["c0_bisection"] = c0_bisection(dataset, y0, sigma_max, args.model,
                                               method=args.method)
        except NoThresholdError as exc:
            out["c0_bisection"] = None
            out["bisection_reason"] = str(exc)
    return out


# -- classify ---------------------------------------------------------------------------------------
def _configure_classify(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="dataset JSON file")
    p.add_argument("--y", required=True, type=parse_vector, help="point a,b,...")
    p.add_argument("--threshold", type=parse_number, default=None,
                   help="classification threshold (default 1e-6 * max_n r_n)")
    p.add_argument("--norm", choices=NORMS, default="l2")


def _require_closed_form_data(path, dataset, what: str, hint: str) -> None:
    """One error line for data of a kind without closed forms (``"general"``)."""
    if dataset.kind == "general":
        raise ValueError(f"data file {path}: {what} need orthogonal, obtuse or equilateral data, "
                         f"not general data; {hint}")


def _run_classify(args: argparse.Namespace) -> dict:
    dataset = load_dataset(args.data)
    _require_closed_form_data(args.data, dataset, "the endpoint classes",
                              "use numerics.metrics.endpoint_classes (training / other)")
    y = as_point(args.y, dataset.d, "--y")
    threshold = _threshold(args, dataset)
    cls = classify(dataset, y, threshold, args.norm)[0]
    return {**cls.to_json(), "threshold": threshold, "norm": args.norm}


# -- driver -----------------------------------------------------------------------------------------
def _register_builtin_commands() -> None:
    add_command("endpoint", "limit of the score or probability flow from y0, and its class",
                _configure_endpoint, _run_endpoint)
    add_command("threshold", "early-stopping threshold c0 of the probability flow (Thm 4.4 / B.3)",
                _configure_threshold, _run_threshold)
    add_command("classify", "class of a point: training | virtual | boundary | other",
                _configure_classify, _run_classify)
    from .cli_trajectory import configure_trajectory, run_trajectory
    add_command("trajectory", "draw one flow path from y0 (PNG; numerics/cli_trajectory.py)",
                configure_trajectory, run_trajectory)
    from .experiments.cli import configure_experiment, run_experiment
    add_command("experiment", "run one of the paper's experiments (writes JSON + PNG figures)",
                configure_experiment, run_experiment)
    from .cli_compare import configure_compare, run_compare
    add_command("compare", "a trained network against the closed form (numerics.premise)",
                configure_compare, run_compare)
    from training.cli import configure_train, run_train
    add_command("train", "train a shallow ReLU denoiser (or a stack) and write a network file",
                configure_train, run_train)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Flows of min-norm shallow ReLU denoisers "
                     "(docs/numerics.md).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for cmd in COMMANDS.values():
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        cmd.configure(p)
        p.add_argument("--json", action="store_true", help="print one JSON object")
        p.set_defaults(_run=cmd.run)
    return parser


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _cli_words(message: str) -> str:
    """Library hints name keyword arguments (``method='ivp'``); on the command line they are
    options (``--method ivp``)."""
    return re.sub(r"\b(method|model)='([A-Za-z-]+)'", r"--\1 \2", message)


def _print_text(result: dict) -> None:
    for key, value in result.items():
        print(f"{key}: {json.dumps(value) if isinstance(value, (list, dict)) else value}")


@quiet_on_closed_stdout
def main(argv=None) -> int:
    """Entry point of the ``flows`` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(_join_vectors(argv))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = args._run(args)
        nonfinite = _nonfinite_keys(result)
        if nonfinite and args.json:  # JSON has no inf/nan: say so instead of writing bad JSON
            raise NotRepresentableError(
                f"the result's {', '.join(nonfinite)} is not representable in JSON (the input's "
                "magnitudes overflow float64 there); rescale the input or omit --json")
        text = json.dumps(result, allow_nan=False) if args.json else None
        for message in dict.fromkeys(_one_line(w.message) for w in caught):  # once each
            print(f"{PROG}: warning: {message}", file=sys.stderr)
        if nonfinite:
            print(f"{PROG}: warning: the result's {', '.join(nonfinite)} overflows float64",
                  file=sys.stderr)
    except UsageError as exc:
        print(f"{PROG}: error: {_cli_words(_one_line(exc))}", file=sys.stderr)
        return 2
    except (ValueError, OSError) as exc:
        print(f"{PROG}: error: {_cli_words(_one_line(exc))}", file=sys.stderr)
        return 1
    except RecursionError:
        print(f"{PROG}: error: the input is nested too deeply to process", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"{PROG}: error: out of memory: the input is too large for this machine",
              file=sys.stderr)
        return 1
    except OverflowError as exc:
        print(f"{PROG}: error: a number overflows float64 ({_one_line(exc)}); rescale the input",
              file=sys.stderr)
        return 1
    if args.json:
        print(text)
    else:
        _print_text(result)
    return 0


_register_builtin_commands()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
