"""Run one function over many inputs on a backend, with per-task timing and no hangs.

``run_tasks`` is what the lessons' plots and the benchmark stand on. The process backend is a watched
``multiprocessing.Pool`` (the lowest overhead; see ``process_backend``), threads use ``concurrent.futures``,
and dask has its own module (``dask_backend``).
"""

from __future__ import annotations

import math
import os
import threading
import time
from array import array
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, Executor, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

from .errors import TaskTimeoutError
from .guard import check_worker
from .i18n import tr
from .machine import resolve_start_method, usable_cores
from .validation import callable_fn, non_empty_list, one_of, positive_int, positive_number

BACKENDS = ("serial", "thread", "process", "dask")


class TaskRecord(NamedTuple):
    """When and where one task ran; times are seconds since the run started."""

    index: int
    worker: int
    start: float
    end: float


# One chunk's timings as returned by a worker: (first task index, worker id, [start, end0, end1, ...]); each
# task starts when the one before it ends.
ChunkSpans = tuple[int, int, array]


@dataclass
class RunResult:
    """Results in input order, the run's wall time, and one record per task for timelines.

    Per-task records are kept as compact arrays and turned into ``TaskRecord`` objects only when asked for,
    so that recording them costs the run almost nothing (tiny tasks would otherwise pay for it).
    """

    results: list[Any]
    seconds: float
    spans: list[ChunkSpans] = field(repr=False)
    backend: str
    workers: int
    chunksize: int
    start_method: str | None = None
    t0: float = field(default=0.0, repr=False)

    @cached_property
    def tasks(self) -> list[TaskRecord]:
        t0 = self.t0
        return [TaskRecord(first + k, worker, times[k] - t0, times[k + 1] - t0)
                for first, worker, times in self.spans for k in range(len(times) - 1)]

    @property
    def busy_seconds(self) -> float:
        """Total time workers spent inside tasks: what a serial run of the same tasks would roughly take."""
        return sum(t.end - t.start for t in self.tasks)


def max_workers(backend: str) -> int:
    """The largest worker count accepted: generous, but refused before thousands of processes start."""
    if backend == "serial":
        return 1
    if backend == "thread":
        return 256
    return max(32, 4 * usable_cores())


def default_workers(backend: str) -> int:
    return 1 if backend == "serial" else usable_cores()


def auto_chunksize(n_items: int, workers: int) -> int:
    """The chunk size ``Pool.map`` would choose: about four chunks per worker."""
    return max(1, math.ceil(n_items / (workers * 4)))


# --- what runs inside a worker (process workers: see process_backend) --------------------------------


def _run_chunk(fn: Callable[[Any], Any], first_index: int, chunk: list[Any],
               worker: int | None = None) -> tuple[list[Any], ChunkSpans]:
    """Run ``fn`` on each item of a chunk (serial, threads, dask), stamping the clock after each task.

    One clock reading per task: a task starts when the one before it ends (the first when the chunk starts).
    """
    worker = os.getpid() if worker is None else worker
    clock = time.perf_counter
    results: list[Any] = []
    times = array("d", [clock()])
    keep, stamp = results.append, times.append
    try:
        for item in chunk:
            keep(fn(item))
            stamp(clock())
    except Exception as exc:
        _note_task(exc, first_index, chunk, len(results))
        raise
    return results, (first_index, worker, times)


def _note_task(exc: Exception, first_index: int, chunk: list[Any], done: int) -> None:
    exc.add_note(tr("(raised by task {index}, input {input!r:.80})", index=first_index + done, input=chunk[done]))


def _run_chunk_in_thread(fn: Callable[[Any], Any], first_index: int, chunk: list[Any]):
    return _run_chunk(fn, first_index, chunk, threading.get_native_id())


# --- the parent's side ------------------------------------------------------------------------------


def _chunks(items: list[Any], size: int) -> Iterable[tuple[int, list[Any]]]:
    for first in range(0, len(items), size):
        yield first, items[first:first + size]


def _collect_chunks(chunks: Iterable[tuple[list[Any], ChunkSpans]], n: int) -> tuple[list[Any], list[ChunkSpans]]:
    """Put each chunk's results at its place in the input order and keep its timings."""
    results: list[Any] = [None] * n
    spans: list[ChunkSpans] = []
    for chunk_results, chunk_spans in chunks:
        first = chunk_spans[0]
        results[first:first + len(chunk_results)] = chunk_results
        spans.append(chunk_spans)
    return results, spans


def _run_in_executor(executor: Executor, fn: Callable[[Any], Any], items: list[Any], chunksize: int,
                     timeout: float | None, t0: float) -> tuple[list[Any], list[ChunkSpans]]:
    futures = [executor.submit(_run_chunk_in_thread, fn, first, chunk) for first, chunk in _chunks(items, chunksize)]
    remaining = None if timeout is None else max(0.0, timeout - (time.perf_counter() - t0))
    done, pending = wait(futures, timeout=remaining, return_when=FIRST_EXCEPTION)
    for f in done:
        exc = f.exception()
        if exc is not None:
            raise exc
    if pending:
        raise TaskTimeoutError(tr("timeout={timeout:g} s ran out with tasks unfinished", timeout=timeout),
                               unfinished=[])
    return _collect_chunks((f.result() for f in futures), len(items))


def run_tasks(fn: Callable[[Any], Any], items: Iterable[Any], *, backend: str = "process",
              workers: int | None = None, start_method: str | None = None, chunksize: int | None = None,
              timeout: float | None = None, scheduler: str | None = None) -> RunResult:
    """Run ``fn(item)`` for every item and return results in input order with per-task records.

    ``backend="dask"`` runs on dask.distributed (see ``mplessons.dask_backend``): on ``scheduler`` (an address
    such as ``"tcp://host:8786"``), else ``$MPLESSONS_DASK_SCHEDULER``, else an embedded local cluster.

    Raises ``InteractiveFunctionError`` before starting anything if workers could not import ``fn``,
    ``WorkerCrashedError`` if a worker process dies, ``TaskTimeoutError`` when ``timeout`` seconds pass,
    and the task's own exception (with the task index in its notes) if ``fn`` raises.
    """
    callable_fn("fn", fn)
    items = non_empty_list("items", items)
    one_of("backend", backend, BACKENDS)
    if scheduler is not None and backend != "dask":
        raise ValueError(f"scheduler= is only used with backend='dask', got backend={backend!r}")
    dask_workers, dask_chunksize = workers, chunksize  # None lets dask use every worker of its cluster
    if workers is None:
        workers = default_workers(backend)
    workers = positive_int("workers", workers, maximum=max_workers(backend),
                           hint="the serial backend always uses 1 worker" if backend == "serial" else "")
    chunksize = auto_chunksize(len(items), workers) if chunksize is None else positive_int("chunksize", chunksize)
    timeout = positive_number("timeout", timeout, allow_none=True)
    method = resolve_start_method(start_method) if backend in ("process", "dask") or start_method else None

    if backend == "dask":
        from .dask_backend import run_on_dask

        return run_on_dask(fn, items, workers=None if dask_workers is None else workers,
                           chunksize=None if dask_chunksize is None else chunksize, timeout=timeout,
                           scheduler=scheduler)
    if backend == "process":
        check_worker(fn, method)

    t0 = time.perf_counter()
    if backend == "serial":
        results, spans = _run_serial(fn, items, timeout)
    elif backend == "thread":
        results, spans = _run_threads(fn, items, workers, chunksize, timeout, t0)
    else:
        from .process_backend import run_processes

        results, spans = run_processes(fn, items, workers, chunksize, timeout, t0, method)
    seconds = time.perf_counter() - t0
    return RunResult(results, seconds, spans, backend, workers, chunksize, method, t0)


def _run_serial(fn, items, timeout):
    worker = os.getpid()
    if timeout is None:
        results, spans = _run_chunk(fn, 0, items, worker)
        return results, [spans]
    deadline = time.perf_counter() + timeout
    results, spans = [], []
    for index, item in enumerate(items):
        if time.perf_counter() > deadline:
            raise TaskTimeoutError(tr(
                "timeout={timeout:g} s ran out after {done} of {count} tasks (serial tasks are checked between "
                "tasks)", timeout=timeout, done=index, count=len(items)), unfinished=list(range(index, len(items))))
        [result], chunk_spans = _run_chunk(fn, index, [item], worker)
        results.append(result)
        spans.append(chunk_spans)
    return results, spans


def _run_threads(fn, items, workers, chunksize, timeout, t0):
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mplessons")
    try:
        return _run_in_executor(executor, fn, items, chunksize, timeout, t0)
    except TaskTimeoutError as exc:
        raise TaskTimeoutError(tr("{error} (threads cannot be stopped from outside: running tasks finish in the "
                                  "background)", error=exc)) from None
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
