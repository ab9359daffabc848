"""Training shallow ReLU denoisers (paper eq. 4) with the paper's protocols (docs/training.md).

    from training import train_denoiser, train_stack, PROTOCOLS, TrainResult

``import training`` needs only NumPy; JAX and optax (the ``train`` extra) are imported when a
training function runs, and a missing extra is one :class:`theory.errors.MissingExtraError` line.
"""
from .api import (DEFAULTS, PROTOCOLS, TrainResult, TrainingInputError, closed_form_cost,
                  default_width, hyperparameters, train_denoiser, train_stack)

__all__ = ["DEFAULTS", "PROTOCOLS", "TrainResult", "TrainingInputError", "closed_form_cost",
           "default_width", "hyperparameters", "train_denoiser", "train_stack"]
