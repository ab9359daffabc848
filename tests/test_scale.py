"""Numerics at every scale float64 can represent (docs/numerics.md "Scale"): far starts, data far
from the origin or at extreme magnitudes, and large datasets.

* the exact integrators agree with DOP853 (``method="ivp"``) for starts at ``|y0|`` from 1e3 to
  1e300 on orthogonal, obtuse and equilateral data, for the score flow (every model) and the
  probability flow (orthogonal data, where both integrators exist);
* the dataset checks depend only on the data's shape, not on where it sits or its magnitude
  (translation-invariant duplicate check, scaled norms), and say when a quantity is not
  representable;
* a quick large-data smoke test (the full sizes are timed by ``bench/bench_large.py``).
"""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from numerics.classify import classify
from numerics.flows import (probability_flow_batch, score_flow, score_flow_batch)
from numerics.threshold import c0_closed_form
from theory.datasets import make_dataset
from theory.denoisers import min_cost_denoiser
from theory.errors import DuplicatePointError, NotRepresentableError

ORTH = [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]
OBTUSE = [[0, 0], [2, 0], [-1, 2]]
TRI = [[1, 0], [-0.5, 0.8660254037844386], [-0.5, -0.8660254037844386]]
MAGNITUDES = (1e3, 1e6, 1e15, 1e100, 1e300)
#: Endpoints of the two integrators agree to this (relative to max r): both are accurate to
#: ~1e-12 of the data's scale (exact: rounding; DOP853: rtol 1e-10 on a contracting flow),
#: and a wrong branch (another vertex) is off by >= min r.
AGREE_RTOL = 1e-8


def _starts(d: int, seed: int) -> np.ndarray:
    """Two random directions per magnitude of :data:`MAGNITUDES`."""
    rng = np.random.default_rng(seed)
    V = rng.normal(size=(2 * len(MAGNITUDES), d))
    V /= np.linalg.norm(V, axis=1)[:, None]
    return V * np.repeat(MAGNITUDES, 2)[:, None]


@pytest.mark.parametrize("kind,points,extra", [
    ("orthogonal", ORTH, []),
    ("obtuse", OBTUSE, [[1e17, 1e17], [-1e300, 1e300]]),
    ("equilateral", TRI, [[0, 1e15], [0, 1e20]]),
])
def test_exact_and_ivp_score_flows_agree_from_far_starts(kind, points, extra):
    ds = make_dataset(kind, points)
    Y0 = np.vstack([_starts(ds.d, seed=7)] + ([np.array(extra, dtype=float)] if extra else []))
    exact = score_flow_batch(ds, Y0, 0.1, method="exact")
    ivp = score_flow_batch(ds, Y0, 0.1, method="ivp")
    scale = max(float(r) for r in ds.r)
    np.testing.assert_allclose(exact, ivp, rtol=0, atol=AGREE_RTOL * scale)
    # and both end on a vertex (far starts reach the data on flat pieces)
    assert all(c.cls == "training" or c.cls == "virtual" for c in classify(ds, exact))


@pytest.mark.parametrize("model", ["taylor", "taylor-fixed-kinks"])
@pytest.mark.parametrize("kind,points", [("orthogonal", ORTH), ("obtuse", OBTUSE)])
def test_taylor_models_agree_from_far_starts(kind, points, model):
    ds = make_dataset(kind, points)
    Y0 = _starts(ds.d, seed=11)[::4]  # one direction per magnitude 1e3, 1e15, 1e300
    exact = score_flow_batch(ds, Y0, 0.1, model=model, method="exact")
    ivp = score_flow_batch(ds, Y0, 0.1, model=model, method="ivp")
    np.testing.assert_allclose(exact, ivp, rtol=0, atol=AGREE_RTOL * 2.3)


@pytest.mark.parametrize("model", ["exact", "taylor", "taylor-fixed-kinks"])
def test_exact_and_ivp_probability_flows_agree_from_far_starts(model):
    ds = make_dataset("orthogonal", ORTH)
    Y0 = _starts(3, seed=3)
    exact = probability_flow_batch(ds, Y0, c=0.1, sigma_max=1.0, model=model, method="exact")
    ivp = probability_flow_batch(ds, Y0, c=0.1, sigma_max=1.0, model=model, method="ivp")
    np.testing.assert_allclose(exact, ivp, rtol=0, atol=AGREE_RTOL)


def test_issue_far_starts_single_trajectory():
    """The reported cases through the single-trajectory API (the ``flows endpoint`` path)."""
    tri = make_dataset("equilateral", TRI)
    for y0 in ([0, 1e15], [0, 1e20]):
        end = score_flow(tri, y0, 0.1).endpoint
        np.testing.assert_allclose(end, TRI[1], atol=1e-12)  # x_2, as DOP853 finds
    obtuse = make_dataset("obtuse", OBTUSE)
    np.testing.assert_allclose(score_flow(obtuse, [1e17, 1e17], 0.1).endpoint, [2, 0],
                               atol=1e-12)  # x_1


def test_shared_kink_event_switches_both_units():
    """taylor-fixed-kinks, two units reaching their kinks within one event's resolution (a start
    at t ~ (1.6e-16, r_2 - 4e-16), found by thm-4.3-i): DOP853 must switch both units at that
    event (the second was left on the linear piece past its kink and ran off to 1e86), and land
    where the exact flow does."""
    ds = make_dataset("orthogonal", [
        [-1.7012785200056766, -0.5120990331525084, -0.22055978227572082],
        [-2.0938086570026697, -0.8884735684724706, -0.14114710899611893],
        [-1.223990385570241, -1.0253002396102684, -0.29367013821048127]])
    y0 = [-1.2239903855702412, -1.0253002396102682, -0.2936701382104812]
    rho = 0.11730347379223931
    ends = [score_flow(ds, y0, rho, model="taylor-fixed-kinks", method=m).endpoint
            for m in ("exact", "ivp")]
    assert classify(ds, ends[0])[0].vertex_subset == (2,)
    np.testing.assert_allclose(ends[1], ends[0], atol=1e-9)


# -- data at any position and magnitude ----------------------------------------------------------
@given(shift=st.floats(-1e12, 1e12), exponent=st.integers(-150, 150))
def test_dataset_checks_are_translation_and_scale_invariant(shift, exponent):
    """Orthogonal data ``shift + 2^k * [[0,0],[1,0],[0,1]]`` validates at every representable
    offset and scale, with ``r`` exact and the same low-noise bound ``rho < r/2``."""
    scale = 2.0 ** exponent
    pts = [[shift, shift], [shift + scale, shift], [shift, shift + scale]]
    if pts[1][0] == shift:  # the offset is below the shift's float64 resolution
        with pytest.raises(DuplicatePointError):
            make_dataset("orthogonal", pts)
        return
    ds = make_dataset("orthogonal", pts)
    r = ds.float_geometry.r
    assert list(r) == [pts[1][0] - pts[0][0], pts[2][1] - pts[0][1]]  # exact float offsets
    min_cost_denoiser(ds, 0.49 * float(r.min()))


def test_issue_translated_points_are_distinct():
    ds = make_dataset("orthogonal", [[1e10, 1e10], [1e10 + 1, 1e10], [1e10, 1e10 + 1]])
    assert list(ds.float_geometry.r) == [1.0, 1.0]


def test_tiny_scale_data_keeps_unit_directions_and_rho():
    """At scale 1e-160 the squared lengths are subnormal: the lengths must still be exact and a
    rho just below r/2 accepted (|u| was 1.0000056 with a plain sqrt of the sum of squares)."""
    ds = make_dataset("orthogonal", [[0, 0], [1e-160, 0], [0, 1e-160]])
    np.testing.assert_allclose(np.linalg.norm(ds.float_geometry.U, axis=1), 1, rtol=1e-15)
    min_cost_denoiser(ds, 4.9e-161)
    end = score_flow(ds, [4e-161, 8e-161], 4.9e-161).endpoint
    np.testing.assert_allclose(end, [0, 1e-160], rtol=0, atol=1e-172)


@pytest.mark.parametrize("points", [
    [[0, 0], [1e-300, 0], [0, 1e-300]],            # spread below float64's resolution
    [[-1e308, 0], [1e308, 0], [-1e308, 1e308]],    # an offset beyond float64
])
def test_unrepresentable_data_is_one_clear_error(points):
    with pytest.raises(NotRepresentableError, match="float64"):
        make_dataset("orthogonal", points)


def test_threshold_with_huge_sigma_max():
    """c_max = min r / (2 sigma_max) without the overflow of 2 sigma_max."""
    ds = make_dataset("orthogonal", ORTH)
    res = c0_closed_form(ds, [0.3, 0.45, 0.2], 1e308)
    assert res.c_max == pytest.approx(5e-309, rel=1e-12) and res.valid
    assert res.c0 == pytest.approx(4.5e-309, rel=1e-12)
    with pytest.raises(NotRepresentableError, match="c_0"):
        c0_closed_form(ds, [1e-20, -1.0, 2.0], 1e300)  # c_0 = 1e-320 is subnormal


@pytest.mark.parametrize("scale", [1e-150, 1.0, 1e150])
def test_far_start_on_scaled_triangle(scale):
    tri = make_dataset("equilateral", (np.array(TRI) * scale).tolist())
    end = score_flow(tri, [0.0, 1e15 * scale], 0.1 * scale).endpoint
    np.testing.assert_allclose(end, np.array(TRI[1]) * scale, rtol=0, atol=1e-12 * scale)


# -- large data: a smoke test at small size (timings: bench/bench_large.py) ------------------------
def test_large_float_dataset_builds_without_sympy_attributes():
    d = 120
    Q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(d, d)))
    ds = make_dataset("orthogonal", np.vstack([np.zeros(d), Q.T]))
    assert "points" not in ds.__dict__ and "u" not in ds.__dict__  # nothing SymPy built
    Y0 = np.random.default_rng(1).uniform(-0.2, 1.2, size=(50, d)) @ Q.T
    ends = score_flow_batch(ds, Y0, 0.1)
    assert "points" not in ds.__dict__
    assert all(c.cls in ("training", "virtual") for c in classify(ds, ends))
    assert math.isclose(float(ds.r[0]), 1.0, rel_tol=1e-14)  # the SymPy view, on demand


@pytest.mark.parametrize("scale", [1e-150, 1e-20, 1e150])
def test_ivp_is_scale_invariant(scale):
    """DOP853's absolute tolerance is relative to the data (1e-12 max r): the obtuse probability
    flow scaled by 1e-150 ends where the unscaled one does (a fixed atol of 1e-12 moved it by
    4e-5 relative), to the integrator's accuracy 1e-9."""
    base = np.array(OBTUSE, dtype=float)
    y0 = np.array([0.9, 0.3])
    ref = probability_flow_batch(make_dataset("obtuse", base.tolist()), [y0], c=0.1,
                                 sigma_max=1.0, method="ivp")[0]
    ds = make_dataset("obtuse", (base * scale).tolist())
    end = probability_flow_batch(ds, [y0 * scale], c=0.1, sigma_max=scale, method="ivp")[0]
    np.testing.assert_allclose(end / scale, ref, rtol=0, atol=1e-9)
