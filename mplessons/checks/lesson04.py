"""Self-checks for lesson 04 (shared memory): each names what is wrong with an answer and how to fix it."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..lessons_shared import row_values, segment_exists
from . import Feedback, failed, is_placeholder, not_attempted, passed

PRICE = 0.313


def _ctypes_object(shared: Any) -> Any:
    """The ctypes object behind a Value/Array (synchronised or raw), or None for anything else."""
    if hasattr(shared, "get_obj"):
        return shared.get_obj()
    if hasattr(type(shared), "_type_"):
        return shared
    return None


def check_price(price: Any) -> Feedback:
    """Exercise 1: a shared Value that holds 0.313 exactly."""
    if is_placeholder(price):
        return not_attempted("make `price` a shared Value holding 0.313")
    if isinstance(price, (float, int)):
        return failed(
            f"`price` is a plain Python {type(price).__name__}: each child process would get its own copy. "
            "Make it with ctx.Value(typecode, 0.313)"
        )
    obj = _ctypes_object(price)
    if obj is None:
        return failed(f"`price` is a {type(price).__name__}, not a shared Value: use ctx.Value(typecode, 0.313)")
    typecode = getattr(type(obj), "_type_", None)
    if not isinstance(typecode, str):
        return failed("`price` holds several numbers (an Array); a single shared number is a ctx.Value")
    value = obj.value
    if typecode == "f":
        return failed(
            f"price.value is {value!r}, not 0.313: typecode 'f' is a 32-bit C float (ctypes.c_float), which "
            "cannot hold 0.313 exactly. Use 'd' (a C double, the same 64 bits as a Python float)"
        )
    if typecode != "d":
        return failed(
            f"typecode {typecode!r} stores {type(obj).__name__} values, so price.value is {value!r}; "
            "a Python float fits typecode 'd'"
        )
    if value != PRICE:
        return failed(f"price.value is {value!r}, expected 0.313")
    return passed("price.value == 0.313 exactly: typecode 'd' is a C double, like a Python float")


def _owns_its_memory(array: np.ndarray) -> bool:
    """True when no other object's memory is behind ``array`` (it is a copy, not a view of shared memory)."""
    base = array
    while isinstance(base, np.ndarray):
        if base.base is None:
            return True
        base = base.base
    return False


def check_grid(grid: Any, shape: tuple[int, int] = (3, 4)) -> Feedback:
    """Exercise 2: a 2-D numpy view of a shared Array whose rows were written by child processes."""
    if is_placeholder(grid):
        return not_attempted("make `grid` a 2-D numpy view of a shared Array filled by child processes")
    rows, cols = shape
    if hasattr(grid, "get_obj"):
        return failed(
            "`grid` is the flat shared Array itself; look at it through numpy: "
            f"np.frombuffer(shared.get_obj(), dtype=np.float64).reshape({rows}, {cols})"
        )
    if not isinstance(grid, np.ndarray):
        return failed(f"`grid` is a {type(grid).__name__}; expected a numpy array (a view made with np.frombuffer)")
    if grid.shape != shape:
        hint = f": reshape it with .reshape({rows}, {cols})" if grid.size == rows * cols else ""
        return failed(f"`grid` has shape {grid.shape}, expected {shape}{hint}")
    if grid.dtype != np.float64:
        return failed(
            f"`grid` holds {grid.dtype} values; the rows contain halves (0.5, 1.5, ...), so make the Array with "
            "typecode 'd' and view it with dtype=np.float64"
        )
    expected = np.array([row_values(r, cols) for r in range(rows)])
    if not grid.any():
        return failed(
            "every value is 0: the children's writes did not reach this array. Pass the shared Array itself "
            "(not a numpy copy) in args=..., start every process, then join them before you look"
        )
    missing = [r for r in range(rows) if not grid[r].any() and expected[r].any()]
    if missing:
        return failed(f"rows {missing} are still 0: start one process per row (row = 0..{rows - 1}) and join all")
    for r in range(rows):
        if not np.array_equal(grid[r], expected[r]):
            return failed(f"row {r} is {grid[r].tolist()}, expected {expected[r].tolist()}")
    if _owns_its_memory(grid):
        return failed(
            "the values are right, but `grid` is a copy (it owns its memory), so later writes by children "
            "would not show. Make it a view: np.frombuffer(shared.get_obj(), dtype=np.float64).reshape(...)"
        )
    return passed(f"a {rows}×{cols} view of one flat shared Array, each row written by its own process")


def check_row_sums(row_sums: Any, segment_name: Any, data: np.ndarray) -> Feedback:
    """Exercise 3: per-row sums computed by pool workers from a shared memory segment, then unlinked."""
    if is_placeholder(row_sums):
        return not_attempted("compute `row_sums` in pool workers that attach to shared memory by name")
    if is_placeholder(segment_name):
        return failed("set `segment_name = shm.name`, so this check can see that you unlinked the segment")
    if not isinstance(segment_name, str):
        return failed(f"`segment_name` should be the string shm.name, got {type(segment_name).__name__}")
    expected = data.sum(axis=1)
    try:
        got = np.asarray(list(row_sums), dtype=np.float64)
    except (TypeError, ValueError):
        return failed(f"`row_sums` should be a list of numbers, one per row; got {row_sums!r:.80}")
    if got.shape != expected.shape:
        return failed(f"expected one sum per row ({len(expected)} numbers), got {got.size}")
    if not got.any():
        return failed(
            "every sum is 0: the segment was still empty. Copy the data in before the workers run: "
            "np.ndarray(data.shape, dtype=data.dtype, buffer=shm.buf)[:] = data"
        )
    if not np.allclose(got, expected):
        if np.allclose(np.sort(got), np.sort(expected)):
            return failed(
                "the sums are right but out of order: use pool.starmap (or map), which return results in "
                "input order; imap_unordered and as-completed orders do not"
            )
        wrong = int(np.flatnonzero(~np.isclose(got, expected))[0])
        return failed(
            f"row {wrong} sums to {float(got[wrong])!r}, expected {float(expected[wrong])!r}: "
            "did the workers see the same shape and dtype as `data`?"
        )
    if segment_exists(segment_name):
        _unlink(segment_name)
        return failed(
            f"the sums are right, but segment {segment_name!r} still existed: call shm.close() and shm.unlink() "
            "in the parent, in a finally block (this check unlinked it for you this time)"
        )
    return passed("right sums, in order, from shared memory, and the segment is gone")


def _unlink(name: str) -> None:
    """Remove a segment a student forgot, so a failed exercise leaves nothing behind in /dev/shm."""
    from multiprocessing import shared_memory

    try:
        shm = shared_memory.SharedMemory(name=name)
    except FileNotFoundError:
        return
    shm.close()
    shm.unlink()
