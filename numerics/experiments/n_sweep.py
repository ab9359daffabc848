"""Fig. 3: probability-flow endpoint fractions as the number of training points shrinks
(paper §5.2).

The full probability flow of :mod:`.endpoints` (empirical MMSE denoiser above the low-noise
regime, exact min-cost ODE inside it) for ``N`` orthonormal points ``x_n = e_n`` (and ``x_0 = 0``)
in a fixed dimension ``d``, from the same ``n_points`` Gaussian starts for every ``N``.  The paper
reports that generalisation (virtual and boundary endpoints) grows with ``N`` and memorisation
(training endpoints) falls.
"""
from __future__ import annotations

import numpy as np

from ..classify import CLASSES
from ..plotting import plot_endpoint_classes
from ._data import orthonormal_dataset
from ._runtime import pyplot, save_figure, write_results
from .endpoints import fractions, simulate, switch_sigma
from .parameters import float_list, int_list

NAME = "n-sweep"
PAPER = ("generalisation increases with N: a larger share of samples converges to virtual "
         "points or the hyperbox boundary; memorisation (training points) dominates at small N")


def run(out_dir, *, seed: int = 0, Ns=(30, 20, 10, 5), d: int = 30, n_points: int = 500,
        sigma_max: float = 10.0, c: float = 1.0, n_high: int = 400, n_low: int = 50,
        thresholds=(0.01, 0.1), threshold: float = 0.1, method: str = "ode",
        progress: bool = True, workers: int | None = None, scheduler: str | None = None) -> dict:
    """Run the Fig. 3 experiment; write ``results.json`` and ``n_sweep.png``.

    ``method`` is the low-noise stage (``"ode"`` exact, ``"euler"`` eq. 20 with ``n_low`` levels).
    """
    Ns = [int(n) for n in Ns]
    if any(n < 1 or n > d for n in Ns):
        raise ValueError(f"every N must lie in 1..d = {d}, got {Ns}")
    thresholds = sorted(set(map(float, thresholds)) | {float(threshold)})
    rng = np.random.default_rng(seed)
    Y0 = sigma_max * rng.standard_normal((n_points, d))
    rows = {}
    for N in Ns:
        ds = orthonormal_dataset(N, d)
        params = {"score": False, "cs": [float(c)], "methods": (method,), "sigma_max": sigma_max,
                  "n_high": n_high, "n_low": n_low}
        ends = simulate((N, d), Y0, params, workers=workers, scheduler=scheduler,
                        progress=progress, label=f"{NAME} N={N}")
        Y = ends[f"probability/{method}/c={float(c):.6g}"]
        fr = fractions(ds, Y, thresholds)
        rows[str(N)] = {"fractions": fr, "norms_agree": fr["l2"] == fr["linf"],
                        "mean_vertex_size": float(np.mean(np.sum(Y[:, :N] > 0.5, axis=1))),
                        "sigma_switch": switch_sigma(ds, c)}
    results = {"seed": seed,
               "parameters": {"Ns": Ns, "d": d, "n_points": n_points, "sigma_max": sigma_max,
                              "c": c, "n_high": n_high, "n_low": n_low, "method": method,
                              "thresholds": thresholds, "threshold": threshold},
               "by_N": rows, "paper": PAPER}
    results["figures"] = [_figure(out_dir, results)]
    write_results(out_dir, NAME, results)
    return results


#: Command-line parameters of ``flows experiment n-sweep`` (defaults: :func:`run`).
PARAMETERS = {
    "Ns": (int_list, "numbers of training points N (each <= d), comma list"),
    "d": (int, "ambient dimension"),
    "n_points": (int, "Gaussian initial points y0 ~ N(0, sigma_max^2 I), the same for every N"),
    "sigma_max": (float, "initial noise level"),
    "c": (float, "rho = c sigma"),
    "n_high": (int, "Euler steps of the MMSE stage above the low-noise regime"),
    "n_low": (int, "Euler levels of the min-cost stage (method euler)"),
    "thresholds": (float_list, "classification thresholds stored in the JSON, comma list"),
    "threshold": (float, "classification threshold of the figure and summary"),
    "method": (str, "low-noise stage: exact ODE or Euler (eq. 20)", ("ode", "euler")),
}


def summary(results) -> list[str]:
    """Headline numbers: class fractions for every N."""
    p = results["parameters"]
    t = str(p["threshold"])
    out = [f"probability flow, d = {p['d']}, {p['n_points']} starts, c = {p['c']:g}, "
           f"l2 threshold {p['threshold']:g}:"]
    for n in p["Ns"]:
        fr = results["by_N"][str(n)]["fractions"]["l2"][t]
        out.append(f"N = {n}: " + ", ".join(f"{k} {100 * fr[k]:.1f}%" for k in CLASSES))
    if all(results["by_N"][str(n)]["norms_agree"] for n in p["Ns"]):
        out.append("l-infinity classes equal the l2 ones for every N")
    return out


def _figure(out_dir, results) -> str:
    """Stacked class bars per N, l2 threshold.  The l-infinity panel is drawn only when its
    classes differ.  They rarely do, and not by a bug: the exact low-noise ODE ends every sample
    on the hyperbox (distance 0 to the boundary in both norms), and an off-vertex endpoint
    differs from its nearest vertex in a single coordinate (seen at the default sizes), where
    the l2 and l-infinity norms of the difference coincide."""
    plt = pyplot()
    p = results["parameters"]
    Ns = p["Ns"]
    t = str(p["threshold"])
    agree = all(results["by_N"][str(n)]["norms_agree"] for n in Ns)
    norms = ("l2",) if agree else ("l2", "linf")
    fig, axes = plt.subplots(1, len(norms), figsize=(7.5 * len(norms), 1.8 + 0.6 * len(Ns)),
                             squeeze=False)
    for ax, norm in zip(axes[0], norms):
        runs = {f"N = {n}": results["by_N"][str(n)]["fractions"][norm][t] for n in Ns}
        note = ("\n(l-infinity classes are identical: every endpoint lies on the box, off-vertex "
                "ones\ndiffer from their nearest vertex in one coordinate, where l2 = l-infinity)"
                if agree else "")
        plot_endpoint_classes(runs, ax, title=f"{norm} threshold {p['threshold']:g}{note}")
    fig.suptitle(f"Probability-flow endpoints vs N (d = {p['d']}, {p['n_points']} starts, "
                 f"sigma_max = {p['sigma_max']:g}, c = {p['c']:g}, low-noise stage: "
                 f"{p['method']})", fontsize=11)
    fig.tight_layout()
    return save_figure(fig, out_dir, "n_sweep.png")
