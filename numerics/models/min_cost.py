"""``min-cost``: the closed-form min-cost shallow ReLU denoisers of the paper (eqs. 17-19, 36-37;
docs/math.md §2) as a denoiser of ``sigma``, with ``rho = c sigma`` (docs/math.md §1).

    D(y, sigma) = h_{c sigma}(y)

in one of the three score models ``exact``, ``taylor``, ``taylor-fixed-kinks`` (docs/math.md §3),
evaluated by :func:`numerics.evaluate.compile_denoiser`.  The closed forms hold only in the
low-noise regime (``c sigma < min_n r_n / 2`` for orthogonal and obtuse data, ``< 3R/4`` for the
equilateral triangle); a call outside it raises :class:`theory.errors.LowNoiseError` naming the
bound — there is no min-cost closed form there, and the toolkit does not invent one.
"""
from __future__ import annotations

from theory.datasets import EquilateralTriangle, RidgeDataset
from theory.denoisers import check_low_noise
from theory.errors import LowNoiseError
from theory.pieces import MODELS

from ..evaluate import as_batch, compile_denoiser
from .base import Denoiser, ModelParameterError, UnsupportedDataError, check_sigma, \
    positive_parameter


def rho_max(dataset) -> float:
    """Upper end of the low-noise regime (exclusive): ``min_n r_n / 2`` (ridge data) or ``3R/4``
    (equilateral triangle)."""
    r = dataset.float_geometry.r
    return 0.75 * float(r[0]) if isinstance(dataset, EquilateralTriangle) else float(r.min()) / 2


class MinCostDenoiser(Denoiser):
    """``D(y, sigma) = h_{c sigma}(y)`` (see the module docstring)."""

    name = "min-cost"

    def __init__(self, dataset, c, model: str = "exact"):
        if not isinstance(dataset, (RidgeDataset, EquilateralTriangle)):
            raise UnsupportedDataError(
                f"the min-cost model has closed forms for orthogonal, obtuse and equilateral data "
                f"only, not for {getattr(dataset, 'kind', type(dataset).__name__)!r} data")
        if model not in MODELS:
            raise ModelParameterError(f"model must be one of {', '.join(MODELS)}, got {model!r}")
        c = positive_parameter(c, "c")
        super().__init__(dataset.d, {"c": c, "model": model}, dataset)
        self.c = c
        self.model = model
        self.compiled = compile_denoiser(dataset, model)
        self.rho_max = rho_max(dataset)

    def _rho(self, sigma: float) -> float:
        rho = self.c * sigma
        if rho >= self.rho_max:
            raise LowNoiseError(
                f"min-cost model: rho = c sigma = {self.c:g} * {sigma:.6g} = {rho:.6g} is outside "
                f"the low-noise regime (rho < {self.rho_max:.6g}); no closed-form min-cost "
                "denoiser exists there (use a smaller c or sigma, or another model)")
        return rho

    def check_sigma_range(self, sigma_max, sigma_min):
        rho = self._rho(float(sigma_max))
        check_low_noise(self.dataset, rho, self.model)  # the theory layer's own checks, once

    def denoise(self, Y, sigma):
        return self.compiled.denoise(Y, self._rho(sigma))

    def jacobian(self, Y, sigma):
        return self.compiled.jacobian(as_batch(Y, self.d), self._rho(check_sigma(sigma)))
