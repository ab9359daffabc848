"""Training sets as validated objects: orthogonal, obtuse simplex, equilateral triangle
(docs/math.md §1-§2).

Constructors accept exact coordinates (ints, ``Rational``, ``sqrt(2)``, any SymPy number) or
floats (Python, NumPy).  Every violated hypothesis raises its own error from :mod:`theory.errors`
naming the offending point or pair (1-based offset indices ``n`` as in the paper, ``x_0`` the apex).

The checks run in the data's own arithmetic, at a cost of ``O(M^2 d)`` (``M`` points in ``d``
dimensions) in BLAS, so a ``d = N = 2000`` dataset validates in seconds:

* **float data** (any float coordinate): NumPy float64 with the relative tolerance
  :data:`GEOMETRY_RTOL`.  Every length is taken relative to the data's *spread* (the largest
  distance from ``x_0``, so the checks do not depend on where the data sit) and computed as a
  scaled norm (:func:`theory.floats.scaled_norms`: no over- or underflow at any representable
  scale);
* **integer data**: exactly, in integers (float64 BLAS while every partial sum stays below
  ``2^53``, else Python integers);
* **other exact data** (``Rational``, ``sqrt(2)``, ...): SymPy.

The SymPy attributes (``points``, ``apex``, ``offsets``, ``r``, ``u``; ``centroid``, ``R``,
``side``, ``v``) are built on first use, for the symbolic layer; the numerics read the float
arrays :attr:`Dataset.array` and :attr:`Dataset.float_geometry` instead.
"""
from __future__ import annotations

import math
import re
import numbers
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from itertools import combinations

import numpy as np
import sympy as sp

from .errors import (ArgumentTypeError, DuplicatePointError, InputError, NonFiniteError,
                     NotEquilateralError, NotObtuseError, NotOrthogonalError, NotRepresentableError, NotSimplexError,
                     OutOfRangeError, ShapeError, UnknownChoiceError, describe, quote)
from .floats import FLOAT_TINY, check_finite_result, scaled_norms

#: Relative tolerance for geometric hypotheses on float data: ``|cos angle| <= GEOMETRY_RTOL``
#: counts as a right angle, sides equal to ``GEOMETRY_RTOL`` relative count as equal, points
#: closer than ``GEOMETRY_RTOL`` times the data's spread coincide.  Float64 orthonormalisation
#: and rotation of d <= 2000 vectors leave errors of ~1e-13; 1e-9 leaves four orders of slack
#: while still rejecting any deviation large enough to move a kink measurably.
GEOMETRY_RTOL = 1e-9

#: Smallest spread (largest distance from ``x_0``) of float data: below it the offsets are
#: subnormal numbers with fewer than 53 significant bits, too coarse to decide angles to
#: :data:`GEOMETRY_RTOL`.
MIN_SPREAD = FLOAT_TINY / np.finfo(float).eps

#: Most coordinates (points times dimension) a dataset may hold: the checks keep a few arrays of
#: this size (400 MB each) and cost ``O(M^2 d)``; a larger file is a mistake, not a dataset.
MAX_COORDINATES = 50_000_000

#: Rows of the Gram matrix computed at once when looking for coinciding points (bounds memory).
GRAM_BLOCK = 1 << 22

KINDS = ("orthogonal", "obtuse", "equilateral")

FLOAT, INTEGER, SYMBOLIC = "float", "integer", "symbolic"


# ------------------------------------------------------------------------------------------------
# reading the coordinates
# ------------------------------------------------------------------------------------------------
def _to_number(value, where: str):
    """Convert one coordinate to a SymPy number, rejecting NaN/inf and non-numbers."""
    if isinstance(value, (bool, np.bool_)):
        raise ShapeError(f"{where}: expected a number, got a boolean")
    if isinstance(value, (str, bytes)):
        raise ShapeError(f"{where}: expected a number, got the string {value!r}")
    if value is None or isinstance(value, (list, tuple, dict, set, np.ndarray)):
        raise ShapeError(f"{where}: expected a number, got {quote(value)}")
    if isinstance(value, (float, np.floating)):
        f = float(value)
        if not math.isfinite(f):
            raise NonFiniteError(f"{where} is {f} (every coordinate must be finite)")
        return sp.Float(f, 17)
    if isinstance(value, (int, np.integer)):
        return sp.Integer(int(value))
    try:
        x = sp.sympify(value, strict=True)
    except (sp.SympifyError, TypeError, ValueError) as exc:
        raise ShapeError(f"{where}: expected a number, got {quote(value)}") from exc
    if not isinstance(x, sp.Basic):
        raise ShapeError(f"{where}: expected a number, got {quote(value)}")
    if x.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise NonFiniteError(f"{where} is {x} (every coordinate must be finite)")
    if not x.is_number or x.is_real is False:
        raise ShapeError(f"{where}: expected a real number, got {x}")
    return x


def _rows(points) -> list:
    if points is None or isinstance(points, (str, bytes, dict)) or not hasattr(points, "__iter__"):
        raise ShapeError(f"points must be a list of coordinate lists, got {quote(points)}")
    try:
        rows = [list(p) for p in points]
    except TypeError as exc:
        raise ShapeError("points must be a list of coordinate lists") from exc
    if not rows:
        raise ShapeError("no points given")
    d = len(rows[0])
    if d == 0:
        raise ShapeError("points have no coordinates (dimension 0)")
    for i, row in enumerate(rows):
        if len(row) != d:
            raise ShapeError(f"point {i} has {len(row)} coordinates, point 0 has {d}")
    if len(rows) * d > MAX_COORDINATES:
        raise OutOfRangeError(f"the dataset has {len(rows)} points in dimension {d} "
                              f"({len(rows) * d} coordinates); at most {MAX_COORDINATES} are "
                              "supported")
    return rows


def _float_array(rows) -> np.ndarray:
    """Rows of numbers as a finite float64 array (errors name the first bad coordinate)."""
    try:
        X = np.array(rows, dtype=float)
    except OverflowError:
        X = None
    if X is None or not np.all(np.isfinite(X)):
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                try:
                    f = float(v)
                except OverflowError:
                    raise NotRepresentableError(
                        f"point {i}, coordinate {j} = {quote(v)} is beyond float64's range; "
                        "float data must be finite float64 numbers") from None
                if not math.isfinite(f):
                    raise NonFiniteError(f"point {i}, coordinate {j} is {f} (every coordinate "
                                         "must be finite)")
    return X


def parse_points(points) -> tuple[str, object]:
    """Validate ``points`` (shape, types, finiteness) and read them in their arithmetic.

    Returns ``(FLOAT, (M, d) float array)``, ``(INTEGER, rows of Python ints)`` or
    ``(SYMBOLIC, tuple of SymPy column vectors)``.
    """
    if isinstance(points, np.ndarray) and points.ndim == 2 and points.dtype.kind in "fiu" \
            and points.size:
        if points.size > MAX_COORDINATES:
            _rows(points)  # raises the size error
        if points.dtype.kind == "f":
            return FLOAT, _float_array(points)
        return INTEGER, points.tolist()
    rows = _rows(points)
    types = {type(v) for row in rows for v in row}
    floats = all(issubclass(t, (float, np.floating)) or issubclass(t, (int, np.integer)) and
                 not issubclass(t, (bool, np.bool_)) for t in types)
    if floats and any(issubclass(t, (float, np.floating)) for t in types):
        return FLOAT, _float_array(rows)
    if floats:
        return INTEGER, [[int(v) for v in row] for row in rows]
    values = [[_to_number(v, f"point {i}, coordinate {j}") for j, v in enumerate(row)]
              for i, row in enumerate(rows)]
    if any(x.has(sp.Float) for row in values for x in row):
        return FLOAT, _float_array([[float(x) for x in row] for row in values])
    if all(isinstance(x, sp.Integer) for row in values for x in row):
        return INTEGER, [[int(x) for x in row] for row in values]
    return SYMBOLIC, tuple(sp.Matrix(row) for row in values)


def as_points(points) -> tuple:
    """Validate a list of points and return them as SymPy column vectors."""
    arithmetic, data = parse_points(points)
    if arithmetic == SYMBOLIC:
        return data
    if arithmetic == INTEGER:
        return tuple(sp.Matrix([sp.Integer(v) for v in row]) for row in data)
    return tuple(sp.Matrix([sp.Float(float(v), 17) for v in row]) for row in data)


# ------------------------------------------------------------------------------------------------
# exact integer Gram matrices
# ------------------------------------------------------------------------------------------------
def _integer_gram(O: list) -> np.ndarray:
    """``O O^T`` of integer rows, exactly: float64 BLAS while ``d max|O|^2 < 2^53`` (every partial
    sum an exactly representable integer), else Python integers."""
    if not O:
        return np.zeros((0, 0))
    d = len(O[0])
    big = max((abs(v) for row in O for v in row), default=0)
    if 4 * d * big * big < 2 ** 53:
        A = np.array(O, dtype=float)
        return A @ A.T
    A = np.array(O, dtype=object)
    return A.dot(A.T)


def _sign_of(x) -> int:
    """Exact sign of a SymPy number: a 30-digit evaluation decides every number clearly away
    from zero (its error is far below 1e-20); only the rest is simplified, so that zero is
    proved, not rounded."""
    x = sp.sympify(x)
    if x.is_zero:
        return 0
    v = x.evalf(30)
    if v.is_number and abs(v) > 1e-20:
        return 1 if v > 0 else -1
    if sp.simplify(x) == 0:
        return 0
    return 1 if bool(x.evalf(50) > 0) else -1


@dataclass(frozen=True)
class FloatGeometry:
    """The float64 form of a dataset's ridge geometry, read by the numerics.

    ``origin`` (d,) is ``x_0`` (ridge data) or the centroid ``c0`` (triangle); ``X`` (N, d) the
    offsets ``x_n - o``; ``r`` (N,) their lengths; ``U`` (N, d) the unit directions ``u_n``
    (``v_n`` for the triangle).
    """

    origin: np.ndarray
    X: np.ndarray
    r: np.ndarray
    U: np.ndarray


def _representable(name: str):
    return f"rescale the data (its {name} must be a finite float64)"


def _check_lengths(r: np.ndarray) -> np.ndarray:
    """Lengths ``r_n`` (or ``R``) usable by the float numerics: finite and normal float64
    numbers (a subnormal or zero length has lost its precision: ``u_n = x/r_n`` breaks)."""
    r = check_finite_result(r, "a length r_n", _representable("extent"))
    if np.any(r < FLOAT_TINY):
        raise NotRepresentableError(
            f"a length r_n = {float(np.min(r)):.3g} is below float64's normal range (>= "
            f"{FLOAT_TINY:.3g}); rescale the data for the float numerics")
    return r


# ------------------------------------------------------------------------------------------------
# datasets
# ------------------------------------------------------------------------------------------------
class Dataset:
    """Training points ``x_0, ..., x_N`` (or ``x_1, x_2, x_3`` for a triangle), validated.

    Attributes: ``kind``, ``points`` (tuple of SymPy column vectors, built on first use), ``array``
    (float64, ``(size, d)``), ``d`` (ambient dimension), ``exact`` (no float coordinates),
    ``arithmetic`` (``"float"``, ``"integer"`` or ``"symbolic"``), ``size`` (number of points).
    """

    kind = "generic"

    def __init__(self, points):
        self._read(points)
        self._check_shape()
        self._check_distinct()

    def _read(self, points):
        self.arithmetic, data = parse_points(points)
        self.exact = self.arithmetic != FLOAT
        if self.arithmetic == FLOAT:
            self.__dict__["array"] = data
            self.size, self.d = data.shape
        elif self.arithmetic == INTEGER:
            self._ints = data
            self.size, self.d = len(data), len(data[0])
        else:
            self.__dict__["points"] = data
            self.size, self.d = len(data), data[0].rows

    # -- the two views of the coordinates ------------------------------------------------------
    @cached_property
    def points(self) -> tuple:
        if self.arithmetic == INTEGER:
            return tuple(sp.Matrix([sp.Integer(v) for v in row]) for row in self._ints)
        return tuple(sp.Matrix([sp.Float(float(v), 17) for v in row]) for row in self.array)

    @cached_property
    def array(self) -> np.ndarray:
        """The points as a float64 array ``(size, d)`` (exact coordinates rounded)."""
        rows = self._ints if self.arithmetic == INTEGER else \
            [[float(x) for x in p] for p in self.points]
        try:
            X = np.array(rows, dtype=float)
        except OverflowError:
            X = np.array([np.inf])
        return check_finite_result(X, "a coordinate", "float64 numerics need coordinates "
                                   "of at most ~1.8e308")

    # -- coinciding points ---------------------------------------------------------------------
    def _check_shape(self):
        """Hook: the number of points and the dimension a kind needs (before the O(M^2 d) work)."""

    def _check_distinct(self):
        """No two points within ``GEOMETRY_RTOL`` of the spread (float data) or equal (exact).

        Float data: the Gram matrix ``C`` of the unit offsets ``(x_i - x_0)/|x_i - x_0|`` gives
        every squared distance ``rs_i^2 + rs_j^2 - 2 rs_i rs_j C_ij`` (``rs`` the lengths in units
        of the spread) to ~``d eps``; the few pairs within that rounding are confirmed on the
        difference vector itself.  ``C`` is kept for the angle checks of ridge data."""
        self._gram = None
        if self.size < 2:
            return
        if self.arithmetic == SYMBOLIC:
            for i, j in combinations(range(self.size), 2):
                if all(_sign_of(x) == 0 for x in self.points[i] - self.points[j]):
                    self._duplicate(i, j)
            return
        if self.arithmetic == INTEGER:
            O = [[a - b for a, b in zip(row, self._ints[0])] for row in self._ints]
            G = _integer_gram(O)
            n2 = np.diag(G)
            for i in range(self.size):
                hits = np.flatnonzero(n2[i + 1:] + n2[i] - 2 * G[i, i + 1:] == 0)
                if hits.size:
                    self._duplicate(i, i + 1 + int(hits[0]))
            self._gram = G
            return
        X = self.array
        with np.errstate(over="ignore", invalid="ignore"):
            D = X - X[0]
        D = check_finite_result(D, "an offset x_i - x_0", _representable("extent"))
        norms = scaled_norms(D)
        spread = float(np.max(norms))
        check_finite_result(spread, "the data's spread max_i |x_i - x_0|", _representable("extent"))
        if spread == 0:
            self._duplicate(0, 1)
        if spread < MIN_SPREAD:
            raise NotRepresentableError(
                f"the points' spread {spread:.3g} is below float64's resolution for geometry "
                f"checks (>= {MIN_SPREAD:.3g}: smaller offsets are subnormal numbers); rescale "
                "the data")
        M, d = D.shape
        nz = norms > 0
        Uall = np.zeros_like(D)
        Uall[nz] = D[nz] / norms[nz, None]
        rs = norms / spread
        loose = GEOMETRY_RTOL ** 2 + 8 * (d + 2) * np.finfo(float).eps
        keep = M <= d + 1 and M * M <= 4 * GRAM_BLOCK
        blocks = []
        step = max(1, GRAM_BLOCK // M)
        for start in range(0, M, step):
            C = Uall[start:start + step] @ Uall.T
            if keep:
                blocks.append(C)
            rb = rs[start:start + step, None]
            D2 = rb ** 2 + rs[None, :] ** 2 - 2 * rb * rs[None, :] * C
            a, j = np.nonzero(D2 <= loose)
            i = start + a
            pairs = np.flatnonzero(j > i)
            for k in range(0, pairs.size, 1024):
                sel = pairs[k:k + 1024]
                with np.errstate(over="ignore", invalid="ignore"):
                    close = scaled_norms(D[i[sel]] - D[j[sel]]) <= GEOMETRY_RTOL * spread
                if close.any():
                    first = sel[int(np.argmax(close))]
                    self._duplicate(int(i[first]), int(j[first]))
        self._gram = np.vstack(blocks) if keep else None

    def _duplicate(self, i: int, j: int):
        if self.arithmetic == SYMBOLIC:
            where = list(self.points[i])
        elif self.arithmetic == INTEGER:
            where = self._ints[i]
        else:
            where = self.array[i].tolist()
        raise DuplicatePointError(f"points {i} and {j} coincide: {where}")

    def to_json(self) -> dict:
        """The dataset in the JSON file format of the ``flows`` command (floats)."""
        return {"kind": self.kind, "points": self.array.tolist()}

    def __repr__(self):
        return f"{type(self).__name__}(d={self.d}, size={self.size}, exact={self.exact})"


def check_subset(subset, N: int) -> tuple:
    """A hyperbox vertex's index set: distinct integers in ``1..N`` (1-based, as in the paper),
    returned sorted.  A repeated index is an error (it would double an offset), not a vertex."""
    if isinstance(subset, (str, bytes)) or not hasattr(subset, "__iter__"):
        raise ArgumentTypeError(f"a vertex is a set of 1-based offset indices such as (1, 3), got "
                                f"{describe(subset)}")
    out = []
    for n in subset:
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral):
            raise ArgumentTypeError(f"vertex index must be an integer in 1..{N}, got "
                                    f"{describe(n)}")
        if not 1 <= int(n) <= N:
            raise OutOfRangeError(f"vertex index must be an integer in 1..{N}, got {int(n)}")
        if int(n) in out:
            raise ShapeError(f"vertex index {int(n)} repeated in {quote(subset)}; a vertex is a "
                             "set of distinct indices")
        out.append(int(n))
    return tuple(sorted(out))


class RidgeDataset(Dataset):
    """Apex ``x_0`` plus offsets ``x_n - x_0``: the geometry of eqs. 17 and 36.

    Attributes: ``apex`` (``x_0``), ``offsets`` (``x_n - x_0``, n = 1..N), ``r`` (``r_n =
    ||x_n - x_0||``), ``u`` (unit vectors ``u_n``), ``N``; ``float_geometry`` their float64 form.
    """

    def __init__(self, points):
        super().__init__(points)
        self._signs = self._angle_signs()
        self._check_angles()
        self._check_independent()

    def _check_shape(self):
        if self.size < 2:
            raise ShapeError(f"a {self.kind} dataset needs the apex x_0 and at least one more point, "
                             f"got {self.size} point(s)")
        self.N = self.size - 1
        if self.N > self.d:
            raise NotSimplexError(f"{self.N} offsets cannot be independent in dimension d={self.d}")

    # -- SymPy attributes (built on first use) ---------------------------------------------------
    @cached_property
    def apex(self) -> sp.Matrix:
        return self.points[0]

    @cached_property
    def offsets(self) -> tuple:
        return tuple(p - self.apex for p in self.points[1:])

    @cached_property
    def r(self) -> tuple:
        if self.exact:
            return tuple(sp.sqrt(v.dot(v)) for v in self.offsets)
        return tuple(sp.Float(float(x), 17) for x in self.float_geometry.r)

    @cached_property
    def u(self) -> tuple:
        return tuple(v / r for v, r in zip(self.offsets, self.r))

    @cached_property
    def float_geometry(self) -> FloatGeometry:
        if self.arithmetic == SYMBOLIC:
            origin = check_finite_result([float(x) for x in self.apex], "the apex x_0",
                                         _representable("position"))
            X = np.array([[float(x) for x in v] for v in self.offsets])
            r = _check_lengths(np.array([float(x) for x in self.r]))
            U = np.array([[float(x) for x in u] for u in self.u])
        else:
            if self.arithmetic == INTEGER:
                x0 = self._ints[0]
                try:
                    X = np.array([[a - b for a, b in zip(row, x0)] for row in self._ints[1:]],
                                 dtype=float)
                except OverflowError:
                    X = np.array([np.inf])
            else:
                with np.errstate(over="ignore", invalid="ignore"):
                    X = self.array[1:] - self.array[0]
            origin = self.array[0]
            X = check_finite_result(X, "an offset x_n - x_0", _representable("extent"))
            r = _check_lengths(scaled_norms(X))
            U = X / r[:, None]
        return FloatGeometry(origin, X, r, U)

    # -- angles -----------------------------------------------------------------------------------
    def _cosines(self) -> np.ndarray:
        """``u_i^T u_j`` as floats, ``(N, N)``."""
        if self.arithmetic == FLOAT and self._gram is not None:
            return self._gram[1:, 1:]
        if self.arithmetic == INTEGER:
            G = self._gram[1:, 1:]
            n2 = np.diag(G)
            if G.dtype != object:
                n = np.sqrt(n2)
                return G / n[:, None] / n[None, :]
            return np.array([[float(Fraction(g, max(1, math.isqrt(a * b))))
                              for g, b in zip(row, n2)] for row, a in zip(G, n2)])
        U = self.float_geometry.U
        return U @ U.T

    def gram_cosines(self):
        """``u_i^T u_j`` for all pairs, as a dict ``{(i, j): cos}`` (1-based; SymPy numbers for
        exact data, floats for float data)."""
        if self.exact:
            return {(i + 1, j + 1): self.u[i].dot(self.u[j])
                    for i, j in combinations(range(self.N), 2)}
        C = self._cosines()
        return {(i + 1, j + 1): float(C[i, j]) for i, j in combinations(range(self.N), 2)}

    def _angle_signs(self) -> np.ndarray:
        """Sign of every ``u_i^T u_j`` (``0`` on the diagonal): exact for exact data, ``0``
        within :data:`GEOMETRY_RTOL` for float data."""
        N = self.N
        if self.arithmetic == INTEGER:
            G = self._gram[1:, 1:]
            S = np.array([[(g > 0) - (g < 0) for g in row] for row in G], dtype=int) \
                if G.dtype == object else np.sign(G).astype(int)
        elif self.arithmetic == SYMBOLIC:
            S = np.zeros((N, N), dtype=int)
            for i, j in combinations(range(N), 2):
                S[i, j] = S[j, i] = _sign_of(self.offsets[i].dot(self.offsets[j]))
        else:
            C = self._cosines()
            S = np.where(np.abs(C) <= GEOMETRY_RTOL, 0, np.sign(C)).astype(int)
        np.fill_diagonal(S, 0)
        return S

    def _first_pair(self, bad: np.ndarray):
        i, j = np.argwhere(np.triu(bad, 1))[0]
        return int(i), int(j)

    def _cos(self, i: int, j: int) -> float:
        if self.arithmetic == SYMBOLIC:
            return float(self.u[i].dot(self.u[j]))
        return float(self._cosines()[i, j])

    def _check_angles(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def _check_independent(self):
        if self.kind == "orthogonal":
            return  # pairwise orthogonal non-zero offsets are independent
        C = self._cosines()
        off = np.abs(C - np.diag(np.diag(C)))
        if 1.0 - float(np.max(np.sum(off, axis=1), initial=0.0)) > 1e-6:
            return  # Gershgorin: every eigenvalue of the cosine matrix is >= 1e-6
        if float(np.min(np.linalg.eigvalsh(C))) > 1e-6:
            return  # sigma_min(U) > 1e-3: far above rounding, certainly independent
        if self.exact:
            rank = sp.Matrix.hstack(*self.offsets).rank(simplify=True)
        else:
            sv = np.linalg.svd(self.float_geometry.U, compute_uv=False)
            rank = int(np.sum(sv > GEOMETRY_RTOL))
        if rank < self.N:
            raise NotSimplexError(f"the offsets x_n - x_0 are linearly dependent (rank {rank} < "
                                  f"N={self.N}): the points do not span a simplex")

    def vertex(self, subset) -> sp.Matrix:
        """The hyperbox vertex ``x_0 + sum_{n in S}(x_n - x_0)`` for 1-based indices ``S``
        (distinct, in ``1..N``)."""
        out = sp.Matrix(self.apex)
        for n in check_subset(subset, self.N):
            out += self.offsets[n - 1]
        return out


class OrthogonalDataset(RidgeDataset):
    """``x_0`` plus mutually orthogonal offsets ``x_n - x_0`` (paper §4.1, eq. 17)."""

    kind = "orthogonal"

    def _check_angles(self):
        bad = self._signs != 0
        if bad.any():
            i, j = self._first_pair(bad)
            raise NotOrthogonalError(
                f"offsets x_{i + 1} - x_0 and x_{j + 1} - x_0 are not orthogonal: cosine "
                f"{self._cos(i, j):.3g} (tolerance {0 if self.exact else GEOMETRY_RTOL:g})")


class ObtuseSimplex(RidgeDataset):
    """``x_0`` making an obtuse angle with all other vertices (paper App. B, Prop. D.1, eq. 36).

    ``(x_i - x_0)^T (x_j - x_0) < 0`` for all ``i != j``.  With ``allow_right_angles=True`` a
    cosine of zero (within tolerance) is accepted too: the orthogonal case is the right-angle limit
    of the same closed form (there a minimiser, uniqueness not claimed).
    """

    kind = "obtuse"

    def __init__(self, points, allow_right_angles: bool = False):
        if not isinstance(allow_right_angles, (bool, np.bool_)):
            raise ArgumentTypeError(f"allow_right_angles must be true or false, got "
                                    f"{describe(allow_right_angles)}")
        self.allow_right_angles = bool(allow_right_angles)
        super().__init__(points)

    def _check_angles(self):
        S = self._signs
        bad = (S > 0) | ((S == 0) & ~np.eye(self.N, dtype=bool) & (not self.allow_right_angles))
        if bad.any():
            i, j = self._first_pair(bad)
            kind = "acute" if S[i, j] > 0 else "right (pass allow_right_angles=True to accept)"
            raise NotObtuseError(
                f"offsets x_{i + 1} - x_0 and x_{j + 1} - x_0 make an {kind} angle, not an obtuse "
                f"one: cosine {self._cos(i, j):.3g}")


class EquilateralTriangle(Dataset):
    """Three points forming an equilateral triangle (paper App. C, Prop. D.2, eq. 37).

    Attributes: ``centroid`` (``m``), ``R`` (circumradius), ``v`` (unit vectors
    ``(x_n - m)/R``), ``side`` (``sqrt(3) R``), ``N = 3``; ``float_geometry`` their float64 form.
    """

    kind = "equilateral"

    def _check_shape(self):
        if self.size != 3:
            raise ShapeError(f"an equilateral triangle has 3 points, got {self.size}")
        if self.d < 2:
            raise ShapeError("an equilateral triangle needs dimension d >= 2")
        self.N = 3

    def __init__(self, points):
        super().__init__(points)
        pairs = list(combinations(range(3), 2))
        if self.arithmetic == SYMBOLIC:
            s2 = {(i, j): (self.points[i] - self.points[j]).dot(self.points[i] - self.points[j])
                  for i, j in pairs}
            unequal = [(i, j) for (i, j) in pairs if _sign_of(s2[(i, j)] - s2[(0, 1)])]
            length = {k: float(sp.sqrt(v)) for k, v in s2.items()}
        elif self.arithmetic == INTEGER:
            P = self._ints
            s2 = {(i, j): sum((a - b) ** 2 for a, b in zip(P[i], P[j])) for i, j in pairs}
            unequal = [(i, j) for (i, j) in pairs if s2[(i, j)] != s2[(0, 1)]]
            length = {k: float(sp.sqrt(sp.Integer(v))) for k, v in s2.items()}
        else:
            X = self.array
            with np.errstate(over="ignore", invalid="ignore"):
                length = {(i, j): float(scaled_norms(X[i] - X[j])) for i, j in pairs}
            ref = length[(0, 1)]
            unequal = [(i, j) for (i, j) in pairs
                       if abs((length[(i, j)] / ref) ** 2 - 1) > GEOMETRY_RTOL]
        for i, j in unequal:
            raise NotEquilateralError(
                f"side x_{i + 1}x_{j + 1} has length {length[(i, j)]:.6g} but side x_1x_2 "
                f"has length {length[(0, 1)]:.6g}")

    @cached_property
    def centroid(self) -> sp.Matrix:
        if self.exact:
            return (self.points[0] + self.points[1] + self.points[2]) / 3
        return sp.Matrix([sp.Float(float(x), 17) for x in self.float_geometry.origin])

    @cached_property
    def R(self):
        if self.exact:
            c = self.points[0] - self.centroid
            return sp.sqrt(sp.simplify(c.dot(c)))
        return sp.Float(float(self.float_geometry.r[0]), 17)

    @cached_property
    def side(self):
        return sp.sqrt(3) * self.R

    @cached_property
    def v(self) -> tuple:
        return tuple((p - self.centroid) / self.R for p in self.points)

    @cached_property
    def r(self) -> tuple:
        return (self.R,) * 3

    @cached_property
    def float_geometry(self) -> FloatGeometry:
        if self.arithmetic == SYMBOLIC:
            origin = check_finite_result([float(x) for x in self.centroid], "the centroid",
                                         _representable("position"))
            R = float(_check_lengths(np.array([float(self.R)]))[0])
            U = np.array([[float(x) for x in v] for v in self.v])
        else:
            X = self.array
            # centroid relative to x_1 (no overflow of the plain sum near float64's range)
            with np.errstate(over="ignore", invalid="ignore"):
                origin = X[0] + ((X[1] - X[0]) + (X[2] - X[0])) / 3
                D = X - origin
            origin = check_finite_result(origin, "the centroid", _representable("extent"))
            D = check_finite_result(D, "an offset x_n - c0", _representable("extent"))
            R = float(_check_lengths(scaled_norms(D[:1]))[0])
            U = D / R
        return FloatGeometry(origin, R * U, np.full(3, R), U)

    def vertex(self, subset) -> sp.Matrix:
        """Training point ``x_n`` for the one-element subset ``{n}`` (1-based)."""
        if isinstance(subset, (str, bytes)) or not hasattr(subset, "__iter__"):
            subset = [subset]
        subset = list(subset)
        if len(subset) != 1:
            raise ShapeError("the triangle's only vertices are its three points: pass [n], n in "
                             f"1..3, got {quote(subset)}")
        (n,) = check_subset(subset, 3)
        return self.points[n - 1]


class GeneralDataset(Dataset):
    """Any finite set of distinct points (``kind = "general"``), for the score models that need no
    special geometry (:mod:`numerics.models`).

    Validated in float64 with NumPy (finite coordinates, equal lengths, no two points within
    ``GEOMETRY_RTOL`` of the data's spread), so that thousands of points load in milliseconds;
    ``array`` holds them as an ``(M, d)`` float array and ``points`` (SymPy vectors, as for every
    dataset) is built on first use.
    """

    kind = "general"

    def _read(self, points):
        super()._read(points)
        if self.arithmetic != FLOAT:  # always float64: the general score models are numerical
            self.__dict__["array"] = self.array
            self.__dict__.pop("points", None)
            self.arithmetic, self.exact = FLOAT, False


#: The dataset classes by ``kind`` (the ``"kind"`` field of a data file).
DATASET_CLASSES = {"orthogonal": OrthogonalDataset, "obtuse": ObtuseSimplex,
                   "equilateral": EquilateralTriangle, "general": GeneralDataset}
KINDS = KINDS + ("general",)
#: Options a data file may give besides ``kind`` and ``points``, per kind.
OPTIONS = {"obtuse": ("allow_right_angles",)}


def make_dataset(kind: str, points, **options) -> Dataset:
    """Build the dataset of ``kind`` (``orthogonal`` | ``obtuse`` | ``equilateral`` |
    ``general``)."""
    if not isinstance(kind, str) or kind not in DATASET_CLASSES:
        raise UnknownChoiceError(f"unknown dataset kind {quote(kind)}; choose one of "
                                 f"{', '.join(KINDS)}")
    allowed = OPTIONS.get(kind, ())
    for key in options:
        if key not in allowed:
            raise UnknownChoiceError(
                f"unknown option {key!r} for {kind} data; "
                + (f"allowed: {', '.join(allowed)}" if allowed else "it takes none"))
    return DATASET_CLASSES[kind](points, **options)


def from_json(data: dict) -> Dataset:
    """Build a dataset from ``{"kind": ..., "points": [[...], ...]}`` (the ``flows`` file format;
    obtuse data may add ``"allow_right_angles": true``).  Unknown keys are errors, not ignored."""
    if not isinstance(data, dict) or "kind" not in data or "points" not in data:
        raise ShapeError('a dataset file must be a JSON object {"kind": ..., "points": [[...], ...]}')
    kind = data["kind"]
    if not isinstance(kind, str) or kind not in DATASET_CLASSES:
        raise UnknownChoiceError(f'unknown dataset kind {quote(kind)} in "kind"; choose one of '
                                 f"{', '.join(KINDS)}")
    options = {k: v for k, v in data.items() if k not in ("kind", "points")}
    allowed = OPTIONS.get(kind, ())
    for key, value in options.items():
        if key not in allowed:
            raise UnknownChoiceError(
                f"unknown key {key!r} in a {kind} dataset file; allowed keys: kind, points"
                + "".join(f", {a}" for a in allowed))
        if key == "allow_right_angles" and not isinstance(value, bool):
            raise ArgumentTypeError(f'"allow_right_angles" must be the JSON boolean true or false, '
                                    f"got {quote(value)}")
    points = data["points"]
    if isinstance(points, list):
        points = [[exact_number(x, f"point {i}, coordinate {j}") if isinstance(x, str) else x
                   for j, x in enumerate(p)] if isinstance(p, list) else p
                  for i, p in enumerate(points)]
    return make_dataset(kind, points, **options)


#: An exact number written as a JSON string: an integer ``"3"``, a fraction ``"1/2"``, a decimal
#: ``"0.25"`` (read exactly, as ``1/4``) or a multiple of a square root ``"sqrt(3)/2"``,
#: ``"-3*sqrt(2)/4"``.  A small grammar, not ``sympify``: a data file is never evaluated as code.
EXACT_STRING = re.compile(r"""^\s*(?P<sign>[+-])?\s*
    (?:(?P<coef>\d+(?:\.\d*)?|\.\d+)(?:\s*\*?\s*(?=sqrt))?)?   # coefficient, then optional *
    (?:sqrt\(\s*(?P<rad>\d+)\s*\))?                              # sqrt(k)
    (?:\s*/\s*(?P<den>\d+))?\s*$""", re.X)
EXACT_FORMS = 'an integer "3", a fraction "1/2", a decimal "0.25" or a root "sqrt(3)/2"'


def exact_number(text: str, where: str) -> sp.Expr:
    """The exact SymPy number a data file's string coordinate stands for (:data:`EXACT_STRING`);
    anything else is one :class:`~theory.errors.ShapeError` line naming ``where``."""
    m = EXACT_STRING.match(text) if isinstance(text, str) and len(text) < 1000 else None
    if m is None or (m["coef"] is None and m["rad"] is None):
        raise ShapeError(f"{where}: cannot read {quote(text)} as an exact number; write "
                         f"{EXACT_FORMS}")
    if m["den"] is not None and int(m["den"]) == 0:
        raise ShapeError(f"{where}: {text!r} divides by zero; write {EXACT_FORMS}")
    value = sp.Rational(m["coef"]) if m["coef"] is not None else sp.Integer(1)
    if m["rad"] is not None:
        value *= sp.sqrt(int(m["rad"]))
    if m["den"] is not None:
        value /= int(m["den"])
    return -value if m["sign"] == "-" else value


def load_dataset(path) -> Dataset:
    """Read and validate a dataset file (``examples/data/*.json``, the ``--data`` of every
    ``flows`` command).  Every problem is one :class:`~theory.errors.InputError` line naming the
    file: unreadable (an ``OSError``), not UTF-8, not JSON, nested too deeply, not an object with
    a string ``kind`` and a list ``points``, a coordinate that is ``null``, a list or an object, a
    string that is not an exact number, and every error of the dataset's own validation."""
    import json

    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise OSError(f"cannot read data file {path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"data file {path} is not valid JSON: {exc}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"data file {path} is not UTF-8 text: {exc.reason}") from None
    except RecursionError:
        raise ShapeError(f"data file {path} is nested too deeply to read; a dataset file is "
                         '{"kind": ..., "points": [[...], ...]}') from None
    if isinstance(data, dict) and "kind" in data and not isinstance(data["kind"], str):
        raise ShapeError(f"data file {path}: \"kind\" must be one of the strings "
                         f"{', '.join(KINDS)}, got {describe(data['kind'])}")
    if isinstance(data, dict) and "points" in data and not isinstance(data["points"], list):
        raise ShapeError(f"data file {path}: \"points\" must be a list of coordinate lists, got "
                         f"{describe(data['points'])}")
    for i, point in enumerate(data.get("points", []) if isinstance(data, dict) else []):
        for j, x in enumerate(point if isinstance(point, list) else []):
            if x is None or isinstance(x, (list, dict)):
                what = ("null" if x is None
                        else f"a JSON {'array' if isinstance(x, list) else 'object'}")
                raise ShapeError(f"data file {path}: point {i}, coordinate {j} is {what}; every "
                                 "point must be a flat list of numbers")
    try:
        return from_json(data)
    except ValueError as exc:
        raise type(exc)(f"data file {path}: {exc}") from None
    except (TypeError, AttributeError, RecursionError, OverflowError, ZeroDivisionError) as exc:
        # a failure the dataset's own checks did not name: still one line naming the file
        raise InputError(f"data file {path}: cannot validate the points "
                         f"({type(exc).__name__}: {' '.join(str(exc).split())})") from None
