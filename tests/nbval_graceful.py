"""A pytest plugin for the notebook runs (``make test-notebooks`` loads it with ``-p nbval_graceful``).

nbval stops each kernel with ``shutdown_kernel(now=True)``: SIGKILL to the kernel's whole process group,
which takes multiprocessing's resource tracker down with it, so the named semaphores of every Pool still
referenced in the notebook stay in /dev/shm for good. JupyterLab asks kernels to shut down; so do we (and
let them finish while the next notebook runs). At the end the run must have left nothing in /dev/shm of
what its kernels registered with the resource tracker (as tests/test_leaks.py checks lesson by lesson).
Only those names count: other runs side by side (start methods, Pythons) and other programs use /dev/shm too.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import nbval.kernel
import pytest
from jupyter_client.manager import KernelManager
from support import RECORD_REGISTERED, SHM, left_in_shm

_stopping: list[KernelManager] = []
_records: list[Path] = []
_record_dir = Path(tempfile.mkdtemp(prefix="mplessons-nbval-"))
_start_kernel = nbval.kernel.RunningKernel.__init__


def _start_recording(self: nbval.kernel.RunningKernel, *args, **kwargs) -> None:
    """Start nbval's kernel, then (silently: no output, no execution count) make it record what it registers."""
    _start_kernel(self, *args, **kwargs)
    log = _record_dir / f"kernel-{len(_records)}.txt"
    _records.append(log)
    msg_id = self.kc.execute(RECORD_REGISTERED.format(log=str(log)), silent=True, store_history=False)
    while (reply := self.get_message(stream="shell", timeout=60))["parent_header"].get("msg_id") != msg_id:
        pass
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"the kernel could not start recording its resources: {reply['content']}")
    self.await_idle(msg_id, timeout=60)


def _stop_gracefully(self: nbval.kernel.RunningKernel) -> None:
    self.kc.stop_channels()
    self.km.request_shutdown()
    _stopping.append(self.km)
    del self.km


nbval.kernel.RunningKernel.__init__ = _start_recording
nbval.kernel.RunningKernel.stop = _stop_gracefully


def left_behind() -> list[Path]:
    return sorted({path for log in _records for path in left_in_shm(log)})


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for km in _stopping:  # escalates to SIGTERM, then SIGKILL, only for a kernel that has not exited in 10 s
        km.finish_shutdown(waittime=10)
        km.cleanup_resources()
    if not SHM.is_dir():
        return
    try:
        _fail_on_leftovers(session)
    finally:
        shutil.rmtree(_record_dir, ignore_errors=True)


def _fail_on_leftovers(session: pytest.Session) -> None:
    deadline = time.monotonic() + 3  # the resource tracker may still be unlinking after its kernel exited
    while (left := left_behind()) and time.monotonic() < deadline:
        time.sleep(0.1)
    if left:
        for path in left:  # they are this run's own: remove them, so failed runs do not pile up segments
            path.unlink(missing_ok=True)
        session.config.pluginmanager.get_plugin("terminalreporter").write_line(
            f"mplessons: the notebooks left {len(left)} multiprocessing names in /dev/shm (now removed): "
            f"{[p.name for p in left][:10]}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
