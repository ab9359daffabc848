"""Tests of numerics.threshold: the early-stopping threshold c_0 (docs/math.md §5, Thm 4.4 / B.3),
its closed form against the piece structure of theory.closed_forms, and its numerical
confirmation by bisection over integrated probability flows."""
import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given
from hypothesis import strategies as st

from numerics import geometry as geo
from numerics.threshold import (NoThresholdError, c0_bisection, c0_closed_form)
from theory.closed_forms import kinks, reaches_vertex_fixed_kinks
from theory.datasets import EquilateralTriangle, ObtuseSimplex, OrthogonalDataset
from theory.errors import InputError
from theory.pieces import MODELS
from test_geometry import obtuse_data, orthogonal_data

# relative step around c_0 at which the piece structure must have flipped: far above float64
# rounding of c_0 (1e-16), far below any gap between distinct coordinates' thresholds we draw
DELTA = 1e-9


def _ends_on_vertex_coordinate(model, t, r, rho0) -> bool:
    """Per coordinate ``0 < t < r``: does it end on 0 or r?  exact / taylor: it starts on a flat
    piece (kink convention: kinks are flat); fixed kinks: docs/math.md §5's criterion.  Both read
    from theory.closed_forms (kinks, reaches_vertex_fixed_kinks)."""
    T, R, P = sp.Float(t, 30), sp.Float(r, 30), sp.Float(rho0, 30)
    if model == "taylor-fixed-kinks":
        return bool(reaches_vertex_fixed_kinks(T, R, P))
    lo, hi = kinks(model, R, P)
    return bool(T <= lo) or bool(T >= hi)


@st.composite
def start_in_box(draw):
    ds = draw(orthogonal_data(max_d=4))
    box = geo.hyperbox(ds)
    lam = draw(st.lists(st.floats(-0.5, 1.5), min_size=box.N, max_size=box.N))
    lam[0] = draw(st.floats(0.02, 0.98))  # at least one coordinate strictly inside
    y0 = box.point(np.array(lam)) + draw(st.floats(-1, 1)) * np.ones(box.d) * 0.1
    return ds, y0


@given(start_in_box(), st.sampled_from(MODELS), st.floats(0.5, 4.0))
def test_closed_form_c0_separates_vertex_and_non_vertex_endings(case, model, sigma_max):
    """Just above c_0 every coordinate strictly inside (0, r_n) ends on 0 or r_n; just below, the
    deciding coordinate does not (Thm 4.4)."""
    ds, y0 = case
    res = c0_closed_form(ds, y0, sigma_max, model)
    box = geo.hyperbox(ds)
    t = np.array(res.coordinates)
    inside = np.flatnonzero((t > 0) & (t < box.r))
    assume(len(inside) > 0 and res.c0 is not None)
    for n in inside:
        assert _ends_on_vertex_coordinate(model, t[n], box.r[n], res.c0 * (1 + DELTA) * sigma_max)
    k = res.deciding - 1
    assert k in inside
    assert not _ends_on_vertex_coordinate(model, t[k], box.r[k],
                                          res.c0 * (1 - DELTA) * sigma_max)
    assert res.c_max == pytest.approx(box.r.min() / (2 * sigma_max))
    assert res.valid == (res.c0 < res.c_max)


@given(st.floats(0.01, 0.99), st.floats(0.1, 5.0), st.floats(0.2, 3.0))
def test_fixed_kinks_threshold_exceeds_exact_one_and_agrees_near_vertices(x, r, sigma_max):
    """Per coordinate ``r/(2 sigma) ln(1/(1 - 2t/r)) >= t/sigma`` (``ln(1/(1-x)) >= x``), with
    equality to first order as ``t -> 0`` (docs/math.md §5: 'agree to first order')."""
    assume(abs(x - 0.5) > 1e-6)
    ds = OrthogonalDataset([[0.0], [r]])
    c_exact = c0_closed_form(ds, [x * r], sigma_max, "exact").c0
    c_fixed = c0_closed_form(ds, [x * r], sigma_max, "taylor-fixed-kinks").c0
    assert c_fixed >= c_exact * (1 - 1e-12)
    near = 1e-5
    ratio = (c0_closed_form(ds, [near * r], sigma_max, "taylor-fixed-kinks").c0
             / c0_closed_form(ds, [near * r], sigma_max, "exact").c0)
    assert ratio == pytest.approx(1.0, abs=2 * near)  # 1 + x + O(x^2) at x = 2 * near


def test_no_threshold_reasons():
    ds = OrthogonalDataset([[0, 0, 0], [2, 0, 0], [0, 1, 0]])
    # closest box point is a vertex: both coordinates outside (0, r_n)
    res = c0_closed_form(ds, [2.5, -0.3, 0.4], 1.0, "exact")
    assert res.c0 is None and "already a vertex" in res.reason and res.valid is None
    assert res.to_json()["c0"] is None
    # a coordinate on the boundary value exactly counts as a vertex coordinate too
    assert c0_closed_form(ds, [0.0, 1.0, 0.0], 1.0, "taylor").c0 is None
    # fixed kinks: a coordinate at its midpoint never reaches a vertex
    res = c0_closed_form(ds, [1.0, 0.2, 0.0], 1.0, "taylor-fixed-kinks")
    assert res.c0 is None and "midpoint" in res.reason and res.deciding == 1
    # ... but in the exact model it has a finite threshold r/2 / sigma_max
    assert c0_closed_form(ds, [1.0, 0.2, 0.0], 1.0, "exact").c0 == pytest.approx(1.0)


def test_values_and_validity_on_a_small_example():
    ds = OrthogonalDataset([[0, 0], [1, 0], [0, 2]])
    res = c0_closed_form(ds, [0.1, 1.7], 2.0, "exact")
    assert res.c0 == pytest.approx(0.3 / 2) and res.deciding == 2  # max(min(.1,.9), min(1.7,.3))
    assert res.c_max == pytest.approx(0.25) and res.valid
    res = c0_closed_form(ds, [0.4, 0.5], 1.0, "taylor-fixed-kinks")
    assert res.c0 == pytest.approx(max(0.5 * np.log(5.0), 1.0 * np.log(2.0)))
    assert res.valid is False  # c_max = 0.5


@given(obtuse_data(max_d=4, max_N=3), st.floats(0.05, 0.95), st.floats(0.2, 2.0),
       st.sampled_from(MODELS))
def test_obtuse_threshold_uses_the_single_inside_coordinate(ds, x, sigma_max, model):
    """Thm B.3: y0 = x_0 + x (x_1 - x_0) - small multiples of the other offsets' duals has
    0 < t_1 < r_1 and t_n < 0 (n >= 2); c_0 is the one-coordinate threshold of t_1."""
    box = geo.hyperbox(ds)
    y0 = box.origin + x * box.X[0]
    t = box.U @ (y0 - box.origin)
    assume(np.all(t[1:] < -1e-9))  # obtuse: u_n . u_1 < 0 gives t_n < 0
    res = c0_closed_form(ds, y0, sigma_max, model)
    one = OrthogonalDataset([[0.0], [box.r[0]]])
    ref = c0_closed_form(one, [t[0]], sigma_max, model)
    assert res.c0 == pytest.approx(ref.c0, rel=1e-12)
    assert res.deciding == 1


def test_obtuse_outside_theorem_and_equilateral_are_rejected():
    ds = ObtuseSimplex([[0, 0], [2, 0], [-1, 1]])
    with pytest.raises(InputError, match="Thm B.3"):
        c0_closed_form(ds, [1.0, 1.5], 1.0, "exact")  # t_2 > 0
    tri = EquilateralTriangle([[1, 0], [-0.5, np.sqrt(3) / 2], [-0.5, -np.sqrt(3) / 2]])
    with pytest.raises(InputError, match="equilateral"):
        c0_closed_form(tri, [0, 0], 1.0, "exact")
    with pytest.raises(ValueError, match="sigma_max must be positive"):
        c0_closed_form(ds, [1.0, -0.5], 0.0, "exact")
    with pytest.raises(ValueError, match="unknown score model"):
        c0_closed_form(ds, [1.0, -0.5], 1.0, "taylor2")


# -- numerical confirmation ------------------------------------------------------------------------
@pytest.mark.parametrize("model", MODELS)
def test_bisection_over_exact_flows_confirms_closed_form(model):
    ds = OrthogonalDataset([[0, 0, 0], [2, 0, 0], [0, 3, 0]])
    y0 = [0.3, 0.45, 0.2]
    sigma_max = 1.5
    res = c0_closed_form(ds, y0, sigma_max, model)
    assert res.valid
    c_bis = c0_bisection(ds, y0, sigma_max, model, method="exact")
    # the bisection lands within vertex_tol / sigma_max (1e-10 * 3 / 1.5) below c_0
    assert c_bis == pytest.approx(res.c0, abs=1e-9)


@pytest.mark.parametrize("model", MODELS)
def test_bisection_over_ivp_flows_obtuse(model):
    """Thm B.3 on an obtuse simplex, through DOP853 with kink events (also the fixed-kinks case
    whose other units may slide on their kink at 0)."""
    ds = ObtuseSimplex([[0, 0], [2, 0], [-1, 1.5]])
    y0 = [0.25, -0.1]
    sigma_max = 1.0
    res = c0_closed_form(ds, y0, sigma_max, model)
    assert res.valid
    c_bis = c0_bisection(ds, y0, sigma_max, model, method="ivp", rtol=1e-7)
    # vertex_tol 1e-7 * r_max over sigma_max, plus the bracket width
    assert c_bis == pytest.approx(res.c0, abs=1e-6)


def test_bisection_without_sign_change_raises():
    ds = OrthogonalDataset([[0, 0], [2, 0], [0, 3]])
    with pytest.raises(NoThresholdError, match="already ends on a vertex"):
        c0_bisection(ds, [2.5, -0.2], 1.0, "exact")
    # t_1 = 0.9 of r_1 = 2: c0 = 0.9 > c_max = 1: never a vertex in the regime
    with pytest.raises(NoThresholdError, match="still ends off the vertices"):
        c0_bisection(ds, [0.9, 1.5], 1.0, "exact")
