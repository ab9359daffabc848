"""Every documented convention and choice pinned by a test that fails when it is flipped
(docs/mutation.md: these are the first tests of the mutation run's fast selection).

* the **kink convention** (docs/math.md §5): a point exactly on a kink belongs to the flat piece,
  in every place a piece is decided -- the scalar response, activation patterns and regions,
  stationary-point margins, NumPy piece codes, the integrators' starts, and the choice at a
  kink where nothing moves the unit;
* the unit responses of the three score models and of the triangle (kinks, slopes, intercepts);
* the low-noise regime's ends (``rho < min r/2``; triangle ``rho < 3R/4``, minimal up to
  ``rho*``);
* the endpoint classes: the default threshold, the order of the classes, ties between vertices.
"""
import warnings

import numpy as np
import pytest
import sympy as sp

from numerics.classify import DEFAULT_RELATIVE_THRESHOLD, classify, default_threshold
from numerics.evaluate import LINEAR, LOWER, UPPER, compile_denoiser, piece_codes
from numerics.exact import PiecewiseAffineScoreFlow, kink_transition
from numerics.flows import score_flow
from numerics.geometry import nearest_vertex
from theory import closed_forms as cf
from theory.datasets import make_dataset
from theory.denoisers import min_cost_denoiser
from theory.errors import BallsOverlapError, LowNoiseError, NotMinimalWarning, UnknownChoiceError
from theory.pieces import (KINK_IS_FLAT, MODELS, check_model, equilateral_ramp, on_lower, on_upper,
                           phi, piece_conditions, piece_margins, unit_pieces)
from theory.stationary import stationary_points

RHO, R, T = sp.symbols("rho r t", positive=True)
HALF = sp.Rational(1, 2)


# -- the kink convention -------------------------------------------------------------------------
def test_kink_is_flat_in_the_predicates():
    assert KINK_IS_FLAT is True
    assert on_lower(1.0, 1.0) and not on_lower(np.nextafter(1.0, 2.0), 1.0)
    assert on_upper(2.0, 2.0) and not on_upper(np.nextafter(2.0, 1.0), 2.0)
    assert piece_margins("lower", 1, 1, 3) == [(0, False)]
    assert piece_margins("upper", 3, 1, 3) == [(0, False)]
    assert piece_margins("linear", 2, 1, 4) == [(1, True), (2, True)]
    assert piece_conditions("lower", T, 1, 3) == [T <= 1]
    assert piece_conditions("linear", T, 1, 3) == [T > 1, T < 3]


@pytest.mark.parametrize("model", ["exact", "taylor", "taylor-fixed-kinks"])
def test_kink_is_flat_in_the_unit_response(model):
    unit = unit_pieces(model, 2, sp.Rational(1, 5))
    assert unit.piece_of(unit.k_lo) == "lower" and unit.piece_of(unit.k_hi) == "upper"
    assert unit.piece_of((unit.k_lo + unit.k_hi) / 2) == "linear"
    # the Piecewise takes the flat value on the kink (the Taylor responses jump there)
    assert unit.response(unit.k_lo) == unit.value("lower", unit.k_lo)
    assert unit.response(unit.k_hi) == unit.value("upper", unit.k_hi)


def test_kink_is_flat_in_patterns_regions_and_numpy_codes():
    ds = make_dataset("orthogonal", [[0, 0], [2, 0], [0, 2]])
    rho = sp.Rational(1, 5)
    dn = min_cost_denoiser(ds, rho)
    kink_point = [rho, 2 - rho]  # t_1 on the lower kink, t_2 on the upper kink
    assert dn.pattern(kink_point) == ("lower", "upper")
    region = dn.region(("lower", "upper"))
    assert all(bool(rel) for rel in region.inequalities(kink_point))
    assert not all(bool(rel) for rel in dn.region(("linear", "linear")).inequalities(kink_point))
    cd = compile_denoiser(ds, "exact")
    T_ = np.array([[0.2, 1.8]])
    assert cd.pieces(T_, 0.2).tolist() == [[LOWER, UPPER]]
    assert piece_codes(np.array([0.2 + 1e-15, 1.8 - 1e-15]), 0.2, 1.8).tolist() == [LINEAR] * 2
    flow = PiecewiseAffineScoreFlow(cd, 0.2)
    assert flow.initial_codes(np.array([[0.2, 1.8]]) @ flow.B.T @ flow.B).tolist() == \
        [[LOWER, UPPER]]


def test_kink_is_flat_for_stationary_points():
    """With rho = r/3 on a single unit, the lower kink sits at rho and the linear piece's fixed
    point r/2: the flat-piece fixed points 0 and r are stationary, and no extra point appears
    on the kinks (a linear piece closed at its kink would add nothing here either, so the
    margins' strictness is checked directly)."""
    ds = make_dataset("orthogonal", [[0], [3]])
    dn = min_cost_denoiser(ds, 1)
    pts = stationary_points(dn)
    assert sorted(float(p.point[0]) for p in pts) == [0.0, 1.5, 3.0]
    unit = dn.units[0]
    assert unit.margins("lower", unit.k_lo) == [(0, False)]  # on the kink: still the flat piece


def test_kink_transition_defaults_to_the_flat_side():
    # nothing moves the unit (tangential on both sides): the flat piece, below a lower kink
    assert kink_transition(0.0, 0.0, True) == 0 and kink_transition(0.0, 0.0, False) == 1
    # repelling (below pushes down, above pushes up): the flat piece too
    assert kink_transition(-1.0, 1.0, True) == 0 and kink_transition(-1.0, 1.0, False) == 1
    assert kink_transition(1.0, 1.0, True) == 1 and kink_transition(-1.0, -1.0, False) == 0
    assert kink_transition(1.0, -1.0, True) == 2  # attracting from both sides: slide


def test_start_on_a_kink_stays_on_the_flat_piece():
    """taylor-fixed-kinks, start with t_1 = 0 exactly (the lower kink) and t_2 generic: on the
    flat piece t_1 stays 0 (the vertex x_2 - x_0 side); on the linear piece it would leave."""
    ds = make_dataset("orthogonal", [[0, 0], [2, 0], [0, 2]])
    for method in ("exact", "ivp"):
        end = score_flow(ds, [0.0, 1.7], 0.2, model="taylor-fixed-kinks", method=method).endpoint
        np.testing.assert_allclose(end, [0.0, 2.0], atol=1e-9)


# -- unit responses --------------------------------------------------------------------------------
def test_model_names():
    assert MODELS == ("exact", "taylor", "taylor-fixed-kinks")
    for bad in ("Exact", ["exact"], None):
        with pytest.raises(UnknownChoiceError, match="unknown score model .*choose one of exact, "
                                                     "taylor, taylor-fixed-kinks"):
            check_model(bad)
    assert check_model("taylor") == "taylor"


def test_phi_is_the_exact_unit_response():
    """``theory.phi`` (the paper's ramp, eq. 17) equals the exact model's unit at every piece."""
    unit = unit_pieces("exact", 2, sp.Rational(1, 4))
    for t in (-1, 0, sp.Rational(1, 4), 1, sp.Rational(7, 4), 2, 3):
        assert sp.simplify(phi(t, 2, sp.Rational(1, 4)) - unit.response(t)) == 0
    assert phi(1, 2, sp.Rational(1, 4)) == sp.Rational(8, 6) * sp.Rational(3, 4)


def test_unit_responses_of_the_three_models():
    exact = unit_pieces("exact", R, RHO)
    a = R / (R - 2 * RHO)
    assert (exact.k_lo, exact.k_hi) == (RHO, R - RHO)
    assert sp.simplify(exact.coefficients["linear"][0] - a) == 0
    assert sp.simplify(exact.coefficients["linear"][1] + a * RHO) == 0
    assert exact.coefficients["lower"] == (0, 0)
    assert sp.simplify(exact.value("upper", T) - R) == 0
    for model, kinks in (("taylor", (RHO, R - RHO)), ("taylor-fixed-kinks", (0, R))):
        unit = unit_pieces(model, R, RHO)
        assert (unit.k_lo, unit.k_hi) == kinks
        assert sp.simplify(unit.value("linear", T) - (T + 2 * RHO / R * (T - R / 2))) == 0
        assert unit.value("lower", T) == 0 and unit.value("upper", T) == R
        assert cf.kinks(model, R, RHO) == kinks


def test_equilateral_ramp():
    unit = equilateral_ramp(R, RHO)
    assert sp.simplify(unit.k_lo - (-R / 2 + RHO)) == 0
    assert sp.simplify(unit.k_hi - (R - RHO)) == 0
    slope = unit.coefficients["linear"][0]
    assert sp.simplify(slope - R / (3 * R / 2 - 2 * RHO)) == 0
    assert sp.simplify(unit.value("upper", T) - slope * (unit.k_hi - unit.k_lo)) == 0
    assert sp.simplify(unit.value("upper", T) - R) == 0  # the ramp rises by exactly R


def test_linear_rates_and_exit_times():
    assert sp.simplify(cf.linear_rate("exact") - 2 * cf.rho / (cf.r - 2 * cf.rho)) == 0
    assert sp.simplify(cf.linear_rate("taylor") - 2 * cf.rho / cf.r) == 0
    te = cf.tau_exit("exact").subs({cf.t0: sp.Rational(3, 5), cf.r: 1, cf.rho: sp.Rational(1, 10)})
    # from t0 = 0.6, the middle law r/2 + (t0 - r/2) e^{rate tau} reaches the upper kink 0.9
    law = cf.score_flow_piece("linear", "exact").subs({cf.t0: sp.Rational(3, 5), cf.r: 1,
                                                         cf.rho: sp.Rational(1, 10)})
    assert abs(float(law.subs(cf.tau, te)) - 0.9) < 1e-12


# -- low-noise regime ------------------------------------------------------------------------------
def test_low_noise_regime_ends():
    ds = make_dataset("orthogonal", [[0, 0], [2, 0], [0, 3]])
    min_cost_denoiser(ds, sp.Rational(999, 1000))
    with pytest.raises(BallsOverlapError, match="r_1/2"):
        min_cost_denoiser(ds, 1)  # rho = r_1/2: the balls touch
    tri = make_dataset("equilateral", [[1, 0], [-HALF, sp.sqrt(3) / 2], [-HALF, -sp.sqrt(3) / 2]])
    star = (12 + 3 * sp.sqrt(3)) / 26
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        min_cost_denoiser(tri, star)  # minimal up to and including rho*
    with pytest.warns(NotMinimalWarning):
        min_cost_denoiser(tri, star + sp.Rational(1, 1000))
    with pytest.raises(LowNoiseError, match="3R/4"):
        min_cost_denoiser(tri, sp.Rational(3, 4))


# -- endpoint classes -----------------------------------------------------------------------
def test_default_threshold_and_class_order():
    ds = make_dataset("orthogonal", [[0, 0], [1, 0], [0, 4]])
    assert DEFAULT_RELATIVE_THRESHOLD == 1e-6
    assert default_threshold(ds) == pytest.approx(4e-6, rel=1e-15)  # relative to max r
    eps = default_threshold(ds)
    # within eps of the vertex x_1 and of the boundary: the vertex class wins
    c = classify(ds, [[1 + 0.9 * eps, 0]])[0]
    assert c.cls == "training" and c.vertex_subset == (1,)
    assert classify(ds, [[1 + 1.1 * eps, 0]])[0].cls == "other"  # outside: beyond eps
    assert classify(ds, [[1 + 0.5 * eps, 2]])[0].cls == "boundary"
    assert classify(ds, [[1, 4 - 0.5 * eps]])[0].cls == "virtual"
    assert classify(ds, [[0.5, 2]])[0].cls == "other"


def test_vertex_ties_round_down():
    ds = make_dataset("obtuse", [[0, 0], [2, 0], [-1, 2]])
    subsets, _ = nearest_vertex(ds, [[1.0, 0.0]])  # halfway between x_0 and x_1
    assert subsets == [()]
