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
`mplessons.usable_cores()` honours CPU affinity and cgroup quotas (it uses loky's `cpu_count`).
"""),
    code("""
import os

import mplessons

print(mplessons.info_text())
""", tags=("nbval-ignore-output",)),
    code("""
print("os.cpu_count()          :", os.cpu_count())
print("mplessons.usable_cores():", mplessons.usable_cores())
""", tags=("nbval-ignore-output",)),
    md("""
### Start methods

A child process can be started in three ways:

| method | how the child starts | where it is the default |
|---|---|---|
| `fork` | a copy of this process, memory and all | Linux up to Python 3.13 |
| `spawn` | a fresh Python that **imports** what it needs | macOS, Windows |
| `forkserver` | forked from a small, clean server process, then **imports** what it needs | Linux from Python 3.14 |

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
* Under **spawn** and **forkserver** each worker is a new Python process. It receives the *name* of the function
  (`__main__.job`) and must import it. A notebook's `__main__` has no file to import from, so every worker fails
  at start-up with `AttributeError: Can't get attribute 'job' on <module '__main__'>`, printed to the **server's
  terminal**, not to the notebook. The pool starts a replacement worker, which fails the same way, and the cell
  **waits forever**.

We will not run that here (a hang would stop *Run All*). `mplessons.check_worker` asks the same question
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

* `spawn` and `forkserver` workers **import** the function they run; a notebook cell is not importable, so a raw
  `Pool` waits forever. `fork` hides the problem until the notebook runs on macOS, Windows or Python 3.14.
* Put worker functions in a module (`mplessons.workloads` for the lessons), or make a cell one with
  `%%worker_module NAME`.
* `mplessons.check_worker(fn)` turns the hang into an immediate, explained error.
* Count **usable** cores, not `os.cpu_count()`, when you choose a number of workers.

**Next:** [01 · Process and Queue](01_process_and_queue.ipynb).
"""),
]

write("notebooks/00_start_here.ipynb", cells)
