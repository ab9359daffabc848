"""Hyperbox geometry of orthogonal data (theory.geometry; docs/math.md §5, Thms 4.2-4.4), checked
against independent computations: bounded least squares (scipy), brute force over the 2^N
vertices, and the distance to each of the 2N faces."""
import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import lsq_linear

from proofs_check.strategies import orthogonal_datasets
from theory import ObtuseSimplex, OrthogonalDataset, ShapeError
from theory.geometry import (box_coordinates, closest_coordinates, closest_point,
                             closest_point_class, closest_point_is_vertex, closest_vertex,
                             dist_to_boundary, dist_to_hyperbox, hyperbox_vertices)

#: lsq_linear's default tolerances give distances to ~1e-10 of O(1) data; 1e-7 leaves margin.
LSQ_ATOL = 1e-7


def _floats(v):
    return np.array([float(x) for x in v])


def _box_distance(U, r, z, fixed=None):
    """Distance from ``z`` (relative to x_0) to the box ``{U^T s : 0 <= s <= r}``, optionally with
    coordinate ``fixed = (n, value)`` pinned (a face).  Independent of theory.geometry."""
    lo, hi = np.zeros(len(r)), np.array(r, dtype=float)
    if fixed is not None:
        n, value = fixed
        lo[n], hi[n] = value - 1e-12, value + 1e-12  # pin: lsq_linear needs lo < hi
    res = lsq_linear(U.T, z, bounds=(lo, hi), method="bvls", tol=1e-14)
    return np.linalg.norm(U.T @ res.x - z), res.x


def _sample_y(ds, seed):
    rng = np.random.default_rng(seed)
    U = np.array([_floats(u) for u in ds.u])
    r = _floats(ds.r)
    t = rng.uniform(-0.5, 1.5, size=ds.N) * r  # inside and outside [0, r_n]
    perp = rng.normal(size=ds.d) * rng.uniform(0, 1)
    perp -= U.T @ (U @ perp)
    return _floats(ds.apex) + U.T @ t + perp


@given(orthogonal_datasets(), st.integers(0, 2 ** 32 - 1))
def test_closest_point_and_distances_match_bounded_least_squares(ds, seed):
    y = _sample_y(ds, seed)
    U = np.array([_floats(u) for u in ds.u])
    r = _floats(ds.r)
    z = y - _floats(ds.apex)
    dist, s = _box_distance(U, r, z)
    assert abs(float(dist_to_hyperbox(ds, y)) - dist) <= LSQ_ATOL
    assert np.abs(_floats(closest_coordinates(ds, y)) - s).max() <= LSQ_ATOL
    assert np.abs(_floats(closest_point(ds, y)) - (_floats(ds.apex) + U.T @ s)).max() <= LSQ_ATOL
    faces = [_box_distance(U, r, z, (n, v))[0] for n in range(ds.N) for v in (0.0, r[n])]
    assert abs(float(dist_to_boundary(ds, y)) - min(faces)) <= LSQ_ATOL


@given(orthogonal_datasets(), st.integers(0, 2 ** 32 - 1))
def test_closest_vertex_is_brute_force_argmin(ds, seed):
    y = _sample_y(ds, seed)
    vertices = hyperbox_vertices(ds)
    assert len(vertices) == 2 ** ds.N
    dists = {S: np.linalg.norm(_floats(v) - y) for S, v in vertices.items()}
    S, v = closest_vertex(ds, y)
    assert dists[S] <= min(dists.values()) + 1e-12  # float64 norms of O(1) vectors
    assert v == ds.vertex(S)


@given(orthogonal_datasets(exact=True, max_N=3))
def test_vertices_are_partial_sums_and_classes(ds):
    vertices = hyperbox_vertices(ds)
    for n in range(1, ds.N + 1):  # training points are vertices
        assert vertices[frozenset({n})] == ds.points[n]
    assert vertices[frozenset()] == ds.apex
    for S, v in vertices.items():
        assert closest_point_class(ds, v) == "vertex" and closest_point_is_vertex(ds, v)
        assert closest_point(ds, v) == v and dist_to_boundary(ds, v) == 0
    centre = ds.apex + sum((o / 2 for o in ds.offsets), sp.zeros(ds.d, 1))
    assert closest_point_class(ds, centre) == "interior"
    assert dist_to_boundary(ds, centre) == min(ds.r, key=float) / 2
    if ds.N >= 2:  # midpoint of an edge: on the boundary, not a vertex
        edge = ds.apex + ds.offsets[0] / 2
        assert closest_point_class(ds, edge) == "boundary"
        assert not closest_point_is_vertex(ds, edge)


def test_exact_values():
    ds = OrthogonalDataset([[1, 1, 0], [4, 1, 0], [1, 3, 0]])  # r = (3, 2), e_3 perpendicular
    y = [sp.Rational(9, 2), sp.Rational(3, 2), 2]                # t = (7/2, 1/2), |y_perp| = 2
    t, perp = box_coordinates(ds, y)
    assert t == (sp.Rational(7, 2), sp.Rational(1, 2)) and perp == sp.Matrix([0, 0, 2])
    assert closest_coordinates(ds, y) == (3, sp.Rational(1, 2))
    assert dist_to_hyperbox(ds, y) == sp.sqrt(sp.Rational(17, 4))
    assert dist_to_boundary(ds, y) == dist_to_hyperbox(ds, y)     # t_1 outside [0, r_1]
    assert closest_point_class(ds, y) == "boundary"
    assert closest_vertex(ds, y) == (frozenset({1}), ds.points[1])
    inside = [2, sp.Rational(3, 2), 1]                            # t = (1, 1/2), perp 1
    assert dist_to_boundary(ds, inside) == sp.sqrt(1 + sp.Rational(1, 4))


def test_errors():
    ds = OrthogonalDataset([[0, 0], [2, 0], [0, 4]])
    with pytest.raises(ValueError, match="t_2 = r_2/2"):
        closest_vertex(ds, [sp.Rational(1, 3), 2])
    with pytest.raises(ShapeError, match="dimension d=2"):
        closest_point(ds, [1, 2, 3])
    with pytest.raises(TypeError, match="orthogonal data"):
        closest_point(ObtuseSimplex([[0, 0], [1, 0], [-1, 1]]), [0, 0])
    assert len(hyperbox_vertices(ObtuseSimplex([[0, 0], [1, 0], [-1, 1]]))) == 4
