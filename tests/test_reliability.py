"""A worker that dies (SIGKILL, os._exit, segfault) or a run that times out ends the run at once, cleanly.

A bare ``Pool.map`` waits forever for a task whose worker died; ``run_tasks`` must raise within seconds,
name the task, stop every worker, and leave no Pool for the garbage collector to finish.
"""

from __future__ import annotations

import functools
import gc
import multiprocessing.pool
import os
import signal
import subprocess
import sys
import time
import warnings

import psutil
import pytest
import workers_for_tests as w

import mplessons
from mplessons import run_tasks, workloads

DEATHS = {
    "sigkill": (w.kill_self_on, -signal.SIGKILL, "killed by SIGKILL"),
    "os_exit": (w.exit_on, 3, "exited with code 3"),
    "segfault": (w.segfault_on, -signal.SIGSEGV, "killed by SIGSEGV"),
}


def _live_pools() -> list[multiprocessing.pool.Pool]:
    gc.collect()
    return [o for o in gc.get_objects() if isinstance(o, multiprocessing.pool.Pool)]


def _children() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True)
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE
            and not any(h in " ".join(p.cmdline()) for h in ("resource_tracker", "forkserver"))]


@pytest.fixture
def clean_run():
    """Run the code under test with ResourceWarnings recorded; afterwards no Pool and no worker may be left."""
    pools_before = {id(p) for p in _live_pools()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield
        gc.collect()  # an unclosed Pool warns from its __del__
    assert [p for p in _live_pools() if id(p) not in pools_before] == [], "a Pool was left to the GC"
    assert not [str(c.message) for c in caught if issubclass(c.category, ResourceWarning)]
    assert _children() == [], "workers are still running right after run_tasks returned"


@pytest.mark.parametrize("death", sorted(DEATHS))
def test_a_dying_worker_ends_the_run_within_5_s_naming_the_task(start_method, death, clean_run):
    fn, exitcode, words = DEATHS[death]
    started = time.perf_counter()
    with pytest.raises(mplessons.WorkerCrashedError) as err:
        run_tasks(fn, range(8), workers=2, chunksize=1, start_method=start_method)
    assert time.perf_counter() - started < 5
    assert err.value.task_index == 3, str(err.value)
    assert err.value.exitcode == exitcode
    assert words in str(err.value) and "task 3" in str(err.value)


@pytest.mark.parametrize("death", sorted(DEATHS))
def test_a_dying_worker_in_a_big_chunk_is_still_noticed(start_method, death, clean_run):
    """With the automatic chunk size the dead worker held several tasks; the index is still the running one."""
    fn = DEATHS[death][0]
    started = time.perf_counter()
    with pytest.raises(mplessons.WorkerCrashedError) as err:
        run_tasks(fn, range(40), workers=2, start_method=start_method)
    assert time.perf_counter() - started < 5
    assert err.value.task_index in (3, None)


def test_a_worker_killed_from_outside_is_noticed(start_method, clean_run, tmp_path):
    """The out-of-memory killer does not ask: kill the worker running a long task from the test."""
    import threading

    marker = tmp_path / "started"

    def kill_the_worker_once_its_task_runs() -> None:
        deadline = time.monotonic() + 30
        while not marker.exists() or not marker.read_text():
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)
        psutil.Process(int(marker.read_text())).kill()

    killer = threading.Thread(target=kill_the_worker_once_its_task_runs, daemon=True)
    killer.start()
    started = time.perf_counter()
    with pytest.raises(mplessons.WorkerCrashedError) as err:
        run_tasks(w.announce_then_sleep, [(str(tmp_path / "other"), 0.01), (str(marker), 30)], workers=2,
                  chunksize=1, start_method=start_method)
    killer.join()
    assert time.perf_counter() - started < 30
    assert err.value.exitcode == -signal.SIGKILL
    assert err.value.task_index == 1, str(err.value)


def test_timeout_raises_and_stops_every_worker(start_method, clean_run):
    started = time.perf_counter()
    with pytest.raises(mplessons.TaskTimeoutError) as err:
        run_tasks(workloads.sleep_then_return, [30] * 4, workers=2, chunksize=1, timeout=1,
                  start_method=start_method)
    assert time.perf_counter() - started < 5
    assert err.value.unfinished == [0, 1, 2, 3]


def test_a_failed_run_leaves_the_next_one_working(start_method, clean_run):
    """Nothing global is poisoned by a crash: the next run in the same process succeeds."""
    with pytest.raises(mplessons.WorkerCrashedError):
        run_tasks(w.kill_self_on, range(6), workers=2, chunksize=1, start_method=start_method)
    run = run_tasks(functools.partial(w.exit_on, bad=-1), range(6), workers=2, start_method=start_method)
    assert run.results == list(range(6))


def test_a_successful_run_leaves_no_pool_or_worker(start_method, clean_run):
    assert run_tasks(workloads.square, range(10), workers=2, start_method=start_method).results[-1] == 81


def test_a_task_exception_stops_the_queued_tasks(start_method, clean_run):
    """The first failure ends the run: the 19 queued one-second tasks do not run on to the end (≈10 s)."""
    started = time.perf_counter()
    with pytest.raises(ValueError, match="task 0 failed"):
        run_tasks(w.fail_first_else_sleep, range(20), workers=2, chunksize=1, start_method=start_method)
    assert time.perf_counter() - started < 5


def test_a_worker_that_will_not_exit_cannot_hang_a_finished_run(start_method, clean_run):
    """Every result is in, but a worker's own clean-up takes a minute: the run still returns within seconds."""
    started = time.perf_counter()
    assert run_tasks(w.linger_at_exit, range(4), workers=2, start_method=start_method).results == [0, 1, 2, 3]
    assert time.perf_counter() - started < 15


def test_terminate_cannot_hang_on_a_lock_a_dead_worker_kept(start_method, clean_run):
    """Pool.terminate() waits forever for the result queue's write lock if a killed worker held it.

    Here the lock is taken and never given back, as by a worker killed mid-write; the watched terminate
    kills the idle workers after its patience runs out, gives the lock back for them, and returns.
    """
    from mplessons.process_backend import _terminate

    pool = mplessons.context(start_method).Pool(2)
    processes = list(pool._pool)
    assert pool._outqueue._wlock.acquire(timeout=5)
    started = time.perf_counter()
    _terminate(pool, processes, patience=0.2)
    assert time.perf_counter() - started < 10
    assert all(p.exitcode is not None for p in processes)


@pytest.mark.parametrize("backend", ["serial", "thread"])
def test_in_process_backends_time_out_too(backend):
    workers = 1 if backend == "serial" else 2
    with pytest.raises(mplessons.TaskTimeoutError):
        run_tasks(workloads.sleep_then_return, [0.3] * 6, backend=backend, workers=workers, chunksize=1, timeout=0.5)


@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_a_script_without_the_main_guard_gets_an_error_that_says_so(start_method, tmp_path):
    """Under spawn and forkserver each child imports the script; unguarded, it dies before its first task."""
    script = tmp_path / "unguarded.py"
    script.write_text("import mplessons\nfrom mplessons.workloads import square\n"
                      "print(mplessons.run_tasks(square, range(4), workers=2).results)\n")
    env = {**os.environ, "MPLESSONS_START_METHOD": start_method}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0
    # the error ends the traceback (the resource tracker may add a leaked-semaphore warning after it, for the
    # pool that the forkserver's own import of the script started and could not finish)
    errors = [line for line in done.stderr.splitlines() if line.startswith("mplessons.errors.")]
    assert len(errors) == 1 and errors[0].startswith("mplessons.errors.WorkerCrashedError"), done.stderr[-2000:]
    assert "before it ran any task" in errors[0] and "if __name__ == '__main__':" in errors[0]
    assert "inside the task" not in errors[0]
