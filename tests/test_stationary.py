"""Stationary points of the score flow and eq. 15 stability (docs/math.md §5: Prop. 4.1, Thm 4.2,
Thm B.1), checked against the paper's sets and against the region's own affine map."""
import time

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs_check.strategies import (equilateral_triangles, low_noise_rhos,
                                     obtuse_simplices, orthogonal_datasets)
from theory import RHO, EquilateralTriangle, ObtuseSimplex, OrthogonalDataset, min_cost_denoiser
from theory.stationary import (DegenerateStationarySetError, degenerate_rhos, stable_points,
                               stationary_points, thm_4_2_set, thm_b1_criterion, thm_b1_set)

#: Float data: points / eigenvalues agree to float64 rounding of O(1) data (~1e-15) with margin.
FLOAT_ATOL = 1e-9
TRIANGLE = [[2, 0], [-1, sp.sqrt(3)], [-1, -sp.sqrt(3)]]  # R = 2


#: Exact points (radicals, unsimplified) are keyed by 30-digit values rounded to KEY_DIGITS: two
#: distinct algebraic points of O(1) data differ far above 1e-20.
KEY_DIGITS = 20


def _key(v, exact):
    """Hashable key of a point: exact values to KEY_DIGITS digits, floats rounded at 1e-7 (far
    above float64 noise, far below the O(0.1) spacing of distinct stationary points)."""
    if exact:
        return tuple(sp.sympify(x).evalf(30).round(KEY_DIGITS) for x in v)
    return tuple(round(float(x), 7) for x in v)


def _same_sets(points, expected, exact):
    assert len(points) == len(expected)
    assert {_key(p, exact) for p in points} == {_key(v, exact) for v in expected}


def _check_affine(dn, p):
    """``p`` is a fixed point of its region's affine map ``J y + b`` and lies in the region."""
    region = dn.region(p.pattern)
    residual = region.jacobian() * p.point + region.offset() - p.point
    if dn.dataset.exact and not isinstance(dn.rho, sp.Symbol):
        assert residual.applyfunc(sp.simplify) == sp.zeros(dn.d, 1)
        assert dn.pattern(p.point) == p.pattern
    elif not dn.dataset.exact:
        assert max(abs(float(e)) for e in residual) <= FLOAT_ATOL
    if p.eigenvalues is not None and not isinstance(dn.rho, sp.Symbol):
        J = np.array(region.jacobian().evalf(), dtype=float)
        ref = np.sort(np.linalg.eigvalsh(J - np.eye(dn.d)))
        got = np.sort([float(e) for e in p.eigenvalues])
        assert np.abs(ref - got).max() <= FLOAT_ATOL


# -- Thm 4.2: orthogonal data ------------------------------------------------------------------
@settings(max_examples=6)
@given(orthogonal_datasets(exact=True, max_N=3))
def test_thm_4_2_symbolic_rho(ds):
    """Symbolic rho (N <= 3): 3^N stationary points t_n in {0, r_n/2, r_n}, stable = 2^N sums,
    decided for every rho of the low-noise regime at once."""
    dn = min_cost_denoiser(ds, RHO)
    points = stationary_points(dn)
    assert len(points) == 3 ** ds.N
    assert all(p.condition == sp.true and p.on_kink is False for p in points)
    for p in points:
        t = [sp.simplify(u.dot(p.point - ds.apex)) for u in ds.u]
        assert all(tn in (0, rn / 2, rn) for tn, rn in zip(t, ds.r))
        assert p.stable is all(tn != rn / 2 for tn, rn in zip(t, ds.r))
    stable = stable_points(dn)
    _same_sets([p.point for p in stable], thm_4_2_set(ds).values(), exact=True)
    assert all(all(e == -1 for e in p.eigenvalues) for p in stable)


@pytest.mark.parametrize("N", [4, 5])
def test_thm_4_2_exact_rho_large_n(N):
    ds = OrthogonalDataset([[0] * N] + [[sp.Rational(n + 2, 2) if i == n else 0
                                         for i in range(N)] for n in range(N)])
    dn = min_cost_denoiser(ds, sp.Rational(1, 3))
    start = time.perf_counter()
    points = stationary_points(dn)
    assert time.perf_counter() - start < 20  # measured ~0.1 s (N=4), ~0.4 s (N=5)
    assert len(points) == 3 ** N
    _same_sets([p.point for p in points if p.stable], thm_4_2_set(ds).values(), exact=True)


@pytest.mark.slow
def test_thm_4_2_symbolic_rho_n5():
    """N = 5 with symbolic rho (measured ~7-9 s on 2 cores)."""
    ds = OrthogonalDataset([[0] * 5] + [[n + 2 if i == n else 0 for i in range(5)]
                                        for n in range(5)])
    _same_sets([p.point for p in stable_points(min_cost_denoiser(ds, RHO))],
               thm_4_2_set(ds).values(), exact=True)


@settings(max_examples=10)
@given(st.data())
def test_thm_4_2_numeric_rho(data):
    ds = data.draw(st.one_of(orthogonal_datasets(max_N=4), orthogonal_datasets(exact=True,
                                                                               max_N=4)))
    dn = min_cost_denoiser(ds, data.draw(low_noise_rhos(ds)))
    points = stationary_points(dn)
    assert len(points) == 3 ** ds.N
    _same_sets([p.point for p in points if p.stable], thm_4_2_set(ds).values(), ds.exact)
    for p in points[:: max(1, len(points) // 6)]:
        _check_affine(dn, p)


def test_thm_4_2_taylor_models():
    """``taylor``: same stable set.  ``taylor-fixed-kinks``: every vertex sits on a kink (0 or
    r_n), so eq. 15 is undecidable there: on_kink=True, stable=None (kink convention)."""
    ds = OrthogonalDataset([[0, 0, 0], [2, 0, 0], [0, 3, 0]])
    vertices = thm_4_2_set(ds).values()
    _same_sets([p.point for p in stable_points(min_cost_denoiser(ds, RHO, "taylor"))], vertices,
               exact=True)
    fixed = stationary_points(min_cost_denoiser(ds, sp.Rational(1, 5), "taylor-fixed-kinks"))
    on_kink = [p for p in fixed if p.on_kink and "linear" not in p.pattern]
    _same_sets([p.point for p in on_kink], vertices, exact=True)
    assert all(p.stable is None and p.margin == 0 for p in fixed if p.on_kink)
    assert not any(p.stable for p in fixed)


# -- Thm B.1: obtuse simplex -------------------------------------------------------------------
@settings(max_examples=12)
@given(st.data())
def test_thm_b1_numeric_rho(data):
    exact = data.draw(st.booleans())
    # exact data with several distinct radicals r_n is slow to solve exactly (N = 3: ~6 s)
    ds = data.draw(obtuse_simplices(exact=exact, max_N=2 if exact else 5))
    dn = min_cost_denoiser(ds, data.draw(low_noise_rhos(ds)))
    points = stationary_points(dn)
    stable = [p for p in points if p.stable]
    expected = thm_b1_set(ds, dn.rho)
    _same_sets([p.point for p in stable], expected.values(), exact)
    assert all(p.pattern.count("linear") == 0 for p in stable)
    # the margin reported at a flat-pattern point equals Thm B.1's criterion for its subset
    for p in points:
        if "linear" in p.pattern:
            continue
        S = {n + 1 for n, piece in enumerate(p.pattern) if piece == "upper"}
        criterion = thm_b1_criterion(ds, S, dn.rho)
        assert abs(float(p.margin - criterion)) <= (0 if exact else FLOAT_ATOL)
    for p in points[:: max(1, len(points) // 5)]:
        _check_affine(dn, p)


# Offsets (30, 0), (-7, 24) (norm 25, rational Gram): -u_1^T(x_2 - x_0) = 7,
# -u_2^T(x_1 - x_0) = 42/5; rho_max = 25/2.  Thm B.1: the full sum is stable iff rho > 42/5.
KINKED = [[0, 0], [30, 0], [-7, 24]]
KINK_RHO = sp.Rational(42, 5)


def test_thm_b1_on_kink_and_symbolic():
    ds = ObtuseSimplex(KINKED)
    assert thm_b1_criterion(ds, {1, 2}) == RHO - KINK_RHO
    full = ds.vertex([1, 2])
    # exactly at rho = 42/5 the full sum sits on unit 2's kink: stationary, eq. 15 undecidable
    at = {tuple(p.point): p for p in stationary_points(min_cost_denoiser(ds, KINK_RHO))}
    p = at[tuple(full)]
    assert p.on_kink is True and p.stable is None and p.margin == 0
    # below it is not stationary, above it is stable
    assert tuple(full) not in {tuple(q.point) for q in stationary_points(
        min_cost_denoiser(ds, 8))}
    assert tuple(full) in {tuple(q.point) for q in stable_points(min_cost_denoiser(ds, 9))}
    # symbolic rho: the full sum is reported with the condition rho >= 42/5 (kink convention)
    sym = {tuple(q.point): q for q in stationary_points(min_cost_denoiser(ds, RHO))}[tuple(full)]
    assert sym.on_kink is None and sym.stable is True
    for rho in (1, 8, KINK_RHO, 9, 12):
        assert bool(sym.condition.subs(RHO, rho)) is bool(rho >= KINK_RHO)
    assert set(thm_b1_set(ds, RHO)) == {frozenset(), frozenset({1}), frozenset({2})}


def test_degenerate_rhos():
    """J has the eigenvalue 1 only at isolated rho: never for orthogonal data; at rho = r/4 for two
    offsets at 120 degrees (slope a = 2, Gram eigenvalue 1/2); for the equilateral triangle at
    rho = R/2 (k/2 = 1 across an edge), where a whole segment of the edge's median is stationary."""
    ortho = OrthogonalDataset([[0, 0, 0], [2, 0, 0], [0, 3, 0]])
    assert degenerate_rhos(min_cost_denoiser(ortho, RHO)) == {}
    obtuse = ObtuseSimplex([[0, 0], [2, 0], [-1, sp.sqrt(3)]])
    assert degenerate_rhos(min_cost_denoiser(obtuse, RHO)) == {
        ("linear", "linear"): sp.FiniteSet(sp.Rational(1, 2))}
    stationary_points(min_cost_denoiser(obtuse, sp.Rational(1, 2)))  # inconsistent: no raise
    tri = EquilateralTriangle(TRIANGLE)
    assert degenerate_rhos(min_cost_denoiser(tri, RHO))[("lower", "linear", "linear")] == \
        sp.FiniteSet(1)
    with pytest.raises(DegenerateStationarySetError, match="continuum"):
        stationary_points(min_cost_denoiser(tri, 1))
    with pytest.raises(ValueError, match="symbolic rho"):
        degenerate_rhos(min_cost_denoiser(tri, sp.Rational(1, 2)))


# -- Prop. 4.1 and the equilateral triangle --------------------------------------------------------
@settings(max_examples=15)
@given(st.data())
def test_prop_4_1_training_points_are_stable(data):
    exact = data.draw(st.booleans())
    ds = data.draw(st.one_of(orthogonal_datasets(exact=exact, max_N=4),
                             obtuse_simplices(exact=exact, max_N=2 if exact else 4),
                             equilateral_triangles(exact=exact)))
    dn = min_cost_denoiser(ds, data.draw(low_noise_rhos(ds)))
    by_key = {_key(p.point, ds.exact): p for p in stationary_points(dn)}
    for x in ds.points:
        p = by_key[_key(x, ds.exact)]
        assert p.stable is True and p.on_kink is False
        assert all(abs(float(e) + 1) <= FLOAT_ATOL for e in p.eigenvalues)  # J = 0 near x_n


def test_equilateral_extra_stable_points_beyond_half_R():
    """Finding: for rho in (R/2, rho*] (still the minimal interpolant) the centroid m and the three
    points m - (x_n - m) are also stable stationary points (all units flat there); for
    rho < R/2 the training points are the only stable ones."""
    ds = EquilateralTriangle(TRIANGLE)
    low = stable_points(min_cost_denoiser(ds, sp.Rational(9, 10)))
    _same_sets([p.point for p in low], ds.points, exact=True)
    high = stable_points(min_cost_denoiser(ds, sp.Rational(6, 5)))  # 0.6 R < rho* ~ 0.661 R
    extra = [ds.centroid] + [2 * ds.centroid - x for x in ds.points]
    _same_sets([p.point for p in high], list(ds.points) + extra, exact=True)
    sym = {p.pattern: p for p in stationary_points(min_cost_denoiser(ds, RHO))}
    centroid = sym[("lower",) * 3]
    assert tuple(centroid.point) == tuple(ds.centroid) and centroid.stable is True
    assert bool(centroid.condition.subs(RHO, 1)) and not bool(
        centroid.condition.subs(RHO, sp.Rational(99, 100)))


@settings(max_examples=8)
@given(equilateral_triangles(), st.data())
def test_equilateral_float_matches_exact_structure(ds, data):
    """Float triangles: 7 stationary points below R/2 (3 vertices stable, 3 edge midpoints and the
    centroid unstable), each a fixed point of its region's affine map."""
    rho = data.draw(st.floats(0.02, 0.45)) * float(ds.R)
    dn = min_cost_denoiser(ds, rho)
    points = stationary_points(dn)
    assert len(points) == 7
    _same_sets([p.point for p in points if p.stable], ds.points, exact=False)
    for p in points:
        _check_affine(dn, p)


def test_stationary_points_rejects_non_denoiser():
    with pytest.raises(TypeError, match="RidgeDenoiser"):
        stationary_points(OrthogonalDataset([[0, 0], [1, 0]]))
    with pytest.raises(TypeError, match="orthogonal"):
        thm_4_2_set(ObtuseSimplex(KINKED))
    with pytest.raises(ValueError, match="outside 1..2"):
        thm_b1_criterion(ObtuseSimplex(KINKED), {3})
