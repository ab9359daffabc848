"""Generic samplers (numerics.samplers), metrics (numerics.metrics) and the generic CLI path."""
import json

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from numerics.cli import main
from numerics.metrics import (count_within, distance_to_manifold, endpoint_classes,
                              nearest_neighbours, pham_classes)
from numerics.models import make_denoiser
from numerics.network import NetworkStack, ShallowNetwork, save_network
from numerics.samplers import (SamplerError, euler_sampler, heun_sampler, ivp_sampler,
                               score_flow)
from numerics.schedules import geometric_sigmas
from theory.datasets import from_json

#: Gaussian data N(0, S0^2 I): D(y, sigma) = y S0^2/(S0^2 + sigma^2) and the probability flow is
#: y(sigma) = y(sigma_max) sqrt((S0^2 + sigma^2)/(S0^2 + sigma_max^2)) (dy/dsigma = y sigma/(S0^2 +
#: sigma^2)).
S0 = 0.7
SMAX, SMIN = 5.0, 0.05


def gaussian_D(Y, sigma):
    return Y * S0 ** 2 / (S0 ** 2 + sigma ** 2)


def exact_flow(y0):
    return y0 * np.sqrt((S0 ** 2 + SMIN ** 2) / (S0 ** 2 + SMAX ** 2))


def observed_order(sampler):
    y0 = np.array([[1.0, -2.0], [0.3, 0.5]])
    Ks = (20, 40, 80, 160)
    err = [np.max(np.abs(sampler(gaussian_D, y0, geometric_sigmas(SMAX, SMIN, K + 1))
                         - exact_flow(y0))) for K in Ks]
    return np.polyfit(np.log(Ks), np.log(err), 1)[0]


def test_euler_is_first_order():
    # measured slope -1.00; the band [-1.15, -0.85] admits pre-asymptotic drift, not order 2
    assert -1.15 <= observed_order(euler_sampler) <= -0.85


def test_heun_is_second_order():
    # measured slope -2.02; the band [-2.2, -1.8] rules out order 1 and order 3
    assert -2.2 <= observed_order(heun_sampler) <= -1.8


def test_ivp_sampler_matches_exact_gaussian_flow():
    y0 = np.array([[1.0, -2.0], [0.3, 0.5]])
    got = ivp_sampler(gaussian_D, y0, [SMAX, SMIN])
    assert np.max(np.abs(got - exact_flow(y0))) <= 1e-7  # rtol 1e-8 on O(1) values


def test_batched_ivp_equals_per_point_solve_ivp():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((6, 2))
    D = make_denoiser("empirical", X)
    Y0 = 2.0 * rng.standard_normal((5, 2))
    smax, smin = 3.0, 0.05
    got = ivp_sampler(D, Y0, [smax, smin], rtol=1e-10, atol=1e-12)
    s_end = np.log(smax / smin)
    for y0, g in zip(Y0, got):
        sol = solve_ivp(lambda s, y: D(y, smax * np.exp(-s))[0] - y, (0, s_end), y0,
                        rtol=1e-10, atol=1e-12)
        # both at rtol 1e-10: agreement to ~1e-9 of the O(1) coordinates
        assert np.max(np.abs(sol.y[:, -1] - g)) <= 1e-8


def test_callback_and_grid_checks():
    seen = []
    euler_sampler(gaussian_D, np.ones((2, 2)), [1.0, 0.5, 0.1],
                  callback=lambda i, s, Y: seen.append((i, s, Y.shape)))
    assert seen == [(0, 0.5, (2, 2)), (1, 0.1, (2, 2))]
    with pytest.raises(SamplerError, match="decrease strictly"):
        heun_sampler(gaussian_D, np.ones(2), [0.1, 0.5])
    with pytest.raises(SamplerError, match="sigma_min > 0"):
        ivp_sampler(gaussian_D, np.ones(2), [1.0, 0.0])


def test_score_flow_fixed_sigma_reaches_training_point():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    D = make_denoiser("empirical", X)
    Y = score_flow(D, np.array([[0.2, 0.1], [0.9, 0.2]]), 0.1)
    assert np.max(np.abs(Y - X[[0, 1]])) <= 1e-6  # e^{-60} decay; D(x_m) = x_m + O(e^{-50})


def test_nearest_neighbours_true_distance_and_pham():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((40, 4))
    Y = rng.standard_normal((23, 4))
    idx, dist = nearest_neighbours(Y, X)
    brute = np.array([[np.sqrt(np.sum((y - x) ** 2)) for x in X] for y in Y])
    assert np.array_equal(idx, brute.argmin(axis=1))
    assert np.max(np.abs(dist - brute.min(axis=1))) <= 1e-14
    ids, ds = nearest_neighbours(X, X, exclude_self=True)
    assert np.all(ids != np.arange(40)) and np.all(ds > 0)
    # memorized: on a training point; spurious: two samples on one non-training point
    S = np.vstack([X[3] + 1e-4, [5.0, 5, 5, 5], [5.0, 5, 5, 5 + 1e-4], [-7.0, 0, 0, 0]])
    labels = pham_classes(S, X, S, delta_m=1e-3, delta_s=1e-3, self_in_reference=True)
    assert labels == ["memorized", "spurious", "spurious", "generalized"]
    assert list(count_within(S, S, 1e-3)) == [1, 2, 2, 1]


def test_manifold_distances_and_classes():
    seg = from_json({"kind": "general", "points": [[0, 0], [0.5, 0], [1, 0]]})
    Y = np.array([[0.25, 0.3], [1.5, 0.0], [0.5, 0.0]])
    assert np.allclose(distance_to_manifold(seg, Y), [0.3, 0.5, 0.0], atol=1e-15)
    assert endpoint_classes(seg, Y, 1e-6) == ["other", "other", "training"]
    orth = from_json({"kind": "orthogonal", "points": [[0, 0], [1, 0], [0, 1]]})
    assert np.allclose(distance_to_manifold(orth, [[0.5, 0.4]]), [0.4])
    gen = from_json({"kind": "general", "points": [[0, 0], [1, 0], [0, 1]]})
    assert distance_to_manifold(gen, [[0.5, 0.4]]) is None


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def files(tmp_path):
    seg = tmp_path / "seg.json"
    seg.write_text(json.dumps({"kind": "general", "points": [[0, 0], [0.5, 0], [1, 0]]}))
    orth = tmp_path / "orth.json"
    orth.write_text(json.dumps({"kind": "orthogonal", "points": [[0, 0], [1, 0], [0, 1]]}))
    return seg, orth, tmp_path


def test_cli_generic_probability_and_score(capsys, files):
    seg, orth, _ = files
    code, out, _ = run(capsys, "endpoint", "--data", str(seg), "--y0=0.6,0.2", "--flow",
                       "probability", "--denoiser", "empirical", "--sigma-max", "2",
                       "--sigma-min", "0.001", "--sampler", "euler", "--steps", "50", "--json")
    res = json.loads(out)
    assert code == 0 and res["nearest_training_point"] == 1 and res["steps"] == 50
    code, out, _ = run(capsys, "endpoint", "--data", str(orth), "--y0=0.3,0.2", "--flow", "score",
                       "--denoiser", "min-cost", "--c", "1", "--sigma", "0.2", "--json")
    res = json.loads(out)
    assert code == 0 and res["class"] == "training" and res["denoiser"]["c"] == 1.0


def test_cli_net_stack_runs_eq20_on_its_levels(capsys, files):
    _, orth, tmp = files
    ds = from_json(json.loads(orth.read_text()))
    nets = tuple(ShallowNetwork.from_closed_form(ds, 0.5 * s) for s in (0.8, 0.4, 0.2, 0.1))
    path = save_network(tmp / "stack", NetworkStack(np.array([0.8, 0.4, 0.2, 0.1]), nets,
                                                    {"data": ds.to_json()}))
    code, out, _ = run(capsys, "endpoint", "--data", str(orth), "--y0=0.3,0.2", "--flow",
                       "probability", "--net", str(path), "--json")
    res = json.loads(out)
    D = make_denoiser("min-cost", ds, c=0.5)
    ref = euler_sampler(D, np.array([0.3, 0.2]), [0.8, 0.4, 0.2, 0.1])
    assert code == 0 and res["steps"] == 3
    assert np.max(np.abs(np.array(res["endpoint"]) - ref)) <= 1e-12  # same function, float64


@pytest.mark.parametrize("extra,code,pattern", [
    (["--denoiser", "nope"], 2, "invalid choice"),
    (["--denoiser", "empirical", "--delta", "0.1", "--sigma-max", "1", "--sigma-min", "0.1"], 1,
     "does not take delta"),
    (["--denoiser", "smoothed", "--delta", "-1", "--sigma-max", "1", "--sigma-min", "0.1"], 1,
     "delta must be positive"),
    (["--denoiser", "regularized", "--eps", "inf", "--sigma-max", "1", "--sigma-min", "0.1"], 1,
     "eps is inf"),
    (["--denoiser", "empirical", "--sigma-max", "0.1", "--sigma-min", "1"], 1,
     "must be below sigma_max = 0.1"),
    (["--denoiser", "empirical", "--sigma-max", "1"], 2, "needs --sigma-min"),
    (["--denoiser", "empirical", "--sigma-max", "1", "--sigma-min", "0.1", "--rho", "0.1"], 2,
     "--rho belongs to the closed-form flows"),
    (["--net", "missing.npz", "--sigma-max", "1", "--sigma-min", "0.1"], 1, "cannot read"),
    (["--c", "1", "--sigma-max", "1", "--delta", "0.1"], 2, "needs --denoiser"),
])
def test_cli_bad_input_one_line(capsys, files, extra, code, pattern):
    seg, _, _ = files
    got, out, err = run(capsys, "endpoint", "--data", str(seg), "--y0=0.6,0.2", "--flow",
                        "probability", *extra)
    assert got == code and out == ""
    assert err.count("\n") == 1 and err.startswith("flows: error:") and pattern in err


@pytest.mark.parametrize("argv", [
    ["endpoint", "--y0=0.6,0.2", "--flow", "score", "--rho", "0.1"],
    ["classify", "--y=0.6,0.2"],
])
def test_cli_closed_form_commands_reject_general_data(capsys, files, argv):
    seg, _, _ = files
    code, out, err = run(capsys, argv[0], "--data", str(seg), *argv[1:])
    assert code == 1 and err.count("\n") == 1 and "not general data" in err
