"""Worker functions for lesson 05 (locks and races), importable by child processes under every start method.

Each worker takes the shared ``Value`` (and the ``Lock``, when it uses one) as arguments: synchronisation
objects reach a child only by being passed to it.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

from .workloads import cubic_sum

# A lock made when this module is imported. Under spawn and forkserver every child imports the module afresh
# and so gets a *new*, unrelated lock: lesson 05 shows that such a lock protects nothing.
MODULE_LOCK = multiprocessing.Lock()


def add_many(counter: Any, times: int, start_line: Any = None) -> None:
    """``counter.value += 1``, ``times`` times, with no lock: a read, then a write, and another process may
    write in between. (``Value`` locks each read and each write, but not the two together.)

    ``start_line``, a ``Barrier``, makes the processes begin together: otherwise, on a busy machine or under
    spawn (where starting a process takes longer than the whole loop), one may finish before the other starts.
    """
    if start_line is not None:
        start_line.wait(timeout=60)
    for _ in range(times):
        counter.value += 1


def add_many_locked(counter: Any, times: int, lock: Any) -> None:
    """The same loop, holding ``lock`` across each read-modify-write."""
    for _ in range(times):
        with lock:
            counter.value += 1


def add_many_get_lock(counter: Any, times: int) -> None:
    """The same loop, holding the Value's own lock (``get_lock()``) across each read-modify-write."""
    for _ in range(times):
        with counter.get_lock():
            counter.value += 1


def add_ten_times(counter: Any, amount: int, lock: Any) -> None:
    """The seed's code5 ``job`` without ``sleep`` and ``print``: add ``amount`` ten times under ``lock``."""
    for _ in range(10):
        with lock:
            counter.value += amount


def try_lock(lock: Any, results: Any, label: str, timeout: float = 0.3) -> None:
    """Put ``(label, True)`` on ``results`` if this process could acquire ``lock`` within ``timeout`` seconds,
    ``(label, False)`` if not. The parent holds the lock meanwhile, so True means: not the parent's lock."""
    got = lock.acquire(timeout=timeout)
    if got:
        lock.release()
    results.put((label, got))


def try_module_lock(results: Any, label: str, timeout: float = 0.3) -> None:
    """The same test on ``MODULE_LOCK`` as *this* process sees it."""
    try_lock(MODULE_LOCK, results, label, timeout)


# --- a lock for pool workers: handed to each worker once, as it starts ----------------------------------

_WORKER_LOCK: Any = None
"""The lock this pool worker was started with (set by :func:`remember_lock`); None outside such a worker."""


def remember_lock(lock: Any) -> None:
    """Pool initializer, ``ctx.Pool(initializer=remember_lock, initargs=(lock,))``: keep the lock for this worker's
    tasks. A lock cannot travel in a task's arguments, but it can be handed over when the worker starts."""
    global _WORKER_LOCK
    _WORKER_LOCK = lock


def pool_lock_is_free(lock: Any = None, timeout: float = 0.3) -> bool:
    """A pool task: True if this process could take ``lock`` (by default the one :func:`remember_lock` kept)
    within ``timeout`` seconds. The parent holds the lock meanwhile, so False means: the parent's own lock."""
    lock = _WORKER_LOCK if lock is None else lock
    if lock is None:
        raise RuntimeError("this worker has no lock: start the pool with initializer=remember_lock, initargs=(lock,)")
    got = lock.acquire(timeout=timeout)
    if got:
        lock.release()
    return got


def work_then_add(counter: Any, lock: Any, rounds: int, n: int, spans: Any, start_line: Any,
                  whole_loop: bool = False) -> None:
    """Do ``rounds`` pieces of work (``cubic_sum(n)``), adding 1 to ``counter`` after each.

    With ``whole_loop=False`` the lock is held only around the ``+=`` (the work runs in parallel); with
    ``whole_loop=True`` it is held around the whole loop, so the other process waits for all of it. When
    the work started and ended (``time.time()``) is put on ``spans``.
    """
    start_line.wait(timeout=60)  # begin together, as in add_many
    if whole_loop:
        with lock:
            start = time.time()  # the work starts once the lock is ours
            for _ in range(rounds):
                cubic_sum(n)
                counter.value += 1
            end = time.time()
    else:
        start = time.time()
        for _ in range(rounds):
            cubic_sum(n)
            with lock:
                counter.value += 1
        end = time.time()
    spans.put((start, end))
