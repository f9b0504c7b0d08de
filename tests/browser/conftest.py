"""One JupyterLab server and one Chromium page per test module; both always shut down, also on failure.

Module scope, not session scope: the rest of the suite checks that no child processes outlive a test, so the server
and the browser must be gone before pytest moves on to the next module.
"""

from __future__ import annotations

import shutil
import time

import psutil
import pytest
from labdriver import (
    INSTALL_HINT,
    NOTEBOOKS,
    LabPage,
    LabServer,
    descendants,
    find_chromium,
    headless_chromium,
    in_ci,
)
from support import is_alive, process_command

# pids this module's fixtures own on purpose: the Lab server (its kernels must still end after each test) and the
# Playwright driver with its Chromium processes.
_OWNED: dict[int, str] = {}


def _unavailable(reason: str) -> None:
    """In CI a missing browser fails the run; on a developer's machine the browser tests skip, saying how to fix it."""
    message = f"browser tests need Chromium and Playwright: {reason}. Install: {INSTALL_HINT}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: a missing browser is a failure)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        _unavailable(f"the Python package playwright is missing ({exc}); `pip install -e '.[test]'`")
    path = find_chromium()
    if path is None:
        _unavailable("no Chromium found at $MPLESSONS_CHROMIUM, /usr/bin/chromium or on PATH")
    return path


@pytest.fixture(scope="module")
def lab_server(chromium_path: str, tmp_path_factory: pytest.TempPathFactory):
    """``jupyter lab`` serving a copy of notebooks/ (kernels write %%worker_module files there, not in the repo)."""
    work = tmp_path_factory.mktemp("lab")
    root = work / "root"
    shutil.copytree(NOTEBOOKS, root, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.py"))
    server = LabServer(root=root, work=work)
    try:
        server.start()
        _OWNED[server.proc.pid] = "server"
        yield server
    finally:
        pid = server.proc.pid if server.proc else None
        killed = server.stop()
        _OWNED.pop(pid, None)
        assert not killed, f"processes outlived the Jupyter server and had to be killed: {killed}"


@pytest.fixture(scope="module")
def lab(lab_server: LabServer, chromium_path: str):
    """A logged-in Lab page in headless Chromium, reused for every notebook."""
    with headless_chromium(chromium_path, _OWNED) as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = LabPage(context.new_page(), lab_server)
        page.page.set_default_timeout(60_000)
        page.login()
        yield page


@pytest.fixture
def notebook(lab: LabPage, lab_server: LabServer):
    """Open notebooks through ``notebook(path)``; the tab is closed and its kernel shut down after the test."""
    opened: list[str] = []

    def open_(path: str) -> dict:
        if opened:
            lab.close()
        opened.append(path)
        return lab.open(path)

    yield open_
    if opened:
        lab.close()
        deadline = time.monotonic() + 20
        while (kernels := lab_server.api("GET", "/api/kernels")) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not kernels, f"kernels still running after the notebook was closed: {kernels}"


@pytest.fixture(autouse=True)
def _no_stray_children():
    """Like the suite's check, but the Lab server and the browser live on between tests on purpose.

    Their own descendants still count: after each test the server must have no kernel (nor kernel children) left.
    """
    yield
    deadline = time.time() + 10
    while (stray := _stray()) and time.time() < deadline:
        time.sleep(0.1)
    assert not stray, f"test left processes behind: {[(p.pid, process_command(p)) for p in stray]}"


def _stray() -> list[psutil.Process]:
    found: list[psutil.Process] = []
    for child in psutil.Process().children():
        role, cmd = _OWNED.get(child.pid), process_command(child)
        if role == "browser" or "resource_tracker" in cmd:
            continue
        if role == "server" or "forkserver" in cmd:
            found.extend(descendants(child.pid))
        elif is_alive(child):
            found.extend([child, *descendants(child.pid)])
    return found

