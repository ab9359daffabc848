"""Shallow ReLU networks with a skip connection as float arrays, and their network files
(paper eqs. 4-6).

    h(y) = sum_k a_k [w_k^T y + b_k]_+ + V y + c        (eq. 4)

A batch ``Y`` of shape ``(n, d)`` is evaluated as ``relu(Y W^T + b) A + Y V^T + c`` with

* ``A`` (K, d): output weights, row ``k`` is ``a_k``;
* ``W`` (K, d): input weights, row ``k`` is ``w_k``;
* ``b`` (K,): biases; ``V`` (d, d): skip connection; ``c`` (d,): output bias.

Costs: the weight cost ``C = 1/2 sum_k (|a_k|^2 + |w_k|^2)`` (eq. 5; biases, ``V`` and ``c``
unpenalised) and the representation cost of these parameters after balancing each unit,
``sum_k |a_k| |w_k|`` (Definition 2.1, eq. 6: the infimum of ``C`` over rescalings of the units).

**Kink convention.**  A unit whose pre-activation is exactly ``0`` is inactive (``[0]_+ = 0``,
derivative taken as ``0``), the same convention as the closed forms (a point on a kink belongs to
the flat piece).

A :class:`NetworkStack` holds one network per noise level (the denoisers ``D_i`` of eq. 20); a
single denoiser is a stack of one level.  Network files are NumPy ``.npz`` archives with the
stacked arrays (leading axis: level), the levels ``sigmas`` and a JSON ``metadata`` string
(format tag, data, noise levels, protocol, hyper-parameters, seed, residuals, costs, library
versions); :func:`load_network` rejects anything else with one :class:`NetworkFileError` line.
This module needs only NumPy: training (which needs JAX) lives in :mod:`training`.
"""
from __future__ import annotations

import json
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from theory.errors import InputError, ShapeError

#: Format tag stored in every network file's metadata.
FORMAT = "memorization-flows/shallow-relu-network"
FORMAT_VERSION = 1
_ARRAYS = ("A", "W", "b", "V", "c")


class NetworkFileError(InputError):
    """A file that is not a network file, or one that does not fit the data it is used with."""


@dataclass(frozen=True)
class ShallowNetwork:
    """Float parameters of eq. 4 (see the module docstring for shapes)."""

    A: np.ndarray
    W: np.ndarray
    b: np.ndarray
    V: np.ndarray
    c: np.ndarray

    def __post_init__(self):
        K, d = np.shape(self.A)
        for name, shape in (("W", (K, d)), ("b", (K,)), ("V", (d, d)), ("c", (d,))):
            if np.shape(getattr(self, name)) != shape:
                raise ShapeError(f"network parameter {name} has shape "
                                 f"{np.shape(getattr(self, name))}, expected {shape}")

    @property
    def d(self) -> int:
        return self.A.shape[1]

    @property
    def K(self) -> int:
        """Width (number of hidden units)."""
        return self.A.shape[0]

    # -- evaluation ---------------------------------------------------------------------------
    def _batch(self, Y) -> np.ndarray:
        Y = np.asarray(Y, dtype=float)
        Y = Y[None, :] if Y.ndim == 1 else Y
        if Y.ndim != 2 or Y.shape[1] != self.d:
            raise ShapeError(f"y has shape {Y.shape}, the network takes points of dimension "
                             f"{self.d}")
        return Y

    def preactivations(self, Y) -> np.ndarray:
        """``w_k^T y + b_k``, shape ``(n, K)``."""
        return self._batch(Y) @ self.W.T + self.b

    def pattern(self, Y) -> np.ndarray:
        """Activation pattern, boolean ``(n, K)`` (pre-activation exactly 0 counts as inactive)."""
        return self.preactivations(Y) > 0

    def __call__(self, Y) -> np.ndarray:
        """``h(y)`` for a batch, shape ``(n, d)`` (eq. 4)."""
        Y = self._batch(Y)
        return np.maximum(Y @ self.W.T + self.b, 0.0) @ self.A + Y @ self.V.T + self.c

    def jacobian(self, Y) -> np.ndarray:
        """``dh/dy = V + sum_k 1[unit k active] a_k w_k^T`` per point, shape ``(n, d, d)``
        (piecewise constant; constant on each activation region)."""
        act = self.pattern(Y).astype(float)
        return self.V[None] + np.einsum("pk,ki,kj->pij", act, self.A, self.W)

    # -- costs --------------------------------------------------------------------------------
    def weight_cost(self) -> float:
        """``C = 1/2 sum_k (|a_k|^2 + |w_k|^2)`` (eq. 5)."""
        return 0.5 * float(np.sum(self.A ** 2) + np.sum(self.W ** 2))

    def unit_norms(self) -> tuple[np.ndarray, np.ndarray]:
        """``(|a_k|, |w_k|)``, each of shape ``(K,)``."""
        return np.linalg.norm(self.A, axis=1), np.linalg.norm(self.W, axis=1)

    def representation_cost(self) -> float:
        """``sum_k |a_k| |w_k|``: the weight cost after balancing each unit (eq. 6)."""
        na, nw = self.unit_norms()
        return float(np.sum(na * nw))

    def balanced(self) -> "ShallowNetwork":
        """Rescale each unit (``a -> a/s``, ``w, b -> s w, s b``, ``s = sqrt(|a|/|w|)``) so that
        ``|a_k| = |w_k|``; the function is unchanged (positive homogeneity of the ReLU) and the
        weight cost becomes :meth:`representation_cost`.  Dead units (``a_k = 0`` or ``w_k = 0``)
        are zeroed."""
        na, nw = self.unit_norms()
        live = (na > 0) & (nw > 0)
        s = np.where(live, np.sqrt(np.where(live, na, 1.0) / np.where(live, nw, 1.0)), 0.0)
        inv = np.where(live, 1.0 / np.where(live, s, 1.0), 0.0)
        return ShallowNetwork(self.A * inv[:, None], self.W * s[:, None], self.b * s, self.V,
                              self.c)

    @classmethod
    def from_closed_form(cls, dataset, rho) -> "ShallowNetwork":
        """The exact min-cost denoiser's parameters
        (:meth:`theory.denoisers.RidgeDenoiser.network`: two units per ramp, ``V = 0``), in
        float64."""
        from theory.denoisers import min_cost_denoiser
        net = min_cost_denoiser(dataset, rho).network()
        f = lambda m: np.array([[float(x) for x in v] for v in m])  # noqa: E731
        return cls(A=f(net.a), W=f(net.w), b=np.array([float(x) for x in net.b]),
                   V=np.array(net.V.tolist(), dtype=float), c=np.array([float(x) for x in net.c]))

    def perturbed(self, rng: np.random.Generator, scale: float) -> "ShallowNetwork":
        """Add i.i.d. ``N(0, scale^2)`` to every input weight and bias (the ReLU boundaries); the
        output weights, skip connection and output bias are kept."""
        return ShallowNetwork(self.A, self.W + scale * rng.standard_normal(self.W.shape),
                              self.b + scale * rng.standard_normal(self.b.shape), self.V, self.c)


@dataclass(frozen=True)
class NetworkStack:
    """One :class:`ShallowNetwork` per noise level ``sigmas[i]`` (decreasing is not required),
    plus the file's ``metadata`` dict."""

    sigmas: np.ndarray
    networks: tuple
    metadata: dict

    def __post_init__(self):
        if len(self.sigmas) != len(self.networks) or not self.networks:
            raise ShapeError(f"a network stack needs one network per level: {len(self.sigmas)} "
                             f"levels, {len(self.networks)} networks")
        if len({(n.K, n.d) for n in self.networks}) != 1:
            raise ShapeError("all networks of a stack must have the same width and dimension")

    @property
    def d(self) -> int:
        return self.networks[0].d

    @property
    def levels(self) -> int:
        return len(self.networks)

    def network_at(self, sigma: float) -> ShallowNetwork:
        """The network trained at noise level ``sigma`` (relative match 1e-9: levels are stored
        as float64 and passed back from the same array)."""
        sig = np.asarray(self.sigmas, dtype=float)
        i = int(np.argmin(np.abs(sig - sigma)))
        if abs(sig[i] - sigma) > 1e-9 * max(abs(sigma), abs(sig[i])):
            raise ValueError(f"no network for noise level sigma = {sigma:g}; this stack has "
                             f"levels {', '.join(f'{s:g}' for s in sig)}")
        return self.networks[i]

    def denoise_at(self, Y, sigma: float) -> np.ndarray:
        """``D_sigma(Y)`` with the network of level ``sigma`` (for
        :func:`numerics.schedules.euler_probability_flow`)."""
        return self.network_at(sigma)(Y)

    def stacked(self) -> dict:
        """The parameter arrays with a leading level axis (``A`` (L, K, d), ...)."""
        return {name: np.stack([getattr(n, name) for n in self.networks]) for name in _ARRAYS}


def save_network(path, stack: NetworkStack) -> Path:
    """Write ``stack`` as a network file (``.npz``; the suffix is added if missing)."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, **stack.metadata}
    text = json.dumps(meta, allow_nan=False, default=_json_default)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        np.savez(fh, sigmas=np.asarray(stack.sigmas, dtype=float), metadata=np.array(text),
                 **stack.stacked())
    return path


def _json_default(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    raise TypeError(f"not JSON-serialisable: {type(obj).__name__}")


def load_network(path) -> NetworkStack:
    """Read a network file; any other file is one :class:`NetworkFileError` naming it."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            names = set(z.files)
            missing = {"sigmas", "metadata", *_ARRAYS} - names
            if missing:
                raise NetworkFileError(f"{path} is not a network file (missing "
                                       f"{', '.join(sorted(missing))})")
            meta = json.loads(str(z["metadata"]))
            arrays = {k: np.asarray(z[k], dtype=float) for k in ("sigmas", *_ARRAYS)}
    except NetworkFileError:
        raise
    except FileNotFoundError:
        raise OSError(f"cannot read network file {path}: no such file") from None
    except IsADirectoryError:
        raise OSError(f"cannot read network file {path}: it is a directory") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError, TypeError) as exc:
        raise NetworkFileError(f"{path} is not a network file ({type(exc).__name__}: "
                               f"{' '.join(str(exc).split())[:120]})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise NetworkFileError(f"{path} is not a network file (no '{FORMAT}' format tag)")
    if meta.get("format_version") != FORMAT_VERSION:
        raise NetworkFileError(f"{path} has network-file format version "
                               f"{meta.get('format_version')!r}; this toolkit reads version "
                               f"{FORMAT_VERSION}")
    L = arrays["sigmas"].shape[0] if arrays["sigmas"].ndim == 1 else -1
    if L < 1 or any(arrays[k].shape[:1] != (L,) for k in _ARRAYS):
        raise NetworkFileError(f"{path}: the parameter arrays do not have one entry per noise "
                               f"level ({L} levels)")
    if not all(np.all(np.isfinite(arrays[k])) for k in arrays):
        raise NetworkFileError(f"{path}: a parameter is NaN or infinite")
    try:
        nets = tuple(ShallowNetwork(*(arrays[k][i] for k in _ARRAYS)) for i in range(L))
    except ShapeError as exc:
        raise NetworkFileError(f"{path}: {exc}") from None
    return NetworkStack(arrays["sigmas"], nets, meta)


#: Relative tolerance when matching a network's recorded training data with a data file: the
#: metadata stores float64 coordinates written by ``json`` (round-trip exact), so any mismatch
#: beyond rounding means other data.
DATA_MATCH_RTOL = 1e-12


def check_trained_on(stack: NetworkStack, dataset, *, net_name: str = "the network",
                     data_name: str = "the data") -> None:
    """Raise :class:`NetworkFileError` unless ``stack`` was trained on ``dataset`` (same kind,
    same points within :data:`DATA_MATCH_RTOL` of their scale)."""
    rec = stack.metadata.get("data")
    if not isinstance(rec, dict) or "points" not in rec:
        raise NetworkFileError(f"{net_name} records no training data")
    mine = dataset.to_json()
    P, Q = np.asarray(rec["points"], dtype=float), np.asarray(mine["points"], dtype=float)
    scale = max(float(np.max(np.abs(Q))) if Q.size else 0.0, math.ulp(1.0))
    if rec.get("kind") != mine["kind"] or P.shape != Q.shape or \
            float(np.max(np.abs(P - Q))) > DATA_MATCH_RTOL * scale:
        raise NetworkFileError(f"{net_name} was trained on other data than {data_name} "
                               f"({rec.get('kind')}, {P.shape[0] if P.ndim else 0} points in "
                               f"d={P.shape[1] if P.ndim == 2 else '?'}; {data_name}: "
                               f"{mine['kind']}, {Q.shape[0]} points in d={Q.shape[1]})")
