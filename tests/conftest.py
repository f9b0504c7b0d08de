"""Shared fixtures: the start methods to parametrise over, and a real Jupyter kernel to drive."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty

import pytest
from jupyter_client.manager import KernelManager

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tests_paths import NOTEBOOKS, ROOT  # noqa: E402,F401 - shared with the tests that need the repository's files

START_METHODS = [m for m in ("fork", "spawn", "forkserver") if m in multiprocessing.get_all_start_methods()]


@pytest.fixture(params=START_METHODS)
def start_method(request: pytest.FixtureRequest) -> str:
    return request.param


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


@pytest.fixture
def kernel_factory(tmp_path: Path):
    """Start kernels in a temporary folder (so %%worker_module files land there); all shut down after."""
    kernels: list[Kernel] = []

    def start(start_method: str | None = None, cwd: Path | None = None) -> Kernel:
        env = {"MPLESSONS_START_METHOD": start_method} if start_method else {}
        kernel = Kernel(cwd or tmp_path, env)
        kernels.append(kernel)
        return kernel

    yield start
    for kernel in kernels:
        kernel.shutdown()


def stray_processes(parent=None) -> list:
    """Live descendants of ``parent`` (default: this process) that are not multiprocessing's helpers.

    The resource tracker and the forkserver stay for the life of the parent by design; the forkserver's
    own children, though, are workers and count.
    """
    import psutil

    parent = parent or psutil.Process()
    found = []
    for child in parent.children():
        cmd = _cmd(child)
        if "resource_tracker" in cmd:
            continue
        family = child.children(recursive=True) if "forkserver" in cmd else [child, *child.children(recursive=True)]
        found.extend(p for p in family if _alive(p))
    return found


@pytest.fixture(autouse=True)
def _no_stray_children():
    """Every test must leave no worker processes behind."""
    yield
    deadline = time.time() + 5
    while (children := stray_processes()) and time.time() < deadline:
        time.sleep(0.05)
    assert not children, f"test left child processes behind: {[(p.pid, _cmd(p)) for p in children]}"


def _cmd(p) -> str:
    try:
        return " ".join(p.cmdline())[:160]
    except Exception:  # noqa: BLE001 - it may have exited meanwhile
        return "?"


def _alive(p) -> bool:
    try:
        return p.status() != "zombie"
    except Exception:  # noqa: BLE001 - gone already
        return False

