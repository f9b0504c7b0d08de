"""Build notebooks/03b_pool_toolkit.ipynb (run from the repository root)."""
import sys

sys.path.insert(0, "tools")
from nbbuild import code, exercise, md, write  # noqa: E402

IGNORE = ("nbval-ignore-output",)
DOCS = "https://docs.python.org/3/library"

cells = [
    md("""
# 03b · The pool toolkit: set-up per worker, recycling, chunksize, stopping work, BLAS threads

**You will learn** to

* set up each worker **once** with `initializer` / `initargs` (a model, a connection), and hand a `Lock` or a
  `Value` to pool workers that way;
* recycle workers that leak memory with `maxtasksperchild`;
* give `ProcessPoolExecutor.map` a `chunksize` (its default is 1, and it is slow on tiny tasks: measured);
* stop work: `Future.cancel()`, `shutdown(cancel_futures=True)`, and what Python 3.14 adds;
* keep numpy's BLAS threads from fighting over the cores in a pool (oversubscription, measured).

**Time:** about 30 minutes. **Run it:** *Run → Run All Cells* takes about 10 seconds.

Lesson 03 handed tasks to a pool. Working code needs a few more of the pool's options, and this lesson shows
each one with the mistake it prevents.
"""),
    code("""
%load_ext mplessons

import multiprocessing
import os
import signal
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

import mplessons
from mplessons.lessons_pool import nap
from mplessons.workloads import square

ctx = mplessons.context()  # fork, spawn or forkserver: every cell below works with all three
"""),
    md("""
## 1 · `initializer`: set up each worker once

Some tasks need something that is slow to make: a model read from disk, a database connection, a parsed table.
`Model("tiny-model")` stands in for one: it takes 0.1 s to load. Loading it inside the task function loads it
again for **every task**:
"""),
    code("""
from mplessons.lessons_toolkit import load_model, predict, predict_loading_each_time

t0 = time.perf_counter()
with ctx.Pool(2) as pool:
    answers = pool.map(predict_loading_each_time, range(8), chunksize=1)
print(f"✗ set-up inside the task: {len({a.model for a in answers})} models loaded for {len(answers)} tasks "
      f"({time.perf_counter() - t0:.2f} s)")
"""),
    md("""
`Pool(processes, initializer=f, initargs=(a, b))` calls `f(a, b)` once in each worker, when it starts, before
its first task. What `f` makes must outlive the call, so `f` stores it in a **global of its module**, where the
tasks of that worker find it. This is `load_model` and `predict` in `mplessons/lessons_toolkit.py`:

```python
model = None              # one per worker process

def load_model(name):     # the initializer: runs once in each worker
    global model          # without this line, `model = ...` would only make a local variable
    model = Model(name)

def predict(x):           # every task in that worker uses the same model
    return Prediction(x, model.predict(x), (model.loaded_in, model.number))
```

Each answer says which model gave it: the process that loaded it and its number there.
"""),
    code("""
t0 = time.perf_counter()
with ctx.Pool(2, initializer=load_model, initargs=("tiny-model",)) as pool:  # note the comma: a tuple
    answers = pool.map(predict, range(8), chunksize=1)
loads_per_worker = Counter(pid for pid, _ in {a.model for a in answers})
print(f"✓ initializer: at most {max(loads_per_worker.values())} model per worker for {len(answers)} tasks "
      f"({time.perf_counter() - t0:.2f} s)")
print("answers:", [a.y for a in answers])
"""),
    md("""
`ProcessPoolExecutor` takes the same two arguments:
"""),
    code("""
with ProcessPoolExecutor(2, mp_context=ctx, initializer=load_model, initargs=("tiny-model",)) as executor:
    print("answers:", [a.y for a in executor.map(predict, range(4))])
"""),
    md("""
Four things to know about an initializer:

* It must be importable by the workers, like a task function: from a module, or from a `%%worker_module` cell
  (lesson 00). A lambda or a function from a plain cell works only under `fork`.
* Pass the function, `initializer=load_model`, not its result: `initializer=load_model("tiny-model")` loads
  the model once, here in the notebook, and gives the pool `None`.
* `initargs` is a tuple: `("tiny-model",)` with the comma. `("tiny-model")` is just the string, and the pool
  would call `load_model("t", "i", "n", ...)`.
* If the initializer raises, a `Pool` starts a new worker, which raises again, forever: `map` never returns. A
  `ProcessPoolExecutor` raises `BrokenProcessPool` instead. Call your initializer once in a cell before you
  give it to a pool.

### A `Lock` or a `Value` for pool workers

Lesson 05 passed a lock to each `Process` in `args`. A pool's tasks cannot take one as an argument:
"""),
    code("""
from mplessons.lessons_toolkit import count_up, count_up_with, share_counter

counter, lock = ctx.Value("i", 0), ctx.Lock()
with ctx.Pool(2) as pool:
    try:
        pool.apply(count_up_with, (counter, lock, 1_000))  # ✗ a Value and a Lock as task arguments
    except RuntimeError as err:
        print("RuntimeError:", err)
"""),
    md("""
Tasks travel to running workers through a pipe, and a lock cannot be sent that way. "Inheritance" means: given to
a process when it **starts**, as `Process(args=...)` does. A pool's `initargs` are given to each worker when it
starts, so that is how a lock or a shared value reaches pool workers. `share_counter(counter, lock)` keeps both
in globals of the worker, and `count_up(times)` uses them:
"""),
    code("""
counter, lock = ctx.Value("i", 0), ctx.Lock()
with ctx.Pool(2, initializer=share_counter, initargs=(counter, lock)) as pool:
    done = pool.map(count_up, [2_000] * 4)
print(f"✓ {sum(done):,} additions from the pool's workers, counter = {counter.value:,}")
"""),
    md("""
## 2 · `maxtasksperchild`: recycle workers that leak

A worker lives as long as its pool, so whatever a task leaves behind piles up: a cache nobody empties, a C
library that leaks. `leaky_task` keeps 1 MB alive in its worker each time it runs and reports how much its worker
now holds. One worker, six tasks:
"""),
    code("""
from mplessons.lessons_toolkit import leaky_task


def describe(held):
    \"\"\"MB held after each task, and which worker ran it (A, B, ... in order of appearance).\"\"\"
    names = {}
    for pid, _ in held:
        names.setdefault(pid, "ABCDEFGH"[len(names)])
    return f"MB held: {[mb for _, mb in held]}, workers: {' '.join(names[pid] for pid, _ in held)}"


with ctx.Pool(1) as pool:
    print("✗ one worker for ever:  ", describe(pool.map(leaky_task, range(6), chunksize=1)))
"""),
    md("""
`Pool(maxtasksperchild=n)` replaces each worker with a fresh process after `n` tasks, and the memory goes back
to the system with the old one. Careful: for a pool a "task" is a **chunk**. With chunks of 2 items (what `map`
picks by default for six items on one worker), three tasks are six items:
"""),
    code("""
with ctx.Pool(1, maxtasksperchild=3) as pool:
    print("✓ a new worker every 3:", describe(pool.map(leaky_task, range(6), chunksize=1)))
    print("  chunks of 2 items:   ", describe(pool.map(leaky_task, range(6), chunksize=2)))
"""),
    md("""
`ProcessPoolExecutor` has the same option since Python 3.11, `max_tasks_per_child`, with two catches. It refuses
the `fork` start method (without `mp_context` it uses `spawn`):
"""),
    code("""
try:
    ProcessPoolExecutor(max_workers=1, max_tasks_per_child=3, mp_context=multiprocessing.get_context("fork"))
except ValueError as err:
    print("ValueError:", err)
"""),
    md(f"""
And the [documentation]({DOCS}/concurrent.futures.html#processpoolexecutor) warns of a bug,
[gh-115634](https://github.com/python/cpython/issues/115634), that can make it hang when a worker retires
while tasks are still queued. On the machine this course was written on, Python 3.11, 3.12 and 3.13 all hung
with `max_workers=1`, `max_tasks_per_child=2`, eight tasks and `spawn`, so this lesson does not run it. Until
your Python has the fix, recycle workers with `Pool(maxtasksperchild=...)`.

## 3 · `ProcessPoolExecutor.map` sends one task at a time

Lesson 03 measured `Pool.map`'s chunks. `ProcessPoolExecutor.map` has a `chunksize` too, but its default is
**1**: every item makes its own round trip to a worker. The same 2,000 tiny tasks on both:
"""),
    code("""
import math

tiny = range(2_000)
chunk = math.ceil(len(tiny) / (4 * 2))  # what Pool.map picks for 2 workers: about 4 chunks per worker
with ctx.Pool(2) as pool:
    pool.map(square, range(2))  # warm up: both workers running before we time
    t0 = time.perf_counter()
    by_pool = pool.map(square, tiny)
    pool_s = time.perf_counter() - t0
with ProcessPoolExecutor(2, mp_context=ctx) as executor:
    list(executor.map(square, range(2)))
    t0 = time.perf_counter()
    one_by_one = list(executor.map(square, tiny))  # chunksize=1, the default
    one_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    chunked = list(executor.map(square, tiny, chunksize=chunk))
    chunked_s = time.perf_counter() - t0
assert by_pool == one_by_one == chunked

print(f"Pool.map (chunks of {chunk}):             {pool_s:.3f} s")
print(f"executor.map, chunksize=1 (default): {one_s:.3f} s  ({one_s / pool_s:.0f}× Pool.map)")
print(f"executor.map, chunksize={chunk}:         {chunked_s:.3f} s  ({chunked_s / pool_s:.1f}× Pool.map)")
"""),
    md("""
With a chunksize the executor makes as few round trips as the pool, and its time drops close to the pool's.
(`python -m mplessons bench` measures both on
20,000 tasks; on the course's 2-core test machine the default was about 200 times slower than `Pool.map`.)
Give `executor.map` a chunksize whenever the tasks are many and small.

## 4 · Stopping work

### `Future.cancel()` stops only what has not started

`future.cancel()` returns `True` and the task never runs, or `False` if it is already running or done. One
worker, busy with a 0.5 s task; then four more tasks:
"""),
    code("""
with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as executor:
    executor.submit(nap, 0).result()  # the worker is up and idle
    busy = executor.submit(nap, 0.5)
    time.sleep(0.2)                   # ... and now busy with that task
    waiting = [executor.submit(nap, 0.1) for _ in range(4)]
    time.sleep(0.2)                   # let the executor hand out what it hands out
    print("busy.cancel():            ", busy.cancel())
    print("cancel() on the 4 waiting:", [f.cancel() for f in waiting])
print("the ones that ran:        ", [f.result() for f in waiting if not f.cancelled()])
"""),
    md("""
Two of the waiting tasks could not be cancelled although they had not started. CPython's executor keeps
`max_workers + 1` tasks in a queue to its workers, so that a worker never waits for the next one; a task in that
queue counts as running, and cannot be cancelled any more (the comment in
[`concurrent/futures/process.py`](https://github.com/python/cpython/blob/main/Lib/concurrent/futures/process.py)
says so). Only the tasks behind them were still pending.

### `shutdown(cancel_futures=True)`: stop, without waiting for the rest

Leaving a `with ProcessPoolExecutor(...)` block calls `shutdown(wait=True)`: it waits for **every** submitted
task, even when you no longer need them. `shutdown(cancel_futures=True)` (Python 3.9+) cancels the pending ones
first, then waits only for those that run:
"""),
    code("""
executor = ProcessPoolExecutor(max_workers=1, mp_context=ctx)
executor.submit(nap, 0).result()
busy = executor.submit(nap, 0.5)
time.sleep(0.2)
waiting = [executor.submit(nap, 0.2) for _ in range(4)]
time.sleep(0.2)
t0 = time.perf_counter()
executor.shutdown(cancel_futures=True)  # a plain shutdown() (or the end of a with block) would run all four
print(f"shutdown took {time.perf_counter() - t0:.1f} s; cancelled:", [f.cancelled() for f in waiting])
"""),
    md(f"""
### Stopping tasks that already run

`pool.terminate()` stops a `Pool`'s workers at once, whatever they are doing (the end of its `with` block does
it too). A `ProcessPoolExecutor` had no such method before **Python 3.14**, which adds
[`terminate_workers()`]({DOCS}/concurrent.futures.html#concurrent.futures.ProcessPoolExecutor.terminate_workers)
and [`kill_workers()`]({DOCS}/concurrent.futures.html#concurrent.futures.ProcessPoolExecutor.kill_workers):
they cancel the pending tasks, then end each worker with `terminate()` (SIGTERM) or `kill()` (SIGKILL); the
executor is broken afterwards. The cell uses them only where the running Python has them:
"""),
    code("""
# (tests do not compare this cell's output: its last line differs by Python version)
import sys
from concurrent.futures import wait

pool = ctx.Pool(2)
stuck = pool.map_async(nap, [30, 30])  # two tasks we cannot wait for
time.sleep(0.3)
t0 = time.perf_counter()
pool.terminate()
pool.join()
print(f"Pool.terminate() stopped the stuck tasks in {time.perf_counter() - t0:.1f} s")

version = f"{sys.version_info.major}.{sys.version_info.minor}"
executor = ProcessPoolExecutor(2, mp_context=ctx)
if hasattr(executor, "terminate_workers"):  # Python 3.14+
    stuck = [executor.submit(nap, 30) for _ in range(2)]
    time.sleep(0.3)
    t0 = time.perf_counter()
    executor.terminate_workers()
    wait(stuck, timeout=30)
    print(f"executor.terminate_workers() took {time.perf_counter() - t0:.1f} s:",
          [type(f.exception()).__name__ if f.done() else "still running" for f in stuck])
else:
    executor.shutdown()
    print(f"Python {version} has no ProcessPoolExecutor.terminate_workers() (new in 3.14)")
""", tags=IGNORE),
    md(f"""
### A long stream of inputs: `map(..., buffersize=...)` (Python 3.14)

`executor.map` reads its **whole** input before it returns, to submit a task for every item: an endless stream
(sensor readings, lines of a huge file) never gets started, and a long one fills the memory with futures.
`Pool.imap` is lazier, but its background thread reads ahead as fast as the workers go and keeps every result
until you take it. Python 3.14 adds
[`buffersize`]({DOCS}/concurrent.futures.html#concurrent.futures.Executor.map): at most that many tasks are
submitted ahead of the results you have taken. On older Pythons, hand the stream over in slices. The cell picks
whichever this Python has; both print the same:
"""),
    code("""
import inspect
from itertools import chain, count, islice

readings = count()  # 0, 1, 2, ... for ever
with ProcessPoolExecutor(2, mp_context=ctx) as executor:
    if "buffersize" in inspect.signature(executor.map).parameters:  # Python 3.14+
        results = executor.map(square, readings, buffersize=4)
    else:  # before 3.14: slices of 4, one after the other, as you ask for results
        results = chain.from_iterable(executor.map(square, islice(readings, 4)) for _ in count())
    print("the first 10 results of an endless stream:", list(islice(results, 10)))
"""),
    md(f"""
### Interrupting one process: `Process.interrupt()` (Python 3.14)

`process.terminate()` ends a child at once: no `finally`, no `except`, nothing saved. Python 3.14 adds
[`Process.interrupt()`]({DOCS}/multiprocessing.html#multiprocessing.Process.interrupt), which sends SIGINT
(POSIX only), what Ctrl-C sends: the child gets a `KeyboardInterrupt` and can clean up. Before 3.14,
`os.kill(process.pid, signal.SIGINT)` sends the same signal. `work_until_interrupted` reports "working", then
works until it is stopped, and reports once more if it got the chance to clean up:
"""),
    code("""
from queue import Empty

from mplessons.lessons_toolkit import work_until_interrupted

for how in ("terminate", "interrupt"):
    events = ctx.Queue()
    child = ctx.Process(target=work_until_interrupted, args=(events,))
    child.start()
    events.get(timeout=60)  # "working": it is inside its try block now
    if how == "terminate":
        child.terminate()  # ✗ SIGTERM: no clean-up
    elif hasattr(child, "interrupt"):  # Python 3.14+
        child.interrupt()
    else:  # before 3.14: the same signal by hand
        os.kill(child.pid, signal.SIGINT)
    child.join(timeout=60)
    try:
        last_word = events.get(timeout=0.5)
    except Empty:
        last_word = "(nothing: it had no chance to clean up)"
    print(f"{how:>9}: exit code {child.exitcode}, last word: {last_word}")
"""),
    md("""
## 5 · Oversubscription: numpy's threads in every worker

numpy hands matrix products to a BLAS library (OpenBLAS in numpy's wheels from PyPI; MKL or OpenBLAS from
conda), and that library starts its **own threads**, by default about one per core, in every process that loads it.
A pool of 2 workers on 2 cores then runs 2 × 2 = 4 BLAS threads on 2 cores; a pool of 16 on 16 cores runs
256. They fight over the cores (and OpenBLAS's idle threads spin for a while before they sleep), so the
"parallel" run can be much slower than it should be.

[`threadpoolctl`](https://github.com/joblib/threadpoolctl) reports those threads (`threadpool_info()`) and
limits them (`threadpool_limits(1)`). Limiting them in the **initializer** (section 1) gives each worker one
BLAS thread. One catch: `threadpool_limits` changes only the libraries already loaded, so the initializer imports
numpy first. `initializer=threadpool_limits, initargs=(1,)` alone would do nothing under spawn and
forkserver, where numpy is loaded later, by the first task. `mplessons.lessons_blas.limit_blas_threads` is:

```python
def limit_blas_threads(limit):
    import numpy  # load the BLAS library first ...
    from threadpoolctl import threadpool_limits
    threadpool_limits(limits=limit)  # ... then limit its threads in this worker
```

Each task does four products of 300 × 300 matrices and reports its worker's BLAS threads and its time. The same
tasks, with the BLAS threads left alone and limited to one per worker:
"""),
    code("""
# (tests do not compare this cell's output: timings and BLAS thread counts depend on the machine)
import matplotlib.pyplot as plt

from mplessons.lessons_blas import limit_blas_threads, matrix_products

workers = max(2, mplessons.usable_cores())
setups = {"left alone": {}, "1 per worker": {"initializer": limit_blas_threads, "initargs": (1,)}}
seconds, threads = {}, {}
for label, options in setups.items():
    with ctx.Pool(workers, **options) as pool:
        pool.map(matrix_products, [8] * workers, chunksize=1)  # start the workers, load numpy
        t0 = time.perf_counter()
        reports = pool.map(matrix_products, [300] * (6 * workers), chunksize=1)
        seconds[label] = time.perf_counter() - t0
    threads[label] = sorted({r.blas_threads for r in reports})
    print(f"BLAS threads {label:<12}: {threads[label]} per worker, {workers} workers, {seconds[label]:.3f} s")
print(f"limiting them made the run {seconds['left alone'] / seconds['1 per worker']:.1f}× faster")

fig, ax = plt.subplots(figsize=(5, 2.2))
ax.barh([f"{label} ({threads[label][0]} per worker)" for label in seconds], list(seconds.values()),
        color=["tab:red", "tab:green"])
ax.set_xlabel("seconds (shorter is better)")
ax.set_title(f"{6 * workers} numpy tasks on {workers} workers")
plt.show()
""", tags=IGNORE),
    md("""
How much the threads cost depends on the machine, the library and what else runs. On the 2-core machine this
course was written on, shared with other programs, leaving them alone made the run 3 to 15 times slower, the
more so the busier the machine was; a quiet laptop may show less. With more cores there are more workers, and
each starts more threads. To measure it on your machine, or on a 16-core node, run `python -m mplessons bench`: its
"BLAS threads" section is this cell, with as many workers as usable cores.

What to do:

* **On a laptop**, in a pool: one BLAS thread per worker, as above. Without a pool, leave them alone: one
  process with as many BLAS threads as cores is what they are made for.
* **On a cluster node** or in a batch job: set the limits before Python starts, in the job script:
  `export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1`. The libraries read them once, when numpy
  is imported, so setting `os.environ` after `import numpy` changes nothing in this process. Give the job the
  cores it uses (`--cpus-per-task` in Slurm): usable cores, not the node's, are what the pool should count.
* **joblib** (its default loky backend) does this for you: it sets those variables in its workers to
  cores ÷ workers ([joblib docs](https://joblib.readthedocs.io/en/stable/parallel.html#avoiding-over-subscription-of-cpu-resources)).

## 6 · Exercise
"""),
    *exercise(
        """
### Exercise · One connection per worker

`connect(address)` from `mplessons.lessons_toolkit` opens a connection to a price list: it takes 0.1 s, and
`connection.lookup(key)` returns the price of `key` (a `Row`). Like a real database connection it belongs to the
process that opened it.

In **one** cell that starts with `%%worker_module lesson03b_shop`, write:

* `open_connection(address)`: the pool's initializer; it opens a connection and keeps it in a global
  `connection`;
* `lookup(key)`: returns `connection.lookup(key)`;
* `run_lookups(ctx, address, keys)`: makes a pool with `ctx.Pool(...)`, with `open_connection` as its
  initializer, and returns the list of `lookup(key)` for the keys, in order.

The check calls `run_lookups` with a context that records how its pool was made and an address whose file
records every connection opened and every lookup, process by process. Each worker must open exactly one
connection, in the initializer, and every lookup must use its worker's own.
""",
        """
# your code here: a cell that starts with %%worker_module lesson03b_shop (as its very first line)
open_connection = lookup = run_lookups = ...
""",
        """
%%worker_module lesson03b_shop
from mplessons.lessons_toolkit import connect

connection = None


def open_connection(address):
    global connection
    connection = connect(address)


def lookup(key):
    return connection.lookup(key)


def run_lookups(ctx, address, keys):
    with ctx.Pool(2, initializer=open_connection, initargs=(address,)) as pool:
        return pool.map(lookup, keys)
""",
        """
from mplessons.checks import lesson03b

lesson03b.check_lookups(run_lookups, open_connection, lookup)
""",
    ),
    md("""
## Key points

* `Pool(initializer=f, initargs=(a,))` (or the same on `ProcessPoolExecutor`) runs `f(a)` once in each worker,
  when it starts. Keep what it makes in a module global (declare it `global`); pass the function, not its
  result; `initargs` needs its comma; a `Pool` whose initializer raises hangs.
* A `Lock` or a `Value` reaches pool workers through `initargs`, never as a task argument (`RuntimeError: ...
  only be shared between processes through inheritance`).
* `Pool(maxtasksperchild=n)` replaces a worker after `n` tasks (chunks): memory it leaked goes with it.
  `ProcessPoolExecutor(max_tasks_per_child=n)` refuses `fork` and can hang (gh-115634).
* `ProcessPoolExecutor.map` defaults to `chunksize=1`: give it a chunksize for many small tasks.
* `future.cancel()` works only on pending tasks; `shutdown(cancel_futures=True)` drops them all; Python 3.14
  adds `terminate_workers()`, `kill_workers()`, `map(..., buffersize=n)` and `Process.interrupt()`.
* numpy's BLAS starts a thread per core in **every** worker: limit it to one per worker (`threadpoolctl` in the
  initializer, or `OMP_NUM_THREADS=1` and friends before Python starts).

**Next:** [04 · Shared memory](04_shared_memory.ipynb).
"""),
]

write("notebooks/03b_pool_toolkit.ipynb", cells)
