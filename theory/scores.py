"""Score models: the exact Tweedie score and its two Taylor approximations, as named options
(docs/math.md §3; paper eqs. 10, 18-19).

``s(y; sigma) = (h_{rho}(y) - y) / sigma^2`` with the radius-noise link ``rho = c sigma``
(**[choice, the paper's]**).  The model selects the unit response of :mod:`theory.pieces`:

========================  ===============================  ==============================
model                     linear-piece score (per unit)     kinks
========================  ===============================  ==============================
``exact``                 ``2 rho/(r - 2 rho) (t - r/2)``   ``rho``, ``r - rho``
``taylor``                ``2 rho / r (t - r/2)``           ``rho``, ``r - rho`` (eq. 18)
``taylor-fixed-kinks``    ``2 rho / r (t - r/2)``           ``0``, ``r``
========================  ===============================  ==============================

(all divided by ``sigma^2``); flat pieces ``-t`` and ``r - t`` in every model, and ``-y_perp``
orthogonal to the data span.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .datasets import Dataset
from .denoisers import min_cost_denoiser, y_symbols
from .pieces import MODELS, check_model


@dataclass(frozen=True)
class ScoreModel:
    """A named score model: its name, what it changes, and where it comes from."""

    name: str
    summary: str
    source: str


SCORE_MODELS = {
    "exact": ScoreModel("exact", "Tweedie score of the closed-form min-cost denoiser",
                        "eq. 10 with eq. 17 / 36 / 37"),
    "taylor": ScoreModel("taylor", "linear-piece score to first order in rho, kinks kept at "
                         "rho and r - rho", "eqs. 18-19 (most likely reading of the paper)"),
    "taylor-fixed-kinks": ScoreModel("taylor-fixed-kinks", "first-order linear piece, kinks moved "
                                     "to their rho -> 0 limits 0 and r",
                                     "docs/math.md §3 [choice]"),
}
assert tuple(SCORE_MODELS) == MODELS


def score_expression(dataset: Dataset, model: str = "exact", c=None, sigma=None, y=None) -> sp.Matrix:
    """``s(y; sigma) = (h_{c sigma}(y) - y)/sigma^2`` as a SymPy vector (eq. 10 / eq. 18).

    ``c`` and ``sigma`` default to positive symbols; ``y`` to ``y_1..y_d``.  Numeric values are
    checked against the low-noise regime (``c sigma < rho_max``).
    """
    check_model(model)
    c = sp.Symbol("c", positive=True) if c is None else sp.sympify(c)
    sigma = sp.Symbol("sigma", positive=True) if sigma is None else sp.sympify(sigma)
    y = sp.Matrix(y_symbols(dataset.d) if y is None else y)
    h = min_cost_denoiser(dataset, c * sigma, model)
    return (h.expression(y) - y) / sigma ** 2
