"""Self-checks for lesson 01 (Process and Queue): each says what is wrong, not just False."""

from __future__ import annotations

from collections.abc import Sequence
from multiprocessing.process import BaseProcess
from typing import Any

from ..workloads import cubic_sum
from . import Feedback, failed, is_placeholder, not_attempted, passed


def _process_problem(processes: Any, needed: int) -> str | None:
    """What is wrong with the list of processes the student started, or None."""
    if isinstance(processes, BaseProcess):
        processes = [processes]
    if not isinstance(processes, Sequence) or not all(isinstance(p, BaseProcess) for p in processes):
        return (f"`processes` should be the list of the Process objects you started, "
                f"got {type(processes).__name__}")
    if len(processes) < needed:
        return (f"you started {len(processes)} process(es) for {needed} inputs: that is a serial answer. "
                f"Start one Process per input so they can run at the same time")
    for p in processes:
        try:
            alive = p.is_alive()
        except ValueError:  # closed with close(): it was joined before
            continue
        except AssertionError:  # never started
            return f"{p.name} was never started: call start() on every process"
        if alive:
            return f"{p.name} is still running: get() every result from the queue first, then join() each process"
        if p.exitcode is None:
            return f"{p.name} was never started: call start() on every process"
        if p.exitcode != 0:
            return f"{p.name} failed with exitcode {p.exitcode}: check the arguments you passed in args=(...)"
    return None


def check_results_in_order(results: Any, processes: Any, sizes: Sequence[int]) -> Feedback:
    """Exercise 1: one process per size, results back through a queue, listed in the order of ``sizes``."""
    if is_placeholder(results):
        return not_attempted("set `results` to the list of cubic_sum(n) for n in SIZES, in that order")
    expected = [cubic_sum(n) for n in sizes]
    if not isinstance(results, (list, tuple)):
        return failed(f"`results` should be a list of {len(sizes)} numbers, got {type(results).__name__}")
    if results and all(isinstance(r, tuple) and len(r) == 2 for r in results):
        return failed("`results` holds (label, value) pairs: keep only the values, in the order of SIZES")
    if len(results) != len(sizes):
        return failed(f"`results` has {len(results)} values, expected {len(sizes)}: did you get() one result "
                      f"per process?")
    problem = _process_problem(processes, len(sizes))
    if problem:
        return failed(problem)
    if list(results) != expected:
        if sorted(results) == sorted(expected):
            return failed("results are out of order: a Queue hands them over in the order the processes "
                          "finished. Use the label each worker sends to put every value in its place")
        wrong = [i for i, (r, e) in enumerate(zip(results, expected, strict=True)) if r != e]
        return failed(f"wrong values at positions {wrong}: expected cubic_sum(SIZES[i]) at position i")
    return passed(f"all {len(sizes)} results are right and in input order, from {len(sizes)} processes")


def check_drained_then_joined(data: Any, process: Any, n_bytes: int) -> Feedback:
    """Exercise 2: the big result was read from the queue *before* the process was joined."""
    if is_placeholder(data):
        return not_attempted("set `data` to what the worker put on the queue and `p` to its Process")
    if not isinstance(process, BaseProcess):
        return failed(f"`p` should be the Process you started, got {type(process).__name__}")
    try:
        alive = process.is_alive()
    except AssertionError:
        return failed("`p` was never started: call p.start()")
    except ValueError:
        alive = False
    if alive:
        return failed("the process is still alive: it cannot exit while its result sits unread in the pipe. "
                      "Call q.get() first, then p.join() (joining first waits forever)")
    if process.exitcode is None:
        return failed("`p` was never started: call p.start()")
    if process.exitcode != 0:
        return failed(f"the process exited with code {process.exitcode}; it should end normally with 0")
    if not isinstance(data, (bytes, bytearray)):
        return failed(f"`data` should be the bytes the worker put on the queue, got {type(data).__name__}")
    if len(data) != n_bytes:
        return failed(f"`data` has {len(data):,} bytes, expected {n_bytes:,}: pass N_BYTES to the worker")
    return passed(f"got all {n_bytes:,} bytes and the process then exited with code 0: drain, then join")
