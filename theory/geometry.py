"""Hyperbox geometry of orthogonal data, exactly (docs/math.md §5, Thms 4.2-4.4; paper §4.1).

For a ridge dataset (apex ``x_0``, unit directions ``u_n``, heights ``r_n``) write a point as

    y = x_0 + sum_n t_n u_n + y_perp,     t_n = u_n^T (y - x_0)   (orthogonal data),

with ``y_perp`` orthogonal to the data span.  The **hyperbox** is
``B = {x_0 + sum_n t_n u_n : 0 <= t_n <= r_n}``; its **vertices** are the ``2^N`` partial sums
``x_0 + sum_{n in S} (x_n - x_0)`` (training points for ``|S| <= 1``, "virtual points" for
``|S| >= 2``); its **boundary** is the set of points of ``B`` with some ``t_n in {0, r_n}``.

Everything is computed with SymPy numbers: exact data gives exact answers (``sqrt`` and all),
float data gives floats.  The coordinate formulas need mutually orthogonal ``u_n``, so all
functions but :func:`hyperbox_vertices` require an :class:`~theory.datasets.OrthogonalDataset`.
"""
from __future__ import annotations

from itertools import combinations

import sympy as sp

from .datasets import OrthogonalDataset, RidgeDataset, as_points
from .errors import ShapeError

#: Classes of the hyperbox point closest to ``y`` (:func:`closest_point_class`).
CLOSEST_CLASSES = ("vertex", "boundary", "interior")


def hyperbox_vertices(dataset: RidgeDataset) -> dict:
    """The ``2^N`` partial sums ``{S: x_0 + sum_{n in S}(x_n - x_0)}``, ``S`` a frozenset of
    1-based indices (Thm 4.2's stable set; Thm B.1's candidates for obtuse data)."""
    if not isinstance(dataset, RidgeDataset):
        raise TypeError(f"partial sums need an apex and offsets (a RidgeDataset), got "
                        f"{type(dataset).__name__}")
    out = {}
    for k in range(dataset.N + 1):
        for subset in combinations(range(1, dataset.N + 1), k):
            out[frozenset(subset)] = dataset.vertex(subset)
    return out


def _orthogonal(dataset) -> OrthogonalDataset:
    if not isinstance(dataset, OrthogonalDataset):
        raise TypeError(f"the hyperbox coordinates t_n = u_n^T (y - x_0) need orthogonal data "
                        f"(an OrthogonalDataset), got {type(dataset).__name__}")
    return dataset


def _point(dataset, y) -> sp.Matrix:
    (p,) = as_points([list(y)])
    if p.rows != dataset.d:
        raise ShapeError(f"y has {p.rows} coordinates, the data live in dimension d={dataset.d}")
    return p


def box_coordinates(dataset: OrthogonalDataset, y) -> tuple:
    """``(t, y_perp)``: ``t_n = u_n^T (y - x_0)`` (tuple) and the component of ``y - x_0``
    orthogonal to the data span (column vector)."""
    _orthogonal(dataset)
    z = _point(dataset, y) - dataset.apex
    t = tuple(u.dot(z) for u in dataset.u)
    perp = z - sum((tn * u for tn, u in zip(t, dataset.u)), sp.zeros(dataset.d, 1))
    return t, perp


def _from_coordinates(dataset, t) -> sp.Matrix:
    return dataset.apex + sum((tn * u for tn, u in zip(t, dataset.u)), sp.zeros(dataset.d, 1))


def _clip(t, r):
    """``t`` clipped to ``[0, r]`` (the exact value ``0`` or ``r`` when outside)."""
    if bool(t <= 0):
        return sp.Integer(0)
    if bool(t >= r):
        return r
    return t


def closest_coordinates(dataset: OrthogonalDataset, y) -> tuple:
    """Coordinates ``clip(t_n, 0, r_n)`` of the hyperbox point closest to ``y``.

    For orthogonal ``u_n`` the squared distance ``|y_perp|^2 + sum_n (t_n - s_n)^2`` to the box
    point with coordinates ``s`` separates, so each coordinate is clipped independently and the
    perpendicular part is dropped.
    """
    t, _ = box_coordinates(dataset, y)
    return tuple(_clip(tn, rn) for tn, rn in zip(t, dataset.r))


def closest_point(dataset: OrthogonalDataset, y) -> sp.Matrix:
    """The point of the hyperbox closest to ``y`` (see :func:`closest_coordinates`)."""
    return _from_coordinates(dataset, closest_coordinates(dataset, y))


def dist_to_hyperbox(dataset: OrthogonalDataset, y) -> sp.Expr:
    """``dist(y, B) = sqrt(|y_perp|^2 + sum_n (t_n - clip(t_n))^2)``."""
    t, perp = box_coordinates(dataset, y)
    s = closest_coordinates(dataset, y)
    return sp.sqrt(perp.dot(perp) + sum(((a - b) ** 2 for a, b in zip(t, s)), sp.Integer(0)))


def closest_point_class(dataset: OrthogonalDataset, y) -> str:
    """Where the closest hyperbox point lies: ``vertex`` (every clipped coordinate is ``0`` or
    ``r_n``), ``boundary`` (some but not all are), ``interior`` (none is: relative interior of
    ``B``).  The case split of Thms 4.3 and 4.4."""
    t, _ = box_coordinates(dataset, y)
    at_face = [bool(tn <= 0) or bool(tn >= rn) for tn, rn in zip(t, dataset.r)]
    if all(at_face):
        return "vertex"
    return "boundary" if any(at_face) else "interior"


def closest_point_is_vertex(dataset: OrthogonalDataset, y) -> bool:
    """Is the hyperbox point closest to ``y`` a vertex (the first case of Thm 4.4)?"""
    return closest_point_class(dataset, y) == "vertex"


def closest_vertex(dataset: OrthogonalDataset, y) -> tuple:
    """``(S, vertex)``: the hyperbox vertex closest to ``y`` (Thm 4.3 (i)).

    ``n in S`` iff ``t_n > r_n/2``.  Raises ``ValueError`` naming the coordinate when some
    ``t_n = r_n/2`` exactly: two vertices are then equally close (the excluded case of Thm 4.3).
    """
    t, _ = box_coordinates(dataset, y)
    subset = []
    for n, (tn, rn) in enumerate(zip(t, dataset.r), start=1):
        if sp.simplify(2 * tn - rn) == 0:
            raise ValueError(f"t_{n} = r_{n}/2 = {rn / 2}: y is equidistant from vertices with and "
                             f"without x_{n} (Thm 4.3 excludes this start)")
        if bool(2 * tn > rn):
            subset.append(n)
    return frozenset(subset), dataset.vertex(subset)


def dist_to_boundary(dataset: OrthogonalDataset, y) -> sp.Expr:
    """Distance from ``y`` to the hyperbox boundary (docs/math.md §5, Thm 4.3).

    If some ``t_n`` is outside ``[0, r_n]`` it is ``dist(y, B)`` (the closest box point is then
    on the boundary); otherwise ``sqrt(|y_perp|^2 + min_n min(t_n, r_n - t_n)^2)``.
    """
    t, perp = box_coordinates(dataset, y)
    if any(bool(tn < 0) or bool(tn > rn) for tn, rn in zip(t, dataset.r)):
        return dist_to_hyperbox(dataset, y)
    nearest = sp.Min(*[sp.Min(tn, rn - tn) for tn, rn in zip(t, dataset.r)])
    return sp.sqrt(perp.dot(perp) + nearest ** 2)
