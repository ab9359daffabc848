"""Tests of numerics.classify: the endpoint classes of docs/math.md §6 with l2 and l-infinity
thresholds."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from numerics import geometry as geo
from numerics.classify import (CLASSES, DEFAULT_RELATIVE_THRESHOLD, classify, default_threshold)
from theory.datasets import EquilateralTriangle, OrthogonalDataset
from theory.errors import NonFiniteError
from test_geometry import obtuse_data, orthogonal_data

ridge_data = st.one_of(orthogonal_data(), obtuse_data())


def _unit(rng, d):
    v = rng.normal(size=d)
    return v / np.linalg.norm(v)


@given(ridge_data, st.integers(0, 2 ** 32 - 1))
def test_points_near_vertices_get_their_subset(ds, seed):
    """A vertex moved by less than the threshold is a training point (|S| <= 1) or a virtual
    point (|S| >= 2) with the right 1-based subset; moved by more (off the box) it is not."""
    box = geo.hyperbox(ds)
    rng = np.random.default_rng(seed)
    eps = default_threshold(ds)
    masks = rng.integers(0, 2, size=(6, box.N)).astype(bool)
    V = box.point(masks.astype(float))
    Y = V + 0.9 * eps * np.array([_unit(rng, box.d) for _ in range(6)])
    for mask, c in zip(masks, classify(ds, Y)):
        S = tuple(int(n) + 1 for n in np.flatnonzero(mask))
        assert c.vertex_subset == S
        assert c.cls == ("training" if len(S) <= 1 else "virtual")
        assert c.distance <= eps


@given(ridge_data, st.integers(0, 2 ** 32 - 1))
def test_facet_centres_are_boundary_and_box_centre_is_other(ds, seed):
    """The centre of facet {lam_n = 0} (N >= 2) is on the boundary, far from every vertex; the
    centre of the box is in its relative interior (class other)."""
    box = geo.hyperbox(ds)
    rng = np.random.default_rng(seed)
    n = rng.integers(box.N)
    lam = np.full(box.N, 0.5)
    centre = box.point(lam)
    lam[n] = rng.integers(2)
    facet = box.point(lam)
    got = classify(ds, [facet, centre])
    if box.N >= 2:
        assert got[0].cls == "boundary" and got[0].vertex_subset is None
        assert got[0].distance <= 1e-12 * box.r.max()
    else:  # the facets of a segment are its endpoints: vertices
        assert got[0].cls == "training"
    assert got[1].cls == "other" and got[1].vertex_subset is None
    assert got[1].distance > 0


def test_classes_and_fields_on_a_small_example():
    ds = OrthogonalDataset([[0, 0, 0], [2, 0, 0], [0, 1, 0]])
    Y = [[0, 0, 0], [2, 0, 0], [2, 1, 0], [1, 0, 0], [1, 0.5, 0], [1, 0.5, 3], [1e-7, 0, 0]]
    got = classify(ds, Y)
    assert [c.cls for c in got] == ["training", "training", "virtual", "boundary", "other",
                                    "other", "training"]
    assert [c.vertex_subset for c in got] == [(), (1,), (1, 2), None, None, None, ()]
    assert got[4].distance == pytest.approx(0.5)
    assert got[6].to_json() == {"class": "training", "vertex_subset": [], "distance": 1e-7}
    assert set(c.cls for c in got) <= set(CLASSES)


def test_default_threshold_is_relative_to_largest_radius():
    ds = OrthogonalDataset([[0, 0], [3, 0], [0, 1]])
    assert default_threshold(ds) == pytest.approx(DEFAULT_RELATIVE_THRESHOLD * 3)
    # default threshold 3e-6: 2.5e-6 from x_1 is within it, 4e-6 is not
    assert classify(ds, [3 + 2.5e-6, 0])[0].cls == "training"
    assert classify(ds, [3, 4e-6])[0].cls == "boundary"  # on the facet lam_1 = 1


def test_linf_threshold_differs_from_l2():
    """(eps, eps)/1.1 off a vertex: l-infinity distance eps/1.1 (inside), l2 distance
    1.29 eps (outside)."""
    ds = OrthogonalDataset([[0, 0], [1, 0], [0, 1]])
    eps = 1e-3
    y = [1 + eps / 1.1, 1 + eps / 1.1]
    assert classify(ds, y, eps, "linf")[0].cls == "virtual"
    assert classify(ds, y, eps, "l2")[0].cls == "other"


def test_equilateral_classes():
    R = 1.0
    P = np.array([[R * np.cos(a), R * np.sin(a)] for a in (0, 2 * np.pi / 3, 4 * np.pi / 3)])
    tri = EquilateralTriangle(P.tolist())
    Y = np.vstack([P, (P[0] + P[1]) / 2, [0, 0], P[2] + [0, 1e-7], [5, 5]])
    for norm in geo.NORMS:
        got = classify(tri, Y, 1e-6, norm)
        assert [c.cls for c in got] == ["training"] * 3 + ["boundary", "other", "training",
                                                           "other"]
        assert [c.vertex_subset for c in got] == [(1,), (2,), (3,), None, None, (3,), None]
    # centroid: l2 distance to every edge is the inradius R/2
    assert classify(tri, [0, 0])[0].distance == pytest.approx(R / 2)


@given(st.floats(-2, 2), st.floats(-2, 2), st.floats(1e-4, 0.5))
def test_equilateral_linf_edge_distance_matches_dense_sampling(a, b, eps):
    P = np.array([[np.cos(t), np.sin(t)] for t in (0.3, 0.3 + 2 * np.pi / 3, 0.3 + 4 * np.pi / 3)])
    tri = EquilateralTriangle(P.tolist())
    from numerics.classify import _linf_edge_distance
    got = _linf_edge_distance(tri, np.array([[a, b]]))[0]
    s = np.linspace(0, 1, 20001)[:, None]
    ref = min(np.max(np.abs(np.array([a, b]) - (P[i - 1] + s * (P[j - 1] - P[i - 1]))), axis=1).min()
              for i, j in geo.EDGES)
    # sampling step |edge|/20000 = sqrt(3)/20000 bounds the sampled minimum's excess
    assert got <= ref + 1e-12
    assert ref - got <= np.sqrt(3) / 20000


def test_bad_threshold_and_norm():
    ds = OrthogonalDataset([[0, 0], [1, 0], [0, 1]])
    with pytest.raises(ValueError, match="threshold must be positive"):
        classify(ds, [0, 0], 0.0)
    with pytest.raises(NonFiniteError, match="threshold is nan"):
        classify(ds, [0, 0], float("nan"))
    with pytest.raises(ValueError, match="unknown norm"):
        classify(ds, [0, 0], 1e-3, "l3")


def test_linf_classes_use_linf_distances_to_vertices_and_boundary():
    """App. E's l-infinity variant measures both distances in l-infinity (eps = 0.25).

    Triangle: (1.2, 0.2) is 0.2 from the vertex (1, 0) in l-infinity (training), 0.28 in l2
    (other).  Orthogonal data rotated by 45 degrees (u_1 = (1, 1)/sqrt 2): 0.3 off the middle
    of the edge [x_0, x_1] along its normal is 0.3/sqrt 2 = 0.21 from it in l-infinity
    (boundary), 0.3 in l2 (other), and far from every vertex in both."""
    tri = EquilateralTriangle([[1, 0], [-0.5, 0.8660254037844386], [-0.5, -0.8660254037844386]])
    c = classify(tri, [[1.2, 0.2]], 0.25, "linf")[0]
    assert (c.cls, c.vertex_subset) == ("training", (1,)) and c.distance == pytest.approx(0.2)
    assert classify(tri, [[1.2, 0.2]], 0.25, "l2")[0].cls == "other"
    ds = OrthogonalDataset([[0, 0], [1, 1], [-1, 1]])
    off = 0.3 / np.sqrt(2)
    y = [[0.5 + off, 0.5 - off]]
    c = classify(ds, y, 0.25, "linf")[0]
    assert c.cls == "boundary" and c.distance == pytest.approx(off, rel=1e-12)
    assert classify(ds, y, 0.25, "l2")[0].cls == "other"


def test_only_ridge_and_triangle_data_have_classes():
    """General data has no vertices and no hyperbox: one clear error naming the kind, with or
    without an explicit threshold (not an attribute error from the default threshold)."""
    from theory.datasets import make_dataset
    from theory.errors import ArgumentTypeError
    general = make_dataset("general", [[0, 0], [1, 0], [0, 1]])
    for threshold in (None, 0.1):
        with pytest.raises(ArgumentTypeError, match="orthogonal or obtuse or equilateral data, "
                                                    "got general data"):
            classify(general, [[0, 0]], threshold)
    with pytest.raises(ArgumentTypeError, match="got general data"):
        default_threshold(general)
