"""``train_denoiser`` / ``train_stack``: trained shallow ReLU denoisers with their reports
(docs/training.md).

A result is a :class:`TrainResult`: ``stack`` (a :class:`numerics.network.NetworkStack`, one
level for :func:`train_denoiser`, its ``metadata`` filled for :func:`numerics.network.save_network`)
and ``report`` (a JSON-able dict: residuals, costs, the closed form's cost, time, convergence).
"""
from __future__ import annotations

import math
import platform
import sys
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from numerics.mmse import training_array
from numerics.network import NetworkStack, ShallowNetwork
from numerics.validation import check_positive
from theory.datasets import Dataset
from theory.errors import InputError, NonFiniteError

from .sampling import NOISES, initial_parameters, level_rng, noisy_samples

PROTOCOLS = ("al", "adam", "adam-wd", "dropout")
INNER_SOLVERS = ("adam", "lbfgs")

#: Default residual tolerance of ``al`` and ``adam``, relative to the data scale ``max_n r_n``:
#: the interpolation the theory assumes, to four digits (the flows' classification threshold is
#: 1e-6 r on the *closed form*; a trained net is compared with 1e-2 r).
TOLERANCE_REL = 1e-4
#: Default tolerance of ``adam-wd`` and ``dropout`` (relative): a weight-decayed MSE minimiser does
#: not interpolate -- its residual is of the order of the decay -- so "converged" means "fits to
#: one percent of the data scale".
TOLERANCE_REL_REGULARISED = 1e-2

#: Default hyper-parameters (docs/training.md gives the reason for each value).
DEFAULTS = {
    "common": {"include_centre": True, "boundary_samples": 0, "progress_seconds": 5.0},
    "al": {"mu": 100.0, "lr": 1e-2, "lr_decay": 0.95, "lr_min": 1e-6, "outer_steps": 150,
           "inner": "adam", "inner_steps": None, "lbfgs_memory": 10,
           "mu_start": 1.0, "mu_growth": 1.1, "recycle": 0.01},
    "adam": {"lr": 1e-2, "lr_final": 1e-5, "steps": 20000, "chunk_steps": 1000},
    "adam-wd": {"lr": 1e-2, "lr_final": 1e-5, "steps": 20000, "chunk_steps": 1000,
                "weight_decay": 3e-5},
    "dropout": {"lr": 1e-2, "lr_final": 1e-5, "steps": 20000, "chunk_steps": 1000,
                "weight_decay": 3e-5, "dropout": 0.1},
}
_MAY_BE_ZERO = ("recycle", "weight_decay", "dropout", "lr_min", "boundary_samples",
                "progress_seconds")
_INTEGER_HYPER = ("outer_steps", "inner_steps", "lbfgs_memory", "steps", "chunk_steps",
                  "boundary_samples")
#: Inner iterations per outer iteration of ``al`` when ``inner_steps`` is not given.
INNER_STEPS = {"adam": 1000, "lbfgs": 100}
#: Default samples per training point (besides the centre): dense enough in d = 2 that the
#: sampled constraint is close to the ball constraint (docs/training.md, "Sampling").
DEFAULT_SAMPLES = 100
#: Default width ``K = WIDTH_FACTOR * (number of training points)``: the closed forms use two units
#: per ramp (at most ``2 * points``); twice that leaves spare units for the optimiser.
WIDTH_FACTOR = 4


@dataclass(frozen=True)
class TrainResult:
    """A trained stack and its report (see the module docstring)."""

    stack: NetworkStack
    report: dict


class TrainingInputError(InputError):
    """Bad arguments to a training function."""


def default_width(dataset: Dataset) -> int:
    return WIDTH_FACTOR * dataset.size


def data_scale(dataset: Dataset) -> float:
    """``max_n r_n`` (ridge data), the circumradius ``R`` (equilateral), or for general data
    (no closed form) the largest distance of a training point from the data mean."""
    if getattr(dataset, "kind", None) == "general":
        import numpy as np
        X = np.asarray(dataset.array, dtype=float)
        spread = float(np.max(np.linalg.norm(X - X.mean(axis=0), axis=1)))
        return spread if spread > 0 else 1.0
    return max(float(r) for r in dataset.r)


def hyperparameters(protocol: str, **hyper) -> dict:
    """The full hyper-parameter dict of ``protocol`` with ``hyper`` overriding the defaults;
    an unknown name is one :class:`TrainingInputError` line."""
    if protocol not in PROTOCOLS:
        raise TrainingInputError(f"protocol must be one of {', '.join(PROTOCOLS)}, got "
                                 f"{protocol!r}")
    out = {**DEFAULTS["common"], **DEFAULTS[protocol], "tolerance": None}
    unknown = sorted(set(hyper) - set(out))
    if unknown:
        raise TrainingInputError(f"unknown hyper-parameter(s) {', '.join(unknown)} for protocol "
                                 f"{protocol!r}; known: {', '.join(sorted(out))}")
    out.update({k: v for k, v in hyper.items() if v is not None})
    if protocol == "al":
        if out["inner"] not in INNER_SOLVERS:
            raise TrainingInputError(f"inner must be one of {', '.join(INNER_SOLVERS)}, got "
                                     f"{out['inner']!r}")
        if out["inner_steps"] is None:
            out["inner_steps"] = INNER_STEPS[out["inner"]]
    for k, v in out.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if not math.isfinite(v):
                raise NonFiniteError(f"hyper-parameter {k} is {v} (must be finite)")
            if v < 0 or (v == 0 and k not in _MAY_BE_ZERO):
                raise TrainingInputError(f"hyper-parameter {k} must be positive, got {v}")
    for k in _INTEGER_HYPER:
        v = out.get(k)
        if v is not None and (isinstance(v, bool) or int(v) != v):
            raise TrainingInputError(f"hyper-parameter {k} must be an integer, got {v!r}")
    if "dropout" in out and not 0 <= out["dropout"] < 1:
        raise TrainingInputError(f"dropout must be in [0, 1), got {out['dropout']}")
    if protocol == "al" and out["mu_start"] is not None and out["mu_start"] < out["mu"] and \
            out["mu_growth"] <= 1:
        raise TrainingInputError(f"mu_growth must be > 1 when mu_start ({out['mu_start']:g}) < mu "
                                 f"({out['mu']:g}), got {out['mu_growth']:g}")
    if "lr_decay" in out and not 0 < out["lr_decay"] <= 1:
        raise TrainingInputError(f"lr_decay must be in (0, 1], got {out['lr_decay']}")
    return out


def _positive(value, name: str) -> float:
    return check_positive(value, name)


def _count(value, name: str, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise TrainingInputError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def closed_form_cost(dataset: Dataset, rho: float | None):
    """The closed form's representation cost at ``rho`` (docs/math.md §2), or ``None`` (with a
    warning) where ``rho`` is outside the low-noise regime."""
    if rho is None:
        return None
    from theory.denoisers import min_cost_denoiser
    try:
        return float(min_cost_denoiser(dataset, rho).representation_cost())
    except ValueError as exc:
        warnings.warn(f"no closed-form cost at rho = {rho:.6g} ({' '.join(str(exc).split())}); "
                      "training anyway, closed_form_cost is null", stacklevel=3)
        return None


def versions() -> dict:
    from importlib import metadata
    out = {"python": platform.python_version(), "numpy": np.__version__}
    for dist, key in (("jax", "jax"), ("optax", "optax"),
                      ("memorization-flows", "memorization-flows")):
        try:
            out[key] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[key] = None
    if out["memorization-flows"] is None:  # run from a checkout (not installed)
        out["memorization-flows"] = "0.1.0 (source tree)"
    return out


def train_denoiser(dataset: Dataset, *, rho=None, sigma=None, protocol: str = "al", width=None,
                   samples=None, seed: int = 0, progress: bool = True, **hyper) -> TrainResult:
    """Train one denoiser on ``dataset`` (a :class:`theory.datasets.Dataset`): noisy samples
    uniform in the balls ``B(x_n, rho)`` (``rho=``) or Gaussian ``x_n + sigma eps``
    (``sigma=``; exactly one of the two).  ``protocol`` one of :data:`PROTOCOLS`; ``width`` ``K``
    (default :func:`default_width`); ``samples`` ``M`` per training point (default
    :data:`DEFAULT_SAMPLES`); ``hyper`` overrides :data:`DEFAULTS`.  A ball denoiser's stack
    records its level as ``sigmas = [rho]`` (with ``c = None``)."""
    if (rho is None) == (sigma is None):
        raise TrainingInputError("pass exactly one of rho= (ball noise) and sigma= (Gaussian "
                                 f"noise), got rho={rho!r}, sigma={sigma!r}")
    if rho is not None:
        r = _positive(rho, "rho")
        return _train(dataset, [r], [r], "ball", None, protocol, width, samples, seed, progress,
                      True, hyper)
    s = _positive(sigma, "sigma")
    return _train(dataset, [s], [None], "gaussian", None, protocol, width, samples, seed,
                  progress, True, hyper)


def train_stack(dataset: Dataset, sigmas, *, c=None, noise: str = "ball", protocol: str = "al",
                width=None, samples=None, seed: int = 0, progress: bool = True,
                vectorise: bool = True, **hyper) -> TrainResult:
    """Train one denoiser per noise level ``sigmas[i]`` in one vectorised program
    (docs/training.md).  ``noise="ball"``: samples in ``B(x_n, rho_i)``, ``rho_i = c sigma_i``
    (``c`` required); ``noise="gaussian"``: ``x_n + sigma_i eps`` (``c``, if given, only names
    the closed form ``rho_i = c sigma_i`` to compare costs with).  Level ``i`` uses the seed's
    level-``i`` draws.  ``vectorise=False`` trains the levels one after another (a Python loop:
    the benchmark's reference; the results are the same up to floating-point reassociation)."""
    if noise not in NOISES:
        raise TrainingInputError(f"noise must be one of {', '.join(NOISES)}, got {noise!r}")
    try:
        sig = [float(s) for s in np.atleast_1d(np.asarray(sigmas, dtype=float))]
    except (TypeError, ValueError):
        raise TrainingInputError(f"sigmas must be a list of positive numbers, got {sigmas!r}") \
            from None
    if not sig:
        raise TrainingInputError("sigmas is empty: pass at least one noise level")
    sig = [_positive(s, f"sigmas[{i}]") for i, s in enumerate(sig)]
    if noise == "ball" and c is None:
        raise TrainingInputError("noise='ball' needs c (ball radius rho_i = c * sigma_i)")
    cc = None if c is None else _positive(c, "c")
    rhos = [None if cc is None else cc * s for s in sig]
    return _train(dataset, sig, rhos, noise, cc, protocol, width, samples, seed, progress,
                  vectorise, hyper)


def _train(dataset, sigmas, rhos, noise, c, protocol, width, samples, seed, progress, vectorise,
           hyper) -> TrainResult:
    if not isinstance(dataset, Dataset):
        raise TrainingInputError(f"dataset must be a theory.datasets.Dataset, got "
                                 f"{type(dataset).__name__}")
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise TrainingInputError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    hp = hyperparameters(protocol, **hyper)
    K = _count(width, "width", default_width(dataset))
    M = _count(samples, "samples", DEFAULT_SAMPLES)
    X = training_array(dataset)
    scale = data_scale(dataset)
    rel = TOLERANCE_REL if protocol in ("al", "adam") else TOLERANCE_REL_REGULARISED
    tol = rel * scale if hp["tolerance"] is None else _positive(hp["tolerance"], "tolerance")
    hp["tolerance"] = tol
    cf = [closed_form_cost(dataset, r) for r in rhos]
    Ys, Ts, inits = [], [], []
    for i, (s, r) in enumerate(zip(sigmas, rhos)):
        Y, T = noisy_samples(X, r if noise == "ball" else s, M, noise, level_rng(seed, i, 0),
                             hp["include_centre"], int(hp["boundary_samples"]))
        Ys.append(Y)
        Ts.append(T)
        inits.append(initial_parameters(X, Y, K, level_rng(seed, i, 1)))
    from . import engine
    stackit = lambda ps: {k: np.stack([p[k] for p in ps]) for k in ps[0]}  # noqa: E731
    # the seed of the random draws made while training level i (al's recycled units)
    lseeds = [int(level_rng(seed, i, 2).integers(2 ** 31)) for i in range(len(sigmas))]
    if vectorise:
        params, info = engine.run(np.stack(Ys), np.stack(Ts), stackit(inits), tol, protocol, hp,
                                  seed, progress, lseeds)
    else:
        parts = [engine.run(Ys[i][None], Ts[i][None], stackit([inits[i]]), tol, protocol, hp,
                            seed, progress, lseeds[i:i + 1]) for i in range(len(sigmas))]
        params = {k: np.concatenate([p[k] for p, _ in parts]) for k in parts[0][0]}
        info = {k: sum((inf[k] for _, inf in parts), []) for k in ("iterations", "residual_max",
                                                                  "converged")}
        info["seconds"] = sum(inf["seconds"] for _, inf in parts)
    nets = tuple(ShallowNetwork(*(params[k][i] for k in ("A", "W", "b", "V", "c")))
                 for i in range(len(sigmas)))
    wc = [n.weight_cost() for n in nets]
    rc = [n.representation_cost() for n in nets]
    res = info["residual_max"]
    converged = all(info["converged"])
    bad = [i for i, ok in enumerate(info["converged"]) if not ok]
    if converged:
        message = (f"converged: residual_max {max(res):.3e} <= tolerance {tol:.1e} on every "
                   f"level")
    else:
        worst = max(bad, key=lambda i: res[i])
        message = (f"NOT converged on {len(bad)} of {len(nets)} level(s): residual_max "
                   f"{res[worst]:.3e} at sigma = {sigmas[worst]:g} is {res[worst] / tol:.3g}x "
                   f"the tolerance {tol:.1e} after the whole budget")
    if progress or not converged:
        print(f"train: {message}", file=sys.stderr, flush=True)
    ratios = [None if f is None else r / f for r, f in zip(rc, cf)]
    report = {
        "residual_max": float(max(res)), "residual_max_per_level": res,
        "weight_cost": float(sum(wc)), "weight_cost_per_level": wc,
        "representation_cost": float(sum(rc)), "representation_cost_per_level": rc,
        "closed_form_cost": None if any(f is None for f in cf) else float(sum(cf)),
        "closed_form_cost_per_level": cf, "cost_ratio_per_level": ratios,
        "seconds": float(info["seconds"]), "protocol": protocol, "seed": seed,
        "iterations": int(max(info["iterations"])), "iterations_per_level": info["iterations"],
        "converged": converged, "converged_per_level": info["converged"], "tolerance": tol,
        "hyperparameters": hp, "width": K, "samples": M, "noise": noise, "sigmas": sigmas,
        "rhos": rhos, "c": c, "message": message,
    }
    meta = {"data": dataset.to_json(), "sigmas": sigmas, "rhos": rhos, "noise": noise, "c": c,
            "protocol": protocol, "hyperparameters": hp, "seed": seed, "width": K, "samples": M,
            "residuals": res, "tolerance": tol, "weight_cost": wc, "representation_cost": rc,
            "closed_form_cost": cf, "converged": converged, "iterations": info["iterations"],
            "seconds": float(info["seconds"]), "versions": versions(),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    return TrainResult(NetworkStack(np.asarray(sigmas, dtype=float), nets, meta), report)
