"""Metrics on generated samples: nearest-training-point distance, distance to the data's manifold,
the paper's endpoint classes, and the memorized / spurious / generalized detection of Pham et al.
(2024, "Memorization to generalization: emergence of diffusion models from associative memory").

Public functions (all vectorised over a batch ``Y`` of shape ``(n, d)``; distances are true
distances -- l2 by default, l-infinity with ``norm="linf"`` -- computed from the differences
``y - x`` themselves (never from ``|y|^2 - 2 y.x + |x|^2``, which loses the small distances that
decide memorisation, and never as a largest inverse distance), in blocks of :data:`BLOCK`
elements so memory stays ``O(BLOCK)`` for any ``n`` and ``M``):

``nearest_neighbours(Y, X, norm="l2") -> (index (n,), distance (n,))``
    nearest row of ``X`` (``(M, d)``) to each row of ``Y`` (the first one on a tie);
    ``exclude_self=True`` (``Y`` is ``X``) skips the point itself.
``nearest_training_distance(dataset_or_X, Y) -> (n,)``
``count_within(Y, R, radius, norm="l2") -> (n,)``  number of rows of ``R`` within ``radius``
    (inclusive) of each row.
``distance_to_manifold(dataset, Y) -> (n,) or None``
    segment (collinear data: the convex hull of the points on their line), hyperbox boundary
    (orthogonal / obtuse data, :func:`numerics.geometry.distance_to_boundary`), triangle edges
    (equilateral); ``None`` where no manifold is known.
``endpoint_classes(dataset, Y, threshold) -> list[str]``
    :func:`numerics.classify.classify` where it applies; for other data ``training`` (within
    ``threshold`` of a training point) or ``other``.
``pham_classes(Y, X, reference, delta_m, delta_s, self_in_reference=False, norm="l2")``
    ``memorized``: nearest training point within ``delta_m``; ``spurious``: not memorized and
    another generated sample of ``reference`` (a larger set from the same sampler) within
    ``delta_s`` (samples collapsing onto one attractor that is not a training point);
    ``generalized``: neither.  With ``self_in_reference`` the rows of ``Y`` are rows of
    ``reference`` and the match at distance 0 with itself is not counted.
``class_fractions(labels, classes) -> dict``  fraction of each class.
"""
from __future__ import annotations

import numpy as np

from theory.datasets import EquilateralTriangle, RidgeDataset
from theory.errors import InputError

from .evaluate import as_batch

#: Elements of the (rows of Y, rows of X, d) difference block.
BLOCK = 4_000_000

PHAM_CLASSES = ("memorized", "spurious", "generalized")


def _as_array(X, name="X") -> np.ndarray:
    from .models.base import training_points
    if not isinstance(X, np.ndarray) and hasattr(X, "points"):
        return training_points(X)
    A = np.asarray(X, dtype=float)
    if A.ndim != 2 or A.shape[0] == 0:
        raise InputError(f"{name} has shape {A.shape}, expected (M, d) with M >= 1")
    return A


def _blocks(n: int, M: int, d: int):
    step = max(1, BLOCK // max(1, M * d))
    for a in range(0, n, step):
        yield a, min(n, a + step)


def _distance_block(Yb: np.ndarray, X: np.ndarray, norm: str) -> np.ndarray:
    """``|y - x|`` for every pair of rows, shape ``(len(Yb), len(X))``."""
    diff = Yb[:, None, :] - X[None]
    return np.linalg.norm(diff, axis=2) if norm == "l2" else np.max(np.abs(diff), axis=2)


def nearest_neighbours(Y, X, exclude_self: bool = False,
                       norm: str = "l2") -> tuple[np.ndarray, np.ndarray]:
    """Index and true distance (``norm`` l2 or linf) of the nearest row of ``X`` to each row of
    ``Y``."""
    from .geometry import check_norm
    check_norm(norm)
    X = _as_array(X)
    Y = as_batch(Y, X.shape[1], "Y")
    idx = np.empty(Y.shape[0], dtype=int)
    dist = np.empty(Y.shape[0])
    for a, b in _blocks(Y.shape[0], X.shape[0], X.shape[1]):
        D = _distance_block(Y[a:b], X, norm)
        if exclude_self:
            D[np.arange(b - a), np.arange(a, b)] = np.inf
        idx[a:b] = np.argmin(D, axis=1)
        dist[a:b] = D[np.arange(b - a), idx[a:b]]
    return idx, dist


def nearest_training_distance(dataset, Y) -> np.ndarray:
    """Distance from each sample to its nearest training point, shape ``(n,)``."""
    return nearest_neighbours(Y, _as_array(dataset))[1]


def count_within(Y, R, radius: float, norm: str = "l2") -> np.ndarray:
    """Number of rows of ``R`` within ``radius`` (inclusive, distance ``norm``) of each row of
    ``Y``."""
    from .geometry import check_norm
    check_norm(norm)
    R = _as_array(R, "reference")
    Y = as_batch(Y, R.shape[1], "Y")
    out = np.empty(Y.shape[0], dtype=int)
    for a, b in _blocks(Y.shape[0], R.shape[0], R.shape[1]):
        out[a:b] = np.sum(_distance_block(Y[a:b], R, norm) <= radius, axis=1)
    return out


def segment_distance(X: np.ndarray, Y: np.ndarray):
    """Distance to the segment spanned by collinear points ``X``, or ``None`` if not collinear."""
    from .models.smoothed import COLLINEAR_RTOL
    xbar = X.mean(axis=0)
    _, s, Vt = np.linalg.svd(X - xbar, full_matrices=False)
    if X.shape[0] < 2 or (s.size > 1 and s[1] > COLLINEAR_RTOL * s[0]):
        return None
    u = Vt[0]
    t = (X - xbar) @ u
    ty = np.clip((Y - xbar) @ u, t.min(), t.max())
    return np.linalg.norm(Y - xbar - ty[:, None] * u, axis=1)


def distance_to_manifold(dataset, Y):
    """Distance to the data's known manifold (module docstring), or ``None``."""
    from .geometry import distance_to_boundary, distance_to_edges
    X = _as_array(dataset)
    Y = as_batch(Y, X.shape[1], "Y")
    if isinstance(dataset, RidgeDataset):
        if dataset.N == 1:
            return segment_distance(X, Y)
        return distance_to_boundary(dataset, Y)
    if isinstance(dataset, EquilateralTriangle):
        return distance_to_edges(dataset, Y).min(axis=1)
    return segment_distance(X, Y)


def data_scale(dataset) -> float:
    """Scale of the data: ``max_n r_n`` for the paper's datasets, else the largest distance of a
    point to the data mean."""
    if hasattr(dataset, "float_geometry"):
        return float(np.max(dataset.float_geometry.r))
    X = _as_array(dataset)
    return float(np.max(np.linalg.norm(X - X.mean(axis=0), axis=1)))


def endpoint_classes(dataset, Y, threshold: float) -> list[str]:
    """The paper's endpoint classes (module docstring)."""
    from .classify import classify
    if isinstance(dataset, (RidgeDataset, EquilateralTriangle)):
        return [c.cls for c in classify(dataset, Y, threshold)]
    d = nearest_training_distance(dataset, Y)
    return ["training" if v <= threshold else "other" for v in d]


def pham_classes(Y, X, reference, delta_m: float, delta_s: float,
                 self_in_reference: bool = False, norm: str = "l2") -> list[str]:
    """Memorized / spurious / generalized (Pham et al. 2024; module docstring), distances in
    ``norm``."""
    for name, v in (("delta_m", delta_m), ("delta_s", delta_s)):
        if not np.isfinite(v) or v <= 0:
            raise InputError(f"{name} must be a positive finite number, got {v!r}")
    X = _as_array(X)
    Y = as_batch(Y, X.shape[1], "Y")
    mem = nearest_neighbours(Y, X, norm=norm)[1] <= delta_m
    others = count_within(Y, reference, delta_s, norm) - (1 if self_in_reference else 0)
    return ["memorized" if m else ("spurious" if k >= 1 else "generalized")
            for m, k in zip(mem, others)]


def class_fractions(labels, classes) -> dict:
    """``{class: fraction}`` for every class in ``classes`` (0 when absent)."""
    labels = list(labels)
    n = max(len(labels), 1)
    return {c: sum(1 for x in labels if x == c) / n for c in classes}
