"""The trained Fig. 2 experiments (numerics/experiments/_fig2.py and the five experiments on it):
their NumPy parts with closed-form stand-ins, the nearest-neighbour metrics against brute force,
the claim and trend rules, and the five ``--quick`` runs (JAX, in child processes)."""
from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from numerics import metrics
from numerics.classify import CLASSES
from numerics.experiments import _fig2
from numerics.experiments._data import orthonormal_dataset
from numerics.experiments.augmented_hyperbox import augmented_dataset, table_rows
from numerics.experiments.memorization_metrics import cross_table
from numerics.experiments.training_protocols import claims
from numerics.experiments.trained_n_sweep import trend
from numerics.geometry import distance_to_boundary
from numerics.metrics import count_within, nearest_neighbours, pham_classes
from numerics.network import NetworkStack, ShallowNetwork

#: float64 round-off of O(1) coordinates after a few dozen O(1) operations.
FLOAT_TOL = 1e-12


# -- levels, starts, reference --------------------------------------------------------------------
@pytest.mark.parametrize("c, n_out, n_in", [(1.0, 20, 20), (0.5, 3, 7), (2.0, 1, 1)])
def test_stack_levels_split_at_the_low_noise_edge(c, n_out, n_in):
    ds = orthonormal_dataset(5)
    lv = _fig2.stack_levels(ds, c=c, sigma_max=10.0, n_outside=n_out, n_inside=n_in)
    inside = _fig2.inside_mask(ds, lv, c)
    assert len(lv) == n_out + n_in and inside.sum() == n_in and not inside[:n_out].any()
    assert np.all(np.diff(lv) < 0) and lv[0] == 10.0
    assert np.all(c * lv[~inside] >= 0.5) and np.all(c * lv[inside] < 0.5)
    for part in (lv[~inside], lv[inside]):  # equally spaced within each regime
        if len(part) > 2:
            assert np.ptp(np.diff(part)) <= FLOAT_TOL * part[0]
    assert _fig2.flow_grid(lv)[-1] == 0.0 and len(_fig2.flow_grid(lv)) == len(lv) + 1


def test_stack_levels_reject_bad_input():
    ds = orthonormal_dataset(3)
    with pytest.raises(ValueError, match="sigma_max"):
        _fig2.stack_levels(ds, c=1.0, sigma_max=0.3, n_outside=2, n_inside=2)
    with pytest.raises(ValueError, match="n_inside"):
        _fig2.stack_levels(ds, c=1.0, sigma_max=5, n_outside=2, n_inside=0)


def test_starts_are_those_of_the_analytic_endpoints():
    Y0 = _fig2.initial_points(7, 50, 6, 10.0)
    assert np.array_equal(Y0, 10.0 * np.random.default_rng(7).standard_normal((50, 6)))


def _closed_form_stack(ds, levels, c):
    """A stack whose level i is the closed form h_{c sigma_i} (levels inside the regime only)."""
    nets = tuple(ShallowNetwork.from_closed_form(ds, c * s) for s in levels)
    meta = {"data": ds.to_json(), "sigmas": list(levels), "rhos": [c * s for s in levels],
            "noise": "ball", "samples": 6, "seed": 3,
            "hyperparameters": {"include_centre": True, "boundary_samples": 2}}
    return NetworkStack(np.asarray(levels), nets, meta)


def test_stack_al_schedule_has_no_continuation():
    """A stack's al budget (30 outer iterations) runs eqs. 24-26 at mu = 100 from the start:
    the default continuation would still be raising mu when the budget ends."""
    from training import DEFAULTS
    b = _fig2.budget("al")
    assert b["mu_start"] == DEFAULTS["al"]["mu"] and b["recycle"] == 0 and b["lr_decay"] == 0.9
    assert b["outer_steps"] == 30 and b["inner_steps"] == 200
    assert DEFAULTS["al"]["mu"] / DEFAULTS["al"]["mu_start"] > \
        DEFAULTS["al"]["mu_growth"] ** b["outer_steps"]
    assert _fig2.budget("al", hyper={"mu": 10.0})["mu_start"] == 10.0
    assert _fig2.budget("al", hyper={"mu": 10.0, "mu_start": 1.0})["mu_start"] == 1.0
    assert "mu_start" not in _fig2.budget("adam")
    cont = _fig2.budget("al", outer_steps=150, inner_steps=1000, schedule="continuation")
    assert cont == {"outer_steps": 150, "inner_steps": 1000}  # flows train's schedule
    with pytest.raises(ValueError, match="schedule"):
        _fig2.budget("al", schedule="warm")


def test_euler_over_a_stack_uses_each_level_once():
    """A stack of closed-form nets gives the reference flow's endpoints (eq. 20, same grid)."""
    ds, c = orthonormal_dataset(4), 1.0
    lv = _fig2.stack_levels(ds, c=c, sigma_max=2.0, n_outside=1, n_inside=6)[1:]
    stack = _closed_form_stack(ds, lv, c)
    Y0 = _fig2.initial_points(0, 30, 4, 2.0)
    ends, speed = _fig2.probability_endpoints(stack, Y0, ds, c)
    assert np.max(np.abs(ends["trained"] - ends["closed_form"])) <= FLOAT_TOL
    assert speed["levels"] == 6 and speed["points_per_second"] > 0
    # the last step returns h(y): every endpoint lies in the hyperbox [0, 1]^N
    assert np.all(ends["trained"] >= -FLOAT_TOL) and np.all(ends["trained"] <= 1 + FLOAT_TOL)


def test_reference_denoiser_switches_at_the_edge():
    from numerics.evaluate import compile_denoiser
    from numerics.mmse import MMSEDenoiser
    ds = orthonormal_dataset(3)
    D = _fig2.reference_denoiser(ds, 2.0)
    Y = np.random.default_rng(1).uniform(-1, 2, (10, 3))
    assert np.array_equal(D(Y, 0.2), compile_denoiser(ds).denoise(Y, 0.4))
    assert np.array_equal(D(Y, 0.25), MMSEDenoiser(ds)(Y, 0.25))  # c sigma = 1/2: outside


def test_training_losses_regenerate_the_training_samples():
    """The closed form interpolates its balls, so its MSE on the regenerated ball samples is 0;
    a shifted net's MSE is the shift squared, on every sample."""
    ds, c = orthonormal_dataset(3), 1.0
    lv = [0.3, 0.2, 0.1]
    stack = _closed_form_stack(ds, lv, c)
    assert max(_fig2.training_losses(stack, ds)) <= FLOAT_TOL
    assert max(_fig2.training_losses(stack, ds, _fig2.reference_denoiser(ds, c))) <= FLOAT_TOL
    shift = 0.01
    moved = NetworkStack(stack.sigmas, tuple(ShallowNetwork(n.A, n.W, n.b, n.V, n.c + shift)
                                             for n in stack.networks), stack.metadata)
    for loss in _fig2.training_losses(moved, ds):
        assert abs(loss - 3 * shift ** 2) <= FLOAT_TOL


def test_labels_and_fractions_count_non_finite_rows_as_other():
    ds = orthonormal_dataset(3)
    Y = np.array([[1, 0, 0], [1, 1, 0], [0.5, 0, 0], [0.5, 0.5, 0.5], [np.inf, 0, 0.0]])
    assert _fig2.labels(ds, Y, 0.1) == ["training", "virtual", "boundary", "other", "other"]
    fr = _fig2.fractions(ds, Y, [0.01, 0.1])
    assert fr["diverged"] == 0.2
    for norm in ("l2", "linf"):
        for t in ("0.01", "0.1"):
            assert abs(sum(fr[norm][t].values()) - 1) <= FLOAT_TOL


def test_score_level_is_the_inside_level_nearest_rho_score():
    ds = orthonormal_dataset(3)
    lv = _fig2.stack_levels(ds, c=1.0, sigma_max=5, n_outside=3, n_inside=5)
    s = _fig2.score_level(lv, ds, 1.0, 0.1)
    inside = lv[_fig2.inside_mask(ds, lv, 1.0)]
    assert s in inside and all(abs(math.log(s / 0.1)) <= abs(math.log(x / 0.1)) for x in inside)


# -- App. G: augmented set ------------------------------------------------------------------------
def test_augmented_points_lie_on_the_boundary_far_from_vertices():
    N, low = 6, 0.25
    ds = augmented_dataset(N, N, 9, low=low, high=0.75, seed=2)
    Z = np.asarray(ds.array)[N + 1:]
    assert Z.shape == (9, N) and ds.kind == "general"
    base = orthonormal_dataset(N)
    assert np.max(distance_to_boundary(base, Z)) <= FLOAT_TOL
    V = np.array([[float(b) for b in np.binary_repr(k, N)] for k in range(2 ** N)])
    gap = np.min(np.linalg.norm(Z[:, None] - V[None], axis=2))
    assert gap >= low * math.sqrt(N - 1) - FLOAT_TOL
    again = augmented_dataset(N, N, 9, low=low, high=0.75, seed=2)
    assert np.array_equal(again.array, ds.array)


def test_table_rows_of_app_g():
    base = orthonormal_dataset(3)
    Z = np.array([[0.5, 0.5, 1.0]])
    Y = np.array([[1, 0, 0], [1, 1, 0], [0.5, 0.5, 1.0], [0.3, 0, 0.6], [0.5, 0.5, 0.5],
                  [np.nan, 0, 0]])
    r = table_rows(base, Y, Z, 0.05)
    assert r["hyperbox boundary"] == 4 / 6 and r["orthogonal training points"] == 1 / 6
    assert r["original virtual points"] == 1 / 6 and r["augmented points"] == 1 / 6
    assert r["boundary only"] == 1 / 6 and r["diverged"] == 1 / 6
    assert r["off the hyperbox boundary"] == 2 / 6


# -- App. I: nearest neighbours, Pham classes -----------------------------------------------------
@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_nearest_neighbours_are_true_distances_in_blocks(norm, monkeypatch):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((37, 5))
    Y = rng.standard_normal((29, 5))
    brute = np.array([[np.linalg.norm(y - x, ord=2 if norm == "l2" else np.inf) for x in X]
                      for y in Y])
    monkeypatch.setattr(metrics, "BLOCK", 5 * 37 * 3)  # three rows per block: ten blocks
    idx, dist = nearest_neighbours(Y, X, norm=norm)
    assert np.array_equal(idx, brute.argmin(axis=1))
    assert np.max(np.abs(dist - brute.min(axis=1))) <= FLOAT_TOL
    assert list(count_within(Y, X, 2.0, norm)) == list((brute <= 2.0).sum(axis=1))
    # a point 1e-9 from a training point of norm 1e4: the expanded |y|^2 - 2 y.x + |x|^2 form
    # loses it to cancellation (|y|^2 = 1e8 + 1e-18 rounds to 1e8), the difference does not
    far = np.array([[1e4, 0, 0, 0, 0]])
    _, d = nearest_neighbours(far + [0, 1e-9, 0, 0, 0], far, norm=norm)
    assert d[0] == 1e-9


def test_pham_classes_in_linf_differ_from_l2_where_they_should():
    X = np.zeros((1, 2))
    S = np.array([[0.08, 0.08], [3.0, 3.0], [3.08, 3.08]])
    # |(0.08, 0.08)|: l2 0.113 > 0.1 (not memorized), l-inf 0.08 (memorized)
    assert pham_classes(S, X, S, 0.1, 0.1, self_in_reference=True, norm="l2") == \
        ["generalized", "generalized", "generalized"]
    assert pham_classes(S, X, S, 0.1, 0.1, self_in_reference=True, norm="linf") == \
        ["memorized", "spurious", "spurious"]
    with pytest.raises(ValueError, match="norm"):
        nearest_neighbours(S, X, norm="l1")


def test_cross_table_splits_each_pham_class():
    pham = ["memorized", "spurious", "spurious", "generalized", "spurious"]
    ours = ["training", "virtual", "boundary", "other", "virtual"]
    t = cross_table(pham, ours)
    assert t["spurious"]["share"] == 0.6 and t["spurious"]["ours"]["virtual"] == 2 / 3
    for p in t.values():
        assert abs(sum(p["ours"].values()) - 1) <= FLOAT_TOL


# -- decision rules -------------------------------------------------------------------------------
def _protocol_results(shares: dict, losses: dict, dist: dict, hull: dict, n=500):
    by = {p: {"fractions": {"l2": {"0.1": dict(zip(CLASSES, s))}}, "training_loss": losses[p],
              "distance_to_hyperbox": dist[p],
              "premise": {"per_level": [{"rms_error_hull_rel": v} for v in hull[p]]}}
          for p, s in shares.items()}
    return {"parameters": {"protocols": list(shares), "n_points": n, "threshold": 0.1},
            "levels": {"inside": [False, False, True, True]}, "by_protocol": by}


def test_protocol_claims_decide_by_their_numbers():
    shares = {"al": (0.3, 0.4, 0.3, 0.0), "adam": (0.5, 0.0, 0.5, 0.0),
              "adam-wd": (0.3, 0.35, 0.35, 0.0), "dropout": (0.2, 0.2, 0.3, 0.3)}
    loss = {"al": [1, 1, 1, 1], "adam": [1, 1, 1, 1], "adam-wd": [1, 1, 0.1, 0.1],
            "dropout": [1.1, 1.1, 0.3, 0.3]}
    rng = np.random.default_rng(0)
    near, far = rng.uniform(0, 0.1, 500), rng.uniform(0.05, 0.3, 500)
    dist = {"al": near, "adam": near, "adam-wd": near, "dropout": far}
    hull = {"al": [1, 1], "adam": [2, 2], "adam-wd": [1, 1.5], "dropout": [1, 1]}
    out = claims(_protocol_results(shares, loss, dist, hull))
    assert [c["id"] for c in out] == ["F1", "F2", "F3", "F4", "F5", "H1", "H2", "H3"]
    assert all(c["held"] for c in out)
    # adam with virtual points, dropout like adam-wd, weight decay no closer: those claims fail;
    # adam-wd still 0.25 above adam's virtual share (2 standard errors: 0.05)
    shares.update({"adam": (0.4, 0.1, 0.5, 0.0), "dropout": (0.3, 0.35, 0.35, 0.0)})
    loss["dropout"] = [2, 2, 0.1, 0.1]
    dist["dropout"] = rng.uniform(0, 0.1, 500)  # same distribution: about half beyond the median
    hull["adam-wd"] = [2.5, 1.5]  # closer at one of two levels: not a majority
    out = claims(_protocol_results(shares, loss, dist, hull))
    assert [c["held"] for c in out] == [False, False, True, True, False, False, False, False]


def test_n_sweep_trend_allows_one_standard_error():
    def res(train, gen):
        by = {str(n): {"fractions": {col: {"l2": {"0.1": {
            "training": t, "virtual": g, "boundary": 0.0, "other": 1 - t - g}}}
            for col in ("trained", "closed_form")}} for n, t, g in zip((5, 10, 20), train, gen)}
        return {"parameters": {"Ns": [20, 10, 5], "n_points": 500, "threshold": 0.1},
                "by_N": by}
    assert trend(res((0.6, 0.4, 0.2), (0.4, 0.6, 0.8)))["trained"]["held"]
    assert trend(res((0.6, 0.61, 0.2), (0.4, 0.39, 0.8)))["trained"]["held"]  # within noise
    assert not trend(res((0.2, 0.4, 0.6), (0.8, 0.6, 0.4)))["closed_form"]["held"]


# -- the five --quick runs (need the 'train' extra) -----------------------------------------------
# In child processes: JAX starts threads, and a later test that forks a process pool would then get
# JAX's os.fork() warning, which this suite turns into an error (as in tests/test_premise.py).
def _needs_training():
    for mod in ("jax", "optax", "training"):
        if importlib.util.find_spec(mod) is None:
            pytest.skip(f"{mod} not installed (the 'train' extra)")


def _quick(name, out, cache, *extra):
    root = Path(__file__).resolve().parent.parent
    path = os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    proc = subprocess.run([sys.executable, "-m", "numerics.cli", "experiment", name, "--out",
                           str(out), "--quick", "--no-progress", "--cache-dir", str(cache),
                           *extra], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = json.loads((out / "results.json").read_text())
    assert res["experiment"] == name
    assert res["figures"] and all((out / f).stat().st_size > 10_000 for f in res["figures"])
    return res


def _sums_to_one(fr):
    for norm in ("l2", "linf"):
        for shares in fr[norm].values():
            assert abs(sum(shares.values()) - 1) <= FLOAT_TOL


def test_quick_trained_fig2_experiments(tmp_path):
    """All five, sharing one stack cache as a user's runs would: the al stack of
    trained-endpoints is reused by the others, and a second run trains nothing."""
    _needs_training()
    cache = tmp_path / "cache"
    te = _quick("trained-endpoints", tmp_path / "te", cache, "--seed", "1")
    assert te["seed"] == 1 and not te["training"]["cached"]
    for flow in ("score_flow", "probability_flow"):
        for col in ("trained", "closed_form"):
            _sums_to_one(te[flow][col])
    assert te["paper"]["score"].startswith("almost all points converged to virtual points")
    assert len(te["table"]) == 8 and te["euler_speed"]["points_per_second"] > 0
    lv = te["levels"]
    assert sum(lv["inside"]) == te["parameters"]["n_inside"] == 3
    assert len(te["training"]["report"]["residual_max_per_level"]) == len(lv["sigmas"])
    again = _quick("trained-endpoints", tmp_path / "te2", cache, "--seed", "1")
    assert again["training"]["cached"] and again["probability_flow"] == te["probability_flow"]

    ns = _quick("trained-n-sweep", tmp_path / "ns", cache, "--seed", "1")
    assert set(ns["by_N"]) == {"4", "2"} and ns["by_N"]["4"]["training"]["cached"]
    assert ns["by_N"]["4"]["fractions"]["trained"] == te["probability_flow"]["trained"]
    assert isinstance(ns["trend"]["trained"]["held"], bool)

    tp = _quick("training-protocols", tmp_path / "tp", cache, "--seed", "1")
    rows = tp["by_protocol"]
    assert list(rows) == ["al", "adam", "adam-wd", "dropout"] and rows["al"]["training"]["cached"]
    assert len({str(r["training"]["cache_key"]) for r in rows.values()}) == 4
    for r in rows.values():
        _sums_to_one(r["fractions"])
        loss = np.asarray(r["training_loss"])
        res = np.asarray(r["training"]["report"]["residual_max_per_level"])
        # mean squared error <= the largest squared residual (float64 round-off: 1e-9 relative)
        assert loss.shape == res.shape and np.all(loss > 0)
        assert np.all(loss <= res ** 2 * (1 + 1e-9))
        assert len(r["premise"]["per_level"]) == 3
    assert len(tp["claims"]) == 8 and all(isinstance(c["held"], bool) for c in tp["claims"])

    ah = _quick("augmented-hyperbox", tmp_path / "ah", cache, "--seed", "1")
    assert [r["paper"] for r in ah["table"]] == [[99.0, 98.21], [2.4, 3.4], [32.0, 19.6],
                                                [14.6, 19.0]]
    assert ah["by_augment"]["0"]["training"]["cached"] and ah["by_augment"]["3"]["points"] == 8
    for col in ah["by_augment"].values():
        rows_ = col["rows"]["0.1"]
        parts = sum(rows_[k] for k in ("original virtual points", "orthogonal training points",
                                       "augmented points", "boundary only"))
        assert abs(parts - rows_["hyperbox boundary"]) <= FLOAT_TOL

    mm = _quick("memorization-metrics", tmp_path / "mm", cache, "--seed", "1")
    assert mm["training"]["cached"] and mm["paper"]["table"]["spurious"]["virtual"][0] == 52.94
    for col in mm["columns"].values():
        for c in col.values():
            t = c["table"]
            assert abs(sum(p["share"] for p in t.values()) - 1) <= FLOAT_TOL
            for p in t.values():
                assert p["count"] == 0 or abs(sum(p["ours"].values()) - 1) <= FLOAT_TOL
