"""Self-checks for lesson 04 (shared memory): each names what is wrong with an answer and how to fix it.

Exercises 2 and 3 are functions that the check calls with inputs of its own while it watches which
processes, pools and shared memory segments they use (:mod:`.watch`, :mod:`.shm_safety`): only that
shows whether the rows were written by child processes, or read from shared memory rather than pickled.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..lessons_shared import fill_row, row_values
from . import Feedback, failed, is_placeholder, not_attempted, passed, remembers_rejections
from .bounded import call_bounded, describe_error
from .lesson04_sums import check_row_sums
from .watch import ProcessWatch, Started, is_untouched

__all__ = ["check_grid", "check_price", "check_row_sums"]

PRICE = 0.313
GRID_SHAPES = ((3, 4), (2, 5))  # the second catches a function that always makes a 3x4 grid
TIMEOUT = 60.0


def _ctypes_object(shared: Any) -> Any:
    """The ctypes object behind a Value/Array (synchronised or raw), or None for anything else."""
    if hasattr(shared, "get_obj"):
        return shared.get_obj()
    if hasattr(type(shared), "_type_"):
        return shared
    return None


def _shut_down_manager_of(proxy: Any) -> bool:
    """Stop the server process behind a Manager proxy, so a rejected answer leaves no process running."""
    manager = getattr(proxy, "_manager", None)
    if manager is None or not hasattr(manager, "shutdown"):
        return False
    manager.shutdown()
    return True


def check_price(price: Any) -> Feedback:
    """Exercise 1: a shared Value that holds 0.313 exactly."""
    if is_placeholder(price):
        return not_attempted("make `price` a shared Value holding 0.313")
    if isinstance(price, (float, int)):
        return failed(
            f"`price` is a plain Python {type(price).__name__}: each child process would get its own copy. "
            "Make it with ctx.Value(typecode, 0.313) (and keep the Value itself, not its .value)"
        )
    if type(price).__name__ == "ValueProxy":
        stopped = _shut_down_manager_of(price)
        return failed(
            "`price` is a Manager's Value: a proxy to an object in the manager's server process, so every "
            "read and write is a message to that process (and its typecode is ignored). A number in shared "
            "memory is ctx.Value('d', 0.313)" + (" (this check shut that manager down)" if stopped else "")
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


# --- exercise 2: fill_grid(rows, cols) ---------------------------------------------------------------


def _owns_its_memory(array: np.ndarray) -> bool:
    """True when no other object's memory is behind ``array`` (it is a copy, not a view of shared memory)."""
    base = array
    while isinstance(base, np.ndarray):
        if base.base is None:
            return True
        base = base.base
    return False


def _grid_problem(grid: Any, shape: tuple[int, int]) -> str | None:
    """What is wrong with the returned object itself (before looking at who wrote it), or None."""
    rows, cols = shape
    call = f"fill_grid({rows}, {cols})"
    if grid is None:
        return f"{call} returned None: end fill_grid with `return grid`, the 2-D view"
    if hasattr(grid, "get_obj") or hasattr(type(grid), "_type_"):
        return (f"{call} returned the flat shared Array itself; return a numpy view of it: "
                f"np.frombuffer(flat.get_obj(), dtype=np.float64).reshape(rows, cols)")
    if not isinstance(grid, np.ndarray):
        return f"{call} returned a {type(grid).__name__}; expected a numpy array (a view made with np.frombuffer)"
    if grid.shape != shape:
        hint = ": reshape it with .reshape(rows, cols), from the arguments" if grid.size == rows * cols else (
            ": make the Array with rows * cols numbers, from the arguments, not a fixed size")
        return f"{call} returned shape {grid.shape}, expected {shape}{hint}"
    if grid.dtype != np.float64:
        return (f"{call} returned {grid.dtype} values; the rows contain halves (0.5, 1.5, ...), so make the "
                "Array with typecode 'd' and view it with dtype=np.float64")
    return None


def _processes_problem(watch: ProcessWatch, unjoined: list[Started], shape: tuple[int, int]) -> str | None:
    """Whether one child process per row ran fill_row, to the end, and was joined; None when so."""
    rows, _ = shape
    fillers = [p for p in watch.processes if p.target is fill_row]
    started = [p for p in fillers if p.started is not None]
    if not started:
        threads = [t for t in watch.threads if t.started is not None]
        if threads:
            return (f"fill_grid started {len(threads)} thread(s) ({threads[0].name}): a thread runs inside this "
                    "kernel's own process, so no child process wrote a row. Start one "
                    "ctx.Process(target=fill_row, args=(flat, (rows, cols), row)) per row instead")
        others = [p for p in watch.processes if p.started is not None]
        if others:
            name = getattr(others[0].target, "__name__", repr(others[0].target))
            return f"your processes ran {name}, not fill_row: use target=fill_row, args=(flat, (rows, cols), row)"
        if fillers:
            return "you made Process objects but never called start() on them, so they never ran"
        return ("no child process ran fill_row: the rows were written by this kernel itself (fill_row called "
                "in the notebook runs here, in the parent). Start one ctx.Process(target=fill_row, "
                "args=(flat, (rows, cols), row)) per row, then join them")
    if unjoined:
        running = sum(p.alive_at_return for p in unjoined)
        state = f"{running} were still running" if running else "they had finished by luck"
        return (f"{len(unjoined)} of your processes were never joined when fill_grid returned ({state}): "
                "call p.join() on every process before you return the grid, or it may still be empty "
                "(this check joined them for you)")
    crashed = [p for p in started if p.obj.exitcode != 0]
    if crashed:
        return (f"{crashed[0].name} ended with exitcode {crashed[0].obj.exitcode}: fill_row failed in the child. "
                "Pass it the shared Array itself (not a numpy view or copy) and the shape: "
                "fill_row(flat, (rows, cols), row)")
    covered = [p.argument(2, "row") for p in started]
    missing = [r for r in range(rows) if r not in covered]
    if missing:
        return f"rows {missing} had no process of their own: start one process per row, row = 0..{rows - 1}"
    if len(started) > rows:
        return f"{len(started)} processes for {rows} rows: start exactly one per row"
    return None


def _values_problem(grid: np.ndarray, watch: ProcessWatch, shape: tuple[int, int]) -> str | None:
    rows, cols = shape
    expected = np.array([row_values(r, cols) for r in range(rows)])
    if not grid.any():
        return ("every value is 0: the children's writes did not reach this array. Pass the shared Array itself "
                "(not a numpy copy) in args=..., and return a view of that same Array")
    for r in range(rows):
        if not np.array_equal(grid[r], expected[r]):
            return f"fill_grid({rows}, {cols}): row {r} is {grid[r].tolist()}, expected {expected[r].tolist()}"
    if _owns_its_memory(grid):
        return ("the values are right, but the grid is a copy (it owns its memory), so later writes by children "
                "would not show. Return a view: np.frombuffer(flat.get_obj(), dtype=np.float64).reshape(...)")
    shared = [_ctypes_object(p.argument(0, "shared_array")) for p in watch.processes if p.target is fill_row]
    if not any(obj is not None and np.shares_memory(grid, np.ctypeslib.as_array(obj)) for obj in shared):
        return "the grid is not a view of the Array your processes wrote into: view and fill the same `flat`"
    return None


def _grid_attempt(fill_grid: Any, shape: tuple[int, int], timeout: float) -> str | None:
    rows, cols = shape
    with ProcessWatch() as watch:
        outcome = call_bounded(fill_grid, (rows, cols), timeout)
    unjoined = watch.finish()
    if not outcome.finished:
        return (f"fill_grid({rows}, {cols}) did not return within {timeout:g} s: is a join() waiting for a "
                "process that never ends? (this check stopped its processes)")
    if outcome.error is not None:
        text = str(outcome.error)
        hint = (": start() every process before you join() it" if "join a started" in text else
                ": a shared Array reaches a child only when it starts, in Process(args=...), not in a Pool's "
                "tasks" if "through inheritance" in text else "")
        return f"fill_grid({rows}, {cols}) raised {describe_error(outcome.error)}{hint}"
    return (_grid_problem(outcome.result, shape) or _processes_problem(watch, unjoined, shape)
            or _values_problem(outcome.result, watch, shape))


@remembers_rejections("fill_grid")
def check_grid(fill_grid: Any, *, timeout: float = TIMEOUT) -> Feedback:
    """Exercise 2: ``fill_grid(rows, cols)`` returns a 2-D view of a shared Array whose rows were written by
    one child process each, all joined. Called with two shapes, while its processes are watched."""
    if is_placeholder(fill_grid) or is_untouched(fill_grid):
        return not_attempted("write fill_grid(rows, cols): one process per row, then return the 2-D view")
    if not callable(fill_grid):
        return failed(f"`fill_grid` should be a function, got {type(fill_grid).__name__}")
    for shape in GRID_SHAPES:
        problem = _grid_attempt(fill_grid, shape, timeout)
        if problem:
            return failed(problem)
    return passed("fill_grid(3, 4) and fill_grid(2, 5) returned views of one flat shared Array each, every row "
                  "written by its own child process, all joined")
