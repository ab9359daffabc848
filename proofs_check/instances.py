"""Instances of the statements and the builders that draw their parts (docs/math.md §5).

An :class:`Instance` is one concrete case a check is run on: a validated dataset
(:mod:`theory.datasets`), a score model, the noise parameters (``rho`` for the score flow; ``c``,
``sigma_max`` and optionally ``sigma_min`` for the probability flow), an initial point and, for
existential statements, the ``eps`` of the claim.  ``Instance.flows_command()`` renders it as a
shell command for the ``flows`` CLI, so a counterexample can be pasted and replayed;
``Instance.short()`` is a one-line summary.

The datasets themselves come from :mod:`proofs_check.strategies` (the one home of the dataset
strategies; :data:`REPORT_SIZES` are the theorem report's sizes).  The builders here draw what
goes with them: coordinates in named *regimes* that include the delicate places
(:func:`coordinate`: within ``1e-15 .. 1e-3`` relative of a kink or a midpoint ``r/2``, exactly
on a kink), points from coordinates (:func:`point_from_coordinates`), tiny offsets, fractions,
models and integration methods, and the geometry helpers :func:`frame`,
:func:`complement_basis`, :func:`rho_max`.  Relations between draws are imposed with ``assume``
(never an early return).  Public API: ``__all__``.
"""
from __future__ import annotations

import json
import math
import shlex
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from theory.datasets import Dataset, EquilateralTriangle, RidgeDataset

#: The theorem report's largest number of training offsets (3^N activation patterns; N = 3 keeps
#: a check fast; the strategies' own default, ``strategies.MAX_N``, is larger).
REPORT_MAX_N = 3
#: The theorem report's largest number of extra ambient dimensions beyond the data span.
REPORT_MAX_CODIM = 2


# -- instances --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Instance:
    """One case of a statement.  Fields not used by a statement stay ``None``.

    ``point`` is the point the ``flows`` command is run from (the initial point ``y0`` of a flow,
    or the point a stationarity claim is about); ``extra`` holds statement-specific draws
    (e.g. the ball index of Prop. 4.1) as a tuple of ``(name, value)`` pairs.
    """

    dataset: Dataset
    model: str = "exact"
    method: str = "exact"
    flow: str = "score"
    rho: float | None = None
    c: float | None = None
    sigma_max: float | None = None
    y0: tuple | None = None
    #: end of the probability flow (``None``: ``sigma_min = 0``, the limit ``s -> oo``)
    sigma_min: float | None = None
    eps: float | None = None
    extra: tuple = ()

    def get(self, name, default=None):
        return dict(self.extra).get(name, default)

    def y0_array(self) -> np.ndarray:
        return np.array(self.y0, dtype=float)

    def to_json(self) -> dict:
        out = {"data": self.dataset.to_json(), "model": self.model, "method": self.method,
               "flow": self.flow}
        for name in ("rho", "c", "sigma_max", "sigma_min", "eps"):
            value = getattr(self, name)
            if value is not None:
                out[name] = float(value)
        if self.y0 is not None:
            out["y0"] = [float(x) for x in self.y0]
        for k, v in self.extra:
            out[k] = v if isinstance(v, (int, str, bool)) else float(v)
        return out

    def flows_command(self, point=None, rho=None, data_file: str = "pc-instance.json") -> str:
        """A pasteable shell command: write the dataset JSON, run ``flows endpoint`` on it."""
        y = self.y0 if point is None else point
        data = json.dumps(self.dataset.to_json(), separators=(",", ":"))
        parts = ["flows", "endpoint", "--data", data_file,
                 "--y0=" + ",".join(repr(float(x)) for x in y)]
        if self.flow == "probability":
            parts += ["--flow", "probability", "--c", repr(float(self.c)),
                      "--sigma-max", repr(float(self.sigma_max))]
            if self.sigma_min:
                parts += ["--sigma-min", repr(float(self.sigma_min))]
        else:
            parts += ["--flow", "score", "--rho", repr(float(self.rho if rho is None else rho))]
        parts += ["--model", self.model, "--method", self.method, "--json"]
        return f"printf '%s' {shlex.quote(data)} > {data_file} && " + " ".join(parts)

    def short(self, digits: int = 4) -> str:
        """One readable line: geometry, model, parameters and ``y0`` rounded to ``digits``
        significant digits (the full instance is in ``repr`` and the JSON)."""
        def g(x):
            return f"{float(x):.{digits}g}"
        ds = self.dataset
        parts = [f"{ds.kind} d={ds.d} N={ds.N}{' exact' if ds.exact else ''}",
                 f"scale={g(max(float(r) for r in ds.r))}", self.model]
        if self.method != "exact":
            parts.append(self.method)
        for name in ("rho", "c", "sigma_max", "sigma_min", "eps"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={g(value)}")
        if self.y0 is not None:
            parts.append("y0=(" + ", ".join(g(x) for x in self.y0) + ")")
        return " ".join(parts)

    def __repr__(self):
        fields = [f"{self.dataset.kind} d={self.dataset.d} N={self.dataset.N}"
                  f"{' exact' if self.dataset.exact else ''}",
                  f"points={json.dumps(self.dataset.to_json()['points'])}", f"model={self.model}"]
        for name in ("method", "rho", "c", "sigma_max", "sigma_min", "eps"):
            value = getattr(self, name)
            if value is not None and not (name == "method" and value == "exact"):
                fields.append(f"{name}={value!r}")
        if self.y0 is not None:
            fields.append(f"y0={[float(x) for x in self.y0]}")
        fields += [f"{k}={v!r}" for k, v in self.extra]
        return "Instance(" + ", ".join(fields) + ")"


# -- geometry helpers -------------------------------------------------------------------------
def frame(dataset: Dataset):
    """Float frame of a dataset: ``(origin, U rows u_n, r)`` (apex for ridge data, centroid and
    ``v_n`` for the triangle)."""
    if isinstance(dataset, EquilateralTriangle):
        origin, dirs = dataset.centroid, dataset.v
    else:
        origin, dirs = dataset.apex, dataset.u
    o = np.array([float(x) for x in origin])
    U = np.array([[float(x) for x in u] for u in dirs])
    r = np.array([float(x) for x in dataset.r])
    return o, U, r


def complement_basis(U: np.ndarray) -> np.ndarray:
    """Orthonormal rows spanning the orthogonal complement of the rows of ``U``."""
    d = U.shape[1]
    q, _ = np.linalg.qr(np.concatenate([U.T, np.eye(d)], axis=1))
    k = np.linalg.matrix_rank(U)
    return q[:, k:d].T


#: Sizes of the theorem report's datasets (keyword arguments of the dataset strategies in
#: :mod:`proofs_check.strategies`): ``N <= REPORT_MAX_N`` offsets,
#: ``d = N .. N + REPORT_MAX_CODIM``.
REPORT_SIZES = {"max_N": REPORT_MAX_N, "extra_dims": REPORT_MAX_CODIM}
#: The same for the equilateral triangle (3 points in a plane): ``d = 2 .. 2 + REPORT_MAX_CODIM``.
REPORT_TRIANGLE_SIZES = {"max_d": 2 + REPORT_MAX_CODIM}


# -- scalar draws -----------------------------------------------------------------------------
def tiny(smallest: float = 1e-15):
    """A relative offset ``10^-k`` in ``[smallest, 1e-3]`` (log-uniform in ``k``), for starts near
    kinks/thresholds.  ``1e-15`` is float64's resolution; a check that integrates away from an
    unstable fixed point resolves less (the rounding of the start and of the fixed point, ~1e-16
    relative, then decides the side): pass ``smallest=DECIDE_RTOL`` there."""
    return st.integers(3, round(-math.log10(smallest))).map(lambda k: 10.0 ** (-k))


def fraction(lo: float = 0.02, hi: float = 0.95):
    """A fraction in ``[lo, hi]`` with the ends and near-ends represented."""
    return st.one_of(st.floats(lo, hi), st.sampled_from([lo, hi]),
                     tiny().map(lambda e: max(lo, hi * (1 - e))))


#: Regimes of a coordinate ``t`` of a unit with height ``r`` and lower kink ``k`` (upper kink
#: ``r - k``), see :func:`coordinate`.
REGIMES = ("outside-low", "outside-high", "flat-low", "flat-high", "middle", "near-midpoint",
           "near-kink", "on-kink")


@st.composite
def coordinate(draw, r: float, k: float, regimes=REGIMES):
    """A coordinate ``t`` in a named regime relative to ``r`` and the kinks ``k``, ``r - k``.

    ``outside-*``: beyond ``[0, r]``; ``flat-*``: between ``0`` and the kink (or ``r - k`` and
    ``r``); ``middle``: strictly between the kinks; ``near-midpoint``: ``r/2 (1 +- 10^-j)``;
    ``near-kink``: ``k (1 +- 10^-j)`` or mirrored; ``on-kink``: exactly ``k`` or ``r - k``.
    Returns ``(t, regime)``.
    """
    regime = draw(st.sampled_from(regimes))
    side = draw(st.sampled_from((-1.0, 1.0)))
    if regime == "outside-low":
        t = -r * draw(st.floats(1e-3, 1.0))
    elif regime == "outside-high":
        t = r * (1 + draw(st.floats(1e-3, 1.0)))
    elif regime == "flat-low":
        t = k * draw(st.floats(0.0, 1.0))
    elif regime == "flat-high":
        t = r - k * draw(st.floats(0.0, 1.0))
    elif regime == "middle":
        t = k + (r - 2 * k) * draw(st.floats(0.01, 0.99))
    elif regime == "near-midpoint":
        t = r / 2 * (1 + side * draw(tiny()))
    elif regime == "near-kink":
        t = k * (1 + side * draw(tiny()))
        if draw(st.booleans()):
            t = r - t
    else:
        t = k if draw(st.booleans()) else r - k
    return float(t), regime


@st.composite
def point_from_coordinates(draw, dataset: Dataset, t, perp_scale: float = 0.5):
    """``origin + sum_n t_n u_n + y_perp`` with a random ``y_perp`` orthogonal to the data span
    (zero when ``d = N``)."""
    o, U, _ = frame(dataset)
    y = o + np.asarray(t, dtype=float) @ U
    C = complement_basis(U)
    if C.shape[0]:
        coeffs = np.array([draw(st.floats(-perp_scale, perp_scale)) for _ in range(C.shape[0])])
        y = y + coeffs @ C
    return tuple(float(x) for x in y)


def models(names=("exact", "taylor", "taylor-fixed-kinks")):
    """A score model name (docs/math.md §3), drawn from ``names``."""
    return st.sampled_from(names)


def methods(ivp_share: bool = True):
    """Integration method: mostly the exact integrator, sometimes DOP853 with kink events."""
    if not ivp_share:
        return st.just("exact")
    return st.sampled_from(("exact", "exact", "exact", "ivp"))


def rho_max(dataset: Dataset) -> float:
    """End of the low-noise regime (``min r_n / 2``; ``3R/4`` for the triangle)."""
    if isinstance(dataset, EquilateralTriangle):
        return 0.75 * float(dataset.R)
    return min(float(r) for r in dataset.r) / 2


def is_ridge(dataset) -> bool:
    """Apex-and-offsets data (orthogonal or obtuse), as opposed to the triangle."""
    return isinstance(dataset, RidgeDataset)


__all__ = ["Instance", "coordinate", "point_from_coordinates", "tiny", "fraction", "models",
           "methods", "rho_max", "frame", "complement_basis", "is_ridge", "REGIMES",
           "REPORT_MAX_N", "REPORT_MAX_CODIM", "REPORT_SIZES", "REPORT_TRIANGLE_SIZES"]
