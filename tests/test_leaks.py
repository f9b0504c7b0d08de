"""After each lesson runs under each start method: no processes, no leak warnings, no /dev/shm leftovers.

Each lesson runs through nbclient in a scratch copy of notebooks/ (nothing is written next to the lessons),
on a kernel whose stderr goes to a file (fd capture off, so the resource tracker's own warnings land there
too). A first cell, added to the scratch copy only, records every name the kernel registers with
multiprocessing's resource tracker (named semaphores under spawn/forkserver, shared memory under all
methods); a name still in /dev/shm after the kernel is gone is a leak. /dev/shm is shared with other
programs, so only names this kernel registered count.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from support import NOTEBOOKS, RECORD_REGISTERED, SHM, left_in_shm, registered

LEAK_WORDS = re.compile(r"leaked (semaphore|shared_memory)|resource_tracker: There appear to be", re.I)

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not SHM.is_dir(), reason="no /dev/shm on this platform")]


def lessons() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def run_lesson(path: Path, start_method: str, workdir: Path) -> dict:
    """Execute one lesson in ``workdir``; return its outputs' text, the kernel's stderr and what it left."""
    log = workdir / f"registered-{path.stem}-{start_method}.txt"
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(RECORD_REGISTERED.format(log=str(log))))
    stderr_path = workdir / f"stderr-{path.stem}-{start_method}.txt"
    km = KernelManager(kernel_name="python3")
    pids: list[int] = []

    def remember_kernel(**_):
        pids.append(km.provisioner.pid)

    started = time.perf_counter()
    with stderr_path.open("w") as stderr:
        client = NotebookClient(nb, km=km, timeout=120, kernel_name="python3",
                                resources={"metadata": {"path": str(workdir)}},
                                extra_arguments=["--IPKernelApp.capture_fd_output=False",
                                                 "--HistoryManager.enabled=False"],
                                on_notebook_start=remember_kernel)
        old = os.environ.get("MPLESSONS_START_METHOD")
        os.environ["MPLESSONS_START_METHOD"] = start_method
        try:
            client.execute(stderr=stderr, env={**os.environ})
        finally:
            if km.has_kernel:  # nbclient leaves a kernel it was handed alone: shut it down as JupyterLab does
                km.shutdown_kernel(now=False)
            if old is None:
                os.environ.pop("MPLESSONS_START_METHOD")
            else:
                os.environ["MPLESSONS_START_METHOD"] = old
    seconds = time.perf_counter() - started
    time.sleep(0.5)  # the tracker, if it survived, prints its warnings as the kernel's pipe closes
    outputs = "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                        for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", []))
    return {"seconds": seconds, "outputs": outputs, "stderr": stderr_path.read_text(), "registered": registered(log),
            "left": left_in_shm(log), "kernel_pid": pids[0] if pids else None}


def test_the_detector_sees_a_leak(tmp_path):
    """Positive control: a notebook that leaves a shared memory segment behind is caught."""
    leaky = tmp_path / "99_leaky.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from multiprocessing import shared_memory\n"
                                          "segment = shared_memory.SharedMemory(create=True, size=64)")]
    nbformat.write(nb, leaky)
    result = run_lesson(leaky, "spawn", tmp_path)
    leaks = result["left"]
    for path in leaks:
        path.unlink()
    assert len(result["registered"]) == 1
    assert leaks or LEAK_WORDS.search(result["stderr"]), "the leak went unnoticed"


@pytest.mark.parametrize("start_method", [m for m in ("fork", "spawn", "forkserver")
                                          if m in __import__("multiprocessing").get_all_start_methods()])
@pytest.mark.parametrize("lesson", lessons(), ids=lambda path: path.stem)
def test_each_lesson_leaves_nothing_behind(tmp_path, lesson, start_method):
    """One lesson per test (each in a fresh copy of notebooks/, as a student opens one), so that the lessons are
    spread over the test workers instead of the whole course running in one."""
    scratch = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, scratch, ignore=shutil.ignore_patterns("*.ipynb_checkpoints", "__pycache__", "*.py"))
    result = run_lesson(scratch / lesson.name, start_method, scratch)
    problems = []
    if result["kernel_pid"] and psutil.pid_exists(result["kernel_pid"]):
        kernel = psutil.Process(result["kernel_pid"])
        if kernel.status() != psutil.STATUS_ZOMBIE:
            problems.append(f"kernel {kernel.pid} still running")
    for text, where in ((result["stderr"], "kernel stderr"), (result["outputs"], "outputs")):
        if match := LEAK_WORDS.search(text):
            problems.append(f"{where} says {match.group(0)!r}")
    if leaks := result["left"]:
        problems.append(f"left in /dev/shm: {[p.name for p in leaks]}")
        for leak in leaks:  # clean up, so that one failure does not pile up segments
            leak.unlink(missing_ok=True)
    print(f"{lesson.stem} under {start_method}: {result['seconds']:.1f} s")
    assert problems == [], f"{lesson.name} under {start_method}:\n" + "\n".join(problems)
