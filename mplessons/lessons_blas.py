"""Oversubscription: numpy's BLAS threads inside pool workers (lesson 03b, section 5, and the benchmark).

numpy hands matrix products to a BLAS library (OpenBLAS in the wheels from PyPI, MKL or OpenBLAS on conda),
which starts its own threads, by default one per core, in *every* process that loads it. A pool of
``cores`` workers then runs ``cores x cores`` threads on ``cores`` cores. ``threadpoolctl`` reports and
limits those threads from Python.

numpy is imported inside the functions, so that importing this module (which every spawn worker does before
its initializer runs) stays cheap.
"""

from __future__ import annotations

import os
import time
from typing import Any, NamedTuple

PRODUCTS = 4
"""Matrix products in one task."""


class BlasReport(NamedTuple):
    """What one task saw: the worker's pid, its BLAS threads (as threadpoolctl reports them), its seconds."""

    pid: int
    blas_threads: int
    seconds: float


def blas_threads() -> int:
    """BLAS threads in this process, summed over the BLAS libraries loaded (0 when none is loaded)."""
    from threadpoolctl import threadpool_info

    return sum(lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas")


def limit_blas_threads(limit: int) -> None:
    """A pool ``initializer``: at most ``limit`` BLAS threads in this worker.

    ``threadpool_limits`` changes only the libraries already loaded, so numpy is imported first: passing
    ``initializer=threadpool_limits`` directly does nothing under spawn and forkserver, where numpy is
    loaded later, by the first task.
    """
    import numpy  # noqa: F401 - loads the BLAS library, so that the limit applies to it
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=limit)


def matrix_products(size: int) -> BlasReport:
    """A numpy task: ``PRODUCTS`` products of ``size x size`` matrices; returns what it saw."""
    import numpy as np

    a = np.random.default_rng(size).random((size, size))
    started = time.perf_counter()
    for _ in range(PRODUCTS):
        a = a @ a
        a /= a.max()  # keep the values finite
    return BlasReport(os.getpid(), blas_threads(), time.perf_counter() - started)


def measure_oversubscription(ctx: Any, workers: int, size: int, tasks: int, repeat: int = 1) -> dict[str, Any]:
    """Lesson 03b's cell as a function, for ``python -m mplessons bench``: the same tasks on a pool with the
    BLAS threads left alone and on one limited to one BLAS thread per worker. Median seconds of ``repeat``
    runs, the BLAS threads the workers reported, and the ratio."""
    from statistics import median

    setups = {"left alone": {}, "one per worker": {"initializer": limit_blas_threads, "initargs": (1,)}}
    out: dict[str, Any] = {"workers": workers, "size": size, "tasks": tasks, "products_per_task": PRODUCTS,
                           "repeat": repeat, "seconds": {}, "blas_threads": {}}
    for label, options in setups.items():
        times, threads = [], set()
        with ctx.Pool(workers, **options) as pool:
            pool.map(matrix_products, [8] * workers, chunksize=1)  # start every worker and load numpy first
            for _ in range(repeat):
                started = time.perf_counter()
                reports = pool.map(matrix_products, [size] * tasks, chunksize=1)
                times.append(time.perf_counter() - started)
                threads.update(r.blas_threads for r in reports)
        out["seconds"][label] = median(times)
        out["blas_threads"][label] = sorted(threads)
    out["slowdown"] = out["seconds"]["left alone"] / out["seconds"]["one per worker"]
    return out
