"""Figures shared by the experiments, the notebooks and ``flows trajectory`` (matplotlib, Agg-safe).

Three functions, each drawing into a given ``ax`` (or a new figure's axes) and returning the axes:

* :func:`plot_trajectories` — flow paths with the data's geometry: the hyperbox (orthogonal and
  obtuse data; for ``d > 2`` its face spanned by the first two data directions, onto which
  everything is projected) or the triangle, training points (filled red) and virtual points
  (hollow blue: the partial sums ``x_0 + sum_{n in S}(x_n - x_0)``, ``|S| >= 2``; docs/math.md §6);
* :func:`plot_score_field` — the score ``s(y) = (h(y) - y)/sigma^2`` (eq. 10) of a 2-D dataset as
  arrows, by default with the paper's normalisation ``s log|s| / |s|`` (App. B, Figs. 4-5), the
  ReLU boundaries and the ``rho``-circles around the training points;
* :func:`plot_endpoint_classes` — endpoint class fractions (training / virtual / boundary / other,
  docs/math.md §6) as one 100 % stacked bar per run, every non-zero share printed, so a 1 % class
  stays readable next to a 98 % one.

Nothing here computes a flow: pass paths (:class:`numerics.flows.FlowResult` or arrays) and
classifications from :mod:`numerics.flows` and :mod:`numerics.classify`.  matplotlib is imported
when a function is called, on the non-interactive Agg backend unless a backend is already in use
(so notebooks keep their inline backend).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from theory.datasets import Dataset, EquilateralTriangle, RidgeDataset
from theory.errors import ShapeError

CLASSES = ("training", "virtual", "boundary", "other")
#: One colour per endpoint class, used by every figure of the project.
CLASS_COLORS = {"training": "tab:red", "virtual": "tab:blue", "boundary": "tab:orange",
                "other": "tab:gray"}
TRAINING_STYLE = dict(marker="o", color="tab:red", ms=7, ls="none", zorder=5)
VIRTUAL_STYLE = dict(marker="D", mfc="white", mec="tab:blue", mew=1.6, ms=7, ls="none", zorder=5)


def _pyplot():
    import matplotlib
    if "matplotlib.pyplot" not in __import__("sys").modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _axes(ax, figsize=(5.5, 5)):
    if ax is not None:
        return ax
    _, ax = _pyplot().subplots(figsize=figsize)
    return ax


def _points(dataset: Dataset) -> np.ndarray:
    return dataset.array


# -- projection -------------------------------------------------------------------------------------
def projection(dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """``(origin, B)``: plotted coordinates are ``(y - origin) @ B.T``.

    In the plane (``d == 2``) the identity (``origin = 0``), so figures use the data's own axes.
    Otherwise ``B`` is an orthonormal basis (Gram-Schmidt) of the first two data directions
    ``x_1 - x_0, x_2 - x_0`` (ridge data; ``x_2 - x_1, x_3 - x_1`` for the triangle) and ``origin``
    is ``x_0`` (``x_1``); orthonormal data ``x_n = e_n`` are then shown in ``(y_1, y_2)``.
    """
    d = dataset.d
    if d == 1:
        raise ShapeError("plotting needs dimension d >= 2, got d = 1")
    if d == 2:
        return np.zeros(2), np.eye(2)
    P = _points(dataset)
    if isinstance(dataset, EquilateralTriangle):
        origin, dirs = P[0], [P[1] - P[0], P[2] - P[0]]
    else:
        origin = P[0]
        dirs = [P[n] - P[0] for n in range(1, len(P))]
    basis = []
    for v in dirs:
        w = v - sum((v @ b) * b for b in basis)
        if np.linalg.norm(w) > 1e-12 * max(np.linalg.norm(v), 1e-300):
            basis.append(w / np.linalg.norm(w))
        if len(basis) == 2:
            break
    if len(basis) < 2:  # a single offset: complete with any orthogonal direction
        e = np.eye(d)[np.argmin(np.abs(basis[0]))]
        w = e - (e @ basis[0]) * basis[0]
        basis.append(w / np.linalg.norm(w))
    return origin, np.array(basis)


def _project(Y, origin, B) -> np.ndarray:
    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    return (Y - origin) @ B.T


def _as_paths(paths) -> list[np.ndarray]:
    """A FlowResult, an ``(n, d)`` array, or a list of either -> list of ``(n, d)`` arrays."""
    if hasattr(paths, "path"):
        return [np.asarray(paths.path, dtype=float)]
    if isinstance(paths, np.ndarray):
        return [paths] if paths.ndim == 2 else list(paths)
    return [np.asarray(p.path if hasattr(p, "path") else p, dtype=float) for p in paths]


def draw_geometry(dataset: Dataset, ax, *, virtual: bool = True, legend_labels: bool = True):
    """Draw the hyperbox (face) or triangle, training points and the virtual point(s) in view."""
    origin, B = projection(dataset)
    P = _points(dataset)
    lab = (lambda s: s) if legend_labels else (lambda s: None)  # noqa: E731
    if isinstance(dataset, EquilateralTriangle):
        T = _project(P[[0, 1, 2, 0]], origin, B)
        ax.plot(T[:, 0], T[:, 1], "-", color="k", lw=0.8, label=lab("triangle"))
    elif isinstance(dataset, RidgeDataset):
        x0, offs = P[0], P[1:] - P[0]
        if len(offs) >= 2:
            a, b = offs[0], offs[1]
            face = np.array([x0, x0 + a, x0 + a + b, x0 + b, x0])
            name = "hyperbox" if dataset.N == 2 and dataset.d == 2 else "hyperbox face (x_1, x_2)"
            F = _project(face, origin, B)
            ax.plot(F[:, 0], F[:, 1], "-", color="k", lw=0.8, label=lab(name))
            if virtual:
                V = _project(x0 + a + b, origin, B)
                ax.plot(V[:, 0], V[:, 1], **VIRTUAL_STYLE, label=lab("virtual point"))
        else:
            S = _project(np.array([x0, x0 + offs[0]]), origin, B)
            ax.plot(S[:, 0], S[:, 1], "-", color="k", lw=0.8, label=lab("hyperbox"))
    shown = P if dataset.d == 2 else P[:3]  # beyond x_2 the training points leave the plane
    Q = _project(shown, origin, B)
    ax.plot(Q[:, 0], Q[:, 1], **TRAINING_STYLE, label=lab("training points"))
    return ax


def plot_trajectories(dataset: Dataset, paths, ax=None, *, labels=None, colors=None,
                      title: str | None = None, geometry: bool = True, legend: bool = True,
                      lw: float = 1.6, **line_kw):
    """Draw flow paths over the data's geometry; return the axes.

    ``paths``: a :class:`numerics.flows.FlowResult`, an ``(n_times, d)`` array, or a list of
    either.  Each path is a line (``labels``/``colors`` per path, optional), its start a small
    circle and its end a cross.  ``d > 2`` is projected on the first two data directions
    (:func:`projection`; axis labels say so).  Exactly ``len(paths)`` lines are path lines; the
    geometry adds its own (``geometry=False`` to leave it out).
    """
    plt_ax = _axes(ax)
    origin, B = projection(dataset)
    arrays = _as_paths(paths)
    for k, path in enumerate(arrays):
        if path.ndim != 2 or path.shape[1] != dataset.d:
            raise ShapeError(f"path {k} has shape {path.shape}, expected (n_times, {dataset.d})")
    if geometry:
        draw_geometry(dataset, plt_ax)
    default_colors = _pyplot().rcParams["axes.prop_cycle"].by_key()["color"]
    for k, path in enumerate(arrays):
        Q = _project(path, origin, B)
        col = colors[k] if colors is not None else default_colors[k % len(default_colors)]
        lab = labels[k] if labels is not None else (f"path {k + 1}" if len(arrays) > 1 else "path")
        plt_ax.plot(Q[:, 0], Q[:, 1], "-", color=col, lw=lw, label=lab, **line_kw)
        plt_ax.scatter([Q[0, 0]], [Q[0, 1]], s=18, color=col, marker="o", zorder=6)
        plt_ax.scatter([Q[-1, 0]], [Q[-1, 1]], s=40, color=col, marker="x", zorder=6)
    plt_ax.set_aspect("equal", adjustable="datalim")
    if dataset.d == 2:
        plt_ax.set_xlabel("$y_1$")
        plt_ax.set_ylabel("$y_2$")
    else:
        plt_ax.set_xlabel("along $x_1 - x_0$" if isinstance(dataset, RidgeDataset)
                          else "along $x_2 - x_1$")
        plt_ax.set_ylabel("second data direction (projection)")
    if title:
        plt_ax.set_title(title, fontsize=10)
    if legend:
        plt_ax.legend(fontsize=7, loc="best")
    return plt_ax


# -- score field ------------------------------------------------------------------------------------
def normalised_score(S: np.ndarray) -> np.ndarray:
    """The paper's normalisation ``s log|s| / |s|`` row-wise (App. B), with the length clipped at
    ``max(log|s|, 0)``: where ``|s| < 1`` the logarithm is negative and would reverse the arrow,
    so those arrows vanish instead (zero where ``s = 0``)."""
    S = np.asarray(S, dtype=float)
    n = np.linalg.norm(S, axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, S * np.maximum(np.log(n), 0.0) / n, 0.0)


def default_limits(dataset: Dataset, margin: float = 0.45) -> tuple[tuple, tuple]:
    """Axis limits around the training points (and the virtual point), ``margin`` times the data's
    extent on each side."""
    P = _points(dataset)
    if isinstance(dataset, RidgeDataset) and dataset.N >= 2:
        P = np.vstack([P, P[0] + (P[1] - P[0]) + (P[2] - P[0])])
    lo, hi = P.min(axis=0), P.max(axis=0)
    pad = margin * float(np.max(hi - lo))
    return (lo[0] - pad, hi[0] + pad), (lo[1] - pad, hi[1] + pad)


def score_grid(dataset: Dataset, denoiser, sigma: float, lim, n_grid: int):
    """Grid ``(X, Y)`` of ``n_grid^2`` nodes and the score ``(h(y) - y)/sigma^2`` there, shape
    ``(n_grid^2, 2)``; ``denoiser`` maps an ``(n, 2)`` batch to ``(n, 2)``."""
    xs = np.linspace(lim[0][0], lim[0][1], n_grid)
    ys = np.linspace(lim[1][0], lim[1][1], n_grid)
    X, Y = np.meshgrid(xs, ys)
    P = np.column_stack([X.ravel(), Y.ravel()])
    return X, Y, (np.asarray(denoiser(P), dtype=float) - P) / sigma ** 2


def kink_lines(dataset: Dataset, rho: float) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """``(point, direction, label)`` of every ReLU boundary line of the min-cost ``h_rho`` of a
    2-D dataset: ``u_n^T (y - o) = k_lo`` and ``= k_hi`` for each unit (``o`` = ``x_0``, or the
    centroid for the triangle, where the lines are parallel to the edges)."""
    from .evaluate import compile_denoiser
    h = compile_denoiser(dataset, "exact")
    p = h.params(rho)
    out = []
    for n in range(h.N):
        u = h.U[n]
        perp = np.array([-u[1], u[0]])
        for k, name in ((p.k_lo[n], "lo"), (p.k_hi[n], "hi")):
            out.append((h.origin + k * u, perp, f"unit {n + 1} {name}"))
    return out


def plot_score_field(dataset: Dataset, rho_or_denoiser, ax=None, *, normalised: bool = True,
                     sigma: float | None = None, c: float = 1.0, lim=None, n_grid: int = 25,
                     kinks: bool = True, colorbar: bool = True, title: str | None = None,
                     legend: bool = True, geometry: bool = False):
    """Arrows of the score ``s(y) = (h(y) - y)/sigma^2`` (eq. 10) of a 2-D dataset; return the axes.

    ``rho_or_denoiser``: a noise radius ``rho`` (the exact min-cost denoiser ``h_rho``, eq. 17 /
    App. B-C, at ``sigma = rho / c``; its ReLU boundaries and ``rho``-circles are drawn), or any
    callable ``h(Y) -> (n, 2)`` (then pass ``sigma``; default 1, i.e. the drift ``h(y) - y``).
    ``normalised``: arrows ``s log|s|/|s|`` (:func:`normalised_score`), else the raw score.
    Arrow colour is ``log10 |s|`` either way.  ``geometry``: also the hyperbox (or triangle) and
    the virtual point (:func:`draw_geometry`), else the training points only.
    """
    if dataset.d != 2:
        raise ShapeError(f"plot_score_field draws planar data (d = 2), got d = {dataset.d}")
    plt = _pyplot()
    ax = _axes(ax, figsize=(6.5, 5.5))
    rho = None
    if callable(rho_or_denoiser):
        h, sig = rho_or_denoiser, 1.0 if sigma is None else float(sigma)
    else:
        from .evaluate import compile_denoiser
        rho = float(rho_or_denoiser)
        sig = rho / c if sigma is None else float(sigma)
        compiled = compile_denoiser(dataset, "exact")
        h = lambda Y: compiled.denoise(Y, rho)  # noqa: E731
    lim = default_limits(dataset) if lim is None else lim
    X, Y, S = score_grid(dataset, h, sig, lim, n_grid)
    V = normalised_score(S) if normalised else S
    mag = np.log10(np.linalg.norm(S, axis=1) + 1e-300)
    q = ax.quiver(X.ravel(), Y.ravel(), V[:, 0], V[:, 1], mag, cmap="viridis", angles="xy",
                  pivot="mid", width=0.003)
    q.set_clim(np.percentile(mag, 2), mag.max())  # a grid node on x_n has |s| = 0
    if colorbar:
        ax.figure.colorbar(q, ax=ax, shrink=0.8, label="log10 |s|")
    P = _points(dataset)
    if rho is not None and kinks:
        for point, direction, _ in kink_lines(dataset, rho):
            seg = point + np.outer([-10, 10], direction)
            ax.plot(seg[:, 0], seg[:, 1], "--", color="tab:gray", lw=0.8)
        ax.plot([], [], "--", color="tab:gray", label="ReLU boundaries")
        for x in P:
            ax.add_patch(plt.Circle(x, rho, fill=False, color="tab:red", lw=1))
    if geometry:
        draw_geometry(dataset, ax)
    else:
        ax.plot(P[:, 0], P[:, 1], **TRAINING_STYLE, label="training points")
    ax.set_xlim(*lim[0])
    ax.set_ylim(*lim[1])
    ax.set_aspect("equal")
    ax.set_xlabel("$y_1$")
    ax.set_ylabel("$y_2$")
    if title is None:
        kind = "normalised score s·log|s|/|s|" if normalised else "raw score s = (h(y) - y)/σ²"
        title = kind + (f", rho = {rho:g}, sigma = {sig:g}" if rho is not None else "")
    ax.set_title(title, fontsize=10)
    if legend:
        ax.legend(fontsize=7, loc="upper right")
    return ax


# -- endpoint classes -------------------------------------------------------------------------------
def class_fractions(classifications) -> dict:
    """``{class: fraction}`` from :class:`numerics.classify.Classification` objects or class
    names."""
    labels = [getattr(c, "cls", c) for c in classifications]
    if not labels:
        raise ValueError("no classifications given (need at least one endpoint)")
    unknown = sorted(set(labels) - set(CLASSES))
    if unknown:
        raise ValueError(f"unknown endpoint class(es) {unknown}; expected {', '.join(CLASSES)}")
    return {k: labels.count(k) / len(labels) for k in CLASSES}


def _as_fractions(item) -> dict:
    if isinstance(item, Mapping):
        fr = {k: float(item.get(k, 0.0)) for k in CLASSES}
        total = sum(fr.values())
        if not 0.99 <= total <= 1.01 and total > 0:  # counts, or percentages: normalise
            fr = {k: v / total for k, v in fr.items()}
        return fr
    return class_fractions(item)


#: Segments narrower than this (as a fraction of the bar) get their label beside the bar.
INSIDE_LABEL_MIN = 0.07


def plot_endpoint_classes(data, ax=None, *, labels: Sequence[str] | None = None,
                          title: str | None = None, legend: bool = True):
    """One horizontal 100 % stacked bar per run, coloured by endpoint class; return the axes.

    ``data``: one run — a ``{class: fraction}`` mapping (counts are normalised), or a list of
    :class:`~numerics.classify.Classification` objects / class names — or several runs as a
    ``{run label: run}`` mapping or a list of runs (with ``labels``).  Every non-zero share is
    printed: inside its segment when it is wide enough, else to the right of the bar, so small
    classes (a 1 % boundary share) are not lost.  Runs are drawn top to bottom.
    """
    ax = _axes(ax, figsize=(7, 1.2 + 0.55 * (len(data) if isinstance(data, (list, dict)) else 1)))
    if isinstance(data, Mapping) and not set(data) <= set(CLASSES):
        runs = {str(k): _as_fractions(v) for k, v in data.items()}
    elif isinstance(data, Mapping) or (isinstance(data, Sequence) and data
                                       and (isinstance(data[0], str) or hasattr(data[0], "cls"))):
        runs = {(labels or ["endpoints"])[0]: _as_fractions(data)}
    else:
        items = list(data)
        names = list(labels) if labels is not None else [f"run {k + 1}" for k in range(len(items))]
        if len(names) != len(items):
            raise ValueError(f"labels has {len(names)} entries for {len(items)} runs")
        runs = {n: _as_fractions(v) for n, v in zip(names, items)}
    names = list(runs)
    for i, name in enumerate(names):
        y = len(names) - 1 - i
        left = 0.0
        small = []
        for k in CLASSES:
            v = runs[name][k]
            if v <= 0:
                continue
            ax.barh(y, 100 * v, left=100 * left, color=CLASS_COLORS[k], edgecolor="white",
                    height=0.7, label=k if i == 0 else None)
            text = f"{100 * v:.1f}%" if v < 0.995 else f"{100 * v:.0f}%"
            if v >= INSIDE_LABEL_MIN:
                ax.text(100 * (left + v / 2), y, text, ha="center", va="center", fontsize=8,
                        color="white" if k != "boundary" else "k")
            else:
                small.append((k, text))
            left += v
        if small:
            ax.text(101.5, y, "  ".join(f"{k} {t}" for k, t in small), ha="left", va="center",
                    fontsize=8)
    ax.set_yticks(range(len(names)), names[::-1], fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("endpoints (%)")
    ax.spines[["top", "right"]].set_visible(False)
    if legend:
        from matplotlib.patches import Patch
        ax.legend(handles=[Patch(color=CLASS_COLORS[k], label=k) for k in CLASSES], fontsize=7,
                  ncol=4, loc="lower left", bbox_to_anchor=(0, 1.0), frameon=False)
    if title:
        ax.set_title(title, fontsize=10, pad=18 if legend else 6)
    return ax


__all__ = ["CLASSES", "CLASS_COLORS", "class_fractions", "default_limits", "draw_geometry",
           "kink_lines", "normalised_score", "plot_endpoint_classes", "plot_score_field",
           "plot_trajectories", "projection", "score_grid"]
