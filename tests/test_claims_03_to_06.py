"""What lessons 03-06 now claim about Python, tested where a test can hold it.

The pool and start-method claims run in a fresh interpreter (stdlib only), so that this test process, whose
pytest records warnings (a recorded ResourceWarning keeps a pool alive: one of the claims), cannot distort them;
they run on this Python and, where this machine has them, on other CPython versions too. The numpy, lock and
dask claims run here. Segfaults stay in subprocesses.
"""

from __future__ import annotations

import ast
import builtins
import functools
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from multiprocessing import shared_memory
from pathlib import Path

import nbformat
import numpy as np
import pytest
from support import NOTEBOOKS, START_METHODS, Kernel, other_pythons

import mplessons
from mplessons.lessons_locks import pool_lock_is_free, remember_lock

PYTHONS = [pytest.param(sys.executable, id="this-python")] + [
    pytest.param(p, id=Path(p).parents[1].name, marks=pytest.mark.slow) for p in other_pythons()
]


def _run(python: str, script: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120):
    return subprocess.run([python, "-c", textwrap.dedent(script), *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


# --- lesson 03: what happens to a pool nobody closes; imap reads ahead -------------------------------------

POOL_CLAIMS = r"""
import gc, json, multiprocessing, os, sys, tempfile, time, warnings


def wait_for(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.05)
    return condition()


if __name__ == "__main__":
    ctx = multiprocessing.get_context(sys.argv[1])
    alive = lambda: len(multiprocessing.active_children())
    found = {"version": sys.version.split()[0]}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # not recorded, so it cannot keep the pool alive
        pool = ctx.Pool(2)
        pool.map(abs, range(4))
        found["workers_while_referenced"] = alive()
        del pool
        found["workers_after_the_last_reference_goes"] = alive()

    pool = ctx.Pool(2)
    pool.map(abs, range(4))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del pool
        gc.collect()
    found["warning"] = [caught[0].category.__name__, str(caught[0].message)] if caught else None
    found["workers_while_the_warning_is_kept"] = alive()
    del caught
    gc.collect()
    found["workers_after_the_warning_goes"] = alive()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        pool = ctx.Pool(2)
        pool.apply_async(time.sleep, (1.0,))  # nobody keeps the AsyncResult either
        del pool
        gc.collect()
        found["workers_while_its_task_runs"] = alive()
        found["workers_gone_once_the_task_is_done"] = wait_for(lambda: alive() == 0)

    taken = []

    def noting(items):
        for item in items:
            taken.append(item)
            yield item

    folder = tempfile.mkdtemp()
    paths = [os.path.join(folder, str(i)) for i in range(6)]
    with ctx.Pool(2) as pool:
        results = pool.imap(os.mkdir, noting(paths))  # each task makes a folder: proof that it ran
        found["imap_inputs_taken_unasked"] = wait_for(lambda: len(taken) == len(paths)) and len(taken)
        found["imap_tasks_ran_unasked"] = wait_for(lambda: all(os.path.isdir(p) for p in paths))
        found["imap_results"] = list(results)
    for p in paths:
        os.rmdir(p)
    os.rmdir(folder)
    print(json.dumps(found))
"""


@functools.cache
def _pool_claims(python: str, method: str) -> dict:
    done = _run(python, POOL_CLAIMS, method)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("python", PYTHONS)
def test_a_pool_is_terminated_when_collected(python, start_method):
    found = _pool_claims(python, start_method)
    assert found["workers_while_referenced"] == 2
    assert found["workers_after_the_last_reference_goes"] == 0, found


@pytest.mark.parametrize("python", PYTHONS)
def test_a_recorded_warning_keeps_the_pool_and_its_workers_alive(python, start_method):
    found = _pool_claims(python, start_method)
    assert found["warning"][0] == "ResourceWarning"
    assert found["warning"][1].startswith("unclosed running multiprocessing pool"), found
    assert found["workers_while_the_warning_is_kept"] == 2
    assert found["workers_after_the_warning_goes"] == 0


@pytest.mark.parametrize("python", PYTHONS)
def test_a_pool_with_an_unfinished_task_lives_until_the_task_is_done(python, start_method):
    found = _pool_claims(python, start_method)
    assert found["workers_while_its_task_runs"] == 2
    assert found["workers_gone_once_the_task_is_done"] is True


@pytest.mark.parametrize("python", PYTHONS)
def test_imap_reads_its_input_and_runs_the_tasks_before_anyone_asks(python, start_method):
    found = _pool_claims(python, start_method)
    assert found["imap_inputs_taken_unasked"] == 6
    assert found["imap_tasks_ran_unasked"] is True
    assert found["imap_results"] == [None] * 6


PROGRAM_ENDS = r"""
import multiprocessing, sys, time


def said(result):
    print("callback ran", flush=True)


if __name__ == "__main__":
    pool = multiprocessing.get_context(sys.argv[1]).Pool(2)
    pool.apply_async(time.sleep, (30,), callback=said)
    time.sleep(0.5)  # the task is running
    print("the script ends", flush=True)
"""


@pytest.mark.parametrize("python", PYTHONS)
def test_the_end_of_the_program_kills_unfinished_tasks_without_a_word(python, start_method):
    started = time.monotonic()
    done = _run(python, PROGRAM_ENDS, start_method, timeout=60)
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert seconds < 20, f"the script waited for its 30 s task ({seconds:.1f} s)"
    assert done.stdout == "the script ends\n" and done.stderr == "", (done.stdout, done.stderr)


DEFAULT_WORKERS = r"""
import json, multiprocessing, os, sys
from concurrent.futures import ProcessPoolExecutor

if __name__ == "__main__":
    found = {"version": list(sys.version_info[:2]), "cpu_count": os.cpu_count()}
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # as `taskset -c 0` would
    found["process_cpu_count"] = os.process_cpu_count() if hasattr(os, "process_cpu_count") else None
    # Which count do Pool() and ProcessPoolExecutor() consult? Give the two different small answers.
    os.cpu_count = lambda: 3
    os.process_cpu_count = lambda: 2
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool() as pool:
        found["pool"] = len(multiprocessing.active_children())  # Pool() starts all its workers at once
    executor = ProcessPoolExecutor(mp_context=ctx)
    found["executor"] = executor._max_workers
    executor.shutdown()
    print(json.dumps(found))
"""


@pytest.mark.parametrize("python", PYTHONS)
def test_pool_and_executor_default_to_cpu_count_before_313_and_process_cpu_count_after(python):
    found = json.loads(_run(python, DEFAULT_WORKERS).stdout)
    expected = 2 if tuple(found["version"]) >= (3, 13) else 3  # process_cpu_count() says 2, cpu_count() 3
    assert found["pool"] == found["executor"] == expected, found


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity (Linux)")
@pytest.mark.parametrize("python", PYTHONS)
def test_process_cpu_count_honours_affinity_from_313(python):
    found = json.loads(_run(python, DEFAULT_WORKERS).stdout)
    if tuple(found["version"]) >= (3, 13):
        assert found["process_cpu_count"] == 1, found  # one CPU allowed
    else:
        assert found["process_cpu_count"] is None, found  # new in 3.13


@pytest.mark.parametrize("python", PYTHONS)
def test_python_cpu_count_overrides_both_counts_from_313(python):
    found = json.loads(_run(python, DEFAULT_WORKERS, env={"PYTHON_CPU_COUNT": "5"}).stdout)
    if tuple(found["version"]) >= (3, 13):
        assert found["cpu_count"] == found["process_cpu_count"] == 5, found  # affinity or not
    else:  # ignored before 3.13
        assert found["cpu_count"] == os.cpu_count(), found


# --- lesson 03b: threadpool_limits in the initializer limits only what is loaded --------------------------


@pytest.mark.parametrize("method", [m for m in ("spawn", "forkserver") if m in START_METHODS])
def test_threadpool_limits_as_the_initializer_limits_nothing_where_the_first_task_loads_numpy(method):
    """Lesson 03b: ``initializer=threadpool_limits`` alone leaves a spawn or forkserver worker its default BLAS
    threads (numpy is loaded later, by the first task); ``limit_blas_threads``, which imports numpy first, works."""
    from threadpoolctl import threadpool_limits

    from mplessons.lessons_blas import limit_blas_threads, matrix_products

    ctx = mplessons.context(method)
    with ctx.Pool(1) as pool:
        left_alone = pool.apply(matrix_products, (8,)).blas_threads
    if left_alone < 2:
        pytest.skip(f"a fresh worker's BLAS starts {left_alone} thread here: nothing to limit on this machine")
    with ctx.Pool(1, initializer=threadpool_limits, initargs=(1,)) as pool:
        assert pool.apply(matrix_products, (8,)).blas_threads == left_alone
    with ctx.Pool(1, initializer=limit_blas_threads, initargs=(1,)) as pool:
        assert pool.apply(matrix_products, (8,)).blas_threads == 1


# --- lesson 04: numpy views and SharedMemory.close() ---------------------------------------------------


def test_close_does_not_check_an_ndarray_view():
    shm = shared_memory.SharedMemory(create=True, size=64)
    try:
        view = np.ndarray((8,), dtype=np.float64, buffer=shm.buf)
        view[:] = 1.0
        shm.close()  # no BufferError, although the view still points into the segment
        assert shm.buf is None
        del view  # never read it again: that would crash this process (next test)
    finally:
        shm.unlink()


def test_a_frombuffer_view_makes_close_raise_buffererror():
    shm = shared_memory.SharedMemory(create=True, size=64)
    try:
        view = np.frombuffer(shm.buf, dtype=np.float64)
        with pytest.raises(BufferError):
            shm.close()
        del view
    finally:
        shm.close()
        shm.unlink()


READ_AFTER_CLOSE = """
import numpy as np
from multiprocessing import shared_memory

shm = shared_memory.SharedMemory(create=True, size=8 * 1024)
view = np.ndarray((1024,), dtype=np.float64, buffer=shm.buf)
view[:] = 1.0
shm.close()
shm.unlink()
print("closed", flush=True)
print(view[0])
"""


def test_reading_an_ndarray_view_after_close_crashes_the_process():
    done = _run(sys.executable, READ_AFTER_CLOSE, timeout=60)
    assert done.stdout.startswith("closed")
    assert done.returncode in (-signal.SIGSEGV, -signal.SIGBUS), (done.returncode, done.stdout, done.stderr)


# --- lesson 05: a lock for pool workers ----------------------------------------------------------------


def test_a_lock_in_a_pool_tasks_arguments_is_refused(start_method):
    ctx = mplessons.context(start_method)
    lock = ctx.Lock()
    with ctx.Pool(1) as pool, pytest.raises(RuntimeError, match="shared between processes through inheritance"):
        pool.apply(pool_lock_is_free, (lock,))


def test_an_initializer_hands_the_workers_the_parents_lock(start_method):
    ctx = mplessons.context(start_method)
    lock = ctx.Lock()
    with ctx.Pool(2, initializer=remember_lock, initargs=(lock,)) as pool:
        with lock:
            held = pool.map(pool_lock_is_free, [None] * 2, chunksize=1)
        free = pool.apply(pool_lock_is_free)
    assert held == [False, False], "a worker could take the lock the parent held: not the same lock"
    assert free is True


def test_a_manager_lock_can_travel_in_task_arguments(start_method):
    ctx = mplessons.context(start_method)
    with ctx.Manager() as manager, ctx.Pool(1) as pool:
        lock = manager.Lock()
        with lock:
            held = pool.apply(pool_lock_is_free, (lock,))
        free = pool.apply(pool_lock_is_free, (lock,))
    assert (held, free) == (False, True)


def test_a_worker_without_a_lock_says_how_to_give_it_one():
    with pytest.raises(RuntimeError, match="initializer=remember_lock"):
        pool_lock_is_free()


# --- lesson 06: which functions dask sends by value ----------------------------------------------------


def test_dask_sends_main_functions_by_value_and_module_functions_by_reference(tmp_path, monkeypatch):
    dask_pickle = pytest.importorskip("distributed.protocol.pickle")
    namespace = {"__name__": "__main__"}
    exec("def in_a_cell(batch):\n    return sum(x * x for x in batch)\n", namespace)  # as a notebook cell does
    (tmp_path / "my_jobs.py").write_text("def from_a_module(batch):\n    return sum(x * x for x in batch)\n")
    monkeypatch.syspath_prepend(str(tmp_path))  # as %%worker_module's file in the notebook's folder
    from my_jobs import from_a_module

    by_value = dask_pickle.dumps(namespace["in_a_cell"])
    by_reference = dask_pickle.dumps(from_a_module)
    assert namespace["in_a_cell"].__code__.co_code in by_value
    assert from_a_module.__code__.co_code not in by_reference and b"my_jobs" in by_reference
    assert dask_pickle.loads(by_value)([1, 2]) == 5


def test_dask_offers_upload_file_for_a_module_the_workers_lack():
    distributed = pytest.importorskip("distributed")
    assert callable(distributed.Client.upload_file)


# --- every lesson runs to the end whatever the student wrote: no cell needs a name only a solution defines ---

LESSONS = ["03_pool", "04_shared_memory", "05_locks_and_races", "06_beyond_one_machine"]
IPYTHON_NAMES = {"get_ipython", "display", "In", "Out", "_", "__", "___", "exit", "quit"}


def _bound_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def _used_names(tree: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load | ast.Del)}


def _python(source: str) -> str:
    """A cell without its IPython magics: a %%cell magic cell defines nothing we can parse; %line magics go."""
    if source.lstrip().startswith("%%"):
        return ""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


@pytest.mark.parametrize("stem", LESSONS)
def test_no_cell_depends_on_a_name_only_a_solution_defines(stem):
    known = set(dir(builtins)) | IPYTHON_NAMES
    problems = []
    for cell in nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4).cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(_python(cell.source))
        if "solution" in cell.metadata.get("tags", []):
            continue  # a student may never run it: whatever it defines must not be needed later
        missing = _used_names(tree) - known - _bound_names(tree)
        problems += [f"{name!r} in cell {cell.source.splitlines()[0]!r}" for name in sorted(missing)]
        known |= _bound_names(tree)
    assert not problems, f"{stem}: names defined only by solution cells (or nowhere): {problems}"


@pytest.mark.slow
def test_lesson04_runs_to_the_end_with_its_solutions_removed():
    """The tidy-up used to delete names only the hidden solution made; run it as a student who solved nothing."""
    method = "spawn" if "spawn" in START_METHODS else START_METHODS[0]
    kernel = Kernel(NOTEBOOKS, {"MPLESSONS_START_METHOD": method})
    try:
        for cell in nbformat.read(NOTEBOOKS / "04_shared_memory.ipynb", as_version=4).cells:
            if cell.cell_type == "code" and "solution" not in cell.metadata.get("tags", []):
                kernel.run(cell.source, timeout=120).raise_if_error()
    finally:
        kernel.shutdown()
