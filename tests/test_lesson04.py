"""Lesson 04 (shared memory): its exercise checks, its worker functions under every start method, and the
notebook itself run cell by cell in a real kernel, leaving no processes, segments or tracker warnings behind."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from multiprocessing import shared_memory
from pathlib import Path

import nbformat
import psutil
import pytest
from support import NOTEBOOKS, RECORD_REGISTERED, ROOT, Kernel, left_in_shm, stray_processes

import mplessons
from mplessons import lessons_shared
from mplessons.checks.lesson04 import check_price

NOTEBOOK = NOTEBOOKS / "04_shared_memory.ipynb"


def _left_behind(log, seconds: float = 5.0) -> list:
    """Names the kernel registered (shared memory, semaphores) still in /dev/shm after ``seconds``: only this
    kernel's names count, since other tests running beside this one make and remove their own."""
    deadline = time.time() + seconds
    while (left := left_in_shm(log)) and time.time() < deadline:
        time.sleep(0.1)
    return left


# --- exercise 1: check_price ----------------------------------------------------------------------------


def test_price_placeholder_is_not_attempted_and_does_not_raise():
    feedback = check_price(...)
    assert not feedback and not feedback.attempted and "not attempted yet" in str(feedback)


def test_price_float32_typecode_is_explained():
    ctx = mplessons.context("fork" if "fork" in mplessons.start_methods() else None)
    feedback = check_price(ctx.Value("f", 0.313))
    assert not feedback and feedback.attempted
    assert "0.31299999356269836" in feedback.message and "32-bit" in feedback.message and "'d'" in feedback.message


@pytest.mark.parametrize(
    ("answer", "expected"),
    [(0.313, "plain Python float"), ("0.313", "not a shared Value"), ([0.313], "not a shared Value")],
)
def test_price_unshared_answers_are_rejected(answer, expected):
    feedback = check_price(answer)
    assert not feedback and expected in feedback.message


def test_price_integer_typecode_and_array_and_wrong_number_are_rejected():
    ctx = mplessons.context()
    assert "typecode 'i'" in check_price(ctx.Value("i", 0)).message
    assert "Array" in check_price(ctx.Array("d", [0.313])).message
    assert "expected 0.313" in check_price(ctx.Value("d", 0.31)).message


def test_price_from_a_manager_is_rejected_and_the_manager_shut_down():
    manager = mplessons.context().Manager()
    try:
        feedback = check_price(manager.Value("d", 0.313))
        assert not feedback and "Manager" in feedback.message and "shut that manager down" in feedback.message
        assert not manager._process.is_alive()
    finally:
        manager.shutdown()


def test_price_passes_for_d_value_and_raw_value():
    ctx = mplessons.context()
    assert check_price(ctx.Value("d", 0.313))
    assert check_price(ctx.RawValue("d", 0.313))


# exercises 2 and 3 (check_grid, check_row_sums): tests/test_lesson04_checks.py


# --- worker functions -----------------------------------------------------------------------------------


def test_a_global_changed_in_a_child_is_not_seen_but_a_value_is(start_method):
    ctx = mplessons.context(start_method)
    lessons_shared.TOTAL = 0
    child = ctx.Process(target=lessons_shared.add_to_total, args=(5,))
    child.start()
    child.join(30)
    assert child.exitcode == 0 and lessons_shared.TOTAL == 0
    total = ctx.Value("i", 0)
    child = ctx.Process(target=lessons_shared.add_to_value, args=(total, 5))
    child.start()
    child.join(30)
    assert total.value == 5


def test_value_typecodes_as_the_lesson_says():
    ctx = mplessons.context()
    assert ctx.Value("f", 0.313).value == 0.31299999356269836
    assert ctx.Value("d", 0.313).value == 0.313


def test_segment_exists_follows_create_and_unlink():
    shm = shared_memory.SharedMemory(create=True, size=64)
    try:
        assert lessons_shared.segment_exists(shm.name)
    finally:
        shm.close()
        shm.unlink()
    assert not lessons_shared.segment_exists(shm.name)


SCRIPT = """
import sys
import numpy as np
import multiprocessing as mp
from multiprocessing import shared_memory
from mplessons import lessons_shared


def plain_row_sum(name, row):  # attaches the 3.10-3.12 way, registering the segment in the worker
    shm = shared_memory.SharedMemory(name=name)
    try:
        return float(np.ndarray((4, 1000), dtype="<f8", buffer=shm.buf)[row].sum())
    finally:
        shm.close()


if __name__ == "__main__":
    method, mode = sys.argv[1], sys.argv[2]
    ctx = mp.get_context(method)
    data = np.arange(4000, dtype=np.float64).reshape(4, 1000)
    pool = ctx.Pool(2)  # started before the segment exists: the hard case under fork
    shm = shared_memory.SharedMemory(create=True, size=data.nbytes)
    print(shm.name, flush=True)
    try:
        view = np.ndarray(data.shape, dtype=data.dtype, buffer=shm.buf)
        view[:] = data
        with pool:
            if mode == "plain":
                sums = pool.starmap(plain_row_sum, [(shm.name, r) for r in range(4)])
            else:
                sums = pool.starmap(lessons_shared.row_sum, [(shm.name, data.shape, "<f8", r) for r in range(4)])
        assert sums == data.sum(axis=1).tolist(), sums
        if mode != "plain":  # there a worker's own tracker may already have unlinked the segment: the trap
            child = ctx.Process(target=lessons_shared.scale_rows, args=(shm.name, data.shape, "<f8", [0], 2.0))
            child.start()
            child.join()
            assert view[0, 1] == 2.0, view[0]
    finally:
        view = None
        shm.close()
        if mode == "lesson":
            shm.unlink()
        elif mode == "plain":
            try:
                shm.unlink()
            except FileNotFoundError:
                pass
"""


def _run_script(tmp_path: Path, method: str, mode: str) -> tuple[str, str, str]:
    script = tmp_path / "share.py"
    script.write_text(textwrap.dedent(SCRIPT))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(script), method, mode], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[0], done.stdout, done.stderr


def test_workers_attach_without_tracker_warnings_or_leaks(tmp_path, start_method):
    name, _, stderr = _run_script(tmp_path, start_method, "lesson")
    assert "leaked" not in stderr and "Warning" not in stderr and "Traceback" not in stderr, stderr
    assert not lessons_shared.segment_exists(name)


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="3.13+ offers track=False; the old trap is 3.10-3.12")
def test_control_plain_attach_in_forked_workers_triggers_leak_warnings(tmp_path):
    """Why ``lessons_shared.attach`` exists: the test above would see these warnings without it."""
    _, _, stderr = _run_script(tmp_path, "fork", "plain")
    assert "leaked shared_memory" in stderr


def test_control_forgetting_unlink_is_reported_by_the_tracker(tmp_path):
    """The warning the test above looks for really appears when a segment is left behind."""
    name, _, stderr = _run_script(tmp_path, "spawn", "forget-unlink")
    assert "leaked shared_memory" in stderr
    assert not lessons_shared.segment_exists(name)  # the tracker's safety net removed it at exit


# --- the notebook, cell by cell, in a real kernel -------------------------------------------------------


def _kernel_children(kernel: Kernel) -> list[psutil.Process]:
    deadline = time.time() + 5
    while (left := stray_processes(psutil.Process(kernel.pid))) and time.time() < deadline:
        time.sleep(0.1)
    return left


def _shutdown_and_read_stderr(kernel: Kernel, capfd) -> str:
    tracker = [p for p in psutil.Process(kernel.pid).children() if "resource_tracker" in " ".join(p.cmdline())]
    kernel.shutdown()
    psutil.wait_procs(tracker, timeout=10)  # the tracker reports leaks on the kernel's stderr as it exits
    return capfd.readouterr().err


@pytest.mark.slow
def test_control_a_leak_in_the_kernel_shows_on_stderr(capfd):
    """The notebook test below can fail: a segment a kernel forgets is reported where that test looks."""
    kernel = Kernel(NOTEBOOKS, {"MPLESSONS_START_METHOD": "spawn"})
    try:
        kernel.run(
            "from multiprocessing import shared_memory\nshared_memory.SharedMemory(create=True, size=64).close()"
        ).raise_if_error()
    finally:
        stderr = _shutdown_and_read_stderr(kernel, capfd)
    assert "leaked shared_memory" in stderr


@pytest.mark.slow
def test_notebook_runs_clean_under_each_start_method(start_method, capfd, tmp_path):
    cells = [c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.cell_type == "code"]
    log = tmp_path / "registered.txt"
    kernel = Kernel(NOTEBOOKS, {"MPLESSONS_START_METHOD": start_method})
    try:
        kernel.run(RECORD_REGISTERED.format(log=str(log))).raise_if_error()
        started = time.perf_counter()
        for source in cells:
            kernel.run(source, timeout=120).raise_if_error()
        seconds = time.perf_counter() - started
        named = kernel.run(
            "from multiprocessing import synchronize, util\n"
            "print(sum(f._callback is synchronize.SemLock._cleanup for f in list(util._finalizer_registry.values())))"
        ).raise_if_error()
        assert named.stdout.strip() == "0", f"{named.stdout.strip()} named semaphores still alive after Run All"
        left = _kernel_children(kernel)
        assert not left, f"the notebook left processes: {[p.cmdline() for p in left]}"
    finally:
        stderr = _shutdown_and_read_stderr(kernel, capfd)
    assert not _left_behind(log), "the notebook left shared memory segments or semaphores in /dev/shm"
    assert "leaked" not in stderr and "resource_tracker" not in stderr, stderr
    print(f"Run All under {start_method}: {seconds:.1f} s")
    assert seconds < 120  # a sanity bound on a shared machine; the lesson aims at a few seconds
