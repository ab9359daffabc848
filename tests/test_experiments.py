"""The experiments (numerics/experiments) in tiny configurations, and the empirical MMSE
denoiser (numerics/mmse.py, docs/math.md §6)."""
from __future__ import annotations

import importlib.util
import json
import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from numerics import experiments
from numerics.experiments._runtime import Progress, chunks, parallel_map
from numerics.mmse import MMSEDenoiser
from theory.errors import NonFiniteError, ShapeError

#: float64 round-off of a softmax-weighted average of O(1) points.
FLOAT_TOL = 1e-12


# -- MMSE denoiser ----------------------------------------------------------------------------------
@st.composite
def training_sets(draw):
    """2..6 distinct points in dimension 1..4 with coordinates in [-3, 3]."""
    d = draw(st.integers(1, 4))
    m = draw(st.integers(2, 6))
    X = np.array(draw(st.lists(st.lists(st.floats(-3, 3), min_size=d, max_size=d),
                               min_size=m, max_size=m)))
    D = np.linalg.norm(X[:, None] - X[None], axis=2) + np.eye(m)
    assume(D.min() > 0.1)
    return X


@given(training_sets(), st.integers(0, 2 ** 32 - 1))
def test_mmse_small_sigma_is_nearest_point(X, seed):
    """sigma -> 0: D_sigma(y) -> the nearest training point, for y with a clear nearest point."""
    rng = np.random.default_rng(seed)
    Y = rng.uniform(-4, 4, size=(20, X.shape[1]))
    D = np.sort(np.linalg.norm(Y[:, None] - X[None], axis=2), axis=1)
    keep = (D[:, 1] ** 2 - D[:, 0] ** 2) > 1e-2  # a unique nearest point, with a margin
    assume(keep.any())
    Y = Y[keep]
    den = MMSEDenoiser(X)
    # margin 1e-2 in squared distance at sigma = 1e-3 gives weight ratio exp(-5000): exactly 0
    np.testing.assert_allclose(den(Y, 1e-3), den.nearest_training_point(Y), atol=FLOAT_TOL)


@given(training_sets(), st.integers(0, 2 ** 32 - 1))
def test_mmse_large_sigma_is_mean(X, seed):
    """sigma -> inf: D_sigma(y) -> the training mean; the error is O(|y| spread / sigma^2)."""
    rng = np.random.default_rng(seed)
    Y = rng.uniform(-4, 4, size=(10, X.shape[1]))
    den = MMSEDenoiser(X)
    sigma = 1e4
    # softmax logits are O(|y||x|/sigma^2) ~ 1e-7 here, so weights are uniform to ~1e-7
    np.testing.assert_allclose(den(Y, sigma), np.broadcast_to(X.mean(axis=0), Y.shape),
                               atol=1e-6)
    np.testing.assert_allclose(den.mean(), X.mean(axis=0), atol=FLOAT_TOL)


@given(training_sets(), st.floats(0.05, 20.0))
def test_mmse_is_convex_combination_and_score_consistent(X, sigma):
    """Posterior rows sum to 1, D lies in the hull's bounding box, score = (D - y)/sigma^2."""
    rng = np.random.default_rng(0)
    Y = rng.normal(scale=3.0, size=(15, X.shape[1]))
    den = MMSEDenoiser(X)
    P = den.posterior(Y, sigma)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=FLOAT_TOL)
    Dy = den(Y, sigma)
    assert np.all(Dy >= X.min(axis=0) - FLOAT_TOL) and np.all(Dy <= X.max(axis=0) + FLOAT_TOL)
    np.testing.assert_allclose(den.score(Y, sigma), (Dy - Y) / sigma ** 2, rtol=1e-12, atol=0)


def test_mmse_matches_direct_softmax_and_is_stable():
    """Agrees with the textbook formula where that is finite, and stays finite far away."""
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    y = np.array([[0.3, 0.4]])
    sigma = 0.7
    w = np.exp(-np.sum((y - X) ** 2, axis=1) / (2 * sigma ** 2))
    np.testing.assert_allclose(MMSEDenoiser(X)(y, sigma)[0], w @ X / w.sum(), rtol=1e-13)
    far = np.array([[1e6, -1e6]])
    out = MMSEDenoiser(X)(far, 1e-3)  # naive exp underflows to 0/0 here
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out[0], [1.0, 0.0])  # the nearest point to (1e6, -1e6)


def test_mmse_weights_and_dataset_input():
    from numerics.experiments._data import orthonormal_dataset
    ds = orthonormal_dataset(3)
    den = MMSEDenoiser(ds)
    assert den.X.shape == (4, 3)  # apex x_0 included
    wden = MMSEDenoiser(den.X, weights=[0, 0, 1, 0])
    np.testing.assert_allclose(wden(np.ones((2, 3)), 5.0), [[0, 1, 0], [0, 1, 0]])


@pytest.mark.parametrize("sigma,err", [(0.0, ValueError), (-1.0, ValueError),
                                       (math.nan, NonFiniteError), (math.inf, NonFiniteError)])
def test_mmse_rejects_bad_sigma(sigma, err):
    with pytest.raises(err, match="sigma"):
        MMSEDenoiser(np.eye(2))(np.zeros((1, 2)), sigma)


def test_mmse_rejects_bad_input():
    with pytest.raises(ShapeError):
        MMSEDenoiser(np.zeros(3))
    with pytest.raises(NonFiniteError):
        MMSEDenoiser(np.array([[0.0, np.nan]]))
    with pytest.raises(ShapeError):
        MMSEDenoiser(np.eye(2))(np.zeros((1, 3)), 1.0)
    with pytest.raises(ValueError, match="weights"):
        MMSEDenoiser(np.eye(2), weights=[-1, 2])


# -- runtime machinery ------------------------------------------------------------------------------
def _square(x):
    return x * x


@pytest.mark.parametrize("workers", [1, 2])
def test_parallel_map_keeps_order(workers):
    assert parallel_map(_square, range(7), workers=workers, progress=False) == [
        x * x for x in range(7)]


def test_parallel_map_rejects_bad_workers():
    with pytest.raises(ValueError, match="workers"):
        parallel_map(_square, [1], workers=0, progress=False)


def test_chunks_cover_range():
    for n, k in [(10, 3), (5, 8), (1, 1), (500, 8)]:
        cs = chunks(n, k)
        assert cs[0][0] == 0 and cs[-1][1] == n
        assert all(a < b for a, b in cs) and all(b == a2 for (_, b), (a2, _) in zip(cs, cs[1:]))


def test_progress_prints_to_stream():
    import io
    buf = io.StringIO()
    with Progress(4, "demo", stream=buf, interval=0.0) as bar:
        for _ in range(4):
            bar.update()
    assert "demo" in buf.getvalue() and "4/4" in buf.getvalue()


@pytest.mark.skipif(importlib.util.find_spec("distributed") is None,
                    reason="dask.distributed not installed (optional extra 'dask')")
def test_parallel_map_dask_local_cluster():
    from dask.distributed import LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        out = parallel_map(_square, range(6), scheduler=cluster.scheduler_address,
                           progress=False)
    assert out == [x * x for x in range(6)]


# -- experiments in tiny configurations -------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(set(experiments.EXPERIMENTS) - experiments.TRAINED))
def test_experiment_quick_run_writes_json_and_png(name, tmp_path):
    res = experiments.run(name, tmp_path, quick=True, seed=3, progress=False, workers=1)
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["experiment"] == name and data["seed"] == 3
    assert res["figures"] and all((tmp_path / f).stat().st_size > 10_000 for f in res["figures"])
    assert all(f.endswith(".png") for f in res["figures"])


def test_virtual_stability_exact_denoiser_keeps_every_vertex(tmp_path):
    """Thm 4.2: every partial sum is a fixed point of the exact denoiser -> 100 %; a perturbed
    network loses higher-order sums at least as fast (in expectation; here on one draw with a
    perturbation large enough to matter)."""
    res = experiments.run("virtual-stability", tmp_path, quick=True, progress=False, workers=1,
                          perturbation=0.03)
    for m, row in res["exact"].items():
        assert row["converged"] == row["total"] == math.comb(8, int(m))
    frac = [res["perturbed"][m]["fraction"] for m in ("2", "3", "4")]
    assert frac[0] >= frac[2] and frac[0] < 1.0


def test_endpoints_score_limit_is_all_vertices(tmp_path):
    """Thm 4.3 (i): the exact score-flow limit is a hyperbox vertex from every Gaussian start."""
    res = experiments.run("endpoints", tmp_path, quick=True, progress=False, workers=1)
    fr = res["score_flow"]["limit"]["l2"][str(res["parameters"]["threshold"])]
    assert fr["training"] + fr["virtual"] == pytest.approx(1.0)


def test_early_stopping_map_agrees_with_thm_4_4(tmp_path):
    res = experiments.run("early-stopping-map", tmp_path, quick=True, progress=False, workers=1)
    for key, a in res["thm_4_4_agreement"].items():
        assert a["agree"] == a["points"], key


def test_unknown_experiment():
    with pytest.raises(ValueError, match="unknown experiment"):
        experiments.get("nope")


def test_cli_experiment_command(tmp_path):
    from numerics.cli import main
    out = tmp_path / "ts"
    assert main(["experiment", "taylor-vs-exact", "--out", str(out), "--quick", "--workers", "1",
                 "--no-progress", "--json"]) == 0
    assert (out / "results.json").exists() and (out / "taylor_vs_exact.png").exists()


# -- steering from the command line ---------------------------------------------------------------
@pytest.mark.parametrize("name", list(experiments.EXPERIMENTS))
def test_experiment_help_lists_every_parameter_with_default(name, capsys):
    from numerics.cli import main
    from numerics.experiments.parameters import parameters, show
    with pytest.raises(SystemExit) as exc:
        main(["experiment", name, "--help"])
    assert exc.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for opt in ("--out", "--seed", "--quick", "--workers", "--scheduler"):
        assert opt in text
    prms = parameters(experiments.get(name))
    assert prms, f"{name} declares no PARAMETERS"
    for prm in prms:
        assert prm.option in text, prm.option
        shown = "none" if prm.default is None else show(prm.default)
        assert f"default: {shown}" in text, prm.name


def test_experiment_override_beats_quick_and_summary_is_printed(tmp_path, capsys):
    from numerics.cli import main
    out = tmp_path / "ep"
    assert main(["experiment", "endpoints", "--out", str(out), "--quick", "--n-points", "10",
                 "--c-fractions", "0.3,0.9", "--workers", "1", "--no-progress"]) == 0
    text = capsys.readouterr().out
    p = json.loads((out / "results.json").read_text())["parameters"]
    assert p["n_points"] == 10 and p["c_fractions"] == [0.3, 0.9]
    assert p["N"] == experiments.QUICK["endpoints"]["N"]  # the other quick sizes still apply
    assert "summary:" in text and "score flow, limit: training" in text
    assert "Thm 4.4 predicts" in text


def test_experiment_sequence_option_and_json_summary(tmp_path, capsys):
    from numerics.cli import main
    out = tmp_path / "ns"
    assert main(["experiment", "n-sweep", "--out", str(out), "--quick", "--Ns", "4,2",
                 "--workers", "1", "--no-progress", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["options"] == {"Ns": [4, 2]}
    assert any(line.startswith("N = 2: training") for line in res["summary"])
    assert set(json.loads((out / "results.json").read_text())["by_N"]) == {"4", "2"}


def test_experiment_bad_option_value_is_a_usage_error(tmp_path, capsys):
    from numerics.cli import main
    assert main(["experiment", "n-sweep", "--out", str(tmp_path), "--Ns", "4,x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--Ns" in err and "integers" in err


def test_experiment_without_parameters_table_gets_common_options(tmp_path, monkeypatch, capsys):
    """A module with only ``run`` (no PARAMETERS, no summary) still runs from the CLI."""
    import sys
    import types

    from numerics.cli import main
    mod = types.ModuleType("numerics.experiments._bare")
    mod.__doc__ = "A bare experiment."

    def run(out_dir, *, seed=0, size=3, progress=True, workers=None, scheduler=None):
        from numerics.experiments._runtime import write_results
        write_results(out_dir, "bare", {"seed": seed, "size": size})
        return {"figures": []}

    mod.run = run
    monkeypatch.setitem(sys.modules, mod.__name__, mod)
    monkeypatch.setitem(experiments.EXPERIMENTS, "bare", "_bare")
    assert main(["experiment", "bare", "--out", str(tmp_path), "--seed", "5", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["summary"] == [] and json.loads((tmp_path / "results.json").read_text())["seed"] == 5
    assert main(["experiment", "bare", "--out", str(tmp_path), "--size", "4"]) == 2


def test_endpoints_below_c0_matches_thm_4_4(tmp_path):
    """Same switch state, varying c: the exact flows end off the vertices exactly for the samples
    with c < c_0(y) (Thm 4.4), so the tight-threshold share equals the predicted one."""
    res = experiments.run("endpoints", tmp_path, quick=True, progress=False, workers=1)
    rows = res["below_c0"]["rows"]
    for row in rows:
        assert row["vertex_share_tight"] == pytest.approx(row["predicted_vertex_share"])
    off = [1 - row["vertex_share_tight"] for row in rows]
    assert off == sorted(off, reverse=True) and off[0] > off[-1]  # grows as c falls


def test_parameters_table_must_name_run_keywords():
    import types

    from numerics.experiments.parameters import int_list, number_list, parameters
    mod = types.ModuleType("fake")
    mod.run = lambda out_dir, *, seed=0, Ns=(3, 2): None
    mod.PARAMETERS = {"Ns": (int_list, "sizes"), "oops": (int, "not a keyword")}
    with pytest.raises(TypeError, match="oops"):
        parameters(mod)
    assert number_list("sqrt(d)")("0.5, sqrt(d)") == (0.5, "sqrt(d)")


def test_json_flag_before_the_experiment_name(tmp_path, capsys):
    from numerics.cli import main
    assert main(["experiment", "--json", "score-fields", "--out", str(tmp_path), "--quick",
                 "--no-progress", "--n-grid", "5"]) == 0
    assert json.loads(capsys.readouterr().out)["options"] == {"n_grid": 5}
