"""Lesson 06 exercise checks: the placeholder is 'not attempted', typical wrong answers get a helpful message.

Exercise 1's check runs the student's function on a cluster and asks the scheduler what ran, so its tests
use a small in-process cluster. For exercise 2, futures are mostly stood in for by
``concurrent.futures.Future`` objects given the ``key`` a dask future has: that check looks at answers by
duck typing.
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
        self.key = f"sum_of_squares-{id(self):x}"  # as client.map(sum_of_squares, ...) names its tasks
        if error is None:
            self.set_result(value)
        else:
            self.set_exception(error)

    @property
    def status(self) -> str:
        return "error" if self.exception() else "finished"


def sum_of_squares(batch):
    return sum(x * x for x in batch)


def batched(numbers, size, task=lambda batch: sum(x * x for x in batch)):
    return [FakeFuture(task(numbers[i:i + size])) for i in range(0, len(numbers), size)]


# --- exercise 1: cluster_cubic_sums(client, sizes) ------------------------------------------------


@pytest.fixture(scope="module")
def client():
    """A cluster of two single-threaded workers inside this process (threads: the check's logic does not
    depend on where workers run, and it starts in a fraction of a second)."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        yield client


def placeholder(client, sizes):
    ...  # the exercise's skeleton


def map_and_gather(client, sizes):
    return client.gather(client.map(cubic_sum, sizes))


def in_the_kernel(client, sizes):
    return [cubic_sum(n) for n in sizes]


def one_at_a_time(client, sizes):
    return [client.submit(cubic_sum, n).result() for n in sizes]


def futures_only(client, sizes):
    return client.map(cubic_sum, sizes)


def whole_list(client, sizes):
    return client.submit(cubic_sum, sizes).result()


def sorted_sizes(client, sizes):
    return client.gather(client.map(cubic_sum, sorted(sizes)))


def test_gathered_placeholder_is_not_attempted(client):
    for answer in (..., placeholder):
        feedback = lesson06.check_gathered(answer, client)
        assert not feedback and not feedback.attempted and "not attempted" in str(feedback)


def test_gathered_accepts_map_and_gather_and_an_executor(client):
    def executor(client, sizes):
        with client.get_executor() as pool:
            return list(pool.map(cubic_sum, sizes))

    for answer in (map_and_gather, executor):
        feedback = lesson06.check_gathered(answer, client)
        assert feedback, feedback.message


@pytest.mark.parametrize(("answer", "message"), [
    (in_the_kernel, "no task ran on the cluster"),
    (one_at_a_time, "waited for a result before sending the next task"),
    (futures_only, "futures, not results"),
    (whole_list, "one task got the whole list"),
    (sorted_sizes, "out of order"),
    (lambda client, sizes: {n: cubic_sum(n) for n in sizes}, "expected a list"),
])
def test_gathered_wrong_answers_say_what_is_wrong(client, answer, message):
    feedback = lesson06.check_gathered(answer, client)
    assert not feedback and feedback.attempted
    assert message in feedback.message, feedback.message


def test_gathered_uses_fresh_sizes_so_tasks_really_run(client):
    """Futures a student keeps hold their results; the same sizes again would run no task."""
    assert lesson06._fresh_sizes() != lesson06._fresh_sizes()
    kept = client.map(cubic_sum, list(lesson06.BASE_SIZES))
    client.gather(kept)
    assert lesson06.check_gathered(map_and_gather, client)


def test_gathered_a_hanging_function_is_feedback_and_its_tasks_are_cancelled(client):
    import time

    def slow_then_stuck(client, sizes):
        client.map(time.sleep, [3, 3], pure=False)  # still running when the check gives up at 1 s
        time.sleep(3)

    feedback = lesson06.check_gathered(slow_then_stuck, client, timeout=1)
    assert not feedback and "did not return within 1 s" in feedback.message
    assert "cancelled 2 unfinished task(s)" in feedback.message


def test_gathered_without_a_running_client_says_so():
    feedback = lesson06.check_gathered(map_and_gather, None)
    assert not feedback and "not a running dask Client" in feedback.message


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


def test_batches_numpy_integers_are_ints_too():
    import numpy as np

    futures = [FakeFuture(np.int64(sum(x * x for x in NUMBERS[i::4]))) for i in range(4)]
    assert lesson06.check_batches(futures, NUMBERS)


def test_batches_a_rejected_attempt_leaves_no_task_on_the_cluster(client):
    """One task per number: in the lesson 20 000 tasks keep the workers busy for seconds after the verdict."""
    import time

    numbers = NUMBERS[:2_000]
    futures = client.map(sum_of_squares, [[x] for x in numbers])
    feedback = lesson06.check_batches(futures, numbers)
    assert not feedback and "one task per number" in feedback.message and "cancelled your" in feedback.message
    deadline = time.time() + 10
    while any(client.processing().values()) and time.time() < deadline:
        time.sleep(0.1)
    assert not any(client.processing().values()), "tasks still processing after the check cancelled them"


# --- a cluster that runs one task at a time --------------------------------------------------------


@pytest.fixture(scope="module")
def one_thread_client():
    """One worker with one thread: tasks finish in the order they were sent, so completion order cannot be
    told from input order by looking at the results."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        yield client


def in_completion_order(client, sizes):
    from dask.distributed import as_completed

    return [future.result() for future in as_completed(client.map(cubic_sum, sizes))]


def test_gathered_as_completed_is_rejected_where_it_gives_input_order_by_luck(one_thread_client):
    feedback = lesson06.check_gathered(in_completion_order, one_thread_client)
    assert not feedback and "as_completed" in feedback.message and "one task at a time" in feedback.message
    assert lesson06.check_gathered(map_and_gather, one_thread_client)


def test_batches_asks_the_cluster_how_many_workers_it_has(client, one_thread_client):
    """One batch is right for a cluster that runs one task at a time, and leaves a worker idle on two."""
    numbers = NUMBERS[:2_000]
    assert lesson06.check_batches([one_thread_client.submit(sum_of_squares, numbers)], numbers)
    feedback = lesson06.check_batches([client.submit(sum_of_squares, numbers)], numbers)
    assert not feedback and "1 batch for 2 workers" in feedback.message, feedback.message
    feedback = lesson06.check_batches(batched(numbers, 1_000), numbers, workers=4)
    assert not feedback and "2 batch for 4 workers" in feedback.message, feedback.message


# --- the batches themselves, asked of the scheduler ----------------------------------------------------


def test_batches_that_leave_out_the_zero_are_rejected_though_the_sum_is_right(client):
    """0 squared is 0: only the batches show that a slicing off by one at the start dropped it."""
    numbers = NUMBERS[:2_000]
    futures = client.map(sum_of_squares, [numbers[i + 1:i + 501] for i in range(0, len(numbers), 500)])
    feedback = lesson06.check_batches(futures, numbers)
    assert not feedback and "leave out 1 number(s)" in feedback.message and "first: 0" in feedback.message


def test_batches_with_one_that_holds_nearly_everything_are_rejected(client):
    numbers = NUMBERS[:2_000]
    feedback = lesson06.check_batches(client.map(sum_of_squares, [numbers[:-1], numbers[-1:]]), numbers)
    assert not feedback and "largest batch holds 1,999" in feedback.message, feedback.message


def test_batches_of_scattered_slices_are_judged_by_their_total(client):
    numbers = NUMBERS[:2_000]
    assert lesson06.check_batches(client.map(sum_of_squares, client.scatter([numbers[:1_000], numbers[1_000:]])),
                                  numbers)
