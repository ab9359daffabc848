"""Trained denoisers for the experiments, cached on disk (docs/math.md §7).

:func:`trained_stack` trains a stack of denoisers over noise levels with
:func:`training.train_stack` (the ``train`` extra: JAX; vectorised over levels) or reuses a
network file trained before with the same data, levels, noise model, protocol, width, samples,
hyper-parameters and seed: the file name is a hash of those, so a second run of an experiment
skips training, and changing any of them trains afresh.  :func:`trained_network` is the
one-level case (one low-noise denoiser at ball radius ``rho``).
"""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from ..network import NetworkFileError, NetworkStack, check_trained_on, load_network, save_network


def _resolved(dataset, protocol: str, width, samples, hyper: dict):
    """The protocol's full hyper-parameters, width and samples with the training package's
    defaults filled in (so a changed default is a new cache entry); as given without it."""
    try:
        from training import api
    except ImportError:
        return width, samples, hyper
    hp = api.hyperparameters(protocol, **hyper)
    hp.pop("progress_seconds", None)  # how often it prints: not part of the result
    return (api.default_width(dataset) if width is None else width,
            api.DEFAULT_SAMPLES if samples is None else samples, hp)


def cache_key(dataset, rho: float, protocol: str, width, samples, seed: int, hyper: dict,
              *, levels=None) -> str:
    """Hex digest of everything that determines a training run.  ``levels=None``: one
    denoiser at ball radius ``rho``; otherwise ``{"sigmas", "noise", "c"}`` of a stack (``rho``
    is then ignored)."""
    width, samples, hyper = _resolved(dataset, protocol, width, samples, dict(hyper or {}))
    spec = {"data": dataset.to_json(), "protocol": protocol, "width": width,
            "samples": samples, "seed": int(seed), "hyper": dict(sorted((hyper or {}).items()))}
    if levels is None:
        spec["rho"] = float(rho)
    else:
        spec["levels"] = {"sigmas": [float(x) for x in levels["sigmas"]],
                          "noise": levels["noise"],
                          "c": None if levels["c"] is None else float(levels["c"])}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:20]


def _load_cached(path: Path, dataset, t0: float, key: str):
    """The cached stack at ``path`` as a result dict, or ``None`` when absent or unusable."""
    if not path.exists():
        return None
    try:
        stack = load_network(path)
        check_trained_on(stack, dataset, net_name=f"cached network {path}")
    except NetworkFileError:
        return None  # unreadable or foreign cache entry: train again and overwrite it
    meta = stack.metadata
    return {"stack": stack, "net": stack.networks[0], "report": meta.get("report", {}),
            "metadata": meta, "cached": True, "path": str(path), "key": key,
            "seconds": time.perf_counter() - t0}


def _store(path: Path, res, key: str, t0: float) -> dict:
    meta = {**res.stack.metadata, "report": res.report, "cache_key": key}
    stack = NetworkStack(res.stack.sigmas, res.stack.networks, meta)
    save_network(path, stack)
    return {"stack": stack, "net": stack.networks[0], "report": res.report, "metadata": meta,
            "cached": False, "path": str(path), "key": key, "seconds": time.perf_counter() - t0}


def trained_network(dataset, rho: float, *, cache_dir, protocol: str = "al", width=None,
                    samples=None, seed: int = 0, hyper: dict | None = None,
                    progress: bool = True) -> dict:
    """``{"stack", "net", "report", "metadata", "cached", "path", "key", "seconds"}`` for one
    trained denoiser at ball radius ``rho`` (trained now, or loaded from ``cache_dir``)."""
    hyper = dict(hyper or {})
    key = cache_key(dataset, rho, protocol, width, samples, seed, hyper)
    path = Path(cache_dir) / f"trained-{protocol}-{key}.npz"
    t0 = time.perf_counter()
    hit = _load_cached(path, dataset, t0, key)
    if hit is not None:
        return hit
    from training import train_denoiser

    res = train_denoiser(dataset, rho=rho, protocol=protocol, width=width, samples=samples,
                         seed=seed, progress=progress, **hyper)
    return _store(path, res, key, t0)


def trained_stack(dataset, sigmas, *, cache_dir, c=None, noise: str = "ball",
                  protocol: str = "al", width=None, samples=None, seed: int = 0,
                  hyper: dict | None = None, progress: bool = True) -> dict:
    """A stack of denoisers, one per noise level ``sigmas[i]`` (eq. 20), trained in one
    vectorised program by :func:`training.train_stack` (``noise="ball"``: radius
    ``rho_i = c sigma_i``; ``"gaussian"``: ``x_n + sigma_i eps``) or loaded from
    ``cache_dir``.  Same result keys as :func:`trained_network`; ``"stack"`` is the
    :class:`numerics.network.NetworkStack`."""
    hyper = dict(hyper or {})
    sig = [float(s) for s in sigmas]
    key = cache_key(dataset, None, protocol, width, samples, seed, hyper,
                    levels={"sigmas": sig, "noise": noise, "c": c})
    path = Path(cache_dir) / f"stack-{protocol}-{key}.npz"
    t0 = time.perf_counter()
    hit = _load_cached(path, dataset, t0, key)
    if hit is not None:
        return hit
    from training import train_stack

    res = train_stack(dataset, sig, c=c, noise=noise, protocol=protocol, width=width,
                      samples=samples, seed=seed, progress=progress, **hyper)
    return _store(path, res, key, t0)
