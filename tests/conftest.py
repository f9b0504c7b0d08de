"""Shared fixtures: the start methods to parametrise over, and a real Jupyter kernel to drive; how the tests are
spread over pytest-xdist workers (``make test-unit`` runs ``-n JOBS --dist loadgroup``)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))
from support import START_METHODS, Kernel, process_command, stray_processes  # noqa: E402

# Modules whose tests must run in one worker, one after another: their module-scoped fixture would otherwise be
# started once per worker. Everything else runs wherever a worker is free; tests must not assume they run alone
# (look at this process's own children, and at /dev/shm names this test registered, not at everything there).
XDIST_GROUPS = {
    "browser/test_lab.py": "browser",  # one JupyterLab server and one Chromium for the module
    "browser/test_site.py": "site",  # one site build and one Chromium for the module
    "test_dask_backend.py": "dask",  # one dask LocalCluster for the module
}


def _cost(item: pytest.Item) -> int:
    """Rough rank of how long a test takes: 0 the longest (a whole course in kernels), 1 slow, 2 the rest."""
    if item.path.name == "test_leaks.py":
        return 0
    return 1 if item.get_closest_marker("slow") else 2


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        where = item.path.relative_to(TESTS).as_posix() if item.path.is_relative_to(TESTS) else ""
        for prefix, group in XDIST_GROUPS.items():
            if where.startswith(prefix):
                item.add_marker(pytest.mark.xdist_group(group))
    if hasattr(config, "workerinput"):  # in an xdist worker: hand out the longest tests first (a stable sort)
        items.sort(key=_cost)


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
def _english_after_each_test():
    """Every test starts in the language it found (English): ``set_language`` writes ``$MPLESSONS_LANG``, which
    would otherwise carry Chinese into the next test of the same worker."""
    before = os.environ.get("MPLESSONS_LANG")
    yield
    if before is None:
        os.environ.pop("MPLESSONS_LANG", None)
    else:
        os.environ["MPLESSONS_LANG"] = before


@pytest.fixture(autouse=True)
def _no_stray_children():
    """Every test must leave no worker processes behind."""
    yield
    deadline = time.time() + 5
    while (children := stray_processes()) and time.time() < deadline:
        time.sleep(0.05)
    assert not children, f"test left child processes behind: {[(p.pid, process_command(p)) for p in children]}"


