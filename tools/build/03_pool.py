"""Build notebooks/03_pool.ipynb (run from the repository root)."""
import sys

sys.path.insert(0, "tools")
from nbbuild import code, exercise, md, write  # noqa: E402

IGNORE = ("nbval-ignore-output",)

cells = [
    md("""
# 03 · Pools: many tasks, a few worker processes

**You will learn**

* to hand a list of tasks to a `Pool` with `map`, and to choose its number of processes;
* `apply_async` and `.get()`, and the list-of-async-results pattern;
* `imap`, `imap_unordered`, `starmap`, and what `chunksize` is for (measured);
* callbacks and `error_callback`; the same work with `concurrent.futures.ProcessPoolExecutor`;
* why a pool always goes in a `with` block (or gets `close()` + `join()`), and the mistake `with` invites.

**Time:** about 30 minutes. **Run it:** *Run → Run All Cells* takes about 15 seconds.

In lesson 02 we started each `Process` by hand and collected results through a `Queue`. A **pool** starts a fixed
number of worker processes once, hands them tasks, and brings the return values back, in order.
"""),
    code("""
import multiprocessing
import os
import time

import mplessons
from mplessons.workloads import power_digits

ctx = mplessons.context()  # fork, spawn or forkserver: every cell below works with all three
inputs = list(range(1, 11))
"""),
    md("""
## 1 · Break it, then fix it: the original job no longer runs

The original notes' `job` grows `x` by its own powers and returns `len(str(x))`, the number of decimal digits.
On Python 3.11 and later it fails before any process is involved, so we try it right here in the kernel:
"""),
    code("""
def seed_job(x):
    for i in range(10):
        x = x + x**i
    return len(str(x))


try:
    seed_job(1)
except ValueError as err:
    print("ValueError:", err)
"""),
    md("""
Since Python 3.11 (and security releases of 3.7–3.10), converting an `int` of more than 4300 digits to `str`
raises `ValueError`: the conversion takes time quadratic in the number of digits, and a web service parsing a
huge number from a request could be stalled by it (CVE-2020-10735). `sys.set_int_max_str_digits(0)` lifts the
limit, but only in *this* process: workers started by `spawn` or `forkserver` begin with the default again.

The fix is to count digits without building the string. `mplessons.workloads.power_digits` is the same loop,
then `digit_count(x)`, which reads the count off `math.log10(x)` (it accepts ints of any size) and, only when
that lands within a hair of a power of ten, settles it with `x.bit_length()` and one comparison: exact, and
fast. Its results match what the notes printed on an older Python:
"""),
    code("""
print(power_digits(1))
"""),
    md("""
## 2 · `pool.map`: the notes' `code2.py`

`pool.map(fn, iterable)` calls `fn` on every item in the worker processes and returns the list of results **in
input order**. `ctx.Pool(processes=k)` starts `k` workers. `ctx.Pool()` starts one per CPU: `os.cpu_count()` of
them on Python 3.11 and 3.12, `os.process_cpu_count()` from Python 3.13 on (the CPUs this process may run on; see
[`Pool`](https://docs.python.org/3/library/multiprocessing.html#multiprocessing.pool.Pool) in the documentation,
"Changed in version 3.13"). `ProcessPoolExecutor()` (section 8) picks its number of workers the same way, and
at most 61 on Windows
([`ProcessPoolExecutor`](https://docs.python.org/3/library/concurrent.futures.html#processpoolexecutor)).
"""),
    code("""
t0 = time.perf_counter()
with ctx.Pool() as pool:  # one worker per CPU: os.cpu_count(), or os.process_cpu_count() on Python 3.13+
    default_workers = len(multiprocessing.active_children())  # the worker processes it started
    results = pool.map(power_digits, inputs)
pool_s = time.perf_counter() - t0

print("power_digits(1) is:")
print(results[0])
print("power_digits(1..10) are:")
print(results)
"""),
    code("""
t0 = time.perf_counter()
with ctx.Pool(processes=1) as pool:  # one worker: the tasks run one after another
    assert pool.map(power_digits, inputs) == results
one_s = time.perf_counter() - t0

print(f"Pool() with {default_workers} workers: {pool_s:.2f} s; Pool(processes=1): {one_s:.2f} s")
print(f"speedup: {one_s / pool_s:.1f}×")
""", tags=IGNORE),
    md("""
`os.cpu_count()` counts the machine's CPUs, which can be far more than your process may use (a container, a
batch job, `taskset`). Python 3.13's `os.process_cpu_count()` counts only the CPUs this process may run on (its
CPU affinity, as `taskset` sets it), but not a container's CPU quota
([`os.process_cpu_count`](https://docs.python.org/3/library/os.html#os.process_cpu_count)); from 3.13 the
environment variable [`PYTHON_CPU_COUNT`](https://docs.python.org/3/using/cmdline.html#envvar-PYTHON_CPU_COUNT)
or `python -X cpu_count=N` overrides both. `mplessons.usable_cores()` counts affinity and a Linux container's CPU
quota, on every Python. `ctx.Pool(processes=mplessons.usable_cores())` starts only as many workers as can really
run at once; more only add start-up time and memory. What they say on this machine:
"""),
    code("""
import sys

print("os.cpu_count()          :", os.cpu_count(), "CPUs in this machine")
if sys.version_info >= (3, 13):
    print("os.process_cpu_count()  :", os.process_cpu_count(), "that this process may run on: what Pool() starts")
else:
    print("os.process_cpu_count()  : new in Python 3.13; this Python's Pool() starts os.cpu_count() workers")
print("mplessons.usable_cores():", mplessons.usable_cores(), "that this process can really use")
""", tags=IGNORE),
    md("""
## 3 · `apply_async`: one task at a time, the notes' `code3.py`

`pool.apply_async(fn, args)` submits **one** task and returns at once with an `AsyncResult`; `.get()` waits for
its value. To run many tasks, submit them all first and only then `.get()` each: that is the list-of-async-results
pattern.
"""),
    code("""
with ctx.Pool(2) as pool:
    result = pool.apply_async(power_digits, (1,))  # note the comma: args is a tuple
    print("power_digits(1) is:")
    print(result.get())

    async_results = [pool.apply_async(power_digits, (x,)) for x in inputs]  # submit all ...
    print("power_digits(1..10) are:")
    print([r.get() for r in async_results])                                 # ... then collect
"""),
    md("""
`[pool.apply_async(f, (x,)).get() for x in inputs]` looks almost the same but waits for each task before it
submits the next: the pool runs one task at a time. Exercise 1 catches that.

## 4 · Break it, then fix it: collecting results after the `with` block

Leaving `with ctx.Pool() as pool:` calls `pool.terminate()`, **not** `close()` + `join()`: the workers are stopped
at once and unfinished tasks are dropped. A result you `.get()` after the block never arrives, and a plain
`.get()` would wait forever. We use `.get(timeout=...)` so the mistake shows as an error instead of a hang:
"""),
    code("""
from mplessons.lessons_pool import nap

with ctx.Pool(2) as pool:
    late = pool.apply_async(nap, (0.3,))
# ✗ the pool was terminated when the block ended; the task never finished
try:
    late.get(timeout=0.8)
except multiprocessing.TimeoutError:
    print("TimeoutError: the result never came; the pool was terminated when the with block ended")

with ctx.Pool(2) as pool:
    on_time = pool.apply_async(nap, (0.3,))
    print("✓ inside the block:", on_time.get())  # collect results before leaving the block
"""),
    md("""
## 5 · `imap`, `imap_unordered` and `starmap`

* `imap` returns an iterator that hands you each result, in input order, as soon as it (and those before it) is
  ready, without waiting for the whole list. It is lazy in **handing results over** only (below).
* `imap_unordered` hands results over in the order they **finish**. Use it when order does not matter, or when
  each result says which input it belongs to.
* `starmap(fn, [(a, b), ...])` calls `fn(a, b)`: for functions of several arguments.

`nap(seconds)` waits and returns `seconds`, so we can choose when each task finishes:
"""),
    code("""
waits = [0.4, 0.1, 0.2]
with ctx.Pool(3) as pool:
    print("imap:          ", list(pool.imap(nap, waits)))
    print("imap_unordered:", list(pool.imap_unordered(nap, waits)))
"""),
    md("""
`imap` does not wait for you to ask, though. A helper thread of the pool reads the input and queues the tasks for
the workers at once (for a long input, as far ahead as the pipe to the workers holds), the workers run them
whether you ask or not, and each result waits in the parent until you fetch it. Here a generator notes every
input the pool takes from it, and for half a second we ask for nothing:
"""),
    code("""
taken = []


def noting(items):  # a generator that notes each input the pool takes from it
    for item in items:
        taken.append(item)
        yield item


with ctx.Pool(2) as pool:
    lazy_results = pool.imap(nap, noting([0.05] * 6))
    time.sleep(0.5)  # we ask for nothing yet ...
    print(f"inputs taken before we asked for any result: {len(taken)} of 6")
    print("results:", list(lazy_results))  # ... then take them all
"""),
    md("""
So with a long input, `imap` reads ahead and the results you have not taken yet pile up in the parent's memory;
for quick tasks that can be nearly all of them, as with `map`. Keep memory bounded by feeding the input in
slices (one `imap` or `map` per slice), or take each result as soon as it comes. (`concurrent.futures`'s
`executor.map` reads its whole input at once; Python 3.14 gives it a `buffersize` argument that limits that:
[`Executor.map`](https://docs.python.org/3/library/concurrent.futures.html#concurrent.futures.Executor.map).)
"""),
    code("""
from mplessons.lessons_pool import cubic_sum_range
from mplessons.workloads import cubic_sum

n = 1_000_000
halves = [(0, n // 2), (n // 2, n)]  # cubic_sum_range(start, stop) sums one slice of cubic_sum's loop
with ctx.Pool(2) as pool:
    parts = pool.starmap(cubic_sum_range, halves)
print(parts, sum(parts) == cubic_sum(n))
"""),
    md("""
## 6 · `chunksize`: many tiny tasks

Each task travels to a worker and its result travels back, pickled, through a pipe. For a tiny task such as
`square(x)` that trip costs far more than the work. `map` therefore sends tasks in **chunks**: by default about
`len(items) / (4 × workers)` per chunk. Forcing `chunksize=1` shows what the default saves:
"""),
    code("""
from mplessons.workloads import square

tiny = range(2_000)
with ctx.Pool(2) as pool:
    pool.map(square, range(2))  # warm up: both workers running before we time
    t0 = time.perf_counter()
    one_by_one = pool.map(square, tiny, chunksize=1)
    chunk1_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    chunked = pool.map(square, tiny)  # default chunksize
    auto_s = time.perf_counter() - t0
assert one_by_one == chunked == [x * x for x in tiny]

print(f"chunksize=1:    {chunk1_s:.3f} s")
print(f"default chunks: {auto_s:.3f} s  ({chunk1_s / auto_s:.0f}× faster)")

t0 = time.perf_counter()
assert [x * x for x in tiny] == chunked
print(f"no pool at all: {time.perf_counter() - t0:.3f} s")
"""),
    md("""
Both pools are slower than the plain list comprehension for work this small; parallelism pays only when each task
(or chunk) does much more work than its trip costs. `imap` and `imap_unordered` default to `chunksize=1`; give
them a larger one for many small tasks.

## 7 · Callbacks, `error_callback`, and `close()` + `join()`

`apply_async(fn, args, callback=..., error_callback=...)` calls `callback(result)` or `error_callback(exception)`
in the parent when the task ends, from a helper thread of the pool. Keep callbacks short. Here we do not want the
pool terminated before all callbacks have run, so instead of relying on `with` we `close()` the pool (no more
tasks) and `join()` it (wait until every task is done and the workers have exited):
"""),
    code("""
from mplessons.lessons_pool import fragile_square

done, failed = [], []
pool = ctx.Pool(2)
try:
    for x in [2, -1, 3, -4]:
        pool.apply_async(fragile_square, (x,), callback=done.append, error_callback=failed.append)
    pool.close()  # no more tasks ...
    pool.join()   # ... wait for all of them, callbacks included
finally:
    pool.terminate()  # nothing left to stop after close() + join(); stops the workers if something above failed

print("results:", sorted(done))
print("errors: ", sorted(f"{type(e).__name__}: {e}" for e in failed))
"""),
    md("""
Callbacks run in the order tasks finish, so `done` is sorted before printing. Without `error_callback`, the
exception of a failed task is only raised when someone calls `.get()` on its result; if nobody does, it is lost
silently.

### What happens to a pool nobody closes

When the garbage collector destroys a pool that is still running, the pool's finalizer **terminates** its
workers, and Python warns `ResourceWarning: unclosed running multiprocessing pool` (a warning that is hidden
unless you turn warnings on, e.g. with `python -X dev`). CPython usually does that the moment the last reference
to the pool goes. But nothing promises that it happens, or when; the documentation of
[`Pool`](https://docs.python.org/3/library/multiprocessing.html#multiprocessing.pool.Pool) warns not to rely on
it:

* anything that still refers to the pool keeps it, and its workers, alive: in a notebook, the output history
  (`Out`, `_`, `_7`) after a cell showed the pool, a traceback that holds it, a recorded warning;
* a pool with unfinished tasks is kept alive by its own bookkeeping until they are done;
* when the program ends (a script's last line, a kernel shutdown or restart), `multiprocessing` terminates every
  pool still running: tasks not yet done are killed, their callbacks never run, and no error says so.

To see the first and the last without leaving anything behind in this kernel, we forget three pools in a
separate, short-lived Python:
"""),
    code('''
import subprocess
import sys
import textwrap

forgotten_pools = textwrap.dedent("""
    import gc, multiprocessing, sys, time, warnings

    if __name__ == "__main__":
        ctx = multiprocessing.get_context(sys.argv[1])
        alive = multiprocessing.active_children
        if sys.argv[2] == "collected":
            pool = ctx.Pool(2)
            pool.map(abs, range(4))
            del pool  # no with, no close(): the last reference is gone
            gc.collect()
            print("1. nothing refers to the pool  -> worker processes alive:", len(alive()))

            pool = ctx.Pool(2)
            pool.map(abs, range(4))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")  # show the ResourceWarning, and keep it in `caught`
                del pool
                gc.collect()
            print("2. the warning:", caught[0].message)
            print("   it keeps the pool (.source)  -> worker processes alive:", len(alive()))
            del caught
            gc.collect()
            print("   warning dropped              -> worker processes alive:", len(alive()))
        else:
            pool = ctx.Pool(2)
            pool.apply_async(time.sleep, (30,))  # a task that needs 30 seconds
            print("3. the script ends while a task runs")
""")
for case in ("collected", "program ends"):
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", forgotten_pools, ctx.get_start_method(), case],
                         capture_output=True, text=True, timeout=60)
    seconds = time.perf_counter() - started
    print(run.stdout + run.stderr, end="")  # stderr too: anything Python says about the pools

print(f"   it ended {seconds:.1f} s after it started, exit code {run.returncode}:",
      "the 30-second task was killed" if seconds < 30 else "the task ran to the end")
'''),
    md("""
A pool you leave to the garbage collector stops at a moment you do not choose, not at all while something refers
to it, and takes unfinished tasks with it when the program ends: use `with`, or `close()` + `join()`.
"""),
    md("""
## 8 · The same with `concurrent.futures.ProcessPoolExecutor`

`concurrent.futures` is the newer, smaller interface, shared with `ThreadPoolExecutor`: `executor.map` for
`pool.map`, `executor.submit` (a `Future`) for `apply_async`, `future.result()` for `.get()`. Pass
`mp_context=ctx` to choose the start method. Its `with` block calls `shutdown(wait=True)`: it **waits** for
submitted tasks, unlike `Pool`. If a worker process dies, the executor raises `BrokenProcessPool` instead of
waiting forever, as a `Pool` would. And `executor.map` sends its tasks one at a time (its `chunksize` defaults
to 1, like `imap`'s); give it a larger `chunksize` for many small tasks.
"""),
    code("""
from concurrent.futures import ProcessPoolExecutor, as_completed

with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as executor:
    print(list(executor.map(power_digits, inputs[:3])))  # the seed's first three values again

    futures = {executor.submit(fragile_square, x): x for x in [2, -1, 3]}
    for future in as_completed(futures):  # in the order they finish
        x = futures[future]
        try:
            print(f"fragile_square({x}) = {future.result()}")
        except ValueError as err:
            print(f"fragile_square({x}) raised ValueError: {err}")
""", tags=IGNORE),
    md("""
(The order of the last three lines depends on which task finishes first, so that cell's output is not compared
when the notebooks are tested.)

## 9 · Exercises
"""),
    *exercise(
        """
### Exercise 1 · `apply_async` without waiting in between

Write `all_with_apply_async(pool, func, items)` that returns `[func(x) for x in items]`, computed with
`pool.apply_async`, in the order of `items`. The check gives it a pool of 4 workers that records how it is used, a
`func` that waits longer for bigger inputs (up to about 0.3 s), and 8 items, the biggest first; it tells a parallel
answer from one that waits for each task before submitting the next.
""",
        """
all_with_apply_async = ...  # replace ... with your function (a def with the same name)
""",
        """
def all_with_apply_async(pool, func, items):
    pending = [pool.apply_async(func, (x,)) for x in items]  # submit every task first ...
    return [r.get() for r in pending]                         # ... then wait for each, in order
""",
        """
from mplessons.checks import lesson03

lesson03.check_apply_async(all_with_apply_async)
""",
    ),
    *exercise(
        """
### Exercise 2 · One failing task must not lose the others

Write `results_or_errors(executor, func, items)` for a `ProcessPoolExecutor`: it returns a list with, for each item
in order, `func(item)` or, if that raised, the **exception object**. (`executor.map` stops at the first error, so
submit each task and handle each `future.result()` on its own.) The check passes an executor that records how it
is used and a `func` that, like `fragile_square`, raises `ValueError` for negative inputs; it waits longer for
bigger inputs, so the tasks finish in another order than they were submitted.
""",
        """
results_or_errors = ...  # replace ... with your function (a def with the same name)
""",
        """
def results_or_errors(executor, func, items):
    futures = [executor.submit(func, x) for x in items]  # submit every task first
    out = []
    for future in futures:  # in input order
        try:
            out.append(future.result())
        except Exception as exc:
            out.append(exc)
    return out
""",
        """
lesson03.check_failures(results_or_errors)
""",
    ),
    md("""
## 10 · Speedup lab: how far does a pool scale, and what does chunksize do?

`run_tasks`, `plot_timeline` and `speedup_lab` are the lessons' timing harness from `mplessons`, not something
to learn: read the cells for how to call them, and the plots for what they show.
`run_tasks(fn, items, backend="process", workers=k, chunksize=c)` hands the items to a pool of `k` processes in
chunks of `c`, as `pool.map(fn, items, chunksize=c)` does, and records when each task ran in which worker.

The batch is **uneven**, as real batches often are: twelve short tasks (about 5 ms) followed by four long ones
(about 40 ms), all `cubic_sum(n)` with different `n`. We run it on the same pool size three times: chunksize 1
(each worker asks for the next task as soon as it is free), `pool.map`'s automatic chunksize (about four chunks
per worker), and **one big chunk per worker** (`ceil(len(batch) / workers)`). In the timeline each row is a
worker, each bar a task (numbered), bars of one chunk share a colour, and the grey line is the end of the run.
"""),
    code("""
import math

from mplessons import calibrate, plot_timeline, run_tasks

unit = calibrate(cubic_sum, 0.005)  # the n for which cubic_sum(n) takes about 5 ms here
batch = [unit] * 12 + [8 * unit] * 4  # short tasks first, the long ones at the end
workers = max(2, mplessons.usable_cores())
runs = [run_tasks(cubic_sum, batch, backend="process", workers=workers, chunksize=c)
        for c in (1, None, math.ceil(len(batch) / workers))]
for run in runs:
    print(f"chunksize {run.chunksize:>2}: {run.seconds:.2f} s")
plot_timeline(runs, title="the same 16 uneven tasks, three chunksizes")
""", tags=IGNORE),
    md("""
With one big chunk per worker, the worker that drew the long tasks at the end of the list works on alone while
the others sit **idle** after their short chunk: the run takes as long as its slowest chunk (imbalance). Small
chunks keep every worker busy until the end, at the cost of one round trip to the pool per chunk; that cost is why
`pool.map` picks a middle size, and why tiny tasks need a bigger chunksize (section 6).

Now try it yourself: the lab below ran once. **Drag the workers slider and press Run** to add points to the speedup
curve (left) and see the run's timeline (right); change the task size to see small tasks scale worse than big
ones, and the backend to compare `thread` (and `dask`, where installed: lesson 06; its first run takes a few
seconds to start a local cluster).
"""),
    code("""
from IPython.display import display

from mplessons.widgets import speedup_lab

lab = speedup_lab(cubic_sum, backend="process", task_seconds=0.02)  # 8 tasks of about 20 ms
display(lab)
first = lab.run_once()  # presses Run once for you; the rest is yours
""", tags=IGNORE),
    md("""
## Key points

* `pool.map(fn, items)` returns results in input order; `ctx.Pool(processes=k)` picks the number of workers.
  `ctx.Pool()` starts `os.cpu_count()` of them before Python 3.13 and `os.process_cpu_count()` from 3.13; prefer
  `mplessons.usable_cores()`, which also counts a container's CPU quota.
* `apply_async` returns at once; submit all tasks, then `.get()` each. `imap` hands results over lazily but reads
  its input and runs the tasks ahead of you; `imap_unordered` yields results as they finish; `starmap` unpacks
  argument tuples; a larger `chunksize` makes many tiny tasks affordable (`map` picks one, `imap` and
  `executor.map` default to 1).
* `len(str(x))` fails for ints over 4300 digits on Python 3.11+; count digits without `str` (`power_digits`).
* A `with` block **terminates** a `Pool` on exit: collect results inside it, or `close()` + `join()` first. A pool
  nobody closes lives as long as anything refers to it (`Out`, `_`, a traceback, a warning, its own unfinished
  tasks); it is terminated when it is collected, or when the program ends, which kills unfinished tasks without
  a word.
* `callback` / `error_callback` run in the parent as tasks finish; without them a task's exception only surfaces
  at `.get()`.
* `ProcessPoolExecutor(mp_context=ctx)` does the same with futures, waits on `with` exit, and reports a dead worker
  instead of hanging.

**Next:** [03b · The pool toolkit](03b_pool_toolkit.ipynb): set-up per worker, recycling workers, the executor's
chunksize, stopping work, and BLAS threads.
"""),
]

write("notebooks/03_pool.ipynb", cells)
