"""Trained denoisers for the experiments, cached on disk (docs/math.md §7).

:func:`trained_network` trains one ball-noise denoiser with :func:`training.train_denoiser` (the
``train`` extra: JAX) or reuses a network file trained before with the same data, ``rho``,
protocol, width, samples, hyper-parameters and seed: the file name is a hash of those, so a
second run of an experiment skips training, and changing any of them trains afresh.
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


def cache_key(dataset, rho: float, protocol: str, width, samples, seed: int, hyper: dict) -> str:
    """Hex digest of everything that determines a training run."""
    width, samples, hyper = _resolved(dataset, protocol, width, samples, dict(hyper or {}))
    spec = {"data": dataset.to_json(), "rho": float(rho), "protocol": protocol, "width": width,
            "samples": samples, "seed": int(seed), "hyper": dict(sorted((hyper or {}).items()))}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:20]


def trained_network(dataset, rho: float, *, cache_dir, protocol: str = "al", width=None,
                    samples=None, seed: int = 0, hyper: dict | None = None,
                    progress: bool = True) -> dict:
    """``{"net", "report", "metadata", "cached", "path", "key", "seconds"}`` for one trained
    denoiser (trained now, or loaded from ``cache_dir``)."""
    hyper = dict(hyper or {})
    key = cache_key(dataset, rho, protocol, width, samples, seed, hyper)
    path = Path(cache_dir) / f"trained-{protocol}-{key}.npz"
    t0 = time.perf_counter()
    if path.exists():
        try:
            stack = load_network(path)
            check_trained_on(stack, dataset, net_name=f"cached network {path}")
            meta = stack.metadata
            return {"net": stack.networks[0], "report": meta.get("report", {}), "metadata": meta,
                    "cached": True, "path": str(path), "key": key,
                    "seconds": time.perf_counter() - t0}
        except NetworkFileError:
            pass  # unreadable or foreign cache entry: train again and overwrite it
    from training import train_denoiser

    res = train_denoiser(dataset, rho=rho, protocol=protocol, width=width, samples=samples,
                         seed=seed, progress=progress, **hyper)
    meta = {**res.stack.metadata, "report": res.report, "cache_key": key}
    stack = NetworkStack(res.stack.sigmas, res.stack.networks, meta)
    save_network(path, stack)
    return {"net": stack.networks[0], "report": res.report, "metadata": meta, "cached": False,
            "path": str(path), "key": key, "seconds": time.perf_counter() - t0}
