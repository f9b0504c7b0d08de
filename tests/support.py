"""What several test modules share: where the repository is, a real Jupyter kernel, stray-process checks, and
a record of the multiprocessing names a kernel registers (to tell its leftovers in /dev/shm from others').

A plain module rather than conftest.py, because the browser tests have a conftest.py of their own and two
modules named ``conftest`` cannot both be imported by name.
"""

from __future__ import annotations

import glob
import multiprocessing
import os
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty

from jupyter_client.manager import KernelManager

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SHM = Path("/dev/shm")
START_METHODS = [m for m in ("fork", "spawn", "forkserver") if m in multiprocessing.get_all_start_methods()]


def other_pythons() -> list[str]:
    """CPython 3.12+ interpreters that pyenv installed on this machine, besides this one (none in CI)."""
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    found = sorted(glob.glob(os.path.join(root, "versions", "3.1[2-9].*", "bin", "python")))
    return [p for p in found if os.path.realpath(p) != os.path.realpath(sys.executable)]


@dataclass
class CellResult:
    stdout: str = ""
    stderr: str = ""
    ename: str | None = None
    evalue: str = ""
    data: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def raise_if_error(self) -> CellResult:
        if self.ename:
            raise AssertionError(f"cell raised {self.ename}: {self.evalue}\nstderr: {self.stderr}")
        return self


class Kernel:
    """A real IPython kernel of this environment, started in ``cwd``, run cell by cell."""

    def __init__(self, cwd: Path, env: dict[str, str] | None = None):
        self.manager = KernelManager(kernel_name="python3")
        full_env = {**os.environ, **(env or {})}
        self.manager.start_kernel(cwd=str(cwd), env=full_env, extra_arguments=["--HistoryManager.enabled=False"])
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    @property
    def pid(self) -> int:
        return self.manager.provisioner.pid  # type: ignore[union-attr]

    def run(self, code: str, timeout: float = 60) -> CellResult:
        result = CellResult()
        started = time.perf_counter()
        msg_id = self.client.execute(code)
        while True:
            remaining = timeout - (time.perf_counter() - started)
            if remaining <= 0:
                raise TimeoutError(f"cell did not finish within {timeout} s:\n{code}")
            try:
                msg = self.client.get_iopub_msg(timeout=remaining)
            except Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                if content["name"] == "stdout":
                    result.stdout += content["text"]
                else:
                    result.stderr += content["text"]
            elif kind == "error":
                result.ename, result.evalue = content["ename"], content["evalue"]
            elif kind in ("execute_result", "display_data"):
                result.data.append(content["data"])
            elif kind == "status" and content["execution_state"] == "idle":
                break
        result.seconds = time.perf_counter() - started
        return result

    def interrupt(self) -> None:
        self.manager.interrupt_kernel()

    def shutdown(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=False)


def stray_processes(parent=None) -> list:
    """Live descendants of ``parent`` (default: this process) that are not multiprocessing's helpers.

    The resource tracker and the forkserver stay for the life of the parent by design; the forkserver's
    own children, though, are workers and count.
    """
    import psutil

    parent = parent or psutil.Process()
    found = []
    for child in parent.children():
        cmd = process_command(child)
        if "resource_tracker" in cmd:
            continue
        family = child.children(recursive=True) if "forkserver" in cmd else [child, *child.children(recursive=True)]
        found.extend(p for p in family if is_alive(p))
    return found


def process_command(p) -> str:
    try:
        return " ".join(p.cmdline())[:160]
    except Exception:  # noqa: BLE001 - it may have exited meanwhile
        return "?"


def free_port() -> int:
    """A port nothing listens on now (another process may still take it before you bind it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_alive(p) -> bool:
    try:
        return p.status() != "zombie"
    except Exception:  # noqa: BLE001 - gone already
        return False



# --- what a kernel registered with multiprocessing's resource tracker -------------------------------------

# Run in a kernel before the lesson (then forked workers inherit it too): every name the kernel registers (named
# semaphores under spawn/forkserver, shared memory under every method) is appended to ``log``. /dev/shm is shared
# with other programs and other test runs, so only names a run registered itself can be blamed on it.
RECORD_REGISTERED = """\
def _mplessons_record(log):
    from multiprocessing import resource_tracker

    register = resource_tracker.register

    def recording_register(name, rtype):
        with open(log, "a") as f:
            f.write(f"{{rtype}} {{name}}\\n")
        register(name, rtype)

    resource_tracker.register = recording_register


_mplessons_record({log!r})
del _mplessons_record
"""


def registered(log: Path) -> list[tuple[str, str]]:
    """(rtype, name) pairs that a kernel running ``RECORD_REGISTERED`` wrote to ``log``."""
    if not log.exists():
        return []
    return [tuple(line.split(" ", 1)) for line in log.read_text().splitlines() if " " in line]


def shm_file(rtype: str, name: str) -> Path:
    """Where a registered name lives on Linux: semaphores (``/mp-...``, or ``/loky-...`` once loky is imported)
    get a ``sem.`` prefix in /dev/shm, shared memory segments (``/psm_...``) keep their name."""
    name = name.lstrip("/")
    return SHM / (f"sem.{name}" if rtype == "semaphore" else name)


def left_in_shm(log: Path) -> list[Path]:
    """The /dev/shm files of names a kernel registered that still exist."""
    return sorted({path for rtype, name in registered(log)
                   if rtype in ("semaphore", "shared_memory") and (path := shm_file(rtype, name)).exists()})
