"""Shared fixtures: the start methods to parametrise over, and a real Jupyter kernel to drive."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import START_METHODS, Kernel, process_command, stray_processes  # noqa: E402


@pytest.fixture(params=START_METHODS)
def start_method(request: pytest.FixtureRequest) -> str:
    return request.param


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


@pytest.fixture(autouse=True)
def _no_stray_children():
    """Every test must leave no worker processes behind."""
    yield
    deadline = time.time() + 5
    while (children := stray_processes()) and time.time() < deadline:
        time.sleep(0.05)
    assert not children, f"test left child processes behind: {[(p.pid, process_command(p)) for p in children]}"


