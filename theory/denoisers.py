"""Closed-form min-cost denoisers (docs/math.md §2; paper eqs. 17, 36, 37) and their score models.

All three geometries give a *ridge denoiser*

    h(y) = o + sum_n u_n g_n(u_n^T (y - o))

with ``g_n`` the three-piece response of :mod:`theory.pieces`:

* orthogonal data (eq. 17) and obtuse simplex (Prop. D.1, eq. 36): ``o = x_0``,
  ``u_n = (x_n - x_0)/r_n``, ``g_n = phi(.; r_n, rho)``;
* equilateral triangle (Prop. D.2, eq. 37, docs/math.md §2): ``o = m`` (the centroid),
  ``u_n = v_n = (x_n - m)/R``, ``g_n = k([t - beta_lo]_+ - [t - beta_hi]_+)`` with
  ``beta_lo = -R/2 + rho``, ``beta_hi = R - rho``, ``k = R/(3R/2 - 2 rho)``.

The Taylor score models (``taylor``, ``taylor-fixed-kinks``; eqs. 18-19) change only ``g_n`` and
exist for the ridge datasets (orthogonal, obtuse).  ``rho`` may be a number or a SymPy symbol;
numbers are checked against the low-noise regime (:meth:`RidgeDenoiser.rho_max`).
"""
from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass

import sympy as sp

from .datasets import Dataset, EquilateralTriangle, RidgeDataset
from .errors import (ArgumentTypeError, BallsOverlapError, InputError, LowNoiseError,
                     NonFiniteError, NotMinimalWarning, OutOfRangeError, ShapeError,
                     UnknownChoiceError, describe)
from .network import ShallowReLUNetwork
from .pieces import (PIECES, UnitPieces, check_model, equilateral_ramp, on_lower, on_upper,
                     unit_pieces)

#: Rho symbol used when a symbolic noise radius is wanted (``rho > 0``).
RHO = sp.Symbol("rho", positive=True)


def y_symbols(d: int) -> tuple:
    """The input symbols ``y_1, ..., y_d`` (real)."""
    return sp.symbols(f"y_1:{d + 1}", real=True)


def equilateral_rho_star(R) -> sp.Expr:
    """``rho* = (12 + 3 sqrt 3)/26 R``: the closed form is minimal exactly for ``rho <= rho*``."""
    return (12 + 3 * sp.sqrt(3)) / 26 * R


def _decide(expr) -> bool | None:
    """Truth value of a relational if SymPy can decide it, else ``None``.

    ``a <= b`` is decided through the sign of ``b - a`` brought to one fraction and factored,
    which settles the rational expressions in ``rho`` that occur here.
    """
    expr = sp.sympify(expr)
    if expr in (sp.true, sp.false):
        return bool(expr)
    if isinstance(expr, (sp.LessThan, sp.StrictLessThan, sp.GreaterThan, sp.StrictGreaterThan)):
        big, small = ((expr.rhs, expr.lhs) if isinstance(expr, (sp.LessThan, sp.StrictLessThan))
                      else (expr.lhs, expr.rhs))
        diff = sp.factor(sp.together(sp.simplify(big - small)))
        strict = isinstance(expr, (sp.StrictLessThan, sp.StrictGreaterThan))
        verdict = diff.is_positive if strict else diff.is_nonnegative
        if verdict is None:
            verdict = diff.is_nonpositive if strict else diff.is_negative
            return None if verdict is None else not verdict
        return bool(verdict)
    try:
        return bool(expr)
    except TypeError:
        return None


@dataclass(frozen=True)
class ActivationRegion:
    """The set of inputs on which each unit is on a given piece (``lower``/``linear``/``upper``).

    On a region the denoiser is affine, ``h(y) = J y + b`` with the piecewise-constant Jacobian
    ``J = sum_n A_n u_n u_n^T`` (docs/math.md §2; eqs. 40-41 / 91-92 of the paper for the exact
    model).
    """

    denoiser: "RidgeDenoiser"
    pattern: tuple

    def inequalities(self, y=None) -> list:
        """SymPy relations in ``y`` that define the region (kinks belong to flat pieces)."""
        y = sp.Matrix(y_symbols(self.denoiser.d) if y is None else y)
        out = []
        for t, unit, piece in zip(self.denoiser.projections(y), self.denoiser.units, self.pattern):
            out += unit.conditions(piece, t)
        return out

    def jacobian(self) -> sp.Matrix:
        """``dh/dy`` on this region: ``sum_n A_n(piece) u_n u_n^T``."""
        dn = self.denoiser
        J = sp.zeros(dn.d, dn.d)
        for u, unit, piece in zip(dn.directions, dn.units, self.pattern):
            A = unit.coefficients[piece][0]
            if A != 0:
                J += A * u * u.T
        return J

    def offset(self) -> sp.Matrix:
        """``b`` in ``h(y) = J y + b`` on this region."""
        dn = self.denoiser
        b = sp.Matrix(dn.origin)
        for u, unit, piece in zip(dn.directions, dn.units, self.pattern):
            A, B = unit.coefficients[piece]
            b += u * (B - A * u.dot(dn.origin))
        return b

    def score_jacobian(self, sigma=1) -> sp.Matrix:
        """Jacobian of the score ``(h - y)/sigma^2`` on this region (eq. 15's matrix)."""
        return (self.jacobian() - sp.eye(self.denoiser.d)) / sp.sympify(sigma) ** 2


class RidgeDenoiser:
    """``h(y) = o + sum_n u_n g_n(u_n^T (y - o))`` for one dataset, noise radius and score model.

    Attributes: ``dataset``, ``rho``, ``model``, ``origin`` (``o``), ``directions`` (``u_n``),
    ``units`` (:class:`theory.pieces.UnitPieces`, one per ``n``), ``d``, ``N``.
    Build it with :func:`min_cost_denoiser`.
    """

    def __init__(self, dataset: Dataset, rho, model: str, origin, directions, units):
        self.dataset = dataset
        self.rho = rho
        self.model = model
        self.origin = origin
        self.directions = tuple(directions)
        self.units = tuple(units)
        self.d = dataset.d
        self.N = len(self.units)

    # -- evaluation -----------------------------------------------------------------------
    def projections(self, y) -> list:
        """``t_n = u_n^T (y - o)`` for every unit."""
        y = sp.Matrix(y)
        if y.rows != self.d or y.cols != 1:
            raise ShapeError(f"y has {y.rows * y.cols} coordinates, the data live in dimension "
                             f"d={self.d}")
        z = y - self.origin
        return [u.dot(z) for u in self.directions]

    def expression(self, y=None) -> sp.Matrix:
        """``h(y)`` as a SymPy column vector (symbols ``y_1..y_d`` unless ``y`` is given)."""
        y = sp.Matrix(y_symbols(self.d) if y is None else y)
        out = sp.Matrix(self.origin)
        for u, unit, t in zip(self.directions, self.units, self.projections(y)):
            out += u * unit.response(t)
        return out

    def decide(self, relation) -> bool | None:
        """Decide a relation; for a symbolic ``rho``, over the whole low-noise regime.

        With a symbolic ``rho`` the answer is ``True`` if the relation holds for every
        ``rho in (0, rho_max)``, ``False`` if for none, ``None`` if it depends on ``rho``.  The
        difference of the two sides is a rational function of ``rho``; its sign is constant
        between the real roots of numerator and denominator (found with ``solveset``), so it
        is evaluated exactly at each root and at a point between consecutive roots.
        """
        verdict = _decide(relation)
        if verdict is not None or not isinstance(self.rho, sp.Symbol):
            return verdict
        relation = sp.sympify(relation)
        top = self.rho_max()
        num, den = sp.fraction(sp.together(relation.lhs - relation.rhs))
        cuts = {sp.Integer(0), top}
        for p in (num, den):
            roots = sp.solveset(p, self.rho, sp.Interval.open(0, top))
            if roots is sp.S.EmptySet:
                continue
            if not isinstance(roots, sp.FiniteSet):
                return None
            cuts |= set(roots)
        cuts = sorted(cuts, key=lambda e: float(e))
        probes = [(a + b) / 2 for a, b in zip(cuts, cuts[1:])] + cuts[1:-1]
        probes = [p for p in probes if sp.simplify(den.subs(self.rho, p)) != 0]  # poles: undefined
        results = {_decide(relation.subs(self.rho, p)) for p in probes}
        return results.pop() if len(results) == 1 else None

    def pattern(self, y) -> tuple:
        """Activation pattern at a point (kinks count as flat pieces)."""
        out = []
        for n, (unit, t) in enumerate(zip(self.units, self.projections(y)), start=1):
            below = self.decide(on_lower(t, unit.k_lo))
            above = self.decide(on_upper(t, unit.k_hi))
            if below is None or above is None:
                raise ValueError(f"cannot decide the piece of unit {n} symbolically; substitute a "
                                 "number for rho first")
            out.append("lower" if below else "upper" if above else "linear")
        return tuple(out)

    def __call__(self, y) -> sp.Matrix:
        """``h(y)`` at a point, evaluated piece by piece."""
        out = sp.Matrix(self.origin)
        for u, unit, piece, t in zip(self.directions, self.units, self.pattern(y),
                                     self.projections(y)):
            out += u * unit.value(piece, t)
        return out

    def region(self, pattern) -> ActivationRegion:
        pattern = tuple(pattern)
        if len(pattern) != self.N or any(p not in PIECES for p in pattern):
            raise ValueError(f"an activation pattern is {self.N} entries from {PIECES}")
        return ActivationRegion(self, pattern)

    def jacobian(self, y) -> sp.Matrix:
        """``dh/dy`` at a point off the kinks (piecewise constant)."""
        return self.region(self.pattern(y)).jacobian()

    def score(self, y=None, sigma=None) -> sp.Matrix:
        """Tweedie score ``(h(y) - y)/sigma^2`` (eq. 10); ``sigma = rho/c`` is the caller's link."""
        y = sp.Matrix(y_symbols(self.d) if y is None else y)
        sigma = sp.Symbol("sigma", positive=True) if sigma is None else sp.sympify(sigma)
        return (self.expression(y) - y) / sigma ** 2

    # -- the min-cost properties ------------------------------------------------------------
    def network(self) -> ShallowReLUNetwork:
        """Parameters (eq. 4) realising the exact model: two ReLUs per unit, ``V = 0``, ``c = o``.

        Unit ``n`` with ramp ``k([t - lo]_+ - [t - hi]_+)`` is ``a = +-k u_n``, ``w = u_n``,
        ``b = -u_n^T o - lo`` / ``- hi``.
        """
        if self.model != "exact":
            raise ValueError(f"the {self.model!r} score model is not a ReLU network (its response "
                             "jumps at the kinks); only model='exact' has network parameters")
        a, w, b = [], [], []
        for u, unit in zip(self.directions, self.units):
            k = unit.coefficients["linear"][0]
            for sign, kink in ((1, unit.k_lo), (-1, unit.k_hi)):
                a.append(sign * k * u)
                w.append(sp.Matrix(u))
                b.append(-u.dot(self.origin) - kink)
        return ShallowReLUNetwork(tuple(a), tuple(w), tuple(b), sp.zeros(self.d, self.d),
                                  sp.Matrix(self.origin))

    def representation_cost(self) -> sp.Expr:
        """Closed-form cost: ``sum_n 2 r_n/(r_n - 2 rho)`` (ridge data), ``4H/(H - 2 rho)`` with
        ``H = 3R/2`` (equilateral).  Equal to ``network().unit_cost()`` (tested)."""
        if self.model != "exact":
            raise ValueError("the representation cost is defined for model='exact' only")
        if isinstance(self.dataset, EquilateralTriangle):
            H = sp.Rational(3, 2) * self.dataset.R
            return 4 * H / (H - 2 * self.rho)
        return sum((2 * r / (r - 2 * self.rho) for r in self.dataset.r), sp.Integer(0))

    def rho_max(self) -> sp.Expr:
        """Upper end of the low-noise regime in which this closed form interpolates.

        Ridge data: ``min_n r_n / 2`` (beyond it ``B(x_0, rho)`` and ``B(x_n, rho)`` meet and the
        ramp slope ``r/(r - 2 rho)`` blows up).  Equilateral: ``3R/4`` (docs/math.md §2).
        """
        if isinstance(self.dataset, EquilateralTriangle):
            return sp.Rational(3, 4) * self.dataset.R
        return sp.Min(*self.dataset.r) / 2

    def interpolation_margins(self) -> dict:
        """For every ball ``m`` and unit ``n``: how far ``{u_n^T(y - o) : y in B(x_m, rho)}`` stays
        from the open linear piece of unit ``n`` (``>= 0`` certifies that unit is constant on the
        ball).  Keys ``(m, n)``; ``m`` indexes ``dataset.points`` (0-based, ``x_0`` first)."""
        out = {}
        for m, x in enumerate(self.dataset.points):
            for n, t in enumerate(self.projections(x), start=1):
                unit = self.units[n - 1]
                out[(m, n)] = sp.simplify(sp.Max(unit.k_lo - (t + self.rho), (t - self.rho) - unit.k_hi))
        return out

    def interpolation_residuals(self) -> dict:
        """``h(x_m) - x_m`` for every training point (zero vectors for an interpolant)."""
        return {m: (self(x) - x).applyfunc(sp.simplify) for m, x in enumerate(self.dataset.points)}

    def interpolates(self, tol: float = 0.0) -> bool:
        """Exact certificate that ``h = x_m`` on every ball ``B(x_m, rho)``.

        Each unit is constant on each ball (margins ``>= -tol``) and ``h(x_m) = x_m`` (residual
        ``<= tol``).  Use ``tol = 0`` for exact data, a float64-sized one for float data.
        """
        margins_ok = all(self.decide(mg >= -tol) for mg in self.interpolation_margins().values())
        res_ok = all(all(self.decide(abs(e) <= tol) for e in r)
                     for r in self.interpolation_residuals().values())
        return bool(margins_ok and res_ok)


def _as_rho(rho):
    """``rho`` as a SymPy number or expression; one-line errors for every other type."""
    if isinstance(rho, sp.Basic):
        if rho.has(sp.nan, sp.oo, -sp.oo, sp.zoo):
            raise NonFiniteError(f"rho is {rho}; pass a finite positive number, e.g. 0.1")
        if rho.is_number and rho.is_real is False:
            raise ArgumentTypeError(f"rho must be a positive real number, got the complex {rho}")
        return rho
    if isinstance(rho, numbers.Real) and not isinstance(rho, bool):
        if isinstance(rho, numbers.Integral):
            return sp.Integer(int(rho))
        if isinstance(rho, numbers.Rational):
            return sp.Rational(int(rho.numerator), int(rho.denominator))
        x = float(rho)  # Python and NumPy floats: float32 NaN and inf included
        if not math.isfinite(x):
            raise NonFiniteError(f"rho is {x}; pass a finite positive number, e.g. 0.1")
        return sp.Float(x, 17)
    raise ArgumentTypeError(f"rho must be a positive number (e.g. 0.1) or a SymPy symbol, got "
                            f"{describe(rho)}")


def _check_rho(dataset: Dataset, rho):
    """Validate a numeric ``rho`` against the dataset's low-noise regime (raise or warn).

    Float data is compared in float64 against the float lengths (no SymPy attribute is built,
    so this stays cheap for thousands of units); exact data exactly."""
    rho = _as_rho(rho)
    if not rho.is_number:
        return rho  # symbolic: the caller assumes the low-noise regime
    if not bool(rho > 0):
        raise OutOfRangeError(f"rho must be a positive number (e.g. 0.1), got {float(rho):g}")
    exact = dataset.exact and not rho.has(sp.Float)
    x = float(rho)

    def at_least(a, b) -> bool:  # a >= b, exactly for exact data
        return bool(sp.sympify(a) >= sp.sympify(b)) if exact else float(a) >= float(b)

    if isinstance(dataset, EquilateralTriangle):
        R = dataset.R if exact else float(dataset.float_geometry.r[0])
        side = sp.sqrt(3) * R if exact else math.sqrt(3) * R
        if at_least(rho, side / 2):
            raise BallsOverlapError(f"rho = {x:.6g} >= side/2 = {float(side / 2):.6g}: "
                                    "the balls around the three vertices overlap")
        if at_least(rho, sp.Rational(3, 4) * R if exact else 0.75 * R):
            raise LowNoiseError(f"rho = {x:.6g} is outside the low-noise regime of the "
                                f"equilateral closed form: it interpolates only for rho < 3R/4 = "
                                f"{float(R) * 3 / 4:.6g}")
        star = equilateral_rho_star(R)
        if not at_least(star, rho):
            warnings.warn(f"rho = {x:.6g} > rho* = (12 + 3 sqrt 3)/26 R = {float(star):.6g}: "
                          "the closed form interpolates but is not the minimum-cost interpolant "
                          "(docs/math.md §2)", NotMinimalWarning, stacklevel=3)
        return rho
    radii = dataset.r if exact else dataset.float_geometry.r
    for n, r in enumerate(radii, start=1):
        if at_least(rho, r / 2):
            rmin = min(float(v) for v in radii)
            raise BallsOverlapError(
                f"rho = {x:.6g} >= r_{n}/2 = {float(r) / 2:.6g}: the balls B(x_0, rho) and "
                f"B(x_{n}, rho) overlap, so rho is outside the low-noise regime (need rho < "
                f"min_n r_n/2 = {rmin / 2:.6g})")
    return rho


def check_low_noise(dataset: Dataset, rho, model: str = "exact"):
    """Check that ``model`` exists for ``dataset`` and that a numeric ``rho`` is in the low-noise
    regime (the errors of :func:`min_cost_denoiser`, without building the denoiser); returns
    ``rho`` as a SymPy number."""
    check_model(model)
    if not isinstance(dataset, Dataset):
        raise ArgumentTypeError(f"dataset must be a theory.datasets.Dataset (build one with "
                                f"theory.datasets.make_dataset), got a {type(dataset).__name__}")
    if not isinstance(dataset, (RidgeDataset, EquilateralTriangle)):
        raise InputError(f"no closed-form min-cost denoiser for {dataset.kind} data: closed forms "
                         "exist for orthogonal, obtuse and equilateral data (docs/math.md §2)")
    if isinstance(dataset, EquilateralTriangle) and model != "exact":
        raise UnknownChoiceError(f"the {model!r} score model is defined for orthogonal and obtuse "
                                 "data only; the equilateral denoiser has model='exact'")
    return _check_rho(dataset, rho)


def min_cost_denoiser(dataset: Dataset, rho, model: str = "exact") -> RidgeDenoiser:
    """The closed-form min-cost denoiser of ``dataset`` at noise radius ``rho`` (docs/math.md §2).

    ``model`` selects the score model of docs/math.md §3: ``exact`` (eq. 17/36/37), ``taylor`` or
    ``taylor-fixed-kinks`` (eqs. 18-19; ridge datasets only).  Raises
    :class:`~theory.errors.BallsOverlapError` / :class:`~theory.errors.LowNoiseError` when a
    numeric ``rho`` is outside the low-noise regime, warns
    :class:`~theory.errors.NotMinimalWarning` for an equilateral ``rho`` in ``(rho*, 3R/4)``.
    """
    rho = check_low_noise(dataset, rho, model)
    if isinstance(dataset, EquilateralTriangle):
        unit = unit_ramp(dataset.kind, model, dataset.R, rho)
        return RidgeDenoiser(dataset, rho, model, dataset.centroid, dataset.v, [unit] * 3)
    units = [unit_ramp(dataset.kind, model, r, rho) for r in dataset.r]
    return RidgeDenoiser(dataset, rho, model, dataset.apex, dataset.u, units)


def unit_ramp(kind: str, model: str, r, rho) -> UnitPieces:
    """The response of one unit of a ``kind`` dataset's denoiser in ``model``, as a function of
    the unit's length ``r`` (``r_n``; the circumradius ``R`` for the triangle) and ``rho``: the
    one template that :func:`min_cost_denoiser` and the numerics
    (:class:`numerics.evaluate.CompiledDenoiser`) both instantiate."""
    check_model(model)
    if kind == "equilateral":
        return equilateral_ramp(r, rho)
    return unit_pieces(model, r, rho)


def unit_pieces_of(dataset: Dataset, model: str, rho) -> list[UnitPieces]:
    """The unit responses of ``dataset``'s denoiser without validating ``rho`` (for lambdify)."""
    return [unit_ramp(dataset.kind, model, r, rho) for r in dataset.r]
