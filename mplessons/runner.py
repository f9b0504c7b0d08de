"""Run one function over many inputs on a backend, with per-task timing and no hangs.

``run_tasks`` is what the lessons' plots and the benchmark stand on. The process backend is a
``multiprocessing.Pool`` (the lowest overhead, tasks sent in chunks as ``Pool.map`` does) that is watched:
a bare Pool waits forever for a task whose worker died, and ``Pool.terminate`` itself can hang; here
neither can happen. Threads use ``concurrent.futures``; dask has its own module.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import threading
import time
from array import array
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, Executor, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import cached_property
from multiprocessing.connection import Pipe
from multiprocessing.connection import wait as wait_for_any
from typing import Any, NamedTuple

from .errors import TaskTimeoutError, WorkerCrashedError
from .guard import check_worker
from .machine import context, resolve_start_method, usable_cores
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


# --- what runs inside a worker ----------------------------------------------------------------------

# Process workers write each task's clock reading straight into memory shared with the parent. The stamps are
# the only per-task cost, and they double as progress: if a worker dies, the parent sees which task it was in.
_MARKS: Any = None  # doubles; chunk c (first task f) owns slots f + c ... f + c + len(chunk): start, end0, end1, ...
_CHUNK_WORKERS: Any = None  # pid of the worker that took chunk c (0: not started)


def _init_worker(marks: Any, chunk_workers: Any) -> None:
    global _MARKS, _CHUNK_WORKERS
    _MARKS = memoryview(marks).cast("B").cast("d")  # a memoryview writes faster than the ctypes array
    _CHUNK_WORKERS = memoryview(chunk_workers).cast("B").cast("q")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a kernel interrupt is the parent's to handle


def _run_marked_chunk(fn: Callable[[Any], Any], chunk_number: int, first_index: int, chunk: list[Any]) -> list[Any]:
    """Run ``fn`` on each item of a chunk in a pool worker, stamping the shared clock marks after each task.

    One clock reading per task: a task starts when the one before it ends (the first when the chunk starts).
    That costs about 0.2 µs a task on tiny tasks; a start and an end time per task plus a running/done
    mark cost 0.6 µs and made ``run_tasks`` 1.6 times slower than ``Pool.map`` on 20 000 squares.
    """
    marks, clock = _MARKS, time.perf_counter
    _CHUNK_WORKERS[chunk_number] = os.getpid()
    start_slot = first_index + chunk_number
    marks[start_slot] = clock()
    results: list[Any] = []
    keep = results.append
    try:
        for slot, item in enumerate(chunk, start_slot + 1):
            keep(fn(item))
            marks[slot] = clock()
    except Exception as exc:
        _note_task(exc, first_index, chunk, len(results))
        raise
    return results


def _run_chunk(fn: Callable[[Any], Any], first_index: int, chunk: list[Any],
               worker: int | None = None) -> tuple[list[Any], ChunkSpans]:
    """Run ``fn`` on each item of a chunk here (serial, threads, dask), with the same clock stamps as above."""
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
    if hasattr(exc, "add_note"):  # Python 3.11+
        exc.add_note(f"(raised by task {first_index + done}, input {chunk[done]!r:.80})")


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


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "stopped"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        extra = " (often the out-of-memory killer)" if name == "SIGKILL" else ""
        return f"was killed by {name}{extra}"
    return f"exited with code {code} (os._exit or sys.exit inside the task?)"


class _SharedProgress:
    """The clock marks and chunk owners that process workers write (see ``_run_marked_chunk``), read here."""

    def __init__(self, ctx: Any, chunks: list[tuple[int, list[Any]]]) -> None:
        self.chunks = chunks
        n_tasks = sum(len(chunk) for _, chunk in chunks)
        self.shared = (ctx.RawArray("d", n_tasks + len(chunks)), ctx.RawArray("q", len(chunks)))
        self.mark_bytes = memoryview(self.shared[0]).cast("B")
        self.marks = self.mark_bytes.cast("d")
        self.workers = memoryview(self.shared[1]).cast("B").cast("q")

    def spans(self) -> list[ChunkSpans]:
        out = []
        for number, (first, chunk) in enumerate(self.chunks):
            start = (first + number) * 8  # doubles are 8 bytes
            times = array("d")
            times.frombytes(self.mark_bytes[start:start + (len(chunk) + 1) * 8])
            out.append((first, self.workers[number], times))
        return out

    def unfinished(self) -> tuple[dict[int, int], list[int]]:
        """The task each worker was running when the run stopped (index -> pid), and every unfinished task.

        A chunk's tasks run in order and each is stamped when it ends, so the first unstamped task of a
        started chunk is the one its worker was in.
        """
        running: dict[int, int] = {}
        unfinished: list[int] = []
        for number, (first, chunk) in enumerate(self.chunks):
            slot, done = first + number, 0
            if self.marks[slot]:
                while done < len(chunk) and self.marks[slot + 1 + done]:
                    done += 1
                if done == len(chunk):
                    continue
                running[first + done] = self.workers[number]
            unfinished.extend(range(first + done, first + len(chunk)))
        return running, unfinished

    def release(self) -> None:
        for view in (self.marks, self.mark_bytes, self.workers):
            view.release()


def _crash_error(processes: list[Any], running: dict[int, int]) -> WorkerCrashedError:
    """Name the task whose worker died. Call only once the pool is terminated and joined: see below."""
    dead = {p.pid: p.exitcode for p in processes if p.exitcode not in (None, -signal.SIGTERM)}
    suspects = [i for i, pid in running.items() if pid in dead] or (list(running) if len(running) == 1 else [])
    index = suspects[0] if len(suspects) == 1 else None
    exitcode = dead.get(running.get(index)) if index is not None else next(iter(dead.values()), None)
    where = f"while running task {index}" if index is not None else "while running tasks"
    return WorkerCrashedError(
        f"a worker process {_describe_exit(exitcode)} {where}; the other workers were stopped. "
        f"Results of this run are lost: fix the task (or give it less memory to use) and run again.",
        task_index=index,
        exitcode=exitcode,
    )


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
        raise TaskTimeoutError(f"timeout={timeout:g} s ran out with tasks unfinished", unfinished=[])
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
        results, spans = _run_processes(fn, items, workers, chunksize, timeout, t0, method)
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
            raise TaskTimeoutError(
                f"timeout={timeout:g} s ran out after {index} of {len(items)} tasks (serial tasks are checked "
                f"between tasks)", unfinished=list(range(index, len(items))))
        [result], chunk_spans = _run_chunk(fn, index, [item], worker)
        results.append(result)
        spans.append(chunk_spans)
    return results, spans


def _run_threads(fn, items, workers, chunksize, timeout, t0):
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mplessons")
    try:
        return _run_in_executor(executor, fn, items, chunksize, timeout, t0)
    except TaskTimeoutError as exc:
        raise TaskTimeoutError(f"{exc} (threads cannot be stopped from outside: running tasks finish in the "
                               f"background)") from None
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


def _run_processes(fn, items, workers, chunksize, timeout, t0, method):
    """A ``multiprocessing.Pool`` (lowest overhead), watched so that a dead worker cannot hang the run.

    A bare Pool replaces a dead worker and waits forever for the task it lost; here the parent waits on
    the result *and* on every worker's sentinel, so a death is noticed the moment it happens.
    """
    ctx = context(method)
    chunks = list(_chunks(items, chunksize))
    progress = _SharedProgress(ctx, chunks)
    pool = ctx.Pool(workers, initializer=_init_worker, initargs=progress.shared)
    processes = list(pool._pool)  # our own handles: the pool forgets workers once it has replaced them
    wake_reader, wake_writer = Pipe(duplex=False)
    left = len(chunks)
    failures: list[BaseException] = []

    # Callbacks run one at a time in the pool's result thread. One async call per chunk (not one map) so
    # that the first exception ends the run: a map reports an error only once every other task has run.
    def done(_: list[Any]) -> None:
        nonlocal left
        left -= 1
        if left == 0:
            wake_writer.send_bytes(b"")

    def failed(exc: BaseException) -> None:
        failures.append(exc)
        wake_writer.send_bytes(b"")

    finished = False
    try:
        pending = [pool.apply_async(_run_marked_chunk, (fn, number, first, chunk), callback=done,
                                    error_callback=failed)
                   for number, (first, chunk) in enumerate(chunks)]
        remaining = None if timeout is None else max(0.0, timeout - (time.perf_counter() - t0))
        ready = wait_for_any([wake_reader, *(p.sentinel for p in processes)], timeout=remaining)
        if wake_reader in ready and not failures:
            finished = True
            results: list[Any] = [None] * len(items)
            for (first, chunk), result in zip(chunks, pending, strict=True):
                results[first:first + len(chunk)] = result.get()
            return results, progress.spans()
        # A task raised, a worker died, or time ran out: stop the pool before reading exit codes. Its own
        # thread polls the workers too, and a forkserver child's exit code can be read once only (a second
        # poll at the same moment records 255 instead of the real code).
        _terminate(pool, processes)
        if failures:
            raise failures[0]  # the task's own exception; the worker noted which task raised it
        running, unfinished = progress.unfinished()
        if ready:  # a worker's sentinel: it died
            raise _crash_error(processes, running)
        raise TaskTimeoutError(
            f"timeout={timeout:g} s ran out with {len(unfinished)} of {len(items)} tasks unfinished; "
            f"the worker processes were stopped", unfinished=unfinished)
    finally:
        if finished:  # every result is in: the idle workers exit as after `close(); join()`, nothing is killed
            _close(pool, processes)
        else:  # also on Ctrl-C / interrupt: queued tasks must not run on
            _terminate(pool, processes)
        wake_reader.close()
        wake_writer.close()
        progress.release()


def _close(pool: Any, processes: list[Any], patience: float = 5.0) -> None:
    """``close(); join()``, but a worker that will not exit (stuck in its own clean-up) cannot hang the run."""
    pool.close()
    running = [p.sentinel for p in {*processes, *pool._pool}]  # sentinels only: polling would race the pool
    deadline = time.monotonic() + patience
    while running:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            _terminate(pool, processes)
            return
        exited = wait_for_any(running, timeout=remaining)
        running = [s for s in running if s not in exited]
    pool.join()


def _terminate(pool: Any, processes: list[Any], patience: float = 2.0) -> None:
    """``pool.terminate()``, which cannot hang.

    Terminate kills busy workers; one killed while it writes a result (or dead while it reads a task) keeps
    that queue's lock forever, and the pool's own threads then wait for the lock forever (the CPython
    gh-84559 family of hangs). Once every worker is dead nobody can be using those locks, so they are released
    on the dead workers' behalf; workers that outlive ``5 * patience`` seconds are killed first.
    """
    stopper = threading.Thread(target=pool.terminate, name="mplessons-terminate", daemon=True)
    stopper.start()
    stopper.join(patience)
    deadline = time.monotonic() + 4 * patience
    while stopper.is_alive():
        workers = [*processes, *pool._pool]
        alive = [p for p in workers if p.sentinel not in wait_for_any([p.sentinel], timeout=0)]
        if alive and time.monotonic() > deadline:
            for p in alive:
                p.kill()
        elif not alive:
            for lock in (pool._outqueue._wlock, pool._inqueue._rlock):
                with contextlib.suppress(ValueError, AttributeError):  # not held / no lock on this platform
                    lock.release()
        stopper.join(0.5)
    pool.join()
