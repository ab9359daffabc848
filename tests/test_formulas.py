"""The formulas' public functions at numeric arguments and at their defaults (docs/mutation.md).

Most checks elsewhere evaluate the closed forms through SymPy substitution of the module's own
symbols, which cannot tell an argument that is passed from one that falls back to its default
symbol; here every argument is a number, each value is compared with the formula of
docs/math.md written out by hand, and the documented defaults (``model="exact"``) are used bare.
Together with tests/test_conventions.py these are the fast selection of the mutation run.
"""
import math

import numpy as np
import pytest
import sympy as sp

from numerics.classify import Classification, classify, default_threshold
from theory import closed_forms as cf
from theory.datasets import make_dataset
from theory.denoisers import min_cost_denoiser, y_symbols
from theory.errors import NotRepresentableError

Q = sp.Rational
T0, R, RHO, RHO0, TAU, S = Q(3, 10), Q(2), Q(1, 5), Q(1, 4), Q(7, 10), Q(3, 2)


def close(expr, value, tol=1e-12):
    return abs(float(sp.N(expr, 30)) - value) <= tol * max(1.0, abs(value))


# -- closed forms at numbers (docs/math.md §4) ---------------------------------------------------
def test_score_flow_pieces_at_numbers():
    rate = 2 * 0.2 / (2 - 0.4)
    assert close(cf.score_flow_piece("lower", "exact", T0, R, RHO, TAU), 0.3 * math.exp(-0.7))
    assert close(cf.score_flow_piece("upper", "exact", T0, R, RHO, TAU),
                 2 + (0.3 - 2) * math.exp(-0.7))
    assert close(cf.score_flow_piece("linear", "exact", T0, R, RHO, TAU),
                 1 + (0.3 - 1) * math.exp(rate * 0.7))
    assert close(cf.score_flow_piece("linear", "taylor", T0, R, RHO, TAU),
                 1 + (0.3 - 1) * math.exp(0.2 * 0.7))
    assert cf.score_flow_piece("lower") == cf.score_flow_piece("lower", "exact")  # the default
    with pytest.raises(ValueError, match="unknown piece 'middle'"):
        cf.score_flow_piece("middle")


def test_exit_times_at_numbers():
    rate = 2 * 0.2 / (2 - 0.4)
    assert close(cf.tau_exit("exact", T0, R, RHO), math.log((1 - 0.2) / 0.7) / rate)
    assert close(cf.tau_exit("taylor-fixed-kinks", T0, R, RHO), math.log(1 / 0.7) / 0.2)
    assert cf.tau_exit() == cf.tau_exit("exact")
    assert close(cf.linear_rate("exact", R, RHO), rate)
    assert cf.kinks("exact", R, RHO) == (RHO, R - RHO)
    assert cf.kinks("taylor-fixed-kinks", R, RHO) == (0, R)


def test_probability_flow_pieces_at_numbers():
    rho_s = 0.25 * math.exp(-1.5)
    assert close(cf.rho_of_s(RHO0, S), rho_s)
    assert close(cf.rescaled_time(RHO0, S), 0.25 * (1 - math.exp(-1.5)))
    assert close(cf.probability_flow_piece("lower", "exact", T0, R, RHO0, S), 0.3 * math.exp(-1.5))
    assert close(cf.probability_flow_piece("linear", "exact", T0, R, RHO0, S),
                 1 + (0.3 - 1) * (2 - 2 * rho_s) / (2 - 0.5))
    assert close(cf.probability_flow_piece("linear", "taylor", T0, R, RHO0, S),
                 1 + (0.3 - 1) * math.exp(2 * 0.25 * (1 - math.exp(-1.5)) / 2))
    assert cf.probability_flow_piece("upper") == cf.probability_flow_piece("upper", "exact")
    with pytest.raises(ValueError, match="unknown piece 'middle'"):
        cf.probability_flow_piece("middle")
    assert close(cf.probability_flow_limit("linear", "exact", T0, R, RHO0),
                 1 + (0.3 - 1) * 2 / (2 - 0.5))
    assert cf.probability_flow_limit("lower") == 0


def test_c0_threshold_inside_and_midpoint():
    """Only coordinates strictly inside (0, r) count; a fixed-kinks midpoint has no threshold."""
    sm = Q(1)
    assert cf.c0_threshold("exact", [0, 2], [2, 2], sm) is None        # on the box's faces
    assert cf.c0_threshold("exact", [Q(1, 2), 2], [2, 2], sm) == Q(1, 2)
    assert cf.c0_threshold("exact", [Q(1, 2), 3], [2, 2], sm) == Q(1, 2)  # outside: ignored
    assert cf.c0_threshold("exact", [Q(3, 2), Q(1, 5)], [2, 2], sm) == Q(1, 2)
    assert cf.c0_threshold("taylor-fixed-kinks", [1, Q(1, 2)], [2, 2], sm) == sp.oo
    # the midpoint test is 2 t = r at every r, not only at r = 2 (where 2 t = r and 2/t = r agree)
    assert cf.c0_threshold("taylor-fixed-kinks", [Q(3, 2)], [3], sm) == sp.oo
    assert cf.c0_threshold("exact", [1, Q(1, 2)], [2, 2], sm) == 1     # midpoint: min(t, r - t)
    fk = cf.c0_threshold("taylor-fixed-kinks", [Q(1, 2)], [2], sm)
    assert close(fk, 2 / 2 * math.log(2 / abs(1 - 2)))


def test_fixed_kinks_criterion_holds_at_equality():
    """``|t0 - r/2| e^{2 rho0/r} >= r/2``: at equality the coordinate reaches its kink."""
    t0 = 1 - sp.exp(-Q(1, 4))  # r = 2, rho0 = 1/4: |t0 - 1| e^{1/4} = 1 exactly
    assert bool(cf.reaches_vertex_fixed_kinks(t0, R, RHO0))
    assert not bool(cf.reaches_vertex_fixed_kinks(t0 + Q(1, 1000), R, RHO0))


# -- the symbolic denoiser ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def shifted():
    """Orthogonal data with its apex away from the origin (offsets along the axes)."""
    return make_dataset("orthogonal", [[1, 2], [4, 2], [1, 4]])


def test_regions_are_affine_pieces_of_h(shifted):
    """``h(y) = J y + b`` on the region of ``y`` (an apex away from 0 tests ``b``), with every
    unit's conditions listed and the score Jacobian ``J - I`` at the default ``sigma = 1``."""
    dn = min_cost_denoiser(shifted, Q(1, 4))
    y = sp.Matrix([Q(5, 2), Q(29, 10)])  # t = (3/2, 9/10): unit 1 linear, unit 2 linear
    reg = dn.region(dn.pattern(y))
    assert reg.pattern == ("linear", "linear")
    assert sp.simplify(reg.jacobian() * y + reg.offset() - dn(y)) == sp.zeros(2, 1)
    assert len(reg.inequalities()) == 4 and all(bool(c) for c in reg.inequalities(y))
    assert reg.score_jacobian() == reg.jacobian() - sp.eye(2)
    with pytest.raises(ValueError, match="an activation pattern is 2 entries"):
        dn.region(("linear",))
    with pytest.raises(ValueError, match="an activation pattern is 2 entries"):
        dn.region(("linear", "middle"))


def test_slope_one_unit_enters_the_jacobian():
    """The triangle's ramp slope ``R/(3R/2 - 2 rho)`` is exactly 1 at ``rho = R/4``: a linear
    unit with slope 1 must still add ``v v^T`` to the Jacobian."""
    half = Q(1, 2)
    tri = make_dataset("equilateral", [[1, 0], [-half, sp.sqrt(3) / 2], [-half, -sp.sqrt(3) / 2]])
    dn = min_cost_denoiser(tri, Q(1, 4))
    reg = dn.region(("linear", "lower", "lower"))
    v = dn.directions[0]
    assert sp.simplify(reg.jacobian() - v * v.T) == sp.zeros(2, 2)


def test_expression_network_and_cost(shifted):
    dn = min_cost_denoiser(shifted, Q(1, 4))
    y = sp.Matrix([Q(5, 2), Q(29, 10)])
    assert sp.simplify(dn.expression(y) - dn(y)) == sp.zeros(2, 1)
    assert dn.expression()[0].free_symbols == {y_symbols(2)[0]}
    assert all(s.is_real for s in y_symbols(3))
    net = dn.network()
    assert sp.simplify(net(y) - dn(y)) == sp.zeros(2, 1)
    # sum_n 2 r_n / (r_n - 2 rho): r = (3, 2), rho = 1/4
    assert dn.representation_cost() == 2 * 3 / (3 - Q(1, 2)) + 2 * 2 / (2 - Q(1, 2))
    with pytest.raises(ValueError, match="only model='exact' has network parameters"):
        min_cost_denoiser(shifted, Q(1, 4), "taylor").network()
    with pytest.raises(ValueError, match="representation cost is defined for model='exact'"):
        min_cost_denoiser(shifted, Q(1, 4), "taylor").representation_cost()


def test_interpolation_certificate_tolerance(shifted):
    """``interpolates(tol)`` accepts margins down to ``-tol``; the closed form's margins are 0 (a
    kink touches each ball), so a positive ``tol`` must not make them fail."""
    dn = min_cost_denoiser(shifted, Q(1, 4))
    assert dn.interpolates() and dn.interpolates(tol=1e-9)


# -- endpoint classes: closed thresholds --------------------------------------------------------
def test_thresholds_are_closed():
    """A point at distance exactly ``eps`` from a vertex / the boundary / a triangle vertex is
    within ``eps`` (distances that are exact in float64)."""
    ds = make_dataset("orthogonal", [[0, 0], [1, 0], [0, 1]])
    assert classify(ds, [[1.25, 0]], threshold=0.25)[0].cls == "training"
    assert classify(ds, [[1.25, 0.5]], threshold=0.25)[0].cls == "boundary"
    assert classify(ds, [[1.25, 0.5]], threshold=0.25, norm="linf")[0].cls == "boundary"
    tri = make_dataset("equilateral", [[1, 0], [-0.5, 0.8660254037844386],
                                       [-0.5, -0.8660254037844386]])
    c = classify(tri, [[1.25, 0.0]], threshold=0.25)[0]
    assert c.cls == "training" and c.distance == 0.25
    assert classify(tri, [[1.25, 0.0]], threshold=0.25, norm="linf")[0].cls == "training"
    for norm in ("l2", "linf"):  # 0.25 from the vertical edge x = -1/2, far from every vertex
        c = classify(tri, [[-0.75, 0.0]], threshold=0.25, norm=norm)[0]
        assert c.cls == "boundary" and c.distance == 0.25
    assert Classification("virtual", (1, 2), 0.0).to_json()["vertex_subset"] == [1, 2]
    assert Classification("other", None, 1.0).to_json()["vertex_subset"] is None


def test_lengths_below_float64_normal_range_are_not_representable():
    """Exact data at scale 1e-400 is valid symbolically; its float lengths underflow: the
    numerics (here the default threshold) say so instead of dividing by zero."""
    tiny = Q(1, 10 ** 400)
    ds = make_dataset("orthogonal", [[0, 0], [tiny, 0], [0, tiny]])
    with pytest.raises(NotRepresentableError, match="below float64's normal range"):
        default_threshold(ds)
    assert default_threshold(make_dataset("orthogonal", [[0, 0], [1, 0], [0, 3]])) == 3e-6


# -- deciding relations: numbers, and a symbolic rho over the whole low-noise regime ---------------
def test_decide_numbers_and_signs():
    from theory.denoisers import _decide
    x = sp.Symbol("x", positive=True)
    two = sp.Integer(2)
    assert _decide(sp.true) is True and _decide(sp.false) is False
    assert _decide(two <= 2) is True and _decide(sp.Integer(3) <= 2) is False
    assert _decide(sp.Lt(two, 2, evaluate=False)) is False
    assert _decide(sp.Ge(two, 2, evaluate=False)) is True
    assert _decide(sp.Gt(two, 2, evaluate=False)) is False
    assert _decide(x > 0) is True and _decide(x >= 0) is True
    assert _decide(x < 0) is False and _decide(x <= 0) is False
    assert _decide(x > 1) is None and _decide(x <= 1) is None
    assert _decide(sp.Lt(x, x + 1, evaluate=False)) is True
    # SymPy decides a sign or its complement: an extended-nonnegative z (possibly +oo) is not
    # known to be nonnegative, but it is known not to be negative, so z >= 0 holds
    z = sp.Symbol("z", extended_nonnegative=True)
    assert z.is_nonnegative is None and _decide(sp.Ge(z, 0, evaluate=False)) is True
    assert _decide(sp.Lt(z, 0, evaluate=False)) is False
    # a quantity known not to be positive (possibly non-real): w > 0 is False, decided directly
    w = sp.Symbol("w", positive=False)
    assert w.is_nonpositive is None and _decide(sp.Gt(w, 0)) is False
    # relations SymPy cannot decide are None, never False
    assert _decide(sp.Eq(x, 1)) is None and _decide(sp.Ne(x, 1)) is None


def test_decide_over_the_low_noise_regime():
    """``decide`` with a symbolic rho: ``True``/``False`` when the relation holds for every /
    no rho in (0, rho_max), ``None`` when it changes, including at a single root or a pole."""
    from theory.denoisers import RHO as rho
    dn = min_cost_denoiser(make_dataset("orthogonal", [[0, 0], [2, 0], [0, 3]]), rho)
    assert dn.rho_max() == 1
    assert dn.decide(rho < 1) is True and dn.decide(rho > 1) is False
    assert dn.decide(rho < Q(1, 2)) is None and dn.decide(rho > Q(1, 2)) is None
    assert dn.decide((rho - Q(1, 3)) * (rho - Q(1, 6)) > 0) is None  # two roots inside
    assert dn.decide((rho - Q(1, 2)) ** 2 >= 0) is True
    assert dn.decide((rho - Q(1, 2)) ** 2 > 0) is None                # false at the root only
    assert dn.decide(1 / (rho - Q(1, 2)) > 0) is None                 # a pole inside
    assert dn.decide(rho / (1 - rho) > 0) is True                     # the pole is the end
    assert dn.decide(1 / (3 * rho - 1) > 0) is None                   # a pole off the midpoint
    # a double pole at 1/2: positive on both sides, undefined at the pole itself (not a probe)
    assert dn.decide(1 / (2 * rho - 1) ** 2 > 0) is True
    with pytest.raises(ValueError, match="cannot decide the piece of unit 1 symbolically"):
        dn.pattern([Q(1, 2), 0])  # t_1 = 1/2 is on the lower piece iff rho >= 1/2
    with pytest.raises(ValueError, match="y has 3 coordinates, the data live in dimension d=2"):
        dn.projections([0, 0, 0])


def test_models_per_geometry():
    half = Q(1, 2)
    tri = make_dataset("equilateral", [[1, 0], [-half, sp.sqrt(3) / 2], [-half, -sp.sqrt(3) / 2]])
    from theory.errors import UnknownChoiceError
    with pytest.raises(UnknownChoiceError, match="equilateral denoiser has model='exact'"):
        min_cost_denoiser(tri, Q(1, 10), "taylor")
    assert min_cost_denoiser(tri, Q(1, 10)).rho_max() == Q(3, 4)


# -- rho: conversion and the low-noise bound, exactly for exact data --------------------------------
def test_rho_conversion():
    from fractions import Fraction

    from theory.denoisers import _as_rho
    from theory.errors import ArgumentTypeError, NonFiniteError
    for bad in (sp.nan, sp.oo, -sp.oo, sp.zoo):
        with pytest.raises(NonFiniteError, match="pass a finite positive number"):
            _as_rho(bad)
    for bad in (float("nan"), np.float32("inf")):
        with pytest.raises(NonFiniteError, match="pass a finite positive number"):
            _as_rho(bad)
    with pytest.raises(ArgumentTypeError, match="complex"):
        _as_rho(1 + sp.I)
    with pytest.raises(ArgumentTypeError, match=r"got True \(a bool\)"):
        _as_rho(True)
    assert _as_rho(Fraction(1, 10)) == Q(1, 10) and _as_rho(3) == 3
    assert _as_rho(0.1) == sp.Float(0.1, 17) and _as_rho(0.1)._prec == sp.Float(0.1, 17)._prec
    assert _as_rho(np.float64(0.25)) == sp.Float(0.25, 17)  # NumPy floats are floats


def test_low_noise_bound_is_exact_for_exact_data():
    """r = sqrt(2): rho = sqrt(2)/2 - 1e-30 is inside the regime (a float comparison would round
    it onto the bound and reject it); rho = sqrt(2)/2 is not.  Float data: float comparisons."""
    from theory.errors import BallsOverlapError
    ds = make_dataset("orthogonal", [[0, 0], [1, 1], [-1, 1]])
    min_cost_denoiser(ds, sp.sqrt(2) / 2 - Q(1, 10 ** 30))
    with pytest.raises(BallsOverlapError, match="r_1/2"):
        min_cost_denoiser(ds, sp.sqrt(2) / 2)
    fl = make_dataset("orthogonal", [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    min_cost_denoiser(fl, np.nextafter(0.5, 0))
    with pytest.raises(BallsOverlapError, match="need rho < min_n r_n/2 = 0.5"):
        min_cost_denoiser(fl, 0.5)


@pytest.mark.parametrize("rho", [0, 0.0, Q(0), -1, Q(-1, 2)])
def test_rho_must_be_positive(rho):
    """``rho = 0`` is no noise (no ball, no ramp): rejected like a negative radius."""
    from theory.errors import OutOfRangeError
    ds = make_dataset("orthogonal", [[0, 0], [2, 0], [0, 3]])
    with pytest.raises(OutOfRangeError, match=f"got {float(rho):g}$"):
        min_cost_denoiser(ds, rho)


def test_float_rho_or_float_data_compare_in_float64():
    """The low-noise bound is compared in float64 as soon as rho or the data is a float: a float
    rho stands for its decimal (``1/3`` typed as ``0.3333333333333333`` is ``r_1/2`` for
    ``r_1 = 2/3``, although the float is 1.9e-17 below 1/3), and float data knows its lengths
    only to float64 (an exact rho that rounds onto ``r_1/2`` is ``r_1/2``).  Accepting either
    would build a ramp of slope ``r/(r - 2 rho) ~ 1e16``."""
    from theory.errors import BallsOverlapError
    exact = make_dataset("orthogonal", [[0, 0], [Q(2, 3), 0], [0, 1]])
    assert Q(1 / 3) < Q(1, 3)
    with pytest.raises(BallsOverlapError, match=r"rho = 0\.333333 >= r_1/2 = 0\.333333: "):
        min_cost_denoiser(exact, 1 / 3)
    fl = make_dataset("orthogonal", [[0.0, 0.0], [2 / 3, 0.0], [0.0, 1.0]])
    below = Q(2 / 3) / 2 - Q(1, 10 ** 30)  # exactly below the float r_1/2, rounds onto it
    assert float(below) == (2 / 3) / 2
    with pytest.raises(BallsOverlapError, match="r_1/2"):
        min_cost_denoiser(fl, below)


def test_low_noise_check_of_float_data_stays_in_float64():
    """``check_low_noise`` (default model ``exact``) returns rho as a SymPy number and, for float
    data, compares against the float64 lengths without building the SymPy ones (the check runs
    before every numeric flow, on data of thousands of units)."""
    from theory.denoisers import check_low_noise
    fl = make_dataset("orthogonal", [[0.0, 0.0], [2.0, 0.0], [0.0, 3.0]])
    assert check_low_noise(fl, 0.5) == sp.Float(0.5, 17)
    assert "r" not in fl.__dict__ and "u" not in fl.__dict__  # the SymPy lengths: not built
    exact = make_dataset("orthogonal", [[0, 0], [2, 0], [0, 3]])
    assert check_low_noise(exact, Q(1, 2)) == Q(1, 2)


def test_equilateral_bounds_are_exact_and_ordered():
    """Triangle of circumradius ``R = sqrt 2`` (exact): ``3R/4`` is compared exactly (``3R/4 -
    1e-30`` is inside, with the not-minimal warning since ``rho* < 3R/4``); from ``side/2 = sqrt(3)
    R/2 ~ 0.866 R`` on the balls overlap, which is the error named (it comes before the
    low-noise one, ``side/2 > 3R/4``), for exact and float data alike, with the bound quoted."""
    from theory.errors import BallsOverlapError, LowNoiseError, NotMinimalWarning
    R = sp.sqrt(2)
    tri = make_dataset("equilateral", [[R, 0], [-R / 2, sp.sqrt(3) * R / 2],
                                       [-R / 2, -sp.sqrt(3) * R / 2]])
    with pytest.warns(NotMinimalWarning, match=r"> rho\* = \(12 \+ 3 sqrt 3\)/26 R = 0\.935"):
        min_cost_denoiser(tri, Q(3, 4) * R - Q(1, 10 ** 30))
    with pytest.raises(LowNoiseError, match="3R/4 = 1.06066"):
        min_cost_denoiser(tri, Q(3, 4) * R)
    with pytest.raises(LowNoiseError, match="3R/4"):  # between 3R/4 and side/2
        min_cost_denoiser(tri, Q(8, 10) * R)
    with pytest.raises(BallsOverlapError, match=r"side/2 = 1\.22474: the balls around"):
        min_cost_denoiser(tri, Q(9, 10) * R)
    half = 0.8660254037844386
    ftri = make_dataset("equilateral", [[1.0, 0.0], [-0.5, half], [-0.5, -half]])
    with pytest.raises(LowNoiseError, match="3R/4"):
        min_cost_denoiser(ftri, 0.8)
    with pytest.raises(BallsOverlapError, match=r"side/2 = 0\.866025: the balls around"):
        min_cost_denoiser(ftri, 0.9)


def test_closed_forms_exist_for_ridge_and_triangle_data_only():
    """Bad data for the closed forms: one line naming what was passed."""
    from theory.denoisers import check_low_noise
    from theory.errors import ArgumentTypeError, InputError
    with pytest.raises(ArgumentTypeError, match="must be a theory.datasets.Dataset .*got a list"):
        min_cost_denoiser([[0, 0], [1, 0]], 0.1)
    general = make_dataset("general", [[0, 0], [1, 0], [0, 1]])
    with pytest.raises(InputError, match="no closed-form min-cost denoiser for general data"):
        check_low_noise(general, 0.1)
