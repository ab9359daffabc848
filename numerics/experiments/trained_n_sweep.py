"""Fig. 3 with trained denoisers: probability-flow endpoints as the number of training points
shrinks (paper §5.2; docs/math.md §6, §7).

For every ``N`` in ``Ns``: ``N`` orthonormal points ``x_n = e_n`` (and ``x_0 = 0``) in a fixed
``d``, a stack trained on the levels of :mod:`._fig2` (the same levels for every ``N``: the
low-noise edge ``min_n r_n / 2 = 1/2`` does not depend on ``N``), and the Euler probability flow
(eq. 20) from the same ``n_points`` starts; next to it the same grid with the analytic
denoisers (closed form inside the low-noise regime, empirical MMSE outside).  The paper reports
that generalisation (virtual and boundary endpoints) grows with ``N`` and memorisation
(training endpoints) falls; :func:`trend` states whether each column shows that.
"""
from __future__ import annotations

import time

from ..plotting import plot_endpoint_classes
from . import _fig2
from ._data import orthonormal_dataset
from ._runtime import pyplot, save_figure, write_results
from .parameters import int_list

NAME = "trained-n-sweep"
PAPER = ("generalisation increases with N: a larger share of samples converges to virtual "
         "points or to the hyperbox boundary; memorisation (training points) dominates at small "
         "N (Fig. 3; the paper raises M for its smallest N to prevent over-fitting at large "
         "noise)")


def run(out_dir, *, seed: int = 0, Ns=(30, 20, 10, 5), d: int = 30, n_points: int = _fig2.N_POINTS,
        sigma_max: float = _fig2.SIGMA_MAX, c: float = _fig2.C, n_outside: int = _fig2.N_OUTSIDE,
        n_inside: int = _fig2.N_INSIDE, noise: str = _fig2.NOISE, protocol: str = "al",
        samples: int = _fig2.SAMPLES, width: int | None = None, outer_steps: int | None = None,
        inner_steps: int | None = None, steps: int | None = None, hyper: dict | None = None,
        schedule: str = _fig2.SCHEDULE,
        thresholds=_fig2.THRESHOLDS, threshold: float = _fig2.THRESHOLD,
        cache_dir: str | None = None, progress: bool = True, workers: int | None = None,
        scheduler: str | None = None) -> dict:
    """Train (or reuse) one stack per ``N``; write ``results.json`` and
    ``trained_n_sweep.png``.  ``width=None``: 4 x (N + 1) units for each ``N``."""
    t_start = time.perf_counter()
    setup = _fig2.Setup.from_run(out_dir, locals())
    Ns = [int(n) for n in Ns]
    if any(n < 1 or n > d for n in Ns):
        raise ValueError(f"every N must lie in 1..d = {d}, got {Ns}")
    thresholds = sorted(set(map(float, thresholds)) | {float(threshold)})
    Y0 = setup.starts(n_points, d)
    rows = {}
    for N in Ns:
        ds = orthonormal_dataset(N, d)
        tr = setup.stack(ds, protocol)
        ends, speed = _fig2.probability_endpoints(tr["stack"], Y0, ds, c)
        rows[str(N)] = {
            "fractions": {k: _fig2.fractions(ds, Y, thresholds) for k, Y in ends.items()},
            "training": _fig2.training_record(tr), "euler_speed": speed,
            "levels": tr["stack"].sigmas}
    results = {"seed": seed,
               "parameters": {"Ns": Ns, "d": d, "n_points": n_points, **setup.record(),
                              "protocol": protocol, "thresholds": thresholds,
                              "threshold": threshold},
               "by_N": rows, "paper": PAPER}
    results["trend"] = trend(results)
    results["seconds"] = {"total": time.perf_counter() - t_start}
    results["figures"] = [_figure(out_dir, results)]
    write_results(out_dir, NAME, results)
    return results


def trend(results) -> dict:
    """Per column: the training share and the generalised share (virtual + boundary) at each
    ``N`` (l2 ``threshold``), and whether the paper's trend holds -- training share not
    increasing and generalised share not decreasing as ``N`` grows, each step allowed one
    binomial standard error of the ``n_points`` samples."""
    p = results["parameters"]
    t = str(float(p["threshold"]))
    Ns = sorted(p["Ns"])
    out = {}
    for col in ("trained", "closed_form"):
        tr = [results["by_N"][str(n)]["fractions"][col]["l2"][t]["training"] for n in Ns]
        gen = [sum(results["by_N"][str(n)]["fractions"][col]["l2"][t][k]
                   for k in ("virtual", "boundary")) for n in Ns]
        se = lambda a, b: _fig2.binomial_se(a, p["n_points"]) + _fig2.binomial_se(  # noqa: E731
            b, p["n_points"])
        falls = all(b <= a + se(a, b) for a, b in zip(tr, tr[1:]))
        grows = all(b >= a - se(a, b) for a, b in zip(gen, gen[1:]))
        out[col] = {"Ns_increasing": Ns, "training_share": tr, "generalised_share": gen,
                    "memorisation_falls_with_N": falls, "generalisation_grows_with_N": grows,
                    "held": falls and grows}
    return out


#: Command-line parameters of ``flows experiment trained-n-sweep`` (defaults: :func:`run`).
PARAMETERS = _fig2.parameters(
    "protocol",
    Ns=(int_list, "numbers of training points N (each <= d), comma list"),
    d=(int, "ambient dimension"),
)


def summary(results) -> list[str]:
    """Headline numbers: class fractions per N, trained and closed form, and the trend."""
    p = results["parameters"]
    t = str(float(p["threshold"]))
    out = [f"probability flow, d = {p['d']}, {p['n_points']} starts, {p['protocol']} stacks, "
           f"l2 threshold {p['threshold']:g}:"]
    for n in p["Ns"]:
        fr = results["by_N"][str(n)]["fractions"]
        out.append(f"N = {n}: trained {_fig2.pct(fr['trained']['l2'][t])} | closed form "
                   f"{_fig2.pct(fr['closed_form']['l2'][t])}")
    for col, tr in results["trend"].items():
        out.append(f"{col.replace('_', ' ')}: paper's trend (memorisation falls, generalisation "
                   f"grows with N) {'held' if tr['held'] else 'not held'}")
    return out


def _figure(out_dir, results) -> str:
    plt = pyplot()
    p = results["parameters"]
    t = str(float(p["threshold"]))
    Ns = p["Ns"]
    fig, axes = plt.subplots(1, 2, figsize=(15, 1.8 + 0.6 * len(Ns)))
    for ax, col, title in zip(axes, ("trained", "closed_form"),
                              (f"trained stacks ({p['protocol']})",
                               "MMSE outside + closed form (eq. 17) inside")):
        runs = {f"N = {n}": results["by_N"][str(n)]["fractions"][col]["l2"][t] for n in Ns}
        held = results["trend"][col]["held"]
        plot_endpoint_classes(runs, ax, title=f"{title}\npaper's trend "
                              f"{'held' if held else 'not held'}", legend=col == "trained")
    fig.suptitle(f"Probability-flow endpoints vs N (d = {p['d']}, {p['n_points']} starts, "
                 f"sigma_max = {p['sigma_max']:g}, {p['n_outside']} + {p['n_inside']} levels, "
                 f"l2 threshold {p['threshold']:g})", fontsize=11)
    fig.tight_layout()
    return save_figure(fig, out_dir, "trained_n_sweep.png")

