"""Lesson 03's exercise checks: the shipped solutions pass, typical wrong answers get a message saying what is wrong.

The checks hand the student's function a pool or executor that records which API it used (``checks.pools``)
and tasks that finish in another order than they were submitted (``lessons_pool.lingering_square``).
"""

from __future__ import annotations

from concurrent.futures import as_completed

import pytest

from mplessons.checks import lesson03
from mplessons.lessons_pool import LINGER, lingering_fragile_square, lingering_square

# --- exercise 1: apply_async ------------------------------------------------------------------------------


def submit_all_then_get(pool, func, items):
    pending = [pool.apply_async(func, (x,)) for x in items]
    return [r.get() for r in pending]


def test_lingering_tasks_wait_in_proportion_to_their_input():
    assert lingering_square(-3) == 9 and LINGER * max(lesson03.ASYNC_ITEMS) < 0.5
    with pytest.raises(ValueError, match="negative input -2"):
        lingering_fragile_square(-2)
    assert lesson03.ASYNC_ITEMS[0] == max(lesson03.ASYNC_ITEMS), "the biggest first, so it finishes last"


def test_apply_async_placeholder_is_not_attempted_and_does_not_raise():
    feedback = lesson03.check_apply_async(...)
    assert not feedback.ok and not feedback.attempted
    assert "not attempted yet" in str(feedback)


def test_apply_async_solution_passes(start_method):
    feedback = lesson03.check_apply_async(submit_all_then_get, start_method=start_method)
    assert feedback.ok, feedback


def test_get_right_after_submit_is_rejected_as_serial():
    feedback = lesson03.check_apply_async(lambda pool, func, items: [pool.apply_async(func, (x,)).get()
                                                                     for x in items])
    assert not feedback.ok
    assert "submitted only after the previous one had finished" in feedback.message
    assert "Submit them all first" in feedback.message


def test_callback_order_is_rejected_as_out_of_order():
    def with_callback(pool, func, items):
        out = []
        pending = [pool.apply_async(func, (x,), callback=out.append) for x in items]
        for r in pending:
            r.wait()
        return out

    feedback = lesson03.check_apply_async(with_callback)
    assert not feedback.ok
    assert "out of order" in feedback.message


@pytest.mark.parametrize("answer, expected", [
    (lambda pool, func, items: pool.map(func, items), "you used pool.map"),
    (lambda pool, func, items: list(pool.imap(func, items)), "you used pool.imap"),
    (lambda pool, func, items: [pool.apply(func, (x,)) for x in items], "pool.apply(func, (x,)) waits"),
    (lambda pool, func, items: [r.get() for r in [pool.apply_async(func, (x)) for x in items]], "Write (x,)"),
    (lambda pool, func, items: [pool.apply_async(func, (x,)) for x in items], "call .get() on each"),
    (lambda pool, func, items: [pool.apply_async(func, items).get()], "one task that calls func with every item"),
    (lambda pool, func, items: [None for _ in items], "did not call pool.apply_async"),
    (lambda pool, func, items: [r.get() for r in [pool.apply_async(func, (x,)) for x in items]][:3],
     "expected 8 results"),
    (lambda pool, func, items: 7 if pool.apply_async(func, (1,)) else 0, "should return a list"),
    (lambda pool, func, items: (pool.apply_async(func, (1,)), 1 / 0), "raised ZeroDivisionError"),
    ("not a function", "should be a function"),
])
def test_apply_async_other_mistakes_are_named(answer, expected):
    feedback = lesson03.check_apply_async(answer)
    assert not feedback.ok
    assert expected in feedback.message, feedback.message


# --- exercise 2: failures with ProcessPoolExecutor -------------------------------------------------------


def submit_all_catch_each(executor, func, items):
    futures = [executor.submit(func, x) for x in items]
    out = []
    for future in futures:
        try:
            out.append(future.result())
        except Exception as exc:  # noqa: BLE001 - the exercise keeps every task's exception
            out.append(exc)
    return out


def test_failures_placeholder_is_not_attempted():
    feedback = lesson03.check_failures(...)
    assert not feedback.ok and not feedback.attempted


def test_failures_solution_passes(start_method):
    feedback = lesson03.check_failures(submit_all_catch_each, start_method=start_method)
    assert feedback.ok, feedback


def test_executor_map_losing_the_rest_is_explained():
    feedback = lesson03.check_failures(lambda executor, func, items: list(executor.map(func, items)))
    assert not feedback.ok
    assert "you used executor.map" in feedback.message and "every result after it is lost" in feedback.message


def test_as_completed_order_is_rejected():
    def finishing_order(executor, func, items):
        futures = [executor.submit(func, x) for x in items]
        return [f.exception() or f.result() for f in as_completed(futures)]

    feedback = lesson03.check_failures(finishing_order)
    assert not feedback.ok
    assert "out of order" in feedback.message


def test_result_right_after_submit_is_rejected_as_serial():
    def one_at_a_time(executor, func, items):
        out = []
        for x in items:
            future = executor.submit(func, x)
            try:
                out.append(future.result())
            except ValueError as exc:
                out.append(exc)
        return out

    feedback = lesson03.check_failures(one_at_a_time)
    assert not feedback.ok
    assert "submitted only after the previous one had finished" in feedback.message


def catching(kind, keep):
    def answer(executor, func, items):
        out = []
        for future in [executor.submit(func, x) for x in items]:
            try:
                out.append(future.result())
            except kind as exc:
                keep(out, exc)
        return out

    return answer


@pytest.mark.parametrize("answer, expected", [
    (lambda executor, func, items: [executor.submit(func, x) for x in items], "Future objects themselves"),
    (catching(ValueError, lambda out, exc: out.append(str(exc))), "not its message"),
    (catching(ValueError, lambda out, exc: out.append(None)), "your list has None"),
    (catching(ValueError, lambda out, exc: None), "leaves the failing tasks out"),
    (catching(TypeError, lambda out, exc: out.append(exc)), "ValueError: negative input -2 escaped"),
    (lambda executor, func, items: [f.exception() or f.result() for f in [executor.submit(func, (x,))
                                                                          for x in items]],
     "passes the tuple as one argument"),
    (lambda executor, func, items: [f.exception() or f.result() for f in [executor.submit(func, abs(x))
                                                                          for x in items]], "result 1 (input -2)"),
])
def test_failures_other_mistakes_are_named(answer, expected):
    feedback = lesson03.check_failures(answer)
    assert not feedback.ok
    assert expected in feedback.message, feedback.message


def test_a_try_around_the_whole_loop_is_explained():
    def whole_loop(executor, func, items):
        out = []
        try:
            for future in [executor.submit(func, x) for x in items]:
                out.append(future.result())
        except ValueError as exc:
            out.append(exc)
        return out

    feedback = lesson03.check_failures(whole_loop)
    assert not feedback.ok and "stops at the first failing task" in feedback.message
