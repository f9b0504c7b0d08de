"""Lesson 02's exercise checks: the shipped solutions pass, typical wrong answers get a message saying what is wrong."""

from __future__ import annotations

import queue
import threading

import pytest

import mplessons
from mplessons.checks import lesson02
from mplessons.workloads import cubic_sum, cubic_sum_to_queue, sleep_then_return

# --- exercise 1: threads for waiting -------------------------------------------------------------------


def threads_in_order(values):
    results = [None] * len(values)

    def work(i, value):
        results[i] = sleep_then_return(lesson02.IO_SECONDS, value)

    threads = [threading.Thread(target=work, args=(i, v)) for i, v in enumerate(values)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def threads_one_after_another(values):
    """Start then join each thread inside the loop: correct results, no overlap."""
    results = [None] * len(values)

    def work(i, value):
        results[i] = sleep_then_return(lesson02.IO_SECONDS, value)

    for i, v in enumerate(values):
        t = threading.Thread(target=work, args=(i, v))
        t.start()
        t.join()
    return results


def threads_shared_queue(values):
    """Results in the order the threads finish: later inputs wait less here, so the order comes out reversed."""
    q: queue.Queue = queue.Queue()
    n = len(values)
    threads = [threading.Thread(target=lambda i=i, v=v: q.put(sleep_then_return(0.05 * (n - i), v)))
               for i, v in enumerate(values)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [q.get() for _ in values]


def threads_losing_return_values(values):
    threads = [threading.Thread(target=sleep_then_return, args=(lesson02.IO_SECONDS, v)) for v in values]
    for t in threads:
        t.start()
    return [t.join() for t in threads]


def test_io_placeholder_is_not_attempted_and_does_not_raise():
    feedback = lesson02.check_io_threads(...)
    assert not feedback.ok and not feedback.attempted
    assert "not attempted yet" in str(feedback)


def test_io_solution_passes():
    feedback = lesson02.check_io_threads(threads_in_order)
    assert feedback.ok, feedback


def test_io_serial_answer_is_rejected():
    feedback = lesson02.check_io_threads(threads_one_after_another)
    assert not feedback.ok
    assert "one after another" in feedback.message and "before you join" in feedback.message


def test_io_out_of_order_answer_is_rejected():
    feedback = lesson02.check_io_threads(threads_shared_queue)
    assert not feedback.ok
    assert "out of order" in feedback.message


def test_io_lost_return_values_are_explained():
    feedback = lesson02.check_io_threads(threads_losing_return_values)
    assert not feedback.ok
    assert "discards" in feedback.message


@pytest.mark.parametrize("answer, expected", [
    (42, "should be a function"),
    (lambda values: 1 / 0, "raised ZeroDivisionError"),
    (lambda values: values[:-1], "expected 5 results"),
    (lambda values: [v.upper() for v in values], "result 0 (input 'a') is 'A'"),
])
def test_io_other_mistakes_are_named(answer, expected):
    feedback = lesson02.check_io_threads(answer)
    assert not feedback.ok
    assert expected in feedback.message


# --- exercise 2: processes for computing ----------------------------------------------------------------

SMALL = [60_000, 20_000]  # quick, and the first still takes longest


def processes_in_order(ns, start_method):
    ctx = mplessons.context(start_method)
    queues = [ctx.Queue() for _ in ns]
    processes = [ctx.Process(target=cubic_sum_to_queue, args=(q, n)) for q, n in zip(queues, ns, strict=True)]
    for p in processes:
        p.start()
    results = [q.get() for q in queues]
    for p in processes:
        p.join()
    return results


def test_cpu_placeholder_is_not_attempted_and_does_not_raise():
    feedback = lesson02.check_cpu_processes(...)
    assert not feedback.ok and not feedback.attempted


def test_cpu_solution_passes(start_method):
    feedback = lesson02.check_cpu_processes(lambda ns: processes_in_order(ns, start_method))
    assert feedback.ok, feedback


def test_cpu_serial_answer_is_rejected():
    feedback = lesson02.check_cpu_processes(lambda ns: [cubic_sum(n) for n in ns])
    assert not feedback.ok
    assert "computed in this process" in feedback.message


def test_cpu_threaded_answer_is_rejected():
    def in_threads(ns):
        q: queue.Queue = queue.Queue()
        threads = [threading.Thread(target=lambda i=i, n=n: q.put((i, cubic_sum(n)))) for i, n in enumerate(ns)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return [v for _, v in sorted(q.get() for _ in ns)]

    feedback = lesson02.check_cpu_processes(in_threads)
    assert not feedback.ok
    assert "in threads" in feedback.message


def test_cpu_results_in_finishing_order_are_rejected():
    feedback = lesson02.check_cpu_processes(lambda ns: [cubic_sum(n) for n in reversed(ns)], sizes=SMALL)
    assert not feedback.ok
    assert "out of order" in feedback.message and "input order" in feedback.message


def test_cpu_shared_queue_answer_is_rejected_as_out_of_order():
    """The mistake itself: one Queue for all processes; the shortest job (given last) finishes first."""
    def shared_queue(ns):
        ctx = mplessons.context("fork")
        q = ctx.Queue()
        processes = [ctx.Process(target=cubic_sum_to_queue, args=(q, n)) for n in ns]
        for p in processes:
            p.start()
        results = [q.get() for _ in ns]
        for p in processes:
            p.join()
        return results

    feedback = lesson02.check_cpu_processes(shared_queue, sizes=[3_000_000, 1_000])
    assert not feedback.ok
    assert "out of order" in feedback.message
