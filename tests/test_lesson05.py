"""Lesson 05: the race loses updates and the locks fix it, under every start method; a module-level lock is a
different lock in spawned children; and the exercise checks reject lost updates and serial answers."""

from __future__ import annotations

import multiprocessing

import pytest

import mplessons
from mplessons import lessons_locks
from mplessons.checks import lesson05
from mplessons.lessons_locks import (
    add_many,
    add_many_get_lock,
    add_many_locked,
    add_ten_times,
    try_lock,
    try_module_lock,
    work_then_add,
)

TIMES = 30_000


def run(ctx, target, args_for_each, timeout=120):
    processes = [ctx.Process(target=target, args=args) for args in args_for_each]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=timeout)
    for p in processes:
        if p.is_alive():
            p.kill()
            p.join()
    return processes


# --- student-like answers for exercise 2: importable by children, since tests/ is on sys.path -------------


def unsafe_add(counter, amount, times):
    for _ in range(times):
        counter.value += amount


def safe_add(counter, amount, times):
    for _ in range(times):
        with counter.get_lock():
            counter.value += amount


def adds_twice(counter, amount, times):
    safe_add(counter, amount, 2 * times)


def raises(counter, amount, times):
    raise RuntimeError("oops")


# --- the lesson's claims ------------------------------------------------------------------------------


def test_unlocked_increments_lose_updates(start_method):
    ctx = mplessons.context(start_method)
    lost = []
    for _attempt in range(3):  # a loss is near-certain once the barrier lines the processes up
        counter, start_line = ctx.Value("i", 0), ctx.Barrier(2)
        run(ctx, add_many, [(counter, TIMES, start_line)] * 2)
        lost.append(2 * TIMES - counter.value)
        if lost[-1] > 0:
            break
    assert lost[-1] > 0, f"two processes doing += {TIMES} times each lost no update in 3 runs: {lost}"


@pytest.mark.parametrize("locked", ["lock", "get_lock"])
def test_both_fixes_lose_nothing(start_method, locked):
    ctx = mplessons.context(start_method)
    counter = ctx.Value("i", 0)
    if locked == "lock":
        lock = ctx.Lock()
        processes = run(ctx, add_many_locked, [(counter, TIMES, lock)] * 2)
    else:
        processes = run(ctx, add_many_get_lock, [(counter, TIMES)] * 2)
    assert [p.exitcode for p in processes] == [0, 0]
    assert counter.value == 2 * TIMES


def test_the_seeds_locked_counter_ends_at_1010(start_method):
    ctx = mplessons.context(start_method)
    v, lock = ctx.Value("i", 0), ctx.Lock()
    run(ctx, add_ten_times, [(v, 1, lock), (v, 100, lock)])
    assert v.value == 1010


def test_a_passed_lock_is_shared_and_a_module_level_lock_only_under_fork(start_method):
    ctx = multiprocessing.get_context(start_method)
    passed, answers = ctx.Lock(), ctx.Queue()
    with lessons_locks.MODULE_LOCK, passed:
        processes = [ctx.Process(target=try_module_lock, args=(answers, "module")),
                     ctx.Process(target=try_lock, args=(passed, answers, "passed"))]
        for p in processes:
            p.start()
        free = dict(answers.get(timeout=60) for _ in processes)
    for p in processes:
        p.join(timeout=60)
    assert free == {"passed": False, "module": start_method != "fork"}


def test_a_lock_around_the_whole_loop_serialises_the_work(start_method):
    ctx = mplessons.context(start_method)
    counter, lock, start_line, spans = ctx.Value("i", 0), ctx.Lock(), ctx.Barrier(2), ctx.Queue()
    processes = [ctx.Process(target=work_then_add, args=(counter, lock, 5, 10_000, spans, start_line, True))
                 for _ in range(2)]
    for p in processes:
        p.start()
    (_, end1), (start2, _) = sorted(spans.get(timeout=60) for _ in processes)
    for p in processes:
        p.join(timeout=60)
    assert counter.value == 10
    assert start2 >= end1, "with the lock around the whole loop the second process must wait for the first"


# --- exercise 1 ---------------------------------------------------------------------------------------


def test_check1_placeholder_is_not_attempted():
    feedback = lesson05.check_race_fixed(..., ..., expected=10)
    assert not feedback and not feedback.attempted and "not attempted yet" in str(feedback)


def test_check1_accepts_a_fixed_race_and_rejects_a_lost_update():
    ctx = mplessons.context()
    counter, lock = ctx.Value("i", 0), ctx.Lock()
    processes = run(ctx, add_many_locked, [(counter, 1000, lock)] * 2)
    assert lesson05.check_race_fixed(counter.value, processes, expected=2000)
    feedback = lesson05.check_race_fixed(1990, processes, expected=2000)
    assert not feedback and "lost 10 of 2,000 updates" in feedback.message and "lock" in feedback.message


def test_check1_rejects_a_serial_answer_and_other_mistakes():
    ctx = mplessons.context()
    counter, lock = ctx.Value("i", 0), ctx.Lock()
    one = run(ctx, add_many_locked, [(counter, 1000, lock)])
    message = lesson05.check_race_fixed(1000, one, expected=1000).message
    assert "a race needs two" in message and "serial" in message
    two = run(ctx, add_many_locked, [(counter, 500, lock)] * 2)
    assert "use counter.value" in lesson05.check_race_fixed(counter, two, expected=2000).message
    assert "more than the 1,000 expected" in lesson05.check_race_fixed(2000, two, expected=1000).message
    assert "list of Process objects" in lesson05.check_race_fixed(2000, "p1 p2", expected=2000).message
    never = [ctx.Process(target=add_many, args=(counter, 1)) for _ in range(2)]
    assert "has not finished" in lesson05.check_race_fixed(0, never, expected=2).message


# --- exercise 2 ---------------------------------------------------------------------------------------


def test_check2_placeholder_is_not_attempted():
    feedback = lesson05.check_safe_add(...)
    assert not feedback and not feedback.attempted


def test_check2_accepts_a_safe_function(start_method):
    feedback = lesson05.check_safe_add(safe_add, times=TIMES, start_method=start_method)
    assert feedback, str(feedback)


def test_check2_rejects_a_function_that_loses_updates(start_method):
    feedback = lesson05.check_safe_add(unsafe_add, times=TIMES, start_method=start_method)
    assert not feedback and "lost" in feedback.message and "get_lock()" in feedback.message


def test_check2_rejects_wrong_counts_crashes_lambdas_and_non_functions():
    assert "expected 2,000" in lesson05.check_safe_add(adds_twice, times=1000).message
    assert "exitcode" in lesson05.check_safe_add(raises, times=10).message
    assert "%%worker_module" in lesson05.check_safe_add(lambda c, a, t: None, times=10).message
    assert "should be a function" in lesson05.check_safe_add(42).message
