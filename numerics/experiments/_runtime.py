"""Shared machinery of the experiments: a stderr progress bar, a parallel map (local processes by
default, a Dask cluster when a scheduler address is given), JSON results and figure saving.

Nothing here knows any formula; the experiments get their mathematics from :mod:`theory` and
:mod:`numerics`.
"""
from __future__ import annotations

import json
import math
import os
import platform
import socket
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np


class Progress:
    """A small stderr progress printer: ``label [#####.....] k/n  12.3s``.

    Silent when ``enabled`` is false.  Redraws at most every ``interval`` seconds (and at the end)
    so that a fast loop does not spend its time printing.
    """

    def __init__(self, total: int, label: str, enabled: bool = True, width: int = 30,
                 interval: float = 0.2, stream=None):
        self.total = max(int(total), 1)
        self.label = label
        self.enabled = enabled
        self.width = width
        self.interval = interval
        self.stream = sys.stderr if stream is None else stream
        self.done = 0
        self.start = time.perf_counter()
        self._last = -math.inf

    def update(self, k: int = 1):
        self.done = min(self.done + k, self.total)
        now = time.perf_counter()
        if self.enabled and (now - self._last >= self.interval or self.done == self.total):
            self._last = now
            fill = int(self.width * self.done / self.total)
            self.stream.write(f"\r{self.label} [{'#' * fill}{'.' * (self.width - fill)}] "
                              f"{self.done}/{self.total} {now - self.start:6.1f}s")
            if self.done == self.total:
                self.stream.write("\n")
            self.stream.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.enabled and self.done < self.total and exc[0] is None:
            self.done = self.total - 1
            self.update()


#: Seconds to wait for a Dask scheduler to answer before giving up with one error line (a
#: refused connection fails at once; an unreachable host waits this long, not distributed's 30 s).
SCHEDULER_TIMEOUT = 5.0


def default_workers() -> int:
    """Worker processes used when none is requested: the machine's CPU count."""
    return os.cpu_count() or 1


def check_workers(workers, name: str = "workers") -> int | None:
    """``None`` (the default: :func:`default_workers`) or a positive integer, capped at the CPU
    count with a warning: more processes than cores only add start-up time and memory."""
    if workers is None:
        return None
    from ..validation import check_int
    n = check_int(workers, name, minimum=1)
    cap = default_workers()
    if n > cap:
        warnings.warn(f"{name} = {n} exceeds the {cap} CPU cores; using {cap} worker processes")
        n = cap
    return n


def _connect(scheduler: str):
    """A ``dask.distributed.Client`` for ``scheduler``, failing fast with one line when the
    extra is missing or the scheduler cannot be reached."""
    from theory.errors import InputError, MissingExtraError
    if not isinstance(scheduler, str) or not scheduler:
        raise InputError(f"scheduler must be a Dask scheduler address such as "
                         f"tcp://127.0.0.1:8786, got {scheduler!r}")
    try:
        from dask.distributed import Client
    except ImportError:
        raise MissingExtraError("--scheduler needs Dask, the 'dask' extra: pip install -e "
                                "\".[dask]\" in the repository's root (without --scheduler the "
                                "sweep runs on local processes)") from None
    host_port = scheduler.split("://", 1)[-1]
    if scheduler.startswith("tcp://") or "://" not in scheduler:
        host, _, port = host_port.rpartition(":")
        if not host or not port.isdigit():
            raise InputError(f"scheduler address {scheduler!r} has no host:port; pass e.g. "
                             "tcp://127.0.0.1:8786")
        try:
            socket.create_connection((host.strip("[]"), int(port)), SCHEDULER_TIMEOUT).close()
        except OSError as exc:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler}: "
                             f"{exc.strerror or exc}; start one (dask scheduler) or omit the "
                             "scheduler to use local processes") from None
    try:
        return Client(scheduler, timeout=SCHEDULER_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"cannot connect to the Dask scheduler at {scheduler}: "
                         f"{' '.join(str(exc).split())}") from None


def _pool_context():
    """The process start method of :func:`parallel_map`: the platform default (``fork`` on
    Linux: cheap), except once JAX is imported -- JAX runs threads, and forking a threaded
    process can deadlock (JAX warns so) -- then ``forkserver``, which starts workers from a
    clean server process."""
    import multiprocessing
    if "jax" in sys.modules and "forkserver" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("forkserver")
    return None


def parallel_map(fn, tasks, *, workers: int | None = None, scheduler: str | None = None,
                 progress: bool = True, label: str = "tasks") -> list:
    """``[fn(t) for t in tasks]``, in order, with a progress bar.

    ``scheduler`` (a Dask scheduler address such as ``tcp://127.0.0.1:8786``) sends the tasks to
    that cluster (needs the optional extra ``dask``); otherwise ``workers`` local processes
    (``concurrent.futures``; default :func:`default_workers`) run them, and ``workers=1`` or a
    single task runs in this process.  ``fn`` must be a module-level function and every task
    picklable.
    """
    tasks = list(tasks)
    workers = check_workers(workers)
    results = [None] * len(tasks)
    if scheduler is not None:
        client = _connect(scheduler)
        from dask.distributed import as_completed as dask_completed
        bar = Progress(len(tasks), label, enabled=progress)
        with client:
            futures = client.map(fn, tasks, pure=False)
            index = {f.key: i for i, f in enumerate(futures)}
            for fut in dask_completed(futures):
                results[index[fut.key]] = fut.result()
                bar.update()
        return results
    bar = Progress(len(tasks), label, enabled=progress)
    n_workers = default_workers() if workers is None else workers
    if n_workers == 1 or len(tasks) <= 1:
        for i, t in enumerate(tasks):
            results[i] = fn(t)
            bar.update()
        return results
    with ProcessPoolExecutor(max_workers=min(n_workers, len(tasks)),
                             mp_context=_pool_context()) as pool:
        futures = {pool.submit(fn, t): i for i, t in enumerate(tasks)}
        for fut in as_completed(futures):
            results[futures[fut]] = fut.result()
            bar.update()
    return results


def chunks(n: int, n_chunks: int) -> list[tuple[int, int]]:
    """Split ``range(n)`` into at most ``n_chunks`` contiguous ``(start, stop)`` blocks."""
    n_chunks = max(1, min(int(n_chunks), n))
    edges = np.linspace(0, n, n_chunks + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    return obj


def environment() -> dict:
    """Versions recorded with every result (for reproducibility)."""
    import scipy
    import sympy
    return {"python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__, "sympy": sympy.__version__}


def write_results(out_dir, name: str, results: dict) -> Path:
    """Write ``results`` (plus the environment) to ``out_dir/results.json``; return the path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    payload = {"experiment": name, **results, "environment": environment()}
    path = out / "results.json"
    path.write_text(json.dumps(_jsonable(payload), indent=2, allow_nan=False) + "\n")
    return path


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save_figure(fig, out_dir, filename: str) -> str:
    """Save ``fig`` as ``out_dir/filename`` (PNG, 130 dpi), close it, return the file name."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / filename, dpi=130, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    return filename
