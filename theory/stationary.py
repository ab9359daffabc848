"""Stationary points of the score flow and their stability (paper eq. 15, Prop. 4.1, Thm 4.2,
Thm B.1; docs/math.md §3, §5).

The score flow in rescaled time is ``dy/dtau = h(y) - y`` (eq. 14) for a ridge denoiser
``h(y) = o + sum_n u_n g_n(t_n)``, ``t_n = u_n^T (y - o)`` (:mod:`theory.denoisers`).  On the
activation region of a pattern (each unit on its ``lower``/``linear``/``upper`` piece) ``h`` is
affine, ``h(y) = J y + b``, and a stationary point solves ``J y + b = y``.  Since ``h(y) - o`` lies
in ``span{u_n}``, so does ``y - o``: the component orthogonal to the data span is ``0``, and

    y = o + sum_n g_n u_n,   t = G g,   g_n = A_n t_n + B_n        (G_{mn} = u_m^T u_n)

— an ``N x N`` affine system for the unit values ``g``.  Flat units have ``A_n = 0``, so
``g_n = B_n`` is known and only the linear units ``L`` are solved for:
``(I - A_L G_LL) g_L = B_L + A_L G_LF g_F``.  The solution is a stationary point iff it lies in
the pattern's region under the **kink convention** (a point exactly on a kink belongs to the flat
piece: flat units need ``margin >= 0``, linear units ``margin > 0``).

**Stability (eq. 15).**  The score Jacobian on the region is ``(J - I)/sigma^2`` with
``J = sum_{n in L} A_n u_n u_n^T``; its eigenvalues are ``(mu - 1)/sigma^2`` for the eigenvalues
``mu`` of ``S_L = A_L^{1/2} G_LL A_L^{1/2}`` (the nonzero spectrum of ``J``, ``A_n > 0`` on linear
pieces) and ``-1/sigma^2`` on the rest of ``R^d``.  So the point is stable iff
``A_L^{-1} - G_LL`` is positive definite, decided exactly by Sylvester's criterion (its leading
principal minors are rational in ``rho``) with :meth:`~theory.denoisers.RidgeDenoiser.decide`
— for a symbolic ``rho``, over the whole low-noise regime.  ``eigenvalues`` are reported for
``sigma = 1`` (the sign pattern is the same for every ``sigma``).

**On a kink** (some flat unit with margin ``0``) the score is not differentiable and eq. 15
cannot decide stability: such points are reported with ``on_kink=True``, ``stable=None``.

**Degenerate patterns.**  When ``I - A_L G_LL`` is singular (``J`` has the eigenvalue 1: possible
for obtuse or equilateral data at isolated values of ``rho``, never for orthogonal data), the
stationary set of that region is empty or a continuum.  Numeric ``rho``: a continuum raises
:class:`DegenerateStationarySetError`.  Symbolic ``rho``: the generic solution is reported; it
is valid for ``rho`` outside the finite set :func:`degenerate_rhos`.

Exact data is handled exactly; float data uses the tolerance :data:`KINK_RTOL` for "on a kink"
and :data:`SINGULAR_RTOL` for degeneracy, and ``mpmath`` (SymPy's numeric core) for eigenvalues.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import mpmath
import sympy as sp
from sympy.matrices.utilities import dotprodsimp

from .datasets import GEOMETRY_RTOL, OrthogonalDataset, RidgeDataset
from .denoisers import RHO, RidgeDenoiser, min_cost_denoiser
from .geometry import hyperbox_vertices
from .pieces import PIECES

#: Float data: a unit margin with ``|margin| <= KINK_RTOL * max_n r_n`` counts as ``0`` (on the
#: kink).  Rotated float64 data carries projection errors ~1e-15 of the data scale; the dataset
#: hypotheses are already checked at this relative tolerance (:data:`GEOMETRY_RTOL`).
KINK_RTOL = GEOMETRY_RTOL
#: Float data: ``|mu - 1| <= SINGULAR_RTOL`` for an eigenvalue ``mu`` of ``S_L`` counts as
#: degenerate (``J`` has the eigenvalue 1); float64 eigenvalues of these O(1)-conditioned
#: matrices are accurate to ~1e-14.
SINGULAR_RTOL = 1e-9
#: Digits of the ``mpmath`` eigenvalue computations (float data, or exact data whose
#: characteristic polynomial SymPy cannot factor).
EIG_DIGITS = 30


def _cancel(expr):
    """Exact normal form of a rational function of ``rho`` whose coefficients may contain square
    roots of the data (``cancel`` over the algebraic extension; plain ``cancel`` would leave
    ``sqrt`` factors uncancelled and the expressions grow with every solve).  Numbers get their
    denominators rationalised (a sum of radicals with rational coefficients)."""
    expr = sp.sympify(expr)
    if not expr.free_symbols:  # an algebraic number: rationalise denominators, keep it small
        return sp.expand(sp.radsimp(sp.together(expr)))
    expr = sp.together(expr)
    try:
        return sp.cancel(expr, extension=True)
    except (sp.PolificationFailed, NotImplementedError):
        return sp.cancel(expr)


class DegenerateStationarySetError(ArithmeticError):
    """A region whose stationary set is a continuum (``J`` has the eigenvalue 1 there)."""


@dataclass(frozen=True)
class StationaryPoint:
    """One stationary point of ``dy/dtau = h(y) - y`` (eq. 14).

    ``point``: the point (immutable column vector).  ``pattern``: the activation pattern of its
    region.  ``eigenvalues``: the ``d`` eigenvalues of ``J - I`` (the score Jacobian times
    ``sigma^2``; exact when SymPy finds them in closed form, ``EIG_DIGITS``-digit floats for
    numeric ``rho`` otherwise, ``None`` for a symbolic ``rho`` without a closed form).
    ``stable``: eq. 15's verdict (``None`` on a kink, or when it depends on a symbolic ``rho``).
    ``on_kink``: some flat unit sits exactly on its kink (``None``: only for some ``rho``).
    ``margin``: signed distance to leaving the region, ``min_n`` of the unit margins
    (``k_lo - t`` lower, ``t - k_hi`` upper, ``min(t - k_lo, k_hi - t)`` linear; ``u_n`` are unit
    vectors so these are Euclidean distances to the region's walls).  ``condition``: ``true``
    when the point lies in its region (for every ``rho`` of the regime, if symbolic), else the
    relations on ``rho`` under which it does.
    """

    point: sp.ImmutableMatrix
    pattern: tuple
    eigenvalues: tuple | None
    stable: bool | None
    on_kink: bool | None
    margin: sp.Expr
    condition: sp.Basic = sp.true


class _Regions:
    """Per-denoiser data and sign decisions shared by all patterns."""

    def __init__(self, denoiser: RidgeDenoiser):
        if not isinstance(denoiser, RidgeDenoiser):
            raise TypeError(f"expected a RidgeDenoiser (min_cost_denoiser(...)), got "
                            f"{type(denoiser).__name__}")
        self.dn = denoiser
        self.N, self.d = denoiser.N, denoiser.d
        self.symbolic = isinstance(denoiser.rho, sp.Symbol)
        self.floating = (not denoiser.dataset.exact) or sp.sympify(denoiser.rho).has(sp.Float)
        u = denoiser.directions
        gram = [[u[i].dot(u[j]) for j in range(self.N)] for i in range(self.N)]
        self.G = sp.Matrix(gram) if self.floating else sp.Matrix(gram).applyfunc(sp.radsimp)
        self.scale = max(float(r) for r in denoiser.dataset.r)
        self._signs = {}

    def sign(self, expr) -> int | None:
        """Sign of a margin: ``1``, ``0``, ``-1``, or ``None`` if it depends on a symbolic rho."""
        expr = sp.sympify(expr)
        if expr in self._signs:
            return self._signs[expr]
        if not expr.free_symbols and expr.has(sp.Float):
            v = float(expr)
            out = 0 if abs(v) <= KINK_RTOL * self.scale else (1 if v > 0 else -1)
        else:
            e = _cancel(expr) if expr.free_symbols else expr
            if not e.free_symbols:
                v = e.evalf(60)
                if abs(v) > sp.Float("1e-45"):
                    out = 1 if v > 0 else -1
                else:
                    out = 0 if e.equals(0) else (1 if self.dn.decide(e > 0) else -1)
            elif e == 0:  # _cancel gives the canonical form of a rational function
                out = 0
            elif self.dn.decide(e > 0):
                out = 1
            elif self.dn.decide(e < 0):
                out = -1
            else:
                out = None
        self._signs[expr] = out
        return out

    # -- linear algebra on the linear units ---------------------------------------------------
    def linear_system(self, pattern):
        """``(M, rhs, L, g_F)`` with ``M = I - A_L G_LL`` and ``M g_L = rhs``."""
        units = self.dn.units
        L = [n for n, p in enumerate(pattern) if p == "linear"]
        F = [n for n, p in enumerate(pattern) if p != "linear"]
        g = {n: units[n].coefficients[pattern[n]][1] for n in F}  # flat: g_n = B_n
        A = {n: units[n].coefficients["linear"][0] for n in L}
        B = {n: units[n].coefficients["linear"][1] for n in L}
        M = sp.Matrix(len(L), len(L), lambda i, j: int(i == j) - A[L[i]] * self.G[L[i], L[j]])
        rhs = sp.Matrix([B[n] + A[n] * sum((self.G[n, m] * g[m] for m in F), sp.Integer(0))
                         for n in L])
        return M, rhs, L, g

    def slopes(self, L):
        return [self.dn.units[n].coefficients["linear"][0] for n in L]

    def float_spectrum(self, L) -> list:
        """Eigenvalues of ``S_L = A^{1/2} G_LL A^{1/2}`` with mpmath (symmetric solver)."""
        with mpmath.workdps(EIG_DIGITS):
            a = [mpmath.mpf(str(sp.sympify(x).evalf(EIG_DIGITS))) for x in self.slopes(L)]
            S = mpmath.matrix(len(L), len(L))
            for i, n in enumerate(L):
                for j, m in enumerate(L):
                    S[i, j] = mpmath.sqrt(a[i] * a[j]) * mpmath.mpf(
                        str(self.G[n, m].evalf(EIG_DIGITS)))
            mu = mpmath.eigsy(S, eigvals_only=True)
            return sorted(sp.Float(x, EIG_DIGITS) for x in mu)

    def exact_spectrum(self, L) -> list | None:
        """Eigenvalues of ``A_L G_LL`` (same spectrum as ``S_L``) in closed form, or ``None``."""
        P = sp.diag(*self.slopes(L)) * self.G.extract(L, L)
        if P.is_diagonal():
            return [_cancel(P[i, i]) for i in range(len(L))]
        if not self.symbolic and not all(e.is_Rational for e in P):
            return self.float_spectrum(L)  # algebraic entries: closed forms are nested radicals
        x = sp.Dummy("x")
        poly = P.charpoly(x)
        roots = sp.roots(poly, multiple=True, cubics=False, quartics=False)
        if len(roots) == poly.degree():
            return [sp.simplify(r) for r in roots]
        if self.symbolic:
            return None
        return self.float_spectrum(L)

    def stability(self, L, eigenvalues) -> bool | None:
        """Eq. 15 off the kinks: every eigenvalue of ``J - I`` negative.

        Decided from the exact eigenvalues when they are known (each sign over the whole regime
        for a symbolic ``rho``), else by Sylvester's criterion: ``A_L^{-1} - G_LL`` positive
        definite (leading principal minors ``> 0``).  ``None`` if it depends on ``rho``.
        """
        if not L:
            return True
        if self.floating:
            return max(self.float_spectrum(L)) < 1
        if eigenvalues is not None:
            signs = [self.sign(ev) for ev in eigenvalues]
            if any(sg is not None and sg >= 0 for sg in signs):
                return False
            if all(sg == -1 for sg in signs):
                return True
        K = sp.diag(*[1 / a for a in self.slopes(L)]) - self.G.extract(L, L)
        verdicts = [self.sign(K[:k, :k].det(method="berkowitz")) for k in range(1, len(L) + 1)]
        if any(v is not None and v <= 0 for v in verdicts):
            return False
        return None if None in verdicts else True

    def eigenvalues(self, L) -> tuple | None:
        """The ``d`` eigenvalues of ``J - I`` (``sigma = 1``)."""
        mu = (self.float_spectrum(L) if self.floating else self.exact_spectrum(L)) if L else []
        if mu is None:
            return None
        if len(L) > self.d:  # rank(J) <= d: drop the surplus zero eigenvalues of S_L
            surplus = len(L) - self.d
            if self.floating:
                mu = sorted(mu, key=lambda m: abs(float(m)))[surplus:]
            else:
                zeros = [i for i, m in enumerate(mu) if self.sign(m) == 0][:surplus]
                mu = [m for i, m in enumerate(mu) if i not in zeros]
        ev = [m - 1 if self.floating or m.has(sp.Float) else _cancel(m - 1) for m in mu]
        return tuple(ev + [sp.Integer(-1)] * (self.d - len(mu)))


def _solve(reg: _Regions, pattern):
    """Unit values ``g`` on ``pattern`` (dict n -> g_n), or ``None`` if the system has none."""
    M, rhs, L, g = reg.linear_system(pattern)
    if not L:
        return g
    if reg.floating:
        mu = reg.float_spectrum(L)
        singular = min(abs(m - 1) for m in mu) <= SINGULAR_RTOL
    else:
        det = _cancel(M.det(method="berkowitz"))
        singular = det == 0 or (not det.free_symbols and reg.sign(det) == 0)
    if singular:
        aug = M.row_join(rhs)
        if reg.floating:
            def rank(X):
                return X.evalf().rank(iszerofunc=lambda e: abs(e) <= SINGULAR_RTOL)
        else:
            def rank(X):
                return X.rank(simplify=True)
        if rank(aug) > rank(M):
            return None  # inconsistent: no stationary point in this region
        raise DegenerateStationarySetError(
            f"pattern {pattern}: J has the eigenvalue 1 at rho = {reg.dn.rho}, so the stationary "
            "set of this region is a continuum, not isolated points (eq. 15 undecidable)")
    sol = M.LUsolve(rhs)
    for i, n in enumerate(L):
        g[n] = sol[i] if reg.floating else _cancel(sol[i])
    return g


def _smallest(reg: _Regions, values):
    """The minimum of margins: ``sp.Min`` if symbolic, else chosen by :meth:`_Regions.sign`
    (``sp.Min`` of several algebraic numbers would compare them through minimal polynomials)."""
    if any(sp.sympify(v).free_symbols for v in values):
        return sp.Min(*values)
    best = values[0]
    for v in values[1:]:
        if reg.sign(v - best) == -1:
            best = v
    return best


def _point_on(reg: _Regions, pattern) -> StationaryPoint | None:
    g = _solve(reg, pattern)
    if g is None:
        return None
    dn = reg.dn
    gvec = sp.Matrix([g[n] for n in range(reg.N)])
    t = reg.G * gvec
    conditions, unit_margins, flat_signs = [], [], []
    for n, (unit, piece) in enumerate(zip(dn.units, pattern)):
        tn = t[n] if reg.floating else _cancel(t[n])
        ms = unit.margins(piece, tn)
        for value, strict in ms:
            s = reg.sign(value)
            if s is not None and (s < 0 or (strict and s == 0)):
                return None  # decided outside the region
            if s is None:
                conditions.append(value > 0 if strict else value >= 0)
            if not strict:
                flat_signs.append(s)
        unit_margins.append(_smallest(reg, [m for m, _ in ms]))
    point = dn.origin + sum((gn * u for gn, u in zip(gvec, dn.directions)), sp.zeros(reg.d, 1))
    if not reg.floating:
        point = point.applyfunc(_cancel)
    on_kink = True if 0 in flat_signs else (None if None in flat_signs else False)
    L = [n for n, p in enumerate(pattern) if p == "linear"]
    eigenvalues = reg.eigenvalues(L)
    stable = None if on_kink else reg.stability(L, eigenvalues)
    margin = _smallest(reg, unit_margins)
    return StationaryPoint(sp.ImmutableMatrix(point), tuple(pattern), eigenvalues, stable,
                           on_kink, margin, sp.And(*conditions) if conditions else sp.true)


def stationary_points(denoiser: RidgeDenoiser) -> tuple:
    """All stationary points of ``dy/dtau = h(y) - y`` (eq. 14), one per activation pattern at
    most (``3^N`` patterns; docs/math.md §5 Thm 4.2 for orthogonal data, Thm B.1 for obtuse data).

    Works for every geometry and score model, with exact data and a numeric or symbolic ``rho``
    (region membership and eq. 15 decided exactly over the low-noise regime) and with float data.
    Points on a kink have ``on_kink=True`` and ``stable=None``: eq. 15 needs a differentiable
    score, which fails there.  Raises :class:`DegenerateStationarySetError` if a region holds a
    continuum of stationary points (numeric ``rho`` only; see :func:`degenerate_rhos`).
    Cost: ``3^N`` small solves; ``N <= 5`` is practical.
    """
    reg = _Regions(denoiser)
    out = []
    with dotprodsimp(False):  # intermediate simplification only swells radical-laden entries
        for pattern in product(PIECES, repeat=reg.N):
            p = _point_on(reg, pattern)
            if p is not None:
                out.append(p)
    return tuple(out)


def stable_points(denoiser: RidgeDenoiser) -> tuple:
    """The stationary points that are stable by eq. 15 (for a symbolic ``rho``: stable and in
    their region for every ``rho`` of the low-noise regime)."""
    return tuple(p for p in stationary_points(denoiser)
                 if p.stable is True and p.condition == sp.true)


def degenerate_rhos(denoiser: RidgeDenoiser) -> dict:
    """For a symbolic ``rho``: ``{pattern: values}`` of the ``rho`` in ``(0, rho_max)`` at which
    the pattern's system ``I - A_L G_LL`` is singular (``J`` has the eigenvalue 1).  Stationary
    points reported for a symbolic ``rho`` are valid outside these values."""
    if not isinstance(denoiser.rho, sp.Symbol):
        raise ValueError("degenerate_rhos needs a denoiser with a symbolic rho (e.g. theory.RHO)")
    reg = _Regions(denoiser)
    out = {}
    for pattern in product(PIECES, repeat=reg.N):
        M, _, L, _ = reg.linear_system(pattern)
        if not L:
            continue
        num, _ = sp.fraction(_cancel(M.det(method="berkowitz")))
        roots = sp.solveset(num, denoiser.rho, sp.Interval.open(0, denoiser.rho_max()))
        if roots is not sp.S.EmptySet:
            out[tuple(pattern)] = roots
    return out


# -- the paper's stable sets -------------------------------------------------------------------
def thm_4_2_set(dataset: OrthogonalDataset) -> dict:
    """Thm 4.2: the stable stationary points for orthogonal data are the ``2^N`` partial sums
    ``{S: x_0 + sum_{n in S}(x_n - x_0)}`` (hyperbox vertices; exact SymPy vectors)."""
    if not isinstance(dataset, OrthogonalDataset):
        raise TypeError(f"Thm 4.2 is about orthogonal data, got {type(dataset).__name__}")
    return hyperbox_vertices(dataset)


def thm_b1_criterion(dataset: RidgeDataset, subset, rho=RHO) -> sp.Expr:
    """Thm B.1 (docs/math.md §5): margin of the partial sum over ``subset`` (1-based indices),

        rho - max_{n in S} sum_{m in S, m != n} -u_n^T (x_m - x_0)

    (the maximum over an empty set taken as ``0``).  The partial sum is a stable stationary point
    iff the margin is ``> 0``; at ``0`` it sits on a kink.  Equals the ``margin`` that
    :func:`stationary_points` reports for that point in the exact model.
    """
    if not isinstance(dataset, RidgeDataset):
        raise TypeError(f"Thm B.1 is about an apex and offsets, got {type(dataset).__name__}")
    S = sorted(set(subset))
    if any(not 1 <= n <= dataset.N for n in S):
        raise ValueError(f"subset {S} has indices outside 1..{dataset.N}")
    sums = [sum((-dataset.u[n - 1].dot(dataset.offsets[m - 1]) for m in S if m != n), sp.Integer(0))
            for n in S]
    if dataset.exact:
        worst = sp.Max(0, *[sp.radsimp(s) for s in sums])
    else:
        worst = sp.Float(max([0.0] + [float(s) for s in sums]), 17)
    return sp.sympify(rho) - worst


def thm_b1_set(dataset: RidgeDataset, rho=RHO) -> dict:
    """Thm B.1's stable set ``{S: partial sum}``: the partial sums whose
    :func:`thm_b1_criterion` margin is ``> 0`` (for a symbolic ``rho``: for every ``rho`` of the
    low-noise regime).  ``rho`` is validated against the regime."""
    dn = min_cost_denoiser(dataset, rho)
    reg = _Regions(dn)
    return {S: v for S, v in hyperbox_vertices(dataset).items()
            if reg.sign(thm_b1_criterion(dataset, S, dn.rho)) == 1}
