"""Wrong and right answers for lesson 01's exercises (see tests/exercise_corpus.py)."""

from exercise_corpus import Answer, Exercise

SOLUTION_1 = """
def results_in_order(ctx, sizes):
    q = ctx.Queue()
    processes = [ctx.Process(target=labelled_cubic_sum, args=(q, i, n)) for i, n in enumerate(sizes)]
    for p in processes:
        p.start()
    pairs = [q.get(timeout=30) for _ in processes]
    for p in processes:
        p.join()
    return [value for _, value in sorted(pairs)]
"""

EXERCISES = {
    1: Exercise(
        wrong=[
            Answer("one process, the rest computed here", """
from mplessons.workloads import cubic_sum

def results_in_order(ctx, sizes):
    q = ctx.Queue()
    p = ctx.Process(target=labelled_cubic_sum, args=(q, 0, sizes[0]))
    p.start()
    first = q.get(timeout=30)[1]
    p.join()
    return [first] + [cubic_sum(n) for n in sizes[1:]]
""", says=("started 1 process(es) for 4 inputs", "serial answer")),
            Answer("values in the order they arrive, labels dropped", """
def results_in_order(ctx, sizes):
    q = ctx.Queue()
    processes = [ctx.Process(target=labelled_cubic_sum, args=(q, i, n)) for i, n in enumerate(sizes)]
    for p in processes:
        p.start()
    results = [q.get(timeout=30)[1] for _ in processes]
    for p in processes:
        p.join()
    return results
""", says=("out of order", "label")),
            Answer("the (label, value) pairs returned as they are", """
def results_in_order(ctx, sizes):
    q = ctx.Queue()
    processes = [ctx.Process(target=labelled_cubic_sum, args=(q, i, n)) for i, n in enumerate(sizes)]
    for p in processes:
        p.start()
    pairs = sorted(q.get(timeout=30) for _ in processes)
    for p in processes:
        p.join()
    return pairs
""", says=("(label, value) pairs",)),
            Answer("joined before draining", """
def results_in_order(ctx, sizes):
    q = ctx.Queue()
    processes = [ctx.Process(target=labelled_cubic_sum, args=(q, i, n)) for i, n in enumerate(sizes)]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    return [value for _, value in sorted(q.get(timeout=30) for _ in processes)]
""", says=("joined process 1 of 4 before every result had been read", "Drain first")),
            Answer("processes never started", """
def results_in_order(ctx, sizes):
    q = ctx.Queue()
    processes = [ctx.Process(target=labelled_cubic_sum, args=(q, i, n)) for i, n in enumerate(sizes)]
    pairs = [q.get(timeout=30) for _ in processes]
    for p in processes:
        p.join()
    return [value for _, value in sorted(pairs)]
""", says=("4 of your 4 processes were never started", "call start()")),
            Answer("start, get, join, one size at a time", """
def results_in_order(ctx, sizes):
    q = ctx.Queue()
    results = []
    for i, n in enumerate(sizes):
        p = ctx.Process(target=labelled_cubic_sum, args=(q, i, n))
        p.start()
        results.append(q.get(timeout=30)[1])
        p.join()
    return results
""", says=("ran one after another", "Start every process first")),
            Answer("never joined", """
def results_in_order(ctx, sizes):
    q = ctx.Queue()
    processes = [ctx.Process(target=labelled_cubic_sum, args=(q, i, n)) for i, n in enumerate(sizes)]
    for p in processes:
        p.start()
    return [value for _, value in sorted(q.get(timeout=30) for _ in processes)]
""", says=("never joined process 1 of 4", "call join()")),
            Answer("target=labelled_cubic_sum(...) calls it here", """
def results_in_order(ctx, sizes):
    q = ctx.Queue()
    processes = [ctx.Process(target=labelled_cubic_sum(q, i, n)) for i, n in enumerate(sizes)]
    for p in processes:
        p.start()
    pairs = [q.get(timeout=30) for _ in processes]
    for p in processes:
        p.join()
    return [value for _, value in sorted(pairs)]
""", says=("target=None, not a function", "args=(q, i, n)")),
            Answer("processes started and drained, but the values computed here", """
from mplessons.workloads import cubic_sum

def results_in_order(ctx, sizes):
    q = ctx.Queue()
    processes = [ctx.Process(target=labelled_cubic_sum, args=(q, i, n)) for i, n in enumerate(sizes)]
    for p in processes:
        p.start()
    for _ in processes:
        q.get(timeout=30)
    for p in processes:
        p.join()
    return [cubic_sum(n) for n in sizes]
""", says=("are not the ones get() handed you", "computed here")),
            Answer("idle processes for show, this process puts the results", """
import time

def results_in_order(ctx, sizes):
    q = ctx.Queue()
    processes = [ctx.Process(target=time.sleep, args=(0.01,)) for _ in sizes]
    for p in processes:
        p.start()
    for i, n in enumerate(sizes):
        labelled_cubic_sum(q, i, n)
    pairs = [q.get(timeout=30) for _ in processes]
    for p in processes:
        p.join()
    return [value for _, value in sorted(pairs)]
""", says=("put 4 item(s) on the queue itself", "did not come from the child processes")),
            Answer("values sorted biggest first instead of placed by label", """
def results_in_order(ctx, sizes):
    q = ctx.Queue()
    processes = [ctx.Process(target=labelled_cubic_sum, args=(q, i, n)) for i, n in enumerate(sizes)]
    for p in processes:
        p.start()
    values = [q.get(timeout=30)[1] for _ in processes]
    for p in processes:
        p.join()
    return sorted(values, reverse=True)
""", says=("out of order", "label")),
            Answer("the global SIZES instead of the parameter", """
def results_in_order(ctx, sizes):
    q = ctx.Queue()
    processes = [ctx.Process(target=labelled_cubic_sum, args=(q, i, n)) for i, n in enumerate(SIZES)]
    for p in processes:
        p.start()
    pairs = [q.get(timeout=30) for _ in processes]
    for p in processes:
        p.join()
    return [value for _, value in sorted(pairs)]
""", says=("not for the sizes it was given", "parameter `sizes`")),
            Answer("arguments in the wrong order: every child crashes", """
def results_in_order(ctx, sizes):
    q = ctx.Queue()
    processes = [ctx.Process(target=labelled_cubic_sum, args=(i, n, q)) for i, n in enumerate(sizes)]
    for p in processes:
        p.start()
    pairs = [q.get(timeout=5) for _ in processes]
    for p in processes:
        p.join()
    return [value for _, value in sorted(pairs)]
""", says=("ended with exit code 1", "its target raised an error")),
            Answer("a queue of multiprocessing's own, not the ctx's", """
import multiprocessing

def results_in_order(ctx, sizes):
    q = multiprocessing.get_context("spawn").Queue()
    processes = [ctx.Process(target=labelled_cubic_sum, args=(q, i, n)) for i, n in enumerate(sizes)]
    for p in processes:
        p.start()
    pairs = [q.get(timeout=30) for _ in processes]
    for p in processes:
        p.join()
    return [value for _, value in sorted(pairs)]
""", says=("not made with ctx.Queue()",)),
            Answer("the fix has a syntax error, so the old definition is checked again", """
def results_in_order(ctx, sizes)
    return []
""", says=("this is the `results_in_order` you checked before", "did your cell run?"), reset=False),
        ],
        right=[
            Answer("the hidden solution", SOLUTION_1),
            Answer("a dict by label, joins with a timeout", """
def results_in_order(ctx, sizes):
    q = ctx.Queue()
    processes = []
    for i, n in enumerate(sizes):
        p = ctx.Process(target=labelled_cubic_sum, args=(q, i, n))
        p.start()
        processes.append(p)
    by_label = dict(q.get(timeout=30) for _ in sizes)
    for p in processes:
        p.join(timeout=30)
    return [by_label[i] for i in range(len(sizes))]
"""),
            Answer("keyword arguments, results placed by label", """
def results_in_order(ctx, sizes):
    q = ctx.Queue()
    processes = [ctx.Process(target=labelled_cubic_sum, kwargs=dict(queue=q, label=i, n=n))
                 for i, n in enumerate(sizes)]
    for p in processes:
        p.start()
    results = [None] * len(sizes)
    for _ in processes:
        i, value = q.get(timeout=30)
        results[i] = value
    for p in processes:
        p.join()
    return results
"""),
            Answer("one queue per process", """
from mplessons.workloads import cubic_sum_to_queue

def results_in_order(ctx, sizes):
    queues = [ctx.Queue() for _ in sizes]
    processes = [ctx.Process(target=cubic_sum_to_queue, args=(q, n)) for q, n in zip(queues, sizes)]
    for p in processes:
        p.start()
    results = [q.get(timeout=30) for q in queues]
    for p in processes:
        p.join()
    return results
"""),
        ],
    ),
    2: Exercise(
        wrong=[
            Answer("join(timeout=2) first, then get", """
def drain_then_join(q, p):
    p.start()
    p.join(timeout=2)
    return q.get(timeout=30)
""", says=("joined p before you read its data", "join(timeout=2) gave up", "drain first")),
            Answer("get, and no join at all", """
def drain_then_join(q, p):
    p.start()
    return q.get(timeout=30)
""", says=("never joined p", "p.join(timeout=30)")),
            Answer("start() forgotten", """
def drain_then_join(q, p):
    data = q.get(timeout=30)
    p.join(timeout=30)
    return data
""", says=("p was never started", "call p.start() first")),
            Answer("the seed's order: a bare join() first", """
def drain_then_join(q, p):
    p.start()
    p.join()
    return q.get(timeout=30)
""", says=("joined p before you read its data", "would have waited forever")),
            Answer("no timeouts", """
def drain_then_join(q, p):
    p.start()
    data = q.get()
    p.join()
    return data
""", says=("has no timeout=", "q.get(timeout=30)")),
            Answer("p.run() instead of p.start()", """
def drain_then_join(q, p):
    p.run()
    data = q.get(timeout=30)
    p.join(timeout=30)
    return data
""", says=("you called p.run()", "call p.start()")),
            Answer("drained and joined, but fresh bytes returned", """
def drain_then_join(q, p):
    p.start()
    q.get(timeout=30)
    p.join(timeout=30)
    return bytes(N_BYTES)
""", says=("not the ones q.get() gave you",)),
            Answer("this process puts data of its own on the queue", """
from mplessons.lessons_queue import big_result_to_queue

def drain_then_join(q, p):
    p.start()
    big_result_to_queue(q, N_BYTES)
    data = q.get(timeout=30)
    q.get(timeout=30)
    p.join(timeout=30)
    return data
""", says=("put 1 item(s) on the queue itself",)),
            Answer("the data is not returned", """
def drain_then_join(q, p):
    p.start()
    data = q.get(timeout=30)
    p.join(timeout=30)
""", says=("returned None", "return the data")),
        ],
        right=[
            Answer("the hidden solution", """
def drain_then_join(q, p):
    p.start()
    data = q.get(timeout=30)
    p.join(timeout=30)
    return data
"""),
            Answer("positional timeouts, and a child that must go is stopped", """
def drain_then_join(q, p):
    p.start()
    try:
        return q.get(True, 20)
    finally:
        p.join(20)
        if p.is_alive():
            p.terminate()
"""),
        ],
    ),
}
