"""App. I, Table 2: the memorized / spurious / generalized detection of Pham et al. (2024)
against our endpoint classes, on the trained Fig. 2 set-up (paper App. I; docs/math.md §6).

Pham et al. ("Memorization to generalization: emergence of diffusion models from associative
memory", 2024) classify a generated sample ``y`` of an evaluation set with a training set and a
larger set ``S_gen`` of further generated samples:

* **memorized**: the nearest training point is within ``delta_m`` of ``y``;
* **spurious**: not memorized, and some sample of ``S_gen`` is within ``delta_s`` of ``y`` (the
  sampler keeps returning to a point that is not a training point: an attractor);
* **generalized**: neither.

As in App. I: the training set is the orthonormal set of Fig. 2 (``x_0 = 0`` and ``x_n = e_n``),
the evaluation set the ``n_points`` endpoints of the Euler probability flow (eq. 20) over the
trained stack from Fig. 2's starts, and ``S_gen`` ``n_reference`` endpoints of the same flow from
other starts (``default_rng([seed, 1])``), much larger than the training set;
``delta_m = delta_s = delta`` for every threshold of our classification, in l2 and l-infinity.
Nearest neighbours and counts use true distances (:func:`numerics.metrics.nearest_neighbours`,
:func:`numerics.metrics.count_within`).  Each Pham class is then split by our classes
(training / virtual / boundary / other at the same ``delta`` and norm), as the paper's table
does; the same is done for the analytic flow (closed form inside the low-noise regime, MMSE
outside).
"""
from __future__ import annotations

import time

import numpy as np

from ..classify import CLASSES
from ..metrics import PHAM_CLASSES, pham_classes
from ..mmse import training_array
from . import _fig2
from ._data import orthonormal_dataset
from ._runtime import pyplot, save_figure, write_results

NAME = "memorization-metrics"

#: The paper's Table 2, in percent of each Pham class: its five columns in the paper's order
#: (settings of ``delta`` and the norm as the paper lists them).
PAPER_TABLE = {
    "memorized": {"training": (100, 99.49, 100, 100, 100), "boundary": (0, 0.51, 0, 0, 0)},
    "spurious": {"virtual": (52.94, 21.57, 78.22, 34.29, 100), "training": (0.98, 0, 0, 0, 0),
                 "boundary": (46.08, 78.43, 21.78, 65.71, 0)},
    "generalized": {"virtual": (11.35, 3.98, 31.48, 3.98, 40.22),
                    "training": (4.86, 2.99, 6.79, 3.98, 6.15),
                    "boundary": (83.78, 93.03, 64.73, 92.04, 53.63)},
}
PAPER = ("many virtual points are classified as spurious (samples cluster near them: they are "
         "stable stationary points); with exponentially many virtual points not every one "
         "gathers a cluster, so some are classified as generalization; memorized samples are "
         "training points")


def cross_table(pham: list, ours: list) -> dict:
    """``{pham class: {"share": fraction of all samples, "ours": {our class: fraction within
    the pham class}}}``."""
    pham, ours = np.asarray(pham), np.asarray(ours)
    n = max(len(pham), 1)
    out = {}
    for p in PHAM_CLASSES:
        m = pham == p
        k = int(m.sum())
        out[p] = {"share": k / n, "count": k,
                  "ours": {c: (float(np.sum(ours[m] == c)) / k if k else 0.0) for c in CLASSES}}
    return out


def classify_both(ds, Y, R, delta: float, norm: str) -> dict:
    """Pham classes of the finite rows of ``Y`` (reference ``R``) crossed with ours."""
    X = training_array(ds)
    Y = np.asarray(Y)[np.all(np.isfinite(Y), axis=1)]
    R = np.asarray(R)[np.all(np.isfinite(R), axis=1)]
    pham = pham_classes(Y, X, R, delta, delta, norm=norm)
    ours = _fig2.labels(ds, Y, delta, norm)
    return cross_table(pham, ours)


def run(out_dir, *, seed: int = 0, N: int = 30, d: int | None = None,
        n_points: int = _fig2.N_POINTS, n_reference: int = 5000,
        sigma_max: float = _fig2.SIGMA_MAX, c: float = _fig2.C, n_outside: int = _fig2.N_OUTSIDE,
        n_inside: int = _fig2.N_INSIDE, noise: str = _fig2.NOISE, protocol: str = "al",
        samples: int = _fig2.SAMPLES, width: int | None = None, outer_steps: int | None = None,
        inner_steps: int | None = None, steps: int | None = None, hyper: dict | None = None,
        schedule: str = _fig2.SCHEDULE,
        thresholds=_fig2.THRESHOLDS, threshold: float = _fig2.THRESHOLD,
        cache_dir: str | None = None, progress: bool = True, workers: int | None = None,
        scheduler: str | None = None) -> dict:
    """Train (or reuse) the Fig. 2 stack, generate the evaluation and reference sets, classify;
    write ``results.json`` and ``memorization_metrics.png``."""
    t_start = time.perf_counter()
    setup = _fig2.Setup.from_run(out_dir, locals())
    d = N if d is None else int(d)
    if n_reference < 1:
        raise ValueError(f"n_reference must be a positive number of samples, got {n_reference}")
    ds = orthonormal_dataset(N, d)
    thresholds = sorted(set(map(float, thresholds)) | {float(threshold)})
    Y0 = setup.starts(n_points, d)
    R0 = sigma_max * np.random.default_rng([seed, 1]).standard_normal((n_reference, d))
    tr = setup.stack(ds, protocol)
    ev, speed = _fig2.probability_endpoints(tr["stack"], Y0, ds, c)
    ref, ref_speed = _fig2.probability_endpoints(tr["stack"], R0, ds, c)
    cols = {}
    for col in ("trained", "closed_form"):
        cols[col] = {f"{norm} {t:g}": {"delta": t, "norm": norm,
                                       "table": classify_both(ds, ev[col], ref[col], t, norm)}
                     for norm in ("l2", "linf") for t in thresholds}
    results = {"seed": seed,
               "parameters": {"N": N, "d": d, "n_points": n_points, "n_reference": n_reference,
                              "reference_seed": [seed, 1], **setup.record(),
                              "protocol": protocol, "thresholds": thresholds,
                              "threshold": threshold},
               "training": _fig2.training_record(tr),
               "columns": cols,
               "our_classes": {k: _fig2.fractions(ds, Y, thresholds) for k, Y in ev.items()},
               "paper": {"table": PAPER_TABLE, "text": PAPER},
               "euler_speed": {"evaluation": speed, "reference": ref_speed}}
    results["seconds"] = {"total": time.perf_counter() - t_start}
    results["figures"] = [_figure(out_dir, results)]
    write_results(out_dir, NAME, results)
    return results


#: Command-line parameters of ``flows experiment memorization-metrics`` (defaults: :func:`run`).
PARAMETERS = _fig2.parameters(
    "N", "d", "protocol",
    n_reference=(int, "size of the further generated set S_gen (Pham et al.)"),
)


def summary(results) -> list[str]:
    """Headline numbers: Pham class shares and their split by our classes."""
    p = results["parameters"]
    out = [f"Pham et al. classes of {p['n_points']} probability-flow samples (S_gen: "
           f"{p['n_reference']} samples), N = {p['N']}, d = {p['d']}, delta_m = delta_s = delta:"]
    for col, runs in results["columns"].items():
        for name, r in runs.items():
            parts = []
            for pc in PHAM_CLASSES:
                row = r["table"][pc]
                split = ", ".join(f"{k} {100 * v:.0f}%" for k, v in row["ours"].items() if v)
                parts.append(f"{pc} {100 * row['share']:.1f}%" + (f" ({split})" if split else ""))
            out.append(f"{col.replace('_', ' ')}, {name}: " + "; ".join(parts))
    return out


def _figure(out_dir, results) -> str:
    """One panel per Pham class: how it splits into our classes, the paper's five columns next
    to ours (trained, closed form) for every norm and delta; the count of samples on top."""
    plt = pyplot()
    from ..plotting import CLASS_COLORS
    cols = results["columns"]
    names = list(cols["trained"])
    p = results["parameters"]
    fig, axes = plt.subplots(3, 1, figsize=(14, 13), sharex=True)
    for ax, pc in zip(axes, PHAM_CLASSES):
        bars = [(f"paper {j + 1}", {k: PAPER_TABLE[pc].get(k, (0,) * 5)[j] / 100
                                    for k in CLASSES}, None) for j in range(5)]
        for col, short in (("trained", "trained"), ("closed_form", "closed f.")):
            for name in names:
                row = cols[col][name]["table"][pc]
                bars.append((f"{short}\n{name}", row["ours"], row["count"]))
        for x, (label, split, count) in enumerate(bars):
            bottom = 0.0
            for k in CLASSES:
                v = 100 * split.get(k, 0.0)
                ax.bar(x, v, 0.75, bottom=bottom, color=CLASS_COLORS[k],
                       label=k if (x == 0 and pc == PHAM_CLASSES[0]) else None)
                bottom += v
            if count is not None:
                ax.text(x, max(bottom, 0) + 2, f"n={count}", ha="center", fontsize=7)
        ax.axvline(4.5, color="k", lw=0.8)
        ax.axvline(4.5 + len(names), color="k", lw=0.8, ls=":")
        ax.set_ylim(0, 112)
        ax.set_ylabel(f"{pc}: our classes (%)")
        ax.grid(axis="y", alpha=0.3)
        ax.set_xticks(range(len(bars)), [b[0] for b in bars], fontsize=8)
    fig.legend(fontsize=9, ncol=4, loc="upper center", bbox_to_anchor=(0.5, 0.962),
               title="our class")
    fig.suptitle(f"App. I, Table 2: each Pham et al. class split by our classes -- the paper's "
                 f"five columns, then ours (N = {p['N']}, d = {p['d']}, {p['n_points']} "
                 f"samples, S_gen = {p['n_reference']}; n = samples in the class)", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    return save_figure(fig, out_dir, "memorization_metrics.png")
