"""Self-checks for lesson 02 (processes vs threads): each calls the student's function and says what is wrong."""

from __future__ import annotations

import time
from typing import Any

from ..workloads import cubic_sum
from . import Feedback, failed, is_placeholder, not_attempted, passed

IO_SECONDS = 0.2
"""Each I/O task of exercise 1 waits this long: ``sleep_then_return(IO_SECONDS, value)``."""

IO_VALUES = ["a", "b", "c", "d", "e"]
CPU_SIZES = [1_200_000, 300_000]  # the first job is the longest, so a shared Queue returns them reversed


def _call(fn: Any, what: str, *args: Any) -> tuple[Any, float, float, Feedback | None]:
    """Run the student's function; return (result, wall seconds, CPU seconds of this process, problem)."""
    if is_placeholder(fn):
        return None, 0.0, 0.0, not_attempted(f"define {what} in the cell above and run it, then run this check")
    if not callable(fn):
        return None, 0.0, 0.0, failed(f"{what} should be a function, got {type(fn).__name__} {fn!r:.60}")
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        result = fn(*args)
    except Exception as exc:  # noqa: BLE001 - the student's error is the feedback
        return None, 0.0, 0.0, failed(f"{what} raised {type(exc).__name__}: {exc}")
    return result, time.perf_counter() - wall, time.process_time() - cpu, None


def _compare(got: Any, expected: list[Any], inputs: list[Any]) -> Feedback | None:
    """The usual result mistakes: not a list, missing values (None), wrong values, right values out of order."""
    if not isinstance(got, (list, tuple)):
        return failed(f"expected a list of {len(expected)} results, got {type(got).__name__} {got!r:.80}")
    got = list(got)
    if got and all(g is None for g in got):
        return failed("every result is None: a Thread or Process discards its target's return value. "
                      "Collect results yourself (a queue, or a list you fill by position), or use an executor.")
    if len(got) != len(expected):
        return failed(f"expected {len(expected)} results (one per input {inputs!r:.60}), got {len(got)}")
    if got == expected:
        return None
    if sorted(map(repr, got)) == sorted(map(repr, expected)):
        return failed(f"results are out of order: got {got!r:.120} for inputs {inputs!r:.60}. Results must come "
                      f"back in input order, but they were collected in the order the tasks finished (a shared "
                      f"queue does that): keep each result at its input's position.")
    wrong = next(i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e)
    return failed(f"result {wrong} (input {inputs[wrong]!r:.40}) is {got[wrong]!r:.60}, "
                  f"expected {expected[wrong]!r:.60}")


def check_io_threads(fn: Any) -> Feedback:
    """Exercise 1: ``fn(values)`` runs ``sleep_then_return(IO_SECONDS, v)`` for each value in threads."""
    result, wall, _, problem = _call(fn, "run_in_threads", list(IO_VALUES))
    if problem is not None:
        return problem
    problem = _compare(result, list(IO_VALUES), IO_VALUES)
    if problem is not None:
        return problem
    serial = IO_SECONDS * len(IO_VALUES)
    if wall >= 0.75 * serial:
        return failed(f"the {len(IO_VALUES)} waits took {wall:.2f} s, as long as running them one after another "
                      f"({serial:.2f} s): start every thread before you join any of them.")
    return passed(f"{len(IO_VALUES)} results in input order in {wall:.2f} s (one after another: {serial:.2f} s). "
                  f"Waiting releases the GIL, so threads overlap their waits.")


def check_cpu_processes(fn: Any, sizes: list[int] | None = None) -> Feedback:
    """Exercise 2: ``fn(ns)`` computes ``[cubic_sum(n) for n in ns]`` in child processes, in input order.

    A serial or threaded answer does the work in this process, which shows in this process's CPU time.
    """
    sizes = list(CPU_SIZES if sizes is None else sizes)
    cpu_needed = time.process_time()
    expected = [cubic_sum(n) for n in sizes]
    cpu_needed = time.process_time() - cpu_needed
    result, wall, cpu, problem = _call(fn, "cubic_sums_in_processes", sizes)
    if problem is not None:
        return problem
    problem = _compare(result, expected, sizes)
    if problem is not None:
        return problem
    if cpu >= 0.5 * cpu_needed:
        return failed(f"the sums were computed in this process (it used {cpu:.2f} s of CPU; the sums need about "
                      f"{cpu_needed:.2f} s): calling cubic_sum here, or in threads, does not use other cores. Start "
                      f"ctx.Process(target=cubic_sum_to_queue, args=(q, n)) for each n.")
    return passed(f"{len(sizes)} sums in input order, computed in child processes ({wall:.2f} s; this process "
                  f"only used {cpu:.2f} s of CPU).")
