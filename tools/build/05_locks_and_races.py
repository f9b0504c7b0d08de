"""Build notebooks/05_locks_and_races.ipynb (run from the repository root)."""
import sys

sys.path.insert(0, "tools")
from nbbuild import code, exercise, md, write  # noqa: E402

cells = [
    md("""
# 05 · Locks and races: when two processes update one value

**You will learn** to

* see why `v.value += 1` from two processes **loses updates** on practically every run, not only with
  `sleep`;
* fix it with a `Lock` passed to the children, or with the value's own `get_lock()`;
* tell what really matters about a lock: that every process uses **the same one**, passed to it;
* give a lock to a pool's workers (`initializer` and `initargs`, or a `Manager().Lock()`);
* place a lock well: around the shared update, not around the whole computation.

**Time:** about 20 minutes. **Run it:** *Run → Run All Cells* finishes in a few seconds.
"""),
    md("""
## 1 · The seed's race needed `sleep`

The seed's `code4.py` let two processes add to a shared `Value('i', 0)`, one adding 1 and one adding 100, ten
times each, with `time.sleep(0.5)` before every addition. Its output ended at `910` instead of `1010`: one
update was lost. But the `sleep` is what made that visible: both processes woke up at the same moments.
Without it, twenty additions take microseconds and rarely collide, and the program *looks* correct.

The bug does not need `sleep`. `v.value += 1` is three steps:

1. read `v.value` (say it is 41),
2. add 1 (42),
3. write 42 back.

If the other process writes between steps 1 and 3, its update is overwritten. A `Value` does have a lock, but it
holds it for the read and for the write *separately*, never across both. Run enough additions at the same time
and updates are lost on practically every run:
"""),
    code("""
import mplessons
from mplessons.lessons_locks import add_many

ctx = mplessons.context()  # multiprocessing's API, under the start method this course runs with
TIMES = 50_000  # additions per process

counter = ctx.Value("i", 0)
start_line = ctx.Barrier(2)  # both processes wait here until both are running, so they really overlap
processes = [ctx.Process(target=add_many, args=(counter, TIMES, start_line)) for _ in range(2)]
for p in processes:
    p.start()
for p in processes:
    p.join()

expected = 2 * TIMES
print(f"expected {expected:,}, got {counter.value:,}: lost {expected - counter.value:,} updates")
print("lost updates:", "yes" if counter.value < expected else "no")
"""),
    md("""
The number lost changes from run to run (run the cell again), but it is far from zero. (`add_many` is the
plain loop `for _ in range(times): counter.value += 1`; read it with `add_many??`.)

Why the `Barrier`? Starting a process takes time, under `spawn` more than the whole loop. Without it, on a busy
machine the first process can finish before the second begins: no overlap, no visible race, and a bug that
waits for the day it matters. That is what makes races nasty: whether they show depends on timing.
"""),
    *exercise(
        """
### Exercise 1 · Fix the race with a `Lock`

Write `locked_count(counter, times)`: make a `Lock` with `ctx.Lock()`, **pass it** to two processes running
`add_many_locked(counter, times, lock)` (which does `with lock: counter.value += 1`) **at the same time**, let
them finish, and return `counter.value`. No update may be lost. Try it with
`print(locked_count(ctx.Value("i", 0), TIMES))`; the check passes a fresh counter and watches when your
processes start and finish.
""",
        """
from mplessons.lessons_locks import add_many_locked


def locked_count(counter, times):
    ...  # your code here: two processes, one Lock; return counter.value once both have finished
""",
        """
def locked_count(counter, times):
    lock = ctx.Lock()
    processes = [ctx.Process(target=add_many_locked, args=(counter, times, lock)) for _ in range(2)]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    return counter.value


print(locked_count(ctx.Value("i", 0), TIMES))
""",
        """
from mplessons.checks import lesson05

lesson05.check_race_fixed(locked_count)
""",
    ),
    md("""
## 2 · The value's own lock: `get_lock()`

A `Value` (and an `Array`) made with the default `lock=True` already carries a lock, and `get_lock()` gives it
to you. Holding it across the read-modify-write fixes the race without a separate `Lock` object:

```python
with counter.get_lock():
    counter.value += 1
```
"""),
    code("""
from mplessons.lessons_locks import add_many_get_lock

counter = ctx.Value("i", 0)
processes = [ctx.Process(target=add_many_get_lock, args=(counter, TIMES)) for _ in range(2)]
for p in processes:
    p.start()
for p in processes:
    p.join()
print(f"expected {2 * TIMES:,}, got {counter.value:,}")
"""),
    md("""
## 3 · The seed's locked counter, without `sleep`

The seed's `code5.py`: process 1 adds 1 ten times, process 2 adds 100 ten times, both under one lock. It needs
no `sleep` and no `print` in the children: we read the result in the parent.
"""),
    code("""
from mplessons.lessons_locks import add_ten_times

v = ctx.Value("i", 0)
lock = ctx.Lock()
process1 = ctx.Process(target=add_ten_times, args=(v, 1, lock))
process2 = ctx.Process(target=add_ten_times, args=(v, 100, lock))
process1.start()
process2.start()
process1.join()
process2.join()
print(v.value)
"""),
    md("""
## 4 · "The lock must be created in main"? It must be **passed**

The seed comments `lock = multiprocessing.Lock()  # must be written in the main function`, then creates it at
the top of the script anyway, and it works. What made it work is that the lock was **passed** to each child in
`args=(..., lock)`.

A lock that a child finds by itself, as a global of a module, is only the same lock under `fork`, where the
child is a copy of the parent. Under `spawn` and `forkserver` the child imports the module afresh and creates
a **new lock of its own** that nobody else uses: it protects nothing.

Let us test it. `mplessons.lessons_locks` creates `MODULE_LOCK` when it is imported. The parent holds that lock
and a lock it passes in `args`; each child reports whether it can take them (if it can, the lock it has is not
the parent's). Under every start method:
"""),
    code("""
import multiprocessing

from mplessons import lessons_locks
from mplessons.lessons_locks import try_lock, try_module_lock

for method in multiprocessing.get_all_start_methods():
    mctx = multiprocessing.get_context(method)
    passed_lock = mctx.Lock()
    answers = mctx.Queue()
    with lessons_locks.MODULE_LOCK, passed_lock:  # the parent holds both while the children try them
        children = [mctx.Process(target=try_module_lock, args=(answers, "module-level lock")),
                    mctx.Process(target=try_lock, args=(passed_lock, answers, "lock passed in args"))]
        for child in children:
            child.start()
        free = dict(answers.get(timeout=60) for _ in children)
    for child in children:
        child.join(timeout=60)
    verdicts = [f"{name}: {'a different lock!' if free[name] else 'the same lock'}" for name in sorted(free)]
    print(f"{method:>10} | " + " | ".join(verdicts))
"""),
    md("""
The passed lock is the parent's under every start method; the module-level one only under `fork`, which was the
default on Linux before Python 3.14 and on macOS until Python 3.7 (spawn from 3.8), and does not exist on
Windows ([contexts and start methods](https://docs.python.org/3/library/multiprocessing.html#contexts-and-start-methods)).
**Create the lock once, in the parent, and pass it to every process that needs it.**

### A lock for pool workers

A pool's workers are started before any task exists, and a task's arguments are pickled and sent through a
pipe, which a lock refuses: `pool.apply(f, (lock,))` raises `RuntimeError: Lock objects should only be shared
between processes through inheritance`. The standard answer is to pass the lock when each worker **starts**:
`ctx.Pool(initializer=f, initargs=(lock,))` calls `f(lock)` once in every worker, before its first task, and `f`
keeps it in a global of its module for the tasks to use. Both functions must be importable by the workers, so
they live in `mplessons.lessons_locks`: `remember_lock(lock)` is the initializer, and the task
`pool_lock_is_free(lock=None)` says whether it could take `lock`, or by default the lock its worker was started
with (read them with `??`). As in the test above, the parent holds the lock while a worker tries it:
"""),
    code("""
from mplessons.lessons_locks import pool_lock_is_free, remember_lock

lock = ctx.Lock()
with ctx.Pool(2) as pool:
    try:
        pool.apply(pool_lock_is_free, (lock,))  # ✗ a lock in a task's arguments, pickled with the task
    except RuntimeError as err:
        print("lock in the task's arguments -> RuntimeError:", err)

with ctx.Pool(2, initializer=remember_lock, initargs=(lock,)) as pool:  # ✓ handed to each worker as it starts
    with lock:
        print("while the parent holds it, a worker can take it:", pool.apply(pool_lock_is_free))
    print("once the parent has let go, a worker can take it:", pool.apply(pool_lock_is_free))
"""),
    md("""
The worker could not take the lock while the parent held it: it is the parent's lock, under every start method.
The other way is a `Manager().Lock()`: a proxy for a lock that lives in the manager's server process, which can
travel in a task's arguments like any picklable value; each `acquire` and `release` is then a round trip to the
server. Lesson [03b · The pool toolkit](03b_pool_toolkit.ipynb) shows `initializer` and `initargs` in depth.

## 5 · Where to put the lock: granularity

A lock makes processes take turns. Hold it only around the shared update, and the work runs in parallel; hold
it around the whole loop, and the second process waits until the first has done *all* its work: correct, but
serial. `work_then_add` does `ROUNDS` pieces of work (`cubic_sum(SIZE)`) and adds 1 to the counter after each,
locking either each `+=` or the whole loop:
"""),
    code("""
from mplessons.lessons_locks import work_then_add

ROUNDS, SIZE = 20, 40_000


def run_two(whole_loop):
    counter, lock, start_line, spans = ctx.Value("i", 0), ctx.Lock(), ctx.Barrier(2), ctx.Queue()
    processes = [ctx.Process(target=work_then_add, args=(counter, lock, ROUNDS, SIZE, spans, start_line, whole_loop))
                 for _ in range(2)]
    for p in processes:
        p.start()
    (start1, end1), (start2, end2) = sorted(spans.get(timeout=60) for _ in processes)
    for p in processes:
        p.join()
    where = "the whole loop" if whole_loop else "each +="
    print(f"lock around {where:<14}: {max(end1, end2) - start1:.2f} s, counter {counter.value},",
          "the two processes worked at the same time:", "yes" if start2 < end1 else "no")


run_two(whole_loop=False)
run_two(whole_loop=True)
"""),
    md("""
Both counts are right, but with the lock around the whole loop the processes never overlap and it takes about
twice as long (on a machine with at least two free cores). Keep the critical section, the code between
`acquire` and `release`, as short as the shared update itself.
"""),
    *exercise(
        """
### Exercise 2 · Write your own safe worker

Write `safe_add(counter, amount, times)`, which adds `amount` to `counter.value`, `times` times, without ever
losing an update when two processes run it at once. Use the value's own lock. Child processes must be able to
import it, so write it in a cell that starts with `%%worker_module lesson05_counter` (lesson 00; the first line
below loads that magic). The check runs your function in two processes at the same time, with an
`amount` of its own.
""",
        """
%load_ext mplessons

# your code here: a %%worker_module cell defining safe_add, then run this check
safe_add = ...
""",
        """
%%worker_module lesson05_counter
def safe_add(counter, amount, times):
    for _ in range(times):
        with counter.get_lock():
            counter.value += amount
""",
        """
lesson05.check_safe_add(safe_add)
""",
    ),
    md("""
## Key points

* `v.value += n` on a shared value is read, add, write: two processes lose updates, on practically every run,
  if they overlap. `sleep` only makes it visible; a `Barrier` makes the processes overlap.
* Fix it by holding one lock across the whole read-modify-write: a `Lock` from `ctx.Lock()`, or the value's
  own `v.get_lock()`.
* What matters is that every process uses **the same** lock: create it in the parent and **pass** it in
  `args`. A module-level lock is a different lock in each `spawn`ed or `forkserver` child.
* A lock cannot travel with a pool task: hand it to each worker as it starts,
  `ctx.Pool(initializer=..., initargs=(lock,))`, or use a `Manager().Lock()` proxy.
* Lock only the shared update. A lock around the whole loop is correct but serialises the work.

**Next:** [06 · Beyond one machine](06_beyond_one_machine.ipynb).
"""),
]

write("notebooks/05_locks_and_races.ipynb", cells)
