"""``run_tasks(..., backend="dask")``: the same workers on dask.distributed, on this machine or a cluster.

dask.distributed is an existing, well-kept distributed engine; this module only adapts it to ``run_tasks``'s
contract (results in input order, per-task records, ``TaskTimeoutError``, ``WorkerCrashedError``).

Where the tasks run, first match wins:

1. ``scheduler="tcp://host:port"`` given to ``run_tasks`` / :func:`get_client`;
2. the environment variable ``MPLESSONS_DASK_SCHEDULER`` (the same notebook then runs on a real cluster);
3. an embedded ``LocalCluster`` on 127.0.0.1: one single-threaded worker *process* per usable core (more on
   request), the dashboard on a free port of 127.0.0.1. It starts on first use, is reused by later runs, and
   is closed by :func:`close` or when Python exits.

Worker ids in ``RunResult.tasks`` are the pids of the dask worker processes, as for the ``process`` backend
(on a cluster of several machines two workers may, rarely, share a pid). Task times are converted to this
process's clock through the wall clock, so machines with synchronised clocks give a true timeline.

Start methods: dask starts its worker processes itself, with its own setting
``distributed.worker.multiprocessing-method`` (default ``spawn``), whatever ``MPLESSONS_START_METHOD`` says.
That costs nothing in teaching value: dask workers are long-lived servers that receive each task's function
by (cloud)pickle over a socket, exactly as a worker on another machine would, so a task sees the same
thing under every start method. ``RunResult.start_method`` reports the method dask used (``None`` for a
cluster that this process did not start).
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .errors import TaskTimeoutError, WorkerCrashedError
from .i18n import N_, tr
from .machine import usable_cores
from .runner import ChunkSpans, RunResult, _chunks, _collect_chunks, _run_chunk, auto_chunksize

SCHEDULER_ENV = "MPLESSONS_DASK_SCHEDULER"
CONNECT_TIMEOUT = 5.0  # seconds: a scheduler that is not there is reported, not waited for
START_TIMEOUT = 60.0  # seconds for local worker processes to start on a busy machine
INSTALL_HINT = N_('backend="dask" needs dask.distributed, which is not installed here. Install it with: '
                  'pip install "mplessons[dask]"   (or: conda install -c conda-forge dask distributed)')
# host and port are both required: distributed has no default port and fails deep inside otherwise
_ADDRESS = re.compile(r"^([a-z][a-z0-9+]*://)?[^\s/:]+:\d+$|^[a-z][a-z0-9+]*://\[[0-9a-fA-F:]+\]:\d+$")

_lock = threading.RLock()
_client: Any = None
_cluster: Any = None  # the embedded LocalCluster, or None when connected to a scheduler we did not start
_address: str | None = None  # the scheduler asked for, or None for the embedded cluster


def install_hint() -> str:
    """What to install for ``backend="dask"``, in the student's language."""
    return tr(INSTALL_HINT)


def _distributed() -> Any:
    """Import dask.distributed, or say how to install it (it is an optional extra)."""
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(install_hint()) from exc
    return distributed


def scheduler_address(scheduler: str | None = None) -> str | None:
    """The scheduler to connect to: the argument, else ``$MPLESSONS_DASK_SCHEDULER``, else None (local)."""
    source = "scheduler"
    if scheduler is None:
        scheduler, source = os.environ.get(SCHEDULER_ENV, "").strip() or None, f"${SCHEDULER_ENV}"
    if scheduler is None:
        return None
    if not isinstance(scheduler, str) or not _ADDRESS.match(scheduler.strip()):
        raise ValueError(f"{source} must be a dask scheduler address such as 'tcp://127.0.0.1:8786', "
                         f"got {scheduler!r}")
    return scheduler.strip()


def get_client(scheduler: str | None = None, workers: int | None = None) -> Any:
    """The ``distributed.Client`` that ``backend="dask"`` uses, connecting or starting a cluster as needed.

    ``workers`` (embedded cluster only) makes sure at least that many worker processes exist.
    """
    distributed = _distributed()
    address = scheduler_address(scheduler)
    global _client, _cluster, _address
    with _lock:
        if _client is not None and (_address != address or _client.status != "running"):
            close()
        if _client is None:
            _client, _cluster = _connect(distributed, address) if address else _start_local(distributed, workers)
            _address = address
        elif _cluster is not None and workers is not None and workers > len(_cluster.workers):
            _cluster.scale(workers)
            _client.wait_for_workers(workers, timeout=START_TIMEOUT)
        return _client


def _connect(distributed: Any, address: str) -> tuple[Any, None]:
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ConnectionError(tr(
            "could not reach a dask scheduler at {address} within {seconds:g} s ({error}). Is `dask scheduler` "
            "running there, and is the address right? Unset ${variable} to use a local cluster instead.",
            address=address, seconds=CONNECT_TIMEOUT, error=type(exc).__name__, variable=SCHEDULER_ENV)) from None
    return client, None


def _start_local(distributed: Any, workers: int | None) -> tuple[Any, Any]:
    import dask

    n = max(workers or 0, usable_cores())
    # allowed_failures=0: a task whose worker dies is reported at once (dask retries it 3 times by default,
    # which on a real cluster rides out a lost machine, but here only repeats a crash).
    cluster = distributed.LocalCluster(
        n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0", silence_logs=logging.CRITICAL,
        scheduler_kwargs={"allowed_failures": 0})
    try:
        client = distributed.Client(cluster, set_as_default=False)
        client.wait_for_workers(n, timeout=START_TIMEOUT)
    except BaseException:
        cluster.close()
        raise
    cluster._mplessons_method = dask.config.get("distributed.worker.multiprocessing-method")
    return client, cluster


def close() -> None:
    """Disconnect, and stop the embedded cluster's processes if this module started one (safe to repeat)."""
    global _client, _cluster, _address
    with _lock:
        client, cluster = _client, _cluster
        _client = _cluster = _address = None
        if client is not None:
            try:
                client.close()
            finally:
                if cluster is not None:
                    cluster.close()


atexit.register(close)


@contextmanager
def session(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """``with session() as client:`` runs the block on a cluster and closes it afterwards, errors or not."""
    try:
        yield get_client(scheduler, workers)
    finally:
        close()


def dashboard_link() -> str | None:
    """The dashboard's address of the current client, or None before the first dask run."""
    return None if _client is None else _client.dashboard_link


# --- what runs on a dask worker ---------------------------------------------------------------------


def _run_chunk_on_dask(fn: Callable[[Any], Any], first_index: int, chunk: list[Any],
                       parent_offset: float) -> tuple[list[Any], ChunkSpans]:
    """``_run_chunk``, with times moved onto the parent's clock (they may be on another machine)."""
    results, (first, worker, times) = _run_chunk(fn, first_index, chunk, os.getpid())
    shift = (time.time() - time.perf_counter()) - parent_offset
    for k in range(len(times)):
        times[k] += shift
    return results, (first, worker, times)


# --- the parent's side ------------------------------------------------------------------------------


def _worker_addresses(client: Any) -> list[str]:
    return sorted(client.scheduler_info(n_workers=-1)["workers"])


def run_on_dask(fn: Callable[[Any], Any], items: list[Any], *, workers: int | None = None,
                chunksize: int | None = None, timeout: float | None = None,
                scheduler: str | None = None) -> RunResult:
    """Run ``fn`` over ``items`` in chunks on dask workers; see ``mplessons.run_tasks`` for the contract.

    ``workers=None`` uses every worker of the cluster (``usable_cores()`` on the embedded one); a smaller
    number restricts the run to that many workers, so a sweep over worker counts needs no new processes.
    """
    distributed = _distributed()
    client = get_client(scheduler, workers)
    addresses = _worker_addresses(client)
    if not addresses:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
        addresses = _worker_addresses(client)
    used = addresses if workers is None else addresses[:workers]
    chunksize = auto_chunksize(len(items), len(used)) if chunksize is None else chunksize
    restrict = None if len(used) == len(addresses) else used
    method = getattr(_cluster, "_mplessons_method", None)

    run_id = uuid.uuid4().hex[:8]
    t0 = time.perf_counter()
    offset = time.time() - t0
    futures = [client.submit(_run_chunk_on_dask, fn, first, chunk, offset, key=f"mplessons-{run_id}-{first}",
                             workers=restrict, allow_other_workers=False, pure=False)
               for first, chunk in _chunks(items, chunksize)]
    try:
        _wait(distributed, client, futures, timeout, t0, len(items), chunksize)
        results, spans = _collect_chunks(client.gather(futures), len(items))
    finally:
        client.cancel(futures, force=True)
    seconds = time.perf_counter() - t0
    return RunResult(results, seconds, spans, "dask", len(used), chunksize, method, t0)


def _wait(distributed: Any, client: Any, futures: list[Any], timeout: float | None, t0: float, n: int,
          chunksize: int) -> None:
    """Wait for all chunks, raising at the first failed chunk or when ``timeout`` runs out."""
    pending = set(futures)
    while pending:
        remaining = None if timeout is None else timeout - (time.perf_counter() - t0)
        try:
            if remaining is not None and remaining <= 0:
                raise TimeoutError
            with client.as_current():  # distributed.wait asks for the current client
                done, pending = distributed.wait(pending, timeout=remaining, return_when="FIRST_COMPLETED")
        except TimeoutError:
            _on_timeout(client, futures, timeout, n, chunksize)
        failed = [f for f in done if f.status == "error"]
        if failed:
            _raise_failure(distributed, failed, chunksize, n)


def _indices(future: Any, chunksize: int, n: int) -> range:
    first = int(str(future.key).rsplit("-", 1)[1])
    return range(first, min(first + chunksize, n))


def _raise_failure(distributed: Any, failed: list[Any], chunksize: int, n: int) -> None:
    killed = [f for f in failed if isinstance(f.exception(), distributed.KilledWorker)]
    if not killed:
        failed[0].result()  # re-raises the task's own exception, with the task index in its notes
    suspects = sorted({i for f in killed for i in _indices(f, chunksize, n)})
    index = suspects[0] if len(suspects) == 1 else None
    where = (tr("task {index}", index=index) if index is not None else
             tr("tasks {first}..{last}", first=suspects[0], last=suspects[-1]))
    raise WorkerCrashedError(tr(
        "a dask worker process died while running {where} (dask reported KilledWorker); the other tasks were "
        "cancelled and dask's nanny starts a fresh worker. Results of this run are lost: fix the task (or give "
        "it less memory to use) and run again.", where=where), task_index=index) from None


def _on_timeout(client: Any, futures: list[Any], timeout: float | None, n: int, chunksize: int) -> None:
    unfinished = sorted(i for f in futures if not f.done() for i in _indices(f, chunksize, n))
    keys = {f.key for f in futures if not f.done()}
    ours = _cluster is not None and client is _client
    busy = [w for w, running in client.processing().items() if keys & set(running)] if ours else []
    client.cancel(futures, force=True)
    if ours:
        # Our own cluster: end the worker processes still busy with this run's tasks (a running Python function
        # cannot be interrupted), so nothing runs on; dask's nanny starts fresh ones at once.
        if busy:
            for pid in client.run(os.getpid, workers=busy).values():
                os.kill(pid, signal.SIGKILL)
            _wait_for_replacements(client, busy)
        what = tr("the worker processes running them were stopped and are being restarted")
    else:
        what = tr("their futures were cancelled, but dask cannot stop a task that already runs: it finishes there")
    raise TaskTimeoutError(tr(
        "timeout={timeout:g} s ran out with {unfinished} of {count} tasks unfinished; {what}", timeout=timeout,
        unfinished=len(unfinished), count=n, what=what), unfinished=unfinished) from None


def _wait_for_replacements(client: Any, gone: list[str]) -> None:
    """Wait until the scheduler has dropped the stopped workers and their replacements joined: a task sent
    to a dying worker would otherwise be reported as a crash of the next run."""
    deadline = time.monotonic() + START_TIMEOUT
    while set(gone) & set(_worker_addresses(client)) and time.monotonic() < deadline:
        time.sleep(0.05)
    client.wait_for_workers(len(_cluster.workers), timeout=max(1.0, deadline - time.monotonic()))
