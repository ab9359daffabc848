"""numerics.premise and ``flows compare``: a network measured against the closed form."""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from numerics.cli import main
from numerics.experiments._data import equilateral_triangle, obtuse_triangle, orthonormal_dataset
from numerics.network import NetworkStack, ShallowNetwork, save_network
from numerics.premise import DEAD_RTOL, compare, compare_networks, unit_alignment

#: float64 tolerance on "zero" distances, angles (deg) and offsets: evaluation sums O(N) terms of
#: size O(r) with rounding 1.1e-16 each, and arctan2 of a rounding-sized sine is ~1e-14 deg.
ZERO = 1e-12
#: "cost ratio 1" for equal-cost parameterisations: a few roundings of O(1) sums.
RATIO_TOL = 1e-12
POINTS = 512  # sample points per region: a few milliseconds, enough to see any error
CASES = [(orthonormal_dataset(2), 0.2), (obtuse_triangle(), 0.2), (equilateral_triangle(), 0.3),
         (orthonormal_dataset(5), 0.15)]
IDS = ["orthogonal", "obtuse", "equilateral", "orthonormal-d5"]


def _split(net: ShallowNetwork) -> ShallowNetwork:
    """Each unit as two halves (a/2, w, b) twice: same function, other weight cost."""
    return ShallowNetwork(np.concatenate([net.A, net.A]) / 2, np.concatenate([net.W, net.W]),
                          np.concatenate([net.b, net.b]), net.V, net.c)


def _flip_to_skip(net: ShallowNetwork, k: int) -> ShallowNetwork:
    """[z]_+ = z + [-z]_+ : unit k moved into the skip connection plus a flipped unit."""
    A, W, b, V, c = (np.array(x, dtype=float) for x in (net.A, net.W, net.b, net.V, net.c))
    V += np.outer(A[k], W[k])
    c += A[k] * b[k]
    W[k], b[k] = -W[k], -b[k]
    return ShallowNetwork(A, W, b, V, c)


@pytest.mark.parametrize("ds, rho", CASES, ids=IDS)
def test_closed_form_network_is_exact(ds, rho):
    net = ShallowNetwork.from_closed_form(ds, rho).balanced()
    r = compare(net, ds, rho, n_points=POINTS)
    scale = r["scale_max_r"]
    for region in ("balls", "hull", "box"):
        assert r[f"sup_error_{region}"] <= ZERO * scale
    assert abs(r["cost_ratio"] - 1) <= RATIO_TOL
    assert abs(r["representation_cost_ratio"] - 1) <= RATIO_TOL
    assert r["boundary_angle_max_deg"] <= ZERO and r["boundary_offset_max"] <= ZERO * scale
    assert r["crossing_units"] == net.K and r["kinks_covered"] == r["kinks_total"]
    assert r["dead_units"] == 0 and r["duplicate_units"] == 0
    json.dumps(r, allow_nan=False)


@pytest.mark.parametrize("ds, rho", CASES[:3], ids=IDS[:3])
def test_reparameterisations(ds, rho):
    raw = ShallowNetwork.from_closed_form(ds, rho)  # a = k u, w = u: unbalanced when k != 1
    r = compare(raw, ds, rho, n_points=POINTS)
    assert r["sup_error_box"] <= ZERO and abs(r["representation_cost_ratio"] - 1) <= RATIO_TOL
    assert abs(r["cost_ratio"] - 1) > 1e-3
    split = _split(raw.balanced())
    r = compare(split, ds, rho, n_points=POINTS)
    assert r["sup_error_box"] <= ZERO and r["boundary_angle_max_deg"] <= ZERO
    assert abs(r["representation_cost_ratio"] - 1) <= RATIO_TOL
    assert abs(r["cost_ratio"] - 1) > 0.1  # 1/2(|a|^2/4 + |w|^2) twice = 5/4 of the balanced cost
    assert r["duplicate_units"] == raw.K and r["duplicate_fraction"] == 0.5
    skip = _flip_to_skip(raw.balanced(), 0)
    r = compare(skip, ds, rho, n_points=POINTS)
    assert r["sup_error_box"] <= ZERO and r["skip_norm"] > 0.1
    assert r["boundary_angle_max_deg"] <= ZERO and r["boundary_offset_max"] <= ZERO
    assert abs(r["representation_cost_ratio"] - 1) <= RATIO_TOL


@pytest.mark.parametrize("ds, rho", [CASES[1], CASES[2], CASES[3]], ids=IDS[1:])
def test_perturbation_angles_shrink(ds, rho):
    net = ShallowNetwork.from_closed_form(ds, rho).balanced()
    prev = None
    for eps in (3e-2, 3e-3, 3e-4):
        p = net.perturbed(np.random.default_rng(1), eps)
        r = compare(p, ds, rho, n_points=POINTS)
        assert r["boundary_angle_max_deg"] > 0 and r["boundary_offset_max"] > 0
        assert r["sup_error_box"] > 0
        if prev is not None:  # same noise direction, 10x smaller: angles and offsets ~10x smaller
            assert r["boundary_angle_max_deg"] < 0.2 * prev["boundary_angle_max_deg"]
            assert r["boundary_offset_max"] < 0.2 * prev["boundary_offset_max"]
            assert r["sup_error_box"] < 0.2 * prev["sup_error_box"]
        prev = r


def test_dead_units_detected():
    ds, rho = obtuse_triangle(), 0.2
    net = ShallowNetwork.from_closed_form(ds, rho).balanced()
    d = ds.d
    A = np.vstack([net.A, 1e-3 * DEAD_RTOL * np.ones((1, d)), np.ones((1, d))])
    W = np.vstack([net.W, np.ones((1, d)), np.ones((1, d))])
    b = np.concatenate([net.b, [0.0, -100.0]])  # weak unit; unit never active on the box
    r = compare(ShallowNetwork(A, W, b, net.V, net.c), ds, rho, n_points=POINTS)
    assert r["dead_units"] == 2 and r["crossing_units"] == net.K
    assert r["sup_error_box"] <= 1e-6  # the weak unit moves the function by < 1e-9 * |y|
    units = unit_alignment(ShallowNetwork(A, W, b, net.V, net.c), ds, rho)["units"]
    assert units[-2]["dead"] and not units[-1]["dead"]  # without samples: only the weak one


def test_compare_networks_distance():
    ds, rho = orthonormal_dataset(2), 0.2
    net = ShallowNetwork.from_closed_form(ds, rho).balanced()
    same = compare_networks(net, _split(net), ds, rho, n_points=POINTS)
    assert same["sup_error_box"] <= ZERO and abs(same["representation_cost_ratio"] - 1) <= ZERO
    other = net.perturbed(np.random.default_rng(0), 1e-2)
    diff = compare_networks(net, other, ds, rho, n_points=POINTS)
    assert diff["sup_error_box"] > 1e-3


def test_bad_input_is_one_line():
    ds = obtuse_triangle()
    net = ShallowNetwork.from_closed_form(orthonormal_dataset(3), 0.2)
    with pytest.raises(ValueError, match="dimension 3"):
        compare(net, ds, 0.2)
    with pytest.raises(ValueError, match="rho"):
        compare(ShallowNetwork.from_closed_form(ds, 0.2), ds, -1.0)


@pytest.fixture
def files(tmp_path):
    ds, rho = obtuse_triangle(), 0.2
    net = ShallowNetwork.from_closed_form(ds, rho).balanced()
    stack = NetworkStack(np.array([rho]), (net,), {"data": ds.to_json(), "rhos": [rho],
                                                     "protocol": "closed-form", "seed": 0})
    paths = {"net": save_network(tmp_path / "cf.npz", stack), "data": tmp_path / "obtuse.json",
             "other": tmp_path / "orth.json", "png": tmp_path / "cmp.png"}
    paths["data"].write_text(json.dumps(ds.to_json()))
    paths["other"].write_text(json.dumps(orthonormal_dataset(2).to_json()))
    return paths


def test_cli_compare(files, capsys):
    assert main(["compare", "--net", str(files["net"]), "--data", str(files["data"]), "--points",
                 "256", "--figure", str(files["png"]), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("sup_error_balls", "rms_error_box", "cost_ratio", "boundary_angle_max_deg"):
        assert key in out
    assert out["rho"] == 0.2 and out["sup_error_balls"] <= ZERO
    assert abs(out["cost_ratio"] - 1) <= RATIO_TOL and files["png"].stat().st_size > 10_000
    assert main(["compare", "--net", str(files["net"]), "--data", str(files["data"]),
                 "--points", "64"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[4].startswith("sup_error_balls:")


@pytest.mark.parametrize("which, match", [("data", "is not a network file"),
                                          ("other", "trained on other data")])
def test_cli_compare_rejects(files, capsys, which, match):
    net = files["data"] if which == "data" else files["net"]
    data = files["other"] if which == "other" else files["data"]
    assert main(["compare", "--net", str(net), "--data", str(data)]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and match in err and err.startswith("flows: error:")


# -- the training experiments (need the 'train' extra) -----------------------------------------------
# They run in a child process: once JAX is imported (it starts threads), any later test that forks a
# process pool gets JAX's os.fork() RuntimeWarning, which this suite turns into an error.
def _needs_training():
    for mod in ("jax", "optax", "training"):
        if importlib.util.find_spec(mod) is None:
            pytest.skip(f"{mod} not installed (the 'train' extra)")


def _experiment(name, out, *extra):
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "numerics.cli", "experiment", name, "--out",
                           str(out), "--no-progress", *extra], capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads((out / "results.json").read_text())


def test_quick_trained_virtual_stability_runs_and_reuses_its_net(tmp_path):
    _needs_training()
    res = _experiment("trained-virtual-stability", tmp_path, "--quick", "--seed", "1")
    assert res["experiment"] == "trained-virtual-stability" and res["seed"] == 1
    for m, row in res["closed_form"].items():  # Thm 4.2: every vertex is kept by eq. 17
        assert row["converged"] == row["total"]
        assert 0 <= res["trained"][m]["converged"] <= row["total"]
    assert res["paper"]["2"]["converged"] == 429 and res["hyperparameters"]
    assert not res["training"]["cached"] and res["training"]["report"]["seconds"] > 0
    assert (tmp_path / res["figures"][0]).stat().st_size > 10_000
    again = _experiment("trained-virtual-stability", tmp_path, "--quick", "--seed", "1")
    assert again["training"]["cached"] and again["trained"] == res["trained"]


def test_quick_sampling_relaxation_runs(tmp_path):
    _needs_training()
    res = _experiment("sampling-relaxation", tmp_path, "--quick")
    assert [r["M"] for r in res["rows"]] == [2, 8, 32, 2, 8]
    assert [r["case"] for r in res["rows"]] == ["d2"] * 3 + ["d30"] * 2
    assert all(r["cost_ratio"] > 0 and r["sup_error_balls_rel"] >= 0 for r in res["rows"])
    assert (tmp_path / "sampling_relaxation.png").stat().st_size > 10_000
