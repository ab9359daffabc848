"""App. F (Fig. 11) and App. H (Fig. 14): the probability flow over stacks trained by different
protocols -- augmented Lagrangian, Adam without and with weight decay, and dropout (docs/math.md
§6, §7).

The set-up of :mod:`._fig2` (same data, levels, starts and seed for every protocol); each
protocol gets the same number of gradient steps (:data:`._fig2.BUDGET`):

* ``al``: min weight cost subject to interpolating every noisy sample (eqs. 22-26);
* ``adam``: the MSE (eq. 3) with Adam, no regulariser;
* ``adam-wd``: the MSE plus weight decay on ``a_k, w_k`` (App. F);
* ``dropout``: ``adam-wd`` with dropout on the hidden layer (App. H).

For each protocol: the endpoint fractions of the Euler probability flow (eq. 20), how far the
low-noise nets are from the closed form (:func:`numerics.premise.compare`, the ``flows compare``
metrics, at every level inside the low-noise regime), and the training loss (the MSE on the
level's own training samples) at every level.  :func:`claims` states each claim of App. F and
App. H as held or not held, with the numbers that decide it.
"""
from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np

from ..classify import CLASSES
from ..plotting import plot_endpoint_classes
from . import _fig2
from ._data import orthonormal_dataset
from ._runtime import pyplot, save_figure, write_results

NAME = "training-protocols"
PROTOCOLS = ("al", "adam", "adam-wd", "dropout")

#: The paper's words for each protocol (App. F Fig. 11, App. H Fig. 14; §5.1).
PAPER = {
    "al": "Fig. 2: a large percentage of the samples are virtual points",
    "adam": "without weight decay the probability flow converges only to training points or "
            "boundary points of the hyperbox (App. F)",
    "adam-wd": "with weight decay it also converges to virtual points, aligning with the "
               "augmented-Lagrangian (min-norm) results (App. F)",
    "dropout": "dropout raises the MSE loss, especially in the low-noise regime, and more "
               "samples are generated outside the boundary of the hyperbox (App. H)",
}
#: "No virtual points" / "only training and boundary points" allow this share of the samples
#: elsewhere (5 of 500): a handful of stray samples is not a different behaviour.
ABSENT_SHARE = 0.01
#: Two shares differ when they are more than this many standard errors of their difference
#: apart (binomial errors of ``n_points`` samples; about a 5 % chance of a false call).
SE_FACTOR = 2.0
#: Class shares "alike" (F4): total variation distance at most this (a tenth of the samples
#: would have to change class to exceed it).
TV_SIMILAR = 0.1
#: Sample points per region of each ``compare`` (RMS to ~5 %; 4 protocols x 20 levels).
COMPARE_POINTS = 512
#: ``flows compare`` metrics kept per low-noise level.
COMPARE_KEYS = ("sup_error_balls_rel", "rms_error_hull_rel", "sup_error_hull_rel", "cost_ratio",
                "boundary_angle_weighted_deg", "boundary_offset_weighted_rel", "skip_norm")


def run(out_dir, *, seed: int = 0, N: int = 30, d: int | None = None, protocols=PROTOCOLS,
        n_points: int = _fig2.N_POINTS, sigma_max: float = _fig2.SIGMA_MAX, c: float = _fig2.C,
        n_outside: int = _fig2.N_OUTSIDE, n_inside: int = _fig2.N_INSIDE, noise: str = _fig2.NOISE,
        samples: int = _fig2.SAMPLES, width: int | None = None, outer_steps: int | None = None,
        inner_steps: int | None = None, steps: int | None = None, hyper: dict | None = None,
        schedule: str = _fig2.SCHEDULE,
        weight_decay: float | None = None, dropout: float | None = None,
        thresholds=_fig2.THRESHOLDS, threshold: float = _fig2.THRESHOLD,
        cache_dir: str | None = None, progress: bool = True, workers: int | None = None,
        scheduler: str | None = None) -> dict:
    """Train (or reuse) one stack per protocol; write ``results.json`` and
    ``training_protocols.png``.  ``hyper`` overrides hyper-parameters of every protocol that
    has them (e.g. ``{"lr": 3e-3}``); ``weight_decay`` and ``dropout`` (default: the training
    package's, :data:`training.DEFAULTS`) are the same shortcut for ``adam-wd`` and
    ``dropout``."""
    hyper = {**(hyper or {}), **{k: v for k, v in (("weight_decay", weight_decay),
                                                   ("dropout", dropout)) if v is not None}}
    t_start = time.perf_counter()
    unknown = sorted(set(protocols) - set(PROTOCOLS))
    if unknown or not protocols:
        raise ValueError(f"protocols must be a non-empty list of {', '.join(PROTOCOLS)}, got "
                         f"{list(protocols)}")
    protocols = [p for p in PROTOCOLS if p in protocols]
    setup = _fig2.Setup.from_run(out_dir, {**locals(), "hyper": None})
    d = N if d is None else int(d)
    ds = orthonormal_dataset(N, d)
    thresholds = sorted(set(map(float, thresholds)) | {float(threshold)})
    Y0 = setup.starts(n_points, d)
    levels = setup.levels(ds)
    inside = _fig2.inside_mask(ds, levels, c)
    rows = {}
    closed = None
    for prot in protocols:
        from training import hyperparameters
        own = {k: v for k, v in (hyper or {}).items() if k in hyperparameters(prot)}
        tr = replace(setup, hyper=own).stack(ds, prot)
        stack = tr["stack"]
        ends, speed = _fig2.probability_endpoints(stack, Y0, ds, c)
        closed = ends["closed_form"]
        rows[prot] = {"fractions": _fig2.fractions(ds, ends["trained"], thresholds),
                      "distance_to_hyperbox": _fig2.distances(ds, ends["trained"])["hyperbox"],
                      "training": _fig2.training_record(tr), "euler_speed": speed,
                      "training_loss": _fig2.training_losses(stack, ds),
                      "reference_loss": _fig2.training_losses(
                          stack, ds, _fig2.reference_denoiser(ds, c)),
                      "premise": _premise(stack, ds, levels, inside, c, seed)}
    results = {"seed": seed,
               "parameters": {"N": N, "d": d, "n_points": n_points, "protocols": protocols,
                              **setup.record(), "hyper": hyper or {}, "thresholds": thresholds,
                              "threshold": threshold},
               "levels": {"sigmas": levels, "inside": inside},
               "by_protocol": rows,
               "closed_form": _fig2.fractions(ds, closed, thresholds),
               "paper": PAPER}
    results["claims"] = claims(results)
    results["seconds"] = {"total": time.perf_counter() - t_start}
    results["figures"] = [_figure(out_dir, results)]
    write_results(out_dir, NAME, results)
    return results


def _premise(stack, ds, levels, inside, c, seed) -> dict:
    """``flows compare`` metrics (:data:`COMPARE_KEYS`) of every low-noise level's net, and their
    medians over those levels."""
    from ..premise import compare
    per = []
    for s in np.asarray(levels)[inside]:
        r = compare(stack.network_at(s), ds, c * s, n_points=COMPARE_POINTS, seed=seed)
        per.append({"sigma": float(s), **{k: r[k] for k in COMPARE_KEYS}})
    med = {k: float(np.median([p[k] for p in per if p[k] is not None])) for k in COMPARE_KEYS}
    return {"per_level": per, "median": med}


def _share(results, prot, cls) -> float:
    t = str(float(results["parameters"]["threshold"]))
    return results["by_protocol"][prot]["fractions"]["l2"][t][cls]


def _differ(a: float, b: float, n: int) -> float:
    """``SE_FACTOR`` standard errors of ``a - b`` for two independent shares of ``n``."""
    return SE_FACTOR * math.hypot(_fig2.binomial_se(a, n), _fig2.binomial_se(b, n))


def claims(results) -> list[dict]:
    """Each claim of App. F / App. H that the protocols run can decide: ``{id, claim, source,
    held, numbers, rule}`` (l2 ``threshold``; ids F1-F5, H1-H3).  A claim whose protocols were
    not run is left out.  F5 and H2 restate the mechanism the appendices give (weight decay
    pulls towards the min-norm denoiser; dropout moves samples off the box) with measures that
    need no threshold: the ``flows compare`` distance and the distance to the hyperbox."""
    run_ = set(results["parameters"]["protocols"])
    n = results["parameters"]["n_points"]
    by = results["by_protocol"]
    out = []

    def claim(cid, text, source, held, numbers, rule):
        out.append({"id": cid, "claim": text, "source": source, "held": bool(held),
                    "numbers": numbers, "rule": rule})

    if "adam" in run_:
        tb = _share(results, "adam", "training") + _share(results, "adam", "boundary")
        v = _share(results, "adam", "virtual")
        claim("F1", "without weight decay (adam) the flow reaches only training and boundary "
              "points", "App. F, Fig. 11", tb >= 1 - ABSENT_SHARE,
              {"adam training + boundary": tb, "adam virtual": v,
               "adam other": _share(results, "adam", "other")},
              f"training + boundary >= {1 - ABSENT_SHARE:g}")
        claim("F2", "without weight decay (adam) no virtual points", "App. F, Fig. 11",
              v <= ABSENT_SHARE, {"adam virtual": v}, f"virtual <= {ABSENT_SHARE:g}")
    if {"adam", "adam-wd"} <= run_:
        v0, v1 = _share(results, "adam", "virtual"), _share(results, "adam-wd", "virtual")
        claim("F3", "with weight decay (adam-wd) virtual points appear", "App. F, Fig. 11",
              v1 > ABSENT_SHARE and v1 - v0 > _differ(v0, v1, n),
              {"adam virtual": v0, "adam-wd virtual": v1},
              f"adam-wd virtual > {ABSENT_SHARE:g} and above adam's by more than "
              f"{SE_FACTOR:g} standard errors")
    if {"al", "adam-wd"} <= run_:
        t = str(float(results["parameters"]["threshold"]))
        a, b = by["al"]["fractions"]["l2"][t], by["adam-wd"]["fractions"]["l2"][t]
        tv = 0.5 * sum(abs(a[k] - b[k]) for k in CLASSES)
        claim("F4", "weight decay induces a bias similar to the augmented Lagrangian's (same "
              "endpoint classes)", "App. F", tv <= TV_SIMILAR,
              {"total variation al vs adam-wd": tv, **{f"al {k}": a[k] for k in CLASSES},
               **{f"adam-wd {k}": b[k] for k in CLASSES}},
              f"total variation distance of the class shares <= {TV_SIMILAR:g}")
    if {"adam", "adam-wd"} <= run_:
        d0 = [q["rms_error_hull_rel"] for q in by["adam"]["premise"]["per_level"]]
        d1 = [q["rms_error_hull_rel"] for q in by["adam-wd"]["premise"]["per_level"]]
        closer = sum(y < x for x, y in zip(d0, d1))
        claim("F5", "weight decay brings the low-noise nets closer to the min-norm closed form "
              "than plain Adam", "App. F", closer > len(d0) / 2,
              {"low-noise levels where adam-wd is closer": closer, "low-noise levels": len(d0),
               "median RMS on the hyperbox / r, adam": float(np.median(d0)),
               "median RMS on the hyperbox / r, adam-wd": float(np.median(d1))},
              "adam-wd's RMS distance to eq. 17 on the hyperbox below adam's at most low-noise "
              "levels")
    if {"adam-wd", "dropout"} <= run_:
        o0, o1 = _share(results, "adam-wd", "other"), _share(results, "dropout", "other")
        claim("H1", "dropout sends more samples off the hyperbox (class other) than the same "
              "training without dropout (adam-wd)", "App. H, Fig. 14",
              o1 - o0 > _differ(o0, o1, n), {"adam-wd other": o0, "dropout other": o1},
              f"dropout other above adam-wd's by more than {SE_FACTOR:g} standard errors")
        h0 = np.asarray(by["adam-wd"]["distance_to_hyperbox"])
        h1 = np.asarray(by["dropout"]["distance_to_hyperbox"])
        far = float(np.mean(h1 > np.median(h0)))
        claim("H2", "dropout's samples end farther from the hyperbox than adam-wd's",
              "App. H, Fig. 14", far - 0.5 > SE_FACTOR * _fig2.binomial_se(0.5, len(h1)),
              {"dropout share beyond adam-wd's median distance": far,
               "median distance to the hyperbox, adam-wd": float(np.median(h0)),
               "median distance to the hyperbox, dropout": float(np.median(h1))},
              f"share of dropout endpoints beyond adam-wd's median distance above 1/2 by more "
              f"than {SE_FACTOR:g} standard errors")
        inside = np.asarray(results["levels"]["inside"], dtype=bool)
        l0 = np.asarray(by["adam-wd"]["training_loss"])
        l1 = np.asarray(by["dropout"]["training_loss"])
        r_in = float(np.mean(l1[inside]) / np.mean(l0[inside]))
        r_out = float(np.mean(l1[~inside]) / np.mean(l0[~inside])) if (~inside).any() else None
        claim("H3", "dropout raises the training MSE, especially in the low-noise regime",
              "App. H", r_in > 1 and (r_out is None or r_in > r_out),
              {"MSE ratio dropout / adam-wd, inside": r_in,
               "MSE ratio dropout / adam-wd, outside": r_out},
              "inside ratio > 1 and > outside ratio")
    return out


def protocol_list(text: str) -> tuple[str, ...]:
    """``"al,adam"`` -> ``("al", "adam")`` (command-line parser; names checked by :func:`run`)."""
    import argparse
    out = tuple(p.strip() for p in str(text).split(","))
    bad = [p for p in out if p not in PROTOCOLS]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown protocol(s) {', '.join(bad)}; choose from "
                                         f"{', '.join(PROTOCOLS)}, comma separated")
    return out


#: Command-line parameters of ``flows experiment training-protocols`` (defaults: :func:`run`).
PARAMETERS = _fig2.parameters(
    "N", "d",
    protocols=(protocol_list, "training protocols, comma list of al, adam, adam-wd, dropout"),
    weight_decay=(float, "weight decay of adam-wd and dropout (default: the training "
                         "package's, 3e-5)"),
    dropout=(float, "dropout rate of the dropout protocol (default: the training package's, "
                    "0.1)"),
)


def summary(results) -> list[str]:
    """Headline numbers: class fractions per protocol, distance to the closed form, claims."""
    p = results["parameters"]
    t = str(float(p["threshold"]))
    out = [f"probability flow, N = {p['N']}, d = {p['d']}, {p['n_points']} starts, l2 threshold "
           f"{p['threshold']:g}:"]
    for prot, row in results["by_protocol"].items():
        med = row["premise"]["median"]
        out.append(f"{prot}: {_fig2.pct(row['fractions']['l2'][t])}; RMS to the closed form on "
                   f"the hyperbox {med['rms_error_hull_rel']:.3g} r (median over low-noise "
                   f"levels); final training MSE (mean over levels) "
                   f"{np.mean(row['training_loss']):.3g}")
    out.append(f"closed form: {_fig2.pct(results['closed_form']['l2'][t])}")
    for cl in results["claims"]:
        nums = ", ".join(f"{k} {v:.3g}" for k, v in cl["numbers"].items() if v is not None)
        out.append(f"{cl['id']} [{'held' if cl['held'] else 'NOT held'}] {cl['claim']} ({nums})")
    return out


def _figure(out_dir, results) -> str:
    plt = pyplot()
    p = results["parameters"]
    t = str(float(p["threshold"]))
    fig, ((ax_bars, ax_dist), (ax_loss, ax_cmp)) = plt.subplots(
        2, 2, figsize=(15, 10.5), gridspec_kw={"width_ratios": (1.3, 1)})
    runs = {prot: results["by_protocol"][prot]["fractions"]["l2"][t] for prot in p["protocols"]}
    runs["closed form\n(MMSE + eq. 17)"] = results["closed_form"]["l2"][t]
    plot_endpoint_classes(runs, ax_bars, title=f"probability-flow endpoints, l2 threshold "
                          f"{p['threshold']:g}")
    colors = dict(zip(PROTOCOLS, ("tab:green", "tab:red", "tab:blue", "tab:purple")))
    sig = np.asarray(results["levels"]["sigmas"])
    inside = np.asarray(results["levels"]["inside"], dtype=bool)
    dmax = max(float(np.max(results["by_protocol"][q]["distance_to_hyperbox"]))
               for q in p["protocols"])
    bins = np.linspace(0, max(dmax, float(p["threshold"])) * 1.02, 40)
    for prot in p["protocols"]:
        ax_dist.hist(results["by_protocol"][prot]["distance_to_hyperbox"], bins=bins,
                     histtype="step", lw=1.6, color=colors[prot], label=prot)
    ax_dist.axvline(p["threshold"], color="k", ls="--", lw=1, label="threshold")
    ax_dist.set_xlabel("l2 distance of the endpoint to the hyperbox")
    ax_dist.set_ylabel("endpoints")
    ax_dist.set_title("how far off the hyperbox (H2)", fontsize=10)
    ax_dist.legend(fontsize=8)
    ref = np.asarray(results["by_protocol"][p["protocols"][0]]["reference_loss"])
    ax_loss.plot(sig[~inside], ref[~inside], "k--", lw=1.2,
                 label="empirical MMSE denoiser\n(same samples)")
    for prot in p["protocols"]:
        row = results["by_protocol"][prot]
        ax_loss.plot(sig, row["training_loss"], "o-", ms=3, color=colors[prot], label=prot)
        per = row["premise"]["per_level"]
        ax_cmp.plot([q["sigma"] for q in per], [q["rms_error_hull_rel"] for q in per], "o-",
                     ms=3, color=colors[prot], label=prot)
    edge = sig[inside].max() if inside.any() else None
    from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullFormatter
    ax_loss.set_yscale("log")
    ticks = [v for v in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50)
             if sig.min() / 1.5 <= v <= sig.max() * 1.5]
    for ax in (ax_loss, ax_cmp):
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("noise level sigma")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
        if edge is not None:
            ax.axvline(edge, color="0.5", ls=":", lw=1)
    ax_loss.set_ylabel("MSE on the level's training samples")
    ax_loss.set_title("training loss per level (the closed form's is 0 inside)\n(dotted: "
                      "edge of the low-noise regime)", fontsize=10)
    ax_cmp.set_ylabel("RMS |h - h*| on the hyperbox / r")
    ax_cmp.set_title("distance to the closed form (flows compare),\nlow-noise levels",
                      fontsize=10)
    held = ", ".join(f"{cl['id']} {'held' if cl['held'] else 'not held'}"
                     for cl in results["claims"])
    fig.suptitle(f"Training protocols (App. F, H): N = {p['N']} orthonormal points in d = "
                 f"{p['d']}, {p['n_outside']} + {p['n_inside']} levels, seed {results['seed']}"
                 f"\nclaims: {held}", fontsize=11)
    fig.tight_layout()
    return save_figure(fig, out_dir, "training_protocols.png")

