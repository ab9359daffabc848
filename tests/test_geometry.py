"""Tests of numerics.geometry: hyperbox projection, boundary distance, vertices, chords, edges
(docs/math.md §5-§6).  Each fast path is checked against an independent brute-force computation."""
from itertools import product

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import lsq_linear

from numerics import geometry as geo
from theory.datasets import EquilateralTriangle, ObtuseSimplex, OrthogonalDataset
from theory.errors import NonFiniteError, ShapeError

# brute-force references run bounded least squares / LPs to float64 level; 1e-9 relative leaves
# room for their stopping tests on data of size ~1-10
TOL = 1e-9


def _rotation(seed: int, d: int) -> np.ndarray:
    Q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return Q


@st.composite
def orthogonal_data(draw, max_d=5, axis_aligned=False):
    d = draw(st.integers(1, max_d))
    N = draw(st.integers(1, d))
    radii = draw(st.lists(st.floats(0.5, 3.0), min_size=N, max_size=N))
    x0 = np.array(draw(st.lists(st.floats(-2, 2), min_size=d, max_size=d)))
    if axis_aligned:
        signs = draw(st.lists(st.sampled_from((-1.0, 1.0)), min_size=N, max_size=N))
        axes = draw(st.permutations(range(d)))[:N]
        offsets = np.zeros((N, d))
        for n, (j, s, r) in enumerate(zip(axes, signs, radii)):
            offsets[n, j] = s * r
    else:
        Q = _rotation(draw(st.integers(0, 2 ** 32 - 1)), d)
        offsets = Q[:N] * np.array(radii)[:, None]
    return OrthogonalDataset([x0.tolist()] + (x0 + offsets).tolist())


@st.composite
def obtuse_data(draw, max_d=5, min_N=2, max_N=None):
    """Offsets with Gram matrix ``diag(r^2) - positive off-diagonal`` (strictly obtuse), rotated
    into ``R^d``."""
    d = draw(st.integers(min_N, max_d))
    N = draw(st.integers(min_N, d if max_N is None else min(d, max_N)))
    radii = np.array(draw(st.lists(st.floats(0.5, 3.0), min_size=N, max_size=N)))
    cos = draw(st.lists(st.floats(0.05, 0.9), min_size=N * N, max_size=N * N))
    C = np.eye(N)
    for i in range(N):
        for j in range(i + 1, N):
            C[i, j] = C[j, i] = -cos[i * N + j] / N  # diagonally dominant: positive definite
    L = np.linalg.cholesky(C)  # rows: unit vectors with the chosen cosines, in R^N
    Q = _rotation(draw(st.integers(0, 2 ** 32 - 1)), d)
    offsets = (L * radii[:, None]) @ Q[:N]
    x0 = np.array(draw(st.lists(st.floats(-2, 2), min_size=d, max_size=d)))
    return ObtuseSimplex([x0.tolist()] + (x0 + offsets).tolist())


ridge_data = st.one_of(orthogonal_data(), obtuse_data())


@st.composite
def data_and_points(draw, data=ridge_data, n=6, spread=1.5):
    ds = draw(data)
    box = geo.hyperbox(ds)
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    lam = rng.uniform(-spread + 1, spread, size=(n, box.N))
    Y = box.point(lam) + rng.normal(scale=0.3 * box.r.mean(), size=(n, box.d))
    return ds, Y


def _lsq_box(box, y, lb, ub):
    res = lsq_linear(box.X.T, y - box.origin, bounds=(lb, ub), method="trf", tol=1e-15)
    return np.linalg.norm(y - box.point(res.x))


# -- closest point --------------------------------------------------------------------------------
@given(data_and_points())
def test_closest_point_satisfies_kkt(case):
    """The projection onto the box is optimal: the gradient ``X (p - y)`` is 0 on free
    coordinates, >= 0 at lam = 0, <= 0 at lam = 1."""
    ds, Y = case
    box = geo.hyperbox(ds)
    P, lam = geo.hyperbox_closest_point(ds, Y)
    assert np.all((lam >= 0) & (lam <= 1))
    np.testing.assert_allclose(P, box.point(lam), atol=1e-12)
    grad = (P - Y) @ box.X.T
    scale = TOL * (1 + np.abs(Y).max()) * box.r.max()
    free = (lam > 1e-12) & (lam < 1 - 1e-12)
    assert np.all(np.abs(grad[free]) <= scale)
    assert np.all(grad[lam <= 1e-12] >= -scale)
    assert np.all(grad[lam >= 1 - 1e-12] <= scale)


@given(data_and_points())
def test_distance_to_hyperbox_matches_bounded_least_squares(case):
    ds, Y = case
    box = geo.hyperbox(ds)
    ref = [_lsq_box(box, y, 0.0, 1.0) for y in Y]
    np.testing.assert_allclose(geo.distance_to_hyperbox(ds, Y), ref, atol=TOL * box.r.max())


@given(data_and_points(data=orthogonal_data(axis_aligned=True)))
def test_linf_axis_aligned_fast_path_matches_linear_program(case):
    ds, Y = case
    box = geo.hyperbox(ds)
    assert box.axes is not None
    zeros, ones = np.zeros(box.N), np.ones(box.N)
    ref = [geo._linf_lp(box, y - box.origin, zeros, ones)[0] for y in Y]
    np.testing.assert_allclose(geo.distance_to_hyperbox(ds, Y, "linf"), ref, atol=1e-7)
    refb = [min(geo._linf_lp(box, y - box.origin, np.where(np.arange(box.N) == n, v, 0.0),
                             np.where(np.arange(box.N) == n, v, 1.0))[0]
                for n in range(box.N) for v in (0.0, 1.0)) for y in Y]
    np.testing.assert_allclose(geo.distance_to_boundary(ds, Y, "linf"), refb, atol=1e-7)


@given(data_and_points(data=obtuse_data(max_d=4)))
def test_linf_distance_between_norm_bounds(case):
    """``|v|_2 / sqrt(d) <= |v|_inf <= |v|_2``: the LP distance is bracketed by the l2 ones."""
    ds, Y = case
    box = geo.hyperbox(ds)
    dinf = geo.distance_to_hyperbox(ds, Y, "linf")
    d2 = geo.distance_to_hyperbox(ds, Y, "l2")
    assert np.all(dinf <= d2 + 1e-7)
    assert np.all(dinf >= d2 / np.sqrt(box.d) - 1e-7)


# -- boundary -------------------------------------------------------------------------------------
@given(data_and_points(spread=1.2))
def test_boundary_distance_is_distance_to_nearest_facet(case):
    """Reference: minimum over the 2N facets {lam_n = 0}, {lam_n = 1} of a bounded least squares."""
    ds, Y = case
    box = geo.hyperbox(ds)
    ref = []
    for y in Y:
        best = np.inf
        for n in range(box.N):
            others = [m for m in range(box.N) if m != n]
            for v in (0.0, 1.0):
                z = y - box.origin - v * box.X[n]
                if others:
                    res = lsq_linear(box.X[others].T, z, bounds=(0.0, 1.0), method="trf",
                                     tol=1e-15)
                    z = z - res.x @ box.X[others]
                best = min(best, np.linalg.norm(z))
        ref.append(best)
    np.testing.assert_allclose(geo.distance_to_boundary(ds, Y), ref, atol=1e-8 * box.r.max())


@given(orthogonal_data(), st.integers(0, 2 ** 32 - 1))
def test_boundary_distance_orthogonal_formula(ds, seed):
    """docs/math.md §5: inside the box, ``sqrt(|y_perp|^2 + min_n min(t_n, r_n - t_n)^2)``."""
    box = geo.hyperbox(ds)
    rng = np.random.default_rng(seed)
    lam = rng.uniform(0, 1, size=(5, box.N))
    perp = rng.normal(size=(5, box.d))
    perp -= perp @ box.U.T @ box.U  # remove the span component
    Y = box.point(lam) + perp
    t = (Y - box.origin) @ box.U.T
    expected = np.sqrt((perp ** 2).sum(1) + np.min(np.minimum(t, box.r - t), axis=1) ** 2)
    np.testing.assert_allclose(geo.distance_to_boundary(ds, Y), expected, atol=1e-12)


def test_boundary_points_have_zero_distance_and_interior_does_not():
    ds = OrthogonalDataset([[0, 0, 0], [2, 0, 0], [0, 1, 0]])
    Y = [[1, 0, 0], [2, 0.3, 0], [0.5, 1, 0], [1, 0.5, 0], [1, 0.5, 0.2], [3, 0.5, 0]]
    np.testing.assert_allclose(geo.distance_to_boundary(ds, Y),
                               [0, 0, 0, 0.5, np.hypot(0.5, 0.2), 1.0], atol=1e-15)
    np.testing.assert_allclose(geo.distance_to_boundary(ds, Y, "linf"),
                               [0, 0, 0, 0.5, 0.5, 1.0], atol=1e-15)


# -- vertices -------------------------------------------------------------------------------------
def _brute_nearest(box, Y, norm):
    masks = np.array(list(product((0.0, 1.0), repeat=box.N)))
    V = box.point(masks)
    D = geo._vector_norm(Y[:, None, :] - V[None], norm)
    return D.min(axis=1)


@given(data_and_points(), st.sampled_from(geo.NORMS))
def test_nearest_vertex_distance_is_minimal(case, norm):
    ds, Y = case
    box = geo.hyperbox(ds)
    subsets, dist = geo.nearest_vertex(ds, Y, norm)
    np.testing.assert_allclose(dist, _brute_nearest(box, Y, norm), atol=1e-12)
    V = geo.vertex_points(ds, subsets)
    np.testing.assert_allclose(geo._vector_norm(Y - V, norm), dist, atol=1e-12)


@given(obtuse_data(max_d=6, min_N=4), st.integers(0, 2 ** 32 - 1), st.sampled_from(geo.NORMS))
def test_descent_recovers_vertex_within_certified_radius(ds, seed, norm):
    """Beyond MAX_ENUMERATE_N the rounding + descent path is exact within sigma_min(X)/2 (l2) of
    a vertex: force that path and compare with the known vertex."""
    box = geo.hyperbox(ds)
    rng = np.random.default_rng(seed)
    masks = rng.integers(0, 2, size=(8, box.N)).astype(bool)
    noise = rng.normal(size=(8, box.d))
    radius = 0.49 * box.sigma_min / (np.sqrt(box.d) if norm == "linf" else 1.0)
    noise *= radius * rng.uniform(0, 1, size=(8, 1)) / np.linalg.norm(noise, axis=1, keepdims=True)
    Y = box.point(masks.astype(float)) + noise
    mask0 = box.coordinates(Y) > 0.5
    np.testing.assert_array_equal(geo._descend(box, Y, mask0, norm), masks)


def test_nearest_vertex_ties_round_down_and_x0_is_empty_subset():
    ds = OrthogonalDataset([[1, 1], [2, 1], [1, 3]])
    subsets, dist = geo.nearest_vertex(ds, [[1.5, 1], [1, 1], [2, 3], [1.9, 1.2]])
    assert subsets == [(), (), (1, 2), (1,)]
    np.testing.assert_allclose(dist, [0.5, 0, 0, np.hypot(0.1, 0.2)])


# -- chords and edges -----------------------------------------------------------------------------
@given(data_and_points())
def test_chord_distance_matches_dense_sampling(case):
    ds, Y = case
    box = geo.hyperbox(ds)
    D = geo.distance_to_chords(ds, Y)
    s = np.linspace(0, 1, 4001)
    for n in range(box.N):
        seg = box.origin + s[:, None] * box.X[n]
        ref = np.linalg.norm(Y[:, None, :] - seg[None], axis=2).min(axis=1)
        # sampling step r/4000: the sampled minimum exceeds the true one by at most step^2/(2 dist)
        # or step/2
        assert np.all(D[:, n] <= ref + 1e-12)
        assert np.all(ref - D[:, n] <= box.r[n] / 8000 + 1e-12)


def test_chord_distance_zero_on_chord_and_exact_off_it():
    ds = ObtuseSimplex([[0, 0], [2, 0], [-1, 1]])
    D = geo.distance_to_chords(ds, [[1, 0], [1, 0.5], [3, 0], [-0.5, 0.5]])
    np.testing.assert_allclose(D[:, 0], [0, 0.5, 1, np.hypot(0.5, 0.5)], atol=1e-15)
    assert D[3, 1] == pytest.approx(0, abs=1e-15)


def test_edge_distances_of_equilateral_triangle():
    R = 2.0
    pts = [[R * np.cos(a), R * np.sin(a), 0.0] for a in (0, 2 * np.pi / 3, 4 * np.pi / 3)]
    tri = EquilateralTriangle(pts)
    P = np.array(pts)
    mids = [(P[i - 1] + P[j - 1]) / 2 for i, j in geo.EDGES]
    D = geo.distance_to_edges(tri, np.array(mids + [[0, 0, 0], [0, 0, 1.0]]))
    np.testing.assert_allclose(np.diag(D[:3]), 0, atol=1e-15)
    np.testing.assert_allclose(D[3], R / 2)  # inradius
    np.testing.assert_allclose(D[4], np.hypot(R / 2, 1))


# -- errors ---------------------------------------------------------------------------------------
def test_bad_inputs_raise_specific_errors():
    ds = OrthogonalDataset([[0, 0], [1, 0], [0, 1]])
    with pytest.raises(ValueError, match="unknown norm 'l1'"):
        geo.distance_to_hyperbox(ds, [0, 0], "l1")
    with pytest.raises(ShapeError, match=r"expected \(n_points, 2\)"):
        geo.distance_to_boundary(ds, [0, 0, 0])
    with pytest.raises(NonFiniteError):
        geo.nearest_vertex(ds, [np.nan, 0])
    tri = EquilateralTriangle([[1, 0], [-0.5, np.sqrt(3) / 2], [-0.5, -np.sqrt(3) / 2]])
    with pytest.raises(TypeError, match="orthogonal and obtuse"):
        geo.distance_to_hyperbox(tri, [0, 0])
    with pytest.raises(TypeError, match="EquilateralTriangle"):
        geo.distance_to_edges(ds, [0, 0])
