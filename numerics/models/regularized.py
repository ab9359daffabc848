"""``regularized``: the empirical score with the noise variance inflated by ``eps``, a regularized
empirical score of the kind Baptista, Dasgupta, Kovachki, Oberai & Stuart (2025, "Memorization
and regularization in generative diffusion models") study (docs/models.md).

The score is that of the training set's Gaussian mixture at variance ``sigma^2 + eps``,

    s_eps(y, sigma) = grad log sum_m N(y; x_m, (sigma^2 + eps) I)
                    = (m_eps(y) - y) / (sigma^2 + eps),

with ``m_eps`` the posterior mean at variance ``sigma^2 + eps``; the denoiser is Tweedie's at the
flow's own ``sigma`` (``D = y + sigma^2 s``):

    D(y, sigma) = y + sigma^2 / (sigma^2 + eps) * (m_eps(y) - y).

At ``sigma^2 >> eps`` it is the empirical model; for ``sigma^2 << eps`` the drift vanishes like
``sigma^2 / eps``, so the probability flow in log-noise time stops moving near
``sigma ~ sqrt(eps)`` (``int sigma^2 ds`` converges): the regularization acts as early stopping
and samples stay at distance ``~ sqrt(eps)`` from the training points instead of reaching them.
"""
from __future__ import annotations

import numpy as np

from ..evaluate import as_batch
from ..mmse import MMSEDenoiser
from .base import Denoiser, check_sigma, positive_parameter, training_points
from .empirical import posterior_jacobian


class RegularizedDenoiser(Denoiser):
    """Empirical score at variance ``sigma^2 + eps`` (see the module docstring)."""

    name = "regularized"

    def __init__(self, dataset, eps):
        eps = positive_parameter(eps, "eps")
        X = training_points(dataset)
        super().__init__(X.shape[1], {"eps": eps}, dataset)
        self.eps = eps
        self.mmse = MMSEDenoiser(X)

    def denoise(self, Y, sigma):
        var = sigma ** 2 + self.eps
        m = self.mmse(Y, np.sqrt(var))
        return Y + (sigma ** 2 / var) * (m - Y)

    def jacobian(self, Y, sigma):
        Y, sigma = as_batch(Y, self.d), check_sigma(sigma)
        var = sigma ** 2 + self.eps
        a = sigma ** 2 / var
        return (1 - a) * np.eye(self.d)[None] + a * posterior_jacobian(self.mmse, Y, np.sqrt(var))
