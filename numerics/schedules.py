"""Noise schedules and discrete samplers (docs/math.md §3 "Discretisations"; paper eqs. 20-21).

A schedule maps an original time ``t`` to a noise level ``sigma(t)``; along the probability flow
only ``s = ln(sigma_max / sigma)`` matters (docs/math.md §3), so every schedule also gives ``s(t)``,
its inverse and ``ds/dt``.  The discretisation is data (a decreasing array of noise levels),
and the samplers share one signature, as in k-diffusion.

* :func:`edm_sigma` — ``sigma(t) = t`` (EDM, Karras et al. 2022), ``t`` runs from ``sigma_max``
  down to ``sigma_min``.
* geometric — ``sigma(t) = sigma_max (sigma_min/sigma_max)^t``, ``t in [0, 1]`` (uniform in ``s``).
* :func:`euler_probability_flow` — eq. 20, one denoiser per level.
* :func:`score_flow_iterations` — eq. 21, ``y <- y + eta (h(y) - y)`` (``eta = 1``: ``y <- h(y)``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from theory.errors import NonFiniteError, OutOfRangeError, ShapeError

from .validation import (MAX_STEPS, as_float_array, check_callable, check_choice, check_int,
                         check_nonnegative, check_positive)

SCHEDULES = ("edm", "geometric")


def edm_sigma(t):
    """EDM schedule ``sigma(t) = t`` (Karras et al. 2022, Table 1)."""
    return np.asarray(t, dtype=float) if np.ndim(t) else float(t)


def _check_range(sigma_max, sigma_min, need_positive_min):
    sigma_max = check_positive(sigma_max, "sigma_max", example="80")
    sigma_min = (check_positive(sigma_min, "sigma_min", example="0.002") if need_positive_min
                 else check_nonnegative(sigma_min, "sigma_min", example="0.002"))
    if sigma_min >= sigma_max:
        raise OutOfRangeError(f"sigma_min must be below sigma_max = {sigma_max:g}, got "
                              f"{sigma_min:g}")
    return sigma_max, sigma_min


def _check_levels(n):
    return check_int(n, "n", minimum=2, maximum=MAX_STEPS)


def geometric_sigmas(sigma_max, sigma_min, n, append_zero=False) -> np.ndarray:
    """``n`` levels ``sigma_max (sigma_min/sigma_max)^{i/(n-1)}`` (equal steps in ``s``), decreasing;
    with ``append_zero`` a final ``0`` (the last Euler step then returns ``D``)."""
    sigma_max, sigma_min = _check_range(sigma_max, sigma_min, need_positive_min=True)
    n = _check_levels(n)
    out = sigma_max * (sigma_min / sigma_max) ** (np.arange(n) / (n - 1))
    return np.append(out, 0.0) if append_zero else out


def edm_sigmas(sigma_max, sigma_min, n, rho=7.0, append_zero=False) -> np.ndarray:
    """EDM discretisation of ``sigma(t) = t`` (Karras et al. 2022, eq. 5):
    ``(sigma_max^{1/rho} + i/(n-1) (sigma_min^{1/rho} - sigma_max^{1/rho}))^rho``."""
    sigma_max, sigma_min = _check_range(sigma_max, sigma_min, need_positive_min=False)
    n = _check_levels(n)
    rho = check_positive(rho, "rho", example="7")
    a, b = sigma_max ** (1 / rho), sigma_min ** (1 / rho)
    out = (a + np.arange(n) / (n - 1) * (b - a)) ** rho
    return np.append(out, 0.0) if append_zero else out


@dataclass(frozen=True)
class Schedule:
    """A noise schedule on ``[t_start, t_end]`` (``sign = +1`` if ``t`` increases, else ``-1``)."""

    name: str
    sigma_max: float
    sigma_min: float
    t_start: float
    t_end: float
    sign: float

    def sigma(self, t):
        if self.name == "edm":
            return edm_sigma(t)
        return self.sigma_max * (self.sigma_min / self.sigma_max) ** t

    def s_of_t(self, t):
        """``s = ln(sigma_max / sigma(t))`` (``inf`` at ``sigma = 0``)."""
        sig = self.sigma(t)
        return math.inf if sig == 0 else math.log(self.sigma_max / sig)

    def t_of_s(self, s):
        if self.name == "edm":
            return self.sigma_max * math.exp(-s)
        return s / math.log(self.sigma_max / self.sigma_min)

    def ds_dt(self, t):
        """``ds/dt = -sigma'(t)/sigma(t)``: the factor turning eq. 12 into eq. 11."""
        if self.name == "edm":
            return -1.0 / t
        return math.log(self.sigma_max / self.sigma_min)


def make_schedule(name: str, sigma_max, sigma_min=0.0) -> Schedule:
    """``"edm"`` (``sigma(t) = t``, ``sigma_min = 0`` allowed) or ``"geometric"`` (needs
    ``sigma_min > 0``)."""
    check_choice(name, "schedule", SCHEDULES)
    _check_range(sigma_max, sigma_min, need_positive_min=(name == "geometric"))
    if name == "edm":
        return Schedule(name, float(sigma_max), float(sigma_min), float(sigma_max),
                        float(sigma_min), -1.0)
    return Schedule(name, float(sigma_max), float(sigma_min), 0.0, 1.0, 1.0)


def _as_points(Y0):
    Y = as_float_array(Y0, "Y0")
    single = Y.ndim == 1
    if single:
        Y = Y[None, :]
    if Y.ndim != 2:
        raise ShapeError(f"Y0 has shape {np.shape(Y0)}, expected (n_points, d) or (d,)")
    if not np.all(np.isfinite(Y)):
        raise NonFiniteError("Y0 has a non-finite entry")
    return Y, single


def euler_probability_flow(denoise_at: Callable, sigmas, Y0, callback=None, return_path=False):
    """Euler probability flow over noise levels (eq. 20), one denoiser per level::

        y_{i-1} = y_i + (1 - sigma_{i-1}/sigma_i) (D_i(y_i) - y_i)

    ``sigmas`` decreasing (``sigma_T > ... > sigma_0 >= 0``), ``denoise_at(Y, sigma)`` returns the
    denoised batch at level ``sigma``.  In log-noise time this is the exponential-Euler step
    ``y + (1 - e^{-Delta s})(D - y)`` of eq. 12, first-order accurate.  Returns the final batch
    (or the whole path, shape ``(len(sigmas), n, d)``, with ``return_path``).
    """
    check_callable(denoise_at, "denoise_at", "(Y, sigma) -> denoised Y")
    sig = as_float_array(sigmas, "sigmas")
    if sig.ndim != 1 or sig.size < 2:
        raise ShapeError("sigmas must be a 1-d array of at least two noise levels")
    if not np.all(np.isfinite(sig)):
        raise NonFiniteError("sigmas has a non-finite entry")
    if np.any(sig[:-1] <= 0) or sig[-1] < 0 or np.any(np.diff(sig) >= 0):
        raise OutOfRangeError("sigmas must decrease strictly, positive except possibly a final 0")
    Y, single = _as_points(Y0)
    path = [Y.copy()]
    for i in range(sig.size - 1):
        D = denoise_at(Y, sig[i])
        Y = Y + (1.0 - sig[i + 1] / sig[i]) * (D - Y)
        if callback is not None:
            callback(i, sig[i], Y)
        path.append(Y.copy())
    if return_path:
        out = np.array(path)
        return out[:, 0] if single else out
    return Y[0] if single else Y


def score_flow_iterations(denoise: Callable, Y0, eta=1.0, n_steps=10, return_path=False):
    """Score-flow iterations (eq. 21): ``y_{k+1} = y_k + eta (h(y_k) - y_k)``; ``eta = 1`` is the
    fixed-point iteration ``y <- h(y)`` (paper Fig. 1 uses 10 of them).  Euler on eq. 14 with step
    ``eta`` in ``tau``."""
    check_callable(denoise, "denoise", "(Y) -> denoised Y")
    eta = check_positive(eta, "eta", example="1.0")
    n_steps = check_int(n_steps, "n_steps", minimum=0, maximum=MAX_STEPS)
    Y, single = _as_points(Y0)
    path = [Y.copy()]
    for _ in range(n_steps):
        Y = Y + eta * (denoise(Y) - Y)
        path.append(Y.copy())
    if return_path:
        out = np.array(path)
        return out[:, 0] if single else out
    return Y[0] if single else Y


def closed_form_denoiser_at(dataset, c, model="exact"):
    """``denoise_at(Y, sigma) = h_{c sigma}(Y)`` for :func:`euler_probability_flow` (``rho = c
    sigma``, docs/math.md §1), compiled once by :mod:`numerics.evaluate`."""
    from .evaluate import compile_denoiser
    c = check_positive(c, "c", example="0.1")
    cd = compile_denoiser(dataset, model)
    return lambda Y, sigma: cd.denoise(Y, c * sigma)
