"""Self-checks for lesson 04 (shared memory): each names what is wrong with an answer and how to fix it.

Exercises 2 and 3 are functions that the check calls with inputs of its own while it watches which
processes, pools and shared memory segments they use (:mod:`.watch`, :mod:`.shm_safety`): only that
shows whether the rows were written by child processes, or read from shared memory rather than pickled.
"""

from __future__ import annotations

from multiprocessing import heap
from typing import Any

import numpy as np

from ..i18n import tr
from ..lessons_shared import fill_row, row_values
from . import Feedback, failed, is_placeholder, not_a_function, not_attempted, passed, remembers_rejections
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


def in_shared_memory(obj: Any) -> bool:
    """True for a ctypes object that multiprocessing made in shared memory (``Value``, ``Array`` and their
    ``Raw`` forms keep the shared block they live in as ``_wrapper``); False for a plain ``ctypes.c_double()``."""
    return isinstance(getattr(obj, "_wrapper", None), heap.BufferWrapper)


def check_price(price: Any) -> Feedback:
    """Exercise 1: a shared Value that holds 0.313 exactly."""
    if is_placeholder(price):
        return not_attempted(tr("make `price` a shared Value holding 0.313"))
    if isinstance(price, (float, int)):
        return failed(tr(
            "`price` is a plain Python {kind}: each child process would get its own copy. "
            "Make it with ctx.Value(typecode, 0.313) (and keep the Value itself, not its .value)",
            kind=type(price).__name__,
        ))
    if type(price).__name__ == "ValueProxy":
        stopped = tr(" (this check shut that manager down)") if _shut_down_manager_of(price) else ""
        return failed(tr(
            "`price` is a Manager's Value: a proxy to an object in the manager's server process, so every "
            "read and write is a message to that process (and its typecode is ignored). A number in shared "
            "memory is ctx.Value('d', 0.313){stopped}", stopped=stopped,
        ))
    obj = _ctypes_object(price)
    if obj is None:
        return failed(tr("`price` is a {kind}, not a shared Value: use ctx.Value(typecode, 0.313)",
                         kind=type(price).__name__))
    if not in_shared_memory(obj):
        return failed(tr("`price` is a plain ctypes {kind}: it lives in this process's own memory, so a child "
                         "process could at best get a copy of it, and its writes would never reach you. "
                         "ctx.Value('d', 0.313) makes the same C double in shared memory", kind=type(obj).__name__))
    typecode = getattr(type(obj), "_type_", None)
    if not isinstance(typecode, str):
        return failed(tr("`price` holds several numbers (an Array); a single shared number is a ctx.Value"))
    value = obj.value
    if typecode == "f":
        return failed(tr(
            "price.value is {value!r}, not 0.313: typecode 'f' is a 32-bit C float (ctypes.c_float), which "
            "cannot hold 0.313 exactly. Use 'd' (a C double, the same 64 bits as a Python float)", value=value,
        ))
    if typecode != "d":
        return failed(tr(
            "typecode {typecode!r} stores {ctype} values, so price.value is {value!r}; "
            "a Python float fits typecode 'd'", typecode=typecode, ctype=type(obj).__name__, value=value,
        ))
    if value != PRICE:
        return failed(tr("price.value is {value!r}, expected 0.313", value=value))
    return passed(tr("price.value == 0.313 exactly: typecode 'd' is a C double, like a Python float"))


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
        return tr("{call} returned None: end fill_grid with `return grid`, the 2-D view", call=call)
    if hasattr(grid, "get_obj") or hasattr(type(grid), "_type_"):
        return tr("{call} returned the flat shared Array itself; return a numpy view of it: "
                  "np.frombuffer(flat.get_obj(), dtype=np.float64).reshape(rows, cols)", call=call)
    if not isinstance(grid, np.ndarray):
        return tr("{call} returned a {kind}; expected a numpy array (a view made with np.frombuffer)",
                  call=call, kind=type(grid).__name__)
    if grid.shape != shape:
        hint = tr(": reshape it with .reshape(rows, cols), from the arguments") if grid.size == rows * cols else (
            tr(": make the Array with rows * cols numbers, from the arguments, not a fixed size"))
        return tr("{call} returned shape {shape}, expected {expected}{hint}", call=call, shape=grid.shape,
                  expected=shape, hint=hint)
    if grid.dtype != np.float64:
        return tr("{call} returned {dtype} values; the rows contain halves (0.5, 1.5, ...), so make the "
                  "Array with typecode 'd' and view it with dtype=np.float64", call=call, dtype=grid.dtype)
    return None


def _processes_problem(watch: ProcessWatch, unjoined: list[Started], shape: tuple[int, int]) -> str | None:
    """Whether one child process per row ran fill_row, to the end, and was joined; None when so."""
    rows, _ = shape
    fillers = [p for p in watch.processes if p.target is fill_row]
    started = [p for p in fillers if p.started is not None]
    if not started:
        threads = [t for t in watch.threads if t.started is not None]
        if threads:
            return tr("fill_grid started {count} thread(s) ({name}): a thread runs inside this kernel's own "
                      "process, so no child process wrote a row. Start one "
                      "ctx.Process(target=fill_row, args=(flat, (rows, cols), row)) per row instead",
                      count=len(threads), name=threads[0].name)
        others = [p for p in watch.processes if p.started is not None]
        if others:
            name = getattr(others[0].target, "__name__", repr(others[0].target))
            return tr("your processes ran {name}, not fill_row: use target=fill_row, args=(flat, (rows, cols), row)",
                      name=name)
        if fillers:
            return tr("you made Process objects but never called start() on them, so they never ran")
        return tr("no child process ran fill_row: the rows were written by this kernel itself (fill_row called "
                  "in the notebook runs here, in the parent). Start one ctx.Process(target=fill_row, "
                  "args=(flat, (rows, cols), row)) per row, then join them")
    if unjoined:
        running = sum(p.alive_at_return for p in unjoined)
        state = tr("{running} were still running", running=running) if running else tr("they had finished by luck")
        return tr("{count} of your processes were never joined when fill_grid returned ({state}): "
                  "call p.join() on every process before you return the grid, or it may still be empty "
                  "(this check joined them for you)", count=len(unjoined), state=state)
    for later in started:
        waited = [p for p in started if p is not later and p.joined is not None and p.joined < later.started]
        if waited:
            return tr("the process for row {row} was started only after the one for row {earlier} had been "
                      "joined, so the rows were written one after another, as in a serial program: start every "
                      "process first, then join them all", row=later.argument(2, "row"),
                      earlier=waited[0].argument(2, "row"))
    crashed = [p for p in started if p.obj.exitcode != 0]
    if crashed:
        return tr("{name} ended with exitcode {exitcode}: fill_row failed in the child. "
                  "Pass it the shared Array itself (not a numpy view or copy) and the shape: "
                  "fill_row(flat, (rows, cols), row)", name=crashed[0].name, exitcode=crashed[0].obj.exitcode)
    covered = [p.argument(2, "row") for p in started]
    missing = [r for r in range(rows) if r not in covered]
    if missing:
        return tr("rows {missing} had no process of their own: start one process per row, row = 0..{last}",
                  missing=missing, last=rows - 1)
    if len(started) > rows:
        return tr("{count} processes for {rows} rows: start exactly one per row", count=len(started), rows=rows)
    return None


def _values_problem(grid: np.ndarray, watch: ProcessWatch, shape: tuple[int, int]) -> str | None:
    rows, cols = shape
    expected = np.array([row_values(r, cols) for r in range(rows)])
    if not grid.any():
        return tr("every value is 0: the children's writes did not reach this array. Pass the shared Array itself "
                  "(not a numpy copy) in args=..., and return a view of that same Array")
    for r in range(rows):
        if not np.array_equal(grid[r], expected[r]):
            return tr("fill_grid({rows}, {cols}): row {row} is {got}, expected {expected}", rows=rows, cols=cols,
                      row=r, got=grid[r].tolist(), expected=expected[r].tolist())
    if _owns_its_memory(grid):
        return tr("the values are right, but the grid is a copy (it owns its memory), so later writes by children "
                  "would not show. Return a view: np.frombuffer(flat.get_obj(), dtype=np.float64).reshape(...)")
    shared = [_ctypes_object(p.argument(0, "shared_array")) for p in watch.processes if p.target is fill_row]
    if not any(obj is not None and np.shares_memory(grid, np.ctypeslib.as_array(obj)) for obj in shared):
        return tr("the grid is not a view of the Array your processes wrote into: view and fill the same `flat`")
    return None


def _grid_attempt(fill_grid: Any, shape: tuple[int, int], timeout: float) -> str | None:
    rows, cols = shape
    with ProcessWatch() as watch:
        outcome = call_bounded(fill_grid, (rows, cols), timeout)
    unjoined = watch.finish()
    if not outcome.finished:
        return tr("fill_grid({rows}, {cols}) did not return within {timeout:g} s: is a join() waiting for a "
                  "process that never ends? (this check stopped its processes)", rows=rows, cols=cols, timeout=timeout)
    if outcome.error is not None:
        text = str(outcome.error)
        hint = (tr(": start() every process before you join() it") if "join a started" in text else
                tr(": a shared Array reaches a child only when it starts, in Process(args=...), not in a Pool's "
                   "tasks") if "through inheritance" in text else
                tr(": a plain ctypes array lives in this process's own memory, and a child cannot be given it. "
                   "Make the shared one with ctx.Array('d', rows * cols)") if "_wrapper" in text else "")
        return tr("fill_grid({rows}, {cols}) raised {error}{hint}", rows=rows, cols=cols,
                  error=describe_error(outcome.error), hint=hint)
    return (_grid_problem(outcome.result, shape) or _processes_problem(watch, unjoined, shape)
            or _values_problem(outcome.result, watch, shape))


@remembers_rejections("fill_grid")
def check_grid(fill_grid: Any, *, timeout: float = TIMEOUT) -> Feedback:
    """Exercise 2: ``fill_grid(rows, cols)`` returns a 2-D view of a shared Array whose rows were written by
    one child process each, all joined. Called with two shapes, while its processes are watched."""
    if is_placeholder(fill_grid) or is_untouched(fill_grid):
        return not_attempted(tr("write fill_grid(rows, cols): one process per row, then return the 2-D view"))
    if not callable(fill_grid):
        return not_a_function("fill_grid", fill_grid)
    for shape in GRID_SHAPES:
        problem = _grid_attempt(fill_grid, shape, timeout)
        if problem:
            return failed(problem)
    return passed(tr("fill_grid(3, 4) and fill_grid(2, 5) returned views of one flat shared Array each, every row "
                     "written by its own child process, all joined"))
