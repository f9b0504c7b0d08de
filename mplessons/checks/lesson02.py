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
from . import Feedback, failed, is_placeholder, not_attempted, passed, remembers_rejections
from . import processes as diagnose
from .bounded import Outcome, call_bounded, describe_error, never_raises
from .observe import Context

IO_SECONDS = 0.2
"""Each ``fetch(value)`` of exercise 1 waits at least this long, as a download would."""

STAGGER = 0.04
"""...and each earlier value this much longer than the next, so the first value finishes last."""

IO_VALUES = ["a", "b", "c", "d", "e"]
CPU_SIZES = [2_400_000, 600_000]  # the first job is the longest, so a shared Queue returns them reversed
TIME_LIMIT = 30.0
CPU_EXAMPLE = "ctx.Process(target=cubic_sum_to_queue, args=(q, n))"


def _function_problem(fn: Any, what: str) -> Feedback | None:
    if is_placeholder(fn):
        return not_attempted(tr("define {what} in the cell above and run it, then run this check", what=what))
    if not callable(fn):
        return failed(tr("{what} should be a function (a def with that name), got {kind} {value!r:.60}",
                         what=what, kind=type(fn).__name__, value=fn))
    return None


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
        self.begun = 0
        self.thread_errors: list[BaseException] = []

    def make(self) -> Callable[[Any], Any]:
        def fetch(value: Any) -> Any:
            """Wait like a download of ``value``, then return it."""
            start = time.perf_counter()
            self.begun += 1
            time.sleep(self.waits.get(value, IO_SECONDS))
            self.calls.append((threading.get_ident(), value, start, time.perf_counter()))
            return value

        return fetch

    def state(self) -> tuple[int, int]:
        return self.begun, len(self.calls)

    def record_thread_error(self, args: Any) -> None:  # threading.excepthook
        self.thread_errors.append(args.exc_value)


def _threads_verdict(outcome: Outcome, fetches: _Fetches, values: list[Any]) -> str | None:
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
    if len(fetches.calls) < len(values):
        return tr("fetch was called {calls} times for {count} values: each thread should run fetch(value) for one "
                  "value", calls=len(fetches.calls), count=len(values))
    problem = _compare(outcome.result, list(values), values)
    if problem:
        return problem
    starts, ends = [c[2] for c in fetches.calls], [c[3] for c in fetches.calls]
    if max(starts) >= min(ends):
        return tr("the {count} waits did not all overlap ({seconds:.2f} s in all): a thread was started only after "
                  "another had finished. Start every thread before you join any of them.", count=len(values),
                  seconds=outcome.wall)
    return None


@remembers_rejections("run_in_threads")
@never_raises
def check_io_threads(fn: Any) -> Feedback:
    """Exercise 1: ``fn(fetch, values)`` runs ``fetch(v)`` for each value in its own thread, results in order."""
    problem = _function_problem(fn, "run_in_threads")
    if problem is not None:
        return problem
    values = list(IO_VALUES)
    fetches = _Fetches(values)
    before, threading.excepthook = threading.excepthook, fetches.record_thread_error
    try:
        outcome = call_bounded(fn, (fetches.make(), list(values)), TIME_LIMIT, state=fetches.state)
    finally:
        threading.excepthook = before
    message = _threads_verdict(outcome, fetches, values)
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
    problem = _function_problem(fn, "cubic_sums_in_processes")
    if problem is not None:
        return problem
    sizes = list(CPU_SIZES if sizes is None else sizes)
    cpu_needed = time.process_time()
    expected = [cubic_sum(n) for n in sizes]
    cpu_needed = time.process_time() - cpu_needed
    ctx = Context(context(start_method), cap=TIME_LIMIT, join_cap=TIME_LIMIT)
    try:
        outcome = call_bounded(fn, (ctx, list(sizes)), TIME_LIMIT, state=ctx.state)
        message = (diagnose.creation_problem(ctx) or diagnose.start_problem(ctx, len(sizes), CPU_EXAMPLE)
                   or diagnose.outcome_problem(outcome, "cubic_sums_in_processes", TIME_LIMIT)
                   or (not ctx.processes and _cpu_problem(outcome, cpu_needed)) or diagnose.no_process_problem(ctx)
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
