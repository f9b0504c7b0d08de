"""Lesson 03's exercise checks: the shipped solutions pass, typical wrong answers get a message saying what is wrong."""

from __future__ import annotations

from concurrent.futures import as_completed

import pytest

from mplessons.checks import lesson03

# --- exercise 1: apply_async ------------------------------------------------------------------------------


def submit_all_then_get(pool, func, items):
    pending = [pool.apply_async(func, (x,)) for x in items]
    return [r.get() for r in pending]


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
    assert "one after another" in feedback.message and "Submit them all first" in feedback.message


def test_callback_order_is_rejected_as_out_of_order():
    def with_callback(pool, func, items):
        out = []
        pending = [pool.apply_async(func, (x,), callback=out.append) for x in items]
        for r in pending:
            r.wait()
        return sorted(out, reverse=True)  # a finishing order that is certainly not the input order

    feedback = lesson03.check_apply_async(with_callback)
    assert not feedback.ok
    assert "out of order" in feedback.message


@pytest.mark.parametrize("answer, expected", [
    (lambda pool, func, items: [pool.apply_async(func, (x,)) for x in items], "call .get() on each"),
    (lambda pool, func, items: [None for _ in items], "every result is None"),
    (lambda pool, func, items: pool.map(func, items)[:3], "expected 8 results"),
    (lambda pool, func, items: pool.apply_async(func, items).get(), "raised TypeError"),
    (lambda pool, func, items: 7, "should return a list"),
    ("not a function", "should be a function"),
])
def test_apply_async_other_mistakes_are_named(answer, expected):
    feedback = lesson03.check_apply_async(answer)
    assert not feedback.ok
    assert expected in feedback.message


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
    assert "raised ValueError" in feedback.message and "executor.map stops at the first error" in feedback.message


def test_as_completed_order_is_rejected():
    def finishing_order(executor, func, items):
        futures = [executor.submit(func, x) for x in items]
        done = []
        for f in as_completed(futures):
            done.append(f.exception() or f.result())
        return done[::-1] if done == submit_all_catch_each(executor, func, items) else done

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
    assert "one after another" in feedback.message


@pytest.mark.parametrize("answer, expected", [
    (lambda executor, func, items: [executor.submit(func, x) for x in items], "Future objects themselves"),
    (lambda executor, func, items: [str(f.exception()) if f.exception() else f.result()
                                    for f in [executor.submit(func, x) for x in items]], "not its message"),
    (lambda executor, func, items: [f.exception() or f.result() for f in [executor.submit(func, abs(x))
                                                                          for x in items]], "result 1 (input -1)"),
])
def test_failures_other_mistakes_are_named(answer, expected):
    feedback = lesson03.check_failures(answer)
    assert not feedback.ok
    assert expected in feedback.message
