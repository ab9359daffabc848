"""Training shallow ReLU denoisers (training/, docs/training.md): the augmented Lagrangian reaches
the closed forms on N = 3, d = 2 data; Adam with / without weight decay; stacks; files; CLI."""
from __future__ import annotations

import builtins
import json
import math

import numpy as np
import pytest

from numerics.evaluate import compile_denoiser
from numerics.mmse import training_array
from numerics.network import check_trained_on, load_network, save_network
from theory.datasets import EquilateralTriangle, ObtuseSimplex, OrthogonalDataset
from theory.denoisers import min_cost_denoiser
from theory.errors import MissingExtraError

import training
from training import PROTOCOLS, TrainResult, train_denoiser, train_stack

pytest.importorskip("jax")  # only the import: everything below runs where the extra is installed
pytest.importorskip("optax")

RHO = 0.1
#: Residual tolerance of the theory's interpolation, relative to max r_n (the protocol default).
RESIDUAL_REL = 1e-4
#: |cost ratio - 1|: the sampled constraint is a relaxation of the ball constraint, so the trained
#: cost may sit below the closed form's; with 50 uniform + 50 sphere samples per ball (d = 2) the
#: measured ratios are 0.9995-0.9998, so 2% is a generous bound that still catches a wrong optimum.
COST_RATIO_TOL = 0.02
#: Sup distance to the (unique) closed form on the hyperbox / triangle, relative to max r_n
#: (measured 0.3e-2 obtuse, 0.1e-2 equilateral).
SUP_REL = 1e-2
#: Dense ball sampling in d = 2 (docs/training.md, "Sampling"): uniform samples alone leave the
#: rim under-constrained and let the ReLU boundaries rotate by ~2 degrees at 1% lower cost.
DENSE = dict(samples=50, boundary_samples=50)

DATA = {
    "orthogonal": lambda: OrthogonalDataset([[0, 0], [1, 0], [0, 1]]),
    "obtuse": lambda: ObtuseSimplex([[0, 0], [1, 0], [-0.5, 0.8]]),
    "equilateral": lambda: EquilateralTriangle([[1, 0], [-0.5, math.sqrt(3) / 2],
                                                [-0.5, -math.sqrt(3) / 2]]),
}


def region_grid(ds, n=41):
    """Grid over the hyperbox (parallelogram) of ridge data, or over the triangle."""
    X = training_array(ds)
    g = np.linspace(0.0, 1.0, n)
    if ds.kind == "equilateral":
        return np.array([a * X[0] + b * X[1] + (1 - a - b) * X[2]
                         for a in g for b in g if a + b <= 1 + 1e-12])
    L = np.array([[a, b] for a in g for b in g])
    return X[0] + L @ (X[1:] - X[0])


def sup_distance(net, ds, rho=RHO):
    G = region_grid(ds)
    return float(np.abs(net(G) - compile_denoiser(ds).denoise(G, rho)).max())


def scale(ds):
    return max(float(r) for r in ds.r)


@pytest.fixture(scope="module")
def al_results():
    return {}


def _al(al_results, kind):
    if kind not in al_results:
        ds = DATA[kind]()
        al_results[kind] = (ds, train_denoiser(ds, rho=RHO, seed=0, progress=False, **DENSE))
    return al_results[kind]


@pytest.mark.parametrize("kind", ["orthogonal", "obtuse", "equilateral"])
def test_al_reaches_closed_form(al_results, kind):
    ds, res = _al(al_results, kind)
    rep = res.report
    assert isinstance(res, TrainResult) and rep["protocol"] == "al" and rep["converged"]
    assert rep["residual_max"] <= RESIDUAL_REL * scale(ds)
    assert rep["closed_form_cost"] == pytest.approx(
        float(min_cost_denoiser(ds, RHO).representation_cost()))
    ratio = rep["representation_cost"] / rep["closed_form_cost"]
    assert abs(ratio - 1) <= COST_RATIO_TOL, ratio
    # the net really interpolates its own samples: re-evaluated in NumPy
    net = res.stack.networks[0]
    assert net.representation_cost() == pytest.approx(rep["representation_cost"], rel=1e-12)
    if kind != "orthogonal":  # unique minimiser (obtuse; equilateral below rho*)
        assert sup_distance(net, ds) <= SUP_REL * scale(ds)


def test_al_defaults_reach_min_norm_in_d6():
    """N = d = 6 orthonormal points, 100 samples per ball (docs/training.md, "Reaching the
    min-norm solution in higher dimension"): the default schedule (penalty continuation from
    mu = 1, recycled units) lands on the closed form's ReLU directions; the fixed mu = 100 of
    the earlier schedule freezes the initial random boundaries (measured, 300 inner steps:
    cost ratio 1.54, hull RMS 0.75 r, boundaries tilted 34 degrees)."""
    from numerics.experiments._data import orthonormal_dataset
    from numerics.premise import compare

    ds = orthonormal_dataset(6)
    res = train_denoiser(ds, rho=RHO, seed=0, progress=False, inner_steps=300)
    assert res.report["converged"]
    c = compare(res.stack.networks[0], ds, RHO, n_points=1024, seed=0)
    # measured 0.949: 100 samples per ball in d = 6 are a relaxation (an optimum started at the
    # closed form itself settles at 0.92-0.94), so the ratio sits below 1 but never far below
    assert 0.85 <= c["cost_ratio"] <= 1.0, c["cost_ratio"]
    # measured 0.167 r and 6 degrees; 0.3 r and 15 degrees are twice that, half the old values
    assert c["rms_error_hull_rel"] <= 0.3, c["rms_error_hull_rel"]
    assert c["boundary_angle_weighted_deg"] <= 15, c["boundary_angle_weighted_deg"]


def test_adam_fits_but_weight_decay_is_closer(al_results):
    ds = DATA["obtuse"]()
    kw = dict(rho=RHO, seed=0, progress=False, samples=30, boundary_samples=30)
    plain = train_denoiser(ds, protocol="adam", **kw)
    wd = train_denoiser(ds, protocol="adam-wd", **kw)
    assert plain.report["converged"] and plain.report["residual_max"] <= 1e-4 * scale(ds)
    assert wd.report["hyperparameters"]["weight_decay"] > 0
    d_plain = sup_distance(plain.stack.networks[0], ds)
    d_wd = sup_distance(wd.stack.networks[0], ds)
    # measured 0.17 vs 0.066: plain MSE keeps whatever kinks the initialisation gave it
    assert d_wd < 0.6 * d_plain, (d_wd, d_plain)


def test_save_reload_bit_identical(al_results, tmp_path):
    ds, res = _al(al_results, "obtuse")
    path = save_network(tmp_path / "obtuse", res.stack)
    back = load_network(path)
    G = region_grid(ds)
    assert np.array_equal(back.networks[0](G), res.stack.networks[0](G))
    check_trained_on(back, ds)
    meta = back.metadata
    for key in ("data", "sigmas", "rhos", "noise", "c", "protocol", "hyperparameters", "seed",
                "width", "samples", "residuals", "weight_cost", "representation_cost",
                "closed_form_cost", "converged", "versions", "created"):
        assert key in meta, key
    assert meta["seed"] == 0 and meta["protocol"] == "al" and meta["rhos"] == [RHO]
    assert set(meta["versions"]) >= {"python", "numpy", "jax", "optax", "memorization-flows"}


def test_stack_vectorised_matches_loop_and_round_trips(tmp_path, capsys):
    ds = DATA["orthogonal"]()
    kw = dict(c=1.0, samples=8, seed=3, progress=False, outer_steps=3, inner_steps=60)
    sig = [0.05, 0.08, 0.12]
    vec = train_stack(ds, sig, **kw)
    loop = train_stack(ds, sig, vectorise=False, **kw)
    rep = vec.report
    assert vec.stack.levels == 3 and rep["rhos"] == pytest.approx(sig)
    assert len(rep["residual_max_per_level"]) == len(rep["closed_form_cost_per_level"]) == 3
    assert rep["iterations_per_level"] == [3, 3, 3]
    # a 3-step budget cannot converge: it must say so (report and stderr), never silently
    assert not rep["converged"] and rep["message"].startswith("NOT converged")
    assert "NOT converged" in capsys.readouterr().err
    for a, b in zip(vec.stack.networks, loop.stack.networks):
        for name in ("A", "W", "b", "V", "c"):
            np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=0, atol=1e-9)
    back = load_network(save_network(tmp_path / "stack.npz", vec.stack))
    assert np.array_equal(back.sigmas, np.asarray(sig))
    assert back.metadata["closed_form_cost"] == rep["closed_form_cost_per_level"]
    assert back.metadata["residuals"] == rep["residual_max_per_level"]


def test_stack_cache_reuses_and_keys_on_levels(tmp_path):
    """numerics.experiments._trained.trained_stack: a second call with the same data, levels,
    protocol, hyper-parameters and seed loads the file (bit-identical networks); other levels or
    another seed train afresh."""
    from numerics.experiments._trained import trained_stack

    ds = DATA["orthogonal"]()
    kw = dict(cache_dir=tmp_path, c=1.0, samples=6, seed=2, progress=False,
              hyper=dict(outer_steps=2, inner_steps=30))
    first = trained_stack(ds, [0.05, 0.1], **kw)
    again = trained_stack(ds, [0.05, 0.1], **kw)
    assert not first["cached"] and again["cached"] and again["key"] == first["key"]
    for a, b in zip(first["stack"].networks, again["stack"].networks):
        assert all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ("A", "W", "b", "V", "c"))
    assert again["metadata"]["seed"] == 2 and again["stack"].levels == 2
    other = trained_stack(ds, [0.05, 0.2], **kw)
    reseeded = trained_stack(ds, [0.05, 0.1], **{**kw, "seed": 3})
    assert len({first["key"], other["key"], reseeded["key"]}) == 3
    assert not other["cached"] and not reseeded["cached"]


def test_missing_jax_is_one_line(monkeypatch):
    real = builtins.__import__

    def fake(name, *args, **kwargs):
        if name == "jax" or name.startswith("jax.") or name == "optax":
            raise ImportError(f"No module named {name!r}")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(MissingExtraError) as exc:
        train_denoiser(DATA["orthogonal"](), rho=RHO, progress=False)
    assert str(exc.value) == ("training needs JAX and optax, the 'train' extra: pip install -e "
                              "\".[train]\" in the repository's root")
    assert PROTOCOLS == ("al", "adam", "adam-wd", "dropout") and training.DEFAULTS


def test_bad_arguments_are_one_line():
    ds = DATA["orthogonal"]()
    with pytest.raises(ValueError, match="exactly one of rho"):
        train_denoiser(ds, rho=0.1, sigma=0.1)
    with pytest.raises(ValueError, match="unknown hyper-parameter"):
        train_denoiser(ds, rho=0.1, protocol="adam", mu=3.0)
    with pytest.raises(ValueError, match="must be an integer"):
        train_denoiser(ds, rho=0.1, outer_steps=2.5)
    with pytest.raises(ValueError, match="mu_growth must be > 1"):
        train_denoiser(ds, rho=0.1, mu_start=1.0, mu_growth=1.0)
    with pytest.raises(ValueError, match="needs c"):
        train_stack(ds, [0.1, 0.2])


def test_cli_train_json(tmp_path, capsys):
    from numerics.cli import main
    data = tmp_path / "orth.json"
    data.write_text(json.dumps(DATA["orthogonal"]().to_json()))
    out = tmp_path / "net"
    rc = main(["train", "--data", str(data), "--rho", "0.1", "--protocol", "al", "--samples",
               "6", "--outer-steps", "2", "--inner-steps", "40", "--seed", "5", "--out", str(out),
               "--json"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    obj = json.loads(cap.out)
    for key in ("residual_max", "weight_cost", "representation_cost", "closed_form_cost",
                "seconds", "protocol", "seed", "converged", "out"):
        assert key in obj, key
    assert obj["seed"] == 5 and obj["closed_form_cost"] == pytest.approx(5.0)
    assert not obj["converged"] and "NOT converged" in cap.err
    assert load_network(obj["out"]).metadata["seed"] == 5
    # usage errors: exit 2, one line
    assert main(["train", "--data", str(data), "--rho", "0.1", "--protocol", "adam", "--mu", "1",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--mu does not apply" in err[0]


def test_dropout_seeded_and_lbfgs_inner_run():
    ds = DATA["orthogonal"]()
    kw = dict(rho=RHO, samples=6, progress=False)
    a = train_denoiser(ds, protocol="dropout", seed=7, steps=300, chunk_steps=100, **kw)
    b = train_denoiser(ds, protocol="dropout", seed=7, steps=300, chunk_steps=100, **kw)
    assert np.array_equal(a.stack.networks[0].W, b.stack.networks[0].W)  # seeded masks
    assert a.report["iterations"] == 300 and a.report["hyperparameters"]["dropout"] == 0.1
    # mu_start = mu: no penalty continuation, so three outer steps already fit to 0.1
    lb = train_denoiser(ds, seed=0, inner="lbfgs", outer_steps=3, inner_steps=30, mu_start=100.0,
                        **kw)
    assert lb.report["hyperparameters"]["inner"] == "lbfgs"
    assert np.isfinite(lb.report["residual_max"]) and lb.report["residual_max"] < 0.1


def test_import_and_cli_parser_do_not_import_jax():
    import os
    import subprocess
    import sys
    from pathlib import Path
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [root] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))}
    code = ("import sys, training, numerics.cli; numerics.cli.build_parser(); "
            "print('jax' in sys.modules, 'optax' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=root, env=env, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_general_data_trains_without_a_closed_form():
    """Data of kind "general" has no closed form: training still fits it, the closed-form cost
    is None (with a warning), and the residual is measured against the data's own scale."""
    from theory.datasets import GeneralDataset
    ds = GeneralDataset([[0.0, 0.0], [1.0, 0.0], [2.0, 0.5]])
    with pytest.warns(UserWarning, match="no closed-form cost"):
        res = train_denoiser(ds, rho=0.1, protocol="al", seed=0, progress=False)
    assert res.report["closed_form_cost"] is None
    assert res.report["residual_max"] <= res.report["tolerance"]
