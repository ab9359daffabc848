"""Experiment parameters as command-line options (``flows experiment NAME --help``).

An experiment module declares its steerable parameters once, as a table next to its ``run``::

    PARAMETERS = {
        "N": (int, "number of orthonormal training points x_n = e_n"),
        "Ns": (int_list, "numbers of training points, one run each"),
        "norm": (str, "distance for the stability test", ("l2", "linf")),
    }

Each entry is ``name: (parse, help)`` or ``(parse, help, choices)``; ``name`` is a keyword of
``run`` and its default is read from ``run``'s signature (so it is written only once).  ``parse``
turns the command-line text into the value (:func:`int_list`, :func:`float_list` and
:func:`number_list` for comma-separated sequences).  The option is ``--`` plus the name with ``_``
as ``-`` (``n_points`` -> ``--n-points``).  A module without ``PARAMETERS`` gets only the common
options (``--out --seed --quick --workers --scheduler``).
"""
from __future__ import annotations

import argparse
import inspect
from dataclasses import dataclass
from typing import Any, Callable


def _split(text: str) -> list[str]:
    parts = [p.strip() for p in str(text).split(",")]
    if not parts or any(p == "" for p in parts):
        raise argparse.ArgumentTypeError(f"expected a comma-separated list like 1,2,3, got {text!r}")
    return parts


def int_list(text: str) -> tuple[int, ...]:
    """``"30,20,10"`` -> ``(30, 20, 10)``."""
    try:
        return tuple(int(p) for p in _split(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of integers like 30,20,10, got {text!r}") from None


def float_list(text: str) -> tuple[float, ...]:
    """``"0.01,0.1"`` -> ``(0.01, 0.1)``."""
    try:
        return tuple(float(p) for p in _split(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of numbers like 0.01,0.1, got {text!r}") from None


def number_list(*words: str) -> Callable[[str], tuple]:
    """A parser for comma lists of numbers or the given words (e.g. ``"sqrt(d)"``)."""
    def parse(text: str) -> tuple:
        out = []
        for p in _split(text):
            if p in words:
                out.append(p)
                continue
            try:
                out.append(float(p))
            except ValueError:
                raise argparse.ArgumentTypeError(
                    f"expected numbers or {', '.join(words)} separated by commas, got {text!r}"
                ) from None
        return tuple(out)
    parse.__name__ = "number_list"
    return parse


#: Largest integer an experiment parameter may take (a count of points, steps, units, ...): ten
#: million steps of even the cheapest flow take minutes, so a larger count is a typo.
MAX_COUNT = 10_000_000


def _checked(parse: Callable[[str], Any], default) -> Callable[[str], Any]:
    """``parse`` plus the checks every parameter of its kind needs, so that a bad value is one
    usage line naming the option (argparse adds ``argument --NAME:``), not a failure inside
    the run: integers (counts) in ``[1, MAX_COUNT]`` (``[0, ...]`` when the default is 0),
    floats finite (and positive when the default is), lists entry by entry."""
    import math

    def count(v, low):
        if not low <= v <= MAX_COUNT:
            raise argparse.ArgumentTypeError(f"expected an integer in {low}..{MAX_COUNT}, got {v}")
        return v

    def finite(v, positive):
        if isinstance(v, float):
            if not math.isfinite(v):
                raise argparse.ArgumentTypeError(f"expected a finite number, got {v}")
            if positive and not v > 0:
                raise argparse.ArgumentTypeError(f"expected a positive number, got {v:g}")
        return v

    low = 0 if default == 0 else 1
    positive = isinstance(default, (int, float)) and not isinstance(default, bool) and default > 0

    def checked(text):
        value = parse(text)
        if parse is int:
            return count(value, low)
        if parse is float:
            return finite(value, positive)
        if parse is int_list:
            return tuple(count(v, 1) for v in value)
        if isinstance(value, tuple):
            return tuple(finite(v, False) for v in value)
        return value
    checked.__name__ = getattr(parse, "__name__", "value")  # argparse names it in messages
    return checked


@dataclass(frozen=True)
class Parameter:
    """One steerable parameter of an experiment's ``run``."""

    name: str
    parse: Callable[[str], Any]
    help: str
    default: Any
    choices: tuple | None = None

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")


def show(value) -> str:
    """A default as the user would type it (comma lists for sequences)."""
    if isinstance(value, (tuple, list)):
        return ",".join(show(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def parameters(module) -> list[Parameter]:
    """The :class:`Parameter` list of an experiment module (empty without ``PARAMETERS``).

    Raises ``TypeError`` when a table entry is not a keyword of ``run`` (a programming error).
    """
    table = getattr(module, "PARAMETERS", None) or {}
    sig = inspect.signature(module.run).parameters
    out = []
    for name, spec in table.items():
        if name not in sig or sig[name].default is inspect.Parameter.empty:
            raise TypeError(f"{module.__name__}.PARAMETERS names {name!r}, which is not a keyword "
                            f"argument with a default of run()")
        parse, help_text, *rest = spec
        out.append(Parameter(name, _checked(parse, sig[name].default), help_text,
                             sig[name].default, tuple(rest[0]) if rest else None))
    return out


__all__ = ["Parameter", "float_list", "int_list", "number_list", "parameters", "show"]
