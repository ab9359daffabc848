"""The theory's premise, measured: a trained shallow ReLU denoiser against the closed form.

The analytic results hold for the *minimum-cost* interpolant of the balls ``B(x_n, rho)``
(paper eq. 8; the closed forms eqs. 17, 36, 37, docs/math.md §2).  A network trained to
interpolate at minimum weight cost (eq. 5, docs/math.md §7) is that function only if training
found the minimiser.  :func:`compare` measures how close it came:

* **function distance** ``|h(y) - h*(y)|`` (l2 over the output) on three regions, sup and RMS,
  absolute and relative to ``max_n r_n``: the balls ``B(x_n, rho)`` (where both interpolate), the
  data's hull (the hyperbox ``x_0 + sum_n s_n (x_n - x_0)``, ``s in [0, 1]^N``, for ridge data;
  the triangle for equilateral data) and a box around the data (the bounding box enlarged by
  50 %);
* **cost ratios**: the trained weight cost (eq. 5) and representation cost (eq. 6) over the
  closed form's min cost ``R(h*)`` (``sum_n 2 r_n/(r_n - 2 rho)``, ``4H/(H - 2 rho)``);
* **ReLU boundary alignment**: each live unit's normal ``w_k`` against the nearest closed-form
  direction ``+-u_n`` (ridge data) or ``+-v_n`` (equilateral: boundaries parallel to the edges),
  and its hyperplane's position along that direction against the nearest closed-form kink
  (``rho`` or ``r_n - rho``; equilateral ``beta_lo = -R/2 + rho``, ``beta_hi = R - rho``);
* **dead and duplicated units**.

:func:`compare_networks` gives the same distances between two networks (two equal-cost solutions
where the minimiser is not unique, e.g. orthogonal data and two seeds); :func:`plot_comparison`
draws one figure.  Everything returned is JSON-serialisable.  NumPy only (no JAX).
"""
from __future__ import annotations

import math

import numpy as np

from theory.denoisers import check_low_noise, min_cost_denoiser
from theory.errors import InputError

from .evaluate import compile_denoiser
from .network import ShallowNetwork

#: Default number of sample points per region (balls together, hull, box): enough for the RMS to
#: be stable to ~2 % (the standard error of a mean of squares over 4096 i.i.d. points).
DEFAULT_POINTS = 4096
#: Fraction of the ball samples drawn on the sphere ``|y - x_n| = rho`` rather than uniformly in
#: the ball: a trained interpolant's worst error sits at the ball's edge, and in high dimension
#: the uniform ball is nearly all surface anyway.
BALL_SURFACE_FRACTION = 0.5
#: The box around the data: its bounding box grown by this fraction of its extent on each side
#: (so 50 % larger in every coordinate), and by at least ``rho`` (so a flat coordinate of
#: embedded data still gets a box that holds the balls).
BOX_PAD_FRACTION = 0.25
#: A unit is dead when ``|a_k||w_k|`` is below this fraction of the largest unit's: it changes
#: the output by less than that share of the strongest unit's slope (float64 training noise lives
#: around 1e-8 relative; a closed form unit is O(1)).
DEAD_RTOL = 1e-6
#: Two live units are duplicates when their normals agree within this angle (degrees) ...
DUPLICATE_ANGLE_DEG = 1.0
#: ... and their hyperplanes' signed positions within this fraction of ``max_n r_n``: at that
#: resolution they are one ReLU split in two (the weight cost cannot tell them apart).
DUPLICATE_OFFSET_RTOL = 1e-2
#: A crossing unit *sits on* a closed-form kink (``kinks_covered``) when its angle and kink offset
#: are below these: the same resolution as :data:`DUPLICATE_ANGLE_DEG` / ``_OFFSET_RTOL``.
ALIGNED_ANGLE_DEG = DUPLICATE_ANGLE_DEG
ALIGNED_OFFSET_RTOL = DUPLICATE_OFFSET_RTOL


class CompareError(InputError):
    """A network that does not fit the data it is compared on."""


# -- sampling ---------------------------------------------------------------------------------------
def _geometry(dataset, rho: float) -> dict:
    """Float geometry: points, closed-form directions/origin/kinks, hull description."""
    cd = compile_denoiser(dataset)
    p = cd.params(rho)
    X = dataset.array
    equilateral = dataset.kind == "equilateral"
    return {"cd": cd, "X": X, "origin": cd.origin, "U": cd.U, "r": cd.r,
            "scale": float(np.max(cd.r)), "k_lo": np.asarray(p.k_lo, dtype=float),
            "k_hi": np.asarray(p.k_hi, dtype=float),
            "hull": "triangle" if equilateral else "hyperbox",
            # generators of the hull: triangle vertices, or apex + offsets x_n - x_0
            "hull_vertices": X if equilateral else None,
            "offsets": None if equilateral else X[1:] - X[0]}


def _box(geo: dict, rho: float) -> tuple[np.ndarray, np.ndarray]:
    X = geo["X"]
    lo, hi = X.min(axis=0), X.max(axis=0)
    if geo["hull"] == "hyperbox":  # the hyperbox's far vertex x_0 + sum_n (x_n - x_0) too
        far = X[0] + geo["offsets"].sum(axis=0)
        lo, hi = np.minimum(lo, far), np.maximum(hi, far)
    pad = np.maximum(BOX_PAD_FRACTION * (hi - lo), rho)
    return lo - pad, hi + pad


def sample_regions(dataset, rho: float, n_points: int = DEFAULT_POINTS, seed: int = 0) -> dict:
    """Seeded sample points ``{"balls": (n, d), "ball_index": (n,), "hull": (n, d),
    "box": (n, d)}``.  The balls get ``n_points`` together (equal shares, half uniform in the
    ball, half on its sphere: :data:`BALL_SURFACE_FRACTION`) plus the centres ``x_n``; the hull
    (hyperbox or triangle) is sampled uniformly, with its vertices added; the box uniformly."""
    if isinstance(n_points, bool) or int(n_points) != n_points or n_points < 1:
        raise InputError(f"n_points must be a positive integer, got {n_points!r}")
    rng = np.random.default_rng(seed)
    geo = _geometry(dataset, rho)
    X, d = geo["X"], dataset.d
    per = max(1, int(n_points) // len(X))
    n_surf = int(round(BALL_SURFACE_FRACTION * per))
    G = rng.standard_normal((len(X), per, d))
    G /= np.linalg.norm(G, axis=2, keepdims=True)
    radii = np.ones((len(X), per))
    radii[:, n_surf:] = rng.random((len(X), per - n_surf)) ** (1.0 / d)
    balls = X[:, None, :] + rho * radii[..., None] * G
    balls = np.concatenate([X, balls.reshape(-1, d)])
    ball_index = np.concatenate([np.arange(len(X)), np.repeat(np.arange(len(X)), per)])
    if geo["hull"] == "triangle":
        S = rng.dirichlet(np.ones(3), size=int(n_points))
        hull = np.concatenate([X, S @ X])
    else:
        Nn = len(geo["offsets"])
        S = rng.random((int(n_points), Nn))
        hull = np.concatenate([X, X[0] + S @ geo["offsets"]])
    lo, hi = _box(geo, rho)
    box = lo + (hi - lo) * rng.random((int(n_points), d))
    return {"balls": balls, "ball_index": ball_index, "hull": hull, "box": box,
            "box_bounds": (lo, hi)}


# -- distances --------------------------------------------------------------------------------------
def _distances(f, g, regions: dict, scale: float) -> dict:
    out = {}
    for name in ("balls", "hull", "box"):
        Y = regions[name]
        e = np.linalg.norm(f(Y) - g(Y), axis=1)
        sup, rms = float(np.max(e)), float(np.sqrt(np.mean(e ** 2)))
        out.update({f"sup_error_{name}": sup, f"rms_error_{name}": rms,
                    f"sup_error_{name}_rel": sup / scale, f"rms_error_{name}_rel": rms / scale})
    return out


def _check_net(net, dataset, name="net") -> None:
    if not isinstance(net, ShallowNetwork):
        raise CompareError(f"{name} must be a numerics.network.ShallowNetwork, got "
                           f"{type(net).__name__}")
    if net.d != dataset.d:
        raise CompareError(f"{name} takes points of dimension {net.d}, the data live in "
                           f"d={dataset.d}")


def _check_rho(dataset, rho) -> float:
    if isinstance(rho, bool) or not isinstance(rho, (int, float, np.floating)) or \
            not math.isfinite(rho) or rho <= 0:
        raise InputError(f"rho must be a positive finite number, got {rho!r}")
    rho = float(rho)
    check_low_noise(dataset, rho)  # raises outside the low-noise regime
    return rho


def closed_form_cost(dataset, rho: float) -> float:
    """``R(h*)``: the closed form's (minimal) representation cost at ``rho``."""
    return float(min_cost_denoiser(dataset, rho).representation_cost())


# -- units ------------------------------------------------------------------------------------------
def _hull_range(geo: dict, w: np.ndarray, b: np.ndarray, rho: float):
    """Range of ``w_k^T y + b_k`` over the hull grown by ``rho`` (the balls stick out of it by at
    most ``rho``), per unit: ``(lo, hi)``."""
    nw = np.linalg.norm(w, axis=1)
    if geo["hull"] == "triangle":
        vals = geo["hull_vertices"] @ w.T + b  # (3, K)
        lo, hi = vals.min(axis=0), vals.max(axis=0)
    else:
        base = geo["X"][0] @ w.T + b
        P = geo["offsets"] @ w.T  # (N, K)
        lo = base + np.minimum(P, 0).sum(axis=0)
        hi = base + np.maximum(P, 0).sum(axis=0)
    return lo - rho * nw, hi + rho * nw


def unit_alignment(net: ShallowNetwork, dataset, rho: float, *, active=None) -> dict:
    """Per-unit boundary alignment with the closed form, and dead / duplicated units.

    A unit is **dead** when ``|a_k||w_k| < DEAD_RTOL * max_j |a_j||w_j|`` or when it is never
    active on the sample points ``active`` (a boolean ``(n, K)`` pattern, optional).  A live unit's
    boundary ``w_k^T y + b_k = 0`` **crosses the data region** when it meets the hull (hyperbox or
    triangle) grown by ``rho`` — exactly, from the range of ``w_k^T y + b_k`` over the hull's
    vertices; only those units are matched, since a boundary outside never bends the function
    where the data are.  For each, with ``s u`` (``s = +-1``) the closed-form direction nearest
    to ``w_k/|w_k|``:

    * ``angle_deg`` = ``atan2(|w_hat - (w_hat.u) u|, |w_hat.u|)`` (exact 0 when aligned);
    * ``offset`` ``t = s (-(b_k + w_k^T o)/|w_k|)``: the hyperplane's signed distance from the
      closed form's origin ``o`` (``x_0``, or the centroid), measured along ``u``; equal to the
      kink coordinate ``u^T (y - o)`` of the closed form when the boundary is parallel to one;
    * ``offset_error`` = distance from ``t`` to the nearer of that direction's two kinks.

    Summaries: max and median over the crossing units, and the mean weighted by the unit's
    strength ``|a_k||w_k|`` (``_weighted``), since a weak stray unit barely bends ``h``.

    **Duplicates**: live units whose normals agree within :data:`DUPLICATE_ANGLE_DEG` and whose
    positions ``-b/|w|`` agree within :data:`DUPLICATE_OFFSET_RTOL` ``max r``; the count is the
    units beyond the first of each such group.
    """
    geo = _geometry(dataset, rho)
    scale = geo["scale"]
    na, nw = net.unit_norms()
    strength = na * nw
    top = float(np.max(strength)) if strength.size else 0.0
    dead = strength <= DEAD_RTOL * top
    if active is not None:
        dead |= ~np.asarray(active, dtype=bool).any(axis=0)
    safe = np.where(nw > 0, nw, 1.0)
    What = net.W / safe[:, None]
    lo, hi = _hull_range(geo, net.W, net.b, rho)
    crosses = (~dead) & (lo < 0) & (hi > 0)
    C = What @ geo["U"].T  # (K, N) cosines with the closed-form directions
    best = np.argmax(np.abs(C), axis=1)
    cos = C[np.arange(net.K), best]
    sign = np.where(cos >= 0, 1.0, -1.0)
    Ub = geo["U"][best]
    sin = np.linalg.norm(What - cos[:, None] * Ub, axis=1)
    angle = np.degrees(np.arctan2(sin, np.abs(cos)))
    t = sign * (-(net.b + net.W @ geo["origin"]) / safe)
    klo, khi = geo["k_lo"][best], geo["k_hi"][best]
    err_lo, err_hi = np.abs(t - klo), np.abs(t - khi)
    which = np.where(err_lo <= err_hi, "lo", "hi")
    off_err = np.minimum(err_lo, err_hi)
    # duplicates among live units: same normal and same position -b/|w|
    live = np.flatnonzero(~dead)
    pos = -net.b / safe
    cos_dup = math.cos(math.radians(DUPLICATE_ANGLE_DEG))
    group = -np.ones(net.K, dtype=int)
    for i in live:
        if group[i] >= 0:
            continue
        group[i] = i
        rest = live[(live > i) & (group[live] < 0)]
        same = (What[rest] @ What[i] >= cos_dup) & \
            (np.abs(pos[rest] - pos[i]) <= DUPLICATE_OFFSET_RTOL * scale)
        group[rest[same]] = i
    duplicate = np.zeros(net.K, dtype=bool)
    duplicate[live] = group[live] != live
    units = []
    for k in range(net.K):
        row = {"unit": k, "a_norm": float(na[k]), "w_norm": float(nw[k]),
               "dead": bool(dead[k]), "duplicate_of": int(group[k]) if duplicate[k] else None,
               "crosses_data": bool(crosses[k])}
        if crosses[k]:
            row.update({"direction": int(best[k]) + 1, "sign": int(sign[k]),
                        "angle_deg": float(angle[k]), "offset": float(t[k]),
                        "kink": str(which[k]),
                        "kink_value": float(klo[k] if which[k] == "lo" else khi[k]),
                        "offset_error": float(off_err[k]),
                        "offset_error_rel": float(off_err[k] / scale)})
        units.append(row)
    m = crosses
    covered = {(int(best[k]) + 1, str(which[k])) for k in np.flatnonzero(m)
               if angle[k] <= ALIGNED_ANGLE_DEG and off_err[k] <= ALIGNED_OFFSET_RTOL * scale}
    summary = {
        "width": net.K, "dead_units": int(dead.sum()), "dead_fraction": float(dead.mean()),
        "duplicate_units": int(duplicate.sum()), "duplicate_fraction": float(duplicate.mean()),
        "crossing_units": int(m.sum()),
        "boundary_angle_max_deg": float(angle[m].max()) if m.any() else None,
        "boundary_angle_median_deg": float(np.median(angle[m])) if m.any() else None,
        # weighted by the unit's strength |a_k||w_k|: a weak stray unit barely bends h
        "boundary_angle_weighted_deg": _wmean(angle[m], strength[m]),
        "boundary_offset_max": float(off_err[m].max()) if m.any() else None,
        "boundary_offset_median": float(np.median(off_err[m])) if m.any() else None,
        "boundary_offset_max_rel": float(off_err[m].max() / scale) if m.any() else None,
        "boundary_offset_weighted_rel": None if not m.any() else
        _wmean(off_err[m], strength[m]) / scale,
        # closed-form kinks (direction n, lo/hi) on which some crossing unit sits
        "kinks_covered": len(covered), "kinks_total": 2 * len(geo["U"]),
        "kinks_missed": [f"{n}:{w}" for n in range(1, len(geo["U"]) + 1) for w in ("lo", "hi")
                         if (n, w) not in covered],
    }
    return {"summary": summary, "units": units}


def _wmean(x: np.ndarray, wt: np.ndarray):
    return float(np.sum(x * wt) / np.sum(wt)) if x.size and np.sum(wt) > 0 else None


# -- the comparisons --------------------------------------------------------------------------------
def compare(net: ShallowNetwork, dataset, rho: float, *, n_points: int = DEFAULT_POINTS,
            seed: int = 0) -> dict:
    """Measure ``net`` against the closed-form min-cost denoiser of ``dataset`` at ``rho``.

    Returns a JSON-able dict: ``sup_error_{balls,hull,box}``, ``rms_error_{...}`` (absolute and
    ``_rel`` to ``max_n r_n``), ``cost_ratio`` (weight cost eq. 5 over ``R(h*)``),
    ``representation_cost_ratio`` (eq. 6 over ``R(h*)``), the alignment summary of
    :func:`unit_alignment` (``boundary_angle_max_deg``, ``dead_fraction``, ...), ``skip_norm``
    (Frobenius norm of ``V``: unpenalised, zero in the closed form), the sampling parameters, the
    tolerances used, and ``units`` (per-unit rows).
    """
    _check_net(net, dataset)
    rho = _check_rho(dataset, rho)
    regions = sample_regions(dataset, rho, n_points, seed)
    geo = _geometry(dataset, rho)
    cd = geo["cd"]
    out = {"data_kind": dataset.kind, "N": int(len(geo["U"])), "d": dataset.d, "rho": rho,
           "scale_max_r": geo["scale"], "hull": geo["hull"], "n_points": int(n_points),
           "seed": int(seed),
           "points": {k: int(len(regions[k])) for k in ("balls", "hull", "box")},
           "box": [[float(v) for v in regions["box_bounds"][0]],
                   [float(v) for v in regions["box_bounds"][1]]]}
    out.update(_distances(net, lambda Y: cd.denoise(Y, rho), regions, geo["scale"]))
    cost = closed_form_cost(dataset, rho)
    out.update({"weight_cost": net.weight_cost(), "representation_cost": net.representation_cost(),
                "closed_form_cost": cost, "cost_ratio": net.weight_cost() / cost,
                "representation_cost_ratio": net.representation_cost() / cost,
                "skip_norm": float(np.linalg.norm(net.V))})
    active = np.concatenate([net.pattern(regions[k]) for k in ("balls", "hull", "box")])
    al = unit_alignment(net, dataset, rho, active=active)
    out.update(al["summary"])
    out["tolerances"] = {"DEAD_RTOL": DEAD_RTOL, "DUPLICATE_ANGLE_DEG": DUPLICATE_ANGLE_DEG,
                         "DUPLICATE_OFFSET_RTOL": DUPLICATE_OFFSET_RTOL,
                         "ALIGNED_ANGLE_DEG": ALIGNED_ANGLE_DEG,
                         "ALIGNED_OFFSET_RTOL": ALIGNED_OFFSET_RTOL,
                         "BOX_PAD_FRACTION": BOX_PAD_FRACTION,
                         "BALL_SURFACE_FRACTION": BALL_SURFACE_FRACTION}
    out["units"] = al["units"]
    return out


def compare_networks(net1: ShallowNetwork, net2: ShallowNetwork, dataset, rho: float, *,
                     n_points: int = DEFAULT_POINTS, seed: int = 0) -> dict:
    """Distance between two networks on the regions of :func:`compare` (sup / RMS, absolute and
    relative to ``max r``) and their cost ratios (``net1 / net2``): e.g. two equal-cost solutions
    from two seeds, where the min-cost function is not unique (orthogonal data)."""
    _check_net(net1, dataset, "net1")
    _check_net(net2, dataset, "net2")
    rho = _check_rho(dataset, rho)
    regions = sample_regions(dataset, rho, n_points, seed)
    geo = _geometry(dataset, rho)
    out = {"data_kind": dataset.kind, "rho": rho, "hull": geo["hull"], "n_points": int(n_points),
           "seed": int(seed), **_distances(net1, net2, regions, geo["scale"]),
           "weight_cost_ratio": net1.weight_cost() / net2.weight_cost(),
           "representation_cost_ratio": net1.representation_cost() / net2.representation_cost()}
    return out


# -- figure -----------------------------------------------------------------------------------------
def plot_comparison(net: ShallowNetwork, dataset, rho: float, path, *, result: dict | None = None,
                    n_grid: int = 220, title: str | None = None) -> str:
    """One PNG.  ``d = 2``: the closed form's ReLU boundaries (dashed) and the trained net's live
    ones (solid) over the data, balls and hull; and the heat map of ``|h - h*|`` on the box.
    ``d > 2``: histograms of the crossing units' angles and relative kink offsets, with the
    function distances per region."""
    from .experiments._runtime import pyplot

    plt = pyplot()
    rho = _check_rho(dataset, rho)
    result = compare(net, dataset, rho) if result is None else result
    geo = _geometry(dataset, rho)
    head = title or (f"trained vs closed form: {dataset.kind}, N = {result['N']}, d = "
                     f"{dataset.d}, rho = {rho:g}")
    stats = (f"sup|h-h*| balls {result['sup_error_balls_rel']:.2g} r, hull "
             f"{result['sup_error_hull_rel']:.2g} r, box {result['sup_error_box_rel']:.2g} r; "
             f"cost ratio {result['cost_ratio']:.4g}")
    if dataset.d == 2:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12.5, 5.6))
        lo, hi = (np.asarray(v) for v in result["box"])
        for ax in (ax1, ax2):
            _draw_data(ax, geo, rho)
            ax.set_xlim(lo[0], hi[0])
            ax.set_ylim(lo[1], hi[1])
            ax.set_aspect("equal")
        for n, u in enumerate(geo["U"]):
            for k in (geo["k_lo"][n], geo["k_hi"][n]):
                _line(ax1, u, -(k + u @ geo["origin"]), lo, hi, color="k", ls="--", lw=1.6,
                      label="closed-form boundary" if n == 0 and k == geo["k_lo"][0] else None)
        units = result["units"]
        first = True
        for row, w, b in zip(units, net.W, net.b):
            if row["dead"]:
                continue
            color = "tab:red" if row["crosses_data"] else "tab:gray"
            _line(ax1, w, b, lo, hi, color=color, lw=0.9, alpha=0.8,
                  label="trained boundary (live unit)" if first else None)
            first = False
        ax1.legend(fontsize=8, loc="upper right")
        ax1.set_title(f"ReLU boundaries; max angle {_fmt(result['boundary_angle_max_deg'])} deg,"
                      f" max kink offset {_fmt(result['boundary_offset_max_rel'])} r", fontsize=9)
        xs, ys = np.linspace(lo[0], hi[0], n_grid), np.linspace(lo[1], hi[1], n_grid)
        XX, YY = np.meshgrid(xs, ys)
        Y = np.column_stack([XX.ravel(), YY.ravel()])
        E = np.linalg.norm(net(Y) - geo["cd"].denoise(Y, rho), axis=1).reshape(XX.shape)
        floor = 1e-12 * geo["scale"]
        im = ax2.pcolormesh(XX, YY, np.log10(np.maximum(E, floor) / geo["scale"]),
                            cmap="magma", shading="auto")
        _draw_data(ax2, geo, rho)
        fig.colorbar(im, ax=ax2, label="log10 |h(y) - h*(y)| / max r")
        ax2.set_title("distance to the closed form", fontsize=9)
    else:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.6))
        rows = [r for r in result["units"] if r["crosses_data"]]
        ang = np.array([r["angle_deg"] for r in rows]) if rows else np.zeros(0)
        off = np.array([r["offset_error_rel"] for r in rows]) if rows else np.zeros(0)
        ax1.hist(ang, bins=30, color="tab:blue")
        ax1.set_xlabel("angle to nearest closed-form direction (deg)")
        ax1.set_ylabel("units crossing the data region")
        ax1.set_title(f"{len(rows)} crossing units of {net.K} "
                      f"({result['dead_units']} dead, {result['duplicate_units']} duplicates)",
                      fontsize=9)
        ax2.hist(np.log10(np.maximum(off, 1e-16)), bins=30, color="tab:orange")
        ax2.set_xlabel("log10 (distance to nearest kink / max r)")
        ax2.set_ylabel("units")
        ax2.set_title("boundary position against the kinks rho, r - rho", fontsize=9)
    fig.suptitle(f"{head}\n{stats}", fontsize=10)
    fig.tight_layout()
    from pathlib import Path
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return str(path)


def _fmt(v) -> str:
    return "n/a" if v is None else f"{v:.2g}"


def _draw_data(ax, geo, rho):
    import matplotlib.patches as mpatches

    X = geo["X"]
    if geo["hull"] == "triangle":
        poly = X
    else:
        o, V = X[0], geo["offsets"]
        poly = np.array([o, o + V[0], o + V[0] + V[1], o + V[1]]) if len(V) == 2 else X
    ax.add_patch(mpatches.Polygon(poly, closed=True, fill=False, ec="tab:green", lw=1.2))
    for x in X:
        ax.add_patch(mpatches.Circle(x, rho, fill=False, ec="tab:blue", lw=1))
    ax.plot(X[:, 0], X[:, 1], "o", color="tab:blue", ms=4)


def _line(ax, w, b, lo, hi, **kw):
    """Draw ``w^T y + b = 0`` clipped to the box ``[lo, hi]``."""
    w = np.asarray(w, dtype=float)
    if abs(w[1]) >= abs(w[0]):
        x = np.array([lo[0], hi[0]])
        y = -(b + w[0] * x) / w[1]
    else:
        y = np.array([lo[1], hi[1]])
        x = -(b + w[1] * y) / w[0]
    ax.plot(x, y, **kw)


__all__ = ["compare", "compare_networks", "unit_alignment", "sample_regions", "closed_form_cost",
           "plot_comparison", "CompareError", "DEFAULT_POINTS", "DEAD_RTOL",
           "DUPLICATE_ANGLE_DEG", "DUPLICATE_OFFSET_RTOL", "BOX_PAD_FRACTION",
           "BALL_SURFACE_FRACTION"]
