"""``smoothed``: the empirical score smoothed in space by a Gaussian kernel of width ``delta``,
the construction of Chen (2025, "Interpolation effect of score smoothing in diffusion models",
training points on a 1-D linear subspace; docs/models.md).

**Construction.**  With ``s_sigma = grad log p_sigma`` the empirical score (``p_sigma`` the
training set's Gaussian mixture at variance ``sigma^2``) and ``K_delta`` the density of
``N(0, delta^2 I)``,

    s~(y, sigma) = (K_delta * s_sigma)(y) = E_z[ s_sigma(y + delta z) ],   z ~ N(0, I).

The denoiser is Tweedie's ``D = y + sigma^2 s~``; because ``E_z[y + delta z] = y`` this is the
empirical denoiser convolved with the same kernel,

    D~(y, sigma) = E_z[ D_emp(y + delta z, sigma) ].

(It is *not* the posterior mean at variance ``sigma^2 + delta^2``: that would smooth the density
``p_sigma``, whereas smoothing the score smooths ``log p_sigma``.)

**Data on a line.**  For training points ``x_m = xbar + t_m u`` on one line, ``D_emp(y, sigma) =
xbar + u m_sigma(t)`` depends on ``y`` only through ``t = u^T (y - xbar)``, with
``m_sigma(t) = sum_m softmax_m(-(t - t_m)^2 / (2 sigma^2)) t_m``.  The kernel's components
orthogonal to ``u`` therefore drop out and

    D~(y, sigma) = xbar + u g(t),   g(t) = E_zeta[ m_sigma(t + delta zeta) ],  zeta ~ N(0, 1):

a one-dimensional Gaussian average, computed by the trapezoidal rule on ``zeta in [-8.5, 8.5]``
with a step resolving the transitions of ``m_sigma`` (width ``sigma min(1, sigma/Delta)``,
``Delta`` the smallest spacing of the ``t_m``; the rule converges geometrically for such
analytic integrands).  **Closed form as sigma -> 0**: ``m_0`` is the nearest-point staircase, so

    g_0(t) = t_1 + sum_k (t_{k+1} - t_k) Phi((t - b_k) / delta),   b_k = (t_k + t_{k+1}) / 2,

(sorted ``t_1 < ... < t_M``, ``Phi`` the normal CDF).  It is used when ``sigma < Delta/4`` and the
quadrature would need more than :data:`MAX_NODES` nodes; its error there is
``O((sigma^2 / (Delta delta))^2)`` relative to ``Delta`` (below ``2e-5``, see the tests).  ``g_0``
is a smooth increasing map of the line onto ``(t_1, t_M)``: as ``sigma -> 0`` the flow's fixed
points are the solutions of ``g_0(t) = t``, which fill the segment when ``delta`` is comparable
to the spacing instead of sitting on the training points — the interpolation effect.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr

from ..evaluate import as_batch
from .base import Denoiser, UnsupportedDataError, check_sigma, positive_parameter, \
    training_points

#: Relative tolerance for "the points lie on one line": second singular value of the centred
#: points over the first (float64 data on a line gives ~1e-16).
COLLINEAR_RTOL = 1e-9

#: Half-width of the quadrature interval in ``zeta``: the Gaussian mass outside is ~1e-17.
ZETA_MAX = 8.5

#: Largest trapezoid rule used; beyond it (only when ``sigma < Delta/4``) the ``sigma -> 0``
#: closed form is used (its error then is below ~2e-5 Delta, see the module docstring).
MAX_NODES = 8193

#: Elements per block of the (points, nodes, training points) array.
_BLOCK = 4_000_000


def line_coordinates(X: np.ndarray):
    """``(xbar, u, t)`` for points on one line: centre, unit direction, coordinates ``t_m``.
    Raises :class:`UnsupportedDataError` if the points are not collinear."""
    M = X.shape[0]
    if M < 2:
        raise UnsupportedDataError("the smoothed model needs at least two training points")
    xbar = X.mean(axis=0)
    _, s, Vt = np.linalg.svd(X - xbar, full_matrices=False)
    if s.size > 1 and s[1] > COLLINEAR_RTOL * s[0]:
        raise UnsupportedDataError(
            f"the smoothed model needs training points on one line (Chen 2025's setting; it has a "
            f"closed form there); these span {int(np.sum(s > COLLINEAR_RTOL * s[0]))} dimensions")
    u = Vt[0]
    t = (X - xbar) @ u
    return xbar, u, t


class SmoothedDenoiser(Denoiser):
    """Empirical score smoothed by a Gaussian kernel of width ``delta`` (module docstring)."""

    name = "smoothed"

    def __init__(self, dataset, delta):
        delta = positive_parameter(delta, "delta")
        X = training_points(dataset)
        super().__init__(X.shape[1], {"delta": delta}, dataset)
        self.delta = delta
        self.xbar, self.u, t = line_coordinates(X)
        self.t = np.sort(t)
        self.spacing = float(np.min(np.diff(self.t)))
        self.mid = 0.5 * (self.t[1:] + self.t[:-1])
        self.steps = np.diff(self.t)

    # -- the 1-D maps -------------------------------------------------------------------------
    def nodes(self, sigma: float):
        """Trapezoid nodes and weights in ``zeta`` at ``sigma``, or ``None`` for the closed form."""
        width = sigma * min(1.0, sigma / self.spacing)
        h = min(0.25, width / (2 * self.delta))
        n = int(math.ceil(2 * ZETA_MAX / h)) + 1
        if n > MAX_NODES:
            if sigma < self.spacing / 4:
                return None
            n = MAX_NODES  # pragma: no cover - needs delta >> spacing at sigma >= spacing/4
        z = np.linspace(-ZETA_MAX, ZETA_MAX, n)
        w = np.exp(-0.5 * z ** 2)
        return z, w / w.sum()

    def _posterior_moments(self, T: np.ndarray, sigma: float):
        """``m_sigma`` and the posterior variance of ``t`` at the points ``T`` (any shape)."""
        L = -(T[..., None] - self.t) ** 2 / (2 * sigma ** 2)
        L -= L.max(axis=-1, keepdims=True)
        P = np.exp(L)
        P /= P.sum(axis=-1, keepdims=True)
        m = P @ self.t
        return m, P @ self.t ** 2 - m ** 2

    def g(self, t, sigma: float, derivative: bool = False) -> np.ndarray:
        """``g(t) = E[m_sigma(t + delta zeta)]`` (or ``g'(t)``) for an array ``t``."""
        t = np.asarray(t, dtype=float)
        rule = self.nodes(sigma)
        if rule is None:
            Z = (t[..., None] - self.mid) / self.delta
            if derivative:
                return (np.exp(-0.5 * Z ** 2) / math.sqrt(2 * math.pi) / self.delta) @ self.steps
            return self.t[0] + ndtr(Z) @ self.steps
        z, w = rule
        flat = t.reshape(-1)
        out = np.empty(flat.size)
        block = max(1, _BLOCK // (z.size * self.t.size))
        for a in range(0, flat.size, block):
            T = flat[a:a + block, None] + self.delta * z
            m, var = self._posterior_moments(T, sigma)
            out[a:a + block] = (var / sigma ** 2 if derivative else m) @ w
        return out.reshape(t.shape)

    def g0(self, t) -> np.ndarray:
        """The ``sigma -> 0`` closed form ``g_0(t)`` (module docstring)."""
        Z = (np.asarray(t, dtype=float)[..., None] - self.mid) / self.delta
        return self.t[0] + ndtr(Z) @ self.steps

    # -- the denoiser -------------------------------------------------------------------------
    def denoise(self, Y, sigma):
        T = (Y - self.xbar) @ self.u
        return self.xbar + self.g(T, sigma)[:, None] * self.u

    def jacobian(self, Y, sigma):
        Y, sigma = as_batch(Y, self.d), check_sigma(sigma)
        gp = self.g((Y - self.xbar) @ self.u, sigma, derivative=True)
        return gp[:, None, None] * np.outer(self.u, self.u)[None]
