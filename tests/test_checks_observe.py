"""The recording stand-ins the exercise checks hand to students' functions (mplessons.checks.observe, .pools):
they behave like the real objects, record what was called, never wait forever, and leave nothing behind."""

from __future__ import annotations

import queue
import threading
import time

import pytest

import mplessons
from mplessons.checks import bounded, observe
from mplessons.lessons_queue import big_result_to_queue, labelled_cubic_sum


def test_a_shared_queue_hands_results_over_smallest_first_once_every_started_writer_has_put(start_method):
    ctx = observe.Context(mplessons.context(start_method))
    try:
        q = ctx.Queue()
        sizes = [30_000, 20_000, 10_000]
        processes = [ctx.Process(target=labelled_cubic_sum, args=(q, i, n)) for i, n in enumerate(sizes)]
        assert all(p in q.writers for p in processes)
        for p in processes:
            p.start()
        labels = [q.get(timeout=30)[0] for _ in sizes]
        for p in processes:
            p.join(timeout=30)
        assert labels == [2, 1, 0], "the smallest job is handed over first, as it would finish first"
        assert [c.what for c in ctx.journal.calls] == ["Process"] * 3 + ["start"] * 3 + ["get"] * 3 + ["join"] * 3
        assert all(c.outcome == "ended" for c in ctx.journal.of("join"))
    finally:
        ctx.cleanup()


def test_a_get_nobody_can_answer_gives_up_at_once_and_is_recorded():
    ctx = observe.Context(mplessons.context())
    try:
        q = ctx.Queue()
        ctx.Process(target=labelled_cubic_sum, args=(q, 0, 10))  # never started
        started = time.perf_counter()
        with pytest.raises(queue.Empty):
            q.get(timeout=30)
        assert time.perf_counter() - started < observe.NOBODY_PUTS_GRACE + 1
        assert ctx.journal.of("get")[0].outcome == "empty"
    finally:
        ctx.cleanup()


def test_a_join_before_the_drain_is_capped_and_cleanup_frees_the_stuck_child():
    ctx = observe.Context(mplessons.context(), join_cap=0.5)
    q = ctx.Queue()
    p = ctx.Process(target=big_result_to_queue, args=(q, 2_000_000))
    try:
        p.start()
        started = time.perf_counter()
        p.join()  # would wait forever: the child cannot exit before its data is read
        assert time.perf_counter() - started < 5
        assert p.is_alive() and ctx.journal.of("join")[0].outcome == "alive"
    finally:
        ctx.cleanup()
    assert not p.is_alive() and p.exitcode is not None


def test_process_attributes_go_to_the_real_process():
    ctx = observe.Context(mplessons.context())
    q = ctx.Queue()
    p = ctx.Process(target=labelled_cubic_sum, args=(q, 0, 10), name="worker-0")
    p.daemon = True
    try:
        assert p.name == "worker-0" and p.daemon and p.exitcode is None and not p.started
        p.start()
        assert q.get(timeout=30) == (0, labelled_result(10))
        p.join(timeout=30)
        assert p.exitcode == 0
    finally:
        ctx.cleanup()


def labelled_result(n):
    from mplessons.workloads import cubic_sum

    return cubic_sum(n)


def test_call_bounded_returns_results_errors_and_gives_up_on_a_stalled_function():
    ok = bounded.call_bounded(lambda a, b: a + b, (1, 2), 5)
    assert ok.finished and ok.result == 3 and ok.error is None
    raised = bounded.call_bounded(lambda: exec("raise SystemExit(3)"), (), 5)
    assert raised.finished and isinstance(raised.error, SystemExit)
    stuck = threading.Event()
    started = time.perf_counter()
    stalled = bounded.call_bounded(stuck.wait, (), 30, state=lambda: 0, patience=0.3)
    assert not stalled.finished and stalled.stalled and time.perf_counter() - started < 5
    hung = bounded.call_bounded(stuck.wait, (), 0.3)  # no state: the time limit alone ends the wait
    assert not hung.finished and not hung.stalled and hung.wall < 5
    stuck.set()


def test_describe_error_names_the_type_even_without_a_message():
    assert bounded.describe_error(queue.Empty()) == "Empty"
    assert bounded.describe_error(ValueError("bad")) == "ValueError: bad"


def test_describe_error_keeps_a_feedback_line_short():
    """The first line of a long message only, cut after a whole sentence (or a word) near the limit."""
    assert bounded.describe_error(TypeError("first line\nthe advice below")) == "TypeError: first line"
    sentences = RuntimeError("One sentence here. " * 20)
    assert bounded.describe_error(sentences, limit=50) == "RuntimeError: One sentence here. One sentence here."
    words = RuntimeError("word " * 100)
    assert bounded.describe_error(words, limit=22) == "RuntimeError: word word word word ..."
    chinese = RuntimeError("第一句话。" * 20)  # mplessons' own errors, in Chinese: no space after a full stop
    assert bounded.describe_error(chinese, limit=12) == "RuntimeError: 第一句话。第一句话。"


def test_a_check_answers_even_when_the_answer_breaks_it():
    from mplessons.checks import lesson01

    class Unequal:
        def __eq__(self, other):
            raise ValueError("the truth value of an array is ambiguous")

        __hash__ = None

    def odd_result(ctx, sizes):
        q = ctx.Queue()
        processes = [ctx.Process(target=labelled_cubic_sum, args=(q, i, n)) for i, n in enumerate(sizes)]
        for p in processes:
            p.start()
        [q.get(timeout=30) for _ in processes]
        for p in processes:
            p.join(timeout=30)
        return [Unequal() for _ in sizes]

    feedback = lesson01.check_results_in_order(odd_result, [2_000, 1_000])
    assert not feedback and "could not make sense of this answer" in feedback.message
