"""``flows trajectory``: draw one score- or probability-flow path as a figure.

Same options as ``flows endpoint`` (data file, ``--y0``, ``--flow score --rho R`` or ``--flow
probability --c C --sigma-max S [--sigma-min s]``, ``--model``, ``--method``, ``--threshold``,
``--norm``), plus::

    --out FIG.png     the figure (PNG; .pdf/.svg by extension); parent folders are created
    --t-max T         last plotted time: tau for the score flow (default 20), s = ln(sigma_max /
                      sigma) for the probability flow (default 12, or ln(sigma_max/sigma_min))
    --n-times K       plotted times between 0 and T (default 400)

The path is drawn by :func:`numerics.plotting.plot_trajectories` over the data's geometry (for
``d > 2`` projected on the first two data directions) and ends at the flow's limit (``tau -> oo``,
or ``sigma_min``); the printed result is ``flows endpoint``'s (endpoint, class, ...) plus the
figure's path.  Registered in :mod:`numerics.cli` with one ``add_command`` line.
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from theory.errors import InputError

#: Default last plotted time: by tau = 20 the score flow's distance to its limit has shrunk by
#: ~e^-20 on the flat pieces; by s = 12 the probability flow's noise is sigma_max e^-12.
DEFAULT_T_MAX = {"score": 20.0, "probability": 12.0}


def configure_trajectory(p: argparse.ArgumentParser) -> None:
    """Arguments of ``flows trajectory`` (``flows endpoint``'s plus the figure's)."""
    from .cli import _configure_endpoint, parse_number
    _configure_endpoint(p)
    p.add_argument("--out", required=True, help="figure file, e.g. path.png")
    p.add_argument("--t-max", type=parse_number, default=None,
                   help="last plotted time (tau for the score flow, default 20; s = "
                        "ln(sigma_max/sigma) for the probability flow, default 12)")
    p.add_argument("--n-times", type=int, default=400, help="plotted times (default 400)")
    p.add_argument("--title", default=None, help="figure title (default: the flow's parameters)")


def _times(args) -> np.ndarray:
    t_max = args.t_max
    if args.flow == "probability" and args.sigma_min:
        s_end = math.log(args.sigma_max / args.sigma_min)
        t_max = s_end if t_max is None else min(t_max, s_end)
    t_max = DEFAULT_T_MAX[args.flow] if t_max is None else t_max
    if not (math.isfinite(t_max) and t_max > 0):
        raise InputError(f"--t-max must be a positive finite time, got {args.t_max}")
    if args.n_times < 2:
        raise InputError(f"--n-times must be at least 2, got {args.n_times}")
    return np.linspace(0.0, t_max, args.n_times)


def run_trajectory(args: argparse.Namespace) -> dict:
    """Integrate, classify (as ``flows endpoint``) and draw; return the endpoint's result plus
    ``figure``, ``t_max``, ``n_times`` and ``clock``."""
    from . import flows
    from .cli import _run_endpoint, load_dataset
    from .experiments._runtime import pyplot, save_figure
    from .plotting import plot_trajectories

    from .experiments.cli import check_output_file

    check_output_file(args.out, "--out")
    result = _run_endpoint(args)  # validates every option, sets the default --method
    times = _times(args)
    dataset = load_dataset(args.data)
    y0 = np.asarray(args.y0, dtype=float)
    if args.flow == "score":
        res = flows.score_flow(dataset, y0, result["rho"], model=args.model, method=args.method,
                               times=times)
        label = f"score flow, rho = {result['rho']:g}"
    else:
        res = flows.probability_flow(dataset, y0, c=result["c"], sigma_max=result["sigma_max"],
                                     sigma_min=result["sigma_min"], model=args.model,
                                     method=args.method, times=times)
        label = (f"probability flow, c = {result['c']:g}, sigma_max = {result['sigma_max']:g}"
                 + (f", sigma_min = {result['sigma_min']:g}" if result["sigma_min"] else ""))
    path = np.vstack([res.path, np.asarray(result["endpoint"])[None, :]])  # end at the limit
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 6))
    plot_trajectories(dataset, [path], ax, labels=[f"{args.flow} flow ({args.model})"],
                      colors=["k"])
    start = ", ".join(f"{x:g}" for x in y0)
    ax.set_title(args.title or f"{label}\n{args.model} model, {args.method} integrator; from "
                 f"({start}) (dot) to the limit (cross), class: {result['class']}", fontsize=10)
    out = Path(args.out)
    save_figure(fig, out.parent, out.name)
    clock = "tau" if args.flow == "score" else "s = ln(sigma_max/sigma)"
    return {**result, "figure": str(out), "t_max": float(times[-1]), "n_times": len(times),
            "clock": clock}


__all__ = ["configure_trajectory", "run_trajectory"]
