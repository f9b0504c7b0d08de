"""Lesson 06 exercise checks: the placeholder is 'not attempted', typical wrong answers get a helpful message.

Futures are stood in for by ``concurrent.futures.Future`` objects given the ``key`` a dask future has: the
checks look at answers by duck typing, so these tests need no cluster.
"""

from __future__ import annotations

from concurrent.futures import Future

import pytest

from mplessons.checks import lesson06
from mplessons.workloads import cubic_sum

SIZES = [50_000, 10_000, 30_000, 20_000]
NUMBERS = list(range(20_000))


class FakeFuture(Future):
    """A finished future with the attributes of a dask Future the checks rely on."""

    def __init__(self, value=None, error: Exception | None = None):
        super().__init__()
        self.key = f"task-{id(self)}"
        if error is None:
            self.set_result(value)
        else:
            self.set_exception(error)

    @property
    def status(self) -> str:
        return "error" if self.exception() else "finished"


def batched(numbers, size, task=lambda batch: sum(x * x for x in batch)):
    return [FakeFuture(task(numbers[i:i + size])) for i in range(0, len(numbers), size)]


# --- exercise 1: map and gather ---------------------------------------------------------------------


def test_gathered_placeholder_is_not_attempted():
    feedback = lesson06.check_gathered(..., SIZES)
    assert not feedback and not feedback.attempted and "not attempted" in str(feedback)


def test_gathered_solution_passes():
    assert lesson06.check_gathered([cubic_sum(n) for n in SIZES], SIZES)


@pytest.mark.parametrize(("answer", "message"), [
    (FakeFuture(1), "one Future"),
    ([FakeFuture(cubic_sum(n)) for n in SIZES], "futures, not results"),
    ({n: cubic_sum(n) for n in SIZES}, "expected a list"),
    ([cubic_sum(n) for n in sorted(SIZES)], "out of order"),
    ([cubic_sum(n) for n in SIZES[:3]], "3 values for 4 inputs"),
    ([n * n for n in SIZES], "wrong values: position 0"),
])
def test_gathered_wrong_answers_say_what_is_wrong(answer, message):
    feedback = lesson06.check_gathered(answer, SIZES)
    assert not feedback and feedback.attempted
    assert message in feedback.message, feedback.message


# --- exercise 2: batches ----------------------------------------------------------------------------


def test_batches_placeholder_is_not_attempted():
    feedback = lesson06.check_batches(..., NUMBERS)
    assert not feedback and not feedback.attempted


@pytest.mark.parametrize("size", [5_000, 3_000, 1_000])
def test_batches_solution_passes(size):
    feedback = lesson06.check_batches(batched(NUMBERS, size), NUMBERS)
    assert feedback, feedback.message


@pytest.mark.parametrize(("answer", "message"), [
    (FakeFuture(sum(x * x for x in NUMBERS)), "single Future"),
    ([x * x for x in NUMBERS[:10]], "hold the futures themselves"),
    (batched(NUMBERS, 1), "one task per number"),
    (batched(NUMBERS, 100), "200 batches"),
    (batched(NUMBERS, 20_000), "leaves workers idle"),
    (batched(NUMBERS, 5_000)[:3], "missing or counted twice"),
    (batched(NUMBERS, 5_000, task=lambda b: [x * x for x in b]), "got a list"),
    ([FakeFuture(error=ValueError("boom"))] * 4, "a batch raised ValueError: boom"),
    (batched(NUMBERS, 5_000, task=lambda b: sum(x + x for x in b)), "the batches add up to"),
])
def test_batches_wrong_answers_say_what_is_wrong(answer, message):
    feedback = lesson06.check_batches(answer, NUMBERS)
    assert not feedback and feedback.attempted
    assert message in feedback.message, feedback.message
