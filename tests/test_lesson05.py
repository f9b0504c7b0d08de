"""Lesson 05: the race loses updates and the locks fix it, under every start method; a module-level lock is a
different lock in spawned children; and the exercise checks reject lost updates and serial answers."""

from __future__ import annotations

import multiprocessing
import threading
import time
import types

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


# --- exercise 1: locked_count(counter, times) -------------------------------------------------------


def counting_function(ctx, *, serial=False, read_early=False, join=True, one_lock=True, target=add_many_locked,
                      processes=2, lock_factory=None):
    """A locked_count as a student might write it, right by default, with one mistake switched on."""

    def locked_count(counter, times):
        lock = (lock_factory or ctx.Lock)()
        args = (lambda: (counter, times, lock if one_lock else ctx.Lock())) if target is not add_many else (
            lambda: (counter, times))
        workers = [ctx.Process(target=target, args=args()) for _ in range(processes)]
        if serial:
            for p in workers:
                p.start()
                p.join()
            return counter.value
        for p in workers:
            p.start()
        early = counter.value
        for p in workers if join else ():
            p.join()
        return early if read_early else counter.value

    return locked_count


def placeholder(counter, times):
    ...  # the exercise's skeleton


def test_check1_placeholder_is_not_attempted():
    for answer in (..., placeholder):
        feedback = lesson05.check_race_fixed(answer)
        assert not feedback and not feedback.attempted and "not attempted yet" in str(feedback)


def test_check1_accepts_two_processes_with_one_lock(start_method):
    feedback = lesson05.check_race_fixed(counting_function(mplessons.context(start_method)),
                                         start_method=start_method)
    assert feedback, feedback.message


@pytest.mark.parametrize(("mistake", "says"), [
    ({"serial": True}, "one after the other"),
    ({"read_early": True}, "before the processes had finished"),
    ({"join": False}, "never joined"),
    ({"one_lock": False}, "a Lock of its own"),
    ({"target": add_many}, "add_many takes no lock"),
    ({"processes": 1}, "a race needs two"),
    ({"processes": 3}, "asks for two"),
])
def test_check1_names_the_mistake(mistake, says):
    feedback = lesson05.check_race_fixed(counting_function(mplessons.context(), **mistake))
    assert not feedback and feedback.attempted and says in feedback.message, feedback.message
    assert multiprocessing.active_children() == []  # the check reaps what the answer left


def test_check1_a_threading_lock_is_named_under_every_start_method(start_method):
    answer = counting_function(mplessons.context(start_method), lock_factory=threading.Lock)
    feedback = lesson05.check_race_fixed(answer, start_method=start_method)
    assert not feedback and "threading" in feedback.message, feedback.message


def test_check1_threads_running_in_the_kernel_are_not_the_race():
    def locked_count(counter, times):
        lock = mplessons.context().Lock()
        workers = [threading.Thread(target=add_many_locked, args=(counter, times, lock)) for _ in range(2)]
        for t in workers:
            t.start()
        for t in workers:
            t.join()
        return counter.value

    assert "threads" in lesson05.check_race_fixed(locked_count).message


def test_check1_no_process_and_no_return_and_a_hang():
    def in_the_kernel(counter, times):
        add_many_locked(counter, 2 * times, mplessons.context().Lock())
        return counter.value

    assert "no process was started" in lesson05.check_race_fixed(in_the_kernel, times=100).message
    right = counting_function(mplessons.context())

    def no_return(counter, times):
        right(counter, times)

    assert "returned None" in lesson05.check_race_fixed(no_return, times=100).message
    feedback = lesson05.check_race_fixed(lambda counter, times: time.sleep(3), timeout=0.5)
    assert "did not return within 0.5 s" in feedback.message


# --- exercise 2 ---------------------------------------------------------------------------------------

LOCK_AT_IMPORT = multiprocessing.Lock()
THREAD_LOCK = threading.Lock()


def lock_per_call(counter, amount, times):
    lock = multiprocessing.Lock()
    for _ in range(times):
        with lock:
            counter.value += amount


def module_lock(counter, amount, times):
    for _ in range(times):
        with LOCK_AT_IMPORT:
            counter.value += amount


def thread_lock(counter, amount, times):
    for _ in range(times):
        with THREAD_LOCK:
            counter.value += amount


def lock_only_the_read(counter, amount, times):
    for _ in range(times):
        with counter.get_lock():
            current = counter.value
        counter.value = current + amount


def adds_one(counter, amount, times):
    safe_add(counter, 1, times)


def never_releases(counter, amount, times):
    counter.get_lock().acquire()
    counter.value += amount


def test_check2_placeholder_is_not_attempted():
    feedback = lesson05.check_safe_add(...)
    assert not feedback and not feedback.attempted


def test_check2_accepts_a_safe_function(start_method):
    feedback = lesson05.check_safe_add(safe_add, start_method=start_method)
    assert feedback, str(feedback)


def test_check2_rejects_a_function_that_loses_updates(start_method):
    feedback = lesson05.check_safe_add(unsafe_add, start_method=start_method)
    assert not feedback and "lost" in feedback.message and "get_lock()" in feedback.message


@pytest.mark.parametrize(("answer", "says"), [
    (lock_only_the_read, "the read and the write together"),
    (lock_per_call, "makes a new lock every time it runs"),
    (module_lock, "made when the module is imported"),
    (thread_lock, "threading lock"),
    (adds_one, "Add `amount`"),
])
def test_check2_names_the_mistake(answer, says):
    feedback = lesson05.check_safe_add(answer)
    assert not feedback and says in feedback.message, feedback.message


def test_check2_rejects_wrong_counts_crashes_lambdas_and_non_functions():
    assert "expected 6,000" in lesson05.check_safe_add(adds_twice, times=1000).message
    assert "exitcode" in lesson05.check_safe_add(raises, times=10).message
    assert "%%worker_module" in lesson05.check_safe_add(lambda c, a, t: None, times=10).message
    assert "should be a function" in lesson05.check_safe_add(42).message
    in_a_cell = types.FunctionType(safe_add.__code__, {"__name__": "__main__"}, "safe_add")
    assert "plain notebook cell" in lesson05.check_safe_add(in_a_cell).message


def test_check2_a_lock_never_released_is_feedback_not_a_hang():
    started = time.perf_counter()
    feedback = lesson05.check_safe_add(never_releases, times=10, timeout=2)
    assert not feedback and "release()" in feedback.message
    assert time.perf_counter() - started < 15


def test_check2_the_same_rejected_function_again_asks_whether_the_cell_ran():
    lesson05.check_safe_add(unsafe_add)
    again = lesson05.check_safe_add(unsafe_add)
    assert "you checked before" in again.message and "first line" in again.message


def test_a_first_process_that_ended_early_is_the_answers_fault_only_where_its_code_waited():
    """On a busy machine the first of two processes started back to back can finish before the second start()
    returns: that is not the student's mistake. A sleep, a wait on the first, or a long gap is."""
    from mplessons.checks.watch import Started

    def back_to_back(counter, times):
        ...

    def with_a_sleep(counter, times):
        time.sleep(0.05)

    def polls_the_first(counter, times, processes=()):
        return processes[0].is_alive()

    first, second = Started(None, None, (), {}, started_at=10.0), Started(None, None, (), {}, started_at=10.01)
    assert not lesson05._waited_between_starts(back_to_back, first, second)
    assert lesson05._waited_between_starts(with_a_sleep, first, second)
    assert lesson05._waited_between_starts(polls_the_first, first, second)
    late = Started(None, None, (), {}, started_at=10.0 + lesson05.DELIBERATE_GAP)
    assert lesson05._waited_between_starts(back_to_back, first, late)
