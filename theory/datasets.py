"""Training sets as validated objects: orthogonal, obtuse simplex, equilateral triangle
(docs/math.md §1-§2).

Constructors accept exact coordinates (ints, ``Rational``, ``sqrt(2)``, any SymPy number) or
floats (Python, NumPy).  Exact data is checked exactly; float data with the relative tolerance
:data:`GEOMETRY_RTOL`.  Every violated hypothesis raises its own error from :mod:`theory.errors`
naming the offending point or pair (1-based offset indices ``n`` as in the paper, ``x_0`` the apex).
"""
from __future__ import annotations

import math
import re
from itertools import combinations

import mpmath
import sympy as sp

from .errors import (DuplicatePointError, InputError, NonFiniteError, NotEquilateralError,
                     NotObtuseError, NotOrthogonalError, NotSimplexError, ShapeError)

#: Relative tolerance for geometric hypotheses on float data: ``|cos angle| <= GEOMETRY_RTOL``
#: counts as a right angle, sides equal to ``GEOMETRY_RTOL`` relative count as equal.  Float64
#: orthonormalisation and rotation of d <= 100 vectors leave errors of ~1e-14; 1e-9 leaves five
#: orders of slack while still rejecting any deviation large enough to move a kink measurably.
GEOMETRY_RTOL = 1e-9

KINDS = ("orthogonal", "obtuse", "equilateral")


def _to_number(value, where: str):
    """Convert one coordinate to a SymPy number, rejecting NaN/inf and non-numbers."""
    if isinstance(value, bool):
        raise ShapeError(f"{where}: expected a number, got a boolean")
    if isinstance(value, str):
        raise ShapeError(f"{where}: expected a number, got the string {value!r}")
    if isinstance(value, float) or type(value).__module__ == "numpy":
        f = float(value)
        if not math.isfinite(f):
            raise NonFiniteError(f"{where} is {f} (every coordinate must be finite)")
        if type(value).__module__ == "numpy" and "int" in type(value).__name__:
            return sp.Integer(int(value))
        return sp.Float(f, 17)
    try:
        x = sp.sympify(value)
    except (sp.SympifyError, TypeError) as exc:
        raise ShapeError(f"{where}: expected a number, got {value!r}") from exc
    if x.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise NonFiniteError(f"{where} is {x} (every coordinate must be finite)")
    if not x.is_number or x.is_real is False:
        raise ShapeError(f"{where}: expected a real number, got {x}")
    return x


def as_points(points) -> tuple:
    """Validate a list of points and return them as SymPy column vectors."""
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
    return tuple(sp.Matrix([_to_number(v, f"point {i}, coordinate {j}") for j, v in enumerate(row)])
                 for i, row in enumerate(rows))


def _is_exact(points) -> bool:
    return not any(x.has(sp.Float) for p in points for x in p)


def _norm(v: sp.Matrix):
    return sp.sqrt(v.dot(v))


def _zero(x, scale, exact: bool) -> bool:
    """Is ``x`` zero: exactly for exact data, within ``GEOMETRY_RTOL * scale`` for floats."""
    if exact:
        return sp.simplify(x) == 0
    return abs(float(x)) <= GEOMETRY_RTOL * float(scale)


def _sign(x, scale, exact: bool) -> int:
    """Sign of ``x`` (0 when it is zero in the sense of :func:`_zero`)."""
    if _zero(x, scale, exact):
        return 0
    return 1 if bool(sp.sympify(x).evalf(30) > 0) else -1


class Dataset:
    """Training points ``x_0, ..., x_N`` (or ``x_1, x_2, x_3`` for a triangle), validated.

    Attributes: ``kind``, ``points`` (tuple of SymPy column vectors), ``d`` (ambient dimension),
    ``exact`` (no float coordinates), ``size`` (number of points).
    """

    kind = "generic"

    def __init__(self, points):
        self.points = as_points(points)
        self.d = self.points[0].rows
        self.size = len(self.points)
        self.exact = _is_exact(self.points)
        self._check_distinct()

    # -- common checks --------------------------------------------------------------------
    def _check_distinct(self):
        scale = max((_norm(p) for p in self.points), key=lambda e: float(e), default=1)
        scale = max(float(scale), 1e-300)
        for i, j in combinations(range(self.size), 2):
            diff = self.points[i] - self.points[j]
            if all(_zero(x, scale, self.exact) for x in diff):
                raise DuplicatePointError(f"points {i} and {j} coincide: {list(self.points[i])}")

    def to_json(self) -> dict:
        """The dataset in the JSON file format of the ``flows`` command (floats)."""
        return {"kind": self.kind, "points": [[float(x) for x in p] for p in self.points]}

    def __repr__(self):
        return f"{type(self).__name__}(d={self.d}, size={self.size}, exact={self.exact})"


class RidgeDataset(Dataset):
    """Apex ``x_0`` plus offsets ``x_n - x_0``: the geometry of eqs. 17 and 36.

    Attributes: ``apex`` (``x_0``), ``offsets`` (``x_n - x_0``, n = 1..N), ``r`` (``r_n =
    ||x_n - x_0||``), ``u`` (unit vectors ``u_n``), ``N``.
    """

    def __init__(self, points):
        super().__init__(points)
        if self.size < 2:
            raise ShapeError(f"a {self.kind} dataset needs the apex x_0 and at least one more point, "
                             f"got {self.size} point(s)")
        self.apex = self.points[0]
        self.offsets = tuple(p - self.apex for p in self.points[1:])
        self.N = len(self.offsets)
        self.r = tuple(sp.sqrt(v.dot(v)) if self.exact else sp.Float(math.sqrt(float(v.dot(v))), 17)
                       for v in self.offsets)
        self.u = tuple(v / r for v, r in zip(self.offsets, self.r))
        if self.N > self.d:
            raise NotSimplexError(f"{self.N} offsets cannot be independent in dimension d={self.d}")
        self._check_angles()
        self._check_independent()

    def gram_cosines(self):
        """``u_i^T u_j`` for all pairs, as a dict ``{(i, j): cos}`` (1-based)."""
        return {(i + 1, j + 1): self.u[i].dot(self.u[j])
                for i, j in combinations(range(self.N), 2)}

    def _check_angles(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def _check_independent(self):
        M = sp.Matrix.hstack(*self.u)
        if self.exact:
            rank = M.rank(simplify=True)
        else:
            # mpmath's SVD directly: Matrix.singular_values() goes through an eigenvalue QR that
            # fails to converge on equal singular values (orthonormal offsets) and is slow (d=30: 5 s)
            sv = sorted(float(s) for s in mpmath.svd_r(mpmath.matrix(M.evalf().tolist()),
                                                       compute_uv=False))
            rank = sum(1 for s in sv if s > GEOMETRY_RTOL)
        if rank < self.N:
            raise NotSimplexError(f"the offsets x_n - x_0 are linearly dependent (rank {rank} < "
                                  f"N={self.N}): the points do not span a simplex")

    def vertex(self, subset) -> sp.Matrix:
        """The hyperbox vertex ``x_0 + sum_{n in S}(x_n - x_0)`` for 1-based indices ``S``."""
        out = sp.Matrix(self.apex)
        for n in subset:
            if not 1 <= n <= self.N:
                raise ValueError(f"vertex index {n} outside 1..{self.N}")
            out += self.offsets[n - 1]
        return out


class OrthogonalDataset(RidgeDataset):
    """``x_0`` plus mutually orthogonal offsets ``x_n - x_0`` (paper §4.1, eq. 17)."""

    kind = "orthogonal"

    def _check_angles(self):
        for (i, j), cos in self.gram_cosines().items():
            if _sign(cos, 1, self.exact) != 0:
                raise NotOrthogonalError(
                    f"offsets x_{i} - x_0 and x_{j} - x_0 are not orthogonal: cosine "
                    f"{float(cos):.3g} (tolerance {0 if self.exact else GEOMETRY_RTOL:g})")


class ObtuseSimplex(RidgeDataset):
    """``x_0`` making an obtuse angle with all other vertices (paper App. B, Prop. D.1, eq. 36).

    ``(x_i - x_0)^T (x_j - x_0) < 0`` for all ``i != j``.  With ``allow_right_angles=True`` a
    cosine of zero (within tolerance) is accepted too: the orthogonal case is the right-angle limit
    of the same closed form (there a minimiser, uniqueness not claimed).
    """

    kind = "obtuse"

    def __init__(self, points, allow_right_angles: bool = False):
        self.allow_right_angles = allow_right_angles
        super().__init__(points)

    def _check_angles(self):
        for (i, j), cos in self.gram_cosines().items():
            s = _sign(cos, 1, self.exact)
            if s > 0 or (s == 0 and not self.allow_right_angles):
                kind = "acute" if s > 0 else "right (pass allow_right_angles=True to accept)"
                raise NotObtuseError(
                    f"offsets x_{i} - x_0 and x_{j} - x_0 make an {kind} angle, not an obtuse one: "
                    f"cosine {float(cos):.3g}")


class EquilateralTriangle(Dataset):
    """Three points forming an equilateral triangle (paper App. C, Prop. D.2, eq. 37).

    Attributes: ``centroid`` (``m``), ``R`` (circumradius), ``v`` (unit vectors
    ``(x_n - m)/R``), ``side`` (``sqrt(3) R``), ``N = 3``.
    """

    kind = "equilateral"

    def __init__(self, points):
        super().__init__(points)
        if self.size != 3:
            raise ShapeError(f"an equilateral triangle has 3 points, got {self.size}")
        if self.d < 2:
            raise ShapeError("an equilateral triangle needs dimension d >= 2")
        self.N = 3
        sides = {(i, j): (self.points[i] - self.points[j]).dot(self.points[i] - self.points[j])
                 for i, j in combinations(range(3), 2)}
        ref = sides[(0, 1)]
        for (i, j), s2 in sides.items():
            if _sign(s2 - ref, ref, self.exact) != 0:
                raise NotEquilateralError(
                    f"side x_{i + 1}x_{j + 1} has length {math.sqrt(float(s2)):.6g} but side x_1x_2 "
                    f"has length {math.sqrt(float(ref)):.6g}")
        self.centroid = (self.points[0] + self.points[1] + self.points[2]) / 3
        c = self.points[0] - self.centroid
        self.R = sp.sqrt(sp.simplify(c.dot(c))) if self.exact else sp.Float(
            math.sqrt(float(c.dot(c))), 17)
        self.side = sp.sqrt(3) * self.R
        self.v = tuple((p - self.centroid) / self.R for p in self.points)
        self.r = (self.R,) * 3

    def vertex(self, subset) -> sp.Matrix:
        """Training point ``x_n`` for the one-element subset ``{n}`` (1-based)."""
        subset = list(subset)
        if len(subset) != 1 or not 1 <= subset[0] <= 3:
            raise ValueError("the triangle's only vertices are its three points: pass [n], n in 1..3")
        return self.points[subset[0] - 1]


def make_dataset(kind: str, points, **options) -> Dataset:
    """Build the dataset of ``kind`` (``orthogonal`` | ``obtuse`` | ``equilateral``)."""
    classes = {"orthogonal": OrthogonalDataset, "obtuse": ObtuseSimplex,
               "equilateral": EquilateralTriangle, "general": GeneralDataset}
    if kind not in classes:
        raise ValueError(f"unknown dataset kind {kind!r}; choose one of {', '.join(KINDS)}")
    return classes[kind](points, **options)


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
    m = EXACT_STRING.match(text) if isinstance(text, str) else None
    if m is None or (m["coef"] is None and m["rad"] is None):
        raise ShapeError(f"{where}: cannot read {text!r} as an exact number; write {EXACT_FORMS}")
    if m["den"] is not None and int(m["den"]) == 0:
        raise ShapeError(f"{where}: {text!r} divides by zero; write {EXACT_FORMS}")
    value = sp.Rational(m["coef"]) if m["coef"] is not None else sp.Integer(1)
    if m["rad"] is not None:
        value *= sp.sqrt(int(m["rad"]))
    if m["den"] is not None:
        value /= int(m["den"])
    return -value if m["sign"] == "-" else value


def from_json(data: dict) -> Dataset:
    """Build a dataset from ``{"kind": ..., "points": [[...], ...]}`` (the ``flows`` file format).

    Coordinates are JSON numbers (float data, checked to :data:`GEOMETRY_RTOL`) or strings read as
    exact numbers by :func:`exact_number` (``"1/2"``, ``"sqrt(3)/2"``): a dataset whose
    coordinates are all integers or strings is exact, and its hypotheses are checked exactly."""
    if not isinstance(data, dict) or "kind" not in data or "points" not in data:
        raise ShapeError('a dataset file must be a JSON object {"kind": ..., "points": [[...], ...]}')
    extra = {k: v for k, v in data.items() if k not in ("kind", "points")}
    options = {}
    if "allow_right_angles" in extra:
        options["allow_right_angles"] = bool(extra.pop("allow_right_angles"))
    points = data["points"]
    if isinstance(points, list):
        points = [[exact_number(x, f"point {i}, coordinate {j}") if isinstance(x, str) else x
                   for j, x in enumerate(p)] if isinstance(p, list) else p
                  for i, p in enumerate(points)]
    return make_dataset(data["kind"], points, **options)


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
                         f"{', '.join(KINDS)}, got {_describe(data['kind'])}")
    if isinstance(data, dict) and "points" in data and not isinstance(data["points"], list):
        raise ShapeError(f"data file {path}: \"points\" must be a list of coordinate lists, got "
                         f"{_describe(data['points'])}")
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


def _describe(value) -> str:
    """A received JSON value and its type, shortened, for error messages."""
    text = repr(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"{text} (a {type(value).__name__})"


class GeneralDataset(Dataset):
    """Any finite set of distinct points (``kind = "general"``), for the score models that need no
    special geometry (:mod:`numerics.models`).

    Validated in float64 with NumPy (finite coordinates, equal lengths, no two points within
    ``GEOMETRY_RTOL`` of the data's scale), so that thousands of points load in milliseconds;
    ``array`` holds them as an ``(M, d)`` float array and ``points`` (SymPy vectors, as for every
    dataset) is built on first use.
    """

    kind = "general"

    def __init__(self, points):
        import numpy as np

        try:
            rows = [list(p) for p in points]
        except TypeError as exc:
            raise ShapeError("points must be a list of coordinate lists") from exc
        if not rows or not rows[0]:
            raise ShapeError("no points given" if not rows else "points have no coordinates")
        for i, row in enumerate(rows):
            if len(row) != len(rows[0]):
                raise ShapeError(f"point {i} has {len(row)} coordinates, point 0 has "
                                 f"{len(rows[0])}")
            for j, v in enumerate(row):
                if isinstance(v, (bool, str)) or not isinstance(v, (int, float)) and \
                        type(v).__module__ != "numpy" and not isinstance(v, sp.Basic):
                    raise ShapeError(f"point {i}, coordinate {j}: expected a number, got {v!r}")
        X = np.array(rows, dtype=float)
        if not np.all(np.isfinite(X)):
            i, j = np.argwhere(~np.isfinite(X))[0]
            raise NonFiniteError(f"point {i}, coordinate {j} is {X[i, j]} (every coordinate must "
                                 "be finite)")
        self.array = X
        self.size, self.d = X.shape
        self.exact = False
        self._points = None
        scale = max(float(np.max(np.linalg.norm(X, axis=1))), 1e-300)
        order = np.lexsort(X.T[::-1])  # duplicates are neighbours in lexicographic order...
        close = np.max(np.abs(np.diff(X[order], axis=0)), axis=1) <= GEOMETRY_RTOL * scale
        for k in np.flatnonzero(close):
            raise DuplicatePointError(f"points {order[k]} and {order[k + 1]} coincide: "
                                      f"{X[order[k]].tolist()}")
        if self.size <= 2000:  # ...up to rounding: also check all pairs when affordable
            sq = np.einsum("md,md->m", X, X)
            D2 = sq[:, None] + sq[None, :] - 2 * X @ X.T
            np.fill_diagonal(D2, np.inf)
            i, j = np.unravel_index(np.argmin(D2), D2.shape)
            if np.sqrt(max(D2[i, j], 0.0)) <= GEOMETRY_RTOL * scale:
                raise DuplicatePointError(f"points {min(i, j)} and {max(i, j)} coincide: "
                                          f"{X[i].tolist()}")

    @property
    def points(self):
        if self._points is None:
            self._points = tuple(sp.Matrix([sp.Float(float(v), 17) for v in row])
                                 for row in self.array)
        return self._points

    @points.setter
    def points(self, value):  # Dataset.__init__ is not called; kept for API symmetry
        self._points = value

    def to_json(self) -> dict:
        return {"kind": self.kind, "points": self.array.tolist()}


KINDS = KINDS + ("general",)
