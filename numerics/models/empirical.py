"""``empirical``: the posterior mean of the training set, i.e. the exact denoiser of the
empirical distribution (paper eq. 2; docs/math.md §6, §8).

    D(y, sigma) = sum_m softmax_m(-|y - x_m|^2 / (2 sigma^2)) x_m

Its score is the exact score of the Gaussian mixture ``(1/M) sum_m N(x_m, sigma^2 I)``; as
``sigma -> 0`` it is the nearest-training-point map, so its probability flow memorizes: every
sample ends on a training point.  Jacobian: the posterior covariance over ``sigma^2``,
``(sum_m p_m x_m x_m^T - D D^T) / sigma^2``.
"""
from __future__ import annotations

import numpy as np

from ..mmse import MMSEDenoiser
from .base import Denoiser, check_sigma, training_points


def posterior_jacobian(mmse: MMSEDenoiser, Y: np.ndarray, sigma: float) -> np.ndarray:
    """``dD_sigma/dy = Cov(x | y) / sigma^2``, shape ``(n, d, d)``."""
    P = mmse.posterior(Y, sigma)
    D = P @ mmse.X
    second = np.einsum("nm,mi,mj->nij", P, mmse.X, mmse.X)
    return (second - D[:, :, None] * D[:, None, :]) / sigma ** 2


#: Rows per block of the (n, M) logits in :func:`posterior_mean`: a block of 512 x 1000 float64
#: logits (4 MB) stays in cache through the shift, exp, sum and product passes.
ROW_BLOCK = 512


def posterior_mean(X: np.ndarray, sq: np.ndarray, Y: np.ndarray, sigma: float) -> np.ndarray:
    """``sum_m softmax_m(-|y - x_m|^2 / (2 sigma^2)) x_m`` (uniform prior) in row blocks, with
    in-place passes (the same arithmetic as :class:`numerics.mmse.MMSEDenoiser`, log-sum-exp
    shifted; the ``|y|^2`` term cancels in the softmax)."""
    out = np.empty_like(Y)
    inv = 1.0 / sigma ** 2
    for a in range(0, Y.shape[0], ROW_BLOCK):
        L = Y[a:a + ROW_BLOCK] @ X.T
        L -= 0.5 * sq
        L *= inv
        L -= L.max(axis=1, keepdims=True)
        np.exp(L, out=L)
        out[a:a + ROW_BLOCK] = (L @ X) / L.sum(axis=1, keepdims=True)
    return out


class EmpiricalDenoiser(Denoiser):
    """Posterior mean of the training set (wraps :class:`numerics.mmse.MMSEDenoiser`)."""

    name = "empirical"

    def __init__(self, dataset):
        X = training_points(dataset)
        super().__init__(X.shape[1], {}, dataset if not isinstance(dataset, np.ndarray) else None)
        self.mmse = MMSEDenoiser(X)
        self.X = self.mmse.X

    def denoise(self, Y, sigma):
        return posterior_mean(self.X, self.mmse._sq, Y, sigma)

    def jacobian(self, Y, sigma):
        from ..evaluate import as_batch
        return posterior_jacobian(self.mmse, as_batch(Y, self.d), check_sigma(sigma))
