"""Lesson 07's CPU-bound thread demo as a script, for running in *another* Python (a free-threaded one).

    python3.14t thread_scaling_demo.py '{"threads": [1, 2, 4], "tasks": 4, "task_seconds": 0.1}'

It uses the standard library only and loads ``cubic_sum`` from ``workloads.py`` next to it by file path, so the
other Python needs neither mplessons nor its dependencies installed. It prints one line of JSON: the
interpreter's build and GIL state, the seconds that ``tasks`` equal tasks took on each number of threads, and
how many of a bare ``counter += 1`` race's updates two threads lost.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import sys
import sysconfig
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def _cubic_sum():
    spec = importlib.util.spec_from_file_location("lesson_workloads", Path(__file__).with_name("workloads.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.cubic_sum


def _size_for(cubic_sum, seconds: float) -> int:
    """The n for which cubic_sum(n) takes about ``seconds`` here (the loop is close to linear in n)."""
    n = 20_000
    while True:
        start = time.perf_counter()
        cubic_sum(n)
        took = time.perf_counter() - start
        if took > 0.01:
            return max(1, int(n * seconds / took))
        n *= 2


class _Counter:
    value = 0


def _bare_increments(counter: _Counter, times: int) -> None:
    for _ in range(times):
        counter.value += 1  # read, add, write: nothing locks the three together


def lost_updates(times: int = 200_000) -> tuple[int, int]:
    """(lost, expected) when two threads each do ``counter.value += 1`` ``times`` times without a lock."""
    counter = _Counter()
    threads = [threading.Thread(target=_bare_increments, args=(counter, times)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return 2 * times - counter.value, 2 * times


def main(argv: list[str]) -> int:
    options = json.loads(argv[1]) if len(argv) > 1 else {}
    thread_counts = [int(k) for k in options.get("threads", [1, 2, 4])]
    tasks = int(options.get("tasks", 4))
    cubic_sum = _cubic_sum()
    n = _size_for(cubic_sum, float(options.get("task_seconds", 0.1)))
    seconds = {}
    for k in thread_counts:
        with ThreadPoolExecutor(max_workers=k) as pool:
            start = time.perf_counter()
            list(pool.map(cubic_sum, [n] * tasks))
            seconds[k] = time.perf_counter() - start
    lost, expected = lost_updates()
    gil_check = getattr(sys, "_is_gil_enabled", None)
    print(json.dumps({
        "python": platform.python_version(),
        "executable": sys.executable,
        "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "gil_enabled": True if gil_check is None else bool(gil_check()),
        "cores": os.cpu_count() or 1,
        "tasks": tasks,
        "seconds": seconds,
        "lost_updates": lost,
        "updates": expected,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
