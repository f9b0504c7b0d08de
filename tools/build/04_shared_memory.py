"""Build notebooks/04_shared_memory.ipynb (run from the repository root)."""
import sys

sys.path.insert(0, "tools")
from nbbuild import code, exercise, md, write  # noqa: E402

cells = [
    md("""
# 04 · Shared memory: Value, Array, `shared_memory` and Manager

**You will learn** to

* explain why a child process cannot change the parent's variables, and what to use instead;
* choose the right **typecode** for `multiprocessing.Value` / `Array` (why `Value('f', 0.313)` shows
  `0.31299999356269836`);
* look at a flat shared `Array` as a **2-D numpy array**, written by children and read by the parent;
* share a numpy array through `multiprocessing.shared_memory` and **clean it up** in the right order (drop
  the views, `close`, `unlink`);
* use a `Manager` for shared dicts and lists, and know what each access costs;
* measure what sending a large array by pickling costs compared with sharing it.

**Time:** about 30 minutes. **Run it:** *Run → Run All Cells* finishes in a few seconds.

The seed lesson says: *threads can pass data through global variables, processes cannot, because the cores are
independent*. The first half is right; the reason is not the cores but **memory**: every process has its own
address space, whichever core it runs on. Data reaches another process only through an explicit channel: a
pipe or queue (a copy, pickled), or memory that both map on purpose (shared memory).
"""),
    md("""
## 1 · Break it: a global variable changed in a child

`mplessons.lessons_shared.add_to_total(amount)` adds to its module's global `TOTAL` and returns it. Workers live
in a module so that `spawn` and `forkserver` children can import them (lesson 00). Children **return** or store
results instead of printing: a child's `print` reaches the notebook or the Jupyter server's terminal depending
on the platform and start method.
"""),
    code("""
import threading

import mplessons
from mplessons import lessons_shared

ctx = mplessons.context()

lessons_shared.TOTAL = 0
child = ctx.Process(target=lessons_shared.add_to_total, args=(5,))
child.start()
child.join()
print("a child process added 5 -> parent sees TOTAL =", lessons_shared.TOTAL)

thread = threading.Thread(target=lessons_shared.add_to_total, args=(5,))
thread.start()
thread.join()
print("a thread added 5        -> parent sees TOTAL =", lessons_shared.TOTAL)
"""),
    md("""
The child changed **its own** `TOTAL` (under `fork` a copy of the parent's memory, under `spawn` and `forkserver`
a module imported afresh) and exited; the parent's stayed 0. The thread shares the parent's memory, so its change shows.

**Fix it:** put the number in memory that both processes map, a `multiprocessing.Value`, and hand it to the
child when it starts:
"""),
    code("""
from mplessons.lessons_shared import add_to_value

total = ctx.Value("i", 0)  # a C int in shared memory, with a lock
child = ctx.Process(target=add_to_value, args=(total, 5))
child.start()
child.join()
print("a child process added 5 -> parent sees total.value =", total.value)
"""),
    md("""
## 2 · `Value` and typecodes: why 0.313 became 0.31299999356269836

A `Value` is a C variable in shared memory. Its first argument, the **typecode**, says which C type (the letters
of the [`array`](https://docs.python.org/3/library/array.html) module, plus `'c'` for a C `char`; a `ctypes`
type works too). This is the seed's cell In76:
"""),
    code("""
value = ctx.Value("f", 0.313)  # (<typecode>, <value>)
value.value
"""),
    md("""
`'f'` is a C `float` (`ctypes.c_float`): **32 bits**, about 7 significant digits. 0.313 has no exact binary
form; the nearest 32-bit float is 0.31299999356..., and reading it back into a Python `float` (64 bits) shows
those digits. Nothing is shared or parallel about it: plain `ctypes` and numpy do the same.
"""),
    code("""
import ctypes

import numpy as np

print("ctypes.c_float(0.313).value :", ctypes.c_float(0.313).value)
print("float(np.float32(0.313))    :", float(np.float32(0.313)))
"""),
    md("""
A Python `float` is a C `double`, typecode `'d'` (`ctypes.c_double`), so `'d'` stores 0.313 exactly as Python
would:

| typecode | C type (ctypes) | holds |
|---|---|---|
| `'i'` | `int` (`c_int`) | 32-bit integers (on Linux, macOS and Windows alike) |
| `'l'` | `long` (`c_long`) | 64-bit integers on 64-bit Linux and macOS, but **32-bit on Windows** |
| `'q'` | `long long` (`c_longlong`) | 64-bit integers everywhere |
| `'f'` | `float` (`c_float`) | 32-bit floats: ~7 digits |
| `'d'` | `double` (`c_double`) | 64-bit floats: a Python `float` |
| `'b'`, `'c'` | `signed char`, `char` | one byte (a small number; a byte string of length 1) |

C leaves the sizes of `int` and `long` to the platform; the `array` module's table gives the minimum sizes and
`ctypes.sizeof(ctypes.c_long)` the one here. For integers that may pass 2³¹, `'q'` is the safe choice.
"""),
    code("""
exact = ctx.Value("d", 0.313)
same = ctx.Value(ctypes.c_double, 0.313)  # the same thing, named by its ctypes type
print(exact.value, same.value, exact.value == 0.313)
"""),
    md("""
`ctx.Value` comes with a lock (`value.get_lock()`) because `value.value += 1` is a read and a write, not one
step; lesson 05 shows what goes wrong without it. `ctx.Value("d", 0.313, lock=False)` gives a bare value.
"""),
    code("""
from mplessons.checks.lesson04 import check_grid, check_price, check_row_sums  # the exercises' self-checks
"""),
    *exercise(
        """
### Exercise 1 · A price that stays 0.313

Make `price` a shared `Value` (from `ctx`) that holds 0.313 **exactly**, so `price.value == 0.313`.
""",
        """
price = ...  # your code here
""",
        """
price = ctx.Value("d", 0.313)
""",
        """
check_price(price)
""",
    ),
    md("""
## 3 · `Array`: flat in memory, any shape in numpy

The seed's cell In77 makes an array of three C ints in shared memory:
"""),
    code("""
array = ctx.Array("i", [1, 2, 3])
print(array[:], len(array))
"""),
    md("""
The seed's comment says *arrays can only be one-dimensional*. The `Array` object is flat, yes, but memory has no
shape: shape is how we **look** at it. `np.frombuffer(array.get_obj(), dtype=...)` (or
`np.ctypeslib.as_array(array.get_obj())`, which reads the dtype from the ctypes type) makes a numpy array that
uses the shared memory itself, **no copy**; `reshape` gives it two dimensions. Writes through the view land in
the `Array`, and writes by children land in the view.
"""),
    code("""
from mplessons.lessons_shared import fill_row

flat = ctx.Array("d", 2 * 3)  # six C doubles, all 0.0
grid = np.frombuffer(flat.get_obj(), dtype=np.float64).reshape(2, 3)  # a 2-D view, no copy
print("same memory as np.ctypeslib.as_array:", np.shares_memory(grid, np.ctypeslib.as_array(flat.get_obj())))

grid[0, 2] = 99.0  # the parent writes through the view ...
print("flat Array after grid[0, 2] = 99:", flat[:])

child = ctx.Process(target=fill_row, args=(flat, (2, 3), 1))  # ... a child writes row 1 through its own view
child.start()
child.join()
print(grid)
"""),
    md("""
The child received the `Array` when it started (in `args=`), made its own 2-D view and wrote row 1; the parent's
view shows it. Pass a `Value` or `Array` **when the child starts**: handing one to a running pool worker (in
`pool.map` arguments) raises `RuntimeError: ... should only be shared between processes through inheritance`.
A pool's workers can receive one as they start, through `initializer` and `initargs`
([03b · The pool toolkit](03b_pool_toolkit.ipynb)).
"""),
    *exercise(
        """
### Exercise 2 · A grid, one process per row

Write `fill_grid(rows, cols)`: make a flat shared `Array` of typecode `'d'` with room for `rows × cols` numbers
and a 2-D numpy **view** of it (shape `(rows, cols)`), start **one process per row** running
`fill_row(flat, (rows, cols), row)`, join them all, and return the view. Try it with `print(fill_grid(3, 4))`.
The check calls it with shapes of its own and watches which processes write the rows.
""",
        """
def fill_grid(rows, cols):
    ...  # your code here: return the 2-D view once every row's process has finished
""",
        """
def fill_grid(rows, cols):
    flat = ctx.Array("d", rows * cols)
    grid = np.frombuffer(flat.get_obj(), dtype=np.float64).reshape(rows, cols)
    workers = [ctx.Process(target=fill_row, args=(flat, (rows, cols), row)) for row in range(rows)]
    for p in workers:
        p.start()
    for p in workers:
        p.join()
    return grid


print(fill_grid(3, 4))
""",
        """
check_grid(fill_grid)
""",
    ),
    md("""
## 4 · `multiprocessing.shared_memory`: a named block for numpy

`Value` and `Array` must be handed over when a child starts. A `shared_memory.SharedMemory` segment has a
**name**: any process can attach to it by name at any time, including pool workers that were started long
before. The recipe:

1. the **parent** creates the segment and wraps it in a numpy array: `np.ndarray(shape, dtype, buffer=shm.buf)`;
2. **children** attach by name, wrap it the same way, work, **drop their numpy views** and `close()` their
   mapping;
3. the **parent** drops its views, `close()`s and `unlink()`s the segment, in a `finally` block so that an error
   cannot leak it.

Dropping the views before `close()` is on you: `close()` unmaps the memory even while an `np.ndarray` view still
points into it, without an error, and the next read or write through that view **crashes the process** (a
segmentation fault; in a notebook, the kernel dies). Only the name, shape and dtype travel to a child; the data
does not. `lessons_shared.scale_rows` is step 2:
"""),
    code("""
from multiprocessing import shared_memory

from mplessons.lessons_shared import scale_rows, segment_exists

data = np.arange(12, dtype=np.float64).reshape(3, 4)
shm = shared_memory.SharedMemory(create=True, size=data.nbytes)
try:
    shared = np.ndarray(data.shape, dtype=data.dtype, buffer=shm.buf)  # a numpy array *in* the segment
    shared[:] = data  # one copy in
    jobs = [ctx.Process(target=scale_rows, args=(shm.name, data.shape, data.dtype.str, [row], 10.0))
            for row in (0, 2)]
    for p in jobs:
        p.start()
    for p in jobs:
        p.join()
    print(shared)
    result = shared.copy()  # keep what you need: the segment is about to go
    print("segment exists while in use:", segment_exists(shm.name))
finally:
    shared = None  # drop the numpy view first: close() would not stop us, and the view would then crash us
    shm.close()
    shm.unlink()
print("segment exists after unlink:", segment_exists(shm.name))
"""),
    md("""
Rows 0 and 2 were multiplied by 10 in two child processes, in place. On Linux a segment is a file in `/dev/shm`
(`segment_exists` looks there; elsewhere it tries to attach).

### Break it, safely: a view still alive at `close()`

What a forgotten view does depends on how it was made. A view made with `np.frombuffer(shm.buf, ...)` holds on
to the buffer, so `close()` refuses with `BufferError`: annoying, but safe.
"""),
    code('''
held = shared_memory.SharedMemory(create=True, size=8 * 1024)
try:
    buffer_view = np.frombuffer(held.buf, dtype=np.float64)  # this kind of view holds on to the buffer
    try:
        held.close()
    except BufferError as err:
        print("np.frombuffer view still alive -> close() raises BufferError:", err)
    del buffer_view  # the fix: drop the view, then close
finally:
    held.close()
    held.unlink()
'''),
    md("""
The recipe's `np.ndarray(shape, dtype, buffer=shm.buf)` does not hold on to it: `close()` succeeds without a
word, and the view now points at memory that is gone. Reading it crashes the process, so we let that happen in a
separate, short-lived Python:
"""),
    code('''
import signal
import subprocess
import sys
import textwrap

view_after_close = textwrap.dedent("""
    import numpy as np
    from multiprocessing import shared_memory

    shm = shared_memory.SharedMemory(create=True, size=8 * 1024)
    view = np.ndarray((1024,), dtype=np.float64, buffer=shm.buf)  # the recipe's view
    view[:] = 1.0
    shm.close()  # no error, although the view still points into the segment
    shm.unlink()
    print("close() and unlink() raised nothing; now we read the view", flush=True)
    print("view[0] =", view[0])
""")
run = subprocess.run([sys.executable, "-c", view_after_close], capture_output=True, text=True, timeout=60)
print(run.stdout, end="")
print(f"exit code {run.returncode}:",
      f"the process was killed by {signal.Signals(-run.returncode).name}" if run.returncode < 0 else "no crash")
'''),
    md("""
In a notebook that crash is the kernel dying, with every variable in it. So: drop (`del`, or set to `None`)
every numpy view of a segment before you `close()` it, in the parent and in the children.

### Break it: `close()` without `unlink()`

`close()` only unmaps the segment from *this* process. On Linux and macOS the segment lives on until someone
calls `unlink()` (or the resource tracker below removes it); on Linux it holds RAM in `/dev/shm` meanwhile, and
until the next reboot if nothing removes it. On Windows `unlink()` does nothing: the system frees a segment
when the last process that has it open closes it
([`SharedMemory.unlink`](https://docs.python.org/3/library/multiprocessing.shared_memory.html#multiprocessing.shared_memory.SharedMemory.unlink)).
Safely, with a small segment that we remove at once:
"""),
    code("""
leaky = shared_memory.SharedMemory(create=True, size=1_000_000)
leaky.close()  # the usual mistake: closed, but never unlinked
print("after close() only:", segment_exists(leaky.name), "(still there, 1 MB held)")

leaky.unlink()  # the fix: the creator unlinks, once, when nobody needs it any more
print("after unlink()    :", segment_exists(leaky.name))
try:
    shared_memory.SharedMemory(name=leaky.name)
except FileNotFoundError as err:
    print("attaching by name now fails:", type(err).__name__)
"""),
    md("""
**The resource tracker.** On Linux and macOS each family of processes started by `multiprocessing` has a
*resource tracker* process; a segment created with `SharedMemory(create=True)` is registered there, and if the
program ends without unlinking it, the tracker unlinks it and warns `resource_tracker: There appear to be 1
leaked shared_memory objects`. A safety net, not a plan: a kernel can run for days, and a kill that takes the
tracker with it skips it (Jupyter kills a kernel that does not stop in time together with its whole process
group).

Only the **creator** should register a segment. Python 3.13 adds `SharedMemory(name=..., track=False)` for
processes that attach. On Python 3.10–3.12 attaching always registers; a pool worker forked before the
parent's tracker was running then starts a tracker of its own, which calls the segment *leaked* and unlinks it
when the worker exits, while the parent still uses it. `lessons_shared.attach(name)`, used by all the workers
here, attaches without registering on every version (read it with `lessons_shared.attach??`).
"""),
    code("""
from mplessons.lessons_shared import row_sum

data = np.random.default_rng(4).random((4, 100_000))  # the array to share in exercise 3
"""),
    *exercise(
        """
### Exercise 3 · Row sums from shared memory

Write `shared_row_sums(data)`: put `data` into a new shared memory segment, let a `ctx.Pool(2)` compute one sum
per row with `row_sum(name, shape, dtype, row)` (`dtype` as a string: `data.dtype.str`), and return the sums in
row order. Clean up in a `finally` block: drop your numpy view of the segment, then `close()` and `unlink()`.
(A view made with `np.ndarray(..., buffer=shm.buf)` does not stop `close()`, and reading it afterwards
crashes the kernel.) Try it on `data`; the check calls it with arrays of its own and watches what the pool
receives.
""",
        """
def shared_row_sums(data):
    ...  # your code here: return one sum per row, in row order
""",
        """
def shared_row_sums(data):
    shm = shared_memory.SharedMemory(create=True, size=data.nbytes)
    try:
        view = np.ndarray(data.shape, dtype=data.dtype, buffer=shm.buf)
        view[:] = data
        tasks = [(shm.name, data.shape, data.dtype.str, row) for row in range(len(data))]
        with ctx.Pool(2) as pool:
            return pool.starmap(row_sum, tasks)
    finally:
        view = None  # drop the view before close(): afterwards it would point at unmapped memory
        shm.close()
        shm.unlink()


print(shared_row_sums(data))
""",
        """
check_row_sums(shared_row_sums)
""",
    ),
    md("""
## 5 · `Manager`: shared dicts and lists through a server process

`ctx.Manager()` starts a **server process** that holds ordinary Python objects; `manager.dict()` and
`manager.list()` return *proxies*. Every access through a proxy is a message to the server and back (pickled),
so any picklable value works and proxies can be passed to pool workers at any time, unlike a `Value`. The price
is speed:
"""),
    code("""
import time

from mplessons.lessons_shared import record_square

updates = 1000
with ctx.Manager() as manager, ctx.Pool(2) as pool:
    squares = manager.dict()
    pool.starmap(record_square, [(squares, x) for x in range(6)])  # workers write into the managed dict
    print("written by pool workers:", dict(sorted(squares.items())))

    try:
        pool.apply(add_to_value, (ctx.Value("i", 0), 1))
    except RuntimeError as err:
        print("a Value in pool arguments ->", type(err).__name__ + ":", err)

    counts = manager.dict(n=0)
    start = time.perf_counter()
    for _ in range(updates):
        counts["n"] += 1  # a get and a set: two round trips to the server
    t_manager = time.perf_counter() - start
    managed_n = counts["n"]

counter = ctx.Value("i", 0)
start = time.perf_counter()
for _ in range(updates):
    with counter.get_lock():
        counter.value += 1  # a lock and a store in shared memory
t_value = time.perf_counter() - start

print(f"Manager dict: n = {managed_n} after {updates} updates, {t_manager / updates * 1e6:.1f} µs per update")
print(f"Value       : n = {counter.value} after {updates} updates, {t_value / updates * 1e6:.1f} µs per update")
print(f"the Value is {t_manager / t_value:.0f}× faster per update")
"""),
    md("""
Use a `Manager` for modest amounts of structured data (results by key, a shared task list), and a `Value`,
`Array` or `shared_memory` for numbers that are updated often or are large. Note that `counts["n"] += 1` on a
managed dict is *not* atomic either: two processes can read the same old value (lesson 05).

## 6 · Measured: pickling a large array vs sharing it

A pool worker that receives a numpy array as an argument receives a **copy**: the parent pickles it, sends the
bytes through a pipe, and the worker unpickles them. With shared memory only the name travels. Here one worker
sums a 64 MB array each way (the pool is started first, so we time only the hand-over and the sum):
"""),
    code("""
from functools import partial

from mplessons.lessons_shared import sum_array, sum_shared

big = np.arange(8_000_000, dtype=np.float64)
print(f"array: {big.nbytes / 1e6:.0f} MB of {big.dtype}")


def median_seconds(call, repeat=3):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2], result


shm = shared_memory.SharedMemory(create=True, size=big.nbytes)
try:
    start = time.perf_counter()
    view = np.ndarray(big.shape, dtype=big.dtype, buffer=shm.buf)
    view[:] = big
    t_copy_in = time.perf_counter() - start
    with ctx.Pool(1) as pool:
        pool.apply(sum_array, (np.zeros(1),))  # start the worker before timing
        t_pickle, by_pickle = median_seconds(partial(pool.apply, sum_array, (big,)))
        t_shared, by_name = median_seconds(partial(pool.apply, sum_shared, (shm.name, big.shape, big.dtype.str)))
finally:
    view = None
    shm.close()
    shm.unlink()

print(f"pickled to the worker : {t_pickle:.3f} s per call (median of 3)")
print(f"shared, sent by name  : {t_shared:.3f} s per call (median of 3)")
print(f"copy into the segment : {t_copy_in:.3f} s, once")
print(f"sharing is {t_pickle / t_shared:.0f}× faster per call; both sums equal: {by_pickle == by_name}")
"""),
    md("""
Pickling costs time in both processes and memory too: for a moment the array exists as the original, as
pickled bytes and as the worker's copy. Shared memory costs one copy in (or none, if you build the data in the
segment from the start) and then nothing per task. For small arguments the difference does not matter; for
arrays of megabytes sent to many tasks it dominates.

## 7 · Tidy up

Shared objects live as long as a name refers to them. Under `spawn` and `forkserver` the lock of every `Value`
and `Array` is a *named* semaphore (on Linux a file in `/dev/shm`), removed when the object is garbage collected
or when Python exits normally. A kernel that is killed instead (it crashed, or did not stop in time when shut
down) runs no exit handlers: the resource tracker then removes them and prints `leaked semaphore objects` in the
server's terminal, unless the kill took the tracker too. Deleting the names when you are done frees them now
(a pool keeps the locks of its queues after it has stopped, so it goes too). `globals().pop(name, None)` is
`del name` that skips a name your exercise answers did not create; objects you made under other names, delete
yourself:
"""),
    code("""
import gc

for name in ["total", "value", "exact", "same", "price", "array", "flat", "grid", "counter", "pool", "manager"]:
    globals().pop(name, None)
gc.collect()
print("shared Values and Arrays freed")
"""),
    md("""
## Key points

* Processes do not share variables: a child changes **its own** copy. Share on purpose, or return results.
* `Value` / `Array` are C types in shared memory: pick the typecode that fits the data (`'d'` for Python floats;
  `'f'` is 32-bit and turns 0.313 into 0.31299999356269836). Hand them to children when they start.
* An `Array` is flat, but `np.frombuffer(arr.get_obj(), dtype=...).reshape(...)` views it in any shape,
  without copying.
* `shared_memory.SharedMemory` has a name: the parent creates, children attach by name and `close()`, the
  parent `close()`s and `unlink()`s in `finally` (on Windows the segment goes when its last handle closes).
* Drop every numpy view of a segment before `close()`: `close()` does not check an `np.ndarray(...,
  buffer=shm.buf)` view, and reading it afterwards crashes the process (only `np.frombuffer` views make
  `close()` raise `BufferError`).
* A `Manager` shares ordinary dicts and lists through a server process: flexible and slow per access.
* Sending a large array to a worker pickles a copy; sharing it sends only a name.

**Next:** [05 · Locks and races](05_locks_and_races.ipynb): when two processes update the same shared value.
"""),
]

write("notebooks/04_shared_memory.ipynb", cells)
