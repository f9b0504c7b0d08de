"""Interrupting a kernel mid-run (the stop button) leaves no worker behind and the kernel keeps answering.

JupyterLab's stop button sends SIGINT to the kernel's whole process group, so workers get it too. Both
``run_tasks`` and a lesson-style ``with ctx.Pool(...)`` cell must end with every worker gone within seconds.
The resource tracker and the forkserver server stay by design; ``stray_processes`` leaves them out.
"""

from __future__ import annotations

import os
import signal
import time
from queue import Empty

import psutil
import pytest
from support import stray_processes

pytestmark = pytest.mark.slow

CELLS = {
    "run_tasks": (
        "import mplessons\n"
        "from mplessons import workloads\n"
        "mplessons.run_tasks(workloads.sleep_then_return, [30] * 4, workers=2, chunksize=1)\n"
    ),
    "with_pool": (
        "import mplessons\n"
        "from mplessons import workloads\n"
        "ctx = mplessons.context()\n"
        "with ctx.Pool(2) as pool:\n"
        "    pool.map(workloads.sleep_then_return, [30] * 4)\n"
    ),
    "pool_close_join": (  # the other idiom the lessons teach: close() then join() in a finally
        "import mplessons\n"
        "from mplessons import workloads\n"
        "ctx = mplessons.context()\n"
        "pool = ctx.Pool(2)\n"
        "try:\n"
        "    pool.map(workloads.sleep_then_return, [30] * 4)\n"
        "finally:\n"
        "    pool.terminate()\n"
        "    pool.join()\n"
    ),
}


def _wait_for_workers(kernel_process: psutil.Process, count: int, timeout: float = 60) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = stray_processes(kernel_process)
        if len(workers) >= count:
            return workers
        time.sleep(0.05)
    raise AssertionError(f"the cell did not start {count} workers within {timeout} s")


def _wait_for_idle(kernel, msg_id: str, timeout: float) -> str | None:
    """Drain the cell's messages until the kernel is idle; return the error name the cell ended with."""
    deadline = time.monotonic() + timeout
    ename = None
    while time.monotonic() < deadline:
        try:
            msg = kernel.client.get_iopub_msg(timeout=max(0.01, deadline - time.monotonic()))
        except Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "error":
            ename = msg["content"]["ename"]
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return ename
    raise AssertionError(f"the kernel was still busy {timeout} s after the interrupt")


@pytest.mark.parametrize(("cell", "whole_group"), [(c, True) for c in sorted(CELLS)] + [("run_tasks", False)])
def test_interrupt_leaves_no_worker_and_the_kernel_answers(kernel_factory, start_method, cell, whole_group):
    """``whole_group=False``: SIGINT reaches the kernel only (as from ``kill -INT``), not its workers."""
    kernel = kernel_factory(start_method)
    kernel.run("import mplessons, psutil").raise_if_error()  # imports outside the timed part
    kernel_process = psutil.Process(kernel.pid)

    msg_id = kernel.client.execute(CELLS[cell])
    _wait_for_workers(kernel_process, 2)
    time.sleep(0.5)  # let the workers pick up their tasks
    interrupted = time.monotonic()
    if whole_group:
        kernel.interrupt()  # what the stop button does: jupyter_client signals the kernel's process group
    else:
        os.kill(kernel.pid, signal.SIGINT)
    assert _wait_for_idle(kernel, msg_id, timeout=10) == "KeyboardInterrupt"

    while (left := stray_processes(kernel_process)) and time.monotonic() - interrupted < 5:
        time.sleep(0.05)
    assert left == [], f"workers left 5 s after the interrupt: {[(p.pid, p.cmdline()) for p in left]}"

    answer = kernel.run("print(6 * 7)", timeout=10).raise_if_error()
    assert answer.stdout.strip() == "42"
