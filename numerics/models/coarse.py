"""``coarse``: the empirical score, exact down to a noise floor ``sigma_c`` and frozen below it —
our reading of the coarse scores of Shen, Hsieh & He ("Manifold generalization provably
proceeds memorization in diffusion models"; docs/models.md).

    s(y, sigma) = s_emp(y, max(sigma, sigma_c)),   so for sigma < sigma_c
    D(y, sigma) = y + (sigma / sigma_c)^2 (D_emp(y, sigma_c) - y)

and ``D = D_emp`` for ``sigma >= sigma_c``.

**Why the score is frozen, not the denoiser.**  A coarse score is a score learned only at
resolution ``sigma_c``: below it the model has no finer information and keeps the score it has.
The flow then moves by a finite amount below ``sigma_c`` (``int sigma^2 ds`` converges), ending
in a ``~sigma_c`` neighbourhood of the data: it reproduces the data's geometry at resolution
``sigma_c`` without resolving the individual points.  Freezing the *denoiser* instead
(``D_emp(y, sigma_c)`` at every ``sigma < sigma_c``) would be a different model: its flow keeps
running to the fixed points of ``D_emp(., sigma_c)`` (the modes of the smoothed mixture), which
sit on the training points whenever ``sigma_c`` is below their spacing — it memorizes.
"""
from __future__ import annotations

import numpy as np

from ..evaluate import as_batch
from ..mmse import MMSEDenoiser
from .base import Denoiser, check_sigma, positive_parameter, training_points
from .empirical import posterior_jacobian


class CoarseDenoiser(Denoiser):
    """Empirical score frozen below ``sigma_c`` (see the module docstring)."""

    name = "coarse"

    def __init__(self, dataset, sigma_c):
        sigma_c = positive_parameter(sigma_c, "sigma_c")
        X = training_points(dataset)
        super().__init__(X.shape[1], {"sigma_c": sigma_c}, dataset)
        self.sigma_c = sigma_c
        self.mmse = MMSEDenoiser(X)

    def denoise(self, Y, sigma):
        if sigma >= self.sigma_c:
            return self.mmse(Y, sigma)
        a = (sigma / self.sigma_c) ** 2
        return Y + a * (self.mmse(Y, self.sigma_c) - Y)

    def jacobian(self, Y, sigma):
        Y, sigma = as_batch(Y, self.d), check_sigma(sigma)
        if sigma >= self.sigma_c:
            return posterior_jacobian(self.mmse, Y, sigma)
        a = (sigma / self.sigma_c) ** 2
        return (1 - a) * np.eye(self.d)[None] + a * posterior_jacobian(self.mmse, Y, self.sigma_c)
