"""Worker functions for lesson 01 (Process and Queue), importable by child processes under every start method.

A ``Process`` cannot return a value, so each worker here puts what it computed on a queue it was given.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from .workloads import cubic_sum


def partial_cubic_sum(start: int, stop: int) -> int:
    """Sum of i + i**2 + i**3 for i in range(start, stop): one slice of the seed's job."""
    total = 0
    for i in range(start, stop):
        total += i + i**2 + i**3
    return total


def partial_cubic_sum_to_queue(queue: Any, start: int, stop: int) -> None:
    """Compute one slice of the seed's job and put the result on ``queue``."""
    queue.put(partial_cubic_sum(start, stop))


def labelled_cubic_sum(queue: Any, label: Any, n: int) -> None:
    """Put ``(label, cubic_sum(n))`` on ``queue``: the label says which input a result belongs to, because
    results arrive in the order the processes *finish*, not the order they were started."""
    queue.put((label, cubic_sum(n)))


def big_result_to_queue(queue: Any, n_bytes: int) -> None:
    """Put ``n_bytes`` bytes on ``queue``: far more than a pipe holds (about 64 KiB on Linux), so the child
    cannot exit until somebody reads them."""
    queue.put(bytes(n_bytes))


def ratio_to_queue(queue: Any, a: float, b: float) -> None:
    """Put ``a / b`` on ``queue``; with ``b == 0`` the child raises ZeroDivisionError and exits with code 1."""
    queue.put(a / b)


def with_stderr_silenced(target: Callable[..., Any], *args: Any) -> None:
    """Run ``target(*args)`` with this process's stderr sent to ``os.devnull``.

    multiprocessing prints an uncaught exception's traceback on the *child's* stderr. Whether that shows in
    the notebook cell or only in the terminal running Jupyter depends on the platform and the ipykernel
    version, so the lesson silences it to keep its stored outputs the same everywhere. The exit code is
    unchanged: that is all the parent ever learns. Meant only as a ``Process`` target: stderr stays silenced
    for the rest of the process, because multiprocessing prints the traceback after ``target`` has raised.
    """
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - stays open: the traceback is printed after we return
    target(*args)


def sleep_forever(seconds: float = 60.0) -> None:
    """Sleep (a stand-in for a stuck worker) so the lesson can stop it with terminate() or kill()."""
    time.sleep(seconds)


def die_on(x: int, bad: int = 3) -> int:
    """Return ``x``, but kill this very process with SIGKILL on input ``bad``: a worker that dies, as one
    killed by the out-of-memory killer would."""
    time.sleep(0.05)
    if x == bad:
        os.kill(os.getpid(), signal.SIGKILL)
    return x
