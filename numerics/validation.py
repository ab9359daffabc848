"""Argument checks shared by every public entry point of :mod:`numerics` and by the ``flows``
command line: types, shapes, finiteness, ranges and sizes.

Each check returns the argument in its canonical form (a ``float``, an ``int``, a float array of
a known shape) or raises a subclass of :class:`theory.errors.InputError` -- a ``ValueError`` --
whose message is one line naming the argument, what was received and what to pass::

    rho must be a positive number (e.g. 0.1), got '0.1' (a str)
    y0 has 2 coordinates per point, expected 3 (the dataset's dimension d)
    rtol must be a number >= 2.22e-14, got 0 (an int)

The command line passes option names (``"--rho"``) as ``name``, so the same check reads right in
both places.  Error types (all in :mod:`theory.errors`): :class:`~theory.errors.ArgumentTypeError`
(also a ``TypeError``), :class:`~theory.errors.OutOfRangeError`,
:class:`~theory.errors.UnknownChoiceError`, :class:`~theory.errors.NonFiniteError`,
:class:`~theory.errors.ShapeError`, :class:`~theory.errors.NotRepresentableError`.
"""
from __future__ import annotations

import math
import numbers
from typing import Iterable

import numpy as np

from theory.datasets import Dataset
from theory.errors import (ArgumentTypeError, NonFiniteError, NotRepresentableError,  # noqa: F401
                           OutOfRangeError, ShapeError, UnknownChoiceError, describe)

#: Smallest relative tolerance accepted by the integrators: ``solve_ivp`` silently raises any
#: ``rtol`` below ``100 * eps`` to it, so a smaller request would be a silent change of meaning.
MIN_RTOL = 100 * np.finfo(float).eps

#: Smallest relative width a bisection bracket can reach: adjacent float64 numbers are
#: ``eps * |x|`` apart, so a tolerance below ``4 eps`` could never be met (the loop would spin).
MIN_BISECTION_RTOL = 4 * np.finfo(float).eps


#: Most noise levels / iterations a discretisation may ask for: 10 million steps of even the
#: cheapest denoiser take minutes, so a larger count is a typo (and would exhaust memory).
MAX_STEPS = 10_000_000


def _is_real_scalar(value) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, np.ndarray):
        return value.ndim == 0 and value.dtype.kind in "iuf"
    return isinstance(value, numbers.Real)


def check_number(value, name: str, *, minimum: float | None = None,
                 exclusive_minimum: float | None = None, maximum: float | None = None,
                 allow_inf: bool = False, example: str = "0.1") -> float:
    """A real number as ``float``: rejects booleans, strings, ``None``, complex numbers and
    sequences (:class:`ArgumentTypeError`), NaN and (unless ``allow_inf``) infinities
    (:class:`NonFiniteError`), integers beyond float64 (:class:`NotRepresentableError`) and values
    outside ``[minimum, maximum]`` / ``(exclusive_minimum, maximum]`` (:class:`OutOfRangeError`)."""
    if exclusive_minimum is not None:
        want = f"> {exclusive_minimum:g}" if exclusive_minimum else "positive"
    elif minimum is not None:
        want = f">= {minimum:g}"
    else:
        want = "finite"
    if maximum is not None:
        want += f" and <= {maximum:g}"
    if not _is_real_scalar(value):
        raise ArgumentTypeError(f"{name} must be a number ({want}, e.g. {example}), got "
                                f"{describe(value)}")
    try:
        x = float(value)
    except OverflowError:
        raise NotRepresentableError(f"{name} = {describe(value)} is beyond float64's range "
                                    f"(|x| <= {np.finfo(float).max:.4g}); pass a number "
                                    f"({want}, e.g. {example})") from None
    if math.isnan(x) or (math.isinf(x) and not allow_inf):
        raise NonFiniteError(f"{name} is {x}; pass a finite number ({want}, e.g. {example})")
    if ((exclusive_minimum is not None and not x > exclusive_minimum)
            or (minimum is not None and not x >= minimum)
            or (maximum is not None and not x <= maximum)):
        raise OutOfRangeError(f"{name} must be {want} (e.g. {example}), got {x:g}")
    return x


def check_positive(value, name: str, example: str = "0.1") -> float:
    """A finite number ``> 0``."""
    return check_number(value, name, exclusive_minimum=0.0, example=example)


def check_radius(value, name: str = "rho", example: str = "0.1") -> float:
    """A noise radius: finite, positive and a normal float64 (``>= 2.2e-308``; subnormal radii
    have lost their precision and turn the closed forms' ``1/rho`` into ``inf``)."""
    x = check_positive(value, name, example=example)
    if x < np.finfo(float).tiny:
        raise NotRepresentableError(f"{name} = {x:g} is below float64's normal range "
                                    f"(>= {np.finfo(float).tiny:.4g}); pass a larger radius")
    return x


def check_nonnegative(value, name: str, example: str = "0") -> float:
    """A finite number ``>= 0``."""
    return check_number(value, name, minimum=0.0, example=example)


def check_int(value, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer (``int`` or NumPy integer; not ``bool``, not ``3.0``) in ``[minimum, maximum]``."""
    if minimum is not None and maximum is not None:
        want = f"an integer in {minimum}..{maximum}"
    elif minimum is not None:
        want = f"an integer >= {minimum}"
    else:
        want = "an integer"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ArgumentTypeError(f"{name} must be {want}, got {describe(value)}")
    n = int(value)
    if (minimum is not None and n < minimum) or (maximum is not None and n > maximum):
        raise OutOfRangeError(f"{name} must be {want}, got {n}")
    return n


def check_choice(value, name: str, choices: Iterable[str]) -> str:
    """One of ``choices`` (strings)."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        got = repr(value) if isinstance(value, str) else describe(value)
        raise UnknownChoiceError(f"unknown {name} {got}; choose one of {', '.join(choices)}")
    return value


def check_dataset(dataset, name: str = "dataset", kinds: Iterable[str] | None = None) -> Dataset:
    """A :class:`theory.datasets.Dataset` (of one of ``kinds`` when given)."""
    if not isinstance(dataset, Dataset):
        raise ArgumentTypeError(
            f"{name} must be a theory.datasets.Dataset (build one with "
            f"theory.datasets.make_dataset(kind, points)), got {describe(dataset)}")
    if kinds is not None:
        kinds = tuple(kinds)
        if dataset.kind not in kinds:
            raise ArgumentTypeError(f"{name} must be {' or '.join(kinds)} data, got "
                                    f"{dataset.kind} data")
    return dataset


def check_callable(value, name: str, what: str) -> None:
    """A callable, e.g. ``what = "denoise_at(Y, sigma) -> array"``."""
    if not callable(value):
        raise ArgumentTypeError(f"{name} must be a function {what}, got {describe(value)}")


def as_float_array(values, name: str) -> np.ndarray:
    """``values`` as a float array; ragged nesting, ``None``, strings, booleans, complex
    numbers and integers beyond float64 each get their own one-line error."""
    if isinstance(values, np.ndarray) and values.dtype == np.float64:
        return values  # the hot path of the integrators: nothing to convert
    if isinstance(values, (str, bytes, dict, set)) or values is None:
        raise ArgumentTypeError(f"{name} must be an array or (nested) list of numbers, got "
                                f"{describe(values)}")
    try:
        raw = np.asarray(values)
    except ValueError:  # NumPy refuses inhomogeneous nesting
        raise ShapeError(f"{name} is ragged (its rows have different lengths); pass a "
                         "rectangular list of numbers") from None
    except (RecursionError, OverflowError):
        raise ShapeError(f"{name} is nested too deeply; pass a list of numbers or of points")
    kind = raw.dtype.kind
    if kind == "b":
        raise ArgumentTypeError(f"{name} holds booleans; pass numbers")
    if kind == "c":
        raise ArgumentTypeError(f"{name} holds complex numbers; pass real numbers")
    if kind in "USV":
        raise ArgumentTypeError(f"{name} holds strings or bytes ({describe(values)}); pass numbers")
    if kind == "O":
        for index, item in np.ndenumerate(raw):
            if item is None:
                raise ArgumentTypeError(f"{name} has None at index {index}; pass numbers")
            if not _is_real_scalar(item):
                if isinstance(item, (list, tuple, np.ndarray)):
                    raise ShapeError(f"{name} is ragged (its rows have different lengths); pass "
                                     "a rectangular list of numbers")
                raise ArgumentTypeError(f"{name} has {describe(item)} at index {index}; pass "
                                        "real numbers")
            try:
                float(item)
            except OverflowError:
                raise NotRepresentableError(
                    f"{name} has the integer {describe(item)} at index {index}, beyond float64's "
                    f"range (|x| <= {np.finfo(float).max:.4g})") from None
    return raw.astype(float)


def as_batch(Y, d: int, name: str = "y", *, allow_empty: bool = True) -> np.ndarray:
    """Points as a finite float array of shape ``(n, d)`` (a single point becomes ``(1, d)``)."""
    arr = as_float_array(Y, name)
    shape = arr.shape
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != d:
        raise ShapeError(f"{name} has shape {shape}, "
                         f"expected (n_points, {d}) or ({d},): points of the dataset's dimension "
                         f"d = {d}")
    if arr.shape[0] == 0 and not allow_empty:
        raise ShapeError(f"{name} holds no points; pass at least one point of dimension {d}")
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise NonFiniteError(f"{name} has a non-finite entry {arr[tuple(bad)]} at index "
                             f"{tuple(int(i) for i in bad)}; every coordinate must be finite")
    return arr


def as_point(y, d: int, name: str = "y0", batch_hint: str = "") -> np.ndarray:
    """One finite point of dimension ``d``, shape ``(d,)``."""
    Y = as_batch(y, d, name)
    if Y.shape[0] != 1:
        hint = f"; use {batch_hint} for many" if batch_hint else ""
        raise ShapeError(f"{name} must be one point of dimension {d}, got {Y.shape[0]} points{hint}")
    return Y[0]


def as_times(times, name: str = "times", *, allow_inf: bool = True) -> np.ndarray:
    """A non-empty, non-decreasing 1-d array of non-negative times (``inf`` allowed when
    ``allow_inf``)."""
    arr = np.atleast_1d(as_float_array(times, name))
    if arr.ndim != 1:
        raise ShapeError(f"{name} must be a 1-d list of times, got shape {arr.shape}")
    if arr.size == 0:
        raise ShapeError(f"{name} is empty; pass at least one time, e.g. [0, inf]")
    if np.any(np.isnan(arr)) or (not allow_inf and np.any(np.isinf(arr))):
        raise NonFiniteError(f"{name} has a non-finite entry; pass "
                             f"{'non-negative numbers or inf' if allow_inf else 'finite numbers'}")
    if np.any(arr < 0):
        raise OutOfRangeError(f"{name} must be non-negative, got {float(arr.min()):g}")
    if np.any(np.diff(arr) < 0):
        raise OutOfRangeError(f"{name} must be sorted increasingly")
    return arr


def check_tolerances(rtol, atol) -> tuple[float, float | None]:
    """The integrators' ``rtol`` (``>= MIN_RTOL``, below 1) and ``atol`` (positive, or ``None``
    for the default relative to the data's scale)."""
    return (check_number(rtol, "rtol", minimum=MIN_RTOL, maximum=1.0, example="1e-10"),
            None if atol is None else check_positive(atol, "atol", example="1e-12"))


def check_representable(value: float, name: str, hint: str = "") -> float:
    """A computed quantity must be a finite float64 (else :class:`NotRepresentableError`)."""
    if not math.isfinite(value):
        raise NotRepresentableError(
            f"{name} is {value}: not representable in float64 (|x| <= "
            f"{np.finfo(float).max:.4g}){'; ' + hint if hint else ''}")
    return value
