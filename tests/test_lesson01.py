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


def labelled_run(ctx):
    q = ctx.Queue()
    processes = start_all([ctx.Process(target=labelled_cubic_sum, args=(q, i, n)) for i, n in enumerate(SIZES)])
    pairs = [q.get(timeout=60) for _ in processes]
    for p in processes:
        p.join(timeout=60)
    return pairs, processes


def test_check1_placeholder_is_not_attempted_and_does_not_raise():
    feedback = lesson01.check_results_in_order(..., ..., SIZES)
    assert not feedback and not feedback.attempted
    assert "not attempted yet" in str(feedback)


def test_check1_accepts_labelled_results_put_back_in_order(start_method):
    pairs, processes = labelled_run(mplessons.context(start_method))
    feedback = lesson01.check_results_in_order([v for _, v in sorted(pairs)], processes, SIZES)
    assert feedback, str(feedback)


def test_check1_rejects_results_out_of_order():
    pairs, processes = labelled_run(mplessons.context())
    backwards = [v for _, v in sorted(pairs, reverse=True)]
    feedback = lesson01.check_results_in_order(backwards, processes, SIZES)
    assert not feedback and feedback.attempted
    assert "out of order" in feedback.message and "label" in feedback.message


def test_check1_rejects_a_serial_answer():
    serial = [cubic_sum(n) for n in SIZES]
    ctx = mplessons.context()
    q = ctx.Queue()
    one = start_all([ctx.Process(target=partial_cubic_sum_to_queue, args=(q, 0, 10))])
    q.get(timeout=60)
    one[0].join(timeout=60)
    for processes in ([], one):
        feedback = lesson01.check_results_in_order(serial, processes, SIZES)
        assert not feedback and "serial" in feedback.message


def test_check1_rejects_unlabelled_pairs_wrong_values_and_wrong_types():
    pairs, processes = labelled_run(mplessons.context())
    assert "(label, value) pairs" in lesson01.check_results_in_order(sorted(pairs), processes, SIZES).message
    values = [v for _, v in sorted(pairs)]
    assert "has 2 values" in lesson01.check_results_in_order(values[:2], processes, SIZES).message
    wrong = [*values[:-1], values[-1] + 1]
    assert "wrong values at positions [2]" in lesson01.check_results_in_order(wrong, processes, SIZES).message
    assert "list of the Process objects" in lesson01.check_results_in_order(values, "abc", SIZES).message


def test_check1_rejects_processes_never_started_or_still_running():
    ctx = mplessons.context()
    values = [cubic_sum(n) for n in SIZES]
    never = [ctx.Process(target=sleep_forever) for _ in SIZES]
    assert "never started" in lesson01.check_results_in_order(values, never, SIZES).message
    running = start_all([ctx.Process(target=sleep_forever) for _ in SIZES])
    try:
        message = lesson01.check_results_in_order(values, running, SIZES).message
        assert "still running" in message and "join" in message
    finally:
        for p in running:
            stop(p)
    assert "failed with exitcode -9" in lesson01.check_results_in_order(values, running, SIZES).message


# --- exercise 2: drain, then join ----------------------------------------------------------------------


def test_check2_placeholder_is_not_attempted():
    feedback = lesson01.check_drained_then_joined(..., ..., 1000)
    assert not feedback and not feedback.attempted


def test_check2_accepts_drain_then_join_and_rejects_join_first(start_method):
    ctx = mplessons.context(start_method)
    q = ctx.Queue()
    p = ctx.Process(target=big_result_to_queue, args=(q, 1_000_000))
    p.start()
    try:
        p.join(timeout=1)  # the mistake, made safe
        feedback = lesson01.check_drained_then_joined(b"", p, 1_000_000)
        assert not feedback and "still alive" in feedback.message and "q.get() first" in feedback.message
        data = q.get(timeout=30)
        p.join(timeout=30)
        assert lesson01.check_drained_then_joined(data, p, 1_000_000), "drain, then join, should pass"
        message = lesson01.check_drained_then_joined(data[:10], p, 1_000_000).message
        assert "has 10 bytes, expected 1,000,000" in message
        assert "should be the bytes" in lesson01.check_drained_then_joined([1, 2], p, 1_000_000).message
    finally:
        stop(p)


def test_check2_rejects_a_process_never_started_or_not_a_process():
    ctx = mplessons.context()
    never = ctx.Process(target=sleep_forever)
    assert "never started" in lesson01.check_drained_then_joined(b"x", never, 1).message
    assert "should be the Process" in lesson01.check_drained_then_joined(b"x", 42, 1).message
