"""Endpoint classes of the paper's experiments (docs/math.md §6; paper §5, App. E).

Ridge data (orthogonal, obtuse), for a sample ``y`` and a threshold ``eps`` in a norm:

``training``  within ``eps`` of a training point (a vertex with ``|S| <= 1``);
``virtual``   within ``eps`` of a virtual point (a vertex ``x_0 + sum_{n in S}(x_n - x_0)`` with
              ``|S| >= 2``);
``boundary``  not a vertex, within ``eps`` of the hyperbox's (relative) boundary;
``other``     everything else (e.g. the relative interior of the box, or far away).

Equilateral triangle: ``training`` (within ``eps`` of ``x_n``; ``vertex_subset = (n,)``, 1-based in
``points``), ``boundary`` (within ``eps`` of an edge, not a vertex) or ``other``.

The default threshold is ``DEFAULT_RELATIVE_THRESHOLD * max_n r_n`` in l2 (``r = R`` for the
triangle).  Classes are tested in the order above, so a point within ``eps`` of a vertex is a
vertex even if it is also near the boundary.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory.datasets import Dataset, EquilateralTriangle

from .validation import as_batch, check_dataset, check_positive
from .geometry import (EDGES, check_norm, distance_to_boundary, distance_to_edges,
                       distance_to_points, linf_segment_distances, nearest_vertex,
                       triangle_points)

CLASSES = ("training", "virtual", "boundary", "other")
#: The geometries whose endpoints have classes (general data has no vertices or hyperbox).
CLASSIFIED_KINDS = ("orthogonal", "obtuse", "equilateral")

#: Default l2 threshold relative to ``max_n r_n`` (this toolkit's choice): far above the ~1e-12
#: relative accuracy of the exact and DOP853 (rtol 1e-10) integrators, far below any geometric
#: feature of the data (vertex separations are ``>= sigma_min(X)``).
DEFAULT_RELATIVE_THRESHOLD = 1e-6


@dataclass(frozen=True)
class Classification:
    """Class of one point.

    ``cls`` in :data:`CLASSES`; ``vertex_subset`` the 1-based set ``S`` of the vertex it is (``()``
    for ``x_0``) or ``None``; ``distance`` the distance to the set that decided the class (the
    vertex; the boundary / an edge; for ``other``: the distance to the boundary or nearest edge,
    i.e. how far the point is from the nearest non-``other`` class but vertices).
    """

    cls: str
    vertex_subset: tuple[int, ...] | None
    distance: float

    def to_json(self) -> dict:
        return {"class": self.cls,
                "vertex_subset": None if self.vertex_subset is None else list(self.vertex_subset),
                "distance": self.distance}


def default_threshold(dataset: Dataset) -> float:
    """``DEFAULT_RELATIVE_THRESHOLD * max_n r_n`` (l2; the lengths are normal float64 numbers,
    ``Dataset.float_geometry`` checks it, so the threshold is positive and finite)."""
    check_dataset(dataset, kinds=CLASSIFIED_KINDS)
    return DEFAULT_RELATIVE_THRESHOLD * float(np.max(dataset.float_geometry.r))


def check_threshold(threshold, name: str = "threshold") -> float:
    """A threshold must be a finite positive number."""
    return check_positive(threshold, name, example="1e-6")


def classify(dataset: Dataset, Y, threshold: float | None = None,
             norm: str = "l2") -> list[Classification]:
    """Classify each row of ``Y`` (docs/math.md §6).  ``threshold=None`` means
    :func:`default_threshold` (pass ``norm="linf"`` with an explicit threshold for the App. E l-infinity variant)."""
    check_dataset(dataset, kinds=CLASSIFIED_KINDS)
    check_norm(norm)
    eps = default_threshold(dataset) if threshold is None else check_threshold(threshold)
    Y = as_batch(Y, dataset.d)
    if isinstance(dataset, EquilateralTriangle):
        return _classify_triangle(dataset, Y, eps, norm)
    subsets, dv = nearest_vertex(dataset, Y, norm)
    out: list[Classification | None] = [None] * Y.shape[0]
    rest = []
    for i, (S, dist) in enumerate(zip(subsets, dv)):
        if dist <= eps:
            out[i] = Classification("training" if len(S) <= 1 else "virtual", S, float(dist))
        else:
            rest.append(i)
    if rest:
        db = distance_to_boundary(dataset, Y[rest], norm)
        for i, dist in zip(rest, db):
            out[i] = Classification("boundary" if dist <= eps else "other", None, float(dist))
    return out


def _classify_triangle(triangle: EquilateralTriangle, Y: np.ndarray, eps: float,
                       norm: str) -> list[Classification]:
    dp = distance_to_points(triangle, Y, norm)
    if norm == "l2":
        de = distance_to_edges(triangle, Y).min(axis=1)
    else:
        de = _linf_edge_distance(triangle, Y)
    out = []
    for i in range(Y.shape[0]):
        n = int(np.argmin(dp[i]))
        if dp[i, n] <= eps:
            out.append(Classification("training", (n + 1,), float(dp[i, n])))
        else:
            out.append(Classification("boundary" if de[i] <= eps else "other", None, float(de[i])))
    return out


def _linf_edge_distance(triangle: EquilateralTriangle, Y: np.ndarray) -> np.ndarray:
    """l-infinity distance to the nearest edge of the triangle (:func:`linf_segment_distances`)."""
    P = triangle_points(triangle)
    A = np.array([P[i - 1] for i, _ in EDGES])
    B = np.array([P[j - 1] for _, j in EDGES])
    return linf_segment_distances(Y, A, B).min(axis=1)
