"""Wrong and right answers for lesson 06's exercises (see tests/exercise_corpus.py)."""

from exercise_corpus import Answer, Exercise

FIVE_THOUSAND = "[numbers[i:i + 5_000] for i in range(0, len(numbers), 5_000)]"

EXERCISES = {
    1: Exercise(
        wrong=[
            Answer("computed in the notebook with a list comprehension", """
def cluster_cubic_sums(client, sizes):
    return [cubic_sum(n) for n in sizes]
""", says=("no task ran on the cluster", "in this kernel")),
            Answer("client.submit(f, n).result() one at a time", """
def cluster_cubic_sums(client, sizes):
    return [client.submit(cubic_sum, n).result() for n in sizes]
""", says=("waited for a result before sending the next task",)),
            Answer("results in completion order (as_completed)", """
from dask.distributed import as_completed


def cluster_cubic_sums(client, sizes):
    return [future.result() for future in as_completed(client.map(cubic_sum, sizes))]
""", says=("out of order", "client.gather(futures)")),
            Answer("the futures returned, not their results", """
def cluster_cubic_sums(client, sizes):
    return client.map(cubic_sum, sizes)
""", says=("futures, not results",)),
            Answer("one task for the whole list", """
def cluster_cubic_sums(client, sizes):
    return client.submit(cubic_sum, sizes).result()
""", says=("one task got the whole list",)),
            Answer("the notebook's sizes instead of the argument", """
def cluster_cubic_sums(client, wanted):
    return client.gather(client.map(cubic_sum, sizes))
""", says=("wrong values", "the argument")),
            Answer("half the sizes on the cluster, the other half computed here", """
def cluster_cubic_sums(client, sizes):
    half = len(sizes) // 2
    return client.gather(client.map(cubic_sum, sizes[:half])) + [cubic_sum(n) for n in sizes[half:]]
""", says=("did not come back from the cluster", "computed here")),
        ],
        right=[
            Answer("the hidden solution", """
def cluster_cubic_sums(client, sizes):
    futures = client.map(cubic_sum, sizes)
    return client.gather(futures)
"""),
            Answer("submit every size, then gather", """
def cluster_cubic_sums(client, sizes):
    futures = [client.submit(cubic_sum, n) for n in sizes]
    return client.gather(futures)
"""),
            Answer("dask.delayed and dask.compute", """
import dask


def cluster_cubic_sums(client, sizes):
    return list(dask.compute(*[dask.delayed(cubic_sum)(n) for n in sizes]))
"""),
            Answer("the concurrent.futures executor", """
def cluster_cubic_sums(client, sizes):
    with client.get_executor() as executor:
        return list(executor.map(cubic_sum, sizes))
"""),
        ],
    ),
    2: Exercise(
        wrong=[
            Answer("one task per number", """
numbers = list(range(20_000))
batch_futures = client.map(sum_of_squares, [[x] for x in numbers])
""", says=("one task per number", "cancelled your")),
            Answer("a thousand batches of 20", """
numbers = list(range(20_000))
batch_futures = client.map(sum_of_squares, [numbers[i:i + 20] for i in range(0, len(numbers), 20)])
""", says=("1000 batches", "at most 100")),
            Answer("a single future for everything", """
numbers = list(range(20_000))
batch_futures = client.submit(sum_of_squares, numbers)
""", says=("single Future",)),
            Answer("one batch in a list", """
numbers = list(range(20_000))
batch_futures = [client.submit(sum_of_squares, numbers)]
""", says=("leaves workers idle",)),
            Answer("the results gathered instead of the futures", f"""
numbers = list(range(20_000))
batch_futures = client.gather(client.map(sum_of_squares, {FIVE_THOUSAND}))
""", says=("futures themselves",)),
            Answer("slices one short at every end", """
numbers = list(range(20_000))
batch_futures = client.map(sum_of_squares, [numbers[i:i + 4_999] for i in range(0, len(numbers), 5_000)])
""", says=("missing or counted twice",)),
            Answer("the whole list in one batch, three empty batches beside it", """
numbers = list(range(20_000))
batch_futures = client.map(sum_of_squares, [numbers, [], [], []])
""", says=("one of your 4 batches did all the work",)),
            Answer("the sum computed here and scattered as futures", """
numbers = list(range(20_000))
total = sum(x * x for x in numbers)
batch_futures = client.scatter([total, 0, 0, 0])
""", says=("not of sum_of_squares tasks", "client.scatter")),
            Answer("slices that start one late: the 0 is left out, and 0 squared changes no sum", """
numbers = list(range(20_000))
batch_futures = client.map(sum_of_squares, [numbers[i + 1:i + 5_001] for i in range(0, len(numbers), 5_000)])
""", says=("leave out 1 number(s)", "first: 0", "slicing at the ends")),
            Answer("all but the last number in one batch, the last alone", """
numbers = list(range(20_000))
batch_futures = client.map(sum_of_squares, [numbers[:-1], numbers[-1:]])
""", says=("largest batch holds 19,999", "about the same size")),
        ],
        right=[
            Answer("the hidden solution", """
numbers = list(range(20_000))

workers = sum(client.nthreads().values())
batch_size = -(-len(numbers) // workers)
batches = [numbers[i:i + batch_size] for i in range(0, len(numbers), batch_size)]
batch_futures = client.map(sum_of_squares, batches)
"""),
            Answer("numpy.array_split, two batches per worker", """
import numpy as np

numbers = list(range(20_000))
batch_futures = client.map(sum_of_squares, np.array_split(numbers, 2 * sum(client.nthreads().values())))
"""),
            Answer("every n-th number, one batch per worker", """
numbers = list(range(20_000))
n = sum(client.nthreads().values())
batch_futures = client.map(sum_of_squares, [numbers[start::n] for start in range(n)])
"""),
            Answer("submit per batch in a loop, the slices scattered first", """
numbers = list(range(20_000))
n = sum(client.nthreads().values())
slices = client.scatter([numbers[start::n] for start in range(n)])
batch_futures = [client.submit(sum_of_squares, part) for part in slices]
"""),
        ],
    ),
}
