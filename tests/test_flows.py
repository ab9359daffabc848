"""solve_ivp flows vs the exact integrators (numerics/flows.py; docs/math.md §3-§4).

Agreement tolerance: DOP853 at rtol 1e-10 / atol 1e-12 with kink events reaches ~1e-10 r
(measured max 1.3e-10 over the cases below; the middle piece amplifies the integration error by
``(r/2 - rho)/|t0 - r/2|``).  The target is ~1e-9.
"""
import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from numerics import exact as ex
from numerics import flows
from numerics.evaluate import compile_denoiser
from proofs_check.strategies import (equilateral_triangles, initial_points, low_noise_rhos,
                                     obtuse_simplices, orthogonal_datasets)
from theory.datasets import EquilateralTriangle, ObtuseSimplex, OrthogonalDataset
from theory.denoisers import min_cost_denoiser
from theory.errors import BallsOverlapError, NonFiniteError, ShapeError
from theory.pieces import MODELS

#: ivp vs exact agreement, relative to max r (see module docstring).
AGREE = 1e-9


def _scale(ds):
    return float(max(ds.r, key=float))


@given(ds=orthogonal_datasets(min_N=1, max_N=3, extra_dims=2), model=st.sampled_from(MODELS),
       data=st.data())
def test_score_flow_ivp_matches_closed_forms_rotated(ds, model, data):
    """Rotated orthogonal data, d > N, nonzero orthogonal component: ivp = closed forms."""
    assume(ds.d > ds.N)
    rho = float(data.draw(low_noise_rhos(ds, lo=0.05, hi=0.9)))
    y0 = data.draw(initial_points(min_cost_denoiser(ds, rho, model),
                                  where=data.draw(st.sampled_from(("generic", "near_kink")))))
    times = [0.0, 0.7, 3.0, np.inf]
    a = flows.score_flow(ds, y0, rho, model=model, method="exact", times=times)
    b = flows.score_flow(ds, y0, rho, model=model, method="ivp", times=times)
    assert np.max(np.abs(a.path - b.path)) <= AGREE * _scale(ds)
    assert np.max(np.abs(a.endpoint - b.endpoint)) <= AGREE * _scale(ds)


@given(ds=orthogonal_datasets(min_N=1, max_N=3, extra_dims=2), model=st.sampled_from(MODELS),
       data=st.data())
def test_probability_flow_ivp_matches_closed_forms_rotated(ds, model, data):
    assume(ds.d > ds.N)
    rho0 = float(data.draw(low_noise_rhos(ds, lo=0.05, hi=0.9)))
    sigma_max = data.draw(st.floats(0.5, 2.0))
    y0 = data.draw(initial_points(min_cost_denoiser(ds, rho0, model)))
    sigma_min = data.draw(st.sampled_from([0.0, 1e-3 * sigma_max]))
    kw = dict(c=rho0 / sigma_max, sigma_max=sigma_max, sigma_min=sigma_min, model=model)
    s_end = math.inf if sigma_min == 0 else math.log(sigma_max / sigma_min)
    times = [0.0, 0.5, 2.0, s_end]
    a = flows.probability_flow(ds, y0, method="exact", times=times, **kw)
    b = flows.probability_flow(ds, y0, method="ivp", times=times, **kw)
    assert np.max(np.abs(a.path - b.path)) <= AGREE * _scale(ds)
    assert np.max(np.abs(a.endpoint - b.endpoint)) <= AGREE * _scale(ds)


@given(ds=obtuse_simplices(min_N=2, max_N=3, extra_dims=2), model=st.sampled_from(MODELS),
       data=st.data())
def test_score_flow_ivp_matches_piecewise_affine_obtuse(ds, model, data):
    """Any ridge dataset: the exact piecewise-affine integrator = solve_ivp with kink events."""
    rho = float(data.draw(low_noise_rhos(ds, lo=0.05, hi=0.9)))
    y0 = data.draw(initial_points(min_cost_denoiser(ds, rho, model)))
    times = [0.0, 1.0, 4.0]
    a = flows.score_flow(ds, y0, rho, model=model, method="exact", times=times)
    b = flows.score_flow(ds, y0, rho, model=model, method="ivp", times=times)
    assert np.max(np.abs(a.path - b.path)) <= AGREE * _scale(ds)
    assert np.max(np.abs(a.endpoint - b.endpoint)) <= AGREE * _scale(ds)


@given(tri=equilateral_triangles(), data=st.data())
def test_score_flow_equilateral(tri, data):
    rho = float(data.draw(low_noise_rhos(tri, lo=0.05, hi=0.9)))
    y0 = data.draw(initial_points(min_cost_denoiser(tri, rho)))
    a = flows.score_flow(tri, y0, rho, method="exact", times=[0.0, 1.0])
    b = flows.score_flow(tri, y0, rho, method="ivp", times=[0.0, 1.0])
    assert np.max(np.abs(a.path - b.path)) <= AGREE * _scale(tri)
    assert np.max(np.abs(a.endpoint - b.endpoint)) <= AGREE * _scale(tri)


@given(ds=st.one_of(orthogonal_datasets(min_N=1, max_N=3), obtuse_simplices(min_N=2, max_N=3)),
       model=st.sampled_from(MODELS), data=st.data())
def test_original_time_matches_log_noise_time(ds, model, data):
    """eq. 11 in original time (EDM sigma = t, geometric) = eq. 12 in s = ln(sigma_max/sigma)."""
    rho0 = float(data.draw(low_noise_rhos(ds, lo=0.05, hi=0.9)))
    y0 = data.draw(initial_points(min_cost_denoiser(ds, rho0, model)))
    sigma_max = 1.5
    c = rho0 / sigma_max
    schedule = data.draw(st.sampled_from(("edm", "geometric")))
    sigma_min = 0.0 if schedule == "edm" and data.draw(st.booleans()) else 1e-3
    ref = flows.probability_flow(ds, y0, c=c, sigma_max=sigma_max, sigma_min=sigma_min,
                                 model=model, method="ivp", times=[0.0, 0.5, 2.0])
    if schedule == "edm":
        t_eval = [sigma_max, sigma_max * math.exp(-0.5), sigma_max * math.exp(-2.0)]
    else:
        L = math.log(sigma_max / sigma_min)
        t_eval = [0.0, 0.5 / L, 2.0 / L]
    got = flows.probability_flow_original_time(ds, y0, c=c, schedule=schedule,
                                               sigma_max=sigma_max, sigma_min=sigma_min,
                                               model=model, t_eval=t_eval)
    assert np.allclose(got.times, [0.0, 0.5, 2.0], rtol=1e-12, atol=1e-12)
    assert np.max(np.abs(got.path - ref.path)) <= AGREE * _scale(ds)
    assert np.max(np.abs(got.endpoint - ref.endpoint)) <= AGREE * _scale(ds)


def _sliding_case():
    """Obtuse data (Thm B.3 setting) where taylor-fixed-kinks pushes unit 2 onto its kink at 0:
    t_1 < rho r_1/(r_1 + 2 rho) makes unit 1's middle value negative."""
    ds = ObtuseSimplex([[0, 0, 0], [1, -0.4, 0], [-0.4, 1, 0]])
    cd = compile_denoiser(ds, "taylor-fixed-kinks")
    y0 = cd.origin + 0.03 * cd.U[0] / 1 + np.array([0, 0, 0.2])
    T = cd.projections(y0)[0]
    y0 = y0 + cd.U[1] * (-0.001 - T[1])  # unit 2 just below its kink
    return ds, cd, y0


def test_filippov_sliding_score_flow():
    """A unit pushed onto its kink from both sides slides (both integrators detect it) and the
    two integrators agree; without sliding the unit would chatter across the kink."""
    ds, cd, y0 = _sliding_case()
    rho = 0.2
    run = ex.PiecewiseAffineScoreFlow(cd, rho).run(y0[None], tau_end=0.5, record=True)
    codes = [seg[2].code for seg in run.segments[0]]
    assert any(c[1] >= ex.SLIDE_LO for c in codes), codes
    a = flows.score_flow(ds, y0, rho, model="taylor-fixed-kinks", method="exact",
                         times=[0.1, 0.3, 0.5])
    b = flows.score_flow(ds, y0, rho, model="taylor-fixed-kinks", method="ivp",
                         times=[0.1, 0.3, 0.5])
    assert np.max(np.abs(a.path - b.path)) <= AGREE
    # while sliding, unit 2 stays on its kink at 0
    T2 = cd.projections(b.path)[:, 1]
    assert np.max(np.abs(T2[1:])) <= 1e-9


def test_filippov_sliding_probability_flow_stays_on_kink():
    ds, cd, y0 = _sliding_case()
    res = flows.probability_flow(ds, y0, c=0.2, sigma_max=1.0, model="taylor-fixed-kinks",
                                 method="ivp", times=[0.0, 0.2, 0.5])
    assert res.kink_events >= 1
    assert np.max(np.abs(cd.projections(res.path[1:])[:, 1])) <= 1e-9


def test_batch_matches_single():
    ds = ObtuseSimplex([[0, 0, 0], [1.2, -0.3, 0.1], [-0.2, 1, 0.0]])
    rng = np.random.default_rng(0)
    Y0 = rng.normal(size=(6, 3)) * 0.6 + 0.4
    for model in MODELS:
        E = flows.score_flow_batch(ds, Y0, 0.15, model=model)
        S = np.array([flows.score_flow(ds, y, 0.15, model=model, method="ivp").endpoint for y in Y0])
        assert np.max(np.abs(E - S)) <= AGREE
    orth = OrthogonalDataset([[0, 0, 0], [1, 0, 0], [0, 2, 0]])
    E = flows.probability_flow_batch(orth, Y0, c=0.2, sigma_max=1.0, model="taylor")
    S = flows.probability_flow_batch(orth, Y0[:3], c=0.2, sigma_max=1.0, model="taylor",
                                     method="ivp")
    assert np.max(np.abs(E[:3] - S)) <= AGREE


# -- the vectorised batch integrator (numerics/batch_ivp.py) --------------------------------------
#: batch vs per-trajectory: both are DOP853 at rtol 1e-10 / atol 1e-12 with held pieces, but the
#: batch integrates the span coordinates only (the off-span part decays exactly), so the step
#: sequences differ and each carries its own ~1e-10 r error (measured max 2e-10); 1e-8 r leaves
#: a factor 50 for the middle piece's amplification of ``(r/2 - rho)/|t0 - r/2|``.
BATCH_AGREE = 1e-8


@st.composite
def _batch_cases(draw):
    kind = draw(st.sampled_from(("obtuse", "equilateral", "orthogonal")))
    ds = draw({"obtuse": obtuse_simplices(max_N=3, extra_dims=2),
               "equilateral": equilateral_triangles(max_d=3),
               "orthogonal": orthogonal_datasets(min_N=1, max_N=3, extra_dims=1)}[kind])
    model = "exact" if kind == "equilateral" else draw(st.sampled_from(MODELS))
    rho = float(draw(low_noise_rhos(ds, lo=0.05, hi=0.9)))
    dn = min_cost_denoiser(ds, rho, model)
    Y0 = np.array([draw(initial_points(dn, where=draw(st.sampled_from(("generic", "near_kink")))))
                   for _ in range(4)])
    return ds, model, rho, Y0


@given(case=_batch_cases(), flow=st.sampled_from(("score", "probability")))
def test_batch_ivp_matches_per_trajectory(case, flow):
    """``*_flow_batch(method="ivp")`` (one vectorised DOP853 for the whole batch) gives each
    point the endpoint of its own per-trajectory ``solve_ivp`` integration."""
    ds, model, rho, Y0 = case
    if flow == "score":
        B = flows.score_flow_batch(ds, Y0, rho, model=model, method="ivp")
        S = [flows.score_flow(ds, y, rho, model=model, method="ivp").endpoint for y in Y0]
    else:
        kw = dict(c=rho, sigma_max=1.0, model=model, method="ivp")
        B = flows.probability_flow_batch(ds, Y0, **kw)
        S = [flows.probability_flow(ds, y, **kw).endpoint for y in Y0]
    assert np.max(np.abs(B - np.array(S))) <= BATCH_AGREE * _scale(ds)


def test_batch_ivp_hands_sliding_points_to_the_per_trajectory_integrator():
    """A unit pushed onto its kink from both sides (Filippov) is not integrated by the batch:
    the point is handed over, and its endpoint is the per-trajectory one."""
    from numerics.batch_ivp import BatchFlow
    ds, cd, y0 = _sliding_case()
    out = BatchFlow(cd, 0.2, moving=False, rtol=1e-10, atol=1e-12).run(y0[None], 1e3, 0.2)
    assert out["status"][0] == "handoff"
    B = flows.score_flow_batch(ds, np.stack([y0, y0 + 0.5]), 0.2, model="taylor-fixed-kinks",
                               method="ivp")
    S = flows.score_flow(ds, y0, 0.2, model="taylor-fixed-kinks", method="ivp").endpoint
    assert np.max(np.abs(B[0] - S)) <= BATCH_AGREE


def test_kink_start_convention_taylor():
    """taylor model, probability flow from exactly the moving kink: the flat solution (rides the
    kink down to 0) is returned, not the middle-piece one."""
    ds = OrthogonalDataset([[0.0, 0.0], [1.0, 0.0]])
    rho0 = 0.2
    for method in ("exact", "ivp"):
        res = flows.probability_flow(ds, [rho0, 0.0], c=rho0, sigma_max=1.0, model="taylor",
                                     method=method)
        assert abs(res.endpoint[0]) <= 1e-12


# -- bad input ------------------------------------------------------------------------------
ORTH = OrthogonalDataset([[0, 0], [1, 0], [0, 1]])


@pytest.mark.parametrize("call, error", [
    (lambda: flows.score_flow(ORTH, [np.nan, 0], 0.1), NonFiniteError),
    (lambda: flows.score_flow(ORTH, [0, 0, 0], 0.1), ShapeError),
    (lambda: flows.score_flow(ORTH, [[0, 0], [1, 1]], 0.1), ShapeError),
    (lambda: flows.score_flow(ORTH, [0, 0], 0.6), BallsOverlapError),
    (lambda: flows.score_flow(ORTH, [0, 0], -0.1), ValueError),
    (lambda: flows.score_flow(ORTH, [0, 0], 0.1, method="rk4"), ValueError),
    (lambda: flows.score_flow(ORTH, [0, 0], 0.1, model="second-order"), ValueError),
    (lambda: flows.score_flow(ORTH, [0, 0], 0.1, times=[1.0, 0.5]), ValueError),
    (lambda: flows.probability_flow(ORTH, [0, 0], c=1.0, sigma_max=0.6), BallsOverlapError),
    (lambda: flows.probability_flow(ORTH, [0, 0], c=0.1, sigma_max=1, sigma_min=2), ValueError),
    (lambda: flows.probability_flow(ORTH, [0, 0], c=math.inf, sigma_max=1), NonFiniteError),
    (lambda: flows.probability_flow(
        ObtuseSimplex([[0, 0], [1, -0.2], [-0.2, 1]]), [0, 0], c=0.1, sigma_max=1), ValueError),
    (lambda: flows.probability_flow_original_time(ORTH, [0, 0], c=0.1, schedule="geometric",
                                                  sigma_max=1, sigma_min=0), ValueError),
    (lambda: flows.probability_flow_original_time(ORTH, [0, 0], c=0.1, schedule="cosine",
                                                  sigma_max=1), ValueError),
    (lambda: flows.score_flow(EquilateralTriangle([[0, 0], [1, 0], [0.5, math.sqrt(3) / 2]]),
                              [0, 0], 0.1, model="taylor"), ValueError),
])
def test_bad_input(call, error):
    with pytest.raises(error):
        call()
