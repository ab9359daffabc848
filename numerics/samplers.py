"""Flows of any denoiser ``D(Y, sigma)`` on a whole batch (docs/math.md §3; paper eqs. 12, 14, 20).

Every probability-flow sampler has the signature ``sampler(denoiser, Y0, sigmas, *,
callback=None, **options) -> Y`` (as in k-diffusion): ``sigmas`` a strictly decreasing grid
(e.g. :func:`numerics.schedules.geometric_sigmas`), ``Y0`` the batch at ``sigmas[0]``,
``callback(i, sigma, Y)`` called after reaching ``sigmas[i + 1]``; the batch at ``sigmas[-1]`` is
returned.  The denoiser is evaluated once per stage on the whole batch; nothing loops over
points.

* :func:`ivp_sampler` — the probability flow in log-noise time, ``sigma(s) = sigma_max e^{-s}``,

      dy/ds = D(y, sigma(s)) - y       (eq. 12),

  by :func:`scipy.integrate.solve_ivp` on the flattened batch (one vectorised right-hand side),
  reported at the grid's levels; ``sigmas[-1] > 0``.
* :func:`euler_sampler` — eq. 20, ``y <- y + (1 - sigma_{i+1}/sigma_i)(D(y, sigma_i) - y)``: the
  Euler step of EDM (Karras et al. 2022) in ``sigma``-time, first order.
* :func:`heun_sampler` — EDM's deterministic sampler (Karras et al. 2022, Algorithm 1): Euler
  predictor, trapezoidal corrector with the slope ``(y - D(y, sigma))/sigma`` at both ends
  (plain Euler on a final step to ``sigma = 0``), second order.

:func:`score_flow` integrates ``dy/dtau = D(y, sigma) - y`` at fixed ``sigma`` (eq. 14).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.integrate import solve_ivp

from theory.errors import InputError, NonFiniteError, ShapeError

SAMPLERS = ("ivp", "euler", "heun")


class SamplerError(InputError):
    """A bad grid, batch or option for a sampler."""


def _batch(Y0, denoiser) -> tuple[np.ndarray, bool]:
    Y = np.asarray(Y0, dtype=float)
    single = Y.ndim == 1
    Y = Y[None, :] if single else Y
    d = getattr(denoiser, "d", None)
    if Y.ndim != 2 or (d is not None and Y.shape[1] != d):
        raise ShapeError(f"Y0 has shape {np.shape(Y0)}, expected (n_points, {d or 'd'})")
    if not np.all(np.isfinite(Y)):
        raise NonFiniteError("Y0 has a non-finite entry")
    return Y.copy(), single


def check_grid(sigmas, allow_final_zero: bool = True) -> np.ndarray:
    """A strictly decreasing 1-d grid of finite noise levels, positive (a final 0 allowed when
    ``allow_final_zero``)."""
    sig = np.asarray(sigmas, dtype=float)
    if sig.ndim != 1 or sig.size < 2:
        raise SamplerError("sigmas must be a 1-d array of at least two noise levels")
    if not np.all(np.isfinite(sig)):
        raise NonFiniteError("sigmas has a non-finite entry")
    if np.any(np.diff(sig) >= 0):
        raise SamplerError(f"sigmas must decrease strictly (sigma_min < sigma_max), got "
                           f"{sig[0]:g} ... {sig[-1]:g}")
    if np.any(sig[:-1] <= 0) or sig[-1] < 0 or (sig[-1] == 0 and not allow_final_zero):
        raise SamplerError("sigmas must be positive" + (", except possibly a final 0"
                                                        if allow_final_zero else
                                                        " (sigma_min > 0 for this sampler)"))
    return sig


def euler_sampler(denoiser, Y0, sigmas, *, callback=None) -> np.ndarray:
    """Euler probability flow on the grid (eq. 20; module docstring)."""
    sig = check_grid(sigmas)
    Y, single = _batch(Y0, denoiser)
    for i in range(sig.size - 1):
        Y = Y + (1.0 - sig[i + 1] / sig[i]) * (denoiser(Y, sig[i]) - Y)
        if callback is not None:
            callback(i, sig[i + 1], Y)
    return Y[0] if single else Y


def heun_sampler(denoiser, Y0, sigmas, *, callback=None) -> np.ndarray:
    """EDM deterministic sampler (Karras et al. 2022, Algorithm 1; module docstring)."""
    sig = check_grid(sigmas)
    Y, single = _batch(Y0, denoiser)
    for i in range(sig.size - 1):
        s0, s1 = sig[i], sig[i + 1]
        d0 = (Y - denoiser(Y, s0)) / s0
        Yn = Y + (s1 - s0) * d0
        if s1 > 0:
            d1 = (Yn - denoiser(Yn, s1)) / s1
            Yn = Y + (s1 - s0) * 0.5 * (d0 + d1)
        Y = Yn
        if callback is not None:
            callback(i, s1, Y)
    return Y[0] if single else Y


def ivp_sampler(denoiser, Y0, sigmas, *, callback=None, method: str = "RK45",
                rtol: float = 1e-8, atol: float = 1e-10) -> np.ndarray:
    """Probability flow by ``solve_ivp`` in log-noise time on the whole batch (module docstring).

    ``rtol``/``atol`` apply per coordinate of the flattened batch."""
    sig = check_grid(sigmas, allow_final_zero=False)
    Y, single = _batch(Y0, denoiser)
    n, d = Y.shape
    smax = sig[0]
    s_eval = np.log(smax / sig)

    def rhs(s, yflat):
        Yc = yflat.reshape(n, d)
        return (denoiser(Yc, smax * math.exp(-s)) - Yc).ravel()

    sol = solve_ivp(rhs, (0.0, float(s_eval[-1])), Y.ravel(), method=method, t_eval=s_eval,
                    rtol=rtol, atol=atol)
    if sol.status != 0 or sol.y.shape[1] != sig.size:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    if callback is not None:
        for i in range(1, sig.size):
            callback(i - 1, sig[i], sol.y[:, i].reshape(n, d))
    Y = sol.y[:, -1].reshape(n, d)
    return Y[0] if single else Y


SAMPLER_FUNCTIONS = {"ivp": ivp_sampler, "euler": euler_sampler, "heun": heun_sampler}


def get_sampler(name: str):
    """The sampler function called ``name`` (one of :data:`SAMPLERS`)."""
    if name not in SAMPLER_FUNCTIONS:
        raise SamplerError(f"unknown sampler {name!r}; choose one of {', '.join(SAMPLERS)}")
    return SAMPLER_FUNCTIONS[name]


def score_flow(denoiser, Y0, sigma, *, tau_max: float = 60.0, method: str = "RK45",
               rtol: float = 1e-9, atol: float = 1e-11, callback=None) -> np.ndarray:
    """Score flow ``dy/dtau = D(y, sigma) - y`` at fixed ``sigma`` (eq. 14) from ``Y0`` to
    ``tau_max`` on the whole batch (``callback(tau, Y)`` at the end).  A stable fixed point
    attracts at rate ``1 - lambda_max(dD/dy) > 0``; ``tau_max = 60`` leaves ``e^{-60}`` of the
    initial gap at unit rate."""
    for name, v in (("sigma", sigma), ("tau_max", tau_max)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.floating)) or \
                not math.isfinite(v) or v <= 0:
            raise SamplerError(f"{name} must be a positive finite number, got {v!r}")
    Y, single = _batch(Y0, denoiser)
    n, d = Y.shape

    def rhs(_, yflat):
        Yc = yflat.reshape(n, d)
        return (denoiser(Yc, sigma) - Yc).ravel()

    sol = solve_ivp(rhs, (0.0, float(tau_max)), Y.ravel(), method=method, rtol=rtol, atol=atol)
    if sol.status != 0:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    Y = sol.y[:, -1].reshape(n, d)
    if callback is not None:
        callback(float(tau_max), Y)
    return Y[0] if single else Y
