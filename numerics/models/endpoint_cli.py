"""``flows endpoint`` with any score model: ``--denoiser NAME`` or ``--net NET`` (docs/models.md).

    flows endpoint --data F --y0 ... --flow probability --denoiser NAME [--c C] [--model M]
                   [--delta D] [--eps E] [--sigma-c S] --sigma-max S --sigma-min s
                   [--sampler ivp|euler|heun] [--steps K]
    flows endpoint --data F --y0 ... --flow score --denoiser NAME ... --sigma S [--tau-max T]
    flows endpoint --data F --y0 ... --flow probability|score --net NET ...

``--net NET`` is the ``trained`` model (the file must have been trained on ``--data``).  With a
multi-level stack the probability flow is the Euler flow of eq. 20 on the stack's own levels
(no ``--sigma-max``/``--sigma-min``/``--steps``); a single-level network is used at every
``sigma``.  Euler and Heun use the geometric grid of ``--steps`` steps
(:func:`numerics.schedules.geometric_sigmas`, equal steps in ``s = ln(sigma_max/sigma)``).
"""
from __future__ import annotations

import argparse

import numpy as np

from ..classify import DEFAULT_RELATIVE_THRESHOLD
from ..evaluate import as_batch
from ..metrics import data_scale, distance_to_manifold, endpoint_classes, nearest_neighbours
from ..samplers import SAMPLERS, get_sampler, score_flow
from ..schedules import geometric_sigmas
from . import MODELS, make_denoiser

#: Euler/Heun steps when ``--steps`` is not given.
DEFAULT_STEPS = 100


def add_model_options(p: argparse.ArgumentParser, parse_number) -> None:
    """The generic-path options of ``flows endpoint``."""
    p.add_argument("--denoiser", choices=list(MODELS), default=None,
                   help="score model for the generic flows (docs/models.md)")
    p.add_argument("--net", default=None, help="trained network file (the 'trained' model)")
    p.add_argument("--delta", type=parse_number, default=None, help="smoothed: kernel width")
    p.add_argument("--eps", type=parse_number, default=None, help="regularized: variance added")
    p.add_argument("--sigma-c", type=parse_number, default=None, help="coarse: noise floor")
    p.add_argument("--sigma", type=parse_number, default=None,
                   help="noise level of the score flow (generic path)")
    p.add_argument("--sampler", choices=SAMPLERS, default=None,
                   help="probability-flow sampler of the generic path (default ivp; euler for "
                        "a multi-level --net)")
    p.add_argument("--steps", type=int, default=None,
                   help=f"Euler/Heun steps (default {DEFAULT_STEPS})")
    p.add_argument("--tau-max", type=parse_number, default=None,
                   help="score-flow duration (generic path; default 60)")


def wants_generic(args) -> bool:
    return args.denoiser is not None or args.net is not None


def run_generic_endpoint(args, load_dataset, usage_error) -> dict:
    """``flows endpoint`` on the generic path (module docstring)."""
    if args.net is not None and args.denoiser not in (None, "trained"):
        raise usage_error(f"--net is the trained model; it does not combine with --denoiser "
                          f"{args.denoiser}")
    name = "trained" if args.net is not None else args.denoiser
    if name == "trained" and args.net is None:
        raise usage_error("--denoiser trained needs --net NET")
    for opt, value in (("--rho", args.rho), ("--method", args.method)):
        if value is not None:
            raise usage_error(f"{opt} belongs to the closed-form flows; the generic path takes "
                              f"--sigma (score flow) or --sigma-max/--sigma-min (probability)")
    if args.norm != "l2":
        raise usage_error("the generic path classifies in l2 only")
    score = args.flow == "score"
    wrong = ([("--sigma-max", args.sigma_max), ("--sigma-min", args.sigma_min),
              ("--sampler", args.sampler), ("--steps", args.steps)] if score
             else [("--sigma", args.sigma), ("--tau-max", args.tau_max)])
    for opt, value in wrong:
        if value is not None:
            raise usage_error(f"{opt} does not apply to --flow {args.flow}")
    dataset = load_dataset(args.data)
    params = {"c": args.c, "model": args.model, "delta": args.delta, "eps": args.eps,
              "sigma_c": args.sigma_c, "net": args.net}
    D = make_denoiser(name, dataset, **params)
    y0 = as_batch(args.y0, dataset.d, "--y0")
    out: dict = {"flow": args.flow, "denoiser": D.describe()}
    stack_levels = getattr(D, "levels", None)
    multi = stack_levels is not None and len(stack_levels) > 1
    if score:
        sigma = args.sigma
        if sigma is None:
            if stack_levels is not None and not multi:
                sigma = float(stack_levels[0])
            else:
                raise usage_error("--flow score with --denoiser needs --sigma")
        tau_max = 60.0 if args.tau_max is None else args.tau_max
        D.check_sigma_range(sigma, sigma)
        Y = score_flow(D, y0, sigma, tau_max=tau_max)
        out.update({"sigma": sigma, "tau_max": tau_max})
        sig_end = sigma
    else:
        if multi:
            for opt, value in (("--sigma-max", args.sigma_max), ("--sigma-min", args.sigma_min),
                               ("--steps", args.steps)):
                if value is not None:
                    raise usage_error(f"{opt} does not apply to a multi-level --net: the flow "
                                      "runs on the stack's own levels (eq. 20)")
            sampler = args.sampler or "euler"
            if sampler == "ivp":
                raise usage_error("a multi-level --net runs on its levels: --sampler euler|heun")
            grid = np.sort(np.asarray(stack_levels, dtype=float))[::-1]
        else:
            missing = [o for o, v in (("--sigma-max", args.sigma_max),
                                      ("--sigma-min", args.sigma_min)) if v is None]
            if missing:
                raise usage_error(f"--flow probability with --denoiser needs "
                                  f"{' and '.join(missing)}")
            sampler = args.sampler or "ivp"
            if sampler == "ivp" and args.steps is not None:
                raise usage_error("--steps applies to --sampler euler|heun")
            steps = DEFAULT_STEPS if args.steps is None else args.steps
            if steps < 1:
                raise ValueError(f"--steps must be a positive integer, got {steps}")
            grid = geometric_sigmas(args.sigma_max, args.sigma_min,
                                    2 if sampler == "ivp" else steps + 1)
        D.check_sigma_range(float(grid[0]), float(grid[-1]))
        Y = get_sampler(sampler)(D, y0, grid)
        out.update({"sampler": sampler, "steps": None if sampler == "ivp" else int(grid.size - 1),
                    "sigma_max": float(grid[0]), "sigma_min": float(grid[-1])})
        sig_end = float(grid[-1])
    threshold = (DEFAULT_RELATIVE_THRESHOLD * data_scale(dataset) if args.threshold is None
                 else args.threshold)
    idx, dist = nearest_neighbours(Y, dataset)
    manifold = distance_to_manifold(dataset, Y)
    out.update({"endpoint": [float(v) for v in Y[0]],
                "class": endpoint_classes(dataset, Y, threshold)[0], "threshold": threshold,
                "nearest_training_point": int(idx[0]),
                "nearest_training_distance": float(dist[0]),
                "distance_to_manifold": None if manifold is None else float(manifold[0]),
                "drift_at_end": float(np.linalg.norm(D(Y, sig_end) - Y))})
    return out
