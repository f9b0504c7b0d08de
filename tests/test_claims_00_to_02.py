"""What lessons 00, 01 and 02 and the guard's messages now claim, each checked where a test can hold it.

The claims that need another platform or Python (Windows' ``kill()``, 3.14t's speed, macOS pipes) are cited in the
lesson text instead. Anything that could hang runs in a subprocess with a hard timeout.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import queue
import re
import subprocess
import sys
import textwrap
import threading
import warnings
from pathlib import Path

import nbformat
import pytest
from support import NOTEBOOKS

import mplessons
from mplessons import amdahl_fit, plot_speedup, sweep, workloads
from mplessons.speedup import MIN_FIT_COUNTS, SweepResult, SweepRow, amdahl_speedup, fit_counts

# --- lesson 02 §6: target=job(n) ---------------------------------------------------------------------


def test_a_thread_whose_target_is_a_number_starts_and_its_error_goes_to_excepthook():
    seen = []
    default_hook = threading.excepthook
    threading.excepthook = seen.append
    try:
        broken = threading.Thread(target=workloads.cubic_sum(10))  # the slip: the int 285, not the function
        assert broken.start() is None  # start() returns normally
        broken.join(timeout=10)
    finally:
        threading.excepthook = default_hook
    assert not broken.is_alive()
    assert len(seen) == 1 and seen[0].thread is broken
    assert isinstance(seen[0].exc_value, TypeError) and "'int' object is not callable" in str(seen[0].exc_value)


def test_a_process_whose_target_is_a_number_starts_and_exits_with_code_1(start_method):
    ctx = multiprocessing.get_context(start_method)
    broken = ctx.Process(target=workloads.cubic_sum(10))
    broken.start()  # returns normally; the TypeError happens in the child
    broken.join(timeout=30)
    assert broken.exitcode == 1


# --- lesson 02 §4: a thread queue may be read after join ---------------------------------------------


def test_a_thread_queue_can_be_read_after_join_even_with_a_big_item():
    tq: queue.Queue = queue.Queue()
    worker = threading.Thread(target=tq.put, args=(bytes(10_000_000),))
    worker.start()
    worker.join(timeout=5)  # the order lesson 01 forbids for a multiprocessing.Queue
    assert not worker.is_alive(), "put() on an unbounded queue.Queue never blocks: the thread has ended"
    assert len(tq.get_nowait()) == 10_000_000


# --- lesson 00 and the guard: the story of the hang ----------------------------------------------------

# `python -c` gives __main__ no file, as in a Jupyter kernel, so spawn and forkserver workers cannot find `job`.
CELL_LIKE_MAIN = textwrap.dedent("""
    import json, multiprocessing, os, re, sys, time
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    def job(x):
        return x * x

    ctx = multiprocessing.get_context(sys.argv[1])
    report = {}
    pool = ctx.Pool(2)
    report["first_workers_ran_a_task"] = pool.apply(os.getpid, ()) != os.getpid()
    result = pool.map_async(job, range(10))  # 10 inputs on 2 workers: 5 chunks of 2

    def numbers():  # the pool numbers its workers 1, 2, ... in the order it starts them
        return sorted(int(re.search(r"(\\d+)$", p.name).group(1)) for p in multiprocessing.active_children()
                      if "PoolWorker" in p.name)

    deadline = time.monotonic() + 60
    while not (len(numbers()) == 2 and max(numbers()) == 7) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # long enough for any further death to be replaced
    report["workers_started"] = max(numbers())
    report["workers_alive"] = len(numbers())
    report["map_ready"] = result.ready()
    pool.terminate()
    pool.join()

    started = time.monotonic()
    try:
        with ProcessPoolExecutor(2, mp_context=ctx) as executor:
            list(executor.map(job, range(10)))
        report["executor"] = "returned"
    except BrokenProcessPool:
        report["executor"] = "BrokenProcessPool"
    report["executor_seconds"] = time.monotonic() - started
    print(json.dumps(report))
""")


@pytest.mark.slow
@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_a_cell_like_function_kills_one_worker_per_chunk_then_the_pool_waits_forever(start_method):
    done = subprocess.run([sys.executable, "-c", CELL_LIKE_MAIN, start_method], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["first_workers_ran_a_task"], "the workers start normally and run an importable task"
    # 5 chunks: 5 workers died, each was replaced (7 started in all), and 2 are alive and idle
    assert report["workers_started"] == 7 and report["workers_alive"] == 2, report
    deaths = re.findall(r"^Process \w*PoolWorker-\d+:$", done.stderr, flags=re.MULTILINE)
    assert len(deaths) == 5, done.stderr[-3000:]
    assert done.stderr.count("AttributeError: Can't get attribute 'job' on <module '__main__'") >= 5
    assert report["map_ready"] is False, "map never gets the lost chunks' results"
    assert report["executor"] == "BrokenProcessPool" and report["executor_seconds"] < 30


@pytest.mark.slow
def test_ipykernel_shows_a_childs_traceback_in_the_cell_on_linux(kernel_factory, monkeypatch):
    """Lesson 00's "it depends": ipykernel >= 6 forwards what child processes write (not under pytest)."""
    if not sys.platform.startswith(("linux", "darwin")):
        pytest.skip("ipykernel forwards child output on Linux and macOS only")
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)  # ipykernel turns the forwarding off under pytest
    kernel = kernel_factory()
    result = kernel.run("import multiprocessing\n"
                        "p = multiprocessing.get_context('spawn').Process(target=5)\n"
                        "p.start(); p.join(30); print('exitcode', p.exitcode)", timeout=60).raise_if_error()
    assert "exitcode 1" in result.stdout
    assert "TypeError: 'int' object is not callable" in result.stderr


def _cell_function(monkeypatch):
    """A function in ``__main__``, as a notebook cell's, with ``__main__`` not importable (as in a kernel)."""
    namespace: dict = {"__name__": "__main__"}
    exec("def job(x):\n    return x * x", namespace)  # noqa: S102
    monkeypatch.setattr(sys.modules["__main__"], "job", namespace["job"], raising=False)
    monkeypatch.setattr(mplessons.guard, "_main_is_importable", lambda: False)
    return namespace["job"]


@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_the_guards_error_tells_the_whole_story(monkeypatch, start_method):
    job = _cell_function(monkeypatch)
    with pytest.raises(mplessons.InteractiveFunctionError) as err:
        mplessons.check_worker(job, start_method)
    message = str(err.value)
    how = "a fresh Python" if start_method == "spawn" else "forked from a server process"
    assert how in message and "never ran this notebook's cells" in message
    assert "first chunk of tasks" in message and "waits forever" in message and "BrokenProcessPool" in message
    assert "at start-up" not in message


def test_the_guards_fork_warning_names_both_outcomes(monkeypatch):
    job = _cell_function(monkeypatch)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mplessons.check_worker(job, "fork")
    text = str(caught[0].message)
    assert "hangs under 'spawn'" in text and "BrokenProcessPool" in text


# --- lesson 01 §3: scripts, the guard, and what each start method imports --------------------------------


def _lesson_cell(notebook: str, first_line: str) -> str:
    nb = nbformat.read(NOTEBOOKS / notebook, as_version=4)
    sources = [c.source for c in nb.cells if c.cell_type == "code" and c.source.startswith(first_line)]
    assert len(sources) == 1, f"no single cell starting with {first_line!r} in {notebook}"
    return sources[0].split("\n", 1)[1]


def test_the_lessons_unguarded_code1_dies_with_context_has_already_been_set_and_hangs(tmp_path: Path):
    script = tmp_path / "unguarded.py"
    script.write_text(_lesson_cell("01_process_and_queue.ipynb", "%%writefile unguarded.py"), encoding="utf-8")
    env = {**os.environ, "PYTHONUNBUFFERED": ""}  # as the lesson runs it: whole lines from each child
    with pytest.raises(subprocess.TimeoutExpired) as hung:
        subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, timeout=10, env=env)
    out, err = hung.value.stdout.decode(), hung.value.stderr.decode()
    assert out.splitlines() == ["top level of unguarded.py runs as '__main__'",
                                *["top level of unguarded.py runs as '__mp_main__'"] * 2]
    errors = [line for line in err.splitlines() if line.startswith("RuntimeError")]
    assert errors == ["RuntimeError: context has already been set"] * 2, err[-3000:]


def _forkserver_preloads_main() -> bool:
    """gh-126631: the forkserver imports __main__ once from Python 3.13.8 and 3.14.1 on."""
    v = sys.version_info[:3]
    return v >= (3, 14, 1) or (3, 13, 8) <= v < (3, 14)


@pytest.mark.parametrize(("start_method", "expected"), [
    ("spawn", 3), ("fork", 1), ("forkserver", 2 if _forkserver_preloads_main() else 3)])
def test_how_often_a_guarded_scripts_top_level_runs(tmp_path: Path, start_method: str, expected: int):
    code1 = _lesson_cell("01_process_and_queue.ipynb", "%%writefile code1.py")
    code1 = code1.replace('set_start_method("spawn")', f'set_start_method("{start_method}")')
    assert f'set_start_method("{start_method}")' in code1
    (tmp_path / "code1.py").write_text(code1, encoding="utf-8")
    done = subprocess.run([sys.executable, "code1.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()  # whole lines even under PYTHONUNBUFFERED: the script prints in one write
    assert sum(line.startswith("top level of code1.py runs as") for line in lines) == expected, lines
    assert lines[-1] == "total: 249999833333583333000000"


# --- lesson 02 §10: when an Amdahl fit is made, and what the table says -----------------------------------


def test_amdahl_fit_refuses_fewer_than_three_different_counts():
    with pytest.raises(ValueError, match=f"at least {MIN_FIT_COUNTS} different counts.*got 1, 2"):
        amdahl_fit([1, 2, 2, 2], [1.0, 1.8, 1.9, 1.7])
    assert 0.0 <= amdahl_fit([1, 2, 3], [1.0, 1.8, 2.4]) <= 1.0


def test_fit_counts_keeps_three_or_more_counts_within_the_cores():
    assert fit_counts([1, 2, 4], cores=2) == []  # 4 is beyond the cores: only 1 and 2 would be left
    assert fit_counts([1, 2, 4, 8], cores=4) == [1, 2, 4]
    assert fit_counts([2, 3, 4], cores=4) == [2, 3, 4]


def test_a_two_core_sweep_makes_no_fit_and_says_why(monkeypatch):
    monkeypatch.setattr(mplessons.speedup, "usable_cores", lambda: 2)
    result = sweep(workloads.sleep_then_return, [0.02] * 4, workers=[1, 2, 4], backend="thread", repeat=1,
                   progress=False)
    assert result.serial_fraction is None and result.fit_workers == []
    text = result.table()
    assert "no Amdahl fit: it needs 3 different worker counts within the 2 usable cores" in text
    assert "never pass" not in text


def _sweep(fraction: float | None, workers: tuple[int, ...], cores: int) -> SweepResult:
    speedups = [float(amdahl_speedup(min(n, cores), fraction or 0.1)) for n in workers]
    rows = [SweepRow(n, 1.0 / s, s, s / n) for n, s in zip(workers, speedups, strict=True)]
    fitted = fit_counts(workers, cores) if fraction is not None else []
    return SweepResult(rows, fraction, "process", "one-worker", 1.0, cores, 8, 1, "spawn", None, fitted)


def test_a_fit_is_reported_as_a_model_with_its_range():
    text = _sweep(0.15, (1, 2, 3, 4, 8), cores=4).table()
    assert "Amdahl fit on 1, 2, 3, 4 workers: serial fraction 0.15" in text
    assert "ceiling is 6.7×" in text and "a guess beyond 4 workers" in text


def test_the_plot_draws_the_cores_dash_dot_and_fits_dotted_as_the_lesson_says():
    fitted = plot_speedup(_sweep(0.1, (1, 2, 3, 4), cores=4), efficiency=False).axes[0]
    styles = {line.get_label(): line.get_linestyle() for line in fitted.get_lines()}
    assert styles["usable cores (4)"] == "-." and styles["Amdahl, serial fraction 0.10"] == ":"
    unfitted = plot_speedup(_sweep(None, (1, 2, 4), cores=2), efficiency=False).axes[0]
    assert not any(line.get_label().startswith("Amdahl") for line in unfitted.get_lines())
    source = (Path(__file__).resolve().parents[1] / "notebooks/02_processes_vs_threads.md").read_text()
    assert "dash-dot line of the usable cores" in source and "dotted line of the usable cores" not in source
