"""Build notebooks/02_processes_vs_threads.ipynb (run from the repository root)."""
import sys

sys.path.insert(0, "tools")
from nbbuild import code, exercise, md, write  # noqa: E402

IGNORE = ("nbval-ignore-output",)

cells = [
    md("""
# 02 · Processes vs threads: who gets the second core?

**You will learn**

* to run the same CPU-bound job serially, in two processes and in two threads, and to time all three;
* why two threads are **no faster** for Python code that computes: the **GIL** (not "I/O limits", as the original
  notes said);
* that threads **do** win when the work is waiting (downloads, disk, databases);
* what free-threaded Python (3.13t, 3.14t) changes, and how to see whether the GIL is on.

**Time:** about 20 minutes. **Run it:** *Run → Run All Cells* takes about 10 seconds.
"""),
    md("""
## 1 · The job

The job is the original notes' loop, `cubic_sum(n)`: the sum of `i + i**2 + i**3` for `i < n`. It lives in
`mplessons.workloads` so that child processes can import it under every start method (lesson 00); type
`cubic_sum??` to read it. The notes used `n = 10_000_000` (about 5 s per job); we use a smaller `N` so the lesson
stays quick. If a job takes much less than 0.3 s on your machine, make `N` bigger.
"""),
    code("""
import queue
import threading
import time

import matplotlib.pyplot as plt

import mplessons
from mplessons.workloads import cubic_sum, cubic_sum_to_queue

ctx = mplessons.context()  # fork, spawn or forkserver: the cells below work with all three
N = 2_000_000
"""),
    md("""
## 2 · Serial: one job after the other
"""),
    code("""
t0 = time.perf_counter()
res1 = cubic_sum(N)
res2 = cubic_sum(N)
serial_s = time.perf_counter() - t0

print(res1, res2)
expected = res1
print(f"serial: {serial_s:.2f} s")
"""),
    md("""
## 3 · Two processes

This is the notes' `code1.py`, run in the notebook: a `Process` cannot return a value, so each one puts its result
on a `Queue` (`cubic_sum_to_queue(q, n)` does `q.put(cubic_sum(n))`). We take both results off the queue
**before** joining (lesson 01 shows why the other order can deadlock). The clock includes starting the two
processes, which is part of the price of using them.
"""),
    code("""
t0 = time.perf_counter()
q = ctx.Queue()
p1 = ctx.Process(target=cubic_sum_to_queue, args=(q, N))
p2 = ctx.Process(target=cubic_sum_to_queue, args=(q, N))
p1.start()
p2.start()
res1, res2 = q.get(), q.get()  # drain the queue first ...
p1.join()                      # ... then wait for the processes to end
p2.join()
process_s = time.perf_counter() - t0

print(res1 == res2 == expected)
print(f"2 processes: {process_s:.2f} s")
"""),
    md("""
## 4 · Two threads

The same code with `threading.Thread` and a thread-safe `queue.Queue`. Threads live in *this* process, so starting
one is cheap and nothing has to be imported: any function works, even one defined in a cell.
"""),
    code("""
t0 = time.perf_counter()
tq = queue.Queue()
t1 = threading.Thread(target=cubic_sum_to_queue, args=(tq, N))
t2 = threading.Thread(target=cubic_sum_to_queue, args=(tq, N))
t1.start()
t2.start()
t1.join()
t2.join()
res1, res2 = tq.get(), tq.get()
thread_s = time.perf_counter() - t0

print(res1 == res2 == expected)
print(f"2 threads: {thread_s:.2f} s")
"""),
    md("""
This time we join **before** we read the queue, the order lesson 01 warns against, and here it is safe. A
`queue.Queue` is an object in this process's memory: `put()` stores a reference and returns at once (an unbounded
queue never blocks), so a thread ends as soon as its function returns. A `multiprocessing.Queue` is different: a
feeder thread in the child writes each item into a pipe that holds only so much, and the child cannot exit until
all of it has been written, so there the parent must read first.
"""),
    md("""
## 5 · Side by side

A small bar chart in plain matplotlib (we will use it again below):
"""),
    code("""
def bar_chart(seconds, title):
    \"\"\"Horizontal bars, one per way of running the jobs; shorter is better.\"\"\"
    fig, ax = plt.subplots(figsize=(6, 1.8))
    ax.barh(list(seconds), list(seconds.values()), color=["grey", "tab:blue", "tab:orange"])
    ax.invert_yaxis()
    ax.set_xlabel("seconds (shorter is better)")
    ax.set_title(title)
    plt.show()


bar_chart({"serial": serial_s, "2 processes": process_s, "2 threads": thread_s}, "two CPU-bound jobs")
print(f"speedup with 2 processes: {serial_s / process_s:.1f}×")
print(f"speedup with 2 threads:   {serial_s / thread_s:.1f}×")
print("usable cores here:", mplessons.usable_cores())
""", tags=IGNORE),
    md("""
On a machine with two or more free cores the processes take about half the serial time (a bit more: starting
them costs something: under `spawn` each one is a new Python that imports `mplessons`, under `forkserver` a fork
of a server process that then imports it, under `fork` a copy of this kernel). The threads take **as long as the
serial run**, sometimes longer.

### Why threads did not help: the GIL, not I/O

The original notes said *"threads still compute on one core; because of I/O limits they are even slower"*. The
first half is nearly right (the threads compute one at a time, though not necessarily on one core), the reason is
not. There is no I/O in `cubic_sum`. In CPython (up to 3.12, and in the usual
builds of 3.13 and 3.14) a thread must hold the **global interpreter lock (GIL)** to run Python bytecode. Only one
thread holds it at a time, so the two threads take turns **holding the GIL**: the operating system may run them on
any core, even on two different ones, but only one of them runs Python code at any moment. They swap about every
5 ms (`sys.getswitchinterval()`), and that switching adds a little overhead, which is why the threads can be
slightly *slower* than serial. Each **process** has its own interpreter and its own GIL,
so two processes really compute on two cores at once.

The GIL is released while a thread **waits**: `time.sleep`, reading a socket or a file, waiting for a database. It
is also released by many C extensions while they compute (NumPy on large arrays, `hashlib` on large inputs,
compression). That is where threads shine.
"""),
    md("""
## 6 · Break it, then fix it: `target=job(n)` runs the job right here

The most common slip when starting a thread or a process is to **call** the function instead of **passing** it.
`target=cubic_sum(n)` computes the sum immediately, in this thread, and hands the *number* to `Thread` as its
target. Nothing runs in parallel. Watch how long merely *creating* the thread takes, and what `start()` does with a
target that is a number. A thread's uncaught exception goes to `threading.excepthook`, which prints it on standard
error; to see it here, the cell puts a hook of its own in place for a moment:
"""),
    code("""
n = N // 4
t0 = time.perf_counter()
broken = threading.Thread(target=cubic_sum(n))  # ✗ calls cubic_sum(n) now, in this thread
print(f"creating the broken thread took {time.perf_counter() - t0:.2f} s: the work is already done, serially")

seen = []  # what the broken thread raises
default_hook = threading.excepthook
threading.excepthook = seen.append  # collect it instead of printing it
try:
    broken.start()  # returns normally ...
    broken.join()
finally:
    threading.excepthook = default_hook  # put the usual hook back
error = seen[0].exc_value
print(f"start() returned; inside the thread: {type(error).__name__}: {error}")
"""),
    code("""
t0 = time.perf_counter()
fixed = threading.Thread(target=cubic_sum, args=(n,))  # ✓ pass the function and its arguments separately
print(f"creating the fixed thread took {time.perf_counter() - t0:.2f} s: the work waits for start()")
fixed.start()
fixed.join()
"""),
    md("""
`start()` did not fail. A thread calls its target *in the new thread*, so the `TypeError` is raised there; the
thread ends, `threading.excepthook` is all that hears of it (by default it prints `Exception in thread ...` and the
traceback; see [`threading.excepthook`](https://docs.python.org/3/library/threading.html#threading.excepthook)), and
the thread that called `start()` carries on. A `Process` does the same: `ctx.Process(target=cubic_sum(n)).start()`
returns, the child raises the `TypeError`, prints it on its own standard error and ends with **exit code 1**. That
is lesson 01's rule again: an error stays in the thread or process where it happened, and the caller only sees that
no result came. The fixed thread does its work after `start()`. For a `Process` the fix is the same,
`ctx.Process(target=..., args=(...,))`, including the comma that makes `(n,)` a tuple (lesson 01).

## 7 · Where threads win: waiting

Now a job that **waits** instead of computing: `sleep_then_return(seconds, value)` sleeps, as a download would,
and returns `value`. We time four waits of 0.25 s serially, on four threads and on four processes. For the timing we
use `mplessons.run_tasks(fn, items, backend=..., workers=...)`, which runs `fn` on each item and returns the
results in order with the wall time (`functools.partial` fixes the first argument; a partial of an importable
function is itself picklable).
"""),
    code("""
from functools import partial

from mplessons.workloads import sleep_then_return

wait_a_bit = partial(sleep_then_return, 0.25)  # wait_a_bit(v) == sleep_then_return(0.25, v)
values = list(range(4))

io_seconds = {}
for label, backend, workers in [("serial", "serial", 1), ("4 processes", "process", 4), ("4 threads", "thread", 4)]:
    run = mplessons.run_tasks(wait_a_bit, values, backend=backend, workers=workers)
    assert run.results == values
    io_seconds[label] = run.seconds
    print(f"{label:>12}: {run.seconds:.2f} s")
"""),
    code("""
bar_chart(io_seconds, "four waits of 0.25 s")
print(f"speedup with 4 threads:   {io_seconds['serial'] / io_seconds['4 threads']:.1f}×")
print(f"speedup with 4 processes: {io_seconds['serial'] / io_seconds['4 processes']:.1f}×")
""", tags=IGNORE),
    md("""
Four threads overlap their four waits, so the batch takes about one wait, even on a single core: a sleeping thread
does not hold the GIL. Four processes overlap their waits too, but each is a new process to start (under `spawn` a
fresh Python that must import the worker's module, under `forkserver` a fork of the server process that imports it,
under `fork` a copy of this kernel) and its tasks and results are pickled, so they pay more overhead for the same
result. **Rule of thumb:** processes for Python code that computes, threads for code that waits.

## 8 · Free-threaded Python: the GIL can be switched off

Since Python 3.13 there is a second build of CPython, **free-threaded** (`python3.13t`, `python3.14t`; officially
supported from 3.14, PEP 779), in which the GIL is off. There, the two threads of section 4 can compute on two cores
at once, and a thread pool can replace a process pool for CPU-bound work, without the start-up and pickling costs.
Single-threaded code pays for it: on 3.14t it runs roughly 5–10 % slower than on the usual build, depending on
platform and compiler ([What's new in 3.14](https://docs.python.org/3.14/whatsnew/3.14.html#whatsnew314-free-threaded-cpython)),
while 3.13t's own documentation warns of "a substantial single-threaded performance hit"
([free-threading HOWTO for 3.13](https://docs.python.org/3.13/howto/free-threading-python.html)). An extension
module that is not marked as safe for it re-enables the GIL when it is imported, with a warning (you can force
the GIL either way with `PYTHON_GIL=0` / `PYTHON_GIL=1`, or `-X gil=0` / `-X gil=1`). Multiprocessing stays the
tool for work that must survive a crash, use more memory than one process should, or spread over several machines
(lesson 06).

To find out where you are:
"""),
    code("""
import sys
import sysconfig

print("free-threaded build:", bool(sysconfig.get_config_var("Py_GIL_DISABLED")))
if hasattr(sys, "_is_gil_enabled"):  # Python 3.13+
    print("GIL enabled right now:", sys._is_gil_enabled())
else:
    print("Python", sys.version.split()[0], "always has the GIL")
print("mplessons.gil_enabled():", mplessons.gil_enabled())
""", tags=IGNORE),
    md("""
If this says the GIL is off, run section 4 again: the threads should now take about as long as the processes, or
less (there are no processes to start).

## 9 · Exercises
"""),
    *exercise(
        """
### Exercise 1 · Threads for waiting

Write `run_in_threads(fetch, values)`: for each value start a `threading.Thread` that runs `fetch(value)`, and
return the list of results **in the order of `values`**. A thread throws its target's return value away, so give
each thread a way to hand its result back (a list you fill by position works; so does a `queue.Queue` of
`(index, value)` pairs). The check calls your function with five values and a `fetch` that waits like a download
(0.2 s or a little more, as `sleep_then_return(0.2, value)` would), and notes which thread ran each call, and when.
""",
        """
run_in_threads = ...  # replace ... with your function (a def with the same name)
""",
        """
def run_in_threads(fetch, values):
    results = [None] * len(values)

    def work(i, value):
        results[i] = fetch(value)

    threads = [threading.Thread(target=work, args=(i, v)) for i, v in enumerate(values)]
    for t in threads:
        t.start()  # start them all ...
    for t in threads:
        t.join()   # ... then wait for them all
    return results
""",
        """
from mplessons.checks import lesson02

lesson02.check_io_threads(run_in_threads)
""",
    ),
    *exercise(
        """
### Exercise 2 · Processes for computing

Write `cubic_sums_in_processes(ctx, ns)`: compute `cubic_sum(n)` for every `n` in `ns`, each in its own
`ctx.Process` with `cubic_sum_to_queue` as the target, all running at the same time, and return the sums **in the
order of `ns`**. Careful: a single shared queue hands results back in the order the processes *finish*. Use the
`ctx` your function is given: the check passes a context of its own, which records when each process is started
and joined. It gives the longest job first, and it can tell whether the sums were computed in this process
(serially or in threads) or in children.
""",
        """
cubic_sums_in_processes = ...  # replace ... with your function (a def with the same name)
""",
        """
def cubic_sums_in_processes(ctx, ns):
    queues = [ctx.Queue() for _ in ns]  # one queue per process: its result cannot get mixed up
    processes = [ctx.Process(target=cubic_sum_to_queue, args=(q, n)) for q, n in zip(queues, ns, strict=True)]
    for p in processes:
        p.start()
    results = [q.get(timeout=60) for q in queues]  # drain before join
    for p in processes:
        p.join()
    return results
""",
        """
lesson02.check_cpu_processes(cubic_sums_in_processes)
""",
    ),
    md("""
## 10 · Speedup lab: processes and threads, worker by worker

Two workers gave one point each. To see more of the curve we time the same CPU-bound batch, eight tasks of about
40 ms each, with 1, 2, as many as the usable cores and twice that many workers, once with processes and once with
threads, and plot the speedups together. `sweep`, `plot_speedup` and `speedup_lab` are the lessons' timing
harness from `mplessons`, not something to learn: read the cells for how to call them, and the plots for what they
show.
"""),
    code("""
from mplessons import calibrate, plot_speedup, sweep

size = calibrate(cubic_sum, 0.04)  # the n for which cubic_sum(n) takes about 40 ms here
batch = [size] * 8
counts = sorted({1, 2, mplessons.usable_cores(), 2 * mplessons.usable_cores()})
by_processes = sweep(cubic_sum, batch, workers=counts, backend="process", repeat=1, label="processes")
by_threads = sweep(cubic_sum, batch, workers=counts, backend="thread", repeat=1, label="threads")
print(by_processes, by_threads, sep="\\n\\n")
plot_speedup([by_processes, by_threads], title="8 CPU-bound tasks of about 40 ms")
""", tags=IGNORE),
    md("""
The process curve climbs towards the dash-dot line of the usable cores and then flattens: more workers than cores
only take turns. The thread curve stays near 1× whatever the count: the GIL lets one thread compute at a time.

**What an Amdahl fit can and cannot tell.** Amdahl's law is a model: a fraction `f` of the work cannot be shared,
the rest splits perfectly, so `n` workers give a speedup of `1 / (f + (1 - f) / n)`, which never passes `1 / f`.
`sweep` fits `f` to the points within the usable cores (beyond them workers only take turns), and only when there
are at least three different worker counts there: from 1 and 2 workers alone some `f` always matches the 2-worker
point exactly, so that "fit" could not disagree with anything, and a ceiling drawn from it would be pure
extrapolation. On a machine with fewer than 3 usable cores the table therefore says *no Amdahl fit*. Where there
is a fit (drawn as a dotted curve), it summarises the counts you measured; it cannot predict far beyond them,
because the model leaves out costs that grow with the number of workers (starting each process, pickling its tasks
and results, a batch of eight tasks that no longer shares out evenly). Read its `1 / f` as an optimistic guess,
not as a measured limit.

Now try it yourself. The lab below ran once with the process backend. **Drag the workers slider, press Run**, and
a point joins the speedup curve (left); the timeline (right) shows which worker ran which task. Switch the backend
to `thread` and press Run at a few worker counts to see the flat line appear next to the rising one
(`dask`, offered when dask is installed, runs the same tasks on a local dask cluster, lesson 06; its first run
takes a few seconds to start the cluster).
"""),
    code("""
from IPython.display import display

from mplessons.widgets import speedup_lab

lab = speedup_lab(cubic_sum, backend="process")
display(lab)
first = lab.run_once()  # presses Run once for you; the rest is yours
""", tags=IGNORE),
    md("""
## Key points

* A **process** has its own interpreter and GIL, so two processes compute on two cores; starting them costs
  time: least under `fork` (a copy of this process), more under `forkserver` (a fork of a server process, which
  then imports the worker's module) and most under `spawn` (a fresh Python that imports it).
* **Threads** share one interpreter. Under the GIL they take turns holding it, so only one runs Python code at a
  time, whatever core it is on: they do not speed up CPU-bound Python; they do overlap **waiting** (I/O, `sleep`),
  cheaply.
* The original notes' explanation ("I/O limits") was wrong: it is the GIL.
* Pass the function, not its result: `target=job, args=(n,)`, never `target=job(n)`. With a number as target,
  `start()` still returns; the `TypeError` happens in the new thread (`threading.excepthook`) or process (exit
  code 1).
* A `queue.Queue` may be read after `join()`; a `multiprocessing.Queue` must be drained first (lesson 01).
* An Amdahl fit needs at least three worker counts within the usable cores, and says little beyond them.
* Free-threaded Python (3.13t/3.14t) removes the GIL; check with `sys._is_gil_enabled()` or
  `mplessons.gil_enabled()`.

**Next:** [03 · Pools](03_pool.ipynb): a pool of worker processes that hands out the tasks and returns the
results for you.
"""),
]

write("notebooks/02_processes_vs_threads.ipynb", cells)
