"""The score-model experiments run at their --quick sizes and show their headline effects."""
import json

from numerics.experiments import run


def test_score_smoothing_quick(tmp_path):
    res = run("score-smoothing", tmp_path, quick=True, progress=False)
    models = res["models"]
    assert models["empirical"]["memorized_fraction"] == 1.0  # the empirical score memorizes
    widest = f"smoothed delta={max(res['deltas']):g}"
    assert models[widest]["memorized_fraction"] <= 0.5  # delta > spacing fills the segment
    assert (tmp_path / "score_smoothing.png").stat().st_size > 10_000
    json.loads((tmp_path / "results.json").read_text())


def test_model_comparison_quick(tmp_path):
    res = run("model-comparison", tmp_path, quick=True, progress=False)
    orth = res["datasets"]["orthonormal"]["models"]
    assert orth["empirical"]["pham"]["memorized"] == 1.0
    assert orth["min-cost"]["endpoint_classes"]["virtual"] > 0.5  # Thm 4.2 virtual points
    seg = res["datasets"]["segment"]["models"]
    assert set(seg) == {"empirical", "smoothed", "regularized", "coarse"}
    for per in res["datasets"].values():
        for m in per["models"].values():
            assert abs(sum(m["pham"].values()) - 1) < 1e-12
    assert (tmp_path / "model_comparison.png").stat().st_size > 10_000


def test_score_smoothing_takes_a_trained_net(tmp_path):
    import numpy as np

    from numerics.experiments.score_smoothing import segment_data
    from numerics.network import NetworkStack, ShallowNetwork, save_network
    from theory.datasets import from_json

    X, _ = segment_data(9, 8, 2.0, np.random.default_rng(0))  # the run's data at seed 0
    data = from_json({"kind": "general", "points": X.tolist()})
    r = np.random.default_rng(1)  # a contractive stand-in network (V = 0, small output weights)
    net = ShallowNetwork(0.1 * r.standard_normal((4, 8)), r.standard_normal((4, 8)),
                         r.standard_normal(4), np.zeros((8, 8)), np.zeros(8))
    path = save_network(tmp_path / "net", NetworkStack(np.array([0.1]), (net,),
                                                       {"data": data.to_json()}))
    res = run("score-smoothing", tmp_path / "out", quick=True, progress=False, net=str(path),
              n_samples=40, deltas=(0.3,), steps=10)
    assert "trained" in res["models"]
    assert json.loads((tmp_path / "out" / "data.json").read_text()) == data.to_json()
