"""A pytest plugin for the notebook runs (``make test-notebooks`` loads it with ``-p nbval_graceful``).

nbval stops each kernel with ``shutdown_kernel(now=True)``: SIGKILL to the kernel's whole process group,
which takes multiprocessing's resource tracker down with it, so the named semaphores of every Pool still
referenced in the notebook stay in /dev/shm for good. JupyterLab asks kernels to shut down; so do we (and
let them finish while the next notebook runs). At the end the run must have left no new multiprocessing
names in /dev/shm, as tests/test_leaks.py checks lesson by lesson.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import nbval.kernel
import pytest
from jupyter_client.manager import KernelManager

SHM = Path("/dev/shm")
# multiprocessing's semaphores (``mp-``; ``loky-`` once loky is imported: it renames them) and shared memory
OURS = re.compile(r"^(sem\.(mp|loky)-|psm_)")
_stopping: list[KernelManager] = []


def _stop_gracefully(self: nbval.kernel.RunningKernel) -> None:
    self.kc.stop_channels()
    self.km.request_shutdown()
    _stopping.append(self.km)
    del self.km


nbval.kernel.RunningKernel.stop = _stop_gracefully


def _names() -> set[str]:
    return {n for n in os.listdir(SHM) if OURS.match(n)} if SHM.is_dir() else set()


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config._mplessons_shm_before = _names()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for km in _stopping:  # escalates to SIGTERM, then SIGKILL, only for a kernel that has not exited in 10 s
        km.finish_shutdown(waittime=10)
        km.cleanup_resources()
    before = getattr(session.config, "_mplessons_shm_before", None)
    if before is None:
        return
    deadline = time.monotonic() + 3  # the resource tracker may still be unlinking after its kernel exited
    while (left := _names() - before) and time.monotonic() < deadline:
        time.sleep(0.1)
    if left:
        session.config.pluginmanager.get_plugin("terminalreporter").write_line(
            f"mplessons: the notebooks left {len(left)} multiprocessing names in /dev/shm: {sorted(left)[:10]}",
            red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
