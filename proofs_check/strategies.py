"""Hypothesis strategies for the toolkit's datasets, noise radii and initial points — the ONE place
they are defined: the built-in statements, your own statements in a ``--file`` and the tests all
import them (docs/conjectures.md, "Building instances").  Public API: ``__all__``.

Every dataset strategy returns a validated :mod:`theory.datasets` object whose geometric
hypothesis holds *by construction* (no rejection sampling), so shrinking stays effective:

* :func:`orthogonal_datasets` — apex ``x_0`` plus mutually orthogonal offsets (docs/math.md §2,
  eq. 17); float data randomly rotated, or exact (integer / rational, axis-aligned up to a
  permutation and signs of the coordinates, optionally an exact rational rotation).
* :func:`obtuse_simplices` — offsets ``r_n (e_n - sum_{m != n} eps_{nm} e_m)`` with
  ``eps in [EPS_LO, EPS_HI]``: mildly obtuse and independent for ``N <= 5`` (see
  :func:`obtuse_simplices` for the two inequalities), then rotated (Prop. D.1, eq. 36).
* :func:`obtuse_simplices_to_regular` — offsets ``q_n - lam_n mean(q)``: from near-orthogonal
  (small ``lam``) to near-regular simplices, where Thm B.1's criterion bites (the theorem
  report's obtuse data).
* :func:`equilateral_triangles` — random centroid, circumradius, rotation, ``d >= 2``
  (Prop. D.2, eq. 37).

``exact=None`` draws float or exact coordinates (both are exercised); :func:`rotations` draws the
random orthogonal frames (exact rational ones from a Cayley transform).  Instances of the
statements (dataset + model + parameters + start) and the per-coordinate draws near kinks and
midpoints are built in :mod:`proofs_check.instances`.

:func:`low_noise_rhos` draws a radius inside the low-noise regime and :func:`initial_points`
draws starting points near kinks, near midpoints ``r_n/2`` or generic ones.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp
from hypothesis import strategies as st

from theory.datasets import EquilateralTriangle, ObtuseSimplex, OrthogonalDataset
from theory.denoisers import RHO, equilateral_rho_star, min_cost_denoiser

#: Range of the off-diagonal coefficients of :func:`obtuse_simplices`.  With ``N <= 5``:
#: ``u_n^T u_k ~ -(eps_nk + eps_kn) + sum_{m != n,k} eps_nm eps_km <= -2 EPS_LO + 3 EPS_HI^2
#: = -0.02 < 0`` (obtuse) and every row of the coefficient matrix has off-diagonal sum
#: ``<= 4 EPS_HI = 0.8 < 1`` (strictly diagonally dominant, hence independent offsets).
EPS_LO, EPS_HI = Fraction(7, 100), Fraction(1, 5)
#: Radii ``r_n`` drawn in ``[R_LO, R_HI]``: a factor 6 between the shortest and longest offset.
R_LO, R_HI = 0.5, 3.0
#: Maximal number of offsets (``3^N`` activation patterns stay enumerable).
MAX_N = 5


@st.composite
def rotations(draw, d: int, exact: bool = False):
    """A random ``d x d`` orthogonal matrix.

    ``exact=False``: a NumPy array, QR of a Gaussian matrix from a drawn seed (sign-fixed, so the
    seed determines it).  ``exact=True``: a SymPy matrix, the Cayley transform
    ``(I - S)(I + S)^{-1}`` of a skew-symmetric ``S`` with entries in ``{0, +-1/2, +-1}``: exactly
    orthogonal and rational (``I + S`` is invertible for every real skew-symmetric ``S``).
    """
    if exact:
        S = sp.zeros(d, d)
        for i in range(d):
            for j in range(i + 1, d):
                S[i, j] = sp.Rational(draw(st.integers(-2, 2)), 2)
                S[j, i] = -S[i, j]
        eye = sp.eye(d)
        return (eye - S) * (eye + S).inv()
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    Q, R = np.linalg.qr(rng.normal(size=(d, d)))
    return Q * np.sign(np.diag(R))


def _exactness(draw, exact):
    """``exact=None``: drawn (float and exact data are both exercised)."""
    return draw(st.booleans()) if exact is None else exact


def _radii(draw, N: int, exact: bool) -> list:
    if exact:
        return [sp.Rational(draw(st.integers(int(2 * R_LO), int(2 * R_HI))), 2) for _ in range(N)]
    return [draw(st.floats(R_LO, R_HI)) for _ in range(N)]


def _apex(draw, d: int, exact: bool, with_apex):
    use = draw(st.booleans()) if with_apex is None else with_apex
    if not use:
        return [0] * d
    if exact:
        return [sp.Rational(draw(st.integers(-6, 6)), 2) for _ in range(d)]
    return [draw(st.floats(-3, 3)) for _ in range(d)]


def _dimensions(draw, N, min_N, max_N, extra):
    N = draw(st.integers(min_N, max_N)) if N is None else N
    d = draw(st.integers(N, N + extra))
    return N, d


@st.composite
def orthogonal_datasets(draw, N=None, min_N=1, max_N=MAX_N, extra_dims=3, exact=False,
                        with_apex=None, rotate=None):
    """An :class:`~theory.datasets.OrthogonalDataset` (paper eq. 17, docs/math.md §2).

    Parameters: ``N`` (fixed) or ``min_N..max_N`` offsets; ambient ``d`` in ``[N, N + extra_dims]``;
    radii ``r_n`` in ``[R_LO, R_HI]``; ``with_apex`` (``None``: drawn) puts ``x_0`` at a random
    point instead of the origin.  ``exact=False``: float coordinates, offsets ``r_n q_n`` with
    ``q_n`` columns of a random rotation (QR of a Gaussian matrix from a drawn seed).
    ``exact=True``: half-integer radii and apex, offsets ``+-r_n e_{pi(n)}`` for a random
    permutation ``pi``; ``rotate`` (``None``: drawn) applies an exact rational Cayley rotation.
    ``exact=None``: drawn.
    """
    exact = _exactness(draw, exact)
    N, d = _dimensions(draw, N, min_N, max_N, extra_dims)
    radii = _radii(draw, N, exact)
    apex = _apex(draw, d, exact, with_apex)
    if exact:
        axes = draw(st.permutations(range(d)))[:N]
        signs = [draw(st.sampled_from([-1, 1])) for _ in range(N)]
        offsets = [sp.Matrix([s * r if i == a else 0 for i in range(d)])
                   for r, a, s in zip(radii, axes, signs)]
        if draw(st.booleans()) if rotate is None else rotate:
            Q = draw(rotations(d, exact=True))
            offsets = [Q * v for v in offsets]
        points = [apex] + [[a + v for a, v in zip(apex, off)] for off in offsets]
    else:
        Q = draw(rotations(d))
        x0 = np.array(apex, dtype=float)
        points = [x0] + [x0 + r * Q[:, n] for n, r in enumerate(radii)]
        points = [[float(x) for x in p] for p in points]
    return OrthogonalDataset(points)


@st.composite
def obtuse_simplices(draw, N=None, min_N=2, max_N=MAX_N, extra_dims=3, exact=False,
                     with_apex=None):
    """An :class:`~theory.datasets.ObtuseSimplex` (paper App. B, Prop. D.1, eq. 36).

    Offsets ``x_n - x_0 = s_n (e_n - sum_{m != n} eps_{nm} e_m)`` with ``eps_{nm}`` in
    ``[EPS_LO, EPS_HI]`` (pairwise obtuse and independent for ``N <= 5``, see the constants) and
    scales ``s_n`` in ``[R_LO, R_HI]``, embedded in ``d`` in ``[N, N + extra_dims]``.  Float data
    is rotated by a seeded random rotation; exact data (``exact=True``) has rational ``eps`` and
    scales and stays axis-aligned up to a permutation of the coordinates (``r_n`` then involve
    square roots).  ``exact=None``: drawn.
    """
    exact = _exactness(draw, exact)
    N, d = _dimensions(draw, N, min_N, max_N, extra_dims)
    if N > MAX_N:
        raise ValueError(f"obtuse_simplices guarantees obtuse angles only for N <= {MAX_N}")
    lo, hi = int(EPS_LO * 100), int(EPS_HI * 100)
    eps = [[Fraction(draw(st.integers(lo, hi)), 100) for _ in range(N)] for _ in range(N)]
    scales = _radii(draw, N, exact)
    apex = _apex(draw, d, exact, with_apex)
    rows = [[1 if m == n else -eps[n][m] for m in range(N)] + [0] * (d - N) for n in range(N)]
    if exact:
        axes = draw(st.permutations(range(d)))
        offsets = [[0] * d for _ in range(N)]
        for n in range(N):
            for i in range(d):
                offsets[n][axes[i]] = scales[n] * sp.Rational(rows[n][i])
        points = [apex] + [[a + v for a, v in zip(apex, off)] for off in offsets]
    else:
        Q = draw(rotations(d))
        x0 = np.array(apex, dtype=float)
        points = [x0] + [x0 + s * Q @ np.array([float(v) for v in row])
                         for s, row in zip(scales, rows)]
        points = [[float(x) for x in p] for p in points]
    return ObtuseSimplex(points)


@st.composite
def equilateral_triangles(draw, min_d=2, max_d=5, exact=False):
    """An :class:`~theory.datasets.EquilateralTriangle` (paper App. C, Prop. D.2, eq. 37).

    Centroid ``m`` random in ``[-3, 3]^d``, circumradius ``R`` in ``[R_LO, R_HI]``, ``d`` in
    ``[min_d, max_d]``.  Float data: vertices ``m + R (cos a_n p + sin a_n q)``, ``a_n = a +
    2 pi n/3``, with ``p, q`` two columns of a seeded random rotation.  Exact data: the triangle
    ``R (1, 0), R (-1/2, +-sqrt(3)/2)`` in two randomly chosen coordinates, rational centroid.
    ``exact=None``: drawn.
    """
    exact = _exactness(draw, exact)
    d = draw(st.integers(max(2, min_d), max_d))
    R = _radii(draw, 1, exact)[0]
    m = _apex(draw, d, exact, True)
    if exact:
        i, j = draw(st.permutations(range(d)))[:2]
        planar = [(R, 0), (-R / 2, R * sp.sqrt(3) / 2), (-R / 2, -R * sp.sqrt(3) / 2)]
        points = []
        for a, b in planar:
            p = list(m)
            p[i] += a
            p[j] += b
            points.append(p)
    else:
        Q = draw(rotations(d))
        angle = draw(st.floats(0, 2 * np.pi))
        c = np.array(m, dtype=float)
        points = [c + R * (np.cos(angle + 2 * np.pi * n / 3) * Q[:, 0]
                           + np.sin(angle + 2 * np.pi * n / 3) * Q[:, 1]) for n in range(3)]
        points = [[float(x) for x in p] for p in points]
    return EquilateralTriangle(points)


@st.composite
def obtuse_simplices_to_regular(draw, N=None, min_N=2, max_N=MAX_N, extra_dims=3, exact=False,
                                min_lam=0.05):
    """An :class:`~theory.datasets.ObtuseSimplex` from near-orthogonal to near-regular.

    Offsets ``w_n = q_n - lam_n m`` (``q_n`` orthonormal columns of a random rotation, ``m``
    their mean) with ``lam_n`` in ``[min_lam, 0.95]``: ``w_i . w_j = (lam_i lam_j - lam_i -
    lam_j)/N < 0`` for ``lam in (0, 1]`` (obtuse for every ``N``), independent since ``lam < 1``.
    Float data: each offset rescaled to a radius in ``[R_LO, R_HI]``, apex in ``[-1, 1]^d``.
    Exact data (``exact=True``): rational ``lam`` (tenths), integer scales 1..4 (``r_n`` then
    involve square roots), exact Cayley rotation, half-integer apex.  ``exact=None``: drawn.
    Compared with :func:`obtuse_simplices` (mildly obtuse, ``N <= 5``) this family reaches the
    near-regular simplices where Thm B.1's criterion bites.
    """
    exact = _exactness(draw, exact)
    N, d = _dimensions(draw, N, min_N, max_N, extra_dims)
    Q = draw(rotations(d, exact))
    if exact:
        lam = [sp.Rational(draw(st.integers(max(1, int(min_lam * 10)), 9)), 10) for _ in range(N)]
        scale = [draw(st.integers(1, 4)) for _ in range(N)]
        mean = sum((Q[:, n] for n in range(N)), sp.zeros(d, 1)) / N
        apex = sp.Matrix([sp.Rational(draw(st.integers(-2, 2)), 2) for _ in range(d)])
        points = [apex] + [apex + scale[n] * (Q[:, n] - lam[n] * mean) for n in range(N)]
        return ObtuseSimplex([list(p) for p in points])
    lam = [draw(st.floats(min_lam, 0.95)) for _ in range(N)]
    radii = [draw(st.floats(R_LO, R_HI)) for _ in range(N)]
    mean = Q[:, :N].mean(axis=1)
    apex = np.array([draw(st.floats(-1.0, 1.0)) for _ in range(d)])
    W = [Q[:, n] - lam[n] * mean for n in range(N)]
    points = [apex] + [apex + radii[n] * w / np.linalg.norm(w) for n, w in enumerate(W)]
    return ObtuseSimplex([list(map(float, p)) for p in points])


def any_datasets(exact=False, max_N=MAX_N):
    """One of the three geometries (float or exact)."""
    return st.one_of(orthogonal_datasets(exact=exact, max_N=max_N),
                     obtuse_simplices(exact=exact, max_N=max(2, max_N)),
                     equilateral_triangles(exact=exact))


def regime_top(dataset):
    """Upper end of the regime :func:`low_noise_rhos` draws from: ``min_n r_n/2`` (ridge data),
    ``rho* = (12 + 3 sqrt 3)/26 R`` (equilateral: minimal, so no warning)."""
    if isinstance(dataset, EquilateralTriangle):
        return equilateral_rho_star(dataset.R)
    return min_cost_denoiser(dataset, RHO).rho_max()


@st.composite
def low_noise_rhos(draw, dataset, lo=0.01, hi=0.95):
    """A noise radius ``rho = f * top`` with ``f`` in ``(lo, hi)`` and ``top`` from
    :func:`regime_top`.  Exact datasets get an exact ``rho`` (``f`` a multiple of 1/1000), float
    datasets a float."""
    top = regime_top(dataset)
    if dataset.exact:
        k = draw(st.integers(int(np.ceil(lo * 1000)) + 1, int(np.floor(hi * 1000)) - 1))
        return sp.Rational(k, 1000) * top
    f = draw(st.floats(lo, hi, exclude_min=True, exclude_max=True))
    return f * float(top)


#: Where :func:`initial_points` places the pinned projections.
PLACEMENTS = ("generic", "near_kink", "midpoint")


@st.composite
def initial_points(draw, denoiser, where="generic", min_offset=1e-6, max_offset=1e-2):
    """A starting point ``y0`` (NumPy array of shape ``(d,)``) for ``denoiser``'s flows.

    ``generic``: Gaussian around the data (projections spread over all pieces).  ``near_kink`` /
    ``midpoint``: one or more units (at most ``rank`` of the directions, so the targets are
    reachable exactly) get projection ``t_n = k +- delta`` with ``k`` one of the unit's kinks /
    the middle of its linear piece and ``delta`` in ``[min_offset, max_offset] * r_n``
    (``min_offset=0`` allows landing exactly on it, up to float rounding); the rest of the point
    is generic, including a component orthogonal to the data span.
    """
    if where not in PLACEMENTS:
        raise ValueError(f"where must be one of {PLACEMENTS}, got {where!r}")
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    o = np.array([float(x) for x in denoiser.origin])
    U = np.array([[float(x) for x in u] for u in denoiser.directions])
    r = np.array([float(x) for x in denoiser.dataset.r])
    z = rng.normal(size=denoiser.d) * draw(st.floats(0.1, 1.5)) * r.max()
    if where == "generic":
        return o + z
    rank = int(np.linalg.matrix_rank(U))
    pinned = draw(st.lists(st.integers(0, denoiser.N - 1), min_size=1, max_size=rank, unique=True))
    targets = []
    for n in pinned:
        unit = denoiser.units[n]
        if where == "near_kink":
            base = float(draw(st.sampled_from([unit.k_lo, unit.k_hi])))
        else:
            base = (float(unit.k_lo) + float(unit.k_hi)) / 2
        delta = draw(st.floats(min_offset, max_offset)) * r[n] * draw(st.sampled_from([-1, 1]))
        targets.append(base + delta)
    UK = U[pinned]
    z = z + UK.T @ np.linalg.solve(UK @ UK.T, np.array(targets) - UK @ z)
    return o + z


__all__ = ["rotations", "orthogonal_datasets", "obtuse_simplices", "obtuse_simplices_to_regular",
           "equilateral_triangles", "any_datasets", "regime_top", "low_noise_rhos", "initial_points",
           "PLACEMENTS", "EPS_LO", "EPS_HI",
           "R_LO", "R_HI", "MAX_N"]
