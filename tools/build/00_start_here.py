"""Build notebooks/00_start_here.ipynb (run from the repository root)."""
import sys

sys.path.insert(0, "tools")
from nbbuild import code, md, write  # noqa: E402

cells = [
    md("""
# 00 · Start here: multiprocessing in a notebook

**You will learn** what your machine offers a parallel program, why a function defined in a notebook cell can make a
`multiprocessing.Pool` hang, and the two ways to fix it.

**Time:** about 10 minutes. **Run it:** *Run → Run All Cells* works from top to bottom in a few seconds.

Many tutorials say *"multiprocessing does not work in an interactive session; write a .py file and run it"*.
That is half true. This course runs every lesson inside Jupyter, and this notebook shows what the wall really is.
"""),
    md("""
## 1 · What does this machine offer?

`os.cpu_count()` counts every logical CPU of the machine. A container, a batch scheduler or `taskset` may let
your process use fewer, and starting more workers than **usable** cores only adds overhead.
`mplessons.usable_cores()` honours CPU affinity and cgroup quotas (it uses loky's `cpu_count`). Python 3.13 added
[`os.process_cpu_count()`](https://docs.python.org/3/library/os.html#os.process_cpu_count), which honours the
affinity but not a cgroup quota.
"""),
    code("""
import os

import mplessons

print(mplessons.info_text())
""", tags=("nbval-ignore-output",)),
    code("""
print("os.cpu_count()          :", os.cpu_count())
if hasattr(os, "process_cpu_count"):  # Python 3.13+
    print("os.process_cpu_count()  :", os.process_cpu_count())
print("mplessons.usable_cores():", mplessons.usable_cores())
""", tags=("nbval-ignore-output",)),
    md("""
### Start methods

A child process can be started in three ways:

| method | how the child starts | where it is the default |
|---|---|---|
| `fork` | a copy of this process, memory and all | Linux up to Python 3.13 |
| `spawn` | a fresh Python that **imports** what it needs | macOS, Windows |
| `forkserver` | forked from a small server process (started once), then **imports** what it needs | Linux from 3.14 |

macOS has used spawn since Python 3.8; for other systems and versions see
[Contexts and start methods](https://docs.python.org/3/library/multiprocessing.html#contexts-and-start-methods).

The lessons get their context from `mplessons.context()`, so the whole course can be run under each method
(set the environment variable `MPLESSONS_START_METHOD=spawn` before starting Jupyter to try it). Your code does
the same with `multiprocessing.get_context("spawn")`.
"""),
    code("""
import multiprocessing

ctx = mplessons.context()
print("this course uses      :", ctx.get_start_method())
print("available here        :", multiprocessing.get_all_start_methods())
""", tags=("nbval-ignore-output",)),
    md("""
## 2 · The wall: a function defined in a cell

A student writes the obvious thing:
"""),
    code("""
def job(x):
    return x * x
"""),
    md("""
and hands it to a pool: `with ctx.Pool(2) as pool: pool.map(job, range(10))`.

* Under **fork** this works: each worker is a copy of this kernel, `job` included.
* Under **spawn** and **forkserver** the workers never ran this notebook's cells: a spawn worker is a fresh
  Python, a forkserver worker is forked from a server process that was started without them. A pool sends a
  function to its workers by *name*, `__main__.job`, and each worker looks that name up in its own `__main__`,
  where there is no `job`. What follows, step by step:
  1. The workers start normally and wait for tasks.
  2. `map` cuts the inputs into chunks (10 inputs on 2 workers: 5 chunks of 2) and sends them out. A worker that
     receives a chunk cannot unpickle it and dies with `AttributeError: Can't get attribute 'job' on
     <module '__main__' ...>`; that chunk is lost. One dead worker per chunk.
  3. The pool starts a replacement for each worker that died. Once every chunk is lost, the replacements sit
     idle, and `map` **waits forever** for results that no worker will send.

  The dead workers' tracebacks go to the terminal that runs Jupyter. With ipykernel 6 or newer on Linux and
  macOS they show in the notebook too, because the kernel forwards what its child processes write
  ([ipykernel 6.0.0 changelog](https://github.com/ipython/ipykernel/blob/main/CHANGELOG.md#600)); elsewhere the
  cell just hangs in silence. Lesson 01 meets the same "it depends" for any child's output.
* `concurrent.futures.ProcessPoolExecutor` notices a worker that died: there the same `map` raises
  `BrokenProcessPool` (*A process in the process pool was terminated abruptly ...*) instead of hanging. It does
  not run `job` either.

We will not run the `Pool` here (a hang would stop *Run All*). `mplessons.check_worker` asks the same question
before any process starts, and answers at once:
"""),
    code("""
try:
    mplessons.check_worker(job, start_method="spawn")
except mplessons.InteractiveFunctionError as err:
    print(type(err).__name__ + ":", err)
"""),
    md("""
`mplessons.run_tasks`, which the later lessons use for timings, calls `check_worker` itself, so it refuses
instead of hanging. Under `fork` the guard lets the function through but warns you, because the same notebook
would hang on a classmate's Mac.
"""),
    md("""
## 3 · Fix 1: import the function from a module

Worker processes can import anything that lives in a module on `sys.path`. The lessons' worker functions live
in `mplessons.workloads`; open it to read them (`mplessons.workloads.square??`).
"""),
    code("""
from mplessons.workloads import square

mplessons.check_worker(square, start_method="spawn")  # no error: workers can import it

with ctx.Pool(2) as pool:
    print(pool.map(square, range(10)))
"""),
    md("""
In your own projects this is the normal way: put worker functions in a `.py` file next to the notebook and
`import` them.

## 4 · Fix 2: turn a cell into a module with `%%worker_module`

When you want to write the worker *in the notebook*, load the extension once and start the cell with
`%%worker_module NAME`. The cell is written as `NAME.py` next to the notebook (just as `%%writefile` would),
imported, and its functions are put into the notebook's namespace. Edit the cell and run it again: the new code is
picked up.
"""),
    code("""
%load_ext mplessons
"""),
    code("""
%%worker_module my_jobs
def slow_square(x):
    \"\"\"Square x, slowly enough that two workers share the work.\"\"\"
    import time

    time.sleep(0.05)
    return x * x
"""),
    code("""
for method in multiprocessing.get_all_start_methods():
    with multiprocessing.get_context(method).Pool(2) as pool:
        print(f"{method:>10}:", pool.map(slow_square, range(8)))
"""),
    md("""
The same function ran under every start method this machine has, including those that import it afresh.

A `%%worker_module` cell becomes a file of its own, so it sees only what it defines or imports itself, never the
notebook's other cells: import what it uses (`import random`) in the cell itself, and pass the notebook's variables
to its functions as arguments. If the cell uses a name it cannot see, the magic says so at once, with the fix. An
`if __name__ == "__main__":` block in such a cell never runs (the cell is imported, so `__name__` is the module's
name, `my_jobs`): put that code in the next cell, which runs in the notebook.

## Key points

* `spawn` and `forkserver` workers look up the function they run by module and name; a function from a notebook
  cell is not there, so each worker dies on the first chunk it gets, and a raw `Pool` then waits forever
  (`ProcessPoolExecutor` raises `BrokenProcessPool`). `fork` hides the problem until the notebook runs on macOS,
  Windows, or Linux with Python 3.14.
* Put worker functions in a module (`mplessons.workloads` for the lessons), or make a cell one with
  `%%worker_module NAME`.
* `mplessons.check_worker(fn)` turns the hang into an immediate, explained error.
* Count **usable** cores, not `os.cpu_count()`, when you choose a number of workers.

**Next:** [01 · Process and Queue](01_process_and_queue.ipynb).
"""),
]

write("notebooks/00_start_here.ipynb", cells)
