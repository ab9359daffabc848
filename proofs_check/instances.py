"""Instances of the statements and the Hypothesis strategies that generate them (docs/math.md §5).

An :class:`Instance` is one concrete case a check is run on: a validated dataset
(:mod:`theory.datasets`), a score model, the noise parameters (``rho`` for the score flow; ``c``
and ``sigma_max`` for the probability flow), an initial point and, for existential statements,
the ``eps`` of the claim.  ``Instance.flows_command()`` renders it as a shell command for the
``flows`` CLI, so a counterexample can be pasted and replayed.

Strategies draw datasets of each geometry in a random dimension and rotation, with **exact**
coordinates (rational rotations from the Cayley transform ``(I - S)(I + S)^{-1}`` of a rational
skew-symmetric ``S``: exactly orthogonal) or float ones, and initial coordinates from named
*regimes* that include the delicate places: within ``1e-15 .. 1e-3`` (relative) of a kink, of a
midpoint ``r/2``, of a threshold ``c_0``.  Relations between draws are imposed with ``assume``
(never an early return).
"""
from __future__ import annotations

import json
import math
import shlex
from dataclasses import dataclass

import numpy as np
import sympy as sp
from hypothesis import strategies as st

from theory.datasets import (Dataset, EquilateralTriangle, ObtuseSimplex, OrthogonalDataset,
                             RidgeDataset)

#: Largest number of training offsets drawn (3^N activation patterns; N = 3 keeps a check fast).
MAX_N = 3
#: Largest number of extra ambient dimensions beyond the data span (d = N + codim).
MAX_CODIM = 2


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


# -- datasets ---------------------------------------------------------------------------------
def _cayley(S: sp.Matrix) -> sp.Matrix:
    """``(I - S)(I + S)^{-1}``: exactly orthogonal for a rational skew-symmetric ``S``."""
    eye = sp.eye(S.rows)
    return (eye - S) * (eye + S).inv()


@st.composite
def rotations(draw, d: int, exact: bool):
    """A ``d x d`` orthogonal matrix: exact rational (Cayley) or float (QR of a Gaussian)."""
    if exact:
        entries = draw(st.lists(st.integers(-2, 2), min_size=d * (d - 1) // 2,
                                max_size=d * (d - 1) // 2))
        S = sp.zeros(d, d)
        k = 0
        for i in range(d):
            for j in range(i + 1, d):
                S[i, j] = sp.Rational(entries[k], 2)
                S[j, i] = -S[i, j]
                k += 1
        return _cayley(S)
    seed = draw(st.integers(0, 2 ** 32 - 1))
    q, rr = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q * np.sign(np.diag(rr))


@st.composite
def orthogonal_datasets(draw, min_N: int = 1, max_N: int = MAX_N, exact=None):
    """An :class:`~theory.datasets.OrthogonalDataset`: apex plus ``N`` rotated orthogonal offsets
    of random lengths in ``d = N + codim`` dimensions."""
    N = draw(st.integers(min_N, max_N))
    d = N + draw(st.integers(0, MAX_CODIM))
    is_exact = draw(st.booleans()) if exact is None else exact
    Q = draw(rotations(d, is_exact))
    if is_exact:
        radii = [sp.Rational(draw(st.integers(2, 8)), 2) for _ in range(N)]
        apex = sp.Matrix([sp.Rational(draw(st.integers(-4, 4)), 2) for _ in range(d)])
        points = [apex] + [apex + radii[n] * Q[:, n] for n in range(N)]
        return OrthogonalDataset([list(p) for p in points])
    radii = [draw(st.floats(0.5, 4.0)) for _ in range(N)]
    apex = np.array([draw(st.floats(-2.0, 2.0)) for _ in range(d)])
    points = [apex] + [apex + radii[n] * Q[:, n] for n in range(N)]
    return OrthogonalDataset([list(map(float, p)) for p in points])


@st.composite
def obtuse_datasets(draw, min_N: int = 2, max_N: int = MAX_N, exact=None, min_lam: float = 0.05):
    """An :class:`~theory.datasets.ObtuseSimplex`: offsets ``w_n = q_n - lam_n m`` (``q_n``
    orthonormal, ``m`` their mean), rescaled; ``w_i . w_j = (lam_i lam_j - lam_i - lam_j)/N < 0``
    for ``lam in (0, 1]``, from near-orthogonal (small ``lam``) to near-regular."""
    N = draw(st.integers(min_N, max_N))
    d = N + draw(st.integers(0, MAX_CODIM))
    is_exact = draw(st.booleans()) if exact is None else exact
    Q = draw(rotations(d, is_exact))
    if is_exact:
        lam = [sp.Rational(draw(st.integers(max(1, int(min_lam * 10)), 9)), 10) for _ in range(N)]
        scale = [draw(st.integers(1, 4)) for _ in range(N)]
        mean = sum((Q[:, n] for n in range(N)), sp.zeros(d, 1)) / N
        apex = sp.Matrix([sp.Rational(draw(st.integers(-2, 2)), 2) for _ in range(d)])
        points = [apex] + [apex + scale[n] * (Q[:, n] - lam[n] * mean) for n in range(N)]
        return ObtuseSimplex([list(p) for p in points])
    lam = [draw(st.floats(min_lam, 0.95)) for _ in range(N)]
    radii = [draw(st.floats(0.5, 4.0)) for _ in range(N)]
    mean = Q[:, :N].mean(axis=1)
    apex = np.array([draw(st.floats(-1.0, 1.0)) for _ in range(d)])
    W = [Q[:, n] - lam[n] * mean for n in range(N)]
    points = [apex] + [apex + radii[n] * w / np.linalg.norm(w) for n, w in enumerate(W)]
    return ObtuseSimplex([list(map(float, p)) for p in points])


@st.composite
def equilateral_triangles(draw, exact=None):
    """An :class:`~theory.datasets.EquilateralTriangle` in a random plane of ``R^d``."""
    d = 2 + draw(st.integers(0, MAX_CODIM))
    is_exact = draw(st.booleans()) if exact is None else exact
    Q = draw(rotations(d, is_exact))
    if is_exact:
        R = sp.Rational(draw(st.integers(2, 8)), 2)
        centre = sp.Matrix([sp.Rational(draw(st.integers(-2, 2)), 2) for _ in range(d)])
        cs = [(sp.Integer(1), sp.Integer(0)), (-sp.Rational(1, 2), sp.sqrt(3) / 2),
              (-sp.Rational(1, 2), -sp.sqrt(3) / 2)]
        points = [centre + R * (a * Q[:, 0] + b * Q[:, 1]) for a, b in cs]
        return EquilateralTriangle([list(p) for p in points])
    R = draw(st.floats(0.5, 4.0))
    theta = draw(st.floats(0.0, 2 * math.pi))
    centre = np.array([draw(st.floats(-1.0, 1.0)) for _ in range(d)])
    points = [centre + R * (math.cos(theta + 2 * math.pi * k / 3) * Q[:, 0]
                            + math.sin(theta + 2 * math.pi * k / 3) * Q[:, 1]) for k in range(3)]
    return EquilateralTriangle([list(map(float, p)) for p in points])


def any_dataset(exact=None):
    """One of the three geometries at the report's sizes (float or exact: drawn)."""
    return st.one_of(orthogonal_datasets(exact=exact), obtuse_datasets(exact=exact),
                     equilateral_triangles(exact=exact))


# -- scalar draws -----------------------------------------------------------------------------
def tiny():
    """A relative offset in ``[1e-15, 1e-3]`` (log-uniform), for starts near kinks/thresholds."""
    return st.integers(3, 15).map(lambda k: 10.0 ** (-k))


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
    return isinstance(dataset, RidgeDataset)


__all__ = ["Instance", "orthogonal_datasets", "obtuse_datasets", "equilateral_triangles",
           "any_dataset", "coordinate", "point_from_coordinates", "tiny", "fraction", "models",
           "methods", "rho_max", "frame", "complement_basis", "REGIMES"]
