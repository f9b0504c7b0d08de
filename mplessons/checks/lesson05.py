"""Self-checks for lesson 05 (locks and races): each says what is wrong, not just False.

Both exercises are functions that the check runs itself. Exercise 1's ``locked_count`` is watched while it
starts and joins its processes (:mod:`.watch`): two processes run one after the other lose nothing but
show nothing either, and a value read before the joins is not the count. Exercise 2's ``safe_add`` runs in
two processes started together; which lock it takes is read from its code, since a lock made inside the
function, or at the top of its module, can look right on one start method and lose updates on another.
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
from ..lessons_locks import add_many, add_many_get_lock
from ..machine import context
from . import Feedback, failed, is_placeholder, not_attempted, passed, remembers_rejections
from .bounded import call_bounded, describe_error
from .watch import ProcessWatch, Started, is_untouched, stop_process

TIMEOUT = 60.0
AMOUNT = 3  # safe_add must add `amount`, not 1
_THREAD_LOCKS = (type(threading.Lock()), type(threading.RLock()))


def _error_hint(exc: BaseException) -> str:
    text = str(exc)
    if "join a started" in text:
        return tr(": start() both processes before you join() them")
    if "_thread.lock" in text or "_thread.RLock" in text:
        return tr(": a threading.Lock cannot reach another process; make the lock with ctx.Lock()")
    if "fork context" in text:
        return tr(": make the lock from the same context as the processes: ctx.Lock()")
    return ""


def _gets(process: Started, obj: Any) -> bool:
    return any(arg is obj for arg in (*process.args, *process.kwargs.values()))


def _processes_problem(watch: ProcessWatch, unjoined: list[Started], counter: Any) -> str | None:
    """Whether two processes got the counter, ran side by side and were joined; None when so."""
    counting = [p for p in watch.processes if p.started is not None and _gets(p, counter)]
    if not counting:
        if any(_gets(t, counter) for t in watch.threads):
            return tr("you used threads: they share this kernel's process (and its GIL), so this is not the race "
                      "between processes. Start two ctx.Process(target=add_many_locked, args=(counter, times, lock))")
        if any(p.started is not None for p in watch.processes):
            return tr("your processes were not given the counter passed in: args=(counter, times, lock)")
        return tr("no process was started: add_many_locked ran in this kernel. Start two "
                  "ctx.Process(target=add_many_locked, args=(counter, times, lock)), then join both")
    if len(counting) == 1:
        return tr("you used 1 process: a race needs two. Start two processes on the same counter (one process "
                  "cannot lose updates, nor show that a lock works)")
    if len(counting) > 2:
        return tr("you started {count} processes on the counter; the exercise asks for two", count=len(counting))
    never = [p for p in counting if p in unjoined]
    if never:
        return tr("{count} of your processes were never joined, so locked_count returned while they could "
                  "still be counting: join() both before you read counter.value (this check joined them)",
                  count=len(never))
    first, second = sorted(counting, key=lambda p: p.started or 0)
    if first.joined is not None and second.started is not None and second.started > first.joined:
        return tr("your processes ran one after the other: you joined the first before starting the second, so "
                  "they never overlapped and there was no race to fix. Start both, then join both")
    crashed = next((p for p in counting if p.obj.exitcode != 0), None)
    if crashed is not None:
        return tr("{name} failed with exitcode {exitcode}: check the args you passed", name=crashed.name,
                  exitcode=crashed.obj.exitcode)
    if any(p.target is add_many for p in counting):
        return tr("add_many takes no lock, so updates can be lost: run add_many_locked(counter, times, lock) "
                  "with one Lock passed to both processes")
    locks = [p.argument(2, "lock") for p in counting if p.target is not add_many_get_lock]
    if any(isinstance(lock, _THREAD_LOCKS) for lock in locks):
        return tr("a threading.Lock coordinates the threads of one process: each child got a copy of its own, "
                  "which protects nothing. Make the lock with ctx.Lock()")
    if len(locks) == 2 and locks[0] is not locks[1]:
        return tr("each process got a Lock of its own (ctx.Lock() made once per process), and a lock that only "
                  "one process uses protects nothing. Make one lock before the processes and pass that one to both")
    return None


def _count_problem(value: Any, counter: Any, expected: int) -> str | None:
    if value is None:
        return tr("locked_count returned None: return counter.value once both processes have finished")
    if isinstance(value, bool) or not isinstance(value, int):
        return tr("locked_count should return the counter's value (an int), got {kind}: counter.value",
                  kind=type(value).__name__)
    final = counter.get_obj().value  # without the lock, which a stopped process may still hold
    if value < final:
        return tr("locked_count returned {value:,}, but the counter reached {final:,} later: you read "
                  "counter.value before the processes had finished. Join both, then read it", value=value, final=final)
    if final < expected:
        return tr("lost {lost:,} of {expected:,} updates: `counter.value += 1` reads, then writes, and the other "
                  "process can write in between. Hold one lock, passed to both processes, around each +=",
                  lost=expected - final, expected=expected)
    if final > expected or value > final:
        return tr("the counter is {count:,}, more than the {expected:,} expected: did each process add "
                  "`times` times, and did you start only the processes you meant to?", count=max(final, value),
                  expected=expected)
    return None


@remembers_rejections("locked_count")
def check_race_fixed(locked_count: Any, *, times: int = 20_000, start_method: str | None = None,
                     timeout: float = TIMEOUT) -> Feedback:
    """Exercise 1: ``locked_count(counter, times)`` runs two processes at once on ``counter``, with one lock,
    and returns its value once both have finished. The check passes a fresh counter and watches."""
    if is_placeholder(locked_count) or is_untouched(locked_count):
        return not_attempted(tr("write locked_count(counter, times): two processes, one Lock, then counter.value"))
    if not callable(locked_count):
        return failed(tr("`locked_count` should be a function, got {kind}", kind=type(locked_count).__name__))
    counter = context(start_method).Value("i", 0)
    with ProcessWatch() as watch:
        outcome = call_bounded(locked_count, (counter, times), timeout)
    unjoined = watch.finish()
    if not outcome.finished:
        return failed(tr("locked_count did not return within {timeout:g} s: is a process waiting for a lock that is "
                         "never released? (this check stopped its processes)", timeout=timeout))
    if outcome.error is not None:
        return failed(tr("locked_count raised {error}{hint}", error=describe_error(outcome.error),
                         hint=_error_hint(outcome.error)))
    problem = _processes_problem(watch, unjoined, counter) or _count_problem(outcome.result, counter, 2 * times)
    if problem:
        return failed(problem)
    return passed(tr("no update lost: {count:,} from 2 processes that ran at the same time with one lock, "
                     "read after both had finished", count=2 * times))


# --- exercise 2: safe_add(counter, amount, times) ----------------------------------------------------


READ_PAUSE = 50e-6  # seconds a read of the check's counter takes; a race then shows on every run


class SlowReadCounter(Synchronized):
    """A shared ``Value('i')`` whose every read pauses a moment before it returns, like a computation.

    Two processes that run ``counter.value += amount`` without holding the lock across it then interleave
    between the read and the write on every run, even on one busy core, so an unlocked update is lost for
    sure, not by luck; one that holds ``counter.get_lock()`` across both makes the other wait, and loses
    nothing. It is pickled to spawn and forkserver children as itself.
    """

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

    def __reduce__(self) -> tuple[Any, ...]:
        assert_spawning(self)
        return SlowReadCounter, (self._obj, self._lock)


def _after_barrier(start_line: Any, fn: Callable[..., Any], *args: Any) -> None:
    """Wait until both processes are running, then call ``fn``: a race needs them to overlap."""
    start_line.wait(timeout=60)
    fn(*args)


def _run_twice(fn: Callable[..., Any], times: int, start_method: str | None,
               timeout: float) -> tuple[int, list[int | None], bool]:
    """Run ``fn(counter, AMOUNT, times)`` in two processes at once; (counter, exitcodes, whether one hung)."""
    ctx = context(start_method)
    counter = SlowReadCounter(ctx.RawValue("i", 0), ctx.RLock())
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
    return counter.get_obj().value, exitcodes, hung  # without the lock: a killed process may still hold it


def _code_names(fn: Any) -> set[str]:
    """Global and attribute names that ``fn`` (and functions nested in it) use."""
    names: set[str] = set()
    pending = [getattr(fn, "__code__", None)] if hasattr(fn, "__code__") else []
    while pending:
        code = pending.pop()
        names.update(code.co_names)
        pending.extend(c for c in code.co_consts if hasattr(c, "co_names"))
    return names


def _lock_problem(fn: Any) -> str | None:
    """Which lock ``safe_add`` takes, from its code: one made per call, or one made at module import."""
    names = _code_names(fn)
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


@remembers_rejections("safe_add")
def check_safe_add(fn: Any, *, times: int = 2_000, start_method: str | None = None,
                   timeout: float = 30.0) -> Feedback:
    """Exercise 2: run the student's ``fn(counter, amount, times)`` in two processes at once; nothing may be lost."""
    if is_placeholder(fn):
        return not_attempted(tr("write safe_add(counter, amount, times) in a %%worker_module cell"))
    if not callable(fn):
        return failed(tr("`safe_add` should be a function, got {kind}", kind=type(fn).__name__))
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
    value, exitcodes, hung = _run_twice(fn, times, start_method, timeout)
    if hung:
        return failed(tr("safe_add was still running after {timeout:g} s in two processes: does it acquire() the "
                         "lock without release()? `with counter.get_lock():` releases it for you (this check "
                         "stopped them)", timeout=timeout))
    if any(code != 0 for code in exitcodes):
        return failed(tr("a process running safe_add ended with exitcode {exitcodes}: call it as "
                         "safe_add(counter, 1, 10) in a cell to see the error", exitcodes=exitcodes))
    problem = _lock_problem(fn) or _value_problem(value, times)
    if problem:
        return failed(problem)
    return passed(tr("two processes each added {amount} {times:,} times and the counter reached "
                     "{total:,}: nothing lost", amount=AMOUNT, times=times, total=2 * AMOUNT * times))
