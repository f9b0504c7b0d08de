"""Lesson 04, exercises 2 and 3: the checks call the student's function and watch what it does, so each wrong
answer gets the diagnosis of its actual mistake, under every start method, and leaves nothing behind."""

from __future__ import annotations

import functools
import subprocess
import sys
import textwrap
import threading
import time
from multiprocessing import shared_memory
from multiprocessing.pool import ThreadPool

import numpy as np
import pytest
from support import ROOT

import mplessons
from mplessons import lessons_shared
from mplessons.checks.lesson04 import check_grid, check_row_sums
from mplessons.lessons_shared import fill_row, row_sum


def placeholder(*args):
    ...  # the exercise's skeleton: not attempted


# --- exercise 2: fill_grid(rows, cols) ---------------------------------------------------------------


def grid_function(ctx, *, start=True, join=True, copy=False, typecode="d", parent=False, thread=False):
    """A fill_grid as a student might write it, right by default, with one mistake switched on."""

    def fill_grid(rows, cols):
        flat = ctx.Array(typecode, rows * cols)
        dtype = np.float64 if typecode == "d" else np.float32
        grid = np.frombuffer(flat.get_obj(), dtype=dtype).reshape(rows, cols)
        if parent:
            for row in range(rows):
                fill_row(flat, (rows, cols), row)
        elif thread:
            worker = threading.Thread(target=lambda: [fill_row(flat, (rows, cols), r) for r in range(rows)])
            worker.start()
            worker.join()
        else:
            workers = [ctx.Process(target=fill_row, args=(flat, (rows, cols), r)) for r in range(rows)]
            for p in workers if start else ():
                p.start()
            for p in workers if join else ():
                p.join()
        return grid.copy() if copy else grid

    return fill_grid


def test_grid_placeholder_is_not_attempted():
    for answer in (..., placeholder):
        feedback = check_grid(answer)
        assert not feedback and not feedback.attempted


def test_grid_passes_when_one_child_per_row_writes_and_is_joined(start_method):
    feedback = check_grid(grid_function(mplessons.context(start_method)))
    assert feedback, feedback.message


@pytest.mark.parametrize(("mistake", "says"), [
    ({"parent": True}, "no child process ran fill_row"),
    ({"thread": True}, "thread"),
    ({"join": False}, "never joined"),
    ({"start": False, "join": False}, "never called start()"),
    ({"start": False}, "start() every process before you join() it"),
    ({"copy": True}, "is a copy"),
    ({"typecode": "f"}, "float32"),
])
def test_grid_names_the_mistake(mistake, says):
    feedback = check_grid(grid_function(mplessons.context(), **mistake))
    assert not feedback and feedback.attempted and says in feedback.message, feedback.message


def test_grid_accepts_a_raw_array_and_names_a_pool():
    ctx = mplessons.context()

    def raw(rows, cols):
        flat = ctx.RawArray("d", rows * cols)
        workers = [ctx.Process(target=fill_row, args=(flat, (rows, cols), r)) for r in range(rows)]
        for p in workers:
            p.start()
        for p in workers:
            p.join()
        return np.ctypeslib.as_array(flat).reshape(rows, cols)

    def through_a_pool(rows, cols):
        flat = ctx.Array("d", rows * cols)
        with ctx.Pool(2) as pool:
            pool.starmap(fill_row, [(flat, (rows, cols), r) for r in range(rows)])
        return np.frombuffer(flat.get_obj()).reshape(rows, cols)

    assert check_grid(raw)
    assert "Process(args=...)" in check_grid(through_a_pool).message


def test_grid_rejects_a_fixed_shape_and_a_missing_return():
    right = grid_function(mplessons.context())
    assert "expected (2, 5)" in check_grid(lambda rows, cols: right(3, 4)).message

    def no_return(rows, cols):
        right(rows, cols)

    assert "returned None" in check_grid(no_return).message


def test_grid_unjoined_processes_are_reaped_by_the_check(start_method):
    """Under spawn they are still starting when the function returns; the check must not leave them."""
    import multiprocessing

    feedback = check_grid(grid_function(mplessons.context(start_method), join=False))
    assert "never joined" in feedback.message
    assert multiprocessing.active_children() == []


def test_grid_a_hanging_function_is_feedback_not_a_hang():
    started = time.perf_counter()
    feedback = check_grid(lambda rows, cols: time.sleep(3), timeout=0.5)
    assert not feedback and "did not return within 0.5 s" in feedback.message
    assert time.perf_counter() - started < 2.5


def test_grid_an_error_in_the_function_is_feedback():
    def broken(rows, cols):
        raise ValueError("oops")

    feedback = check_grid(broken)
    assert not feedback and "raised ValueError: oops" in feedback.message


def test_grid_the_same_rejected_function_again_asks_whether_the_cell_ran():
    wrong = grid_function(mplessons.context(), parent=True)
    check_grid(wrong)
    assert "you checked before" in check_grid(wrong).message


# --- exercise 3: shared_row_sums(data) ---------------------------------------------------------------


def sums_function(ctx, *, pool_call="starmap", drop_view=True, unlink=True, copy_in=True, pool_class=None):
    """A shared_row_sums as a student might write it, right by default, with one mistake switched on."""

    def shared_row_sums(data):
        shm = shared_memory.SharedMemory(create=True, size=data.nbytes)
        view = np.ndarray(data.shape, dtype=data.dtype, buffer=shm.buf)
        try:
            if copy_in:
                view[:] = data
            tasks = [(shm.name, data.shape, data.dtype.str, row) for row in range(len(data))]
            with (pool_class or ctx.Pool)(2) as pool:
                if pool_call == "starmap":
                    return pool.starmap(row_sum, tasks)
                if pool_call == "rows":
                    return pool.map(np.sum, view)
                one_row = functools.partial(row_sum, shm.name, data.shape, data.dtype.str)
                return list(pool.imap_unordered(one_row, range(len(data))))
        finally:
            if drop_view:
                view = None
            shm.close()
            if unlink:
                shm.unlink()

    return shared_row_sums


def test_row_sums_placeholder_is_not_attempted():
    for answer in (..., placeholder):
        feedback = check_row_sums(answer)
        assert not feedback and not feedback.attempted


def test_row_sums_pass_for_the_lesson_solution(start_method):
    feedback = check_row_sums(sums_function(mplessons.context(start_method)))
    assert feedback, feedback.message


def pickled(data):
    with mplessons.context().Pool(2) as pool:
        return pool.map(np.sum, list(data))


@pytest.mark.parametrize(("answer", "says"), [
    (pickled, "pickled to the workers"),
    (sums_function(mplessons.context(), pool_call="rows"), "pickles a copy"),
    (sums_function(mplessons.context(), pool_call="unordered"), "imap_unordered"),
    (sums_function(mplessons.context(), copy_in=False), "still empty"),
    (sums_function(mplessons.context(), drop_view=False), "still used the segment"),
    (sums_function(mplessons.context(), pool_class=ThreadPool), "ThreadPool"),
    (lambda data: data.sum(axis=1).tolist(), "neither a pool nor shared memory"),
])
def test_row_sums_names_the_mistake(answer, says):
    feedback = check_row_sums(answer)
    assert not feedback and feedback.attempted and says in feedback.message, feedback.message


def test_row_sums_removes_a_segment_left_behind_and_says_so():
    made = []

    def leaky(data):
        answer = sums_function(mplessons.context(), unlink=False)
        original = shared_memory.SharedMemory.__init__

        def remember(self, *args, **kwargs):
            original(self, *args, **kwargs)
            made.append(self.name)

        shared_memory.SharedMemory.__init__ = remember
        try:
            return answer(data)
        finally:
            shared_memory.SharedMemory.__init__ = original

    feedback = check_row_sums(leaky)
    assert not feedback and "still existed" in feedback.message and "unlinked it for you" in feedback.message
    assert made and not any(lessons_shared.segment_exists(name) for name in made)


def test_row_sums_a_notebook_worker_is_refused_at_once_instead_of_hanging_a_spawn_pool():
    def my_row_sum(name, shape, dtype, row):
        return 0.0

    def shared_row_sums(data):
        with mplessons.context("spawn").Pool(1) as pool:
            return pool.starmap(my_row_sum, [("x", data.shape, data.dtype.str, r) for r in range(len(data))])

    started = time.perf_counter()
    feedback = check_row_sums(shared_row_sums, timeout=30)
    assert "InteractiveFunctionError" in feedback.message and "my_row_sum" in feedback.message
    assert time.perf_counter() - started < 20


def test_row_sums_a_hanging_function_is_feedback_not_a_hang():
    feedback = check_row_sums(lambda data: time.sleep(3), timeout=0.5)
    assert not feedback and "did not return within 0.5 s" in feedback.message


DEAD_VIEW = """
import numpy as np
from multiprocessing import shared_memory
from mplessons.checks.shm_safety import drop_dead_views

shm = shared_memory.SharedMemory(create=True, size=64)
view = np.ndarray((8,), dtype=np.float64, buffer=shm.buf)
rows = [view[:4], view[4:]]
alive = np.zeros(3)
shm.close()  # succeeds: the ndarray holds no buffer export
shm.unlink()
namespace = {"view": view, "rows": rows, "alive": alive, "Out": {3: view}}
del view, rows
print(sorted(drop_dead_views(namespace)), sorted(namespace), namespace["Out"])
"""


def test_dead_views_are_found_and_dropped_without_reading_them():
    """In a subprocess: reading such a view is a segmentation fault."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(DEAD_VIEW)], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[0] == "['rows', 'view'] ['Out', 'alive'] {}"


def test_control_reading_a_view_after_close_crashes():
    """Why the check drops such views: the same recipe, then one read, kills the interpreter."""
    script = DEAD_VIEW.replace('namespace = {"view"', 'print(view.sum(), flush=True)\nnamespace = {"view"')
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert done.returncode < 0 or done.returncode == 139, (done.returncode, done.stdout, done.stderr)
