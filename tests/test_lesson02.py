"""Lesson 02's exercise checks: the shipped solutions pass, typical wrong answers get a message saying what is wrong.

Both checks call the student's function with inputs of their own: exercise 1 a ``fetch`` that records which
thread ran it and when, exercise 2 a recording multiprocessing context (``mplessons.checks.observe``).
"""

from __future__ import annotations

import queue
import threading

import pytest

import mplessons
from mplessons.checks import lesson02
from mplessons.workloads import cubic_sum, cubic_sum_to_queue

# --- exercise 1: threads for waiting -------------------------------------------------------------------


def threads_in_order(fetch, values):
    results = [None] * len(values)

    def work(i, value):
        results[i] = fetch(value)

    threads = [threading.Thread(target=work, args=(i, v)) for i, v in enumerate(values)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def threads_one_after_another(fetch, values):
    """Start then join each thread inside the loop: correct results, no overlap."""
    results = [None] * len(values)

    def work(i, value):
        results[i] = fetch(value)

    for i, v in enumerate(values):
        t = threading.Thread(target=work, args=(i, v))
        t.start()
        t.join()
    return results


def threads_shared_queue(fetch, values):
    """Results in the order the threads finish (the check's fetch makes the first value finish last)."""
    q: queue.Queue = queue.Queue()
    threads = [threading.Thread(target=lambda v=v: q.put(fetch(v))) for v in values]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [q.get() for _ in values]


def threads_losing_return_values(fetch, values):
    threads = [threading.Thread(target=fetch, args=(v,)) for v in values]
    for t in threads:
        t.start()
    return [t.join() for t in threads]


def called_instead_of_passed(fetch, values):
    """Lesson 02 section 6's slip: Thread(target=results.append(fetch(v))) does the work here, at creation."""
    results = []
    threads = [threading.Thread(target=results.append(fetch(v))) for v in values]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


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
    assert "did not all overlap" in feedback.message and "before you join" in feedback.message


def test_io_call_instead_of_pass_gets_its_own_diagnosis():
    feedback = lesson02.check_io_threads(called_instead_of_passed)
    assert not feedback.ok
    assert "in the thread that called run_in_threads" in feedback.message
    assert "target=results.append(fetch(v))" in feedback.message and "before you join" not in feedback.message


def test_io_out_of_order_answer_is_rejected():
    feedback = lesson02.check_io_threads(threads_shared_queue)
    assert not feedback.ok
    assert "out of order" in feedback.message


def test_io_lost_return_values_are_explained():
    feedback = lesson02.check_io_threads(threads_losing_return_values)
    assert not feedback.ok
    assert "discards" in feedback.message


def test_io_a_function_that_waits_forever_is_reported_within_seconds():
    def never_started(fetch, values):
        q: queue.Queue = queue.Queue()
        [threading.Thread(target=lambda v=v: q.put(fetch(v))) for v in values]
        return [q.get() for _ in values]

    feedback = lesson02.check_io_threads(never_started)
    assert not feedback.ok and "with no fetch running" in feedback.message and "started" in feedback.message


def test_io_a_thread_that_raises_is_reported_and_not_printed(capsys):
    def bad_target(fetch, values):
        threads = [threading.Thread(target=lambda: 1 / 0) for _ in values]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return list(values)

    feedback = lesson02.check_io_threads(bad_target)
    assert not feedback.ok and "a thread raised ZeroDivisionError" in feedback.message
    assert threading.excepthook is not None and "ZeroDivisionError" not in capsys.readouterr().err


@pytest.mark.parametrize("answer, expected", [
    (42, "should be a function"),
    (lambda fetch, values: 1 / 0, "raised ZeroDivisionError"),
    (lambda fetch, values: threads_in_order(fetch, values)[:-1], "expected 5 results"),
    (lambda fetch, values: [v.upper() for v in threads_in_order(fetch, values)],
     "result 0 (input 'page-a') is 'PAGE-A'"),
    (lambda fetch, values: list(values), "fetch was called 0 times for 5 values"),
])
def test_io_other_mistakes_are_named(answer, expected):
    feedback = lesson02.check_io_threads(answer)
    assert not feedback.ok
    assert expected in feedback.message


# --- exercise 2: processes for computing ----------------------------------------------------------------

SMALL = [600_000, 150_000]  # quick, and the first still takes longest


def processes_in_order(ctx, ns):
    queues = [ctx.Queue() for _ in ns]
    processes = [ctx.Process(target=cubic_sum_to_queue, args=(q, n)) for q, n in zip(queues, ns, strict=True)]
    for p in processes:
        p.start()
    results = [q.get(timeout=60) for q in queues]
    for p in processes:
        p.join()
    return results


def processes_one_at_a_time(ctx, ns):
    """Serial, in children: each process is started only after the previous one's result was read."""
    out = []
    for n in ns:
        q = ctx.Queue()
        p = ctx.Process(target=cubic_sum_to_queue, args=(q, n))
        p.start()
        out.append(q.get(timeout=60))
        p.join()
    return out


def shared_queue(ctx, ns):
    q = ctx.Queue()
    processes = [ctx.Process(target=cubic_sum_to_queue, args=(q, n)) for n in ns]
    for p in processes:
        p.start()
    results = [q.get(timeout=60) for _ in ns]
    for p in processes:
        p.join()
    return results


def in_threads(ctx, ns):
    q: queue.Queue = queue.Queue()
    threads = [threading.Thread(target=lambda i=i, n=n: q.put((i, cubic_sum(n)))) for i, n in enumerate(ns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [v for _, v in sorted(q.get() for _ in ns)]


def test_cpu_placeholder_is_not_attempted_and_does_not_raise():
    feedback = lesson02.check_cpu_processes(...)
    assert not feedback.ok and not feedback.attempted


def test_cpu_solution_passes(start_method):
    feedback = lesson02.check_cpu_processes(processes_in_order, start_method=start_method)
    assert feedback.ok, feedback


@pytest.mark.parametrize("answer, expected", [
    (processes_one_at_a_time, "ran one after another"),
    (shared_queue, "out of order"),
    (in_threads, "in threads"),
    (lambda ctx, ns: [cubic_sum(n) for n in ns], "computed in this process"),
    (lambda ctx, ns: [cubic_sum(n) for n in reversed(ns)], "computed in this process"),
])
def test_cpu_mistakes_are_named(answer, expected):
    feedback = lesson02.check_cpu_processes(answer, sizes=SMALL)
    assert not feedback.ok
    assert expected in feedback.message, feedback.message


def test_cpu_a_pool_is_not_the_technique_asked_for(start_method):
    def with_a_pool(ctx, ns):
        with ctx.Pool(2) as pool:
            return pool.map(cubic_sum, ns)

    feedback = lesson02.check_cpu_processes(with_a_pool, sizes=SMALL, start_method=start_method)
    assert not feedback.ok and "started no process with ctx.Process" in feedback.message


def test_cpu_the_check_uses_the_start_method_it_is_given():
    seen = []

    def records_method(ctx, ns):
        seen.append(ctx.get_start_method())
        return processes_in_order(ctx, ns)

    assert lesson02.check_cpu_processes(records_method, sizes=SMALL, start_method="spawn")
    assert seen == ["spawn"] and mplessons.context("spawn").get_start_method() == "spawn"
