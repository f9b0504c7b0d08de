"""Wrong and right answers for lesson 05's exercises (see tests/exercise_corpus.py)."""

from exercise_corpus import Answer, Exercise

# --- exercise 1: locked_count(counter, times) ------------------------------------------------------------

TWO_PROCESSES = """
def locked_count(counter, times):
    lock = {lock}
    processes = [ctx.Process(target={target}, args={args}) for _ in range(2)]
    for p in processes:
        p.start()
{read_and_join}
"""
JOIN_THEN_READ = """    for p in processes:
        p.join()
    return counter.value"""


def two(lock="ctx.Lock()", target="add_many_locked", args="(counter, times, lock)", read_and_join=JOIN_THEN_READ):
    return TWO_PROCESSES.format(lock=lock, target=target, args=args, read_and_join=read_and_join)


# --- exercise 2: safe_add(counter, amount, times) in a %%worker_module cell ---------------------------------


def worker(body: str, header: str = "") -> str:
    return f"%%worker_module lesson05_counter\n{header}\ndef safe_add(counter, amount, times):\n{body}"


LOCKED = """    for _ in range(times):
        with counter.get_lock():
            counter.value += amount
"""

EXERCISES = {
    1: Exercise(
        wrong=[
            Answer("the two processes run one after the other", """
def locked_count(counter, times):
    lock = ctx.Lock()
    for _ in range(2):
        p = ctx.Process(target=add_many_locked, args=(counter, times, lock))
        p.start()
        p.join()
    return counter.value
""", says=("one after the other",)),
            Answer("the value read before the joins", two(read_and_join="""    final = counter.value
    for p in processes:
        p.join()
    return final"""), says=("before the processes had finished",)),
            Answer("a Lock made for each process", two(args="(counter, times, ctx.Lock())"),
                   says=("a Lock of its own",)),
            Answer("add_many, which takes no lock", two(target="add_many", args="(counter, times)"),
                   says=("add_many takes no lock",)),
            Answer("one process doing all the work", """
def locked_count(counter, times):
    p = ctx.Process(target=add_many_locked, args=(counter, 2 * times, ctx.Lock()))
    p.start()
    p.join()
    return counter.value
""", says=("a race needs two",)),
            Answer("never joined", two(read_and_join="    return counter.value"), says=("never joined",)),
            Answer("threads instead of processes", """
import threading


def locked_count(counter, times):
    lock = ctx.Lock()
    threads = [threading.Thread(target=add_many_locked, args=(counter, times, lock)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counter.value
""", says=("threads",)),
            Answer("a threading.Lock", "import threading\n" + two(lock="threading.Lock()"), says=("threading",)),
            Answer("the count it should reach returned instead of counter.value", two(
                read_and_join=JOIN_THEN_READ.replace("return counter.value", "return 2 * times")),
                   says=("you returned 2 * times", "Return counter.value")),
            Answer("one process does all the additions, the other none", two(args="(counter, n, lock)").replace(
                "for _ in range(2)", "for n in (2 * times, 0)"), says=("times=[40000, 0]", "each of the two")),
            Answer("a sleep between the two starts: the first has finished", """
import time

def locked_count(counter, times):
    lock = ctx.Lock()
    processes = [ctx.Process(target=add_many_locked, args=(counter, times, lock)) for _ in range(2)]
    processes[0].start()
    while processes[0].is_alive():
        time.sleep(0.05)
    processes[1].start()
    for p in processes:
        p.join()
    return counter.value
""", says=("had already finished when you started the second", "never ran at the same time")),
            Answer("no return", two(read_and_join="    for p in processes:\n        p.join()"),
                   says=("returned None",)),
        ],
        right=[
            Answer("the hidden solution", two()),
            Answer("the counter reset to 0 first, its own lock passed", """
def locked_count(counter, times):
    counter.value = 0
    processes = [ctx.Process(target=add_many_locked, args=(counter, times, counter.get_lock())) for _ in range(2)]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    return counter.value
"""),
            Answer("p1 and p2, the lock passed by keyword", """
def locked_count(counter, times):
    lock = ctx.Lock()
    p1 = ctx.Process(target=add_many_locked, args=(counter, times), kwargs={"lock": lock})
    p2 = ctx.Process(target=add_many_locked, args=(counter, times), kwargs={"lock": lock})
    p1.start()
    p2.start()
    p1.join()
    p2.join()
    return counter.value
"""),
            Answer("the counter's own lock", "from mplessons.lessons_locks import add_many_get_lock\n" + two(
                target="add_many_get_lock", args="(counter, times)")),
        ],
    ),
    2: Exercise(
        wrong=[
            Answer("no lock at all", worker("    for _ in range(times):\n        counter.value += amount\n"),
                   says=("lost",)),
            Answer("a comment above %%worker_module: the magic is refused, the old safe_add stays",
                   "# my safe worker, with the lock\n" + worker(LOCKED),
                   says=("this is the `safe_add` you checked before", "first line"), reset=False),
            Answer("a new Lock made inside safe_add", worker("""    lock = multiprocessing.Lock()
    for _ in range(times):
        with lock:
            counter.value += amount
""", header="import multiprocessing\n"), says=("makes a new lock every time it runs",)),
            Answer("a lock made at the top of the module", worker("""    for _ in range(times):
        with LOCK:
            counter.value += amount
""", header="import multiprocessing\n\nLOCK = multiprocessing.Lock()\n"),
                   says=("made when the module is imported",)),
            Answer("the lock held only for the read", worker("""    for _ in range(times):
        with counter.get_lock():
            current = counter.value
        counter.value = current + amount
"""), says=("lost", "the read and the write together")),
            Answer("+= outside the lock", worker("""    for _ in range(times):
        with counter.get_lock():
            pass
        counter.value += amount
"""), says=("lost",)),
            Answer("one big addition of amount * times", worker("""    with counter.get_lock():
        counter.value += amount * times
"""), says=("wrote counter.value 2 times", "`times` times")),
            Answer("the lock around the whole loop: the processes take turns", worker("""    with counter.get_lock():
        for _ in range(times):
            counter.value += amount
"""), says=("took turns", "around each `counter.value += amount` only")),
            Answer("1 added instead of amount", worker(LOCKED.replace("+= amount", "+= 1")),
                   says=("Add `amount`",)),
            Answer("defined in a plain cell, without %%worker_module",
                   f"def safe_add(counter, amount, times):\n{LOCKED}", says=("plain notebook cell", "%%worker_module")),
        ],
        right=[
            Answer("the hidden solution", worker(LOCKED)),
            Answer("the lock taken once into a name", worker("""    lock = counter.get_lock()
    for _ in range(times):
        with lock:
            counter.value += amount
""")),
            Answer("acquire and release in try/finally", worker("""    for _ in range(times):
        counter.get_lock().acquire()
        try:
            counter.value += amount
        finally:
            counter.get_lock().release()
""")),
        ],
    ),
}
