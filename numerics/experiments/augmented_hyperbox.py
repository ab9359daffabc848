"""App. G, Table 1: the orthonormal set augmented with random points on the hyperbox boundary
(paper §5.2, App. G; docs/math.md §6, §7).

Orthogonal data in ``R^d`` hold at most ``d`` points.  To see more training points than
dimensions, App. G adds ``n_aug`` points on the boundary of the hyperbox ``[0, 1]^N`` of the
``N`` orthonormal points: each is a vector with i.i.d. ``U(low, high)`` coordinates (zero beyond
the ``N`` data coordinates), projected on a random face (one random coordinate set to 0 or 1).
Coordinates away from 0 and 1 keep the new points at distance ``>= low sqrt(N - 1)`` from every
vertex, so the balls stay disjoint at the small noise levels (the low-noise regime is not empty).
Stacks are trained on the augmented set with the levels and protocol of :mod:`._fig2` (the levels
of the orthonormal set) and the Euler probability flow (eq. 20) is run from the same starts.

Table 1's four rows, each a share of all endpoints at the l2 ``threshold`` (they overlap: the
first contains the others):

* **hyperbox boundary**: within the threshold of the boundary of ``[0, 1]^N`` (vertices and the
  augmented points lie on it);
* **original virtual points**: within it of a vertex with ``|S| >= 2``;
* **orthogonal training points**: within it of ``x_0, ..., x_N``;
* **augmented points**: within it of one of the added points.

No closed form exists for the augmented set (it is neither orthogonal nor an obtuse simplex).
The closed-form column is the orthonormal set without augmentation (closed form inside the
low-noise regime, empirical MMSE outside), the baseline the augmentation changes; ``0`` in
``augment`` adds the trained stack without augmentation.
"""
from __future__ import annotations

import time

import numpy as np

from theory.datasets import GeneralDataset

from ..classify import classify
from ..geometry import distance_to_boundary
from ..mmse import training_array
from . import _fig2
from ._data import orthonormal_dataset
from ._runtime import pyplot, save_figure, write_results
from .parameters import int_list

NAME = "augmented-hyperbox"
ROWS = ("hyperbox boundary", "original virtual points", "orthogonal training points",
        "augmented points")
#: Table 1 of the paper (percent), its two augmentation sizes in order.
PAPER_TABLE = {"hyperbox boundary": (99.0, 98.21), "original virtual points": (2.4, 3.4),
               "orthogonal training points": (32.0, 19.6), "augmented points": (14.6, 19.0)}
PAPER = ("the probability flow still almost exclusively converges to the hyperbox boundary: to "
         "the boundary, to training points (old orthogonal points or new points on the "
         "boundary) or to other vertices of the hyperbox (the original virtual points)")


def _check_range(low: float, high: float) -> None:
    if not 0 <= low < high <= 1:
        raise ValueError(f"need 0 <= low < high <= 1 for the uniform coordinates, got "
                         f"low = {low}, high = {high}")


def augmented_dataset(N: int, d: int, n_aug: int, *, low: float, high: float,
                      seed: int) -> GeneralDataset:
    """The orthonormal set (``x_0 = 0``, ``x_n = e_n``) plus ``n_aug`` points on the boundary of
    ``[0, 1]^N`` (module docstring), drawn from ``default_rng([seed, n_aug])``."""
    _check_range(low, high)
    X = training_array(orthonormal_dataset(N, d))
    rng = np.random.default_rng([seed, n_aug])
    Z = np.zeros((n_aug, d))
    Z[:, :N] = rng.uniform(low, high, size=(n_aug, N))
    face = rng.integers(0, N, size=n_aug)
    Z[np.arange(n_aug), face] = rng.integers(0, 2, size=n_aug)
    return GeneralDataset(np.vstack([X, Z]).tolist())


def table_rows(base, Y, augmented: np.ndarray, threshold: float) -> dict:
    """Table 1's shares (module docstring) for endpoints ``Y``; also ``boundary only`` (on the
    boundary, none of the three point sets), ``off the hyperbox boundary`` and ``diverged``."""
    Y = np.asarray(Y, dtype=float)
    n = len(Y)
    ok = np.all(np.isfinite(Y), axis=1)
    Yf = Y[ok]
    on = distance_to_boundary(base, Yf) <= threshold
    cls = np.array([c.cls for c in classify(base, Yf, threshold=threshold)])
    if len(augmented):
        near_aug = np.min(np.linalg.norm(Yf[:, None, :] - augmented[None], axis=2),
                          axis=1) <= threshold
    else:
        near_aug = np.zeros(len(Yf), dtype=bool)
    vert = (cls == "virtual") | (cls == "training")
    out = {"hyperbox boundary": on.sum() / n,
           "original virtual points": (cls == "virtual").sum() / n,
           "orthogonal training points": (cls == "training").sum() / n,
           "augmented points": near_aug.sum() / n,
           "boundary only": (on & ~vert & ~near_aug).sum() / n,
           "off the hyperbox boundary": (~on).sum() / n + (~ok).sum() / n,
           "diverged": (~ok).sum() / n}
    return {k: float(v) for k, v in out.items()}


def run(out_dir, *, seed: int = 0, N: int = 30, d: int | None = None, augment=(0, 10, 20),
        low: float = 0.25, high: float = 0.75, n_points: int = _fig2.N_POINTS,
        sigma_max: float = _fig2.SIGMA_MAX, c: float = _fig2.C, n_outside: int = _fig2.N_OUTSIDE,
        n_inside: int = _fig2.N_INSIDE, noise: str = _fig2.NOISE, protocol: str = "al",
        samples: int = _fig2.SAMPLES, width: int | None = None, outer_steps: int | None = None,
        inner_steps: int | None = None, steps: int | None = None, hyper: dict | None = None,
        schedule: str = _fig2.SCHEDULE,
        thresholds=_fig2.THRESHOLDS, threshold: float = _fig2.THRESHOLD,
        cache_dir: str | None = None, progress: bool = True, workers: int | None = None,
        scheduler: str | None = None) -> dict:
    """Train (or reuse) one stack per augmentation size; write ``results.json`` and
    ``augmented_hyperbox.png``.  ``width=None``: 4 x (number of points) units."""
    t_start = time.perf_counter()
    setup = _fig2.Setup.from_run(out_dir, locals())
    d = N if d is None else int(d)
    augment = [int(a) for a in augment]
    _check_range(low, high)  # before minutes of training
    if any(a < 0 for a in augment) or not augment:
        raise ValueError(f"augment must list non-negative numbers of added points, got {augment}")
    base = orthonormal_dataset(N, d)
    thresholds = sorted(set(map(float, thresholds)) | {float(threshold)})
    Y0 = setup.starts(n_points, d)
    levels = setup.levels(base)
    cols = {}
    closed = None
    for a in augment:
        ds = base if a == 0 else augmented_dataset(N, d, a, low=low, high=high, seed=seed)
        Z = training_array(ds)[N + 1:]
        tr = setup.stack(ds, protocol, base=base)
        ends, speed = _fig2.probability_endpoints(tr["stack"], Y0, base, c)
        closed = ends["closed_form"]
        X = training_array(ds)
        D = np.linalg.norm(X[:, None] - X[None], axis=2)
        np.fill_diagonal(D, np.inf)
        edge = float(D.min()) / 2
        cols[str(a)] = {
            "n_aug": a, "points": len(X), "augmented_points": Z,
            "rows": {str(t): table_rows(base, ends["trained"], Z, t) for t in thresholds},
            "classes": _fig2.fractions(base, ends["trained"], thresholds),
            "distance_to_augmented_quantiles": _nearest_quantiles(ends["trained"], Z),
            "low_noise_edge_rho": edge,
            "levels_inside_augmented_regime": int(np.sum(c * levels < edge)),
            "training": _fig2.training_record(tr), "euler_speed": speed}
    results = {"seed": seed,
               "parameters": {"N": N, "d": d, "augment": augment, "low": low, "high": high,
                              "n_points": n_points, **setup.record(), "protocol": protocol,
                              "thresholds": thresholds, "threshold": threshold},
               "levels": {"sigmas": levels, "inside": _fig2.inside_mask(base, levels, c)},
               "by_augment": cols,
               "closed_form": {str(t): table_rows(base, closed, np.zeros((0, d)), t)
                               for t in thresholds},
               "paper": {"table": PAPER_TABLE, "text": PAPER}}
    results["table"] = side_by_side(results)
    results["seconds"] = {"total": time.perf_counter() - t_start}
    results["figures"] = [_figure(out_dir, results)]
    write_results(out_dir, NAME, results)
    return results


def _nearest_quantiles(Y, Z) -> dict | None:
    """Quantiles (:data:`._fig2.QUANTILES`) of the l2 distance from the finite endpoints to the
    nearest added point (``None`` without added points)."""
    Y = np.asarray(Y)[np.all(np.isfinite(Y), axis=1)]
    if not len(Z) or not len(Y):
        return None
    from ..metrics import nearest_neighbours
    dist = nearest_neighbours(Y, Z)[1]
    return {str(q): float(np.quantile(dist, q)) for q in _fig2.QUANTILES}


def side_by_side(results) -> list[dict]:
    """Table 1's rows: the paper's two columns, ours per augmentation size, the closed form."""
    t = str(float(results["parameters"]["threshold"]))
    return [{"row": r, "paper": list(PAPER_TABLE[r]),
             "trained": {a: col["rows"][t][r] for a, col in results["by_augment"].items()},
             "closed_form": results["closed_form"][t][r]} for r in ROWS]


#: Command-line parameters of ``flows experiment augmented-hyperbox`` (defaults: :func:`run`).
PARAMETERS = _fig2.parameters(
    "N", "d", "protocol",
    augment=(int_list, "numbers of added boundary points, one stack each (0: none), comma list"),
    low=(float, "lower end of the uniform coordinates of the added points"),
    high=(float, "upper end of the uniform coordinates of the added points"),
)


def summary(results) -> list[str]:
    """Table 1: paper | trained per augmentation | closed form (no augmentation)."""
    p = results["parameters"]
    out = [f"probability flow, N = {p['N']} orthonormal + added boundary points, d = {p['d']}, "
           f"{p['n_points']} starts, l2 threshold {p['threshold']:g} (% of the endpoints):"]
    for row in results["table"]:
        ours = ", ".join(f"+{a}: {100 * v:.1f}" for a, v in row["trained"].items())
        out.append(f"{row['row']}: paper {row['paper'][0]:g} / {row['paper'][1]:g}; trained "
                   f"{ours}; closed form {100 * row['closed_form']:.1f}")
    return out


def _figure(out_dir, results) -> str:
    plt = pyplot()
    p = results["parameters"]
    rows = results["table"]
    cols = [("paper, 1st size", lambda r: r["paper"][0], "0.55")]
    cols.append(("paper, 2nd size", lambda r: r["paper"][1], "0.75"))
    shades = plt.cm.Oranges(np.linspace(0.45, 0.9, len(results["by_augment"])))
    for (a, _), col in zip(results["by_augment"].items(), shades):
        cols.append((f"trained, +{a} points", lambda r, a=a: 100 * r["trained"][a], col))
    cols.append(("closed form, no added points", lambda r: 100 * r["closed_form"], "tab:green"))
    fig, ax = plt.subplots(figsize=(13, 5))
    x = np.arange(len(rows))
    w = 0.8 / len(cols)
    for k, (label, get, color) in enumerate(cols):
        vals = [get(r) for r in rows]
        bars = ax.bar(x + (k - (len(cols) - 1) / 2) * w, vals, w, label=label, color=color)
        for b, v in zip(bars, vals):
            ax.text(b.get_x() + b.get_width() / 2, v + 1, f"{v:.3g}", ha="center", va="bottom",
                    fontsize=7, rotation=90)
    ax.set_xticks(x, [r["row"] for r in rows])
    ax.set_ylim(0, 125)
    ax.set_ylabel("endpoints (%)")
    ax.legend(fontsize=8, ncol=3, loc="upper right")
    ax.set_title(f"Table 1: N = {p['N']} orthonormal points + added points on the hyperbox "
                 f"boundary (coordinates U({p['low']:g}, {p['high']:g}) on a random face), "
                 f"d = {p['d']}, l2 threshold {p['threshold']:g}", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, out_dir, "augmented_hyperbox.png")
