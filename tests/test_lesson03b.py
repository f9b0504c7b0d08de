"""Lesson 03b: its worker functions under every start method, and the initializer exercise's check."""

from __future__ import annotations

import os
import pickle
import signal
from collections import Counter

import lesson03b_answers as answers
import pytest

from mplessons import lessons_toolkit as toolkit
from mplessons.checks import lesson03b
from mplessons.lessons_blas import limit_blas_threads, matrix_products, measure_oversubscription
from mplessons.machine import context

# --- the worker functions --------------------------------------------------------------------------------


def test_the_initializer_loads_one_model_per_worker_and_the_task_version_one_per_task(start_method):
    ctx = context(start_method)
    with ctx.Pool(2, initializer=toolkit.load_model, initargs=("m",)) as pool:
        once = pool.map(toolkit.predict, range(8), chunksize=1)
        each_time = pool.map(toolkit.predict_loading_each_time, range(8), chunksize=1)
    assert [a.y for a in once] == [3 * x + 1 for x in range(8)]
    per_worker = Counter(pid for pid, _ in {a.model for a in once})
    assert set(per_worker.values()) == {1}
    assert all(pid != os.getpid() for pid in per_worker)
    assert len({a.model for a in each_time}) == 8


def test_predict_without_the_initializer_says_how_to_fix_it():
    assert toolkit.model is None  # this process never ran load_model
    with pytest.raises(RuntimeError, match="initializer=load_model"):
        toolkit.predict(1)


def test_a_lock_reaches_pool_workers_through_initargs_but_not_as_a_task_argument(start_method):
    ctx = context(start_method)
    counter, lock = ctx.Value("i", 0), ctx.Lock()
    with ctx.Pool(2, initializer=toolkit.share_counter, initargs=(counter, lock)) as pool:
        assert sum(pool.map(toolkit.count_up, [500] * 4)) == 2_000
        with pytest.raises(RuntimeError, match="through inheritance"):
            pool.apply(toolkit.count_up_with, (counter, lock, 1))
    assert counter.value == 2_000


def test_maxtasksperchild_replaces_the_leaky_worker_after_that_many_chunks(start_method):
    ctx = context(start_method)
    with ctx.Pool(1, maxtasksperchild=3) as pool:
        held = pool.map(toolkit.leaky_task, range(6), chunksize=1)
        chunked = pool.map(toolkit.leaky_task, range(6), chunksize=2)
    assert [mb for _, mb in held] == [1, 2, 3, 1, 2, 3]
    assert len({pid for pid, _ in held}) == 2
    assert [mb for _, mb in chunked] == [1, 2, 3, 4, 5, 6] and len({pid for pid, _ in chunked}) == 1


@pytest.mark.parametrize("how", ["interrupt", "terminate"])
def test_sigint_lets_the_worker_clean_up_and_sigterm_does_not(start_method, how):
    ctx = context(start_method)
    events = ctx.Queue()
    child = ctx.Process(target=toolkit.work_until_interrupted, args=(events,))
    child.start()
    assert events.get(timeout=60) == "working"
    if how == "interrupt":
        os.kill(child.pid, signal.SIGINT)
    else:
        child.terminate()
    child.join(timeout=60)
    if how == "interrupt":
        assert child.exitcode == 0
        assert events.get(timeout=10).startswith("KeyboardInterrupt")
    else:
        assert child.exitcode == -signal.SIGTERM
        assert events.empty()


def test_a_connection_serves_lookups_and_cannot_be_pickled(tmp_path):
    conn = toolkit.connect(str(tmp_path / "prices.log"))
    row = conn.lookup(4)
    assert row == toolkit.Row(4, toolkit.price_of(4), (os.getpid(), conn.number), os.getpid())
    assert (tmp_path / "prices.log").read_text().splitlines()[0] == f"open {os.getpid()} {conn.number}"
    with pytest.raises(TypeError, match="pickle"):
        pickle.dumps(conn)


def test_limit_blas_threads_in_the_initializer_leaves_one_thread_per_worker(start_method):
    ctx = context(start_method)
    with ctx.Pool(1, initializer=limit_blas_threads, initargs=(1,)) as pool:
        report = pool.apply(matrix_products, (40,))
    assert report.blas_threads == 1 and report.pid != os.getpid() and report.seconds > 0


@pytest.mark.slow
def test_the_oversubscription_measurement_reports_both_setups():
    out = measure_oversubscription(context(), workers=2, size=60, tasks=4)
    assert set(out["seconds"]) == {"left alone", "one per worker"} and all(s > 0 for s in out["seconds"].values())
    assert out["blas_threads"]["one per worker"] == [1]
    assert out["blas_threads"]["left alone"] and min(out["blas_threads"]["left alone"]) >= 1
    assert out["slowdown"] == pytest.approx(out["seconds"]["left alone"] / out["seconds"]["one per worker"])


# --- the exercise's check ---------------------------------------------------------------------------------


def _check(run, open_connection=answers.open_connection, lookup=answers.lookup, start_method=None):
    answers.connection = None  # the parent's module global, as a fresh notebook would have it
    return lesson03b.check_lookups(run, open_connection, lookup, start_method=start_method)


def test_the_placeholder_is_not_attempted():
    feedback = lesson03b.check_lookups(..., ..., ...)
    assert not feedback.ok and not feedback.attempted


@pytest.mark.parametrize("run", [answers.run_lookups, answers.run_lookups_imap, answers.run_lookups_executor],
                         ids=["solution", "imap with close and join", "ProcessPoolExecutor"])
def test_right_answers_pass(start_method, run):
    feedback = _check(run, start_method=start_method)
    assert feedback.ok, feedback


@pytest.mark.parametrize(("run", "says"), [
    (answers.run_lookups_connecting_each_time, "once per task"),
    (answers.run_lookups_calling_the_initializer, "calls it once, here"),
    (answers.run_lookups_without_the_comma, "with the comma"),
    (answers.run_lookups_passing_a_connection, "initargs holds a connection you opened here"),
    (answers.run_lookups_without_global, "global connection"),
    (answers.run_lookups_with_a_failing_initializer, "this run would have hung"),
    (answers.run_lookups_serially, "ran here in the notebook"),
    (answers.run_lookups_with_a_lambda, "lambda"),
    (answers.run_lookups_lazily, "in its first task"),
    (answers.run_lookups_ignoring_ctx, "from the ctx it was given"),
], ids=lambda v: getattr(v, "__name__", "")[len("run_lookups_"):] or None)
def test_wrong_answers_get_their_diagnosis(run, says):
    feedback = _check(run)
    assert not feedback.ok and feedback.attempted
    assert says in feedback.message, feedback.message


def test_functions_workers_cannot_import_are_named_before_anything_runs():
    def lookup(key):  # a function inside a function: no worker can import it by name
        return key

    feedback = _check(answers.run_lookups, lookup=lookup)
    assert not feedback.ok and "`lookup` is a lambda or a function defined inside another one" in feedback.message


def test_a_rejected_answer_checked_again_unchanged_is_pointed_out():
    first = _check(answers.run_lookups_without_the_comma)
    again = _check(answers.run_lookups_without_the_comma)
    assert "you checked before" not in first.message
    assert "you checked before" in again.message and "with the comma" in again.message
    assert _check(answers.run_lookups).ok  # and a right answer afterwards is simply right
