"""Helpers shared by the checks: numeric evaluation of a theory denoiser, window sampling,
line distances, and the witness arithmetic of the existential statements (docs/math.md §5)."""
from __future__ import annotations

import math

import numpy as np
import sympy as sp

from theory.datasets import Dataset

#: ``sigma`` symbol for score Jacobians ``(J - I)/sigma^2`` (eq. 15).
SIGMA = sp.Symbol("sigma", positive=True)

#: Number of sample times in a witness window ``[tau_1, tau_2]``: the distances checked there are
#: sums of exponentials with at most two rates per coordinate, monotone between kink events, so a
#: few hundred samples bound the maximum to well within the slack (eps/2) the witness leaves.
WINDOW_SAMPLES = 257

#: Witnesses ask for ``dist <= eps/2`` at ``tau_1`` (the claim is ``<= eps``): the slack makes the
#: margin ``eps - max dist`` about ``eps/2``, far from integration error.
WITNESS_SLACK = 0.5

#: Gap (in rescaled time) the witness ``rho_0`` enforces between ``tau_1`` and ``tau_2``.
WINDOW_GAP = 1.0


def scale(dataset: Dataset) -> float:
    """The data's length scale ``max_n r_n`` (``R`` for the triangle)."""
    return max(float(r) for r in dataset.r)


def as_float_array(v) -> np.ndarray:
    return np.array([float(x) for x in v], dtype=float)


def evaluate(denoiser, y) -> np.ndarray:
    """``h(y)`` of a theory :class:`~theory.denoisers.RidgeDenoiser` at a float point."""
    return as_float_array(denoiser(sp.Matrix([float(x) for x in y])))


def fd_jacobian(denoiser, y, step: float) -> np.ndarray:
    """Central finite-difference Jacobian of ``h`` at ``y`` (exact for an affine piece)."""
    y = np.asarray(y, dtype=float)
    d = y.size
    J = np.empty((d, d))
    for i in range(d):
        e = np.zeros(d)
        e[i] = step
        J[:, i] = (evaluate(denoiser, y + e) - evaluate(denoiser, y - e)) / (2 * step)
    return J


def window(tau_1: float, tau_2: float, n: int = WINDOW_SAMPLES) -> np.ndarray:
    """``n`` sample times covering ``[tau_1, tau_2]`` (ends included)."""
    return np.linspace(tau_1, tau_2, n)


def line_distance(Y: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance of each row of ``Y`` to the line through ``a`` and ``b`` (not the segment)."""
    D = b - a
    Z = Y - a
    t = Z @ D / (D @ D)
    return np.linalg.norm(Z - t[:, None] * D[None], axis=1)


def halfway_time(rate: float, start: float, target: float) -> float:
    """Time for ``|x| = start e^{rate tau}`` (rate > 0) to reach ``target > start``."""
    return math.log(target / start) / rate


def to_jsonable(x):
    """Plain-Python version of numbers/arrays for the JSON detail dicts."""
    if isinstance(x, dict):
        return {str(k): to_jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return [to_jsonable(v) for v in x.tolist()]
    if isinstance(x, (bool, np.bool_)) or x is sp.true or x is sp.false:
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)) or isinstance(x, sp.Basic):
        v = float(x)
        return v if math.isfinite(v) else str(v)
    return x


class IntegratorFailure(FloatingPointError):
    """The integrator returned a non-finite trajectory: the check cannot be carried out (reported
    as status ``error``, with the instance, never as a verdict on the theorem)."""


def require_finite(res, instance):
    """Raise :class:`IntegratorFailure` if a :class:`numerics.flows.FlowResult` has NaN/inf."""
    if not (np.all(np.isfinite(res.endpoint)) and np.all(np.isfinite(res.path))):
        raise IntegratorFailure(
            f"the {instance.method} {res.flow} flow returned a non-finite endpoint "
            f"{res.endpoint.tolist()} ({res.message}): the check cannot be carried out")
    return res
