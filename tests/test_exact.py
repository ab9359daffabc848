"""The exact integrators (numerics/exact.py): closed forms vs piecewise-affine integration,
invariance of the pieces under the probability flow, the fixed-kinks exit criterion, the
kink rule and the certified march (docs/math.md §4, §5 "Kink starts")."""
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from numerics import exact as ex
from numerics.evaluate import LINEAR, LOWER, UPPER, compile_denoiser
from proofs_check.strategies import low_noise_rhos, obtuse_simplices, orthogonal_datasets
from theory.closed_forms import reaches_vertex_fixed_kinks
from theory.pieces import MODELS

#: Two exact integrators in float64: differences are rounding, ~1e-15 r measured; 1e-11 r
#: leaves room for exponentials of the middle piece amplifying rounding (e^{(a-1) tau}).
EXACT_AGREE = 1e-11


def _points(cd, rng, n, spread=0.8):
    """Generic starts: projections spread over all pieces, plus an orthogonal component."""
    T = rng.uniform(-0.3, 1.3, size=(n, cd.N)) * cd.r
    Z = T @ np.linalg.pinv(cd.U @ cd.U.T) @ cd.U
    perp = rng.normal(size=(n, cd.d)) * spread * cd.r.max()
    perp -= perp @ np.linalg.pinv(cd.U) @ cd.U
    return cd.origin + Z + perp


@given(ds=orthogonal_datasets(min_N=1, max_N=4, extra_dims=2), model=st.sampled_from(MODELS),
       f=st.floats(0.05, 0.9), seed=st.integers(0, 2 ** 32 - 1))
def test_orthogonal_closed_forms_match_piecewise_affine(ds, model, f, seed):
    """Per-coordinate closed forms (lambdified theory.closed_forms) = eigendecomposition path."""
    assume(ds.d > ds.N)
    cd = compile_denoiser(ds, model)
    rho = f * float(min(cd.r)) / 2
    Y0 = _points(cd, np.random.default_rng(seed), 20)
    times = [0.3, 2.0, np.inf]
    Yc, sw = ex.orthogonal_score_flow(cd, Y0, rho, times)
    flow = ex.PiecewiseAffineScoreFlow(cd, rho)
    for k, tau in enumerate(times):
        run = flow.run(Y0, tau_end=tau)
        assert np.max(np.abs(run.Y - Yc[k])) <= EXACT_AGREE * cd.r.max()
    assert np.array_equal(run.switches, sw)


@given(ds=orthogonal_datasets(min_N=1, max_N=4, extra_dims=2),
       model=st.sampled_from(("exact", "taylor")), f=st.floats(0.05, 0.9),
       seed=st.integers(0, 2 ** 32 - 1))
def test_pieces_invariant_under_probability_flow(ds, model, f, seed):
    """docs/math.md §4: in the exact and taylor models every piece is invariant when
    rho(s) = rho0 e^-s."""
    cd = compile_denoiser(ds, model)
    rho0 = f * float(min(cd.r)) / 2
    Y0 = _points(cd, np.random.default_rng(seed), 30)
    T0 = cd.projections(Y0)
    P0 = cd.pieces(T0, rho0)
    # skip points within float noise of a kink (the kink convention decides those)
    p0 = cd.params(rho0)
    gap = np.minimum(np.abs(T0 - p0.k_lo), np.abs(T0 - p0.k_hi))
    keep = np.all(gap > 1e-9 * cd.r.max(), axis=1)
    assume(keep.any())
    s_grid = [0.1, 0.5, 1.0, 3.0, 10.0]
    Y, sw = ex.orthogonal_probability_flow(cd, Y0[keep], rho0, s_grid)
    assert sw.sum() == 0
    for k, s in enumerate(s_grid):
        P = cd.pieces(cd.projections(Y[k]), rho0 * np.exp(-s))
        assert np.array_equal(P, P0[keep])


@given(t0=st.floats(-0.2, 1.2), f=st.floats(0.02, 0.95))
def test_fixed_kinks_exit_matches_criterion(t0, f):
    """taylor-fixed-kinks: the middle piece reaches a vertex iff |t0 - r/2| e^{2 rho0/r} >= r/2."""
    from theory.datasets import OrthogonalDataset
    ds = OrthogonalDataset([[0.0, 0.0], [1.0, 0.0]])
    cd = compile_denoiser(ds, "taylor-fixed-kinks")
    rho0 = f / 2
    assume(0 < t0 < 1)
    margin = abs(t0 - 0.5) * np.exp(2 * rho0) - 0.5
    assume(abs(margin) > 1e-9)  # float evaluation decides the criterion away from equality
    Y, sw = ex.orthogonal_probability_flow(cd, np.array([[t0, 0.3]]), rho0, (np.inf,))
    reaches = bool(reaches_vertex_fixed_kinks(t0, 1, rho0))
    assert bool(sw[0]) == reaches
    end = Y[0, 0, 0]
    assert (min(abs(end), abs(end - 1)) < 1e-12) == reaches


@given(ds=obtuse_simplices(min_N=2, max_N=3, extra_dims=2), model=st.sampled_from(MODELS),
       data=st.data())
def test_obtuse_piecewise_affine_endpoints_are_fixed_points(ds, model, data):
    """The exact integrator's endpoint is a stationary point of the (held-piece) flow."""
    rho = float(data.draw(low_noise_rhos(ds, lo=0.05, hi=0.8)))
    cd = compile_denoiser(ds, model)
    Y0 = _points(cd, np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1))), 10)
    run = ex.PiecewiseAffineScoreFlow(cd, rho).run(Y0)
    assert np.all(np.isfinite(run.Y))
    # flat-piece units sit at their fixed value; no unit ends on a linear piece generically
    on_linear = np.any(run.codes == LINEAR, axis=1)
    D = cd.drift(run.Y[~on_linear], rho, ex.held_pieces(run.codes[~on_linear]))
    sliding = np.any(run.codes[~on_linear] >= ex.SLIDE_LO, axis=1)
    assert np.max(np.abs(D[~sliding]), initial=0.0) <= 1e-9 * cd.r.max()


@pytest.mark.parametrize("vb, va, flat_below, expected", [
    (1.0, 2.0, True, 1),     # both up: above
    (-1.0, -2.0, False, 0),  # both down: below
    (1.0, -1.0, True, 2),    # attracting from both sides: slide (Filippov)
    (-1.0, 1.0, True, 0),    # repelling: the flat piece (below at the lower kink)
    (-1.0, 1.0, False, 1),   # repelling at the upper kink: the flat piece above
    (0.0, -1.0, True, 0),    # tangential below, down above: flat
    (1e-15, -1e-15, True, 0),  # within the velocity tolerance: tangential, flat
])
def test_kink_transition(vb, va, flat_below, expected):
    assert int(ex.kink_transition(vb, va, flat_below, vtol=1e-12)) == expected


def test_start_on_kink_is_flat_piece():
    """docs/math.md §5: a start exactly on the kink rho (exact model) is on the lower piece."""
    from theory.datasets import OrthogonalDataset
    ds = OrthogonalDataset([[0.0, 0.0], [1.0, 0.0]])
    cd = compile_denoiser(ds, "exact")
    rho = 0.25
    y0 = np.array([[rho, 0.0]])
    assert cd.pieces(cd.projections(y0), rho)[0, 0] == LOWER
    Y, sw = ex.orthogonal_score_flow(cd, y0, rho, (1.0, np.inf))
    assert Y[0, 0, 0] == pytest.approx(rho * np.exp(-1.0), rel=1e-15)
    assert Y[1, 0, 0] == 0.0 and sw[0] == 0
    assert cd.pieces(np.array([[1 - rho]]), rho)[0, 0] == UPPER


def test_march_finds_first_of_two_close_crossings():
    """A dip that crosses the boundary and comes back: the march must return the first crossing
    (a sign-change bracket over the whole dip would miss both)."""
    lam = np.array([[-1.0, 0.5]])
    Cm = np.array([[[-1.0, 0.3]]])      # X(t) = 0.1 - (1 - e^-t) + 0.6 (e^{t/2} - 1)
    X0 = np.array([[0.1]])
    lo, hi = np.array([[0.0]]), np.array([[np.inf]])
    t = np.linspace(0, 3, 300001)
    X = 0.1 - (1 - np.exp(-t)) + 0.3 * np.expm1(0.5 * t) / 0.5
    first = t[np.argmax(X < 0)]
    assert np.any(X[np.argmax(X < 0):] > 0)  # the test function does come back
    tau, j = ex._march(X0, Cm, lam, np.zeros(lam.shape, bool), lo, hi, 1e-14,
                       np.array([np.inf]), 1e-12)
    assert j[0] == 0
    assert tau[0] == pytest.approx(first, abs=2e-5)  # grid resolution of the reference


def test_march_certifies_no_crossing():
    """Convergence to a fixed point exactly on the boundary is not a crossing."""
    tau, j = ex._march(np.array([[1.0]]), np.array([[[-1.0]]]), np.array([[-1.0]]),
                       np.zeros((1, 1), bool), np.array([[0.0]]), np.array([[np.inf]]), 1e-13,
                       np.array([np.inf]), 1e-11)
    assert np.isinf(tau[0]) and j[0] == -1
