"""numerics.plotting: the figures shared by experiments, notebooks and ``flows trajectory``."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from numerics import plotting  # noqa: E402
from numerics.classify import classify  # noqa: E402
from numerics.experiments._data import (equilateral_triangle, obtuse_triangle,  # noqa: E402
                                        orthonormal_dataset)
from numerics.flows import score_flow  # noqa: E402
from theory.errors import ShapeError  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _path_lines(ax):
    return [ln for ln in ax.get_lines() if (ln.get_label() or "").startswith("path")]


def test_trajectories_2d_draws_one_line_per_path_and_the_box(tmp_path):
    ds = orthonormal_dataset(2)
    runs = [score_flow(ds, np.array(y), 0.1, model="exact", method="exact",
                       times=np.linspace(0, 30, 50)) for y in [(0.3, 0.6), (0.7, 0.2), (0.4, 0.9)]]
    ax = plotting.plot_trajectories(ds, runs)
    assert len(_path_lines(ax)) == 3
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert "hyperbox" in labels and "training points" in labels and "virtual point" in labels
    tr = next(ln for ln in ax.get_lines() if ln.get_label() == "training points")
    np.testing.assert_allclose(np.column_stack(tr.get_data()), [[0, 0], [1, 0], [0, 1]])
    vp = next(ln for ln in ax.get_lines() if ln.get_label() == "virtual point")
    np.testing.assert_allclose(np.column_stack(vp.get_data()), [[1, 1]])
    assert vp.get_marker() != tr.get_marker()  # virtual points must not read as training points
    ax.figure.savefig(tmp_path / "t.png")
    assert (tmp_path / "t.png").stat().st_size > 5_000


def test_trajectories_projected_on_first_two_directions():
    ds = orthonormal_dataset(4)
    path = np.array([[0.2, 0.3, 0.9, 0.9], [0.1, 0.6, 0.5, 0.5]])
    ax = plotting.plot_trajectories(ds, path, labels=["mine"], colors=["k"])
    line = next(ln for ln in ax.get_lines() if ln.get_label() == "mine")
    np.testing.assert_allclose(np.column_stack(line.get_data()), path[:, :2])
    assert "hyperbox face (x_1, x_2)" in [ln.get_label() for ln in ax.get_lines()]
    with pytest.raises(ShapeError, match="path 0"):
        plotting.plot_trajectories(ds, np.zeros((3, 2)))


def test_trajectories_triangle_has_no_virtual_points():
    tri = equilateral_triangle()
    ax = plotting.plot_trajectories(tri, [np.zeros((2, 2))])
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert "triangle" in labels and "virtual point" not in labels


@pytest.mark.parametrize("normalised", [True, False])
def test_score_field_arrows_and_kinks(normalised):
    ds = obtuse_triangle()
    fig, ax = plt.subplots()
    out = plotting.plot_score_field(ds, 0.15, ax, normalised=normalised, n_grid=7)
    assert out is ax
    q = ax.collections[0]
    assert q.U.size == 49
    # 2 units x 2 kinks = 4 dashed ReLU-boundary lines
    assert sum(ln.get_linestyle() == "--" and len(ln.get_xdata()) == 2
               for ln in ax.get_lines()) == 4
    assert len(ax.patches) == 3  # the rho-circles around the three training points


def test_score_field_with_geometry_marks_the_virtual_point():
    ax = plotting.plot_score_field(orthonormal_dataset(2), 0.1, n_grid=5, geometry=True)
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert {"hyperbox", "virtual point", "training points"} <= set(labels)
    vp = next(ln for ln in ax.get_lines() if ln.get_label() == "virtual point")
    np.testing.assert_allclose(np.column_stack(vp.get_data()), [[1, 1]])


def test_normalised_score_is_log_length_and_never_reverses():
    S = np.array([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]])
    N = plotting.normalised_score(S)
    np.testing.assert_allclose(np.linalg.norm(N[0]), np.log(5.0))
    np.testing.assert_allclose(N[0] / np.linalg.norm(N[0]), [0.6, 0.8])
    np.testing.assert_array_equal(N[1:], 0.0)


def test_score_field_with_a_denoiser_callable():
    ds = equilateral_triangle()
    ax = plotting.plot_score_field(ds, lambda Y: 0.5 * Y, n_grid=5, sigma=1.0)
    np.testing.assert_allclose(ax.collections[0].U[:2], np.zeros(2), atol=0.8)
    with pytest.raises(ShapeError, match="d = 2"):
        plotting.plot_score_field(orthonormal_dataset(3), 0.1)


def test_endpoint_classes_bars_and_small_shares_labelled():
    ds = orthonormal_dataset(2)
    Y = np.array([[0, 0], [1, 1], [1, 1], [0.5, 0.0], [0.5, 0.5]], float)
    runs = {"a": classify(ds, Y, 0.01), "b": {"training": 0.012, "virtual": 0.974,
                                               "boundary": 0.014}}
    ax = plotting.plot_endpoint_classes(runs)
    widths = sorted(round(p.get_width(), 6) for p in ax.patches)
    assert widths == sorted([20.0, 40.0, 20.0, 20.0, 1.2, 97.4, 1.4])
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "boundary 1.4%" in texts and "training 1.2%" in texts and "97.4%" in texts
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "a"]


def test_endpoint_classes_rejects_unknown_class():
    with pytest.raises(ValueError, match="unknown endpoint class"):
        plotting.plot_endpoint_classes(["training", "weird"])
