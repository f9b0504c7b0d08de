"""Self-checks for lesson 05 (locks and races): each says what is wrong, not just False.

Both exercises are functions that the check runs itself. Exercise 1's ``locked_count`` is watched while it
starts and joins its processes (:mod:`.watch`): two processes run one after the other lose nothing but
show nothing either, and a value read before the joins is not the count (the check's counter starts at
``START``, not 0, so a function that returns ``2 * times`` instead of reading it shows). Exercise 2's
``safe_add`` runs in two processes started together (:mod:`.lesson05_safe_add`).
"""

from __future__ import annotations

import threading
from typing import Any

from ..i18n import tr
from ..lessons_locks import add_many, add_many_get_lock
from ..machine import context
from . import Feedback, code_names, failed, is_placeholder, not_a_function, not_attempted, passed, remembers_rejections
from .bounded import call_bounded, describe_error
from .lesson05_safe_add import check_safe_add
from .watch import ProcessWatch, Started, is_untouched

__all__ = ["check_race_fixed", "check_safe_add"]

TIMEOUT = 60.0
START = 1_000
"""Exercise 1: the check's counter starts here, not at 0, so that returning ``2 * times`` (the count it should
reach) instead of ``counter.value`` shows."""
_THREAD_LOCKS = (type(threading.Lock()), type(threading.RLock()))
DELIBERATE_GAP = 0.5
"""Seconds between the two start() calls beyond which the student's code, not a busy machine, kept them apart."""


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


def _processes_problem(watch: ProcessWatch, unjoined: list[Started], counter: Any, times: int,
                       locked_count: Any) -> str | None:
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
    shares = [p.argument(1, "times") for p in counting if p.target is not add_many]
    if any(share != times for share in shares):
        return tr("your processes were given times={shares}: each of the two should add `times` ({times:,}) "
                  "times, so that both really update the counter at once", shares=shares, times=times)
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
    if first in second.ended_before and _waited_between_starts(locked_count, first, second):
        return tr("your first process had already finished when you started the second (a sleep, or other work, "
                  "between the two start() calls), so they never ran at the same time and there was no race to "
                  "fix. Start both, one right after the other, then join both")
    return None


def _waited_between_starts(locked_count: Any, first: Started, second: Started) -> bool:
    """Whether the student's code put time between the two start() calls (a sleep, a wait for the first, a long
    gap), rather than the machine: on a busy one the first of two processes started back to back can finish
    20,000 quick additions before the second start() returns, and that is no mistake of the answer."""
    if code_names(locked_count) & {"sleep", "is_alive", "wait", "sentinel"}:
        return True
    gap = (second.started_at or 0.0) - (first.started_at or 0.0)
    return gap >= DELIBERATE_GAP


def _count_problem(value: Any, counter: Any, added: int) -> str | None:
    """``added``: what the two processes should have added to the check's counter, which starts at START."""
    if value is None:
        return tr("locked_count returned None: return counter.value once both processes have finished")
    if isinstance(value, bool) or not isinstance(value, int):
        return tr("locked_count should return the counter's value (an int), got {kind}: counter.value",
                  kind=type(value).__name__)
    final = counter.get_obj().value  # without the lock, which a stopped process may still hold
    if value == added and final == START + added:
        return tr("locked_count returned {value:,}, but the counter is {final:,} (the check's counter started at "
                  "{start:,}): you returned 2 * times, what the count should be, instead of reading it. Return "
                  "counter.value", value=value, final=final, start=START)
    expected = added if final == value == added else START + added  # a counter reset to 0 first is fine too
    if value < final:
        return tr("locked_count returned {value:,}, but the counter reached {final:,} later: you read "
                  "counter.value before the processes had finished. Join both, then read it", value=value, final=final)
    if final < expected:
        return tr("lost {lost:,} of {expected:,} updates: `counter.value += 1` reads, then writes, and the other "
                  "process can write in between. Hold one lock, passed to both processes, around each +=",
                  lost=expected - final, expected=added)
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
        return not_a_function("locked_count", locked_count)
    counter = context(start_method).Value("i", START)
    with ProcessWatch() as watch:
        outcome = call_bounded(locked_count, (counter, times), timeout)
    unjoined = watch.finish()
    if not outcome.finished:
        return failed(tr("locked_count did not return within {timeout:g} s: is a process waiting for a lock that is "
                         "never released? (this check stopped its processes)", timeout=timeout))
    if outcome.error is not None:
        return failed(tr("locked_count raised {error}{hint}", error=describe_error(outcome.error),
                         hint=_error_hint(outcome.error)))
    problem = (_processes_problem(watch, unjoined, counter, times, locked_count)
               or _count_problem(outcome.result, counter, 2 * times))
    if problem:
        return failed(problem)
    return passed(tr("no update lost: {count:,} from 2 processes that ran at the same time with one lock, "
                     "read after both had finished", count=2 * times))
