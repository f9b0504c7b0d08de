"""Self-checks for lesson 03 (Pool and ProcessPoolExecutor): each runs the student's function on a real pool.

The tasks wait ``lessons_pool.NAP`` seconds each, so the time a batch takes tells a parallel answer (about
one wait per worker round) from one that waits for each result before submitting the next (one wait per task),
however busy the machine is.
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from ..lessons_pool import NAP, fragile_square, nap, slow_square
from ..machine import context
from . import Feedback, failed, is_placeholder, not_attempted, passed

WORKERS = 4
ASYNC_ITEMS = [3, 1, 4, 1, 5, 9, 2, 6]
FRAGILE_ITEMS = [3, -1, 2, 0, -5, 4, 1, 5]


def _serial_seconds(items: list[Any]) -> float:
    return NAP * len(items)


def _too_slow(wall: float, items: list[Any], advice: str) -> Feedback | None:
    serial = _serial_seconds(items)
    if wall >= 0.75 * serial:
        return failed(f"{len(items)} tasks of {NAP:.2f} s took {wall:.2f} s on {WORKERS} workers, as long as one "
                      f"after another ({serial:.2f} s): {advice}")
    return None


def _describe_order(got: list[Any], expected: list[Any], items: list[Any]) -> Feedback | None:
    if got == expected:
        return None
    if len(got) == len(expected) and sorted(map(repr, got)) == sorted(map(repr, expected)):
        return failed(f"results are out of order: got {got!r:.120} for inputs {items!r}, expected {expected!r:.120}. "
                      f"Keep the results in the order you submitted the tasks (a callback or as_completed "
                      f"gives them in the order they finish).")
    if len(got) != len(expected):
        return failed(f"expected {len(expected)} results, one per input, got {len(got)}")
    wrong = next(i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e)
    return failed(f"result {wrong} (input {items[wrong]!r}) is {got[wrong]!r:.60}, expected {expected[wrong]!r:.60}")


def _run_student(fn: Any, what: str, pool: Any, func: Any, items: list[Any]) -> tuple[Any, float, Feedback | None]:
    wall = time.perf_counter()
    try:
        result = fn(pool, func, list(items))
    except Exception as exc:  # noqa: BLE001 - the student's error is the feedback
        return None, 0.0, failed(f"{what} raised {type(exc).__name__}: {exc}")
    wall = time.perf_counter() - wall
    if not isinstance(result, (list, tuple)):
        return None, wall, failed(f"{what} should return a list of results, got {type(result).__name__} "
                                  f"{result!r:.80}")
    return list(result), wall, None


def _placeholder_problem(fn: Any, what: str) -> Feedback | None:
    if is_placeholder(fn):
        return not_attempted(f"define {what} in the cell above and run it, then run this check")
    if not callable(fn):
        return failed(f"{what} should be a function, got {type(fn).__name__} {fn!r:.60}")
    return None


def check_apply_async(fn: Any, start_method: str | None = None) -> Feedback:
    """Exercise 1: ``fn(pool, func, items)`` returns ``[func(x) for x in items]`` using ``pool.apply_async``."""
    problem = _placeholder_problem(fn, "all_with_apply_async")
    if problem is not None:
        return problem
    items = list(ASYNC_ITEMS)
    with context(start_method).Pool(WORKERS) as pool:
        pool.map(nap, [0.02] * WORKERS, chunksize=1)  # let every worker finish starting before the clock runs
        result, wall, problem = _run_student(fn, "all_with_apply_async", pool, slow_square, items)
    if problem is not None:
        return problem
    if result and all(r is None for r in result):
        return failed("every result is None: keep the AsyncResult objects apply_async returns and call .get() on "
                      "each (a callback's return value is thrown away).")
    if result and all(hasattr(r, "get") and hasattr(r, "ready") for r in result):
        return failed("you returned the AsyncResult objects themselves: call .get() on each to get its value.")
    problem = _describe_order(result, [x * x for x in items], items)
    if problem is not None:
        return problem
    problem = _too_slow(wall, items, "calling .get() right after each apply_async waits for that task before the "
                                     "next is submitted. Submit them all first, then .get() each.")
    if problem is not None:
        return problem
    return passed(f"{len(items)} results in input order in {wall:.2f} s (one after another: "
                  f"{_serial_seconds(items):.2f} s).")


def check_failures(fn: Any, start_method: str | None = None) -> Feedback:
    """Exercise 2: ``fn(executor, func, items)`` returns each result, or the exception a task raised, in order."""
    problem = _placeholder_problem(fn, "results_or_errors")
    if problem is not None:
        return problem
    items = list(FRAGILE_ITEMS)
    with ProcessPoolExecutor(WORKERS, mp_context=context(start_method)) as executor:
        list(executor.map(nap, [0.02] * WORKERS))  # start the workers before the clock runs
        result, wall, problem = _run_student(fn, "results_or_errors", executor, fragile_square, items)
    if problem is not None:
        if "raised ValueError" in problem.message:
            return failed(problem.message + " — one failing task must not lose the others: call each "
                          "future's .result() inside try/except (executor.map stops at the first error).")
        return problem
    if result and all(hasattr(r, "result") and hasattr(r, "done") for r in result):
        return failed("you returned the Future objects themselves: call .result() on each, inside try/except.")
    shown = [type(r).__name__ if isinstance(r, BaseException) else r for r in result]
    expected_shown = ["ValueError" if x < 0 else x * x for x in items]
    if any(isinstance(r, str) and r.startswith("negative input") for r in result):
        return failed("for a failing task, put the exception object itself in the list (except ValueError as exc: "
                      "... exc), not its message.")
    problem = _describe_order(shown, expected_shown, items)
    if problem is not None:
        return problem
    problem = _too_slow(wall, items, "calling .result() right after each submit waits for that task before the next "
                                     "is submitted. Submit them all first, then collect the results.")
    if problem is not None:
        return problem
    return passed(f"{len(items)} results in input order, {expected_shown.count('ValueError')} of them errors, in "
                  f"{wall:.2f} s (one after another: {_serial_seconds(items):.2f} s).")
