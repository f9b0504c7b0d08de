"""The process backend of ``run_tasks``: a ``multiprocessing.Pool`` that is watched so it cannot hang.

A bare Pool waits forever for a task whose worker died, and ``Pool.terminate`` itself can hang; here neither
can happen. Workers send results back as ``Pool.map``'s do (in chunks) and stamp each task's end in memory
shared with the parent, which is both the timeline and the progress a crash or timeout report reads.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from array import array
from collections.abc import Callable
from multiprocessing.connection import Pipe
from multiprocessing.connection import wait as wait_for_any
from typing import Any

from .errors import TaskTimeoutError, WorkerCrashedError
from .i18n import tr
from .machine import context
from .runner import ChunkSpans, _chunks, _note_task

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


# --- the parent's side ------------------------------------------------------------------------------


def _describe_exit(code: int | None, in_task: bool = True) -> str:
    """How a worker ended, to follow "a worker process" in a message: "was killed by SIGKILL" ..."""
    if code is None:
        return tr("stopped")
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            return tr("was killed by signal {number}", number=-code)
        extra = tr(" (often the out-of-memory killer)") if name == "SIGKILL" else ""
        return tr("was killed by {signal}{extra}", signal=name, extra=extra)
    extra = tr(" (os._exit or sys.exit inside the task?)") if in_task else ""
    return tr("exited with code {code}{extra}", code=code, extra=extra)


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
            size = self.marks.itemsize
            start = (first + number) * size
            times = array("d")
            times.frombytes(self.mark_bytes[start:start + (len(chunk) + 1) * size])
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


def _crash_error(processes: list[Any], running: dict[int, int], chunk_takers: set[int]) -> WorkerCrashedError:
    """Name the task whose worker died. Call only once the pool is terminated and joined: see below."""
    dead = {p.pid: p.exitcode for p in processes if p.exitcode not in (None, -signal.SIGTERM)}
    if dead and not chunk_takers & set(dead):
        exitcode = next(iter(dead.values()))
        return WorkerCrashedError(tr(
            "a worker process {ended} before it ran any task: it could not start. Its own error went to its "
            "stderr (the terminal or the Jupyter server's log, and with ipykernel 6+ on Linux and macOS also the "
            "notebook). The usual cause under spawn and forkserver: a script whose top-level code is not under "
            "`if __name__ == '__main__':`, so importing it in a child (every spawn child; the forkserver, or each "
            "of its children before 3.13.8/3.14.1) runs that code again; or a worker function whose module fails "
            "to import in the child.", ended=_describe_exit(exitcode, in_task=False)),
            task_index=None, exitcode=exitcode)
    suspects = [i for i, pid in running.items() if pid in dead] or (list(running) if len(running) == 1 else [])
    index = suspects[0] if len(suspects) == 1 else None
    exitcode = dead.get(running.get(index)) if index is not None else next(iter(dead.values()), None)
    where = tr("while running task {index}", index=index) if index is not None else tr("while running tasks")
    return WorkerCrashedError(tr(
        "a worker process {ended} {where}; the other workers were stopped. Results of this run are lost: fix the "
        "task (or give it less memory to use) and run again.", ended=_describe_exit(exitcode), where=where),
        task_index=index,
        exitcode=exitcode,
    )


def run_processes(fn, items, workers, chunksize, timeout, t0, method):
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
    pending: list[Any] = []
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
            raise _crash_error(processes, running, set(progress.workers))
        raise TaskTimeoutError(tr(
            "timeout={timeout:g} s ran out with {unfinished} of {count} tasks unfinished; the worker processes "
            "were stopped", timeout=timeout, unfinished=len(unfinished), count=len(items)), unfinished=unfinished)
    finally:
        if finished:  # every result is in: the idle workers exit as after `close(); join()`, nothing is killed
            _close(pool, processes)
        else:  # also on Ctrl-C / interrupt: queued tasks must not run on
            _terminate(pool, processes)
        wake_reader.close()
        wake_writer.close()
        progress.release()
        # Free the pool's semaphores now, not at some later garbage collection: unfinished results and the pool
        # point at each other, and a raised error's traceback keeps this frame (so `pool`) alive. A collection
        # that runs inside the resource tracker (while another semaphore registers) makes Python 3.12 and
        # 3.13.0 warn "ResourceTracker called reentrantly ... might leak" for each (CPython gh-131788).
        pool._cache.clear()
        del pool, pending


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
