"""Lesson 01: its worker functions do what the lesson says, under every start method, and its exercise checks
reject the usual wrong answers with a message that says what is wrong."""

from __future__ import annotations

import queue
import signal

import pytest

import mplessons
from mplessons.checks import lesson01
from mplessons.lessons_queue import (
    big_result_to_queue,
    die_on,
    labelled_cubic_sum,
    partial_cubic_sum,
    partial_cubic_sum_to_queue,
    ratio_to_queue,
    sleep_forever,
    with_stderr_silenced,
)
from mplessons.workloads import cubic_sum

SIZES = [20_000, 10_000, 5_000]


def start_all(processes):
    for p in processes:
        p.start()
    return processes


def stop(p):
    if p.is_alive():
        p.kill()
    p.join(timeout=10)


# --- worker functions ---------------------------------------------------------------------------------


def test_the_two_halves_add_up_to_the_whole_job():
    assert partial_cubic_sum(0, 5_000) + partial_cubic_sum(5_000, 12_345) == cubic_sum(12_345)
    assert partial_cubic_sum(10, 10) == 0


def test_queue_workers_put_their_results():
    q = queue.Queue()
    partial_cubic_sum_to_queue(q, 0, 100)
    labelled_cubic_sum(q, "a", 100)
    big_result_to_queue(q, 1234)
    ratio_to_queue(q, 1, 4)
    assert [q.get_nowait() for _ in range(4)] == [cubic_sum(100), ("a", cubic_sum(100)), bytes(1234), 0.25]


def test_two_processes_each_summing_half_give_the_whole_sum(start_method):
    ctx = mplessons.context(start_method)
    q = ctx.Queue()
    n = 200_000
    processes = start_all([ctx.Process(target=partial_cubic_sum_to_queue, args=(q, a, b))
                           for a, b in ((0, n // 2), (n // 2, n))])
    total = q.get(timeout=60) + q.get(timeout=60)
    for p in processes:
        p.join(timeout=60)
    assert total == cubic_sum(n)
    assert [p.exitcode for p in processes] == [0, 0]


def test_joining_before_draining_a_big_result_blocks_and_draining_frees_it(start_method):
    ctx = mplessons.context(start_method)
    q = ctx.Queue()
    p = ctx.Process(target=big_result_to_queue, args=(q, 2_000_000))
    p.start()
    try:
        p.join(timeout=1)
        assert p.is_alive() and p.exitcode is None, "the child should be stuck writing into the full pipe"
        assert len(q.get(timeout=30)) == 2_000_000
        p.join(timeout=30)
        assert p.exitcode == 0
    finally:
        stop(p)


def test_exit_codes_as_the_lesson_tabulates_them(start_method):
    ctx = mplessons.context(start_method)
    q = ctx.Queue()
    raised = ctx.Process(target=with_stderr_silenced, args=(ratio_to_queue, q, 1, 0))
    terminated = ctx.Process(target=sleep_forever)
    killed = ctx.Process(target=sleep_forever)
    start_all([raised, terminated, killed])
    terminated.terminate()
    killed.kill()
    for p in (raised, terminated, killed):
        p.join(timeout=30)
    assert (raised.exitcode, terminated.exitcode, killed.exitcode) == (1, -signal.SIGTERM, -signal.SIGKILL)
    assert q.empty()


def test_die_on_kills_its_worker_and_run_tasks_reports_it(start_method):
    with pytest.raises(mplessons.WorkerCrashedError) as info:
        mplessons.run_tasks(die_on, range(6), workers=2, start_method=start_method)
    assert info.value.exitcode == -signal.SIGKILL
    assert die_on(2) == 2


# --- exercise 1: results in input order ------------------------------------------------------------------
# The check calls the student's function with a recording context (mplessons.checks.observe).


def results_in_order(ctx, sizes):
    q = ctx.Queue()
    processes = start_all([ctx.Process(target=labelled_cubic_sum, args=(q, i, n)) for i, n in enumerate(sizes)])
    pairs = [q.get(timeout=60) for _ in processes]
    for p in processes:
        p.join(timeout=60)
    return [v for _, v in sorted(pairs)]


def unlabelled(ctx, sizes):
    q = ctx.Queue()
    processes = start_all([ctx.Process(target=labelled_cubic_sum, args=(q, i, n)) for i, n in enumerate(sizes)])
    values = [q.get(timeout=60)[1] for _ in processes]
    for p in processes:
        p.join(timeout=60)
    return values


def pairs_kept(ctx, sizes):
    q = ctx.Queue()
    processes = start_all([ctx.Process(target=labelled_cubic_sum, args=(q, i, n)) for i, n in enumerate(sizes)])
    pairs = sorted(q.get(timeout=60) for _ in processes)
    for p in processes:
        p.join(timeout=60)
    return pairs


def joined_first(ctx, sizes):
    q = ctx.Queue()
    processes = start_all([ctx.Process(target=labelled_cubic_sum, args=(q, i, n)) for i, n in enumerate(sizes)])
    for p in processes:
        p.join(timeout=60)
    return [v for _, v in sorted(q.get(timeout=60) for _ in processes)]


def one_at_a_time(ctx, sizes):
    q, out = ctx.Queue(), []
    for i, n in enumerate(sizes):
        p = start_all([ctx.Process(target=labelled_cubic_sum, args=(q, i, n))])[0]
        out.append(q.get(timeout=60)[1])
        p.join(timeout=60)
    return out


def never_started(ctx, sizes):
    q = ctx.Queue()
    processes = [ctx.Process(target=labelled_cubic_sum, args=(q, i, n)) for i, n in enumerate(sizes)]
    return [v for _, v in sorted(q.get(timeout=60) for _ in processes)]


def never_joined(ctx, sizes):
    q = ctx.Queue()
    processes = start_all([ctx.Process(target=labelled_cubic_sum, args=(q, i, n)) for i, n in enumerate(sizes)])
    return [v for _, v in sorted(q.get(timeout=60) for _ in processes)]


def target_called(ctx, sizes):
    q = ctx.Queue()
    processes = start_all([ctx.Process(target=labelled_cubic_sum(q, i, n)) for i, n in enumerate(sizes)])
    pairs = [q.get(timeout=60) for _ in processes]
    for p in processes:
        p.join(timeout=60)
    return [v for _, v in sorted(pairs)]


def test_check1_placeholder_is_not_attempted_and_does_not_raise():
    feedback = lesson01.check_results_in_order(..., SIZES)
    assert not feedback and not feedback.attempted
    assert "not attempted yet" in str(feedback)


def test_check1_accepts_labelled_results_put_back_in_order(start_method):
    feedback = lesson01.check_results_in_order(results_in_order, SIZES, start_method)
    assert feedback, str(feedback)


@pytest.mark.parametrize("answer, expected", [
    (unlabelled, "out of order"),
    (pairs_kept, "(label, value) pairs"),
    (joined_first, "joined process 1 of 3 before every result had been read"),
    (one_at_a_time, "ran one after another"),
    (never_started, "3 of your 3 processes were never started"),
    (never_joined, "never joined process 1 of 3"),
    (target_called, "target=None, not a function"),
    (lambda ctx, sizes: [cubic_sum(n) for n in sizes], "started no process with ctx.Process"),
    (lambda ctx, sizes: 1 / 0, "raised ZeroDivisionError"),
    (42, "should be a function"),
])
def test_check1_names_each_mistake(answer, expected):
    feedback = lesson01.check_results_in_order(answer, SIZES)
    assert not feedback and feedback.attempted
    assert expected in feedback.message, feedback.message


def test_check1_rejects_wrong_values():
    def off_by_one(ctx, sizes):
        return [v + (i == 2) for i, v in enumerate(results_in_order(ctx, sizes))]

    assert "wrong values at positions [2]" in lesson01.check_results_in_order(off_by_one, SIZES).message


def test_check1_says_when_it_is_given_the_definition_it_rejected_before():
    first = lesson01.check_results_in_order(unlabelled, SIZES)
    again = lesson01.check_results_in_order(unlabelled, SIZES)
    assert "out of order" in first.message and "checked before" not in first.message
    assert "this is the `results_in_order` you checked before" in again.message and "out of order" in again.message
    assert lesson01.check_results_in_order(results_in_order, SIZES), "a right answer resets the memory"


# --- exercise 2: drain, then join ----------------------------------------------------------------------


def drain_then_join(q, p):
    p.start()
    data = q.get(timeout=30)
    p.join(timeout=30)
    return data


def test_check2_placeholder_is_not_attempted():
    feedback = lesson01.check_drained_then_joined(..., 1000)
    assert not feedback and not feedback.attempted


def test_check2_accepts_drain_then_join(start_method):
    feedback = lesson01.check_drained_then_joined(drain_then_join, 2_000_000, start_method)
    assert feedback, str(feedback)


def join_first(q, p):
    p.start()
    p.join(timeout=0.5)
    return q.get(timeout=30)


def no_join(q, p):
    p.start()
    return q.get(timeout=30)


def no_start(q, p):
    data = q.get(timeout=30)
    p.join(timeout=30)
    return data


def no_timeouts(q, p):
    p.start()
    data = q.get()
    p.join()
    return data


def run_not_start(q, p):
    p.run()
    data = q.get(timeout=30)
    p.join(timeout=30)
    return data


@pytest.mark.parametrize("answer, expected", [
    (join_first, "join(timeout=0.5) gave up after"),
    (no_join, "you never joined p"),
    (no_start, "p was never started"),
    (no_timeouts, "get() has no timeout="),
    (run_not_start, "you called p.run()"),
    (lambda q, p: (p.start(), q.get(timeout=30)[:10], p.join(timeout=30))[1], "has 10 bytes, expected 2,000,000"),
    (lambda q, p: None, "p was never started"),
])
def test_check2_names_each_mistake(answer, expected):
    feedback = lesson01.check_drained_then_joined(answer, 2_000_000)
    assert not feedback and feedback.attempted
    assert expected in feedback.message, feedback.message


def test_check2_stops_a_bare_join_before_the_drain_and_says_it_would_wait_forever(monkeypatch):
    monkeypatch.setattr(lesson01, "JOIN_CAP", 0.5)

    def bare_join_first(q, p):
        p.start()
        p.join()
        return q.get(timeout=30)

    message = lesson01.check_drained_then_joined(bare_join_first, 2_000_000).message
    assert "joined p before you read its data" in message and "would have waited forever" in message
