"""Lesson 07: the thread race loses updates (and the locked one none) on nearly every run of its cell; hashlib lets
other threads run while it hashes a big piece; PYTHON_GIL=0 turns the GIL off only on a free-threaded build; the
exercise checks reject the typical wrong answers with a diagnosis; the free-threaded and subinterpreter cells run
their "found" and "not here" paths."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import stat
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from pathlib import Path

import matplotlib
import nbformat
import pytest
from support import NOTEBOOKS, other_pythons

import mplessons
from mplessons import free_threading
from mplessons.checks import deposit_probe, lesson07
from mplessons.lessons_threads import Account, hash_stream
from mplessons.machine import interpreters_available
from mplessons.workloads import cubic_sum

matplotlib.use("Agg")

LESSON = NOTEBOOKS / "07_threads_and_the_gil.ipynb"


def code_cell(marker: str) -> str:
    """The source of the lesson's one code cell that contains ``marker``."""
    sources = [c.source for c in nbformat.read(LESSON, as_version=4).cells
               if c.cell_type == "code" and marker in c.source]
    assert len(sources) == 1, f"{len(sources)} code cells of {LESSON.name} contain {marker!r}"
    return sources[0]


def run_cell(source: str, namespace: dict) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, "<lesson 07 cell>", "exec"), namespace)  # noqa: S102 - the lesson's own cell
    return out.getvalue()


# --- section 1: the race, run as its cell runs -----------------------------------------------------------


def test_the_race_cell_loses_updates_in_at_least_95_of_100_runs_and_the_locked_cell_in_none():
    race, locked = code_cell("def add_many(counter, times, start_line):"), code_cell("def add_many_locked(")
    namespace = {"threading": threading, "time": time}
    started = time.perf_counter()
    race_outputs = [run_cell(race, namespace) for _ in range(100)]
    locked_outputs = [run_cell(locked, namespace) for _ in range(100)]
    lost = sum("lost updates: yes" in out for out in race_outputs)
    assert lost >= 95, f"the race lost updates in only {lost} of 100 runs: {race_outputs[:3]}"
    assert all(out.strip() == "expected 200, got 200" for out in locked_outputs), set(locked_outputs)
    assert time.perf_counter() - started < 60, "200 runs of two small cells should take seconds"


# --- the lesson's workers -------------------------------------------------------------------------------


def test_hash_stream_is_the_digest_of_the_repeated_chunk():
    chunk = os.urandom(3000)
    assert hash_stream(chunk, 5) == hashlib.sha256(chunk * 5).hexdigest()


def longest_stall_while(work) -> tuple[float, float]:
    """(seconds ``work()`` took in another thread, longest time this thread could not run meanwhile).

    This thread spins on the clock while ``work`` runs; it can run only when the other thread does not hold the
    GIL (or the OS gives it no core, which is why the bound below is generous).
    """
    window: dict[str, float] = {}

    def timed_work() -> None:
        window["start"] = time.perf_counter()
        work()
        window["end"] = time.perf_counter()

    stalls = []  # (when this thread ran again, how long it had not run) for stalls over 1 ms
    worker = threading.Thread(target=timed_work)
    last = time.perf_counter()
    worker.start()
    while worker.is_alive():
        now = time.perf_counter()
        if now - last > 1e-3:
            stalls.append((now, now - last))
        last = now
    worker.join()
    start, end = window["start"], window["end"]
    inside = [min(when, end) - max(when - gap, start) for when, gap in stalls if when > start and when - gap < end]
    return end - start, max(inside, default=0.0)


def test_hashlib_lets_another_thread_run_while_it_hashes_one_big_piece():
    """Lesson 07, section 5: one sha256 update of 128 MiB releases the GIL, so this thread keeps running; were
    the GIL held, this thread would stall for the whole hash."""
    data = bytes(128 << 20)
    took, stall = longest_stall_while(lambda: hashlib.sha256().update(data))
    assert took > 0.02, f"hashing 128 MiB took only {took * 1e3:.1f} ms: too short to tell"
    assert stall < 0.5 * took, f"this thread stalled {stall * 1e3:.0f} ms of the {took * 1e3:.0f} ms hash"
    if mplessons.gil_enabled():  # the same measurement of C code that keeps the GIL sees this thread stall
        took, stall = longest_stall_while(lambda: sum(memoryview(data)[:16 << 20]))
        assert stall > 0.5 * took, f"a GIL-holding sum stalled this thread {stall * 1e3:.0f} of {took * 1e3:.0f} ms"


def test_account_counts_reads_and_writes():
    account = Account(10)
    account.write(account.read() + 5)
    assert (account.balance, account.reads, account.writes) == (15, 1, 1)
    assert repr(account) == "Account(balance=15)"


# --- exercise 1: deposit ---------------------------------------------------------------------------------

balance_lock = threading.Lock()
reentrant = threading.RLock()
never_released = threading.Lock()


def locked_deposit(account, amount):
    with balance_lock:
        account.write(account.read() + amount)


def rlock_deposit(account, amount):
    reentrant.acquire()
    try:
        balance = account.read()
        account.write(balance + amount)
    finally:
        reentrant.release()


def unlocked_deposit(account, amount):
    balance = account.read()
    account.write(balance + amount)


def lock_per_call_deposit(account, amount):
    with threading.Lock():
        account.write(account.read() + amount)


def read_locked_only_deposit(account, amount):
    with balance_lock:
        balance = account.read()
    account.write(balance + amount)


def overwriting_deposit(account, amount):
    with balance_lock:
        account.read()
        account.write(amount)


def forgetful_deposit(account, amount):
    never_released.acquire()
    account.write(account.read() + amount)


def bypassing_deposit(account, amount):
    with balance_lock:
        account._balance += amount


def test_check_deposit_placeholder_and_non_functions():
    feedback = lesson07.check_deposit(...)
    assert not feedback and not feedback.attempted
    assert "should be a function" in lesson07.check_deposit(42).message


@pytest.mark.parametrize("answer", [locked_deposit, rlock_deposit])
def test_check_deposit_accepts_a_lock_around_the_read_and_the_write(answer):
    feedback = lesson07.check_deposit(answer)
    assert feedback, feedback.message


@pytest.mark.parametrize("answer, says", [
    (unlocked_deposit, ["lost", "around the read and the write together"]),
    (read_locked_only_deposit, ["lost", "around the read and the write together"]),
    (lock_per_call_deposit, ["new Lock on every call", "outside the function"]),
    (overwriting_deposit, ["expected 22", "plus the amount"]),
    (bypassing_deposit, ["account.read()", "account.write("]),
    (forgetful_deposit, ["second call", "never released"]),
])
def test_check_deposit_names_the_mistake(answer, says):
    message = lesson07.check_deposit(answer).message
    for words in says:
        assert words in message, message


def re_reading_deposit(account, amount):
    account.read()  # a read outside the lock is harmless when the balance is read again inside it
    with balance_lock:
        account.write(account.read() + amount)


@pytest.mark.parametrize("answer", [locked_deposit, rlock_deposit, re_reading_deposit])
def test_the_paused_deposit_probe_loses_nothing_with_one_lock(answer):
    assert deposit_probe.lost_in_the_window(answer) == 0


@pytest.mark.parametrize("answer", [unlocked_deposit, read_locked_only_deposit, lock_per_call_deposit])
def test_the_paused_deposit_probe_loses_a_deposit_without_one_lock(answer):
    assert deposit_probe.lost_in_the_window(answer) in (deposit_probe.FIRST, deposit_probe.SECOND)


def test_check_deposit_rejects_a_lock_free_deposit_whose_rounds_lost_nothing_by_luck(monkeypatch):
    """The rounds depend on timing (a lock-free answer that sleeps before reading loses little, sometimes
    nothing); the paused probe does not."""

    def lucky_round(fn):
        account, expected = Account(0), lesson07.THREADS * lesson07.DEPOSITS
        account.reads = account.writes = expected
        account._balance = expected
        return account, expected, True

    monkeypatch.setattr(lesson07, "_round", lucky_round)
    message = lesson07.check_deposit(unlocked_deposit).message
    for words in ("by luck of timing", "paused one deposit", "around the read and the write together"):
        assert words in message, message
    assert lesson07.check_deposit(locked_deposit)


def test_check_deposit_reports_an_error_of_the_students_function():
    def broken(account, amount):
        raise KeyError("oops")

    assert "raised KeyError" in lesson07.check_deposit(broken).message


# --- exercise 2: fetch_all -------------------------------------------------------------------------------


def fetch_all_map(fetch, urls):
    with ThreadPoolExecutor() as executor:
        return list(executor.map(fetch, urls))


def fetch_all_submit(fetch, urls):
    with ThreadPoolExecutor(max_workers=len(urls)) as executor:
        futures = [executor.submit(fetch, url) for url in urls]
        return [f.result() for f in futures]


def fetch_all_serial(fetch, urls):
    return [fetch(url) for url in urls]


def fetch_all_completed(fetch, urls):
    with ThreadPoolExecutor(max_workers=8) as executor:
        return [f.result() for f in as_completed([executor.submit(fetch, u) for u in urls])]


def fetch_all_called(fetch, urls):
    with ThreadPoolExecutor() as executor:
        return [executor.submit(fetch(url)).result() for url in urls]


def fetch_all_by_hand(fetch, urls):
    pages = [None] * len(urls)

    def get(i, url):
        pages[i] = fetch(url)

    threads = [threading.Thread(target=get, args=(i, u)) for i, u in enumerate(urls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return pages


def fetch_all_processes(fetch, urls):
    with ProcessPoolExecutor(max_workers=4, mp_context=mplessons.context()) as executor:
        return list(executor.map(fetch, urls))


def fetch_all_two_workers(fetch, urls):
    with ThreadPoolExecutor(max_workers=2) as executor:
        return list(executor.map(fetch, urls))


def fetch_all_futures(fetch, urls):
    with ThreadPoolExecutor() as executor:
        return [executor.submit(fetch, url) for url in urls]


def fetch_all_iterator(fetch, urls):
    with ThreadPoolExecutor() as executor:
        return executor.map(fetch, urls)


def test_check_fetch_all_placeholder():
    feedback = lesson07.check_fetch_all(...)
    assert not feedback and not feedback.attempted


@pytest.mark.parametrize("answer", [fetch_all_map, fetch_all_submit])
def test_check_fetch_all_accepts_a_thread_pool(answer):
    feedback = lesson07.check_fetch_all(answer)
    assert feedback, feedback.message


@pytest.mark.parametrize("answer, says", [
    (fetch_all_serial, ["this thread, one after another"]),
    (fetch_all_completed, ["out of order", "as_completed"]),
    (fetch_all_called, ["not callable", "executor.submit(fetch, url)"]),
    (fetch_all_by_hand, ["threads you started yourself", "ThreadPoolExecutor"]),
    (fetch_all_processes, ["ProcessPoolExecutor?", "ThreadPoolExecutor"]),
    (fetch_all_two_workers, ["at most 2 download(s)", "max_workers"]),
    (fetch_all_futures, ["Future objects", ".result()"]),
    (fetch_all_iterator, ["iterator", "list(executor.map"]),
])
def test_check_fetch_all_names_the_mistake(answer, says):
    message = lesson07.check_fetch_all(answer).message
    for words in says:
        assert words in message, message


# --- section 6: a free-threaded Python, found or not --------------------------------------------------------


def fake_program(folder: Path, name: str, script: str) -> Path:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_find_interpreter_prefers_the_variable_then_314t_then_313t(tmp_path):
    t13 = fake_program(tmp_path, "python3.13t", "exit 0")
    assert free_threading.find_interpreter({}, str(tmp_path)).path == str(t13)
    t14 = fake_program(tmp_path, "python3.14t", "exit 0")
    found = free_threading.find_interpreter({}, str(tmp_path))
    assert (found.path, found.found_by) == (str(t14), "python3.14t on PATH")
    named = free_threading.find_interpreter({free_threading.ENV_VAR: sys.executable}, str(tmp_path))
    assert (named.path, named.found_by) == (sys.executable, "$MPLESSONS_FREE_THREADED_PYTHON")


def test_find_interpreter_finds_none_on_an_empty_path_and_refuses_a_variable_naming_nothing(tmp_path):
    assert free_threading.find_interpreter({}, str(tmp_path)) is None
    with pytest.raises(ValueError, match=r"MPLESSONS_FREE_THREADED_PYTHON.*'/no/such/python'.*unset it"):
        free_threading.find_interpreter({free_threading.ENV_VAR: "/no/such/python"}, str(tmp_path))


def test_the_demo_runs_in_another_python_and_reports_its_gil():
    """This test's own Python stands in for a free-threaded one: the demo and its parsing run for real."""
    scaling = free_threading.run_thread_scaling(sys.executable, threads=[1, 2], tasks=2, task_seconds=0.02)
    assert sorted(scaling.seconds) == [1, 2] and all(s > 0 for s in scaling.seconds.values())
    assert scaling.free_threaded_build == mplessons.machine.free_threaded_build()
    assert scaling.gil_enabled == mplessons.gil_enabled()
    assert scaling.updates == 400_000 and 0 <= scaling.lost_updates <= scaling.updates
    assert scaling.speedups[1] == 1.0
    text = scaling.summary()
    assert "2 thread(s)" in text and "lost" in text
    if scaling.gil_enabled:
        assert "GIL" in text
    assert free_threading.plot_thread_scaling(scaling).axes[0].get_xlabel() == "threads"


def test_a_failing_or_silent_interpreter_gives_an_error_that_says_so(tmp_path):
    crashing = fake_program(tmp_path, "python3.14t", "echo 'Fatal Python error: boom' >&2; exit 3")
    with pytest.raises(RuntimeError, match=r"exited with code 3.*boom"):
        free_threading.run_thread_scaling(str(crashing))
    chatty = fake_program(tmp_path, "python3.13t", "echo 'not json'")
    with pytest.raises(RuntimeError, match="printed no result"):
        free_threading.run_thread_scaling(str(chatty))
    with pytest.raises(RuntimeError, match="no such program"):
        free_threading.run_thread_scaling(str(tmp_path / "missing"))


def test_parse_scaling_skips_warnings_before_the_result_and_refuses_a_wrong_one():
    line = ('{"python": "3.14.0", "executable": "/x/python3.14t", "free_threaded_build": true, "gil_enabled": false, '
            '"cores": 4, "tasks": 4, "seconds": {"1": 0.4, "2": 0.2, "4": 0.1}, "lost_updates": 7, "updates": 10}')
    scaling = free_threading.parse_scaling("RuntimeWarning: something\n" + line)
    assert scaling.speedups == {1: 1.0, 2: 2.0, 4: 4.0}
    assert "free-threaded, GIL off" in scaling.summary()
    with pytest.raises(RuntimeError, match="cannot read"):
        free_threading.parse_scaling('{"python": "3.14.0"}')


GIL_STATE = ("import sys, sysconfig; print(bool(sysconfig.get_config_var('Py_GIL_DISABLED')), "
             "getattr(sys, '_is_gil_enabled', lambda: True)())")


@pytest.mark.parametrize("python", [pytest.param(sys.executable, id="this-python")] + [
    pytest.param(p, id=Path(p).parents[1].name, marks=pytest.mark.slow) for p in other_pythons()])
def test_python_gil_0_turns_the_gil_off_only_on_a_free_threaded_build(python):
    """Lesson 07, section 6: PYTHON_GIL=0 keeps the GIL off on a free-threaded build; a build with the GIL refuses
    to start with it from 3.13 and ignores it before; PYTHON_GIL=1 runs everywhere with the GIL on."""
    def run(value: str) -> subprocess.CompletedProcess:
        return subprocess.run([python, "-c", GIL_STATE], capture_output=True, text=True, timeout=60,
                              env={**os.environ, "PYTHON_GIL": value})

    version = tuple(int(x) for x in subprocess.run(
        [python, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True, text=True,
        timeout=60, check=True).stdout.split())
    free_threaded = run("1").stdout.split()[0] == "True"
    assert run("1").stdout.split() == [str(free_threaded), "True"]
    off = run("0")
    if free_threaded:
        assert off.returncode == 0 and off.stdout.split() == ["True", "False"]
    elif version >= (3, 13):
        assert off.returncode != 0 and "Disabling the GIL is not supported by this build" in off.stderr
    else:
        assert off.returncode == 0 and off.stdout.split() == ["False", "True"]


def test_the_lessons_free_threading_cell_runs_the_found_path(monkeypatch):
    """The cell itself, with this test's Python named as the free-threaded one (the demo made small)."""
    import matplotlib.pyplot as plt

    real = free_threading.run_thread_scaling
    monkeypatch.setattr(free_threading, "run_thread_scaling",
                        lambda path, **_: real(path, threads=[1, 2], tasks=2, task_seconds=0.02))
    monkeypatch.setenv(free_threading.ENV_VAR, sys.executable)
    plt.close("all")
    out = run_cell(code_cell("free_threading.find_interpreter()"), {"plt": plt})
    assert f"Running the thread demo in {sys.executable}" in out and "2 thread(s)" in out
    assert "No free-threaded Python found" not in out


def test_the_lessons_free_threading_cell_says_none_was_found(monkeypatch, tmp_path):
    import matplotlib.pyplot as plt

    monkeypatch.delenv(free_threading.ENV_VAR, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    out = run_cell(code_cell("free_threading.find_interpreter()"), {"plt": plt})
    assert "No free-threaded Python found on this machine" in out and "uv python install 3.14t" in out


def test_the_lessons_interpreters_cell_runs_or_says_it_is_skipped():
    namespace = {"mplessons": mplessons, "time": time, "cubic_sum": cubic_sum,
                 "calibrate": mplessons.calibrate, "ThreadPoolExecutor": ThreadPoolExecutor}
    out = run_cell(code_cell("InterpreterPoolExecutor"), namespace)
    if interpreters_available():
        assert "in interpreter" in out and "2 interpreters" in out and "failed" not in out
    else:
        assert out.strip() == "This Python has no concurrent.interpreters (new in Python 3.14): skipped."
