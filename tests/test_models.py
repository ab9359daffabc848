"""The score models of numerics.models against independent formulas on small data."""
import json
import math

import numpy as np
import pytest
from scipy.integrate import quad

from numerics.evaluate import compile_denoiser
from numerics.models import (MODELS, ModelParameterError, UnknownModelError,
                             UnsupportedDataError, make_denoiser)
from numerics.network import NetworkStack, ShallowNetwork, save_network
from theory.datasets import from_json
from theory.errors import InputError, LowNoiseError, NonFiniteError

#: Agreement of two float64 evaluations of the same formula (sums of <= 10 terms of size 1).
FLOAT_TOL = 1e-12
#: Trapezoid rule of the smoothed model vs adaptive quadrature (scipy quad at epsabs 1e-13): the
#: rule converges geometrically; 1e-9 leaves three orders over the errors measured (<= 2e-11).
QUAD_TOL = 1e-9
#: The sigma -> 0 closed form used below sigma < spacing/4: error O((sigma^2/(spacing delta))^2)
#: relative to the spacing; measured 1e-6 at the cases below, 2e-5 bounds the regime.
LIMIT_TOL = 2e-5

rng = np.random.default_rng(20251)
X5 = rng.standard_normal((5, 3))
GENERAL = from_json({"kind": "general", "points": X5.tolist()})
LINE = np.zeros((6, 3))
LINE[:, 0] = np.linspace(0.0, 1.0, 6)
LINE[:, 1] = 0.3
SEGMENT = from_json({"kind": "general", "points": LINE.tolist()})
ORTH = from_json({"kind": "orthogonal", "points": [[0, 0, 0], [1, 0, 0], [0, 2, 0]]})


def direct_posterior_mean(X, y, sigma):
    w = np.array([math.exp(-np.sum((y - x) ** 2) / (2 * sigma ** 2)) for x in X])
    return (w[:, None] * X).sum(axis=0) / w.sum()


def test_empirical_is_posterior_mean_by_direct_summation():
    D = make_denoiser("empirical", GENERAL)
    Y = rng.standard_normal((7, 3))
    for sigma in (0.3, 1.0, 4.0):
        ref = np.array([direct_posterior_mean(X5, y, sigma) for y in Y])
        assert np.max(np.abs(D(Y, sigma) - ref)) <= FLOAT_TOL


def test_empirical_jacobian_matches_finite_differences():
    D = make_denoiser("empirical", GENERAL)
    y = rng.standard_normal(3)
    J = D.jacobian(y, 0.8)[0]
    h = 1e-6
    fd = np.array([(D(y + h * e, 0.8)[0] - D(y - h * e, 0.8)[0]) / (2 * h) for e in np.eye(3)]).T
    assert np.max(np.abs(J - fd)) <= 1e-7  # central differences: O(h^2) + rounding/h ~ 1e-9


def test_regularized_formula():
    eps = 0.2
    D = make_denoiser("regularized", GENERAL, eps=eps)
    Y = rng.standard_normal((4, 3))
    for sigma in (0.1, 1.0):
        var = sigma ** 2 + eps
        m = np.array([direct_posterior_mean(X5, y, math.sqrt(var)) for y in Y])
        assert np.max(np.abs(D(Y, sigma) - (Y + sigma ** 2 / var * (m - Y)))) <= FLOAT_TOL


def test_coarse_is_empirical_above_floor_and_frozen_score_below():
    sc = 0.5
    C = make_denoiser("coarse", GENERAL, sigma_c=sc)
    E = make_denoiser("empirical", GENERAL)
    Y = rng.standard_normal((6, 3))
    for sigma in (0.5, 0.9, 3.0):
        assert np.max(np.abs(C(Y, sigma) - E(Y, sigma))) <= FLOAT_TOL
    for sigma in (0.01, 0.2, 0.49):  # the score is the one at sigma_c
        assert np.max(np.abs(C.score(Y, sigma) - E.score(Y, sc))) <= 1e-9 * (1 + np.max(
            np.abs(E.score(Y, sc))))


def test_min_cost_adapter_is_compile_denoiser():
    for model in ("exact", "taylor", "taylor-fixed-kinks"):
        D = make_denoiser("min-cost", ORTH, c=0.5, model=model)
        Y = rng.standard_normal((9, 3))
        cd = compile_denoiser(ORTH, model)
        for sigma in (0.1, 0.7):
            assert np.array_equal(D(Y, sigma), cd.denoise(Y, 0.5 * sigma))
        assert np.array_equal(D.jacobian(Y, 0.7), cd.jacobian(Y, 0.35))


def test_min_cost_outside_low_noise_is_one_line():
    D = make_denoiser("min-cost", ORTH, c=1.0)
    with pytest.raises(LowNoiseError, match=r"rho = c sigma .* outside the low-noise regime"):
        D(np.zeros(3), 0.6)  # rho_max = min r / 2 = 0.5
    with pytest.raises(UnsupportedDataError, match="orthogonal, obtuse and equilateral"):
        make_denoiser("min-cost", GENERAL, c=1.0)


def direct_smoothed(sm, t, sigma, delta):
    def m(s):
        L = -(s - sm.t) ** 2 / (2 * sigma ** 2)
        p = np.exp(L - L.max())
        return p @ sm.t / p.sum()
    return quad(lambda z: m(t + delta * z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi),
                -12, 12, points=list((sm.mid - t) / delta), limit=500, epsabs=1e-13)[0]


@pytest.mark.parametrize("sigma,delta", [(0.5, 0.05), (0.1, 0.05), (0.03, 0.1), (0.01, 0.02)])
def test_smoothed_on_a_line_matches_direct_convolution(sigma, delta):
    sm = make_denoiser("smoothed", SEGMENT, delta=delta)
    assert sm.nodes(sigma) is not None
    ts = np.array([-0.3, 0.05, 0.37, 0.5, 0.93])
    Y = sm.xbar + ts[:, None] * sm.u + np.array([0.0, 0.4, -0.2])  # off-line offset drops out
    Y[:, :] -= np.outer((Y - sm.xbar) @ sm.u - ts, sm.u)
    got = (sm(Y, sigma) - sm.xbar) @ sm.u
    ref = np.array([direct_smoothed(sm, t, sigma, delta) for t in ts])
    assert np.max(np.abs(got - ref)) <= QUAD_TOL
    # D~ maps onto the data's line
    perp = sm(Y, sigma) - sm.xbar - np.outer((sm(Y, sigma) - sm.xbar) @ sm.u, sm.u)
    assert np.max(np.abs(perp)) <= FLOAT_TOL


def test_smoothed_low_noise_closed_form():
    sm = make_denoiser("smoothed", SEGMENT, delta=0.05)
    sigma = 0.004  # sigma < spacing/4 = 0.05 and the rule would need > MAX_NODES nodes
    assert sm.nodes(sigma) is None
    ts = np.linspace(-0.2, 1.2, 9)
    ref = np.array([direct_smoothed(sm, t, sigma, 0.05) for t in ts])
    assert np.max(np.abs(sm.g(ts, sigma) - ref)) <= LIMIT_TOL * sm.spacing


def test_smoothed_jacobian_matches_finite_differences():
    sm = make_denoiser("smoothed", SEGMENT, delta=0.1)
    y = np.array([0.33, 0.1, -0.2])
    h = 1e-6
    fd = np.array([(sm(y + h * e, 0.1)[0] - sm(y - h * e, 0.1)[0]) / (2 * h)
                   for e in np.eye(3)]).T
    assert np.max(np.abs(sm.jacobian(y, 0.1)[0] - fd)) <= 1e-6


def test_smoothed_needs_collinear_data():
    with pytest.raises(UnsupportedDataError, match="one line"):
        make_denoiser("smoothed", GENERAL, delta=0.1)


def tiny_net(seed, d=3, K=4):
    r = np.random.default_rng(seed)
    return ShallowNetwork(r.standard_normal((K, d)), r.standard_normal((K, d)),
                          r.standard_normal(K), r.standard_normal((d, d)), r.standard_normal(d))


def test_trained_adapter_is_the_network(tmp_path):
    nets = (tiny_net(1), tiny_net(2), tiny_net(3))
    stack = NetworkStack(np.array([1.0, 0.1, 0.01]), nets, {"data": ORTH.to_json(), "seed": 7})
    path = save_network(tmp_path / "net.npz", stack)
    D = make_denoiser("trained", ORTH, net=str(path))
    Y = rng.standard_normal((5, 3))
    for sigma, k in ((1.0, 0), (0.1, 1), (0.01, 2), (0.5, 0), (0.02, 2), (5.0, 0), (1e-4, 2)):
        assert np.array_equal(D(Y, sigma), nets[k](Y))
    assert np.array_equal(D.jacobian(Y, 0.1), nets[1].jacobian(Y))
    assert D.level_index(math.sqrt(0.1)) == 0  # tie in log-noise: the larger level
    single = make_denoiser("trained", ORTH, net=NetworkStack(np.array([0.2]), nets[:1],
                                                             {"data": ORTH.to_json()}))
    assert np.array_equal(single(Y, 3.0), nets[0](Y))
    other = from_json({"kind": "orthogonal", "points": [[0, 0, 0], [1, 0, 0], [0, 3, 0]]})
    with pytest.raises(InputError, match="trained on other data"):
        make_denoiser("trained", other, net=str(path))


@pytest.mark.parametrize("call,exc,pattern", [
    (lambda: make_denoiser("nope", GENERAL), UnknownModelError, "unknown score model 'nope'"),
    (lambda: make_denoiser("empirical", GENERAL, delta=0.1), ModelParameterError,
     "does not take delta"),
    (lambda: make_denoiser("smoothed", SEGMENT), ModelParameterError, "needs delta"),
    (lambda: make_denoiser("smoothed", SEGMENT, delta=0.0), ModelParameterError, "positive"),
    (lambda: make_denoiser("regularized", GENERAL, eps=-1), ModelParameterError, "positive"),
    (lambda: make_denoiser("coarse", GENERAL, sigma_c=float("inf")), NonFiniteError, "inf"),
    (lambda: make_denoiser("coarse", GENERAL, sigma_c="x"), ModelParameterError, "number"),
    (lambda: make_denoiser("empirical", GENERAL)(np.zeros(3), 0.0), ModelParameterError,
     "sigma must be positive"),
])
def test_bad_input_is_one_input_error_line(call, exc, pattern):
    with pytest.raises(exc, match=pattern) as info:
        call()
    assert isinstance(info.value, InputError) and "\n" not in str(info.value)


def test_every_model_records_name_and_params():
    assert set(MODELS) == {"min-cost", "empirical", "smoothed", "regularized", "coarse",
                           "trained"}
    D = make_denoiser("smoothed", SEGMENT, delta=0.1)
    assert D.describe() == {"name": "smoothed", "delta": 0.1}
    json.dumps(make_denoiser("min-cost", ORTH, c=0.3).describe())


def test_general_dataset_validation():
    with pytest.raises(InputError, match="coincide"):
        from_json({"kind": "general", "points": [[0, 1], [2, 3], [0, 1]]})
    with pytest.raises(InputError, match="finite"):
        from_json({"kind": "general", "points": [[0, float("nan")]]})
    with pytest.raises(InputError, match="point 1 has 1 coordinates"):
        from_json({"kind": "general", "points": [[0, 1], [2]]})
    ds = from_json({"kind": "general", "points": [[0, 1], [2, 3]]})
    assert ds.to_json() == {"kind": "general", "points": [[0.0, 1.0], [2.0, 3.0]]}
    assert float(ds.points[1][0]) == 2.0
