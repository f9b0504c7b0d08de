"""Lesson 04, exercise 3: ``shared_row_sums(data)``, row sums computed by pool workers from shared memory.

The check calls the student's function with arrays of its own, watching the segments it makes, the pool
calls it makes and the processes it leaves: so rows pickled to the workers, a segment left behind or a
``close()`` while a numpy view still uses the segment are seen, not guessed from the sums.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..i18n import tr
from . import Feedback, failed, is_placeholder, not_a_function, not_attempted, passed, remembers_rejections
from .bounded import call_bounded, describe_error
from .pool_watch import PoolCall, PoolWatch, TaskFailed
from .shm_safety import SegmentWatch, drop_dead_views
from .watch import ProcessWatch, is_untouched

TIMEOUT = 60.0
ARRAYS = (  # the second, of another shape and dtype, catches a function that hard-codes them
    np.random.default_rng(13).random((5, 2_000)),
    (np.arange(3 * 1_500, dtype=np.int32) % 97).reshape(3, 1_500),
)


def _describe(data: np.ndarray) -> str:
    return tr("a {shape} {dtype} array", shape=data.shape, dtype=data.dtype)


def _arguments(call: PoolCall) -> list[Any]:
    """Everything the pool sends with the tasks: their arguments, and those bound into a functools.partial,
    with the items of tuples and lists among them (ProcessPoolExecutor.map sends its tasks in chunks)."""
    found: list[Any] = []
    pending = [arg for task in call.tasks for arg in task]
    func = call.func
    while isinstance(func, functools.partial):
        pending.extend([*func.args, *func.keywords.values()])
        func = func.func
    while pending:
        arg = pending.pop()
        found.append(arg)
        if isinstance(arg, (list, tuple)) and len(arg) <= 64:  # a chunk of tasks, not a row of numbers
            pending.extend(arg)
    return found


def _sends_data(call: PoolCall) -> bool:
    """True when a task's arguments carry the numbers themselves: an array, or a list of numbers longer than
    a shape."""
    for arg in _arguments(call):
        if isinstance(arg, np.ndarray) and arg.size > 1:
            return True
        if isinstance(arg, (list, tuple)) and len(arg) > 8 and all(isinstance(x, (int, float)) for x in arg):
            return True
    return False


def _names_in(call: PoolCall) -> set[str]:
    return {arg for arg in _arguments(call) if isinstance(arg, str)}


def _error_hint(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return tr(": a worker could not attach to the segment by name. Was it unlinked before the workers ran? "
                  "Unlink it only in the finally block, after the pool is done")
    if isinstance(exc, BufferError):
        return tr(": close() refused because something still uses the buffer (np.frombuffer holds it). Drop "
                  "every view first (`view = None`), then close()")
    if type(exc).__name__ == "InteractiveFunctionError":
        return tr(" Give the pool row_sum, which lives in a module, or a function from a %%worker_module cell")
    if "buffer is too small" in str(exc):
        return tr(": the workers' view of the segment did not fit it. Take the shape and dtype from the `data` "
                  "passed in (data.shape, data.dtype.str), not fixed values")
    return ""


def _pool_problem(calls: list[PoolCall], segments: SegmentWatch) -> str | None:
    """Whether pool workers got the segment's name rather than the rows themselves; None when so."""
    created = {s.name for s in segments.created}
    if not calls:
        if created:
            return tr("no pool ran: the sums were computed in this kernel. Let a ctx.Pool(2) call "
                      "row_sum(shm.name, data.shape, data.dtype.str, row) for every row")
        return tr("neither a pool nor shared memory was used: the sums were computed in this kernel. Put the "
                  "data into a SharedMemory segment and let a ctx.Pool(2) sum the rows by name with row_sum")
    if any(c.threads for c in calls):
        return tr("a ThreadPool's workers are threads of this kernel, so no other process read the segment: "
                  "use ctx.Pool(2), whose workers are processes")
    if any(_sends_data(c) for c in calls):
        if created:
            return tr("you made a segment, but the pool received the rows themselves: passing arrays (even rows "
                      "of a view of the segment, as in pool.map(np.sum, view)) pickles a copy of each to the "
                      "workers. Send only the name: row_sum(shm.name, data.shape, data.dtype.str, row)")
        return tr("the rows were pickled to the workers (pool.map(np.sum, list(data)) sends a copy of each), not "
                  "shared: put data into a SharedMemory segment and send only its name, shape and dtype")
    if not created:
        return tr("no shared memory segment was created: make one with "
                  "shared_memory.SharedMemory(create=True, size=data.nbytes) and copy data into it")
    if not any(_names_in(c) & created for c in calls):
        return tr("the pool's tasks never got the segment's name: pass shm.name to row_sum")
    if any(c.api == "imap_unordered" for c in calls):
        return tr("imap_unordered returns results in the order they finish, not row order: use pool.starmap "
                  "(or map), which keeps the order of its input")
    if len(calls) > 1 and all(c.api == "apply" for c in calls):
        return tr("pool.apply waits for each task's result before it returns, so the {count} rows were summed one "
                  "after another, in one worker at a time: hand them all to the pool at once, with "
                  "pool.starmap(row_sum, tasks)", count=len(calls))
    return None


def _not_from_pool_problem(value: Any, calls: list[PoolCall]) -> str | None:
    """Right sums that the pool did not return: computed here, with the pool run only for show. Told apart
    by identity (the workers' floats arrive as new objects), where the pool calls returned their results
    directly (map, starmap, apply) and the function returned a list of them."""
    if not isinstance(value, (list, tuple)) or not calls or any(c.api not in ("map", "starmap", "apply")
                                                                   for c in calls):
        return None
    pieces = [r for c in calls for r in (c.returned if isinstance(c.returned, list) else [c.returned])]
    strangers = [i for i, v in enumerate(value) if not any(v is piece for piece in pieces)]
    if not strangers:
        return None
    return tr("the sums you returned for rows {rows} are not the ones the pool's workers sent back: they were "
              "computed here, in this kernel (the pool ran only for show). Return what pool.starmap returns",
              rows=strangers)


def _sums_problem(value: Any, data: np.ndarray) -> str | None:
    expected = data.sum(axis=1)
    if value is None:
        return tr("shared_row_sums returned None: return the list of sums")
    try:
        got = np.asarray(list(value), dtype=np.float64)
    except (TypeError, ValueError):
        return tr("shared_row_sums should return a list of numbers, one per row; got {value!r:.80}", value=value)
    if got.shape != expected.shape:
        return tr("for {data} expected one sum per row ({rows} numbers), got {count}", data=_describe(data),
                  rows=len(expected), count=got.size)
    if not got.any():
        return tr("every sum is 0: the segment was still empty. Copy the data in before the workers run: "
                  "np.ndarray(data.shape, dtype=data.dtype, buffer=shm.buf)[:] = data")
    if np.allclose(got, expected):
        return None
    if np.allclose(np.sort(got), np.sort(expected)):
        return tr("the sums are right but out of order: use pool.starmap (or map), which return results in input "
                  "order")
    wrong = int(np.flatnonzero(~np.isclose(got, expected))[0])
    return tr("for {data} row {row} sums to {got!r}, expected {expected!r}: take the shape and dtype from the "
              "`data` passed in (data.shape, data.dtype.str), not fixed values", data=_describe(data), row=wrong,
              got=float(got[wrong]), expected=float(expected[wrong]))


def _cleanup_problem(segments: SegmentWatch, left: list[str], open_pools: int) -> str | None:
    views = [v for s in segments.segments for v in s.views_at_close]
    if views:
        names = ", ".join(f"`{v}`" for v in views)
        return tr("shm.close() ran while the numpy view {names} still used the segment. numpy does not stop "
                  "close(), and reading that view afterwards crashes the kernel (here it could not: this check "
                  "kept the memory mapped). Drop views first: `view = None`, then shm.close()", names=names)
    if left:
        return tr("the sums are right, but the segment still existed afterwards: call shm.close() and "
                  "shm.unlink() in the parent, in a finally block (this check unlinked it for you)")
    if any(not s.closed for s in segments.created):
        return tr("the segment was unlinked but never closed in the parent: call shm.close(), then shm.unlink()")
    if open_pools:
        return tr("the pool was still running after shared_row_sums returned: use `with ctx.Pool(2) as pool:`, "
                  "which stops its workers at the end of the block (this check terminated it)")
    return None


def _attempt(fn: Any, data: np.ndarray, timeout: float) -> str | None:
    with SegmentWatch() as segments, PoolWatch() as pools, ProcessWatch() as processes:
        outcome = call_bounded(fn, (data.copy(),), timeout)
    open_pools = pools.finish()
    processes.finish()
    left = segments.remove_leftovers()
    cleaned = tr(" (this check unlinked the segment left behind)") if left else ""
    if not outcome.finished:
        return tr("shared_row_sums did not return within {timeout:g} s (this check terminated its pool){cleaned}",
                  timeout=timeout, cleaned=cleaned)
    if outcome.error is not None:
        return tr("shared_row_sums({data}) raised {error}{hint}{cleaned}", data=_describe(data),
                  error=describe_error(outcome.error), hint=_error_hint(outcome.error), cleaned=cleaned)
    views = [v for s in segments.segments for v in s.views_at_close]
    if views:
        return _cleanup_problem(segments, left, open_pools)
    problem = (_pool_problem(pools.calls, segments) or _sums_problem(outcome.result, data)
               or _not_from_pool_problem(outcome.result, pools.calls))
    if problem:
        return problem + cleaned
    return _cleanup_problem(segments, left, open_pools)


def _failing_attempt(fn: Any, data: np.ndarray, timeout: float) -> str | None:
    """Run ``fn`` once more with its first pool call raising, as a failing task would: the segment must be
    closed and unlinked all the same (the exercise's ``finally``)."""
    with SegmentWatch() as segments, PoolWatch(fail=True) as pools, ProcessWatch() as processes:
        outcome = call_bounded(fn, (data.copy(),), timeout)
    pools.finish()
    processes.finish()
    left = segments.remove_leftovers()
    unclosed = [s for s in segments.created if not s.closed]
    if not left and not unclosed:
        return None
    how = (tr("your function raised it") if isinstance(outcome.error, TaskFailed) else
           tr("your function returned {value!r:.40}", value=outcome.result) if outcome.error is None else
           tr("your function raised {error}", error=describe_error(outcome.error)))
    missing = tr("closed or unlinked") if left and unclosed else tr("unlinked") if left else tr("closed")
    return tr("when a task failed (this check made the pool call raise, as a task's error would; {how}), the "
              "segment was not {missing}: put view = None, shm.close() and shm.unlink() in a finally block, which "
              "runs whatever happens (this check cleaned up after it)", how=how, missing=missing)


def _dead_view_note(names: list[str]) -> str:
    shown = ", ".join(f"`{n}`" for n in names)
    return tr("{names} was a numpy view of a shared memory segment that has been closed: numpy does not keep "
              "that memory mapped, so reading it would crash the kernel. This check removed {names} from the "
              "notebook. Drop views before close(): `view = None`, then shm.close()", names=shown)


@remembers_rejections("shared_row_sums")
def check_row_sums(shared_row_sums: Any, *, timeout: float = TIMEOUT) -> Feedback:
    """Exercise 3: ``shared_row_sums(data)`` returns the row sums, computed by pool workers that read the
    rows from a shared memory segment by name, which is closed and unlinked at the end."""
    dropped = drop_dead_views()  # before anything else can touch them
    if is_placeholder(shared_row_sums) or is_untouched(shared_row_sums):
        if dropped:
            return failed(tr("{note}. Then write your code inside shared_row_sums(data)",
                             note=_dead_view_note(dropped)))
        return not_attempted(tr("write shared_row_sums(data): sums from pool workers that attach by name"))
    if not callable(shared_row_sums):
        return not_a_function("shared_row_sums", shared_row_sums)
    note = tr(" Also: {note}.", note=_dead_view_note(dropped)) if dropped else ""
    for data in ARRAYS:
        problem = _attempt(shared_row_sums, data, timeout)
        if problem:
            return failed(problem + note)
    problem = _failing_attempt(shared_row_sums, ARRAYS[0], timeout)
    if problem:
        return failed(problem + note)
    return passed(tr("right sums, in row order, for two arrays of the check's own: pool workers read the rows from "
                     "a shared memory segment by name, and the segment was closed and unlinked, also when a task "
                     "failed{note}", note=note))
