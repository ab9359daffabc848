"""The empirical MMSE denoiser of a finite training set (docs/math.md §6; paper eq. 2).

For training points ``x_1..x_M`` (all of ``dataset.points``, the apex ``x_0`` included) the
optimal-MSE denoiser of ``y = x + sigma eps`` with ``x`` uniform on the training set is the
posterior mean

    D_sigma(y) = sum_m softmax_m(-||y - x_m||^2 / (2 sigma^2)) x_m          (eq. 2, Tweedie)

This is the analytic stand-in used by the experiments at noise levels *outside* the low-noise
regime (``rho = c sigma >= rho_max``), where no closed-form min-cost denoiser exists.  At high
noise it pulls every sample towards the data mean; as ``sigma -> 0`` it becomes the
nearest-training-point projection (it memorises).

The softmax is evaluated with the log-sum-exp shift (subtract the row maximum of the logits), so
it is finite for every ``sigma > 0`` and every finite ``y``; only ``||y - x_m||^2`` differences
matter, which are formed as ``-2 y.x_m + ||x_m||^2`` (the ``||y||^2`` term cancels in the
softmax) to keep the cost at one ``(n, M) = (n, d) @ (d, M)`` product.
"""
from __future__ import annotations

import numpy as np

from theory.datasets import Dataset
from theory.errors import NonFiniteError, OutOfRangeError, ShapeError

from .validation import as_batch, as_float_array, check_positive


def training_array(dataset: Dataset) -> np.ndarray:
    """All training points of ``dataset`` as a float array ``(M, d)`` (apex ``x_0`` first)."""
    return dataset.array


def _check_sigma(sigma) -> float:
    if _is_zero(sigma):
        raise OutOfRangeError("sigma must be positive, got 0 (sigma -> 0 is the nearest-point "
                              "projection: use nearest_training_point)")
    return check_positive(sigma, "sigma", example="0.5")


def _is_zero(value) -> bool:
    try:
        return not isinstance(value, (bool, str)) and float(value) == 0.0
    except (TypeError, ValueError, OverflowError):
        return False


class MMSEDenoiser:
    """Empirical MMSE denoiser ``D_sigma`` of a training set (docs/math.md §6).

    ``points`` is a :class:`theory.datasets.Dataset` (all its points are used) or an array
    ``(M, d)``; ``weights`` optional non-negative prior weights (default uniform).
    """

    def __init__(self, points, weights=None):
        if isinstance(points, Dataset):
            X = training_array(points)
        else:
            X = as_float_array(points, "training points")
            if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
                raise ShapeError(f"training points have shape {X.shape}, expected (M, d) with "
                                 "M, d >= 1")
            if not np.all(np.isfinite(X)):
                raise NonFiniteError("a training point has a non-finite coordinate")
        self.X = X
        self.M, self.d = X.shape
        self._sq = np.einsum("md,md->m", X, X)
        if weights is None:
            self._logw = np.full(self.M, -np.log(self.M))  # uniform prior 1/M
        else:
            w = as_float_array(weights, "weights")
            if w.shape != (self.M,):
                raise ShapeError(f"weights have shape {w.shape}, expected ({self.M},)")
            if not np.all(np.isfinite(w)) or np.any(w < 0) or not np.any(w > 0):
                raise OutOfRangeError("weights must be finite, non-negative and not all zero")
            with np.errstate(divide="ignore"):
                self._logw = np.log(w / w.sum())

    def logits(self, Y, sigma) -> np.ndarray:
        """``log w_m - ||y - x_m||^2 / (2 sigma^2)`` up to a per-row constant, shape ``(n, M)``.

        The row maximum of ``y.x_m - |x_m|^2/2`` is subtracted before dividing by ``sigma`` twice
        (never by ``sigma**2``, which over- or underflows for ``sigma`` beyond ~1e154 or below
        ~1e-154): the nearest point's logit is then exactly ``log w_m``, never ``inf - inf``."""
        s = _check_sigma(sigma)
        Y = as_batch(Y, self.d)
        G = Y @ self.X.T - 0.5 * self._sq
        G = G - G.max(axis=1, keepdims=True) if G.size else G
        with np.errstate(over="ignore"):
            return self._logw + G / s / s

    def posterior(self, Y, sigma) -> np.ndarray:
        """Posterior weights ``p(x_m | y)`` (rows sum to 1), shape ``(n, M)``; log-sum-exp stable."""
        L = self.logits(Y, sigma)
        L = L - L.max(axis=1, keepdims=True)
        P = np.exp(L)
        return P / P.sum(axis=1, keepdims=True)

    def __call__(self, Y, sigma) -> np.ndarray:
        """``D_sigma(y)`` for a batch, shape ``(n, d)``."""
        return self.posterior(Y, sigma) @ self.X

    def drift(self, Y, sigma) -> np.ndarray:
        """``D_sigma(y) - y``: the right-hand side of the probability flow in log-noise time."""
        Y = as_batch(Y, self.d)
        return self(Y, sigma) - Y

    def score(self, Y, sigma) -> np.ndarray:
        """Exact score of the Gaussian mixture, ``(D_sigma(y) - y)/sigma^2`` (Tweedie, eq. 9)."""
        s = _check_sigma(sigma)
        return self.drift(Y, sigma) / s / s

    def nearest_training_point(self, Y) -> np.ndarray:
        """The ``sigma -> 0`` limit of ``D_sigma``: the nearest training point (ties: first)."""
        Y = as_batch(Y, self.d)
        idx = np.argmin(self._sq[None, :] - 2 * Y @ self.X.T, axis=1)
        return self.X[idx]

    def mean(self) -> np.ndarray:
        """The ``sigma -> infinity`` limit of ``D_sigma``: the (weighted) training mean."""
        return np.exp(self._logw) @ self.X


def mmse_denoise(points, Y, sigma) -> np.ndarray:
    """One-shot ``D_sigma(Y)`` for training points ``points`` (dataset or ``(M, d)`` array)."""
    return MMSEDenoiser(points)(Y, sigma)
