"""Wrong and right answers for lesson 03's exercises (see tests/exercise_corpus.py)."""

from exercise_corpus import Answer, Exercise

EXERCISES = {
    1: Exercise(
        wrong=[
            Answer("pool.map where the exercise asks for apply_async", """
def all_with_apply_async(pool, func, items):
    return pool.map(func, items)
""", says=("you used pool.map", "this exercise is about apply_async")),
            Answer("apply_async(func, (x)) without the comma", """
def all_with_apply_async(pool, func, items):
    pending = [pool.apply_async(func, (x)) for x in items]
    return [r.get() for r in pending]
""", says=("(x) is just x", "Write (x,) with the comma")),
            Answer(".get() right after each apply_async", """
def all_with_apply_async(pool, func, items):
    return [pool.apply_async(func, (x,)).get() for x in items]
""", says=("submitted only after the previous one had finished", "Submit them all first")),
            Answer("results collected by a callback, in finishing order", """
def all_with_apply_async(pool, func, items):
    out = []
    pending = [pool.apply_async(func, (x,), callback=out.append) for x in items]
    for r in pending:
        r.wait()
    return out
""", says=("out of order", "a callback or as_completed")),
            Answer("the AsyncResult objects returned", """
def all_with_apply_async(pool, func, items):
    return [pool.apply_async(func, (x,)) for x in items]
""", says=("AsyncResult objects themselves", "call .get()")),
            Answer("pool.apply, which waits for each", """
def all_with_apply_async(pool, func, items):
    return [pool.apply(func, (x,)) for x in items]
""", says=("pool.apply(func, (x,)) waits", "use pool.apply_async")),
            Answer("apply_async(func(x)): called instead of passed", """
def all_with_apply_async(pool, func, items):
    pending = [pool.apply_async(func(x)) for x in items]
    return [r.get() for r in pending]
""", says=("calls func right here", "pool.apply_async(func, (x,))")),
            Answer("tasks submitted for show, the squares computed here with func", """
def all_with_apply_async(pool, func, items):
    pending = [pool.apply_async(func, (x,)) for x in items]
    return [func(x) for x in items]
""", says=("called func 8 time(s) itself, here in this process",)),
            Answer("tasks submitted for show, the squares written out", """
def all_with_apply_async(pool, func, items):
    pending = [pool.apply_async(func, (x,)) for x in items]
    return [x * x for x in items]
""", says=("8 of your 8 tasks' results were never read", "Return what each .get() gives you")),
            Answer("half the items in the pool, the other half here", """
def all_with_apply_async(pool, func, items):
    half = len(items) // 2
    pending = [pool.apply_async(func, (x,)) for x in items[:half]]
    return [r.get() for r in pending] + [func(x) for x in items[half:]]
""", says=("called func 4 time(s) itself",)),
            Answer("a ThreadPool of one's own instead of the pool given", """
from multiprocessing.pool import ThreadPool

def all_with_apply_async(pool, func, items):
    with ThreadPool(len(items)) as threads:
        pending = [threads.apply_async(func, (x,)) for x in items]
        return [r.get() for r in pending]
""", says=("did not call pool.apply_async on the pool it was given",)),
            Answer("all items as the arguments of one task", """
def all_with_apply_async(pool, func, items):
    return [pool.apply_async(func, items).get()]
""", says=("one task that calls func with every item",)),
        ],
        right=[
            Answer("the hidden solution", """
def all_with_apply_async(pool, func, items):
    pending = [pool.apply_async(func, (x,)) for x in items]
    return [r.get() for r in pending]
"""),
            Answer("get with a timeout", """
def all_with_apply_async(pool, func, items):
    pending = []
    for x in items:
        pending.append(pool.apply_async(func, args=(x,)))
    return [r.get(timeout=30) for r in pending]
"""),
            Answer("keyword arguments, the pool closed and joined before the gets", """
def all_with_apply_async(pool, func, items):
    pending = [pool.apply_async(func, kwds={"x": x}) for x in items]
    pool.close()
    pool.join()
    return [r.get() for r in pending]
"""),
            Answer("callbacks that store each result at its position", """
def all_with_apply_async(pool, func, items):
    results = [None] * len(items)

    def keeper(i):
        def keep(value):
            results[i] = value
        return keep

    pending = [pool.apply_async(func, (x,), callback=keeper(i)) for i, x in enumerate(items)]
    for r in pending:
        r.wait(timeout=30)
    return results
"""),
        ],
    ),
    2: Exercise(
        wrong=[
            Answer("executor.map, which stops at the first error", """
def results_or_errors(executor, func, items):
    return list(executor.map(func, items))
""", says=("you used executor.map", "every result after it is lost")),
            Answer("an except clause too narrow for the task's error", """
def results_or_errors(executor, func, items):
    futures = [executor.submit(func, x) for x in items]
    out = []
    for future in futures:
        try:
            out.append(future.result())
        except TypeError as exc:
            out.append(exc)
    return out
""", says=("ValueError: negative input -2 escaped", "try/except ValueError (or Exception)")),
            Answer("one try/except around the whole loop", """
def results_or_errors(executor, func, items):
    futures = [executor.submit(func, x) for x in items]
    out = []
    try:
        for future in futures:
            out.append(future.result())
    except ValueError as exc:
        out.append(exc)
    return out
""", says=("stops at the first failing task", "around each future.result()")),
            Answer("failing tasks skipped", """
def results_or_errors(executor, func, items):
    futures = [executor.submit(func, x) for x in items]
    out = []
    for future in futures:
        try:
            out.append(future.result())
        except Exception:
            pass
    return out
""", says=("leaves the failing tasks out",)),
            Answer("None for a failing task", """
def results_or_errors(executor, func, items):
    futures = [executor.submit(func, x) for x in items]
    out = []
    for future in futures:
        try:
            out.append(future.result())
        except ValueError:
            out.append(None)
    return out
""", says=("your list has None", "the exception object itself")),
            Answer("the message instead of the exception", """
def results_or_errors(executor, func, items):
    futures = [executor.submit(func, x) for x in items]
    out = []
    for future in futures:
        try:
            out.append(future.result())
        except ValueError as exc:
            out.append(str(exc))
    return out
""", says=("not its message",)),
            Answer("tasks submitted for show, each computed here inside try/except", """
def results_or_errors(executor, func, items):
    futures = [executor.submit(func, x) for x in items]
    out = []
    for x in items:
        try:
            out.append(func(x))
        except ValueError as exc:
            out.append(exc)
    return out
""", says=("called func 8 time(s) itself, here in this process",)),
            Answer("tasks submitted for show, results and errors written out", """
def results_or_errors(executor, func, items):
    futures = [executor.submit(func, x) for x in items]
    return [ValueError(f"negative input {x}") if x < 0 else x * x for x in items]
""", says=("8 of your 8 futures were never asked for their outcome",)),
            Answer("the tasks' errors copied into new exceptions", """
def results_or_errors(executor, func, items):
    futures = [executor.submit(func, x) for x in items]
    out = []
    for future in futures:
        error = future.exception()
        out.append(ValueError(str(error)) if error is not None else future.result())
    return out
""", says=("the exceptions at positions [1, 4] were made here",)),
            Answer("as_completed, in finishing order", """
def results_or_errors(executor, func, items):
    futures = [executor.submit(func, x) for x in items]
    out = []
    for future in as_completed(futures):
        try:
            out.append(future.result())
        except ValueError as exc:
            out.append(exc)
    return out
""", says=("out of order", "as_completed")),
            Answer(".result() right after each submit", """
def results_or_errors(executor, func, items):
    out = []
    for x in items:
        try:
            out.append(executor.submit(func, x).result())
        except ValueError as exc:
            out.append(exc)
    return out
""", says=("submitted only after the previous one had finished",)),
            Answer("the futures returned", """
def results_or_errors(executor, func, items):
    return [executor.submit(func, x) for x in items]
""", says=("Future objects themselves",)),
            Answer("submit(func, (x,)) as if it were apply_async", """
def results_or_errors(executor, func, items):
    futures = [executor.submit(func, (x,)) for x in items]
    out = []
    for future in futures:
        try:
            out.append(future.result())
        except Exception as exc:
            out.append(exc)
    return out
""", says=("passes the tuple as one argument", "executor.submit(func, x)")),
        ],
        right=[
            Answer("the hidden solution", """
def results_or_errors(executor, func, items):
    futures = [executor.submit(func, x) for x in items]
    out = []
    for future in futures:
        try:
            out.append(future.result())
        except Exception as exc:
            out.append(exc)
    return out
"""),
            Answer("future.exception() first", """
def results_or_errors(executor, func, items):
    futures = [executor.submit(func, x) for x in items]
    return [f.exception() if f.exception() is not None else f.result() for f in futures]
"""),
            Answer("as_completed, each outcome put back at its position", """
from concurrent.futures import as_completed

def results_or_errors(executor, func, items):
    positions = {executor.submit(func, x): i for i, x in enumerate(items)}
    out = [None] * len(items)
    for future in as_completed(positions):
        try:
            out[positions[future]] = future.result()
        except ValueError as exc:
            out[positions[future]] = exc
    return out
"""),
            Answer("except ValueError, with a timeout", """
def results_or_errors(executor, func, items):
    futures = [executor.submit(func, x) for x in items]
    out = []
    for future in futures:
        try:
            out.append(future.result(timeout=30))
        except ValueError as exc:
            out.append(exc)
    return out
"""),
        ],
    ),
}
