"""Self-checks for lesson 05 (locks and races): each says what is wrong, not just False."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from multiprocessing.process import BaseProcess
from typing import Any

from ..errors import InteractiveFunctionError
from ..guard import check_worker
from ..machine import context
from . import Feedback, failed, is_placeholder, not_attempted, passed


def check_race_fixed(final: Any, processes: Any, expected: int) -> Feedback:
    """Exercise 1: two or more processes added to one counter and no update was lost."""
    if is_placeholder(final):
        return not_attempted("set `final` to counter.value after your processes have finished")
    if isinstance(final, bool) or not isinstance(final, int):
        return failed(f"`final` should be the counter's value (an int), got {type(final).__name__}: "
                      f"use counter.value")
    if not isinstance(processes, Sequence) or not all(isinstance(p, BaseProcess) for p in processes):
        return failed("`processes` should be the list of Process objects you started")
    if len(processes) < 2:
        return failed(f"you used {len(processes)} process(es): a race needs two. Start two processes on the same "
                      f"counter (a serial answer cannot lose updates, nor show that a lock works)")
    for p in processes:
        try:
            alive = p.is_alive()
        except (ValueError, AssertionError):
            alive = False
        if alive or p.exitcode is None:
            return failed(f"{p.name} has not finished: start() and join() every process before reading the counter")
        if p.exitcode != 0:
            return failed(f"{p.name} failed with exitcode {p.exitcode}: check the args you passed")
    if final < expected:
        return failed(f"lost {expected - final:,} of {expected:,} updates: `counter.value += 1` reads, then writes, "
                      f"and the other process can write in between. Hold one lock, passed to both processes "
                      f"(or counter.get_lock()), around each +=")
    if final > expected:
        return failed(f"the counter is {final:,}, more than the {expected:,} expected: did the counter start at 0, "
                      f"and did you start only the processes you meant to?")
    return passed(f"no update lost: {final:,} of {expected:,}, from {len(processes)} processes")


def _after_barrier(start_line: Any, fn: Callable[..., Any], *args: Any) -> None:
    """Wait until both processes are running, then call ``fn``: a race needs them to overlap."""
    start_line.wait(timeout=60)
    fn(*args)


def _run_twice(fn: Callable[..., Any], times: int, start_method: str | None) -> tuple[int, list[int | None]]:
    ctx = context(start_method)
    counter = ctx.Value("i", 0)
    start_line = ctx.Barrier(2)
    processes = [ctx.Process(target=_after_barrier, args=(start_line, fn, counter, 1, times)) for _ in range(2)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=30)
    for p in processes:
        if p.is_alive():  # never leave a stuck worker behind
            p.kill()
            p.join()
    return counter.value, [p.exitcode for p in processes]


def check_safe_add(fn: Any, *, times: int = 50_000, start_method: str | None = None) -> Feedback:
    """Exercise 2: run the student's ``fn(counter, amount, times)`` in two processes at once; nothing may be lost."""
    if is_placeholder(fn):
        return not_attempted("write safe_add(counter, amount, times) in a %%worker_module cell")
    if not callable(fn):
        return failed(f"`safe_add` should be a function, got {type(fn).__name__}")
    try:
        check_worker(fn, start_method)
    except InteractiveFunctionError:
        return failed("child processes cannot import `safe_add` (a lambda, a nested function, or one defined in a "
                      "plain notebook cell): define it at the top level of a cell that starts with "
                      "%%worker_module NAME")
    except TypeError as exc:
        return failed(f"`safe_add` cannot be sent to a child process: {exc}")
    value, exitcodes = _run_twice(fn, times, start_method)
    if any(code != 0 for code in exitcodes):
        return failed(f"a process running safe_add ended with exitcode {exitcodes}: call it as "
                      f"safe_add(counter, 1, 10) in a cell to see the error")
    expected = 2 * times
    if value < expected:
        return failed(f"lost {expected - value:,} of {expected:,} updates when two processes ran safe_add at once: "
                      f"hold counter.get_lock() around each `counter.value += amount`")
    if value > expected:
        return failed(f"the counter reached {value:,}, expected {expected:,}: add `amount` exactly `times` times")
    return passed(f"two processes each added 1 {times:,} times and the counter reached {expected:,}: nothing lost")
