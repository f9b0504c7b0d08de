"""Wrong and right answers for lesson 02's exercises (see tests/exercise_corpus.py)."""

from exercise_corpus import Answer, Exercise

EXERCISES = {
    1: Exercise(
        wrong=[
            Answer("target=results.append(fetch(v)): called instead of passed (section 6)", """
def run_in_threads(fetch, values):
    results = []
    threads = [threading.Thread(target=results.append(fetch(v))) for v in values]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
""", says=("in the thread that called run_in_threads", "target=results.append(fetch(v))",
           "threading.Thread(target=work, args=(i, v))")),
            Answer("each thread started and joined in turn", """
def run_in_threads(fetch, values):
    results = [None] * len(values)

    def work(i, value):
        results[i] = fetch(value)

    for i, v in enumerate(values):
        t = threading.Thread(target=work, args=(i, v))
        t.start()
        t.join()
    return results
""", says=("did not all overlap", "Start every thread before you join any of them")),
            Answer("a shared queue, results in finishing order", """
def run_in_threads(fetch, values):
    q = queue.Queue()
    threads = [threading.Thread(target=lambda v=v: q.put(fetch(v))) for v in values]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [q.get() for _ in values]
""", says=("out of order", "keep each result at its input's position")),
            Answer("the targets' return values are thrown away", """
def run_in_threads(fetch, values):
    threads = [threading.Thread(target=fetch, args=(v,)) for v in values]
    for t in threads:
        t.start()
    return [t.join() for t in threads]
""", says=("every result is None", "discards its target's return value")),
            Answer("threads never started", """
def run_in_threads(fetch, values):
    q = queue.Queue()
    threads = [threading.Thread(target=lambda i=i, v=v: q.put((i, fetch(v)))) for i, v in enumerate(values)]
    return [v for _, v in sorted(q.get() for _ in values)]
""", says=("with no fetch running", "was every thread started")),
            Answer("t.run() instead of t.start()", """
def run_in_threads(fetch, values):
    results = [None] * len(values)

    def work(i, value):
        results[i] = fetch(value)

    threads = [threading.Thread(target=work, args=(i, v)) for i, v in enumerate(values)]
    for t in threads:
        t.run()
    return results
""", says=("in the thread that called run_in_threads", "t.run() also runs it here")),
            Answer("no threads at all", """
def run_in_threads(fetch, values):
    return [fetch(v) for v in values]
""", says=("5 of 5 times in the thread that called run_in_threads",)),
            Answer("sleep_then_return called in place of the fetch it was given", """
def run_in_threads(fetch, values):
    results = []
    threads = [threading.Thread(target=results.append(sleep_then_return(0.2, v))) for v in values]
    for t in threads:
        t.start()
    return results
""", says=("fetch was called 0 times for 5 values",)),
            Answer("threads run fetch, but the values themselves are returned", """
def run_in_threads(fetch, values):
    threads = [threading.Thread(target=fetch, args=(v,)) for v in values]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return list(values)
""", says=("are not what fetch returned", "made here")),
            Answer("threads started, never joined: the results are read at once", """
def run_in_threads(fetch, values):
    results = [None] * len(values)

    def work(i, value):
        results[i] = fetch(value)

    for i, v in enumerate(values):
        threading.Thread(target=work, args=(i, v)).start()
    return results
""", says=("returned while 5 of the fetch calls were still running", "join() every thread")),
            Answer("a sleep instead of join()", """
import time

def run_in_threads(fetch, values):
    results = [None] * len(values)

    def work(i, value):
        results[i] = fetch(value)

    for i, v in enumerate(values):
        threading.Thread(target=work, args=(i, v)).start()
    time.sleep(0.7)
    return results
""", says=("never joined 5 of your threads", "a sleep let them finish first")),
            Answer("two threads, each fetching half of the values in turn", """
def run_in_threads(fetch, values):
    results = [None] * len(values)

    def work(indices):
        for i in indices:
            results[i] = fetch(values[i])

    half = len(values) // 2
    threads = [threading.Thread(target=work, args=(range(0, half),)),
               threading.Thread(target=work, args=(range(half, len(values)),))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
""", says=("fetch ran in only 2 thread(s) for 5 values", "one thread per value")),
        ],
        right=[
            Answer("the hidden solution", """
def run_in_threads(fetch, values):
    results = [None] * len(values)

    def work(i, value):
        results[i] = fetch(value)

    threads = [threading.Thread(target=work, args=(i, v)) for i, v in enumerate(values)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
"""),
            Answer("a queue of (index, value) pairs", """
def run_in_threads(fetch, values):
    q = queue.Queue()

    def work(i, value):
        q.put((i, fetch(value)))

    threads = [threading.Thread(target=work, args=(i, v)) for i, v in enumerate(values)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [value for _, value in sorted(q.get() for _ in values)]
"""),
            Answer("a queue of pairs, read without joining", """
def run_in_threads(fetch, values):
    q = queue.Queue()
    for i, v in enumerate(values):
        threading.Thread(target=lambda i=i, v=v: q.put((i, fetch(v)))).start()
    return [value for _, value in sorted(q.get(timeout=10) for _ in values)]
"""),
            Answer("a Thread subclass that keeps its result", """
class Fetcher(threading.Thread):
    def __init__(self, fetch, value):
        super().__init__()
        self.fetch, self.value, self.result = fetch, value, None

    def run(self):
        self.result = self.fetch(self.value)


def run_in_threads(fetch, values):
    threads = [Fetcher(fetch, v) for v in values]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [t.result for t in threads]
"""),
            Answer("a ThreadPoolExecutor", """
from concurrent.futures import ThreadPoolExecutor

def run_in_threads(fetch, values):
    with ThreadPoolExecutor(max_workers=len(values)) as executor:
        return list(executor.map(fetch, values))
"""),
        ],
    ),
    2: Exercise(
        wrong=[
            Answer("started and joined one at a time (serial, in children)", """
def cubic_sums_in_processes(ctx, ns):
    results = []
    for n in ns:
        q = ctx.Queue()
        p = ctx.Process(target=cubic_sum_to_queue, args=(q, n))
        p.start()
        results.append(q.get(timeout=60))
        p.join()
    return results
""", says=("ran one after another", "Start every process first")),
            Answer("computed here, serially", """
def cubic_sums_in_processes(ctx, ns):
    return [cubic_sum(n) for n in ns]
""", says=("computed in this process",)),
            Answer("computed in threads", """
def cubic_sums_in_processes(ctx, ns):
    tq = queue.Queue()
    threads = [threading.Thread(target=lambda i=i, n=n: tq.put((i, cubic_sum(n)))) for i, n in enumerate(ns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [value for _, value in sorted(tq.get() for _ in ns)]
""", says=("computed in this process", "in threads")),
            Answer("one shared queue, results in finishing order", """
def cubic_sums_in_processes(ctx, ns):
    q = ctx.Queue()
    processes = [ctx.Process(target=cubic_sum_to_queue, args=(q, n)) for n in ns]
    for p in processes:
        p.start()
    results = [q.get(timeout=60) for _ in ns]
    for p in processes:
        p.join()
    return results
""", says=("out of order",)),
            Answer("target=cubic_sum_to_queue(q, n) calls it here", """
def cubic_sums_in_processes(ctx, ns):
    queues = [ctx.Queue() for _ in ns]
    processes = [ctx.Process(target=cubic_sum_to_queue(q, n)) for q, n in zip(queues, ns)]
    for p in processes:
        p.start()
    results = [q.get(timeout=60) for q in queues]
    for p in processes:
        p.join()
    return results
""", says=("target=None, not a function", "target=cubic_sum_to_queue, args=(q, n)")),
            Answer("joined before draining", """
def cubic_sums_in_processes(ctx, ns):
    queues = [ctx.Queue() for _ in ns]
    processes = [ctx.Process(target=cubic_sum_to_queue, args=(q, n)) for q, n in zip(queues, ns)]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    return [q.get(timeout=60) for q in queues]
""", says=("before every result had been read", "Drain first")),
            Answer("one shared queue, the sums sorted biggest first", """
def cubic_sums_in_processes(ctx, ns):
    q = ctx.Queue()
    processes = [ctx.Process(target=cubic_sum_to_queue, args=(q, n)) for n in ns]
    for p in processes:
        p.start()
    sums = [q.get(timeout=60) for _ in ns]
    for p in processes:
        p.join()
    return sorted(sums, reverse=True)
""", says=("out of order", "keep each result at its input's position")),
            Answer("queues from multiprocessing, not from ctx, joined first", """
import multiprocessing

def cubic_sums_in_processes(ctx, ns):
    queues = [multiprocessing.get_context("spawn").Queue() for _ in ns]
    processes = [ctx.Process(target=cubic_sum_to_queue, args=(q, n)) for q, n in zip(queues, ns)]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    return [q.get(timeout=60) for q in queues]
""", says=("not made with ctx.Queue()",)),
            Answer("processes for show, sums kept from the check's own sizes", """
from mplessons.checks import lesson02 as the_check

KEPT = {n: cubic_sum(n) for n in the_check.CPU_SIZES}

def cubic_sums_in_processes(ctx, ns):
    queues = [ctx.Queue() for _ in ns]
    processes = [ctx.Process(target=cubic_sum_to_queue, args=(q, n)) for q, n in zip(queues, ns)]
    for p in processes:
        p.start()
    for q in queues:
        q.get(timeout=60)
    for p in processes:
        p.join()
    return [KEPT[n] for n in ns]
""", says=("are not the ones get() handed you", "kept from an earlier run")),
            Answer("idle processes, sums kept from the check's own sizes", """
import time
from mplessons.checks import lesson02 as the_check

KEPT = {n: cubic_sum(n) for n in the_check.CPU_SIZES}

def cubic_sums_in_processes(ctx, ns):
    processes = [ctx.Process(target=time.sleep, args=(0.01,)) for _ in ns]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    return [KEPT[n] for n in ns]
""", says=("you read nothing from a queue",)),
            Answer("a Pool instead of processes of one's own", """
def cubic_sums_in_processes(ctx, ns):
    with ctx.Pool(2) as pool:
        return pool.map(cubic_sum, ns)
""", says=("started no process with ctx.Process", "starting the processes yourself")),
        ],
        right=[
            Answer("the hidden solution", """
def cubic_sums_in_processes(ctx, ns):
    queues = [ctx.Queue() for _ in ns]
    processes = [ctx.Process(target=cubic_sum_to_queue, args=(q, n)) for q, n in zip(queues, ns, strict=True)]
    for p in processes:
        p.start()
    results = [q.get(timeout=60) for q in queues]
    for p in processes:
        p.join()
    return results
"""),
            Answer("one shared queue with labels (lesson 01)", """
from mplessons.lessons_queue import labelled_cubic_sum

def cubic_sums_in_processes(ctx, ns):
    q = ctx.Queue()
    processes = [ctx.Process(target=labelled_cubic_sum, args=(q, i, n)) for i, n in enumerate(ns)]
    for p in processes:
        p.start()
    by_label = dict(q.get(timeout=60) for _ in ns)
    for p in processes:
        p.join(timeout=60)
    return [by_label[i] for i in range(len(ns))]
"""),
        ],
    ),
}
