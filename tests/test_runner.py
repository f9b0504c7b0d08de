import functools
import gc
import os
import time
from multiprocessing import synchronize, util

import pytest
import workers_for_tests as w

import mplessons
from mplessons import run_tasks, workloads


@pytest.mark.parametrize("backend", ["serial", "thread", "process"])
def test_results_come_back_in_input_order_with_a_record_per_task(backend):
    workers = 1 if backend == "serial" else 2
    run = run_tasks(workloads.square, range(20), backend=backend, workers=workers, chunksize=3)
    assert run.results == [x * x for x in range(20)]
    assert [t.index for t in run.tasks] == list(range(20))
    assert all(0 <= t.start <= t.end <= run.seconds for t in run.tasks)
    assert run.backend == backend and run.workers == workers and run.chunksize == 3


def test_process_backend_under_every_start_method(start_method):
    run = run_tasks(workloads.power_digits, range(1, 5), workers=2, start_method=start_method)
    assert run.results == [236125, 294538, 337000, 370393]
    assert run.start_method == start_method
    assert all(isinstance(t.worker, int) and t.worker > 0 for t in run.tasks), "process workers are named by pid"
    assert os.getpid() not in {t.worker for t in run.tasks}


def test_tasks_of_a_chunk_follow_each_other_on_one_worker():
    """One clock reading per task: each task of a chunk starts when the one before it ended."""
    run = run_tasks(workloads.sleep_then_return, [0.05] * 6, workers=2, chunksize=3, start_method="fork")
    for first in (0, 3):
        chunk = run.tasks[first:first + 3]
        assert len({t.worker for t in chunk}) == 1
        assert all(a.end == b.start for a, b in zip(chunk, chunk[1:], strict=False))
        assert all(0.04 < t.end - t.start < 1 for t in chunk)


def test_a_timeout_inside_a_chunk_counts_its_finished_tasks_as_done(start_method):
    with pytest.raises(mplessons.TaskTimeoutError) as err:
        run_tasks(workloads.sleep_then_return, [0.01, 0.01, 30, 0.01, 0.01], workers=1, chunksize=5, timeout=2,
                  start_method=start_method)
    assert err.value.unfinished == [2, 3, 4]


def test_the_first_unstamped_task_of_a_started_chunk_is_the_one_running():
    import multiprocessing

    from mplessons.process_backend import _SharedProgress
    from mplessons.runner import _chunks

    progress = _SharedProgress(multiprocessing.get_context(), list(_chunks(list(range(9)), 3)))
    # chunk 0 finished (start + 3 ends), chunk 1 started and finished one task, chunk 2 not started
    for slot in (0, 1, 2, 3, 4, 5):
        progress.marks[slot] = 1.0 + slot
    progress.workers[0], progress.workers[1] = 11, 22
    running, unfinished = progress.unfinished()
    assert running == {4: 22}
    assert unfinished == [4, 5, 6, 7, 8]
    assert [len(times) for _, _, times in progress.spans()] == [4, 4, 4]
    progress.release()


def test_two_workers_really_overlap_in_time():
    run = run_tasks(workloads.sleep_then_return, [0.3, 0.3], backend="thread", workers=2, chunksize=1)
    first, second = run.tasks
    assert first.start < second.end and second.start < first.end
    assert run.seconds < 0.55


def test_auto_chunksize_is_pool_maps():
    run = run_tasks(workloads.square, range(100), backend="thread", workers=2)
    assert run.chunksize == 13  # ceil(100 / (2 workers * 4))


def test_a_task_exception_comes_back_with_its_index(start_method):
    with pytest.raises(ValueError, match="task refused input 2") as err:
        run_tasks(w.fail_on, range(5), workers=2, start_method=start_method)
    assert any("task 2" in note for note in getattr(err.value, "__notes__", ["task 2"]))


def test_a_dead_worker_is_an_error_naming_the_task(start_method):
    started = time.perf_counter()
    with pytest.raises(mplessons.WorkerCrashedError) as err:
        run_tasks(w.exit_on, range(6), workers=2, chunksize=1, start_method=start_method)
    assert time.perf_counter() - started < 5
    assert err.value.task_index == 3 and err.value.exitcode == 3
    assert "exited with code 3" in str(err.value) and "task 3" in str(err.value)


def test_timeout_stops_the_workers(start_method):
    started = time.perf_counter()
    with pytest.raises(mplessons.TaskTimeoutError) as err:
        run_tasks(workloads.sleep_then_return, [0.01, 30, 30], workers=2, chunksize=1, timeout=2,
                  start_method=start_method)
    assert time.perf_counter() - started < 5
    assert err.value.unfinished == [1, 2]
    assert "timeout=2 s ran out with 2 of 3 tasks unfinished" in str(err.value)



def _live_semaphores() -> int:
    """This process's named semaphores whose clean-up (unlink, unregister) has not run yet."""
    return sum(f._callback is synchronize.SemLock._cleanup for f in list(util._finalizer_registry.values()))


@pytest.mark.parametrize(("fn", "items", "error"), [
    (workloads.sleep_then_return, [0.01, 30, 30], mplessons.TaskTimeoutError),
    (w.kill_self_on, range(6), mplessons.WorkerCrashedError),
], ids=["timeout", "crash"])
def test_a_stopped_run_frees_its_semaphores_at_once(start_method, fn, items, error):
    """Not at some later garbage collection: one that runs inside the resource tracker makes Python 3.12 and
    3.13.0 warn "ResourceTracker called reentrantly ... semaphore might leak" (CPython gh-131788)."""
    gc.collect()
    gc.disable()  # what is left in reference cycles stays alive, so the count sees it
    try:
        before = _live_semaphores()
        with pytest.raises(error):
            run_tasks(fn, items, workers=2, chunksize=1, timeout=2, start_method=start_method)
        assert _live_semaphores() == before, "the stopped pool's semaphores wait for the garbage collector"
    finally:
        gc.enable()

@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"workers": 0}, ValueError, r"workers must be in 1\.\.\d+, got 0"),
        ({"workers": -1}, ValueError, "workers must be in"),
        ({"workers": 1.5}, TypeError, "workers must be a whole number"),
        ({"workers": "2"}, TypeError, "workers must be a whole number"),
        ({"workers": 10**6}, ValueError, "workers must be in"),
        ({"backend": "gpu"}, ValueError, "unknown backend 'gpu'; choose one of 'serial'"),
        ({"backend": "serial", "workers": 2}, ValueError, "serial backend always uses 1 worker"),
        ({"chunksize": 0}, ValueError, "chunksize must be in"),
        ({"timeout": -1}, ValueError, "timeout must be a finite number greater than 0"),
        ({"timeout": "soon"}, TypeError, "timeout must be a number"),
        ({"start_method": "fast"}, ValueError, "start_method"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        run_tasks(workloads.square, range(4), **kwargs)


@pytest.mark.parametrize(("items", "error", "pattern"), [([], ValueError, "items is empty"),
                                                          (5, TypeError, "items must be an iterable"),
                                                          ("abc", TypeError, "not a str")])
def test_bad_items_are_refused(items, error, pattern):
    with pytest.raises(error, match=pattern):
        run_tasks(workloads.square, items)


def test_unpicklable_function_is_refused_before_processes_start():
    with pytest.raises(mplessons.InteractiveFunctionError, match="lambda"):
        run_tasks(lambda x: x, range(3), workers=2)
    assert run_tasks(functools.partial(workloads.sleep_then_return, 0), [1, 2], workers=2).results == [1, 2]
