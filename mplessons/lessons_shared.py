"""Worker functions for lesson 04 (shared memory), importable by child processes under every start method.

Each one receives *where* the shared data lives (a ``multiprocessing`` Value/Array handed over when the child
starts, or the name of a ``shared_memory`` segment) and writes into it or reads from it, so the lesson can show
what the parent sees afterwards. They return values instead of printing: a child's ``print`` reaches the
notebook or the Jupyter server's terminal depending on the platform and start method.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from multiprocessing import resource_tracker, shared_memory
from typing import Any

import numpy as np

# --- the usual mistake: a module-level variable --------------------------------------------------------

TOTAL = 0


def add_to_total(amount: int) -> int:
    """Add to this process's own module-level ``TOTAL``: a child changes its copy, never the parent's."""
    global TOTAL
    TOTAL += amount
    return TOTAL


def add_to_value(shared: Any, amount: int) -> None:
    """Add to a ``multiprocessing.Value``: the number lives in shared memory, so the parent sees it."""
    with shared.get_lock():
        shared.value += amount


# --- multiprocessing.Array seen as a 2-D numpy array ---------------------------------------------------


def row_values(row: int, cols: int) -> np.ndarray:
    """What :func:`fill_row` writes into row ``row``: ``row * 10 + 0.5 * column``, easy to recognise."""
    return row * 10 + 0.5 * np.arange(cols, dtype=np.float64)


def fill_row(shared_array: Any, shape: tuple[int, int], row: int) -> None:
    """Write one row of a 2-D grid kept in a 1-D ``multiprocessing.Array('d', rows * cols)``.

    ``np.frombuffer`` makes a numpy view of the shared buffer (no copy), and ``reshape`` gives it two
    dimensions: the Array itself is flat, but how we *look* at its memory is up to us.
    """
    memory = shared_array.get_obj() if hasattr(shared_array, "get_obj") else shared_array  # a RawArray: itself
    if not isinstance(memory, ctypes.Array):  # a numpy view would be a copy in a spawned child
        raise TypeError(f"fill_row needs the shared Array itself (ctx.Array or ctx.RawArray), "
                        f"got {type(shared_array).__name__}")
    grid = np.frombuffer(memory, dtype=np.float64).reshape(shape)
    grid[row] = row_values(row, shape[1])


# --- multiprocessing.shared_memory ---------------------------------------------------------------------


def attach(name: str) -> shared_memory.SharedMemory:
    """Open an existing segment by name *without* registering it with a resource tracker, as a child should.

    Only the creator should register a segment, so that only the creator's ``unlink()`` counts. Python 3.13+
    says so with ``track=False``. On 3.11 and 3.12 ``SharedMemory(name=...)`` always registers; a worker forked
    before the parent's tracker was running then starts a tracker of its own, which warns about a "leaked"
    segment and unlinks it when the worker exits, while the parent still uses it. We skip that registration,
    which is exactly what ``track=False`` does.
    """
    if sys.version_info >= (3, 13):
        return shared_memory.SharedMemory(name=name, track=False)
    with _REGISTER_LOCK:
        register = resource_tracker.register
        resource_tracker.register = _do_not_register
        try:
            return shared_memory.SharedMemory(name=name)
        finally:
            resource_tracker.register = register


_REGISTER_LOCK = threading.Lock()


def _do_not_register(name: str, rtype: str) -> None:
    """Stands in for ``resource_tracker.register`` while a child attaches (Python 3.11 and 3.12)."""


def scale_rows(name: str, shape: tuple[int, ...], dtype: str, rows: list[int], factor: float) -> int:
    """Multiply some rows of a shared numpy array in place; return this worker's pid (to show who did it)."""
    shm = attach(name)
    try:
        data = np.ndarray(shape, dtype=dtype, buffer=shm.buf)
        data[rows] *= factor
    finally:
        data = None  # drop the view first: close() does not check it, and a view read after close() crashes
        shm.close()  # the child closes its mapping; only the parent unlinks
    return os.getpid()


def row_sum(name: str, shape: tuple[int, ...], dtype: str, row: int) -> float:
    """Sum one row of a 2-D numpy array that lives in shared memory segment ``name``."""
    shm = attach(name)
    try:
        data = np.ndarray(shape, dtype=dtype, buffer=shm.buf)
        total = float(data[row].sum())
    finally:
        data = None  # the view goes before close(), as in scale_rows
        shm.close()
    return total


def sum_shared(name: str, shape: tuple[int, ...], dtype: str) -> float:
    """Sum a numpy array that lives in shared memory: only the name, shape and dtype travel to the worker."""
    shm = attach(name)
    try:
        data = np.ndarray(shape, dtype=dtype, buffer=shm.buf)
        total = float(data.sum())
    finally:
        data = None  # the view goes before close(), as in scale_rows
        shm.close()
    return total


def sum_array(data: np.ndarray) -> float:
    """Sum a numpy array that was pickled, sent through a pipe and unpickled into this worker."""
    return float(data.sum())


def segment_exists(name: str) -> bool:
    """True while a shared memory segment called ``name`` exists (it has not been unlinked yet).

    On Linux the segments are files in ``/dev/shm``, so we look there without touching the segment;
    elsewhere we try to attach to it.
    """
    if os.path.isdir("/dev/shm"):
        return os.path.exists(os.path.join("/dev/shm", name.lstrip("/")))
    try:
        attach(name).close()
    except FileNotFoundError:
        return False
    return True


# --- Manager -------------------------------------------------------------------------------------------


def record_square(shared_dict: Any, x: int) -> None:
    """Store ``x * x`` under key ``x`` in a ``Manager().dict()`` proxy: each write is a message to the manager."""
    shared_dict[x] = x * x
