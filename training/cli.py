"""``flows train``: train a denoiser (or a stack over noise levels) and write a network file.

    flows train --data FILE (--rho R | --sigma S [--c C] | --sigmas S1,S2,... [--c C])
                [--noise ball|gaussian] --protocol al|adam|adam-wd|dropout [--width K]
                [--samples M] [--boundary-samples B] [--seed N] [--inner adam|lbfgs]
                [hyper-parameter options] --out NET [--json]

``--rho R``: one denoiser, samples uniform in ``B(x_n, R)``.  ``--sigma S`` / ``--sigmas``: one
level / a stack; with ``--noise ball`` (default) the radius is ``rho = c sigma`` and ``--c`` is
required, with ``--noise gaussian`` the samples are ``x_n + sigma eps`` and ``--c`` (optional)
only names the closed form to compare costs with.  Registered in :mod:`numerics.cli` with
``add_command("train", ..., configure_train, run_train)``; :func:`configure_train` needs no JAX.
"""
from __future__ import annotations

import argparse

#: Hyper-parameter options: CLI name -> (keyword, type, protocols it applies to, help).
_AL = ("al",)
_ADAM = ("adam", "adam-wd", "dropout")
HYPER_OPTIONS = {
    "--mu": ("mu", float, _AL, "penalty weight mu of the augmented Lagrangian (eq. 23)"),
    "--lr": ("lr", float, _AL + _ADAM, "Adam learning rate (al: initial inner learning rate)"),
    "--lr-decay": ("lr_decay", float, _AL, "al: learning-rate factor after each outer update"),
    "--lr-min": ("lr_min", float, _AL, "al: floor of the inner learning rate"),
    "--mu-start": ("mu_start", float, _AL,
                   "al: penalty weight of the first outer iteration; mu grows from it to --mu "
                   "with no multiplier update (penalty continuation)"),
    "--mu-growth": ("mu_growth", float, _AL, "al: factor on mu per outer iteration up to --mu"),
    "--recycle": ("recycle", float, _AL,
                  "al: restart units active on no sample at this scale (0: never)"),
    "--outer-steps": ("outer_steps", int, _AL, "al: outer-iteration budget (eqs. 24-26)"),
    "--inner-steps": ("inner_steps", int, _AL, "al: inner iterations per outer iteration"),
    "--lbfgs-memory": ("lbfgs_memory", int, _AL, "al --inner lbfgs: L-BFGS memory size"),
    "--steps": ("steps", int, _ADAM, "adam*: step budget"),
    "--chunk-steps": ("chunk_steps", int, _ADAM, "adam*: steps between convergence checks"),
    "--lr-final": ("lr_final", float, _ADAM, "adam*: learning rate at the end (exponential decay)"),
    "--weight-decay": ("weight_decay", float, ("adam-wd", "dropout"),
                       "weight decay on a_k, w_k (adds wd * C, eq. 5, to the MSE)"),
    "--dropout": ("dropout", float, ("dropout",), "dropout rate on the hidden layer (App. H)"),
    "--tolerance": ("tolerance", float, _AL + _ADAM,
                    "residual tolerance (default 1e-4 max r_n for al/adam, 1e-2 max r_n else)"),
    "--boundary-samples": ("boundary_samples", int, _AL + _ADAM,
                           "extra samples per point on the sphere |y - x_n| = rho (ball noise)"),
    "--progress-seconds": ("progress_seconds", float, _AL + _ADAM,
                           "seconds between progress lines on stderr"),
}


def _vector(text: str) -> list[float]:
    from numerics.cli import parse_vector
    return parse_vector(text)


def configure_train(p: argparse.ArgumentParser) -> None:
    """Arguments of ``flows train`` (no JAX import)."""
    from numerics.cli import parse_number
    p.add_argument("--data", required=True, help="dataset JSON file")
    level = p.add_mutually_exclusive_group(required=True)
    level.add_argument("--rho", type=parse_number, help="ball radius of one denoiser")
    level.add_argument("--sigma", type=parse_number, help="noise level of one denoiser")
    level.add_argument("--sigmas", type=_vector, help="noise levels of a stack S1,S2,...")
    p.add_argument("--c", type=parse_number, default=None, help="rho = c sigma")
    p.add_argument("--noise", choices=("ball", "gaussian"), default=None,
                   help="noisy samples in the ball B(x_n, c sigma) (default) or Gaussian")
    p.add_argument("--protocol", choices=("al", "adam", "adam-wd", "dropout"), default="al")
    p.add_argument("--inner", choices=("adam", "lbfgs"), default=None,
                   help="al: inner solver (default adam)")
    p.add_argument("--width", type=int, default=None, help="hidden units K (default 4 x points)")
    p.add_argument("--samples", type=int, default=None, help="noisy samples per point (100)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0; recorded)")
    for flag, (_, typ, protos, text) in HYPER_OPTIONS.items():
        p.add_argument(flag, type=parse_number if typ is float else int, default=None,
                       help=f"{text} [{', '.join(protos)}]")
    p.add_argument("--no-centre", action="store_true",
                   help="do not add the training point itself to its samples")
    p.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    p.add_argument("--out", required=True, help="network file to write (.npz)")
    p.set_defaults(_train_parser=p)


def run_train(args: argparse.Namespace) -> dict:
    """Run ``flows train``; returns the report with the written file's path under ``out``."""
    from numerics.cli import load_dataset
    from numerics.network import save_network

    usage = args._train_parser.error  # raises the flows CLI's usage error (exit 2)
    hyper = {}
    for flag, (key, _, protos, _) in HYPER_OPTIONS.items():
        value = getattr(args, key)
        if value is None:
            continue
        if args.protocol not in protos:
            usage(f"{flag} does not apply to --protocol {args.protocol} (only "
                  f"{', '.join(protos)})")
        hyper[key] = value
    if args.inner is not None:
        if args.protocol != "al":
            usage(f"--inner does not apply to --protocol {args.protocol} (only al)")
        hyper["inner"] = args.inner
    if args.no_centre:
        hyper["include_centre"] = False
    noise = args.noise or "ball"
    if args.rho is not None and (args.c is not None or noise != "ball"):
        usage("--rho trains a ball denoiser of radius rho: --c and --noise gaussian do not apply")
    if args.rho is None and noise == "ball" and args.c is None:
        usage(f"--{'sigma' if args.sigma is not None else 'sigmas'} with --noise ball needs --c "
              "(ball radius rho = c sigma)")
    from numerics.validation import check_positive
    for flag in ("rho", "sigma", "c"):
        if getattr(args, flag) is not None:
            check_positive(getattr(args, flag), f"--{flag}")
    for k, sigma in enumerate(args.sigmas or ()):
        check_positive(sigma, f"--sigmas (entry {k + 1})")
    dataset = load_dataset(args.data)
    from numerics.experiments.cli import check_output_file
    check_output_file(args.out, "--out")  # before minutes of training
    from training import train_denoiser, train_stack
    common = dict(protocol=args.protocol, width=args.width, samples=args.samples, seed=args.seed,
                  progress=not args.no_progress, **hyper)
    if args.rho is not None:
        res = train_denoiser(dataset, rho=args.rho, **common)
    elif args.sigma is not None and noise == "gaussian" and args.c is None:
        res = train_denoiser(dataset, sigma=args.sigma, **common)
    else:
        sigmas = [args.sigma] if args.sigma is not None else args.sigmas
        res = train_stack(dataset, sigmas, c=args.c, noise=noise, **common)
    path = save_network(args.out, res.stack)
    return {**res.report, "out": str(path)}
