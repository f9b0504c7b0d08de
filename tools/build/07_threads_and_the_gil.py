"""Build notebooks/07_threads_and_the_gil.ipynb (run from the repository root)."""
import sys

sys.path.insert(0, "tools")
from nbbuild import code, exercise, md, write  # noqa: E402

IGNORE = ("nbval-ignore-output",)

cells = [
    md("""
# 07 · Threads done right: races, locks, the GIL, and what comes after it

**You will learn** to

* make two threads lose updates on a shared value, and fix it with `threading.Lock`;
* explain why the GIL never made `counter.value += 1` safe, and why free-threaded Python makes such bugs show up
  more often;
* hand work from thread to thread with `queue.Queue`;
* use `ThreadPoolExecutor` for work that waits, and know how many threads it starts;
* recognise work that threads *do* run on several cores under the GIL (`hashlib`, `zlib`, NumPy), measured here
  against processes;
* detect free-threaded Python (3.13t, 3.14t), and see what it changes;
* know what subinterpreters (Python 3.14) offer, and call blocking or CPU-bound code from `asyncio`;
* choose between processes, threads, free-threaded threads, interpreters and dask.

**Time:** about 40 minutes. **Run it:** *Run → Run All Cells* takes about 10 seconds.
"""),
    code("""
import dis
import os
import queue
import sys
import threading
import time

import matplotlib.pyplot as plt

import mplessons
from mplessons.workloads import cubic_sum

ctx = mplessons.context()  # for the process pools below: fork, spawn or forkserver
"""),
    md("""
## 1 · Two threads, one counter: lost updates

Lesson 05 lost updates between *processes* that shared a `Value`. Threads share far more: every object of the
program. Any thread can read and write any of them, so the same mistake is even easier to make.

`add_many` adds 1 to `counter.value`, `TIMES` times, in two steps: it reads the value, then writes it back plus
one. Between the two we call `time.sleep(0)`. It waits for no time at all, but it lets the interpreter hand over
to another thread, as any log call, file access, network call or lock may. Two threads run it at once:
"""),
    code("""
class Counter:
    value = 0


def add_many(counter, times, start_line):
    start_line.wait()                # both threads begin together
    for _ in range(times):
        current = counter.value      # 1. read
        time.sleep(0)                # another thread may run here, as during a log call, I/O or a lock
        counter.value = current + 1  # 2. write what was read, plus one


TIMES = 100  # additions per thread
counter, start_line = Counter(), threading.Barrier(2)
threads = [threading.Thread(target=add_many, args=(counter, TIMES, start_line)) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()

expected = 2 * TIMES
print(f"expected {expected}, got {counter.value}: lost {expected - counter.value} updates")
print("lost updates:", "yes" if counter.value < expected else "no")
"""),
    md("""
About half the updates are gone, on every run. Each thread reads, lets the other run, and then writes a value
that is out of date: the other thread's update is overwritten. (The `Barrier` is lesson 05's: without it, on a
busy machine the first thread can sometimes finish its hundred additions before the second one starts, and the
bug hides.)

The fix is the one of lesson 05: a **lock held from the read to the write**. A `threading.Lock` is an ordinary
object in this process; every thread that uses the same one (here: passed in `args`, a global works as well,
because threads share memory) takes its turn at the code inside `with lock:`.
"""),
    code("""
def add_many_locked(counter, times, lock):
    for _ in range(times):
        with lock:                       # one thread at a time, from the read to the write
            current = counter.value
            time.sleep(0)
            counter.value = current + 1


lock = threading.Lock()
counter = Counter()
threads = [threading.Thread(target=add_many_locked, args=(counter, TIMES, lock)) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"expected {expected}, got {counter.value}")
"""),
    md("""
## 2 · Why the GIL never made `+=` safe

Surely `counter.value += 1` in one line is safe? It is not one step. `dis` shows the bytecode CPython runs
(it differs a little between Python versions):
"""),
    code("""
def add_one(counter):
    counter.value += 1


dis.dis(add_one)
""", tags=IGNORE),
    md("""
`LOAD_ATTR` reads `counter.value`, `BINARY_OP` with `+=` adds, `STORE_ATTR` writes (the names are those of
3.11 to 3.13): the same read, add, write as above. The **GIL** lets only one thread run bytecode at a time.
That protects the interpreter's own data (reference counts, the object's attribute dictionary), not *your*
invariant that every addition counts. The running thread may have to hand the GIL over between the `LOAD_ATTR`
and the `STORE_ATTR`.

When does it? A thread that wants the GIL waits `sys.getswitchinterval()` seconds and then asks the running
thread to let go; that thread does so at the next point where the interpreter checks for such requests (in
current CPython only certain instructions check: roughly, function calls and the jumps back of loops). A thread
also lets go whenever it waits: `sleep`, I/O, a lock.
"""),
    code("""
print("switch interval:", sys.getswitchinterval(), "s")
"""),
    md("""
So without `sleep(0)`, a **function call** between the read and the write is enough. Two threads below each run
`counter.value = counter.value + one()` for a quarter of a second (the output of this cell varies from run to
run, so it is not compared when the notebooks are tested):
"""),
    code("""
def one():
    return 1


def add_for(counter, seconds, counts):
    \"\"\"counter.value = counter.value + one() for `seconds`, then note how many additions this thread made.\"\"\"
    deadline = time.perf_counter() + seconds
    made = 0
    while time.perf_counter() < deadline:
        counter.value = counter.value + one()  # read, call a function, write
        made += 1
    counts.append(made)


counter, counts = Counter(), []
threads = [threading.Thread(target=add_for, args=(counter, 0.25, counts)) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"{sum(counts):,} additions, the counter says {counter.value:,}: lost {sum(counts) - counter.value:,}")
""", tags=IGNORE),
    md("""
Most runs lose updates, and when they lose, they lose a lot: the thread that was stopped between its read and
its write resumes a few milliseconds later and writes an old value over everything the other thread added
meanwhile. A bare `counter.value += 1` loop, with no call inside, lost nothing in millions of additions on the
GIL builds this lesson was tried on (3.10 to 3.13): no check point falls between its read and its write. That is
an accident of how the interpreter is built, not a promise of the language, and code that relies on it breaks
when the code inside changes (a property, a logging call) or when the interpreter does.

**Free-threaded Python** (section 6) has no GIL to hand over: two threads run at the same moment on two cores,
and their reads and writes interleave at *any* instruction, so unsynchronised sharing fails much more often: even
the bare `+=` can lose updates. Built-in types such as `list` and `dict` lock themselves internally there so that
they are not corrupted, but the documentation calls that a description of the current implementation, not a guarantee,
and it never makes your read-modify-write one step
([free-threading HOWTO, thread safety](https://docs.python.org/3/howto/free-threading-python.html#thread-safety)).
**Use a lock** wherever two threads update the same thing; it is correct on every build.
"""),
    *exercise(
        """
### Exercise 1 · A deposit that survives threads

`Account` (from `mplessons.lessons_threads`) keeps a balance in a slow store: `account.read()` returns the
balance and `account.write(value)` stores a new one, and each of them lets other threads run, as a database round
trip would. Write `deposit(account, amount)`, which adds `amount` to the balance, so that **no deposit is lost**
when many threads call it at the same time. The check calls your function from four threads at once, three
times over, and counts what went missing.
""",
        """
from mplessons.lessons_threads import Account

account = Account(10)  # try it: account.read() gives 10; account.write(15); account.balance is then 15
deposit = ...  # replace ... with your function (a def with the same name)
""",
        """
balance_lock = threading.Lock()  # one lock for every deposit, made once


def deposit(account, amount):
    with balance_lock:  # from the read to the write, one thread at a time
        balance = account.read()
        account.write(balance + amount)
""",
        """
from mplessons.checks import lesson07

lesson07.check_deposit(deposit)
""",
    ),
    md("""
## 3 · Hand work over instead of sharing it: `queue.Queue`

The easiest shared state to get right is none. Let one thread **put** work on a `queue.Queue` and others **get**
it: the queue does its own locking, and each item goes to exactly one taker. A `None` per worker tells the
workers to stop. Three threads share nine downloads of 0.05 s each:
"""),
    code("""
from mplessons.lessons_threads import fake_download

STOP = None
todo, done = queue.Queue(), queue.Queue()


def downloader():
    while (url := todo.get()) is not STOP:  # get() waits until there is an item
        done.put((url, fake_download(url, seconds=0.05)))


workers = [threading.Thread(target=downloader) for _ in range(3)]
for w in workers:
    w.start()
t0 = time.perf_counter()
for i in range(9):
    todo.put(f"https://example.org/{i}")
for _ in workers:
    todo.put(STOP)  # one stop sign per worker
for w in workers:
    w.join()
pages = dict(done.get() for _ in range(9))
print(f"{len(pages)} pages in {time.perf_counter() - t0:.2f} s; one after another: 0.45 s")
"""),
    md("""
Python 3.13 added `Queue.shutdown()`: after it, `get()` raises `queue.ShutDown` once the queue is empty, so the
workers need no stop signs ([queue docs](https://docs.python.org/3/library/queue.html#queue.Queue.shutdown)). The
stop signs above work on every version.

## 4 · `ThreadPoolExecutor`: a pool of threads for waiting work

Lesson 03's `ProcessPoolExecutor` has a twin for threads, with the same `submit`, `map` and futures. It needs no
`mp_context` (nothing is started in another process) and no importable functions: any function will do, even one
defined in a cell.
"""),
    code("""
from concurrent.futures import ThreadPoolExecutor

urls = [f"https://example.org/{i}" for i in range(10)]
t0 = time.perf_counter()
with ThreadPoolExecutor() as executor:  # the with block waits for every task, then stops the threads
    pages = list(executor.map(fake_download, urls))
print(pages[0], "...", len(pages), "pages")
print(f"10 downloads of 0.2 s: {time.perf_counter() - t0:.2f} s (one after another: 2 s)")
"""),
    md("""
How many threads did it use? Without `max_workers` the pool starts at most `min(32, cores + 4)` threads:
`os.cpu_count()` on Python 3.8 to 3.12, and from 3.13 `os.process_cpu_count()`, which counts only the cores
this process may use ([ThreadPoolExecutor docs](https://docs.python.org/3/library/concurrent.futures.html#concurrent.futures.ThreadPoolExecutor)).
That is at least 5 threads for waiting work and never more than 32. With 2 cores, 6 threads take the ten
downloads in two rounds; pass `max_workers=len(urls)` when every wait should overlap.
"""),
    code("""
cores = os.process_cpu_count() if hasattr(os, "process_cpu_count") else os.cpu_count()  # 3.13+ : before
print("cores:", cores, "-> default max_workers:", min(32, (cores or 1) + 4))
""", tags=IGNORE),
    md("""
### Break it, then fix it: `submit(f(x))` runs `f` right here

As with `Thread(target=f(x))` in lesson 02, writing the call instead of the function runs the download **now, in
this thread**, and hands its result, a string, to the pool. The pool then fails to call the string, and that
error comes out of `future.result()`:
"""),
    code("""
with ThreadPoolExecutor() as executor:
    t0 = time.perf_counter()
    future = executor.submit(fake_download(urls[0]))  # ✗ downloads first, then submits the page
    print(f"submit took {time.perf_counter() - t0:.2f} s: the download already happened, here")
    try:
        future.result()
    except TypeError as err:
        print("TypeError:", err)

    future = executor.submit(fake_download, urls[0])  # ✓ the function, then its arguments
    print(future.result())
"""),
    *exercise(
        """
### Exercise 2 · Many downloads at once

Write `fetch_all(fetch, urls)`, which downloads every URL with `fetch(url)` in a `ThreadPoolExecutor` and returns
the pages **in the order of `urls`**. The downloads should overlap, at least four at a time (the default
`max_workers` gives that). The check passes its own `fetch`: a fake download that waits (the first URL longest)
and notes which thread ran it, when, and whether a thread pool called it.
""",
        """
fetch_all = ...  # replace ... with your function (a def with the same name)
""",
        """
def fetch_all(fetch, urls):
    with ThreadPoolExecutor() as executor:
        return list(executor.map(fetch, urls))  # in the order of urls, whatever finishes first
""",
        """
lesson07.check_fetch_all(fetch_all)
""",
    ),
    md("""
## 5 · Threads on several cores, under the GIL: C code that lets go

Lesson 02 showed that two threads running Python code compute no faster than one. But code written in C may
**release the GIL** while it works on its own data, and then threads do run on several cores at once, with no
processes to start and nothing to pickle:

* `hashlib` releases it while hashing more than 2047 bytes at once
  ([hashlib docs](https://docs.python.org/3/library/hashlib.html#hash-algorithms));
* `zlib` releases it while it compresses
  ([C API docs](https://docs.python.org/3/c-api/init.html#releasing-the-gil-from-extension-code));
* NumPy releases it in many of its operations
  ([NumPy thread safety](https://numpy.org/doc/stable/reference/thread_safety.html)).

`hash_stream(chunk, times)` computes the SHA-256 of a 1 MiB `chunk` fed `times` times, as a big file is hashed
chunk by chunk. We time four such tasks, and four pure-Python `cubic_sum` tasks, serially, on 2 threads and on 2
processes. The process pool is started before the clock runs (lesson 02 timed that start-up), but its times do
include sending every task its arguments: a pickled copy of the 1 MiB chunk.
"""),
    code("""
from concurrent.futures import ProcessPoolExecutor
from functools import partial

from mplessons import calibrate
from mplessons.lessons_threads import hash_stream

chunk = os.urandom(1 << 20)  # 1 MiB of random bytes: far above hashlib's 2047
jobs = {
    "sha256 (C, lets go of the GIL)": (hash_stream, [(chunk, calibrate(partial(hash_stream, chunk), 0.1))] * 4),
    "cubic_sum (pure Python)": (cubic_sum, [(calibrate(cubic_sum, 0.1),)] * 4),
}  # four tasks of about 0.1 s each


def timed(fn, args, executor=None):
    \"\"\"Seconds to run fn(*a) for every a in args, here or on the executor.\"\"\"
    t0 = time.perf_counter()
    if executor is None:
        [fn(*a) for a in args]
    else:
        list(executor.map(fn, *zip(*args, strict=True)))
    return time.perf_counter() - t0


seconds = {name: {"serial": timed(fn, args)} for name, (fn, args) in jobs.items()}
with ThreadPoolExecutor(max_workers=2) as threads, ProcessPoolExecutor(max_workers=2, mp_context=ctx) as processes:
    list(processes.map(abs, [-1, -2]))  # start both worker processes before the clock runs
    for name, (fn, args) in jobs.items():
        seconds[name]["2 threads"] = timed(fn, args, threads)
        seconds[name]["2 processes"] = timed(fn, args, processes)

for name, row in seconds.items():
    print(f"{name:31}", "   ".join(f"{how}: {s:.2f} s" for how, s in row.items()),
          f"  threads {row['serial'] / row['2 threads']:.1f}×, processes {row['serial'] / row['2 processes']:.1f}×")
print("usable cores here:", mplessons.usable_cores())
""", tags=IGNORE),
    code("""
fig, ax = plt.subplots(figsize=(7, 2.6))
for i, how in enumerate(["serial", "2 threads", "2 processes"]):
    ax.barh([k + 0.27 * i for k in range(len(seconds))], [row[how] for row in seconds.values()], height=0.27,
            label=how, color=["grey", "tab:orange", "tab:blue"][i])
ax.set_yticks([k + 0.27 for k in range(len(seconds))], list(seconds))
ax.invert_yaxis()
ax.set_xlabel("seconds for four tasks (shorter is better)")
ax.legend(loc="lower right")
plt.show()
""", tags=IGNORE),
    md("""
What to expect on a machine with **two free cores**: for SHA-256 both pools take a little more than half the
serial time, the threads slightly less than the processes (which must receive the chunk); for
`cubic_sum` the processes halve the time and the threads do not, because Python bytecode needs the GIL. On one
core, or while other programs keep the cores busy, nothing gets much faster: there is no free core to use. The
numbers printed above are this run's, on this machine.

The `chunk` size matters: below 2048 bytes hashlib keeps the GIL, and the Python around each small call needs it
too. Hand C code big pieces of work.

## 6 · Free-threaded Python: no GIL at all

Since 3.13 CPython also comes in a **free-threaded** build (`python3.13t`, `python3.14t`) in which the GIL is
switched off. Where you are:
"""),
    code("""
import sysconfig

free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))  # how this Python was built
gil_on = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True  # what it does now (3.13+)
print("free-threaded build:", free_threaded)
print("GIL enabled now:    ", gil_on)
"""),
    md("""
`sysconfig.get_config_var("Py_GIL_DISABLED")` tells how the interpreter was built; `sys._is_gil_enabled()` (3.13+)
whether the GIL is on right now, since a free-threaded build can turn it back on
([HOWTO: identifying free-threaded Python](https://docs.python.org/3/howto/free-threading-python.html#identifying-free-threaded-python)).
What changes in a free-threaded build:

* Threads run Python code on several cores at once: the `cubic_sum` threads of section 5 would scale like the
  processes, without their start-up and pickling.
* The races of sections 1 and 2 show up more often (any instruction is a switch point). Use locks.
* Single-threaded code runs slower. In 3.13 the build was experimental and its documentation warned of "a
  substantial single-threaded performance hit"
  ([3.13 HOWTO](https://docs.python.org/3.13/howto/free-threading-python.html)). In 3.14 it is officially
  supported ([PEP 779](https://docs.python.org/3/whatsnew/3.14.html#whatsnew314-free-threaded-now-supported)) and
  the penalty is "roughly 5-10%, depending on the platform and C compiler used"
  ([What's new in 3.14](https://docs.python.org/3/whatsnew/3.14.html#whatsnew314-free-threaded-cpython)).
* An extension module that has not declared that it runs safely without the GIL turns the GIL back **on** when
  imported, and Python says so: `RuntimeWarning: The global interpreter lock (GIL) has been enabled to load
  module '...', which has not declared that it can run safely without the GIL. To override this behavior and
  keep the GIL disabled (at your own risk), run with PYTHON_GIL=0 or -Xgil=0.` Check `sys._is_gil_enabled()`
  after your imports.
* The environment variable `PYTHON_GIL=0` (or `-X gil=0`) keeps the GIL off anyway, at your own risk;
  `PYTHON_GIL=1` forces it on ([command line docs](https://docs.python.org/3/using/cmdline.html#envvar-PYTHON_GIL)).

The course runs in this kernel's Python. If a free-threaded interpreter is installed too, the next cell runs
the CPU-bound thread demo (the same `cubic_sum` tasks on 1, 2 and 4 threads, and a bare `+=` race) **in it**, as
a separate program, and plots what it measured. It looks for `$MPLESSONS_FREE_THREADED_PYTHON`, then
`python3.14t` and `python3.13t` on `PATH`. What it finds depends on the machine, so its output is not compared
when the notebooks are tested; the stored output is that of a machine without one.
"""),
    code("""
from mplessons import free_threading

python_t = free_threading.find_interpreter()
if python_t is None:
    print("No free-threaded Python found on this machine (looked for $MPLESSONS_FREE_THREADED_PYTHON, "
          "python3.14t and python3.13t on PATH): nothing to measure here.")
    print(free_threading.HOW_TO_GET_ONE)
else:
    print(f"Running the thread demo in {python_t.path} (found as {python_t.found_by}) ...")
    scaling = free_threading.run_thread_scaling(python_t.path, threads=[1, 2, 4], tasks=4)
    print(scaling.summary())
    free_threading.plot_thread_scaling(scaling)
    plt.show()
""", tags=IGNORE),
    md("""
Free threading is still **optional** in 3.14: the default download keeps the GIL, and many packages with C
extensions do not yet ship free-threaded wheels. `python -m mplessons info` tells you what your Python offers.

## 7 · Subinterpreters (Python 3.14): one GIL per interpreter

Python 3.14 added `concurrent.interpreters` (PEP 734) and `concurrent.futures.InterpreterPoolExecutor`. An
**interpreter** is a second, isolated Python inside the same process: its own modules, its own `__main__`, and,
since 3.12, **its own GIL** ([What's new in 3.14](https://docs.python.org/3/whatsnew/3.14.html#whatsnew314-multiple-interpreters)).
So a pool of interpreters runs pure-Python code on several cores, like processes, while starting and talking
like threads, inside one process. The limits, from the
[concurrent.futures docs](https://docs.python.org/3/library/concurrent.futures.html#interpreterpoolexecutor) and
[concurrent.interpreters docs](https://docs.python.org/3/library/concurrent.interpreters.html):

* Arguments and results are **copied with pickle**; functions must be **importable** (one defined in a
  notebook cell, in `__main__`, cannot be used), just as for processes under spawn.
* Mutable objects are **not shared**. Only a few types really share data (`memoryview`, the interpreters'
  own `Queue`); immutable built-ins (`str`, `bytes`, `int`, tuples of them) are shared or copied cheaply.
* Each interpreter imports its own copy of every module, and many third-party extension modules cannot be
  loaded in a subinterpreter yet (all standard library ones can).

This cell runs only where `concurrent.interpreters` exists (Python 3.14+); elsewhere it says so. Its output
depends on the Python version, so it is not compared when the notebooks are tested.
"""),
    code("""
try:
    from concurrent import interpreters
    from concurrent.futures import InterpreterPoolExecutor
except ImportError:  # before Python 3.14
    interpreters = None

if interpreters is None:
    print("This Python has no concurrent.interpreters (new in Python 3.14): skipped.")
else:
    try:
        other = interpreters.create()  # an idle interpreter in this process
        print("cubic_sum(10) computed in interpreter", other.id, "->", other.call(cubic_sum, 10))
        other.close()
        n = calibrate(cubic_sum, 0.1)
        for label, pool_type in [("2 threads", ThreadPoolExecutor), ("2 interpreters", InterpreterPoolExecutor)]:
            t0 = time.perf_counter()
            with pool_type(max_workers=2) as pool:  # cubic_sum is importable: mplessons.workloads
                assert list(pool.map(cubic_sum, [n] * 4)) == [cubic_sum(n)] * 4
            print(f"4 pure-Python tasks on {label}: {time.perf_counter() - t0:.2f} s")
    except Exception as exc:  # a Python whose interpreters cannot import mplessons, say: report, don't stop
        print(f"interpreters failed here: {type(exc).__name__}: {exc}")
""", tags=IGNORE),
    md("""
## 8 · asyncio meets threads and processes

An `asyncio` program runs many tasks in **one thread**: while one task `await`s, the event loop runs the others.
A task that calls blocking code (`time.sleep`, a library without `async`, a long computation) stops all of them.
Two ways out, both ending in an `await`:

* `await asyncio.to_thread(f, *args)` runs a blocking `f` in a worker thread (the loop's default
  `ThreadPoolExecutor`);
* `await loop.run_in_executor(pool, f, *args)` runs it on an executor of your choice, such as a
  `ProcessPoolExecutor` for CPU-bound Python (the function must be importable, and the pool gets
  `mp_context=ctx` like any other).

A Jupyter kernel already runs an event loop, so in a notebook you `await` at the top level of a cell. (In a
script you would call `asyncio.run(main())`; in a notebook that fails with "asyncio.run() cannot be called from a
running event loop".) A heartbeat task that ticks every 20 ms shows whether the loop stayed free:
"""),
    code("""
import asyncio

from mplessons.workloads import sleep_then_return


async def heartbeat(beats, stop):
    while not stop.is_set():
        await asyncio.sleep(0.02)
        beats.append(time.perf_counter())


async def while_beating(label, work):
    \"\"\"Await work() while a heartbeat runs; say whether the heartbeat ticked in the meantime.\"\"\"
    beats, stop = [], asyncio.Event()
    ticker = asyncio.create_task(heartbeat(beats, stop))
    await asyncio.sleep(0)  # let the heartbeat start
    t0 = time.perf_counter()
    result = await work()
    t1 = time.perf_counter()
    stop.set()
    await ticker
    free = any(t0 < beat < t1 for beat in beats)
    print(f"{label:28}: {t1 - t0:.2f} s, the event loop stayed free: {'yes' if free else 'no'}")
    return result
"""),
    code("""
async def blocking():
    return sleep_then_return(0.3, "page")  # ✗ time.sleep in a coroutine: the whole loop waits


async def in_a_thread():
    return await asyncio.to_thread(sleep_then_return, 0.3, "page")  # ✓ a worker thread waits


page = await while_beating("time.sleep in the coroutine", blocking)
page = await while_beating("asyncio.to_thread", in_a_thread)
"""),
    code("""
n = calibrate(cubic_sum, 0.2)


async def in_processes():
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        return await asyncio.gather(*(loop.run_in_executor(pool, cubic_sum, n) for _ in range(2)))


sums = await while_beating("2 cubic_sums in processes", in_processes)
print(sums[0] == sums[1])
"""),
    md("""
## 9 · Which one do I pick?

| your work | pick | mind |
|---|---|---|
| Python that computes, GIL build | processes: `ProcessPoolExecutor`, `Pool` | start-up, pickling, importable code |
| waiting: network, files, databases | threads: `ThreadPoolExecutor` | a lock around shared state |
| C that releases the GIL (`hashlib`, `zlib`, NumPy) | threads | big pieces of work per call |
| Python that computes, free-threaded 3.14t | threads | extensions must keep the GIL off; races show |
| Python that computes, 3.14, one process | `InterpreterPoolExecutor` | pickled arguments, importable functions |
| blocking calls in `async` code | `asyncio.to_thread`, `run_in_executor` | a process pool for CPU-bound Python |
| more work than one machine can do | dask.distributed (lesson 06) | milliseconds per task |

Processes are also what isolates a crash (a worker that dies takes only itself down), and the one way to run
Python code on several cores that works on every Python version and build. Threads are the cheapest to start and
to talk to, and, because they share everything, the place where a forgotten lock is easiest to miss.

## Key points

* Threads share every object. A read-modify-write (`x = x + 1`, `counter.value += 1`, read then write) is
  several steps; another thread can run between them and its update is lost. Hold one `threading.Lock` from
  the read to the write.
* The GIL protects the interpreter, not your data: a thread can be switched out between bytecodes, at the
  interpreter's check points and whenever it waits. That a bare `+=` rarely loses updates under the GIL is an
  accident of the implementation; on a free-threaded build it can lose them at any instruction.
* Hand work between threads with `queue.Queue` rather than sharing variables.
* `ThreadPoolExecutor` has the API of `ProcessPoolExecutor`; it starts `min(32, cores + 4)` threads by default
  (`os.process_cpu_count()` from 3.13). Pass the function and its arguments: `submit(f, x)`, not `submit(f(x))`.
* Threads compute in parallel when C code releases the GIL (`hashlib` above 2047 bytes, `zlib`, NumPy), or on a
  free-threaded build (`sysconfig.get_config_var("Py_GIL_DISABLED")`, `sys._is_gil_enabled()`).
* Python 3.14's `InterpreterPoolExecutor` gives each worker its own GIL inside one process; its functions must be
  importable and its arguments are pickled.
* From `asyncio`, run blocking calls with `asyncio.to_thread` and CPU-bound ones with `run_in_executor` on a
  process pool.
"""),
]

write("notebooks/07_threads_and_the_gil.ipynb", cells)
