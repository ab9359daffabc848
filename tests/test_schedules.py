"""Schedules and discrete samplers (numerics/schedules.py; paper eqs. 20-21, docs/math.md §3).

The order tests follow diffrax's ``test_ode_order``: fit ``log(error)`` against ``log(step)``
and require the slope of the method (1 for both Euler schemes)."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from numerics import exact as ex
from numerics import schedules as sch
from numerics.evaluate import compile_denoiser
from theory.datasets import ObtuseSimplex, OrthogonalDataset
from theory.errors import NonFiniteError, ShapeError

ORTH = OrthogonalDataset([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.5, 0.0]])
#: Band for the fitted convergence order: the error constants change slowly with the step, so
#: a first-order method fits 0.85-1.15 over a 16x range of steps (measured: 0.99-1.00).
ORDER_BAND = (0.85, 1.15)


def _order(steps, errors):
    return np.polyfit(np.log(steps), np.log(errors), 1)[0]


@pytest.mark.parametrize("model", ["exact", "taylor", "taylor-fixed-kinks"])
def test_euler_probability_flow_converges_first_order(model):
    """eq. 20 over geometric levels -> the exact probability flow (closed forms) at sigma_min.

    Taylor models: first order.  Exact model: eq. 20 is *exact* on orthogonal data (every piece's
    solution is affine in sigma, docs/math.md §4, and eq. 20 is exact for such solutions), so the
    error is rounding at every step count."""
    c, sigma_max, sigma_min = 0.2, 1.0, 1e-2
    cd = compile_denoiser(ORTH, model)
    # starts on the middle pieces, away from kinks, with an orthogonal component
    Y0 = np.array([[0.4, 0.9, 0.3], [0.62, 0.5, -0.2]])
    s_end = math.log(sigma_max / sigma_min)
    ref = ex.orthogonal_probability_flow(cd, Y0, c * sigma_max, (s_end,))[0][0]
    denoise_at = sch.closed_form_denoiser_at(ORTH, c, model)
    steps, errors = [], []
    for n in (200, 400, 800, 1600, 3200):
        out = sch.euler_probability_flow(denoise_at, sch.geometric_sigmas(sigma_max, sigma_min, n),
                                         Y0)
        steps.append(s_end / (n - 1))
        errors.append(np.max(np.abs(out - ref)))
    if model == "exact":
        assert max(errors) <= 1e-13, errors  # float64 rounding over <= 3200 steps
    else:
        slope = _order(steps, errors)
        assert ORDER_BAND[0] <= slope <= ORDER_BAND[1], (slope, errors)


def test_score_flow_iterations_converge_first_order():
    """eq. 21 with step eta and tau/eta steps -> the exact score flow at tau (obtuse data)."""
    ds = ObtuseSimplex([[0, 0, 0], [1, -0.2, 0], [-0.3, 1.2, 0.1]])
    cd = compile_denoiser(ds, "exact")
    rho, tau = 0.1, 1.0
    Y0 = np.array([[0.5, 0.45, 0.2]])
    ref = ex.PiecewiseAffineScoreFlow(cd, rho).run(Y0, tau_end=tau).Y
    steps, errors = [], []
    for n in (100, 200, 400, 800, 1600):
        out = sch.score_flow_iterations(lambda Y: cd.denoise(Y, rho), Y0, eta=tau / n, n_steps=n)
        steps.append(tau / n)
        errors.append(np.max(np.abs(out - ref)))
    slope = _order(steps, errors)
    assert ORDER_BAND[0] <= slope <= ORDER_BAND[1], (slope, errors)


def test_fixed_point_iteration_keeps_training_points_and_virtual_points():
    """eta = 1: a hyperbox vertex is a fixed point of y <- h(y) (Thm 4.2, Fig. 1)."""
    cd = compile_denoiser(ORTH, "exact")
    V = np.array([[0, 0, 0], [1, 0, 0], [0, 1.5, 0], [1, 1.5, 0]], dtype=float)
    out = sch.score_flow_iterations(lambda Y: cd.denoise(Y, 0.2), V + 0.05, n_steps=10)
    assert np.max(np.abs(out - V)) <= 1e-15


def test_last_level_zero_returns_denoiser():
    cd = compile_denoiser(ORTH, "exact")
    Y0 = np.array([[0.3, 1.2, 0.4]])
    out = sch.euler_probability_flow(lambda Y, s: cd.denoise(Y, 0.2), [1.0, 0.0], Y0)
    assert np.allclose(out, cd.denoise(Y0, 0.2), atol=1e-15)


@given(smax=st.floats(0.1, 50), ratio=st.floats(1e-6, 0.9), n=st.integers(2, 50))
def test_schedules(smax, ratio, n):
    smin = smax * ratio
    g = sch.geometric_sigmas(smax, smin, n)
    assert g[0] == pytest.approx(smax) and g[-1] == pytest.approx(smin)
    assert np.allclose(g[1:] / g[:-1], (smin / smax) ** (1 / (n - 1)), rtol=1e-10)
    e = sch.edm_sigmas(smax, smin, n)
    assert e[0] == pytest.approx(smax) and e[-1] == pytest.approx(smin)
    assert np.all(np.diff(e) < 0)
    for name in sch.SCHEDULES:
        S = sch.make_schedule(name, smax, smin)
        for s in (0.0, 0.3, math.log(smax / smin)):
            t = S.t_of_s(s)
            assert S.s_of_t(t) == pytest.approx(s, abs=1e-9)
            # ds/dt = -sigma'/sigma, checked by a central difference
            h = 1e-6 * (t if name == "edm" else 1.0)
            fd = (S.s_of_t(t + h) - S.s_of_t(t - h)) / (2 * h)
            assert S.ds_dt(t) == pytest.approx(fd, rel=1e-5)
    assert sch.edm_sigma(0.7) == 0.7


@pytest.mark.parametrize("call, error", [
    (lambda: sch.geometric_sigmas(1.0, 0.0, 10), ValueError),
    (lambda: sch.geometric_sigmas(1.0, 2.0, 10), ValueError),
    (lambda: sch.geometric_sigmas(1.0, 0.1, 1), ValueError),
    (lambda: sch.edm_sigmas(math.nan, 0.1, 10), NonFiniteError),
    (lambda: sch.make_schedule("cosine", 1.0, 0.1), ValueError),
    (lambda: sch.make_schedule("geometric", 1.0, 0.0), ValueError),
    (lambda: sch.euler_probability_flow(lambda Y, s: Y, [1.0, 2.0], [0.0]), ValueError),
    (lambda: sch.euler_probability_flow(lambda Y, s: Y, [1.0], [0.0]), ShapeError),
    (lambda: sch.euler_probability_flow(lambda Y, s: Y, [1.0, 0.5], [np.inf]), NonFiniteError),
    (lambda: sch.score_flow_iterations(lambda Y: Y, [0.0], eta=0.0), ValueError),
    (lambda: sch.score_flow_iterations(lambda Y: Y, [0.0], n_steps=-1), ValueError),
])
def test_bad_input(call, error):
    with pytest.raises(error):
        call()
