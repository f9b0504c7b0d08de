"""Self-checks for lesson 02 (processes vs threads): each calls the student's function with inputs of its own
choosing that record what happened (which thread ran each task, when each process started and was joined)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from ..i18n import tr
from ..machine import context
from ..workloads import cubic_sum
from . import Feedback, failed, function_problem, passed, remembers_rejections
from . import processes as diagnose
from .bounded import Outcome, call_bounded, describe_error, never_raises
from .observe import Context
from .watch import ProcessWatch

IO_SECONDS = 0.2
"""Each ``fetch(value)`` of exercise 1 waits at least this long, as a download would."""

STAGGER = 0.04
"""...and each earlier value this much longer than the next, so the first value finishes last."""

IO_VALUES = ["page-a", "page-b", "page-c", "page-d", "page-e"]
"""Strings of more than one character: a copy of one is a new object, so the check can tell by identity a
result that fetch returned from one made here (single characters are shared objects in CPython)."""
CPU_SIZES = [2_400_000, 300_000, 1_200_000]
"""The longest job first, so a shared queue returns them in another order; not sorted either way, so that
results sorted by value instead of placed by position cannot pass by luck."""
TIME_LIMIT = 30.0
SLEPT_AFTER = 0.15
"""Exercise 1: seconds between the last fetch's end and the return of a function that joined none of its
threads, beyond which it waited by a sleep (a wait on the results themselves returns within milliseconds)."""
CPU_EXAMPLE = "ctx.Process(target=cubic_sum_to_queue, args=(q, n))"


def _compare(got: Any, expected: list[Any], inputs: list[Any]) -> str | None:
    """The usual result mistakes: not a list, missing values (None), wrong values, right values out of order."""
    if not isinstance(got, (list, tuple)):
        return tr("expected a list of {count} results, got {kind} {value!r:.80}",
                  count=len(expected), kind=type(got).__name__, value=got)
    got = list(got)
    if got and all(g is None for g in got):
        return tr("every result is None: a Thread or Process discards its target's return value. Collect results "
                  "yourself (a queue, or a list you fill by position), or use an executor.")
    if len(got) != len(expected):
        return tr("expected {expected} results (one per input {inputs!r:.60}), got {got}",
                  expected=len(expected), inputs=inputs, got=len(got))
    if got == expected:
        return None
    if sorted(map(repr, got)) == sorted(map(repr, expected)):
        return tr("results are out of order: got {got!r:.120} for inputs {inputs!r:.60}. Results must come back in "
                  "input order, but they were collected in the order the tasks finished (a shared queue does "
                  "that): keep each result at its input's position.", got=got, inputs=inputs)
    wrong = next(i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e)
    return tr("result {index} (input {input!r:.40}) is {got!r:.60}, expected {expected!r:.60}",
              index=wrong, input=inputs[wrong], got=got[wrong], expected=expected[wrong])


# --- exercise 1: threads for waiting ----------------------------------------------------------------------


class _Fetches:
    """A ``fetch(value)`` for the student's threads: it waits like a download and records who ran it, when."""

    def __init__(self, values: list[Any]) -> None:
        last = len(values) - 1
        self.waits = {v: IO_SECONDS + STAGGER * (last - i) for i, v in enumerate(values)}
        self.calls: list[tuple[int, Any, float, float]] = []  # (thread id, value, start, end)
        self.returned: list[Any] = []  # what each call returned: an equal copy of its value, a new object
        self.runners: list[threading.Thread] = []  # the thread of each call (kept: a finished one's ident is reused)
        self.begun = 0
        self.thread_errors: list[BaseException] = []

    def make(self) -> Callable[[Any], Any]:
        def fetch(value: Any) -> Any:
            """Wait like a download of ``value``, then return it."""
            start = time.perf_counter()
            self.begun += 1
            time.sleep(self.waits.get(value, IO_SECONDS))
            page = "".join([value[:1], value[1:]]) if isinstance(value, str) else value  # equal, not the same
            self.returned.append(page)
            self.runners.append(threading.current_thread())
            self.calls.append((threading.get_ident(), value, start, time.perf_counter()))
            return page

        return fetch

    def state(self) -> tuple[int, int]:
        return self.begun, len(self.calls)

    def record_thread_error(self, args: Any) -> None:  # threading.excepthook
        self.thread_errors.append(args.exc_value)


def _thread_count(fetches: _Fetches) -> int:
    return len({id(t) for t in fetches.runners})


def _after_return_problem(fetches: _Fetches, running: int, watch: ProcessWatch, returned_at: float) -> str | None:
    """Results read before the threads were done (still running at the return), or threads waited for by a
    sleep: never joined, and the function returned well after the last fetch had ended. (Never joined but
    returned at once, as after q.get() of every result, is a real wait: accepted.)"""
    if running:
        return tr("run_in_threads returned while {running} of the fetch calls were still running, so their results "
                  "were not there yet: join() every thread before you read the results", running=running)
    ran_fetch = {c[0] for c in fetches.calls}
    unjoined = [t for t in watch.threads if t.started is not None and t.joined is None and t.obj.ident in ran_fetch]
    idle = returned_at - max((c[3] for c in fetches.calls), default=returned_at)
    if unjoined and idle > SLEPT_AFTER:
        return tr("you never joined {count} of your threads, and returned {idle:.2f} s after the last fetch had "
                  "ended: a sleep let them finish first here, but on a busy machine their results would be missing. "
                  "join() every thread: it waits exactly until the thread is done", count=len(unjoined), idle=idle)
    return None


def _not_fetched_problem(got: Any, fetches: _Fetches) -> str | None:
    """Results equal to the values but not the objects fetch returned: made here (``list(values)``)."""
    if not isinstance(got, (list, tuple)):
        return None
    strangers = [i for i, g in enumerate(got) if isinstance(g, str) and not any(g is r for r in fetches.returned)]
    if not strangers:
        return None
    return tr("the results at positions {positions} are not what fetch returned: they were made here (a copy of "
              "values?), and fetch's return values were thrown away. Keep what each fetch(value) returns",
              positions=strangers)


def _threads_verdict(outcome: Outcome, fetches: _Fetches, values: list[Any], running: int,
                     watch: ProcessWatch, returned_at: float) -> str | None:
    here = [c for c in fetches.calls if c[0] == outcome.thread_id]
    if here:
        return tr("fetch ran {here} of {calls} times in the thread that called run_in_threads, one call after "
                  "another, so nothing overlapped. `threading.Thread(target=fetch(v))` (or "
                  "`target=results.append(fetch(v))`) calls fetch at once, here, and gives Thread its return value "
                  "as the target; t.run() also runs it here. Pass the function and its arguments, "
                  "threading.Thread(target=work, args=(i, v)), and call start()", here=len(here),
                  calls=len(fetches.calls))
    if not outcome.finished:
        waited = (tr("has waited {seconds:.0f} s with no fetch running", seconds=outcome.wall) if outcome.stalled
                  else tr("did not return within {limit:g} s", limit=TIME_LIMIT))
        return tr("run_in_threads {waited}: something waits forever, e.g. q.get() on a queue no thread puts on "
                  "(was every thread started with start()?)", waited=waited)
    if outcome.error is not None:
        hint = ""
        if "start" in str(outcome.error):
            hint = tr(": start() each thread once, and only then join() it")
        return tr("run_in_threads raised {error}{hint}", error=describe_error(outcome.error), hint=hint)
    if fetches.thread_errors:
        return tr("a thread raised {error}: its target must be a function it can call",
                  error=describe_error(fetches.thread_errors[0]))
    problem = _after_return_problem(fetches, running, watch, returned_at)
    if problem:
        return problem
    if len(fetches.calls) < len(values):
        return tr("fetch was called {calls} times for {count} values: each thread should run fetch(value) for one "
                  "value", calls=len(fetches.calls), count=len(values))
    problem = _compare(outcome.result, list(values), values) or _not_fetched_problem(outcome.result, fetches)
    if problem:
        return problem
    starts, ends = [c[2] for c in fetches.calls], [c[3] for c in fetches.calls]
    if max(starts) >= min(ends) and _thread_count(fetches) < len(values):
        return tr("fetch ran in only {threads} thread(s) for {count} values, so each of them ran several fetches "
                  "one after another ({seconds:.2f} s in all): start one thread per value",
                  threads=_thread_count(fetches), count=len(values), seconds=outcome.wall)
    if max(starts) >= min(ends):
        return tr("the {count} waits did not all overlap ({seconds:.2f} s in all): a thread was started only after "
                  "another had finished. Start every thread before you join any of them.", count=len(values),
                  seconds=outcome.wall)
    return None


def _let_threads_end(watch: ProcessWatch) -> None:
    """Wait (briefly) for the student's threads that are still running, so that none outlives the check's
    excepthook and none is left behind in the kernel."""
    deadline = time.perf_counter() + 2 * (IO_SECONDS + STAGGER * len(IO_VALUES))
    for t in watch.threads:
        if t.started is not None and t.obj.is_alive():
            t.obj.join(max(0.0, deadline - time.perf_counter()))


@remembers_rejections("run_in_threads")
@never_raises
def check_io_threads(fn: Any) -> Feedback:
    """Exercise 1: ``fn(fetch, values)`` runs ``fetch(v)`` for each value in its own thread, results in order."""
    problem = function_problem(fn, "run_in_threads")
    if problem is not None:
        return problem
    values = list(IO_VALUES)
    fetches = _Fetches(values)
    before, threading.excepthook = threading.excepthook, fetches.record_thread_error
    try:
        returned = [0.0]

        def timed(*args: Any) -> Any:
            try:
                return fn(*args)
            finally:
                returned[0] = time.perf_counter()
                returned.append(fetches.begun - len(fetches.calls))  # fetch calls begun and not yet ended

        with ProcessWatch() as watch:
            outcome = call_bounded(timed, (fetches.make(), list(values)), TIME_LIMIT, state=fetches.state)
        _let_threads_end(watch)  # the join() recorder is gone: the check's own join is not the student's
    finally:
        threading.excepthook = before
    running = returned[1] if len(returned) > 1 else 0
    message = _threads_verdict(outcome, fetches, values, running, watch, returned[0])
    if message:
        return failed(message)
    serial = sum(fetches.waits.values())
    return passed(tr("{count} results in input order in {seconds:.2f} s (one after another: {serial:.2f} s). "
                     "Waiting releases the GIL, so threads overlap their waits.", count=len(values),
                     seconds=outcome.wall, serial=serial))


# --- exercise 2: processes for computing ------------------------------------------------------------------


def _cpu_problem(outcome: Outcome, cpu_needed: float) -> str | None:
    if outcome.cpu >= 0.5 * cpu_needed:
        return tr("the sums were computed in this process (it used {cpu:.2f} s of CPU; the sums need about "
                  "{needed:.2f} s): calling cubic_sum here, or in threads, does not use other cores. Start "
                  "{example} for each n.", cpu=outcome.cpu, needed=cpu_needed, example=CPU_EXAMPLE)
    return None


@remembers_rejections("cubic_sums_in_processes")
@never_raises
def check_cpu_processes(fn: Any, sizes: list[int] | None = None, start_method: str | None = None) -> Feedback:
    """Exercise 2: ``fn(ctx, ns)`` computes ``[cubic_sum(n) for n in ns]`` in child processes that run at once.

    The check's ``ctx`` records when each process was started and joined and each result read, so it sees a
    serial answer in children (start, get, join, next) as surely as a serial answer here, which shows in this
    process's CPU time.
    """
    problem = function_problem(fn, "cubic_sums_in_processes")
    if problem is not None:
        return problem
    sizes = list(CPU_SIZES if sizes is None else sizes)
    cpu_needed = time.process_time()
    expected = [cubic_sum(n) for n in sizes]
    cpu_needed = time.process_time() - cpu_needed
    ctx = Context(context(start_method), cap=TIME_LIMIT, join_cap=TIME_LIMIT)
    try:
        outcome = call_bounded(fn, (ctx, list(sizes)), TIME_LIMIT, state=ctx.state)
        message = (diagnose.creation_problem(ctx) or diagnose.foreign_queue_problem(ctx)
                   or diagnose.start_problem(ctx, len(sizes), CPU_EXAMPLE)
                   or diagnose.outcome_problem(outcome, "cubic_sums_in_processes", TIME_LIMIT, ctx)
                   or (not ctx.processes and _cpu_problem(outcome, cpu_needed)) or diagnose.no_process_problem(ctx)
                   or diagnose.put_here_problem(ctx, CPU_EXAMPLE)
                   or diagnose.not_from_queue_problem(ctx, outcome.result, expected)
                   or _compare(outcome.result, expected, sizes)
                   or diagnose.order_problem(ctx) or diagnose.drain_problem(ctx) or diagnose.join_problem(ctx)
                   or (cpu_needed >= 0.1 and _cpu_problem(outcome, cpu_needed)))
    finally:
        ctx.cleanup()
    if message:
        return failed(message)
    return passed(tr("{count} sums in input order, computed in {count} child processes that ran at the same "
                     "time ({seconds:.2f} s; this process only used {cpu:.2f} s of CPU).", count=len(sizes),
                     seconds=outcome.wall, cpu=outcome.cpu))
