"""Self-checks for lesson 06 (dask.distributed): each names what is wrong with an answer and how to fix it.

They look at answers by duck typing (a dask ``Future`` has ``.key``, ``.status`` and ``.result``), so this
module imports without dask installed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..workloads import cubic_sum
from . import Feedback, failed, is_placeholder, not_attempted, passed

MAX_BATCHES = 100


def _is_future(x: Any) -> bool:
    return all(hasattr(x, name) for name in ("key", "status", "result"))


def _first_difference(got: Sequence[Any], expected: Sequence[Any]) -> str:
    for i, (g, e) in enumerate(zip(got, expected, strict=False)):
        if g != e:
            return f"position {i} holds {g!r:.60}, expected {e!r:.60}"
    return ""


def check_gathered(results: Any, inputs: Sequence[Any], fn: Callable[[Any], Any] = cubic_sum) -> Feedback:
    """Exercise 1: ``fn`` of every input, computed on the cluster and gathered in input order."""
    if is_placeholder(results):
        return not_attempted("compute `results` with client.map(cubic_sum, sizes) and client.gather")
    if _is_future(results):
        return failed("`results` is one Future: client.map returns a list of futures; gather them into results")
    if not isinstance(results, (list, tuple)):
        return failed(f"`results` is a {type(results).__name__}; expected a list (client.gather returns one)")
    if any(_is_future(r) for r in results):
        return failed("`results` holds futures, not results: pass the list to client.gather(futures) "
                      "(or call .result() on each) to fetch the values from the workers")
    expected = [fn(x) for x in inputs]
    if len(results) != len(expected):
        return failed(f"`results` has {len(results)} values for {len(expected)} inputs: one task per input")
    if sorted(results) == sorted(expected) and list(results) != expected:
        return failed(f"results are out of order ({_first_difference(results, expected)}): as_completed gives "
                      "completion order; client.gather(futures) keeps the order of the inputs")
    if list(results) != expected:
        return failed(f"wrong values: {_first_difference(results, expected)}; "
                      f"did you run {fn.__name__} on every input?")
    return passed(f"{len(results)} results, in input order, computed by the cluster's workers")


def check_batches(futures: Any, numbers: Sequence[int], workers: int = 2) -> Feedback:
    """Exercise 2: tiny tasks sent in batches: a list of futures, each the sum of squares of one batch."""
    if is_placeholder(futures):
        return not_attempted("make `batch_futures` a list of futures, one per batch of `numbers`")
    if _is_future(futures):
        return failed("`batch_futures` is a single Future (one task does all the work on one worker): "
                      "split `numbers` into batches and submit one task per batch")
    if not isinstance(futures, (list, tuple)):
        return failed(f"`batch_futures` is a {type(futures).__name__}; expected the list client.map returns")
    if not all(_is_future(f) for f in futures):
        return failed("`batch_futures` must hold the futures themselves (don't gather yet: this check gathers them)")
    n = len(numbers)
    if len(futures) >= n:
        return failed(f"{len(futures)} tasks for {n} numbers: one task per number is the overhead we measured; "
                      "group the numbers into a few batches")
    if len(futures) > MAX_BATCHES:
        return failed(f"{len(futures)} batches: each costs a round trip to the scheduler; a handful per "
                      f"worker is enough (at most {MAX_BATCHES})")
    if len(futures) < min(workers, n):
        return failed(f"{len(futures)} batch for {workers} workers leaves workers idle: make at least "
                      f"{workers} batches")
    try:
        parts = [f.result(timeout=60) for f in futures]
    except Exception as exc:  # noqa: BLE001 - the task's own error is the feedback
        return failed(f"a batch raised {type(exc).__name__}: {exc}")
    odd = next((p for p in parts if isinstance(p, bool) or not isinstance(p, int)), None)
    if odd is not None:
        return failed(f"each batch's task should return one int, the sum of its batch's squares; got a "
                      f"{type(odd).__name__} (use sum_of_squares)")
    total, expected = sum(parts), sum(x * x for x in numbers)
    if total != expected:
        hint = " (some numbers are missing or counted twice: check the slicing at the ends)" if total else ""
        return failed(f"the batches add up to {total}, expected {expected}{hint}")
    return passed(f"the sum of {n} squares from {len(futures)} tasks instead of {n}: batching pays the "
                  "overhead once per batch")
