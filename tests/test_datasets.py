"""Datasets as validated objects (docs/math.md §1-§2): attributes of generated valid datasets,
and one test per invalid-input class, each checking the specific error and what its message names."""
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from proofs_check.strategies import equilateral_triangles, obtuse_simplices, orthogonal_datasets
from theory import (GEOMETRY_RTOL, RHO, BallsOverlapError, DuplicatePointError,
                    EquilateralTriangle, LowNoiseError, NonFiniteError, NotEquilateralError,
                    NotMinimalWarning, NotObtuseError, NotOrthogonalError, NotSimplexError,
                    ObtuseSimplex, OrthogonalDataset, ShapeError, equilateral_rho_star, from_json,
                    min_cost_denoiser)
from theory.datasets import exact_number, load_dataset

#: float64 rotations of O(1)-sized data reproduce lengths to ~1e-15; 1e-12 is a safe margin.
FLOAT_ATOL = 1e-12


# -- valid datasets: attributes ------------------------------------------------------------------
@given(st.one_of(orthogonal_datasets(), orthogonal_datasets(exact=True),
                 obtuse_simplices(), obtuse_simplices(exact=True)))
def test_ridge_attributes(ds):
    for n in range(ds.N):
        off = ds.points[n + 1] - ds.points[0]
        assert off == ds.offsets[n]
        assert abs(float(ds.r[n]) - math.sqrt(float(off.dot(off)))) <= FLOAT_ATOL
        assert abs(float(ds.u[n].dot(ds.u[n])) - 1) <= FLOAT_ATOL
    for (i, j), cos in ds.gram_cosines().items():
        if ds.kind == "orthogonal":
            assert abs(float(cos)) <= GEOMETRY_RTOL
        else:
            assert float(cos) < 0
    if ds.exact:
        assert all(sp.simplify(ds.u[n].dot(ds.u[n]) - 1) == 0 for n in range(ds.N))


@given(st.one_of(equilateral_triangles(), equilateral_triangles(exact=True)))
def test_equilateral_attributes(ds):
    for p, v in zip(ds.points, ds.v):
        assert np.allclose([float(x) for x in ds.centroid + ds.R * v], [float(x) for x in p],
                           atol=FLOAT_ATOL * 10)
    side = math.sqrt(float((ds.points[0] - ds.points[1]).dot(ds.points[0] - ds.points[1])))
    assert abs(side - float(ds.side)) <= 1e-9 * side  # float R from sqrt: relative rounding
    assert abs(float(sum(ds.v, sp.zeros(ds.d, 1)).norm())) <= 1e-12


def test_json_round_trip():
    ds = OrthogonalDataset([[0, 0], [2, 0], [0, 3]])
    back = from_json(ds.to_json())
    assert type(back) is OrthogonalDataset
    assert [[float(x) for x in p] for p in back.points] == [[0, 0], [2, 0], [0, 3]]


# -- invalid input: one specific error per class ---------------------------------------------------
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), np.nan, sp.oo, sp.nan])
def test_non_finite_coordinate(bad):
    with pytest.raises(NonFiniteError, match="point 1, coordinate 0"):
        OrthogonalDataset([[0, 0], [bad, 1]])


@pytest.mark.parametrize("points, message", [
    ([[0, 0], [1]], "point 1 has 1 coordinates, point 0 has 2"),
    ([], "no points given"),
    ([[], []], "dimension 0"),
    ([[0, 0], [1, "a"]], "got the string"),
    ([[0, 0], [1, True]], "got a boolean"),
    (5, "list of coordinate lists"),
])
def test_shape_errors(points, message):
    with pytest.raises(ShapeError, match=re.escape(message)):
        OrthogonalDataset(points)


@pytest.mark.parametrize("cls, points, message", [
    (OrthogonalDataset, [[0, 0]], "at least one more point"),
    (ObtuseSimplex, [[1, 2, 3]], "at least one more point"),
    (EquilateralTriangle, [[0, 0], [1, 0]], "has 3 points, got 2"),
    (EquilateralTriangle, [[0, 0], [1, 0], [0.5, math.sqrt(3) / 2], [5, 5]], "got 4"),
    (EquilateralTriangle, [[0], [1], [2]], "d >= 2"),
])
def test_wrong_number_of_points(cls, points, message):
    with pytest.raises(ShapeError, match=re.escape(message)):
        cls(points)


def test_duplicate_points():
    with pytest.raises(DuplicatePointError, match="points 1 and 2 coincide"):
        OrthogonalDataset([[0, 0, 0], [1, 0, 0], [1, 0, 0]])
    with pytest.raises(DuplicatePointError, match="points 0 and 2 coincide"):
        EquilateralTriangle([[0.0, 0.0], [1.0, 0.0], [1e-14, 0.0]])  # float: within tolerance


def test_non_orthogonal_pair_is_named():
    with pytest.raises(NotOrthogonalError, match=r"x_1 - x_0 and x_3 - x_0 are not orthogonal"):
        OrthogonalDataset([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 0, 1]])


@given(orthogonal_datasets(min_N=2), st.data())
def test_tilted_float_pair_is_named(ds, data):
    """Tilting one offset towards another by 1e-6 rad (1000x the tolerance) is detected."""
    i, j = sorted(data.draw(st.lists(st.integers(1, ds.N), min_size=2, max_size=2, unique=True)))
    pts = [np.array([float(x) for x in p]) for p in ds.points]
    tilt = 1e-6
    pts[j] = pts[0] + (pts[j] - pts[0]) + tilt * float(ds.r[j - 1]) * np.array(
        [float(x) for x in ds.u[i - 1]])
    with pytest.raises(NotOrthogonalError, match=rf"x_{i} - x_0 and x_{j} - x_0"):
        OrthogonalDataset([list(p) for p in pts])


def test_acute_and_right_pairs():
    with pytest.raises(NotObtuseError, match=r"x_1 - x_0 and x_2 - x_0 make an acute angle"):
        ObtuseSimplex([[0, 0], [1, 0], [1, 1]])
    with pytest.raises(NotObtuseError, match="right"):
        ObtuseSimplex([[0, 0], [1, 0], [0, 1]])
    ObtuseSimplex([[0, 0], [1, 0], [0, 1]], allow_right_angles=True)  # the orthogonal limit


@pytest.mark.parametrize("cls, points", [
    (ObtuseSimplex, [[0, 0], [1, 0], [-2, 0]]),                     # collinear, obtuse
    (ObtuseSimplex, [[0, 0], [1, 0], [-1, 1], [-1, -1]]),           # N = 3 > d = 2
    (OrthogonalDataset, [[0], [1], [-1]]),                           # N = 2 > d = 1
    (ObtuseSimplex, [[0, 0, 0], [1, 0, 0], [-1, 1, 0], [-1, -2, 0]]),  # obtuse, planar in R^3
    (ObtuseSimplex, [[0.0, 0, 0], [1, 0, 0], [-1, 1, 0], [-1, -2, 1e-13]]),  # float, rank 2
])
def test_dependent_offsets(cls, points):
    with pytest.raises(NotSimplexError):
        cls(points)


def test_non_equilateral():
    with pytest.raises(NotEquilateralError, match="side x_1x_3 has length"):
        EquilateralTriangle([[0, 0], [2, 0], [1, 2]])
    with pytest.raises(NotEquilateralError):  # float, off by 1e-6 relative (>> tolerance)
        EquilateralTriangle([[0.0, 0.0], [1.0, 0.0], [0.5, math.sqrt(3) / 2 * (1 + 1e-6)]])


# -- invalid noise radii ------------------------------------------------------------------------
TRIANGLE = [[2, 0], [-1, sp.sqrt(3)], [-1, -sp.sqrt(3)]]  # R = 2, side 2 sqrt 3


@pytest.mark.parametrize("rho", [1, sp.Rational(3, 2), 5])
def test_balls_overlap_ridge(rho):
    ds = OrthogonalDataset([[0, 0], [2, 0], [0, 3]])  # rho_max = min r / 2 = 1
    with pytest.raises(BallsOverlapError, match="B\\(x_0, rho\\) and B\\(x_1, rho\\) overlap"):
        min_cost_denoiser(ds, rho)


def test_balls_overlap_equilateral():
    with pytest.raises(BallsOverlapError, match="side/2"):
        min_cost_denoiser(EquilateralTriangle(TRIANGLE), sp.sqrt(3))


@pytest.mark.parametrize("rho", [sp.Rational(3, 2), sp.Rational(8, 5), 1.7])  # in [3R/4, side/2)
def test_equilateral_outside_regime(rho):
    with pytest.raises(LowNoiseError, match="3R/4"):
        min_cost_denoiser(EquilateralTriangle(TRIANGLE), rho)


@pytest.mark.parametrize("rho, error", [(0, ValueError), (-0.1, ValueError),
                                        (float("nan"), NonFiniteError), (sp.oo, NonFiniteError),
                                        ("0.1", ValueError)])
def test_rho_not_positive_finite(rho, error):
    with pytest.raises(error):
        min_cost_denoiser(OrthogonalDataset([[0, 0], [2, 0], [0, 3]]), rho)


def test_equilateral_warning_beyond_rho_star():
    ds = EquilateralTriangle(TRIANGLE)
    star = equilateral_rho_star(ds.R)
    with pytest.warns(NotMinimalWarning, match="not the minimum-cost interpolant"):
        min_cost_denoiser(ds, star + sp.Rational(1, 100))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        min_cost_denoiser(ds, star)  # rho* itself is still minimal: no warning


@pytest.mark.parametrize("model", ["taylor", "taylor-fixed-kinks"])
def test_taylor_model_on_equilateral(model):
    with pytest.raises(ValueError, match="equilateral denoiser has model='exact'"):
        min_cost_denoiser(EquilateralTriangle(TRIANGLE), RHO / 10, model)


def test_unknown_model():
    with pytest.raises(ValueError, match="unknown score model 'taylr'"):
        min_cost_denoiser(OrthogonalDataset([[0, 0], [2, 0], [0, 3]]), 0.1, "taylr")


# -- data files: exact strings and the example files ---------------------------------------------
@pytest.mark.parametrize("text, value", [
    ("3", 3), ("-3", -3), ("1/2", sp.Rational(1, 2)), (" -2 / 6 ", sp.Rational(-1, 3)),
    ("0.25", sp.Rational(1, 4)), (".5", sp.Rational(1, 2)), ("sqrt(3)/2", sp.sqrt(3) / 2),
    ("-3*sqrt(2)/4", -3 * sp.sqrt(2) / 4), ("2sqrt(5)", 2 * sp.sqrt(5)), ("+sqrt(9)", 3),
])
def test_exact_strings_are_exact_numbers(text, value):
    x = exact_number(text, "point 1, coordinate 0")
    assert x == value and not x.has(sp.Float)


@pytest.mark.parametrize("text, fragment", [
    ("1/0", "divides by zero"), ("x/2", "cannot read"), ("sqrt(-3)", "cannot read"),
    ("2**3", "cannot read"), ("1e3", "cannot read"), ("", "cannot read"),
    ("__import__('os')", "cannot read"), ("3*", "cannot read"),
])
def test_bad_exact_strings_are_one_line_naming_the_field(text, fragment):
    with pytest.raises(ShapeError) as exc:
        from_json({"kind": "orthogonal", "points": [[0, 0], [1, 0], [0, text]]})
    msg = str(exc.value)
    assert msg.startswith("point 2, coordinate 1: ") and fragment in msg and "\n" not in msg
    assert '"1/2"' in msg  # says what to write instead


def test_exact_string_data_is_checked_exactly():
    tri = from_json({"kind": "equilateral",
                     "points": [[0, 1], ["-sqrt(3)/2", "-1/2"], ["sqrt(3)/2", "-1/2"]]})
    assert tri.exact and tri.R == 1
    # one digit off is not equilateral: exact data has no tolerance
    with pytest.raises(NotEquilateralError):
        from_json({"kind": "equilateral",
                   "points": [[0, 1], ["-0.866", "-1/2"], ["0.866", "-1/2"]]})
    mixed = from_json({"kind": "orthogonal", "points": [[0, 0], ["1/3", 0], [0, 0.5]]})
    assert not mixed.exact  # one float makes the data float


EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "data"


@pytest.mark.parametrize("name, kind, exact", [
    ("orthogonal.json", "orthogonal", True), ("obtuse.json", "obtuse", True),
    ("equilateral.json", "equilateral", True), ("segment.json", "general", False),
])
def test_example_data_files_load(name, kind, exact):
    ds = load_dataset(EXAMPLES / name)
    assert ds.kind == kind and ds.exact == exact
    assert sorted(p.name for p in EXAMPLES.glob("*.json")) == [
        "equilateral.json", "obtuse.json", "orthogonal.json", "segment.json"]
