"""Closed-form min-cost denoisers (docs/math.md §2; eqs. 17, 36, 37): interpolation of every ball
(exact certificate and numeric sampling), Jacobians against finite differences, representation
cost against the network's unit and weight costs, network == expression."""
import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given
from hypothesis import strategies as st

from numerics.evaluate import LINEAR, LOWER, UPPER, compile_denoiser
from proofs_check.strategies import any_datasets, initial_points, low_noise_rhos
from theory import RHO, OrthogonalDataset, min_cost_denoiser, y_symbols

#: Absolute tolerance for float-data identities at data scale <= ~10: float64 projections and
#: rotations carry ~1e-15 relative error; the interpolation certificate's margins too.
FLOAT_ATOL = 1e-9
#: Exact values (with square roots) are compared by evaluating their difference to EXACT_DIGITS
#: significant digits: simplify() on nested Max/Piecewise of radicals is too slow for a property
#: test, and a nonzero difference of these O(1) algebraic numbers would be far above EXACT_ATOL.
EXACT_DIGITS, EXACT_ATOL = 50, 1e-40
#: Finite-difference step, relative to the largest r_n.
FD_STEP = 1e-6
#: Central differences of a piecewise-affine map are exact when no kink lies within one step;
#: the remaining error is float64 cancellation, ~1e-16 |h| / FD_STEP ~ 1e-9.
FD_TOL = 1e-7

PIECE_NAMES = {LOWER: "lower", LINEAR: "linear", UPPER: "upper"}


def _floats(v):
    return np.array([float(x) for x in v])


def _ball_samples(ds, rho, seed, per_ball=20):
    """Points of every ball ``B(x_m, rho)``: uniform in the ball, plus points on its sphere."""
    rng = np.random.default_rng(seed)
    out = []
    for x in ds.points:
        dirs = rng.normal(size=(per_ball, ds.d))
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        radii = float(rho) * rng.uniform(size=(per_ball, 1)) ** (1 / ds.d)
        radii[:3] = float(rho)  # the sphere itself: kinks belong to the flat pieces
        out.append((_floats(x), _floats(x) + radii * dirs))
    return out


def _resolve_abs(dn, x):
    """``|x|`` as ``x`` or ``-x`` when its sign is constant over the regime (symbolic rho)."""
    if dn.decide(x >= 0):
        return x
    if dn.decide(x <= 0):
        return -x
    return sp.Abs(x)


def _models(ds):
    return ["exact"] if ds.kind == "equilateral" else ["exact", "taylor"]


# -- interpolation -------------------------------------------------------------------------------
@given(st.data())
def test_interpolates_float(data):
    ds = data.draw(any_datasets(exact=False))
    rho = data.draw(low_noise_rhos(ds))
    for model in _models(ds):
        dn = min_cost_denoiser(ds, rho, model)
        assert dn.interpolates(tol=FLOAT_ATOL)
        compiled = compile_denoiser(ds, model)
        for x, Y in _ball_samples(ds, rho, data.draw(st.integers(0, 2 ** 32 - 1))):
            assert np.abs(compiled.denoise(Y, rho) - x).max() <= FLOAT_ATOL


@given(st.data())
def test_interpolates_exact(data):
    ds = data.draw(any_datasets(exact=True, max_N=3))
    rho = data.draw(low_noise_rhos(ds))
    for model in _models(ds):
        dn = min_cost_denoiser(ds, rho, model)
        assert dn.interpolates()  # tol = 0: exact certificate
        for x, Y in _ball_samples(ds, rho, data.draw(st.integers(0, 2 ** 32 - 1)), per_ball=8):
            assert np.abs(compile_denoiser(ds, model).denoise(Y, float(rho)) - x).max() <= FLOAT_ATOL


@pytest.mark.parametrize("ds", [
    OrthogonalDataset([[0, 0, 0], [2, 0, 0], [0, 3, 0]]),
    OrthogonalDataset([[1, 1], [4, 1], [1, sp.Rational(7, 2)]]),
], ids=["orthogonal", "orthogonal-apex"])
def test_interpolates_symbolic_rho(ds):
    """The certificate holds for every rho of the low-noise regime at once."""
    assert min_cost_denoiser(ds, RHO).interpolates()


def test_fixed_kinks_model_does_not_interpolate():
    """``taylor-fixed-kinks`` moves the kink to 0, inside B(x_0, rho): the certificate fails."""
    ds = OrthogonalDataset([[0, 0], [2, 0], [0, 3]])
    assert not min_cost_denoiser(ds, sp.Rational(1, 4), "taylor-fixed-kinks").interpolates()


# -- Jacobians ----------------------------------------------------------------------------------
@given(st.data())
def test_jacobian_matches_finite_differences(data):
    ds = data.draw(any_datasets(exact=data.draw(st.booleans()), max_N=4))
    rho = data.draw(low_noise_rhos(ds))
    model = data.draw(st.sampled_from(_models(ds)))
    dn = min_cost_denoiser(ds, rho, model)
    y = data.draw(initial_points(dn, where=data.draw(st.sampled_from(["generic", "midpoint"]))))
    compiled = compile_denoiser(ds, model)
    p = compiled.params(float(rho))
    T = compiled.projections(y)[0]
    step = FD_STEP * compiled.r.max()
    kink_distance = np.min(np.abs(np.concatenate([T - p.k_lo, T - p.k_hi])))
    assume(kink_distance > 10 * step)  # the step must not cross a kink
    fd = np.empty((ds.d, ds.d))
    for j in range(ds.d):
        e = np.zeros(ds.d)
        e[j] = step
        fd[:, j] = (compiled.denoise(y + e, rho)[0] - compiled.denoise(y - e, rho)[0]) / (2 * step)
    pattern = tuple(PIECE_NAMES[int(k)] for k in compiled.pieces(T[None, :], rho)[0])
    region = dn.region(pattern)
    J = np.array(region.jacobian().evalf(), dtype=float)
    assert np.abs(J - fd).max() <= FD_TOL
    assert np.abs(compiled.jacobian(y, rho)[0] - J).max() <= FD_TOL
    # on the region h is the affine map J y + b
    b = _floats(region.offset())
    assert np.abs(J @ y + b - compiled.denoise(y, rho)[0]).max() <= FLOAT_ATOL


def test_jacobian_is_derivative_of_expression():
    """Symbolic check on every region of a 2-D example: d expression / dy == region Jacobian."""
    ds = OrthogonalDataset([[1, 0], [4, 0], [1, 2]])
    dn = min_cost_denoiser(ds, sp.Rational(1, 4))
    y = sp.Matrix(y_symbols(2))
    h = dn.expression(y)
    for t1 in (sp.Rational(-1, 2), 1, 4):            # lower / linear / upper for r_1 = 3
        for t2 in (sp.Rational(-1, 2), 1, 3):        # lower / linear / upper for r_2 = 2
            point = {y[0]: 1 + t1, y[1]: t2}
            pattern = dn.pattern(sp.Matrix([1 + t1, t2]))
            assert h.jacobian(y).subs(point) == dn.region(pattern).jacobian()
            assert dn.jacobian(sp.Matrix([1 + t1, t2])) == h.jacobian(y).subs(point)


def test_score_is_tweedie_of_the_denoiser():
    """``score(y, sigma) = (h(y) - y)/sigma^2`` (eq. 10): symbolic by default (``y_1..y_d`` and a
    positive ``sigma``), at numbers equal to the float denoiser's (FLOAT_ATOL: float64 at data
    scale ~4, divided by sigma^2 = 1/4), and zero on every training point (h interpolates)."""
    ds = OrthogonalDataset([[1, 0], [4, 0], [1, 2]])
    rho, sigma = sp.Rational(1, 4), sp.Rational(1, 2)
    dn = min_cost_denoiser(ds, rho)
    y = sp.Matrix(y_symbols(2))
    s = sp.Symbol("sigma", positive=True)
    assert dn.score() == (dn.expression(y) - y) / s ** 2
    for point in ([2, 1], [sp.Rational(5, 2), sp.Rational(-1, 3)], [5, 3]):
        ref = (compile_denoiser(ds).denoise(_floats(point), float(rho))[0] - _floats(point)) / 0.25
        assert np.abs(_floats(dn.score(point, sigma)) - ref).max() <= FLOAT_ATOL
    for x in ds.points:
        assert dn.score(x, sigma) == sp.zeros(2, 1)


def test_unit_pieces_of_are_the_denoisers_units():
    """The units the integrators compile without validating rho are min_cost_denoiser's."""
    from theory.datasets import make_dataset
    from theory.denoisers import unit_pieces_of
    half = sp.Rational(1, 2)
    tri = make_dataset("equilateral", [[1, 0], [-half, sp.sqrt(3) / 2], [-half, -sp.sqrt(3) / 2]])
    orth = OrthogonalDataset([[1, 0], [4, 0], [1, 2]])
    for ds, models in ((orth, ("exact", "taylor", "taylor-fixed-kinks")), (tri, ("exact",))):
        for model in models:
            assert unit_pieces_of(ds, model, RHO) == list(min_cost_denoiser(ds, RHO, model).units)
    # and they are the response of each unit: kinks (rho, r - rho), (rho - R/2, R - rho)
    assert [(u.k_lo, u.k_hi) for u in unit_pieces_of(orth, "exact", RHO)] == [
        (RHO, 3 - RHO), (RHO, 2 - RHO)]
    assert unit_pieces_of(tri, "exact", RHO)[0].k_lo == RHO - half


# -- cost and network ---------------------------------------------------------------------------
@given(st.data())
def test_cost_formula_equals_network_costs(data):
    exact = data.draw(st.booleans())
    ds = data.draw(any_datasets(exact=exact, max_N=3))
    rho = data.draw(st.one_of(st.just(RHO), low_noise_rhos(ds))) if exact else data.draw(
        low_noise_rhos(ds))
    dn = min_cost_denoiser(ds, rho)
    net = dn.network()
    cost = dn.representation_cost()
    for other in (net.unit_cost(), net.balanced().weight_cost()):
        if exact:  # |a_k| = Abs(slope): resolve each sign over the whole regime first
            other = other.replace(sp.Abs, lambda x: _resolve_abs(dn, x))
            assert sp.simplify(cost - other) == 0
        else:
            assert abs(float(cost - other)) <= FLOAT_ATOL * float(cost)
    if not cost.free_symbols:  # unbalanced parameters cost at least as much (AM-GM)
        assert float(net.weight_cost()) >= float(cost) * (1 - FLOAT_ATOL)


@given(st.data())
def test_network_equals_expression(data):
    exact = data.draw(st.booleans())
    ds = data.draw(any_datasets(exact=exact, max_N=4))
    rho = data.draw(low_noise_rhos(ds))
    dn = min_cost_denoiser(ds, rho)
    net = dn.network()
    y = data.draw(initial_points(dn, where=data.draw(st.sampled_from(
        ["generic", "near_kink", "midpoint"])), min_offset=0))
    if exact:  # an exact rational point near y; exact values compared to EXACT_DIGITS digits
        y = sp.Matrix([sp.Rational(round(v * 1000), 1000) for v in y])
        ref = dn(y)
        for other in (net(y), dn.expression(y)):
            assert max(abs(e) for e in (other - ref).evalf(EXACT_DIGITS)) <= EXACT_ATOL
    else:
        ref = compile_denoiser(ds).denoise(y, rho)[0]
        assert np.abs(_floats(net(sp.Matrix(y))) - ref).max() <= FLOAT_ATOL
        assert np.abs(_floats(dn(sp.Matrix(y))) - ref).max() <= FLOAT_ATOL


@pytest.mark.parametrize("model", ["taylor", "taylor-fixed-kinks"])
def test_taylor_models_have_no_network(model):
    dn = min_cost_denoiser(OrthogonalDataset([[0, 0], [2, 0], [0, 3]]), 0.1, model)
    with pytest.raises(ValueError, match="not a ReLU network"):
        dn.network()
    with pytest.raises(ValueError, match="model='exact' only"):
        dn.representation_cost()
