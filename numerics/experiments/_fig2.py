"""The trained Fig. 2 set-up shared by the trained-network experiments (paper §5, App. E-I;
docs/math.md §6, §7).

One place defines what "Fig. 2 with trained denoisers" means, so that ``trained-endpoints``,
``trained-n-sweep``, ``training-protocols``, ``augmented-hyperbox`` and ``memorization-metrics``
differ only in what they vary:

* **noise levels** (:func:`stack_levels`): ``n_outside`` levels equally spaced *outside* the
  low-noise regime (``c sigma >= rho_max = min_n r_n / 2``), from ``sigma_max`` down to the edge
  ``rho_max / c`` (excluded), and ``n_inside`` levels equally spaced *inside* it, from
  ``sigma_switch = (1 - SWITCH_MARGIN) rho_max / c`` down to ``sigma_switch / n_inside``
  (:func:`.endpoints.low_noise_sigmas`), as §5 describes ("equally spaced noise levels in the
  low-noise regime and equally spaced noise levels outside it");
* **the stack** (:func:`train`): one denoiser per level, by default trained on Gaussian samples
  ``x_n + sigma_i eps`` outside the low-noise regime and on the balls ``B(x_n, c sigma_i)``
  inside it (docs/math.md §1, §7), each part in one vectorised program and cached on disk by
  :func:`._trained.trained_stack` (key: data, levels, noise, protocol, width, samples,
  hyper-parameters, seed);
* **the flows**: the Euler probability flow (eq. 20) over the stack's levels with a last step to
  ``sigma = 0`` (:func:`euler_flow`: ``y <- D_1(y_1)`` at the end), and the score flow (eq. 21)
  of one low-noise level (:func:`score_level`);
* **the closed-form column** (:func:`reference_denoiser`): the same grid and starts with the
  analytic denoisers of :mod:`.endpoints` -- the min-cost closed form ``h_{c sigma}`` (eq. 17)
  inside the low-noise regime and the empirical MMSE denoiser of the training set outside it
  (docs/math.md §6), so "trained" and "closed form" differ only in the denoisers;
* **classification** (:func:`labels`, :func:`fractions`): training / virtual / boundary /
  other (:func:`numerics.classify.classify`, docs/math.md §6) in l2 and l-infinity for every
  threshold; an endpoint that left float64's range (a trained net is not bounded like the closed
  form, and eq. 21 iterates it) counts as ``other`` and is also counted as ``diverged``.

The initial points are ``sigma_max * N(0, I)`` drawn with ``numpy.random.default_rng(seed)``,
exactly as :mod:`.endpoints` draws them, so the analytic and the trained experiments start from
the same 500 points.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from ..classify import CLASSES, classify
from ..evaluate import compile_denoiser
from ..mmse import MMSEDenoiser
from ..schedules import euler_probability_flow, score_flow_iterations
from ._trained import trained_stack
from .endpoints import low_noise_sigmas, switch_sigma
from .parameters import float_list

#: Defaults shared by the five experiments' ``run`` signatures.  ``N`` (30), the starts, ``c``,
#: the thresholds and the score flow's ``rho``, steps and ``eta`` are those of the analytic
#: :mod:`.endpoints`; the levels and the training budget are ours (the paper keeps its last 50
#: levels in the low-noise regime; 20 + 20 levels train in about 18 minutes on the shared
#: two-core machine, see docs/experiments/trained-endpoints.md).
N_POINTS, SIGMA_MAX, C = 500, 10.0, 1.0
N_OUTSIDE, N_INSIDE, NOISE, SAMPLES = 20, 20, "mixed", 20
THRESHOLDS, THRESHOLD = (0.01, 0.1), 0.1

#: Training budget of a stack per protocol: the same number of gradient steps (6000) for the
#: augmented Lagrangian (30 outer x 200 inner Adam steps) and the three MSE protocols, so that
#: App. F/H compare losses, not budgets.  ``flows train``'s defaults (100 x 1000, 20 000) are
#: for one denoiser; 40 levels at that budget take hours on two cores.
BUDGET = {"outer_steps": 30, "inner_steps": 200, "steps": 6000}
#: The ``al`` schedule of a stack: the augmented Lagrangian at ``mu = 100`` from the first outer
#: iteration, learning rate x0.9 per outer iteration, no recycled units.  ``flows train``'s
#: default schedule starts with a penalty continuation ``mu_start = 1 -> mu = 100`` (x1.1 per outer
#: iteration, docs/training.md): it needs 49 outer iterations before eqs. 24-26 start, more than a
#: stack's 30, so a stack keeps the schedule its pages were measured with.  Pass ``--hyper``
#: values (or a larger ``outer_steps`` with ``mu_start``) to train stacks the other way.
STACK_AL_SCHEDULE = {"mu_start": 100.0, "lr_decay": 0.9, "recycle": 0.0}
#: ``al`` schedules of a stack: ``fixed`` (:data:`STACK_AL_SCHEDULE`, the default) or
#: ``continuation`` (``flows train``'s defaults; give it ``outer_steps`` >= 100).
SCHEDULES, SCHEDULE = ("fixed", "continuation"), "fixed"
#: Which budget keys each protocol takes.
BUDGET_KEYS = {"al": ("outer_steps", "inner_steps"), "adam": ("steps",),
               "adam-wd": ("steps",), "dropout": ("steps",)}

#: Training noise of a stack (:func:`train`).
NOISES = ("mixed", "ball", "gaussian")

#: Command-line parameters common to the five experiments (merged into each ``PARAMETERS``).
STACK_PARAMETERS = {
    "n_points": (int, "Gaussian initial points y0 ~ N(0, sigma_max^2 I)"),
    "sigma_max": (float, "initial noise level (the largest level of the stack)"),
    "c": (float, "ball radius rho = c sigma of the low-noise levels; the low-noise regime is "
                 "c sigma < min r/2"),
    "n_outside": (int, "levels equally spaced outside the low-noise regime"),
    "n_inside": (int, "levels equally spaced inside the low-noise regime"),
    "noise": (str, "training noise: Gaussian outside + ball inside the low-noise regime "
                   "(mixed), or one noise for all levels", ("mixed", "ball", "gaussian")),
    "samples": (int, "noisy samples M per training point and level"),
    "width": (int, "hidden units K (default: 4 x number of training points)"),
    "outer_steps": (int, f"augmented-Lagrangian outer iterations (protocol al; default "
                         f"{BUDGET['outer_steps']})"),
    "inner_steps": (int, f"inner Adam steps per outer iteration (protocol al; default "
                         f"{BUDGET['inner_steps']})"),
    "steps": (int, f"Adam steps (protocols adam, adam-wd, dropout; default {BUDGET['steps']})"),
    "schedule": (str, "al schedule: mu = 100 from the first outer step (fixed), or flows train's "
                      "penalty continuation mu 1 -> 100 with restarted dead units (continuation; "
                      "give it --outer-steps 150 --inner-steps 1000)", SCHEDULES),
    "thresholds": (float_list, "classification thresholds stored in the JSON, comma list"),
    "threshold": (float, "l2 threshold of the figures, tables and summary"),
    "cache_dir": (str, "directory of cached stacks (default OUT/cache; share it between "
                       "experiments to reuse their stacks)"),
}


#: The data and protocol entries most of the experiments take.
DATA_PARAMETERS = {
    "N": (int, "number of orthonormal training points x_n = e_n"),
    "d": (int, "ambient dimension (default: N)"),
    "protocol": (str, "training protocol of the stack", ("al", "adam", "adam-wd", "dropout")),
}


def parameters(*data: str, **extra) -> dict:
    """:data:`STACK_PARAMETERS`, the named entries of :data:`DATA_PARAMETERS` and an
    experiment's own entries."""
    return {**STACK_PARAMETERS, **{k: DATA_PARAMETERS[k] for k in data}, **extra}


# -- data and levels ------------------------------------------------------------------------------
def rho_max(dataset) -> float:
    """Edge of the low-noise regime, ``min_n r_n / 2`` (docs/math.md §2: the balls are disjoint
    and the closed form exists for ``rho < rho_max``)."""
    return min(float(r) for r in dataset.r) / 2


def stack_levels(dataset, *, c: float, sigma_max: float, n_outside: int,
                 n_inside: int) -> np.ndarray:
    """The stack's noise levels, decreasing (module docstring): ``n_outside`` equally spaced in
    ``(rho_max / c, sigma_max]`` then :func:`.endpoints.low_noise_sigmas` without its final 0."""
    from theory.errors import InputError
    edge = rho_max(dataset) / c
    if not sigma_max > edge:
        raise InputError(f"sigma_max = {sigma_max:g} is inside the low-noise regime (c sigma < "
                         f"{rho_max(dataset):g} for sigma < {edge:g}); pass a larger sigma_max")
    for name, n in (("n_outside", n_outside), ("n_inside", n_inside)):
        if isinstance(n, bool) or int(n) != n or n < 1:
            raise InputError(f"{name} must be a positive integer, got {n!r}")
    outside = np.linspace(sigma_max, edge, int(n_outside) + 1)[:-1]
    inside = low_noise_sigmas(switch_sigma(dataset, c), int(n_inside))[:-1]
    return np.concatenate([outside, inside])


def inside_mask(dataset, levels, c: float) -> np.ndarray:
    """Which levels are in the low-noise regime ``c sigma < rho_max``."""
    return c * np.asarray(levels) < rho_max(dataset)


def initial_points(seed: int, n_points: int, d: int, sigma_max: float) -> np.ndarray:
    """``sigma_max * N(0, I)`` from ``default_rng(seed)`` (the draw of :mod:`.endpoints`)."""
    return sigma_max * np.random.default_rng(seed).standard_normal((n_points, d))


# -- training -------------------------------------------------------------------------------------
def budget(protocol: str, *, outer_steps=None, inner_steps=None, steps=None,
           hyper: dict | None = None, schedule: str = SCHEDULE) -> dict:
    """The hyper-parameters a stack is trained with: :data:`BUDGET` for ``protocol`` (and
    :data:`STACK_AL_SCHEDULE` for ``al`` unless ``schedule="continuation"``), overridden by the
    explicit budget arguments and then by ``hyper`` (with the fixed schedule, a ``mu`` given
    without ``mu_start`` starts there too)."""
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}")
    given = {"outer_steps": outer_steps, "inner_steps": inner_steps, "steps": steps}
    out = {k: (BUDGET[k] if given[k] is None else int(given[k])) for k in BUDGET_KEYS[protocol]}
    fixed = protocol == "al" and schedule == "fixed"
    if fixed:
        out.update(STACK_AL_SCHEDULE)
    if "steps" in out:  # a chunk longer than the budget would run past it
        out["chunk_steps"] = min(1000, out["steps"])
    out.update(hyper or {})
    if fixed and "mu" in (hyper or {}) and "mu_start" not in hyper:
        out["mu_start"] = out["mu"]
    return out


def train(dataset, levels, inside, *, c: float, noise: str, protocol: str, width, samples,
          hyper: dict, seed: int, cache_dir, progress: bool) -> dict:
    """The trained stack over ``levels`` (:func:`._trained.trained_stack`: trained now or loaded
    from ``cache_dir``), with the keys of a ``trained_stack`` result.

    ``noise`` (:data:`NOISES`): ``"mixed"`` trains the levels outside the low-noise regime
    (``inside`` false) on Gaussian samples ``x_n + sigma eps`` (eq. 3's noise: the starts
    ``y_0 ~ N(0, sigma_max^2 I)`` are then samples of the first level's training distribution)
    and the levels inside it on the balls ``B(x_n, c sigma)`` (eq. 8, the theory's premise), as
    two cached stacks joined into one; ``"ball"`` / ``"gaussian"`` use one noise for every
    level.  The training package warns that levels outside the low-noise regime have no
    closed-form cost; here that is by design, so the warning is not repeated for each of them."""
    import warnings
    if noise not in NOISES:
        raise ValueError(f"noise must be one of {', '.join(NOISES)}, got {noise!r}")
    levels = np.asarray(levels, dtype=float)
    inside = np.asarray(inside, dtype=bool)
    if noise == "mixed":
        parts = [(levels[~inside], "gaussian", None), (levels[inside], "ball", c)]
    else:
        parts = [(levels, noise, c)]
    res = []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="no closed-form cost at rho")
        for lv, nz, cc in parts:
            if len(lv):
                res.append(trained_stack(dataset, lv, cache_dir=Path(cache_dir), c=cc, noise=nz,
                                         protocol=protocol, width=width, samples=samples,
                                         seed=seed, hyper=hyper, progress=progress))
    return res[0] if len(res) == 1 else _joined(res, noise)


def _joined(parts: list, noise: str) -> dict:
    """One result from the stacks of :func:`train`'s parts, levels in their order."""
    from ..network import NetworkStack
    reps = [p["report"] for p in parts]
    cat = lambda key: [v for r in reps for v in r[f"{key}_per_level"]]  # noqa: E731
    report = {**reps[-1], "noise": noise,
              "residual_max": max(r["residual_max"] for r in reps),
              "residual_max_per_level": cat("residual_max"),
              "weight_cost": sum(r["weight_cost"] for r in reps),
              "representation_cost": sum(r["representation_cost"] for r in reps),
              "closed_form_cost_per_level": cat("closed_form_cost"),
              "converged": all(r["converged"] for r in reps),
              "seconds": sum(r["seconds"] for r in reps),
              "iterations": max(r["iterations"] for r in reps),
              "message": " | ".join(r["message"] for r in reps)}
    report["closed_form_cost"] = None
    stacks = [p["stack"] for p in parts]
    meta = {**stacks[-1].metadata, "noise": noise, "parts": [s.metadata for s in stacks]}
    stack = NetworkStack(np.concatenate([s.sigmas for s in stacks]),
                         tuple(n for s in stacks for n in s.networks), meta)
    return {"stack": stack, "net": stack.networks[0], "report": report, "metadata": meta,
            "cached": all(p["cached"] for p in parts), "path": [p["path"] for p in parts],
            "key": [p["key"] for p in parts], "seconds": sum(p["seconds"] for p in parts)}


def training_record(tr: dict) -> dict:
    """What a results file keeps of a :func:`train` result."""
    rep = tr["report"]
    keep = ("residual_max", "residual_max_per_level", "weight_cost", "representation_cost",
            "closed_form_cost", "converged", "seconds", "iterations", "tolerance", "width",
            "samples", "noise", "protocol", "seed", "message")
    return {"cached": tr["cached"], "network_file": tr["path"], "cache_key": tr["key"],
            "seconds_this_run": tr["seconds"],
            "hyperparameters": tr["metadata"].get("hyperparameters", {}),
            "report": {k: rep.get(k) for k in keep}}


def cache_directory(out_dir, cache_dir) -> Path:
    """``cache_dir``, or ``OUT/cache`` when it is not given."""
    return Path(out_dir) / "cache" if cache_dir is None else Path(cache_dir)


@dataclass(frozen=True)
class Setup:
    """The stack options every trained Fig. 2 experiment shares (the keywords of its ``run``
    named in :data:`STACK_PARAMETERS`), with the seed, the cache and the progress flag."""

    sigma_max: float
    c: float
    n_outside: int
    n_inside: int
    noise: str
    samples: int
    width: int | None
    outer_steps: int | None
    inner_steps: int | None
    steps: int | None
    hyper: dict | None
    schedule: str
    seed: int
    cache_dir: Path
    progress: bool

    @classmethod
    def from_run(cls, out_dir, options: dict) -> "Setup":
        """From a ``run``'s keyword arguments (``locals()`` at its start); ``cache_dir`` defaults
        to ``OUT/cache``."""
        names = [f.name for f in fields(cls) if f.name != "cache_dir"]
        return cls(**{k: options.get(k) for k in names},
                   cache_dir=cache_directory(out_dir, options.get("cache_dir")))

    def levels(self, dataset) -> np.ndarray:
        return stack_levels(dataset, c=self.c, sigma_max=self.sigma_max,
                            n_outside=self.n_outside, n_inside=self.n_inside)

    def hyperparameters(self, protocol: str) -> dict:
        return budget(protocol, outer_steps=self.outer_steps, inner_steps=self.inner_steps,
                      steps=self.steps, hyper=self.hyper, schedule=self.schedule)

    def stack(self, dataset, protocol: str, base=None) -> dict:
        """The trained stack of ``protocol`` on ``dataset`` (:func:`train`), on the levels of
        ``base`` (default ``dataset``: the orthonormal set whose ``rho_max`` places them)."""
        base = dataset if base is None else base
        lv = self.levels(base)
        return train(dataset, lv, inside_mask(base, lv, self.c), c=self.c, noise=self.noise,
                     protocol=protocol, width=self.width, samples=self.samples,
                     hyper=self.hyperparameters(protocol), seed=self.seed,
                     cache_dir=self.cache_dir, progress=self.progress)

    def starts(self, n_points: int, d: int) -> np.ndarray:
        return initial_points(self.seed, n_points, d, self.sigma_max)

    def record(self) -> dict:
        """The options for ``results.json``."""
        return {"sigma_max": self.sigma_max, "c": self.c, "n_outside": self.n_outside,
                "n_inside": self.n_inside, "noise": self.noise, "samples": self.samples,
                "width": self.width, "schedule": self.schedule,
                "budget": {p: self.hyperparameters(p) for p in BUDGET_KEYS},
                "cache_dir": str(self.cache_dir)}


# -- flows ----------------------------------------------------------------------------------------
def flow_grid(levels) -> np.ndarray:
    """The Euler grid of eq. 20: the levels, decreasing, then ``0`` (the last step returns the
    lowest level's denoised point)."""
    return np.append(np.sort(np.asarray(levels, dtype=float))[::-1], 0.0)


def euler_flow(denoise_at, levels, Y0, *, return_path: bool = False):
    """Eq. 20 over :func:`flow_grid` with ``denoise_at(Y, sigma)``, under ``np.errstate`` so a
    diverging trained net yields non-finite rows rather than warnings; the endpoints (and with
    ``return_path`` the path, ``(len(levels) + 1, n, d)``)."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = euler_probability_flow(denoise_at, flow_grid(levels), Y0, return_path=return_path)
    return out


def timed_euler_flow(stack, Y0) -> tuple[np.ndarray, dict]:
    """Endpoints of the Euler flow over a trained stack and its speed: ``points_per_second``
    (whole flow) and ``point_levels_per_second`` (network evaluations of one point)."""
    t0 = time.perf_counter()
    Y = euler_flow(stack.denoise_at, stack.sigmas, Y0)
    dt = max(time.perf_counter() - t0, 1e-9)
    n = len(Y0)
    return Y, {"seconds": dt, "points": n, "levels": int(stack.levels),
               "points_per_second": n / dt, "point_levels_per_second": n * stack.levels / dt}


def reference_denoiser(dataset, c: float):
    """``denoise_at(Y, sigma)`` of the closed-form column: ``h_{c sigma}`` (eq. 17) where ``c
    sigma < rho_max``, the empirical MMSE denoiser ``D_sigma`` of the training set above."""
    h = compile_denoiser(dataset, "exact")
    mmse = MMSEDenoiser(dataset)
    edge = rho_max(dataset)

    def denoise_at(Y, sigma):
        return h.denoise(Y, c * sigma) if c * sigma < edge else mmse(Y, sigma)

    return denoise_at


def probability_endpoints(stack, Y0, reference_dataset, c: float) -> tuple[dict, dict]:
    """``({"trained": Y, "closed_form": Y}, speed)``: the Euler flow (eq. 20) from ``Y0`` over the
    trained stack and over the same grid with :func:`reference_denoiser` of
    ``reference_dataset``; ``speed`` from :func:`timed_euler_flow`."""
    Y, speed = timed_euler_flow(stack, Y0)
    ref = euler_flow(reference_denoiser(reference_dataset, c), stack.sigmas, Y0)
    return {"trained": Y, "closed_form": ref}, speed


def score_level(levels, dataset, c: float, rho_score: float) -> float:
    """The low-noise level used for the score flow: the inside level whose radius ``c sigma`` is
    nearest to ``rho_score`` in log scale (the paper takes one denoiser of its stack)."""
    lv = np.asarray(levels, dtype=float)[inside_mask(dataset, levels, c)]
    return float(lv[np.argmin(np.abs(np.log(c * lv) - math.log(rho_score)))])


def score_endpoints(denoise, Y0, *, eta: float, steps: int) -> np.ndarray:
    """``steps`` iterations of eq. 21 (``y <- y + eta (h(y) - y)``); non-finite rows are kept."""
    with np.errstate(over="ignore", invalid="ignore"):
        return score_flow_iterations(denoise, Y0, eta=eta, n_steps=steps)


# -- classification -------------------------------------------------------------------------------
def labels(dataset, Y, threshold: float, norm: str = "l2") -> list[str]:
    """Endpoint class of every row (module docstring); non-finite rows are ``other``."""
    Y = np.asarray(Y, dtype=float)
    ok = np.all(np.isfinite(Y), axis=1)
    out = ["other"] * len(Y)
    if ok.any():
        for i, cl in zip(np.flatnonzero(ok), classify(dataset, Y[ok], threshold=threshold,
                                                      norm=norm)):
            out[i] = cl.cls
    return out


def shares(lab) -> dict:
    """``{class: fraction}`` over :data:`numerics.classify.CLASSES`."""
    n = max(len(lab), 1)
    return {k: sum(1 for x in lab if x == k) / n for k in CLASSES}


def distances(dataset, Y) -> dict:
    """l2 distances of the finite rows of ``Y`` to the hyperbox, its boundary and the nearest
    vertex (:mod:`numerics.geometry`), each an array."""
    from ..geometry import distance_to_boundary, distance_to_hyperbox, nearest_vertex
    Y = np.asarray(Y, dtype=float)
    Y = Y[np.all(np.isfinite(Y), axis=1)]
    return {"hyperbox": distance_to_hyperbox(dataset, Y),
            "boundary": distance_to_boundary(dataset, Y),
            "vertex": nearest_vertex(dataset, Y)[1]}


#: Quantiles of the endpoint distances kept in the JSON.
QUANTILES = (0.1, 0.5, 0.9)


def fractions(dataset, Y, thresholds, norms=("l2", "linf")) -> dict:
    """``{norm: {threshold: {class: fraction}}, "diverged": fraction, "distance_quantiles":
    {to: {q: l2 distance}}}`` (``to``: hyperbox, boundary, vertex; :data:`QUANTILES`): the
    classes say where an endpoint is at a threshold, the quantiles how far the others are."""
    out = {norm: {str(float(t)): shares(labels(dataset, Y, t, norm)) for t in thresholds}
           for norm in norms}
    out["diverged"] = float(np.mean(~np.all(np.isfinite(np.asarray(Y, dtype=float)), axis=1)))
    dist = distances(dataset, Y)
    out["distance_quantiles"] = {
        k: ({str(q): float(np.quantile(v, q)) for q in QUANTILES} if len(v) else None)
        for k, v in dist.items()}
    return out


def binomial_se(p: float, n: int) -> float:
    """Standard error of a fraction ``p`` of ``n`` independent samples, ``sqrt(p(1-p)/n)``."""
    return math.sqrt(max(p * (1 - p), 0.0) / max(n, 1))


def pct(fr: dict) -> str:
    """``training 12.0%, virtual ...`` for one ``{class: fraction}``."""
    return ", ".join(f"{k} {100 * fr[k]:.1f}%" for k in CLASSES)


# -- training losses ------------------------------------------------------------------------------
def training_losses(stack, dataset, denoise_at=None) -> list[float]:
    """Per level (in ``stack.sigmas`` order), the mean squared error ``mean |h(y) - x_n|^2`` of
    the trained net on its own training samples (eq. 3 without any regulariser; dropout off),
    regenerated from the stack's metadata with the training package's seeded draws
    (:func:`training.sampling.noisy_samples`, NumPy only).  With ``denoise_at(Y, sigma)`` (e.g.
    :func:`reference_denoiser`) the same samples are scored with that denoiser instead."""
    from numerics.mmse import training_array
    from training.sampling import level_rng, noisy_samples
    X = training_array(dataset)
    meta = stack.metadata
    parts = meta.get("parts", [meta])
    out = []
    k = 0
    for part in parts:
        hp = part["hyperparameters"]
        for i, (s, r) in enumerate(zip(part["sigmas"], part["rhos"])):
            scale = r if part["noise"] == "ball" else s
            Y, T = noisy_samples(X, scale, int(part["samples"]), part["noise"],
                                 level_rng(part["seed"], i, 0), hp["include_centre"],
                                 int(hp["boundary_samples"]))
            D = stack.networks[k](Y) if denoise_at is None else denoise_at(Y, stack.sigmas[k])
            out.append(float(np.mean(np.sum((D - T) ** 2, axis=1))))
            k += 1
    return out
