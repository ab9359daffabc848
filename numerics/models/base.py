"""The denoiser interface shared by every score model, sampler, metric and experiment
(docs/models.md; docs/math.md §8).

A denoiser is an object ``D`` with ``D(Y, sigma) -> (n, d)``: the denoised batch ``Y`` (shape
``(n, d)``) at noise level ``sigma`` (k-diffusion's ``D(x, sigma)`` convention).  Its score is
``(D(y, sigma) - y) / sigma^2`` (Tweedie, eq. 9-10), its probability flow in log-noise time
``dy/ds = D(y, sigma(s)) - y`` (eq. 12), its score flow at fixed ``sigma``
``dy/dtau = D(y, sigma) - y`` (eq. 14).  Optional: ``jacobian(Y, sigma) -> (n, d, d)``.

Every model records ``name`` and ``params`` (a JSON-ready dict written into results).
"""
from __future__ import annotations

import math

import numpy as np

from theory.datasets import Dataset
from theory.errors import InputError, NonFiniteError

from ..evaluate import as_batch


class UnknownModelError(InputError):
    """A score-model name that is not registered."""


class ModelParameterError(InputError):
    """A parameter the model does not take, a missing one, or one out of range."""


class UnsupportedDataError(InputError):
    """The model needs a geometry the dataset does not have (e.g. points on one line)."""


def positive_parameter(value, name: str) -> float:
    """``value`` as a positive finite float, else one :class:`ModelParameterError` line."""
    if isinstance(value, (bool, str)) or value is None:
        raise ModelParameterError(f"{name} must be a positive finite number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ModelParameterError(f"{name} must be a positive finite number, got {value!r}") \
            from None
    if not math.isfinite(v):
        raise NonFiniteError(f"{name} is {v}; pass a positive finite number")
    if v <= 0:
        raise ModelParameterError(f"{name} must be positive, got {v:g}")
    return v


def check_sigma(sigma) -> float:
    """A noise level: positive and finite."""
    return positive_parameter(sigma, "sigma")


def training_points(dataset) -> np.ndarray:
    """All training points as a float array ``(M, d)`` (``dataset.points`` order)."""
    if isinstance(dataset, np.ndarray):
        return np.asarray(dataset, dtype=float)
    return np.asarray(dataset.array, dtype=float)


class Denoiser:
    """Base class of the score models (see the module docstring).

    Subclasses set ``name``, ``d`` and ``params`` and implement :meth:`denoise`; :meth:`__call__`
    validates the batch and ``sigma`` once and calls it.
    """

    name = "denoiser"

    def __init__(self, d: int, params: dict | None = None, dataset: Dataset | None = None):
        self.d = int(d)
        self.params = dict(params or {})
        self.dataset = dataset

    def __call__(self, Y, sigma) -> np.ndarray:
        return self.denoise(as_batch(Y, self.d), check_sigma(sigma))

    def denoise(self, Y: np.ndarray, sigma: float) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def jacobian(self, Y, sigma) -> np.ndarray:
        """``dD/dy`` per point, shape ``(n, d, d)``."""
        raise ModelParameterError(f"the {self.name} model has no Jacobian")

    def drift(self, Y, sigma) -> np.ndarray:
        """``D(y, sigma) - y``."""
        Y = as_batch(Y, self.d)
        return self(Y, sigma) - Y

    def score(self, Y, sigma) -> np.ndarray:
        """``(D(y, sigma) - y) / sigma^2`` (eq. 10)."""
        return self.drift(Y, sigma) / check_sigma(sigma) ** 2

    def check_sigma_range(self, sigma_max: float, sigma_min: float) -> None:
        """Raise if the model is not defined on ``[sigma_min, sigma_max]`` (default: always is)."""

    def describe(self) -> dict:
        """``{"name": ..., **params}`` for results files."""
        return {"name": self.name, **self.params}

    def __repr__(self):
        inner = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({inner})"
