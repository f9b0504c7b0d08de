"""Build notebooks/01_process_and_queue.ipynb (run from the repository root)."""
import sys

sys.path.insert(0, "tools")
from nbbuild import code, exercise, md, write  # noqa: E402

cells = [
    md("""
# 01 · Process and Queue: start workers, get results back

**You will learn** to

* start child processes with `Process` and get their results back through a `Queue`;
* write `args=(Q,)` with its comma, and the `if __name__ == "__main__":` guard that scripts need;
* **drain the queue before you join**, and why the other order can wait forever;
* read a child's `exitcode`, and what you (do not) see when a child raises or dies.

**Time:** about 20 minutes. **Run it:** *Run → Run All Cells* finishes in a few seconds; nothing in it can hang.
"""),
    md("""
## 1 · The seed's program: two processes and a queue

A `Process` runs one function in a new process. That function cannot *return* a value to us (it returns
inside another process), so it puts its result on a `Queue`, and we `get()` it here.

The seed let both processes compute the same `job` (the sum of `i + i**2 + i**3` for `i < 10_000_000`), which
doubles the work without finishing sooner. Here each process computes **half** of that range and we add the
halves: the same number the seed printed, in about half the time of one process doing it all. The worker
function lives in a module (`mplessons.lessons_queue`) so that child processes can import it under every start
method (see lesson 00); read it with `partial_cubic_sum_to_queue??`.
"""),
    code("""
import mplessons
from mplessons.lessons_queue import partial_cubic_sum_to_queue

ctx = mplessons.context()  # multiprocessing's API, under the start method this course runs with
N = 10_000_000

Q = ctx.Queue()
process1 = ctx.Process(target=partial_cubic_sum_to_queue, args=(Q, 0, N // 2))
process2 = ctx.Process(target=partial_cubic_sum_to_queue, args=(Q, N // 2, N))
process1.start()  # both run from here on, at the same time
process2.start()

res1 = Q.get()  # wait for a result: first drain the queue ...
res2 = Q.get()
process1.join()  # ... then wait for the processes to end (section 4 shows why in this order)
process2.join()
print(res1 + res2)
"""),
    md("""
`2499999833333358333330000000`, as in the seed. Two things to notice:

* `Q.get()` returns results in the order the processes **finish**, not the order they were started. For a
  sum that does not matter; the first exercise is about when it does.
* `start()` returns at once; `join()` waits until the process has ended.

## 2 · `args=(Q,)`: the comma makes the tuple

`args` must be a tuple of arguments. With one argument, the seed warns, the comma is required: `(Q)` is just
`Q` in parentheses, `(Q,)` is a tuple holding `Q`. Without the comma, `Process` tries to turn the queue itself
into the argument tuple:
"""),
    code("""
print("(Q)  is a", type((Q)).__name__)
print("(Q,) is a", type((Q,)).__name__)

try:
    ctx.Process(target=print, args=(Q))  # break it: no comma
except TypeError as err:
    print("TypeError:", err)
"""),
    md("""
The fix is `args=(Q,)`. (Had `Q` been a string, there would be no error at all: each *character* would
become one argument.)
"""),
    *exercise(
        """
### Exercise 1 · One process per input, results in input order

Write `results_in_order(ctx, sizes)`: start **one process per size**, each running `labelled_cubic_sum(q, i, n)`,
which puts the pair `(i, cubic_sum(n))` on the queue `q`; get one result per process, then join the processes,
and return the values so that `results[i] == cubic_sum(sizes[i])`. Make the queue and the processes with the
`ctx` your function is given: the check calls it with a context of its own, which records when each process is
started and joined and each result is read. Remember: results arrive in the order the processes finish, and the
biggest size finishes last.
""",
        """
from mplessons.lessons_queue import labelled_cubic_sum

SIZES = [200_000, 100_000, 50_000, 25_000]

# your code here: start the processes, get() one result per process, then join them
results_in_order = ...  # replace ... with your function (a def with the same name)
""",
        """
def results_in_order(ctx, sizes):
    q = ctx.Queue()
    processes = [ctx.Process(target=labelled_cubic_sum, args=(q, i, n)) for i, n in enumerate(sizes)]
    for p in processes:
        p.start()
    pairs = [q.get(timeout=30) for _ in processes]  # (label, value), in the order the processes finished
    for p in processes:
        p.join()
    return [value for _, value in sorted(pairs)]  # the labels put each value back in its place
""",
        """
from mplessons.checks import lesson01

lesson01.check_results_in_order(results_in_order, SIZES)
""",
    ),
    md("""
## 3 · Scripts need `if __name__ == "__main__":`

The seed wrote its program to a file and ran it with `python code1.py`, the usual way outside a notebook. You
can do the same from a notebook: `%%writefile` saves a cell as a file, and `!` runs a shell command
(`{sys.executable}` is the Python running this notebook). We do it in a temporary folder so nothing is left
behind.

The script prints one line at the top level, outside any function, so we can see *who* runs the top level:
"""),
    code("""
import os
import sys
import tempfile

here = os.getcwd()
scratch = tempfile.TemporaryDirectory()
os.chdir(scratch.name)  # write the script into a temporary folder
"""),
    code('''
%%writefile code1.py
import multiprocessing

print(f"top level of code1.py runs as {__name__!r}\\n", end="", flush=True)  # one write: lines cannot mix


def job(Q, start, stop):
    res = 0
    for i in range(start, stop):
        res += i + i**2 + i**3
    Q.put(res)


if __name__ == "__main__":  # only the program you started runs this block
    multiprocessing.set_start_method("spawn")  # the default on macOS and Windows
    N = 1_000_000
    Q = multiprocessing.Queue()
    process1 = multiprocessing.Process(target=job, args=(Q, 0, N // 2))
    process2 = multiprocessing.Process(target=job, args=(Q, N // 2, N))
    process1.start()
    process2.start()
    total = Q.get() + Q.get()  # drain first ...
    process1.join()  # ... then join
    process2.join()
    print("total:", total)
'''),
    code("""
!{sys.executable} code1.py
"""),
    md("""
The top level ran **three** times: once as `'__main__'` (the program we started) and once in each child as
`'__mp_main__'`. The script asks for `spawn`, and a spawn child is a fresh Python that **imports** the script to
find `job`; importing runs every top-level statement. The other start methods differ. A `fork` child is a copy
of the parent and imports nothing. A `forkserver` child is forked from a server process that multiprocessing
starts once: from Python 3.13.8 and 3.14.1 that server imports the script once and its children inherit it (the
top level runs twice in all), before those releases each child imports the script itself
([gh-126631](https://github.com/python/cpython/issues/126631), in the
[changelog](https://docs.python.org/3/whatsnew/changelog.html)). Threads need no guard: nothing is imported again.

**Break it:** remove the guard, as a student tidying up might, and what was under it runs in each child as well.
Its first line, `multiprocessing.set_start_method("spawn")`, fails there: a spawn child has already set its start
method while starting up, so each child dies with `RuntimeError: context has already been set`, before it puts
anything on the queue, and the parent waits in `Q.get()` forever. Here is `code1.py` without its guard, run with
a time limit, and the last line of each child's traceback:
"""),
    code('''
%%writefile unguarded.py
import multiprocessing

print(f"top level of unguarded.py runs as {__name__!r}\\n", end="", flush=True)  # one write: lines cannot mix


def job(Q, start, stop):
    res = 0
    for i in range(start, stop):
        res += i + i**2 + i**3
    Q.put(res)


multiprocessing.set_start_method("spawn")  # no guard: this and everything below runs in every child too
N = 1_000_000
Q = multiprocessing.Queue()
process1 = multiprocessing.Process(target=job, args=(Q, 0, N // 2))
process2 = multiprocessing.Process(target=job, args=(Q, N // 2, N))
process1.start()
process2.start()
total = Q.get() + Q.get()
process1.join()
process2.join()
print("total:", total)
'''),
    code("""
import subprocess

env = {**os.environ, "PYTHONUNBUFFERED": ""}  # buffered output: each line of a traceback is written whole
try:
    subprocess.run([sys.executable, "unguarded.py"], capture_output=True, timeout=3, env=env)  # it would never end
except subprocess.TimeoutExpired as hung:
    print(hung.stdout.decode(), end="")
    for line in hung.stderr.decode().splitlines():
        if line.startswith("RuntimeError"):  # the last line of a child's traceback
            print("a child died with", line)
    print("the parent was still waiting in Q.get() when the time limit stopped it")
"""),
    code("""
os.chdir(here)
scratch.cleanup()  # the scripts are gone again
"""),
    md("""
A script that does not call `set_start_method` gets one step further: its children reach `process1.start()`
themselves, and multiprocessing stops them with *RuntimeError: An attempt has been made to start a new process
before the current process has finished its bootstrapping phase*. Either way the children die and the parent
waits. With the guard, the children skip the block, and only the program you started makes processes.

In a notebook you need no guard in your cells: children never import the notebook. They import the worker
functions from modules, which is why the lessons keep them in `mplessons` (or in a `%%worker_module` cell).

## 4 · Drain before join (break it, then fix it)

The seed joins **before** it reads the queue:

```python
process1.join()
process2.join()
res1 = Q.get()
```

That worked because its result, one integer, is small. `Q.put()` hands the object to a background thread in
the child (the *feeder* thread), which writes it into a pipe. A pipe holds only a little: 64 KiB on Linux
([pipe(7)](https://man7.org/linux/man-pages/man7/pipe.7.html), "Pipe capacity"), other amounts on other systems,
always far less than 10 MB; the rest waits until someone reads. And a process that has put something on a queue
**does not exit until all of it has been written** (*Joining processes that use queues* in the
[programming guidelines](https://docs.python.org/3/library/multiprocessing.html#multiprocessing-programming)). So
with a big result, the child waits for us to read and we wait (in `join()`) for the child to exit: a deadlock.

Here is that mistake with a 10 MB result, made safe with `join(timeout=...)` so the cell cannot hang. Making
10 MB of zeros takes the child a few milliseconds:
"""),
    code("""
from mplessons.lessons_queue import big_result_to_queue

N_BYTES = 10_000_000
q = ctx.Queue()
p = ctx.Process(target=big_result_to_queue, args=(q, N_BYTES))
p.start()
p.join(timeout=1)  # the seed's order: join first (a bare join() here would wait forever)
print("after join(timeout=1): alive =", p.is_alive(), "| exitcode =", p.exitcode)
"""),
    md("""
Still alive, exit code `None`: the child is stuck writing into the full pipe. To clean up, do what should
have come first: read the result, and the child can finish.
"""),
    code("""
data = q.get(timeout=10)  # drain ...
p.join(timeout=10)  # ... then the join returns at once
print(f"received {len(data):,} bytes | alive = {p.is_alive()} | exitcode = {p.exitcode}")
"""),
    *exercise(
        """
### Exercise 2 · Drain, then join

Write `drain_then_join(q, p)`. `p` is a process that has not been started yet; once started, it puts `N_BYTES`
bytes on the queue `q` (it runs `big_result_to_queue(q, N_BYTES)`). Start it, read its data and wait for it to
end, in the order in which nothing waits on anything else, and return the data. Use `timeout=` on `get()` and
`join()`, so that a mistake cannot hang the notebook. The check makes `q` and `p` itself and records the order
of your calls.
""",
        """
# your code here: start p, drain the queue, then join p
drain_then_join = ...  # replace ... with your function (a def with the same name)
""",
        """
def drain_then_join(q, p):
    p.start()
    data = q.get(timeout=30)  # drain first ...
    p.join(timeout=30)  # ... then join
    return data
""",
        """
lesson01.check_drained_then_joined(drain_then_join, N_BYTES)
""",
    ),
    md("""
With several processes, drain **all** their results before joining **any** of them (as in section 1): each
child can only finish once its own result has been read.

## 5 · Exit codes: how a child ended

After `join()`, `p.exitcode` says how the process ended:

| exitcode | meaning |
|---|---|
| `None` | still running (or never started) |
| `0` | the function returned normally |
| `1` | the function raised an exception (or called `sys.exit(1)`) |
| negative, `-N` | killed by signal `N` (POSIX): `-15` SIGTERM (`terminate()`), `-9` SIGKILL (`kill()`, OOM killer) |

On Windows processes are not stopped with signals: there `kill()` is the same as `terminate()`, both call
`TerminateProcess()` ([`Process.kill`](https://docs.python.org/3/library/multiprocessing.html#multiprocessing.Process.kill):
"Same as terminate() but using the SIGKILL signal on POSIX"), and multiprocessing reports both as `-15`
([`popen_spawn_win32.py`](https://github.com/python/cpython/blob/3.13/Lib/multiprocessing/popen_spawn_win32.py)).

Four children, four endings: one returns, one divides by zero, two are stopped from outside:
"""),
    code("""
import signal

from mplessons.lessons_queue import ratio_to_queue, sleep_forever, with_stderr_silenced

q = ctx.Queue()
children = {
    "returned normally": ctx.Process(target=ratio_to_queue, args=(q, 1, 4)),
    "raised ZeroDivisionError": ctx.Process(target=with_stderr_silenced, args=(ratio_to_queue, q, 1, 0)),
    "stopped by terminate()": ctx.Process(target=sleep_forever),
    "stopped by kill()": ctx.Process(target=sleep_forever),
}
for child in children.values():
    child.start()
print("the queue got:", q.get(timeout=30), "(only one result: the child that raised put nothing)")
children["stopped by terminate()"].terminate()
children["stopped by kill()"].kill()
for child in children.values():
    child.join(timeout=30)

for what, child in children.items():
    code = child.exitcode
    signal_name = f" ({signal.Signals(-code).name})" if code is not None and code < 0 else ""
    print(f"{what:<26} exitcode {code}{signal_name}")
"""),
    md("""
**An exception in a child stays in the child.** The parent never receives the `ZeroDivisionError`; all it can
see is `exitcode 1`. multiprocessing prints the child's traceback on the *child's* standard error, which ends
up in the terminal that runs Jupyter, in that terminal *and* this cell (ipykernel 6 or newer on Linux and macOS
forwards what child processes write), or nowhere, depending on the platform and the Jupyter version (the lesson
silences it with `with_stderr_silenced` so that this page looks the same everywhere; start
`ratio_to_queue` with `args=(q, 1, 0)` directly to see yours). And because the child put nothing on the queue,
a `q.get()` without a timeout would wait forever.

The same goes for `print()` inside a child: depending on platform and start method it shows in the cell, late,
interleaved with other output, or only in the server's terminal. So the lessons never ask children to print:
they **return values** (through a queue here, from a pool later), and the notebook prints them.

## 6 · When workers die or hang: fail fast instead of waiting

`Pool` and `ProcessPoolExecutor` send a task's exception back to the parent for you (lesson 03). A worker
that *dies*, though (killed by the out-of-memory killer, a segfault in a C extension, `os._exit`), can leave a
`Pool.map` waiting forever. `mplessons.run_tasks`, which the later lessons use for timings, turns both a dead
worker and a task that takes too long into an error, and stops its workers:
"""),
    code("""
from mplessons.lessons_queue import die_on

try:
    mplessons.run_tasks(die_on, range(6), workers=2)  # the task for input 3 kills its own worker
except mplessons.WorkerCrashedError as err:
    print("WorkerCrashedError:", err)
    print("task index:", err.task_index, "| exitcode:", err.exitcode)
print("worker processes left:", len(ctx.active_children()))
"""),
    code("""
from mplessons.workloads import sleep_then_return

try:
    mplessons.run_tasks(sleep_then_return, [0.1, 60, 0.1, 0.1], workers=2, timeout=1)  # one task would take 60 s
except mplessons.TaskTimeoutError as err:
    print("TaskTimeoutError after timeout=1 s | task 1 unfinished:", 1 in err.unfinished)
print("worker processes left:", len(ctx.active_children()))
"""),
    md("""
With your own `Process` objects, the same safety comes from `join(timeout=...)`, `is_alive()`, and
`terminate()` or `kill()` for a child that must go. Keep those two for the end of a child's life, and do not
reuse what it was using: a child stopped while it was writing to a queue or a pipe, or while it held a lock,
can leave the queue or pipe corrupted and the lock never released, so other processes that use them fail or
wait forever (the warning under
[`Process.terminate`](https://docs.python.org/3/library/multiprocessing.html#multiprocessing.Process.terminate),
and *Avoid terminating processes* in the
[programming guidelines](https://docs.python.org/3/library/multiprocessing.html#multiprocessing-programming)).
`run_tasks` starts a new pool, with new queues, for every run, so workers it had to stop cannot spoil the
next run.

## Key points

* A `Process` returns nothing: send results back through a `Queue`, and label them if their order matters,
  because they arrive in the order the processes finish.
* `args` is a tuple: one argument needs a comma, `args=(Q,)`.
* Scripts need `if __name__ == "__main__":` under `spawn` and `forkserver`, because the script's top level runs
  again in another process (in every spawn child; under forkserver in every child, or once in the server from
  Python 3.13.8/3.14.1). Unguarded, `code1.py`'s children die with `RuntimeError: context has already been set`
  and the parent waits forever. Notebook cells need no guard, as long as worker functions come from modules.
* **Drain before join**: a child cannot exit while its result sits unread in the pipe. Use `timeout=` on
  `get()` and `join()` when you are not sure.
* `exitcode`: `0` fine, `1` an exception (its traceback is not sent to you), `-N` killed by signal `N` (POSIX;
  on Windows `terminate()` and `kill()` are the same and give `-15`).
* `terminate()` and `kill()` are a last resort: they can leave the queues, pipes and locks a child was using broken.
* Return values from children; do not rely on their `print()`.

**Next:** [02 · Processes vs threads](02_processes_vs_threads.ipynb).
"""),
]

write("notebooks/01_process_and_queue.ipynb", cells)
