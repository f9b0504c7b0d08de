"""Build notebooks/06_beyond_one_machine.ipynb (run from the repository root)."""
import sys

sys.path.insert(0, "tools")
from nbbuild import code, exercise, md, write  # noqa: E402

IGNORE = ("nbval-ignore-output",)

cells = [
    md("""
# 06 · Beyond one machine: the same workers on dask.distributed

**You will learn** to

* run the same worker function on a `multiprocessing.Pool`, a `ProcessPoolExecutor` and a **dask cluster**;
* use dask's **futures**: `submit`, `map`, `gather`, and `client.get_executor()`, a `concurrent.futures`
  executor, so what you know from lesson 03 carries over unchanged;
* say how **workers, threads and processes** map onto a cluster, and find the **dashboard**;
* measure when a cluster helps and when its **overhead eats the gain** (tiny tasks against big ones);
* point the same notebook at a **real cluster** with `MPLESSONS_DASK_SCHEDULER`.

**Time:** about 30 minutes. **Run it:** *Run → Run All Cells* takes about 15 seconds (starting the cluster's
processes is most of it).

One machine runs out of cores. The honest next step is not a home-made network of processes but an existing
distributed engine. [dask.distributed](https://distributed.dask.org) is one: a **scheduler** hands tasks to
**workers**, which may live on this machine or on a hundred others. Its `Client` speaks the language of
`concurrent.futures`, so the mental model of the earlier lessons holds. dask is an optional part of this course:
`pip install "mplessons[dask]"` installs it.
"""),
    md("""
## 1 · The same worker on Pool and ProcessPoolExecutor

The worker is the seed's `job`, `mplessons.workloads.cubic_sum(n)`: it lives in a module, so worker processes
can import it under every start method (lesson 00). Four short tasks:
"""),
    code("""
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

import mplessons
from mplessons.workloads import cubic_sum, square

ctx = mplessons.context()
sizes = [200_000, 210_000, 220_000, 230_000]

with ctx.Pool(2) as pool:
    pool_results = pool.map(cubic_sum, sizes)

with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as executor:
    executor_results = list(executor.map(cubic_sum, sizes))

print(pool_results)
print("the same results:", pool_results == executor_results)
"""),
    md("""
## 2 · A cluster on this machine

A dask cluster has three kinds of parts:

| part | what it is | on one machine (`LocalCluster`) | on a real cluster |
|---|---|---|---|
| **scheduler** | knows every task and worker; decides who runs what | a thread of this kernel | `dask scheduler` |
| **worker** | a long-lived process that runs tasks, keeps results | `n_workers` processes | `dask worker tcp://…` |
| **thread** | each worker runs up to `threads_per_worker` tasks at once, in threads | here 1 | often one per core |
| **client** | your handle: sends tasks, fetches results | `Client(cluster)` in this notebook | the same |

Threads inside one worker share the GIL (lesson 02; on a standard, not free-threaded, Python), so for
pure-Python tasks like `cubic_sum` we ask for **one single-threaded worker process per core**: the same shape as
`Pool(usable_cores())`. Code that releases the GIL (numpy, I/O) is often better served by fewer processes with
several threads each.

If the environment variable `MPLESSONS_DASK_SCHEDULER` holds a scheduler's address, the next cell connects there
instead of starting a local cluster (section 7).
"""),
    code("""
import logging
import os

from dask.distributed import Client, LocalCluster

address = os.environ.get("MPLESSONS_DASK_SCHEDULER")  # e.g. tcp://10.0.0.5:8786 for a real cluster
if address:
    cluster = None
    client = Client(address, timeout=10)
else:
    cluster = LocalCluster(
        n_workers=mplessons.usable_cores(),  # one worker process per usable core ...
        threads_per_worker=1,  # ... each running one task at a time, like a Pool's worker
        processes=True,  # separate processes, so the workers do not share one GIL
        host="127.0.0.1",  # reachable from this machine only
        dashboard_address="127.0.0.1:0",  # the dashboard on a free port
        silence_logs=logging.CRITICAL,  # keep the workers' log lines (e.g. while closing) out of the notebook
    )
    client = Client(cluster)
print("connected to", "the scheduler in $MPLESSONS_DASK_SCHEDULER" if address else "a LocalCluster on this machine")
"""),
    md("""
Each worker is a process of its own. `client.run(f)` runs `f` once on every worker (for inspection, not for
work), here to ask each one for its process id and thread count:
"""),
    code("""
pids = client.run(os.getpid)
for worker, info in client.scheduler_info()["workers"].items():
    print(f"worker {info['name']}: pid {pids[worker]}, {info['nthreads']} thread(s), at {worker}")
print("this kernel: pid", os.getpid())
""", tags=IGNORE),
    md("""
## 3 · Futures: `submit`, `map`, `gather`

`client.submit(f, x)` returns at once with a **future**, a ticket for a result that is being computed
somewhere. `future.result()` waits for it and fetches it. `client.map(f, xs)` submits one task per input;
`client.gather(futures)` fetches all results, **in the order of the futures**.
"""),
    code("""
future = client.submit(cubic_sum, 200_000)
print(future.status, "→", future.result(), "→", future.status)

futures = client.map(cubic_sum, sizes)
dask_results = client.gather(futures)
print("the same results as the Pool:", dask_results == pool_results)
"""),
    md("""
The executor that `client.get_executor()` returns is a `concurrent.futures.Executor`: code written for
`ProcessPoolExecutor` runs on the cluster unchanged, `with` block and all (leaving the block waits for its tasks;
the cluster stays up).
"""),
    code("""
with client.get_executor() as cluster_executor:
    executor_on_cluster = list(cluster_executor.map(cubic_sum, sizes))
print("the same results again:", executor_on_cluster == pool_results)
"""),
    md("""
**A function defined in this notebook works on dask**, even though a `spawn` Pool cannot import it (lesson 00).
dask pickles a task's function with plain `pickle` first, which writes only its module and name; when the
result names `__main__` (a notebook cell, or a script's own functions), or plain `pickle` fails, it uses
`cloudpickle` instead, which sends the function *by value*, its code included. That is what reaches a worker on
another machine. Modules a function *imports* must still be installed on every worker.
"""),
    code("""
def sum_of_squares(batch):
    return sum(x * x for x in batch)


print(client.submit(sum_of_squares, [1, 2, 3]).result())
"""),
    md("""
Every other function travels **by reference**, module and name, and the worker imports it: `cubic_sum` from
`mplessons.workloads`, and also a function from a `%%worker_module` cell, which is a module file in the
notebook's folder. Here the workers run on this machine and find both; on a real cluster each of those modules
must exist on every worker (section 7). `cloudpickle`, the library dask uses for `__main__`, shows the
difference: only a by-value pickle holds the function's code.
"""),
    code("""
import cloudpickle

for fn in (cubic_sum, sum_of_squares):
    payload = cloudpickle.dumps(fn)
    how = "by value: its code travels" if fn.__code__.co_code in payload else "by reference: the worker imports it"
    name = f"{fn.__module__}.{fn.__qualname__}"
    print(f"{name:<30} {how}")
"""),
    md("""
## 4 · The dashboard

The scheduler serves a live **dashboard**: which worker runs which task (the *task stream*), CPU and memory
per worker, progress bars. Open the link below in a new browser tab and re-run section 5 to watch the tasks
arrive. It listens on `127.0.0.1` only, so it is private to this machine. The dashboard's plots are drawn by
the `bokeh` package, which `pip install "mplessons[dask]"` brings along; without it the page says so.
"""),
    code("""
import importlib.util

print("dashboard:", client.dashboard_link)
print("bokeh installed:", importlib.util.find_spec("bokeh") is not None)
""", tags=IGNORE),
    md("""
## 5 · When does a cluster help?

Each dask task travels: pickled by the client, sent to the scheduler, assigned, sent to a worker, run, and its
result sent back. That costs **milliseconds per task** on one machine and more across a network, far more than
a `Pool`'s pipe. A tiny task cannot win that back:
"""),
    code("""
tiny = list(range(100))

start = time.perf_counter()
here = [square(x) for x in tiny]
t_here = time.perf_counter() - start

start = time.perf_counter()
on_cluster = client.gather(client.map(square, tiny, pure=False))
t_cluster = time.perf_counter() - start

assert on_cluster == here
print(f"100 tiny tasks in this kernel : {t_here * 1000:.3f} ms")
print(f"100 tiny tasks on the cluster : {t_cluster:.2f} s, about {t_cluster / len(tiny) * 1000:.1f} ms per task")
print(f"the cluster is {t_cluster / t_here:.0f}× slower")
"""),
    md("""
`pure=False` tells dask to really run the tasks again: by default it treats a function as *pure* and reuses
the result of an identical call it still holds, which would make a timing meaningless.

Big tasks are another story: below, four tasks of a few tenths of a second each (`big`), serially here and then
on the cluster.
"""),
    md("""
## 6 · Break it, then fix it: waiting inside the loop

A common first attempt asks for each result right after submitting its task. It looks parallel, but each
`result()` waits before the next task is even sent, so only one worker is ever busy:
"""),
    code("""
big = [800_000] * 4

start = time.perf_counter()
serial = [cubic_sum(n) for n in big]
t_serial = time.perf_counter() - start

start = time.perf_counter()
one_at_a_time = [client.submit(cubic_sum, n, pure=False).result() for n in big]  # broken: waits each time
t_broken = time.perf_counter() - start

print(f"serial in this kernel       : {t_serial:.2f} s")
print(f"cluster, one task at a time : {t_broken:.2f} s  ({t_serial / t_broken:.1f}× the serial speed)")
"""),
    md("""
The fix: submit **everything** first, then gather. The tasks now run side by side on all workers.
"""),
    code("""
start = time.perf_counter()
futures = [client.submit(cubic_sum, n, pure=False) for n in big]  # fixed: all tasks are sent at once
all_at_once = client.gather(futures)
t_fixed = time.perf_counter() - start

assert all_at_once == one_at_a_time == serial
print(f"cluster, all submitted first: {t_fixed:.2f} s  ({t_serial / t_fixed:.1f}× the serial speed)")
"""),
    md("""
With tasks of a few tenths of a second, the overhead of a few milliseconds is lost in the noise and the workers run
side by side: with two free cores the fixed version takes about half the serial time. If it does not here, look
at what else is running: a cluster can only use cores that nothing else is busy with (on a shared, busy machine
both cluster runs may even be slower than serial).
The rule of thumb: **a task should run for much longer than its overhead**, here at least some tens of
milliseconds. Tiny tasks can be **batched**: one task per batch of inputs, as `chunksize` does for a Pool
(lesson 03), pays the overhead once per batch. Exercise 2 asks you to do that.

The course's timing harness runs on dask too: `mplessons.run_tasks(..., backend="dask")` uses a local cluster
of its own, or the scheduler you name, and records which worker ran each task.
"""),
    code("""
run = mplessons.run_tasks(cubic_sum, sizes, backend="dask", scheduler=client.scheduler.address)
print("results as before:", run.results == pool_results)
print(f"{len(run.tasks)} tasks on {len({t.worker for t in run.tasks})} worker process(es), {run.seconds:.2f} s")
"""),
    md("""
## 7 · The same notebook on a real cluster

On the machines of a cluster (or several terminals of this one):

```bash
dask scheduler                          # prints its address, e.g. tcp://10.0.0.5:8786
dask worker tcp://10.0.0.5:8786         # on every machine that should work; --nworkers, --nthreads to shape it
```

then start Jupyter with the address in the environment and run this notebook again:

```bash
MPLESSONS_DASK_SCHEDULER=tcp://10.0.0.5:8786 jupyter lab
```

Section 2 then connects to that scheduler instead of starting a `LocalCluster`, and `mplessons.run_tasks(...,
backend="dask")` uses it too. What changes on a real cluster:

* **Software**: every worker needs the same Python version (a function sent by value carries bytecode, which
  only the same version can run: see [cloudpickle](https://github.com/cloudpipe/cloudpickle)) and the same
  packages (here `mplessons`). Functions defined in the notebook travel by value, but the modules they import
  do not, and a function from any other module travels by reference: that module, a `%%worker_module` file
  included, must be importable on every worker. Install it there, or send one file with
  `client.upload_file("my_jobs.py")`, which copies it to the scheduler and every worker and puts it on their
  `sys.path` ([`Client.upload_file`](https://distributed.dask.org/en/stable/api.html#distributed.Client.upload_file)).
* **Data**: arguments and results cross the network; send work, not gigabytes (or let workers load their data).
* **Security**: a scheduler accepts any client that reaches its port; keep it on a private network.

**And start methods?** `MPLESSONS_START_METHOD` still sets how this lesson's `Pool` and `ProcessPoolExecutor`
start their workers. dask starts its worker processes itself, with its own setting (below, `spawn` unless you
changed it), whatever `MPLESSONS_START_METHOD` says. It makes no difference to your tasks: a dask worker is a
long-lived server that receives each function over a socket, as a worker on another machine would, so the same
cells behave the same under fork, spawn and forkserver.
"""),
    code("""
import dask

print("this lesson's Pool uses  :", ctx.get_start_method())
print("dask starts its workers by:", dask.config.get("distributed.worker.multiprocessing-method"))
""", tags=IGNORE),
    *exercise(
        """
## Exercise 1 · `map` and `gather`

Write `cluster_cubic_sums(client, sizes)`: compute `cubic_sum(n)` for every `n` in `sizes` **on the cluster**,
with `client.map` and `client.gather`, and return the list of results, in input order. Try it with
`print(cluster_cubic_sums(client, [50_000, 10_000, 30_000, 20_000]))`. The check calls it with sizes of its own
and asks the scheduler which tasks ran, and when they were sent.
""",
        """
def cluster_cubic_sums(client, sizes):
    ...  # your code here: return the results, in the order of sizes
""",
        """
def cluster_cubic_sums(client, sizes):
    futures = client.map(cubic_sum, sizes)
    return client.gather(futures)


print(cluster_cubic_sums(client, [50_000, 10_000, 30_000, 20_000]))
""",
        """
from mplessons.checks import lesson06

lesson06.check_gathered(cluster_cubic_sums, client)
""",
    ),
    *exercise(
        """
## Exercise 2 · Batch the tiny tasks

Summing the squares of 20 000 numbers as 20 000 tasks would cost seconds of overhead. Split `numbers` into a
few **batches** (slices of the list; at least one per worker, at most a hundred), submit one task per batch
with `client.map(sum_of_squares, batches)`, and store the **futures** (not their results) in `batch_futures`.
The check gathers them and adds them up.
""",
        """
numbers = list(range(20_000))

batch_futures = ...  # your code here
""",
        """
numbers = list(range(20_000))

batch_size = 5_000
batches = [numbers[i:i + batch_size] for i in range(0, len(numbers), batch_size)]
batch_futures = client.map(sum_of_squares, batches)
""",
        """
lesson06.check_batches(batch_futures, numbers)
""",
    ),
    md("""
## 8 · Close the cluster

A cluster is a set of processes; like a Pool, it must be closed when you are done, or its workers outlive the
lesson. `with LocalCluster(...) as cluster, Client(cluster) as client:` does it for you in a script; in a
notebook, where the cluster spans many cells, close it explicitly. `mplessons.dask_backend.close()` closes the
connection (or the local cluster) that `run_tasks(backend="dask")` opened.
"""),
    code("""
from mplessons import dask_backend

dask_backend.close()  # the connection that run_tasks(backend="dask") opened
client.close()
if cluster is not None:
    cluster.close()
print("worker processes left:", multiprocessing.active_children())
"""),
    md("""
## Key points

* dask.distributed runs the **same worker functions** as a `Pool`; its `Client` offers futures (`submit`,
  `map`, `gather`) and a `concurrent.futures` executor (`client.get_executor()`).
* A cluster is a **scheduler**, **workers** (processes) and **threads** per worker; for pure-Python work use
  one single-threaded worker process per core.
* Every task costs **milliseconds** of overhead: tiny tasks get slower on a cluster, big ones (or batches of
  tiny ones) get faster. Submit everything first, then gather.
* dask sends notebook-defined functions (`__main__`) by value; every other function goes by reference, so
  its module (`%%worker_module` files too) and every package the functions import must exist on every worker
  (`client.upload_file` sends a single file).
* The same notebook reaches a real cluster through one environment variable, `MPLESSONS_DASK_SCHEDULER`.
* Close the cluster when you are done.

**Next:** [07 · Threads done right](07_threads_and_the_gil.ipynb): races and locks between threads, work that
releases the GIL, free-threaded Python, subinterpreters and asyncio.
"""),
]

write("notebooks/06_beyond_one_machine.ipynb", cells)
