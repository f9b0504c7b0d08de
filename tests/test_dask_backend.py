"""backend="dask": an embedded LocalCluster, a real `dask scheduler` + `dask worker` processes, and the errors.

The embedded cluster is started once for this module (starting worker processes costs seconds on a small
machine) and closed at the module's end, where the usual "no child processes left" check then runs in full.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import workers_for_tests as w
from support import free_port, process_command, stray_processes

import mplessons
from mplessons import dask_backend, run_tasks, workloads

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")

POWER_DIGITS_1_TO_8 = [236125, 294538, 337000, 370393, 397922, 421345, 441729, 459774]


def _cluster_pids() -> set[int]:
    """Pids of the embedded cluster's worker processes (allowed to live between this module's tests)."""
    client, cluster = dask_backend._client, dask_backend._cluster
    if client is None or cluster is None:
        return set()
    try:
        client.wait_for_workers(len(cluster.workers), timeout=30)  # a crashed worker's replacement included
        return set(client.run(os.getpid, wait=True).values())
    except Exception:  # noqa: BLE001 - a worker restarting: the module-end check still catches leaks
        return {p.pid for p in stray_processes()}


@pytest.fixture(autouse=True)
def _no_stray_children():
    """Overrides conftest's check: the shared cluster's workers may stay until the module ends."""
    yield
    allowed = _cluster_pids()
    deadline = time.time() + 5
    while (left := [p for p in stray_processes() if p.pid not in allowed]) and time.time() < deadline:
        time.sleep(0.05)
    assert not left, f"test left child processes behind: {[(p.pid, process_command(p)) for p in left]}"


@pytest.fixture(scope="module", autouse=True)
def _close_cluster_at_module_end():
    dask_backend.close()
    yield
    dask_backend.close()
    deadline = time.time() + 10
    while (left := stray_processes()) and time.time() < deadline:
        time.sleep(0.1)
    assert not left, f"dask processes left after close(): {[(p.pid, process_command(p)) for p in left]}"


@pytest.fixture
def no_scheduler_env(monkeypatch):
    monkeypatch.delenv(dask_backend.SCHEDULER_ENV, raising=False)


# --- the embedded LocalCluster ----------------------------------------------------------------------


def test_local_cluster_gives_results_in_order_with_a_record_per_task(no_scheduler_env):
    run = run_tasks(workloads.power_digits, range(1, 9), backend="dask", chunksize=2)
    assert run.results == POWER_DIGITS_1_TO_8
    assert run.backend == "dask" and run.chunksize == 2
    assert run.workers == mplessons.usable_cores()
    assert [t.index for t in run.tasks] == list(range(8))
    pids = {t.worker for t in run.tasks}
    assert os.getpid() not in pids and pids <= _cluster_pids(), "workers are named by their process ids"
    assert all(-0.05 <= t.start <= t.end <= run.seconds + 0.05 for t in run.tasks), run.tasks
    import dask

    assert run.start_method == dask.config.get("distributed.worker.multiprocessing-method")
    client = dask_backend.get_client()
    assert client.dashboard_link.startswith("http://127.0.0.1:"), "the dashboard listens on loopback only"
    assert all(a.startswith("tcp://127.0.0.1:") for a in client.scheduler_info(n_workers=-1)["workers"])


def test_workers_restricts_the_run_to_that_many_processes(no_scheduler_env):
    run = run_tasks(workloads.square, range(40), backend="dask", workers=1, chunksize=5)
    assert run.results == [x * x for x in range(40)]
    assert run.workers == 1 and len({t.worker for t in run.tasks}) == 1


def test_functions_defined_here_travel_by_value(no_scheduler_env):
    """dask pickles functions with cloudpickle, so a lambda works on its workers (it cannot on a spawn Pool)."""
    offset = 7
    run = run_tasks(lambda x: x + offset, [1, 2, 3], backend="dask")
    assert run.results == [8, 9, 10]


def test_a_task_error_reaches_the_caller_with_its_index(no_scheduler_env):
    with pytest.raises(TypeError) as info:
        run_tasks(workloads.digit_count, [1, 2, "three", 4], backend="dask", chunksize=1)
    assert any("task 2" in note for note in getattr(info.value, "__notes__", [])), info.value


def test_timeout_raises_and_the_cluster_stays_usable(no_scheduler_env):
    started = time.perf_counter()
    with pytest.raises(mplessons.TaskTimeoutError) as info:
        run_tasks(workloads.sleep_then_return, [30, 30, 30], backend="dask", chunksize=1, timeout=0.5)
    assert time.perf_counter() - started < 25, "the timeout must not wait for the 30 s tasks"
    assert info.value.unfinished == [0, 1, 2]
    assert "restarted" in str(info.value)
    assert run_tasks(workloads.square, [3], backend="dask").results == [9]


def test_a_dying_worker_is_a_worker_crashed_error(no_scheduler_env):
    with pytest.raises(mplessons.WorkerCrashedError, match="died while running task 1") as info:
        run_tasks(w.exit_on, [1, 3], backend="dask", chunksize=1, workers=1)
    assert info.value.task_index == 1
    assert run_tasks(workloads.square, [4], backend="dask").results == [16]


def test_close_stops_every_worker_and_the_next_run_starts_again(no_scheduler_env):
    run_tasks(workloads.square, [1], backend="dask")
    pids = _cluster_pids()
    assert pids
    dask_backend.close()
    dask_backend.close()  # safe to repeat
    assert not pids & {p.pid for p in stray_processes()}
    with dask_backend.session() as client:
        assert client.submit(workloads.square, 5).result() == 25
    assert dask_backend._client is None and not stray_processes()


# --- errors that need no cluster --------------------------------------------------------------------


def test_without_dask_the_error_says_how_to_install_it(monkeypatch, no_scheduler_env):
    monkeypatch.setitem(sys.modules, "distributed", None)  # what `import distributed` sees when not installed
    with pytest.raises(ImportError, match=r"pip install \"mplessons\[dask\]\""):
        run_tasks(workloads.square, [1], backend="dask")


def test_a_missing_scheduler_is_a_clear_error_within_10_s(monkeypatch):
    monkeypatch.setenv(dask_backend.SCHEDULER_ENV, f"tcp://127.0.0.1:{free_port()}")
    started = time.perf_counter()
    with pytest.raises(ConnectionError, match="could not reach a dask scheduler at tcp://127.0.0.1:") as info:
        run_tasks(workloads.square, [1], backend="dask")
    assert time.perf_counter() - started < 10
    assert dask_backend.SCHEDULER_ENV in str(info.value)


@pytest.mark.parametrize("address", ["", "not an address", "tcp://", 8786])
def test_a_malformed_scheduler_address_names_the_parameter(address):
    with pytest.raises(ValueError, match="scheduler must be a dask scheduler address"):
        run_tasks(workloads.square, [1], backend="dask", scheduler=address)


def test_scheduler_is_refused_for_other_backends():
    with pytest.raises(ValueError, match="only used with backend='dask'"):
        run_tasks(workloads.square, [1], backend="thread", scheduler="tcp://127.0.0.1:8786")


# --- a real `dask scheduler` and two `dask worker` processes ----------------------------------------


@pytest.fixture
def real_cluster(monkeypatch):
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1; all stopped afterwards, even on failure."""
    dask_backend.close()
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "dask"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True}
    processes = [subprocess.Popen([*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                   "--no-dashboard"], **quiet)]
    try:
        for _ in range(2):
            processes.append(subprocess.Popen(
                [*dask, "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny",
                 "--no-dashboard", "--death-timeout", "30"], **quiet))
        with distributed.Client(address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
        monkeypatch.setenv(dask_backend.SCHEDULER_ENV, address)
        yield address, {p.pid for p in processes[1:]}
    finally:
        dask_backend.close()  # disconnect before the scheduler goes
        for p in processes:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + 3  # a graceful stop, else no stop at all: a test must not hang here
        for p in processes:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def test_runs_on_a_real_scheduler_named_by_the_environment(real_cluster):
    address, worker_pids = real_cluster
    run = run_tasks(workloads.power_digits, range(1, 9), backend="dask", chunksize=1)
    assert run.results == POWER_DIGITS_1_TO_8
    assert dask_backend.get_client().scheduler.address == address
    assert run.workers == 2, "workers=None uses every worker of an existing cluster"
    assert {t.worker for t in run.tasks} <= worker_pids, "the tasks ran in the `dask worker` processes"
    assert run.start_method is None, "this process did not start those workers"
    assert all(-0.05 <= t.start <= t.end <= run.seconds + 0.05 for t in run.tasks)
