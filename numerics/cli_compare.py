"""``flows compare --net NET --data FILE [--rho R] [--level I] [--points K] [--seed N]
[--figure PNG] [--json]``: a trained network measured against the closed form
(:func:`numerics.premise.compare`).

``--rho`` defaults to the noise radius recorded in the network file (``metadata["rhos"]`` or
``metadata["rho"]``); ``--level`` picks one network of a stack (default: the only one).  A file
that is not a network file, or a network trained on other data than ``--data``, is one error
line and exit status 1.
"""
from __future__ import annotations

import argparse
import math

from theory.errors import InputError


def configure_compare(p: argparse.ArgumentParser) -> None:
    from .premise import DEFAULT_POINTS

    p.add_argument("--net", required=True, help="network file (.npz, from `flows train`)")
    p.add_argument("--data", required=True, help="dataset JSON file the net was trained on")
    p.add_argument("--rho", type=float, default=None,
                   help="noise radius of the closed form (default: the net's recorded rho)")
    p.add_argument("--level", type=int, default=None,
                   help="index of the network in a stack (default: the only one)")
    p.add_argument("--points", type=int, default=DEFAULT_POINTS,
                   help=f"sample points per region (default {DEFAULT_POINTS})")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (default 0; recorded)")
    p.add_argument("--figure", default=None, help="also write the comparison figure (PNG)")
    p.add_argument("--units", action="store_true", help="include the per-unit rows")


def _recorded_rho(stack, level: int):
    meta = stack.metadata
    rhos = meta.get("rhos")
    if isinstance(rhos, list) and len(rhos) == stack.levels and rhos[level] is not None:
        return float(rhos[level])
    if isinstance(meta.get("rho"), (int, float)):
        return float(meta["rho"])
    return None


def run_compare(args: argparse.Namespace) -> dict:
    from .cli import load_dataset
    from .network import check_trained_on, load_network
    from .premise import compare, plot_comparison

    stack = load_network(args.net)
    dataset = load_dataset(args.data)
    check_trained_on(stack, dataset, net_name=f"network file {args.net}",
                     data_name=f"data file {args.data}")
    if args.level is None:
        if stack.levels != 1:
            raise InputError(f"--level: {args.net} holds {stack.levels} networks; pass --level "
                             f"0..{stack.levels - 1}")
        level = 0
    else:
        level = args.level
        if not 0 <= level < stack.levels:
            raise InputError(f"--level must lie in 0..{stack.levels - 1}, got {level}")
    rho = _recorded_rho(stack, level) if args.rho is None else args.rho
    if rho is None:
        raise InputError(f"--rho: {args.net} records no noise radius rho; pass --rho R")
    if not math.isfinite(rho) or rho <= 0:
        raise InputError(f"--rho must be a positive finite number, got {rho}")
    if args.points < 1:
        raise InputError(f"--points must be a positive integer, got {args.points}")
    if args.figure:
        from .experiments.cli import check_output_file
        check_output_file(args.figure, "--figure")
    net = stack.networks[level]
    res = compare(net, dataset, rho, n_points=args.points, seed=args.seed)
    meta = stack.metadata
    head = {"net": str(args.net), "level": level, "protocol": meta.get("protocol"),
            "train_seed": meta.get("seed")}
    keys = ("sup_error_balls", "rms_error_box", "cost_ratio", "boundary_angle_max_deg")
    out = {**head, **{k: res[k] for k in keys}}
    out.update({k: v for k, v in res.items() if k not in keys and k != "units"})
    if args.figure:
        out["figure"] = plot_comparison(net, dataset, rho, args.figure, result=res)
    if args.units:
        out["units"] = res["units"]
    return out
