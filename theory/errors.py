"""The specific errors the toolkit raises on bad input (all are ``ValueError`` subclasses).

Each names what is wrong (which point, which pair, which bound) so that a command line can print
it as one readable line; :func:`describe` quotes a received value for such a line.
"""

import functools
import os
import sys

#: Longest ``repr`` of a received value quoted in a message (longer ones are cut with ``...``).
MAX_QUOTE = 60


def quote(value) -> str:
    """``repr(value)`` on one line (an array's spans several), cut to :data:`MAX_QUOTE`."""
    text = " ".join(repr(value).split())
    return text if len(text) <= MAX_QUOTE else text[:MAX_QUOTE - 3] + "..."


def describe(value) -> str:
    """:func:`quote` of a received value and its type, e.g. ``'0.1' (a str)``."""
    kind = type(value).__name__
    article = "an" if kind[:1].lower() in "aeiou" else "a"
    return f"{quote(value)} ({article} {kind})"



class InputError(ValueError):
    """Base class: the input does not satisfy a hypothesis of the construction."""


class ShapeError(InputError):
    """Wrong number of points, ragged coordinates, or a vector of the wrong length."""


class NonFiniteError(InputError):
    """A NaN or an infinity in the data, an initial point or a parameter."""


class DuplicatePointError(InputError):
    """Two training points coincide (within tolerance)."""


class NotOrthogonalError(InputError):
    """Two offsets ``x_i - x_0``, ``x_j - x_0`` of an orthogonal dataset are not orthogonal."""


class NotObtuseError(InputError):
    """Two offsets of an obtuse simplex do not make an obtuse angle."""


class NotSimplexError(InputError):
    """The offsets are linearly dependent (the points do not span a simplex)."""


class NotEquilateralError(InputError):
    """Three points that should form an equilateral triangle have unequal sides."""


class BallsOverlapError(InputError):
    """The interpolation balls ``B(x_n, rho)`` of two training points intersect."""


class LowNoiseError(InputError):
    """``rho`` is outside the low-noise regime where the closed form holds."""


class NotMinimalWarning(UserWarning):
    """The closed form still interpolates but is no longer the minimum-cost interpolant."""


class MissingExtraError(InputError):
    """An optional dependency is not installed; the message names the extra to install, e.g.
    ``training needs JAX and optax, the 'train' extra: pip install -e ".[train]" in the
    repository's root``."""


# -- argument checks (numerics.validation): every public entry point and both CLIs ---------------
class ArgumentTypeError(InputError, TypeError):
    """An argument of the wrong type (a list where a number is expected, ``None``, a complex
    number, a string).  Also a ``TypeError``, so either ``except`` clause catches it."""


class OutOfRangeError(InputError):
    """A number outside its allowed range: a non-positive radius or noise level, a zero or
    negative tolerance, a count below its minimum or above the size limit."""


class UnknownChoiceError(InputError):
    """A name that is not one of the allowed choices (method, score model, norm, schedule)."""


class NotRepresentableError(InputError):
    """A quantity (an input's scale, or a result such as a distance) overflows or underflows
    float64: the message names the quantity and the representable range."""


def quiet_on_closed_stdout(main):
    """Decorate a command's ``main``: when the reader of stdout goes away (``flows ... | head``)
    the command stops quietly with the shell's SIGPIPE status 141 instead of a traceback
    (stdout is pointed at ``/dev/null`` so that the interpreter's final flush stays quiet)."""
    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except BrokenPipeError:
            try:
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            except (OSError, ValueError):  # stdout replaced by an object without a descriptor
                pass
            return 141
    return wrapper
