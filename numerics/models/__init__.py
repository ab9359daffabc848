"""Score models behind one denoiser interface ``D(Y, sigma) -> (n, d)`` (docs/models.md;
docs/math.md §8).

===========  =============================================  ===========  =============
name         model                                          parameters   data
===========  =============================================  ===========  =============
min-cost     closed-form min-cost denoiser, rho = c sigma   c, model     ridge, triangle
empirical    posterior mean of the training set (eq. 2)     --           any
smoothed     empirical score * Gaussian kernel (Chen 2025)  delta        on one line
regularized  empirical score at sigma^2 + eps (Baptista)    eps          any
coarse       empirical score frozen below sigma_c           sigma_c      any
trained      shallow ReLU net / stack (eqs. 4, 20)          net          its own data
===========  =============================================  ===========  =============

:func:`make_denoiser` builds one by name; every error is one :class:`theory.errors.InputError`
line (unknown name, a parameter the model does not take, a missing or non-positive one).
"""
from __future__ import annotations

from .base import (Denoiser, ModelParameterError, UnknownModelError, UnsupportedDataError,
                   training_points)
from .coarse import CoarseDenoiser
from .empirical import EmpiricalDenoiser
from .min_cost import MinCostDenoiser
from .regularized import RegularizedDenoiser
from .smoothed import SmoothedDenoiser
from .trained import TrainedDenoiser

#: name -> (class, required parameters, optional parameters with defaults)
MODELS = {
    "min-cost": (MinCostDenoiser, ("c",), {"model": "exact"}),
    "empirical": (EmpiricalDenoiser, (), {}),
    "smoothed": (SmoothedDenoiser, ("delta",), {}),
    "regularized": (RegularizedDenoiser, ("eps",), {}),
    "coarse": (CoarseDenoiser, ("sigma_c",), {}),
    "trained": (TrainedDenoiser, ("net",), {}),
}


def make_denoiser(name: str, dataset, **params) -> Denoiser:
    """The score model ``name`` on ``dataset`` with ``params`` (see the table above)."""
    if name not in MODELS:
        raise UnknownModelError(f"unknown score model {name!r}; choose one of "
                                f"{', '.join(MODELS)}")
    cls, required, optional = MODELS[name]
    given = {k: v for k, v in params.items() if v is not None}
    extra = sorted(set(given) - set(required) - set(optional))
    if extra:
        takes = ", ".join((*required, *optional)) or "no parameters"
        raise ModelParameterError(f"the {name} model does not take {', '.join(extra)} (it takes "
                                  f"{takes})")
    missing = [k for k in required if k not in given]
    if missing:
        raise ModelParameterError(f"the {name} model needs {', '.join(missing)}")
    return cls(dataset, **{**optional, **given})


__all__ = ["MODELS", "make_denoiser", "Denoiser", "ModelParameterError", "UnknownModelError",
           "UnsupportedDataError", "training_points", "MinCostDenoiser", "EmpiricalDenoiser",
           "SmoothedDenoiser", "RegularizedDenoiser", "CoarseDenoiser", "TrainedDenoiser"]
