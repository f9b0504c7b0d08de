"""Lesson 05, exercise 2: ``safe_add(counter, amount, times)``, run by the check in two processes at once.

The counter the check hands it pauses on every read (:class:`SlowReadCounter`), so that an update not held
under the lock from read to write is lost on every run, not by luck, and it tallies the writes and the times
its lock was taken: one big addition, or a lock held around the whole loop (the processes took turns), shows
there, by count rather than by timing (which lock a waiting process gets next is up to the OS). Which lock
``safe_add`` takes is read from its code, since a lock made inside the function, or at the top of its
module, can look right on one start method and lose updates on another.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from multiprocessing import synchronize
from multiprocessing.context import assert_spawning
from multiprocessing.sharedctypes import Synchronized
from typing import Any

from ..errors import InteractiveFunctionError
from ..guard import check_worker
from ..i18n import tr
from ..machine import context
from . import Feedback, code_names, failed, is_placeholder, not_a_function, not_attempted, passed, remembers_rejections
from .watch import stop_process

AMOUNT = 3  # safe_add must add `amount`, not 1
_THREAD_LOCKS = (type(threading.Lock()), type(threading.RLock()))

READ_PAUSE = 50e-6  # seconds a read of the check's counter takes; a race then shows on every run


class _TallyingLock:
    """The counter's lock as ``counter.get_lock()`` hands it out: each time it is taken counts in the tally."""

    def __init__(self, lock: Any, tally: Any) -> None:
        self._lock = lock
        self._tally = tally

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        taken = self._lock.acquire(block, timeout) if timeout is not None else self._lock.acquire(block)
        if taken:
            self._tally[1] += 1  # under the lock, so the two processes never add at once
        return taken

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class SlowReadCounter(Synchronized):
    """A shared ``Value('i')`` whose every read pauses a moment before it returns, like a computation.

    Two processes that run ``counter.value += amount`` without holding the lock across it then interleave
    between the read and the write on every run, even on one busy core, so an unlocked update is lost for
    sure, not by luck; one that holds ``counter.get_lock()`` across both makes the other wait, and loses
    nothing. It is pickled to spawn and forkserver children as itself. ``tally`` (a shared array of two
    ints) counts the writes made through ``.value`` and the times the student's code took the lock
    (``get_lock()``, ``acquire()``, ``with counter:``): one big addition instead of ``times`` small ones shows
    in the first, a lock held around the whole loop (several writes under one taking) in the second.
    """

    def __init__(self, obj: Any, lock: Any, tally: Any) -> None:
        super().__init__(obj, lock)
        self._tally = tally  # writes, times the student's code took the lock
        self._student_lock = _TallyingLock(lock, tally)
        self.acquire = self._student_lock.acquire
        self.release = self._student_lock.release

    def get_lock(self) -> _TallyingLock:
        return self._student_lock

    def __enter__(self) -> bool:
        return self._student_lock.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self._student_lock.release()

    @property
    def writes(self) -> int:
        return self._tally[0]

    @property
    def lock_takings(self) -> int:
        return self._tally[1]

    @property
    def value(self) -> int:
        with self._lock:
            value = self._obj.value
        time.sleep(READ_PAUSE)
        return value

    @value.setter
    def value(self, new: int) -> None:
        with self._lock:
            self._obj.value = new
            self._tally[0] += 1

    def __reduce__(self) -> tuple[Any, ...]:
        assert_spawning(self)
        return SlowReadCounter, (self._obj, self._lock, self._tally)


def _after_barrier(start_line: Any, fn: Callable[..., Any], *args: Any) -> None:
    """Wait until both processes are running, then call ``fn``: a race needs them to overlap."""
    start_line.wait(timeout=60)
    fn(*args)


def _run_twice(fn: Callable[..., Any], times: int, start_method: str | None,
               timeout: float) -> tuple[int, list[int | None], bool, SlowReadCounter]:
    """Run ``fn(counter, AMOUNT, times)`` in two processes at once; (counter's value, exitcodes, whether one
    hung, the counter itself: its tally of writes)."""
    ctx = context(start_method)
    counter = SlowReadCounter(ctx.RawValue("i", 0), ctx.RLock(), ctx.RawArray("q", 2))
    start_line = ctx.Barrier(2)
    processes = [ctx.Process(target=_after_barrier, args=(start_line, fn, counter, AMOUNT, times))
                 for _ in range(2)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=timeout)
    hung = any(p.is_alive() for p in processes)
    exitcodes = [p.exitcode for p in processes]
    for p in processes:
        stop_process(p, 0)  # never leave a stuck worker behind
    # read without the lock: a killed process may still hold it
    return counter.get_obj().value, exitcodes, hung, counter


def _lock_problem(fn: Any) -> str | None:
    """Which lock ``safe_add`` takes, from its code: one made per call, or one made at module import."""
    names = code_names(fn)
    if names & {"Lock", "RLock", "Semaphore", "BoundedSemaphore"}:
        return tr("safe_add makes a new lock every time it runs, so each process holds a lock of its own, which "
                  "protects nothing. Use the counter's own lock: `with counter.get_lock():`")
    for name in sorted(names):
        value = getattr(fn, "__globals__", {}).get(name)
        if isinstance(value, _THREAD_LOCKS):
            return tr("`{name}` is a threading lock: it coordinates the threads of one process, not two "
                      "processes. Use the counter's own lock: `with counter.get_lock():`", name=name)
        if isinstance(value, synchronize.SemLock):
            return tr("`{name}` is a lock made when the module is imported: under spawn and forkserver every child "
                      "imports the module afresh and makes a lock of its own, so it protects nothing there (under "
                      "fork it works only because children are copies of this kernel). Use the counter's own "
                      "lock: `with counter.get_lock():`", name=name)
    return None


def _value_problem(value: int, times: int) -> str | None:
    expected = 2 * AMOUNT * times
    if value == 0:
        return tr("the counter stayed 0: change counter.value (`counter.value += amount`); `counter += amount` "
                  "only rebinds a local name")
    if value == 2 * times:
        return tr("the counter reached {value:,}, expected {expected:,}: the check passed amount={amount}, and "
                  "safe_add added 1 each time. Add `amount`", value=value, expected=expected, amount=AMOUNT)
    if value < expected:
        return tr("lost {lost:,} of {expected:,} updates when two processes ran safe_add at once: hold "
                  "counter.get_lock() around the whole `counter.value += amount`, the read and the write together",
                  lost=expected - value, expected=expected)
    if value > expected:
        return tr("the counter reached {value:,}, expected {expected:,}: add `amount` exactly `times` times",
                  value=value, expected=expected)
    return None


def _granularity_problem(counter: SlowReadCounter, times: int) -> str | None:
    """A right count from one big addition, or from a lock held around the whole loop (the processes took
    turns): fewer takings of the lock than writes, where a lock around each ``+=`` is taken once per write."""
    if 0 < counter.writes < 2 * times:
        return tr("safe_add wrote counter.value {writes} times in the two processes, for 2 × {times:,} "
                  "additions: add `amount`, `times` times, one `counter.value += amount` each (one big addition "
                  "of amount * times skips the race between many small updates that this exercise is about)",
                  writes=counter.writes, times=times)
    if counter.writes >= 2 * times and 0 < counter.lock_takings < counter.writes:
        return tr("the count is right, but the lock was taken {takings:,} times for {writes:,} writes: it was held "
                  "around the whole loop (or several additions), so the two processes took turns instead of "
                  "running side by side. Hold counter.get_lock() around each `counter.value += amount` only "
                  "(section 5: as short as the shared update)", takings=counter.lock_takings, writes=counter.writes)
    return None


@remembers_rejections("safe_add")
def check_safe_add(fn: Any, *, times: int = 2_000, start_method: str | None = None,
                   timeout: float = 30.0) -> Feedback:
    """Exercise 2: run the student's ``fn(counter, amount, times)`` in two processes at once; nothing may be lost."""
    if is_placeholder(fn):
        return not_attempted(tr("write safe_add(counter, amount, times) in a %%worker_module cell"))
    if not callable(fn):
        return not_a_function("safe_add", fn)
    if getattr(fn, "__module__", None) == "__main__" and "<" not in fn.__qualname__:
        return failed(tr("`safe_add` is defined in a plain notebook cell, which child processes cannot import "
                         "under spawn or forkserver (under fork it works only by luck): define it in a cell that "
                         "starts with %%worker_module NAME"))
    try:
        check_worker(fn, "spawn")
    except InteractiveFunctionError:
        return failed(tr("child processes cannot import `safe_add` (a lambda, a nested function, or one defined in "
                         "a plain notebook cell): define it at the top level of a cell that starts with "
                         "%%worker_module NAME"))
    except TypeError as exc:
        return failed(tr("`safe_add` cannot be sent to a child process: {error}", error=exc))
    value, exitcodes, hung, counter = _run_twice(fn, times, start_method, timeout)
    if hung:
        return failed(tr("safe_add was still running after {timeout:g} s in two processes: does it acquire() the "
                         "lock without release()? `with counter.get_lock():` releases it for you (this check "
                         "stopped them)", timeout=timeout))
    if any(code != 0 for code in exitcodes):
        return failed(tr("a process running safe_add ended with exitcode {exitcodes}: call it as "
                         "safe_add(counter, 1, 10) in a cell to see the error", exitcodes=exitcodes))
    problem = _lock_problem(fn) or _value_problem(value, times) or _granularity_problem(counter, times)
    if problem:
        return failed(problem)
    return passed(tr("two processes each added {amount} to the counter {times:,} times, and it reached "
                     "{total:,}: nothing lost", amount=AMOUNT, times=times, total=2 * AMOUNT * times))
