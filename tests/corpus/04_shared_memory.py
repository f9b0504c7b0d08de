"""Wrong and right answers for lesson 04's exercises (see tests/exercise_corpus.py)."""

from exercise_corpus import Answer, Exercise

# --- exercise 2: fill_grid(rows, cols) -------------------------------------------------------------------

VIEW_AND_PROCESSES = """
def fill_grid(rows, cols):
    flat = ctx.Array("d", rows * cols)
    grid = np.frombuffer(flat.get_obj(), dtype=np.float64).reshape(rows, cols)
    workers = [ctx.Process(target=fill_row, args=(flat, (rows, cols), row)) for row in range(rows)]
    for p in workers:
        p.start()
{joins}
    return grid
"""
JOIN_ALL = """    for p in workers:
        p.join()"""

# --- exercise 3: shared_row_sums(data) -------------------------------------------------------------------

SUMS = """
def shared_row_sums(data):
    shm = shared_memory.SharedMemory(create=True, size=data.nbytes)
    try:
        view = np.ndarray(data.shape, dtype=data.dtype, buffer=shm.buf)
{copy_in}
        tasks = [(shm.name, data.shape, {dtype}, row) for row in range(len(data))]
        with ctx.Pool(2) as pool:
            sums = {pool_call}
    finally:
{cleanup}
    return sums
"""
COPY_IN = "        view[:] = data"
STARMAP = "pool.starmap(row_sum, tasks)"
DROP_CLOSE_UNLINK = """        view = None
        shm.close()
        shm.unlink()"""


def sums(copy_in=COPY_IN, dtype="data.dtype.str", pool_call=STARMAP, cleanup=DROP_CLOSE_UNLINK) -> str:
    return SUMS.format(copy_in=copy_in, dtype=dtype, pool_call=pool_call, cleanup=cleanup)


EXERCISES = {
    1: Exercise(
        wrong=[
            Answer("typecode 'f', a 32-bit float", 'price = ctx.Value("f", 0.313)', says=("32-bit", "'d'")),
            Answer("the ctypes name of a 32-bit float", "price = ctx.Value(ctypes.c_float, 0.313)",
                   says=("32-bit",)),
            Answer("a plain float", "price = 0.313", says=("plain Python float",)),
            Answer("the Value's .value kept instead of the Value", 'price = ctx.Value("d", 0.313).value',
                   says=("plain Python float", "not its .value")),
            Answer("an Array of one number", 'price = ctx.Array("d", [0.313])', says=("Array",)),
            Answer("a Manager's Value", 'manager = ctx.Manager()\nprice = manager.Value("d", 0.313)',
                   says=("Manager", "shut that manager down")),
            Answer("no initial value", 'price = ctx.Value("d")', says=("expected 0.313",)),
            Answer("a plain ctypes double, in this process's memory", "price = ctypes.c_double(0.313)",
                   says=("plain ctypes c_double", "this process's own memory")),
        ],
        right=[
            Answer("the hidden solution", 'price = ctx.Value("d", 0.313)'),
            Answer("the ctypes name of a double", "price = ctx.Value(ctypes.c_double, 0.313)"),
            Answer("a Value without a lock", 'price = ctx.RawValue("d", 0.313)'),
        ],
    ),
    2: Exercise(
        wrong=[
            Answer("the parent fills every row itself", """
def fill_grid(rows, cols):
    flat = ctx.Array("d", rows * cols)
    grid = np.frombuffer(flat.get_obj(), dtype=np.float64).reshape(rows, cols)
    for row in range(rows):
        fill_row(flat, (rows, cols), row)
    return grid
""", says=("no child process ran fill_row", "this kernel itself")),
            Answer("one thread fills all rows", """
def fill_grid(rows, cols):
    flat = ctx.Array("d", rows * cols)
    grid = np.frombuffer(flat.get_obj(), dtype=np.float64).reshape(rows, cols)
    thread = threading.Thread(target=lambda: [fill_row(flat, (rows, cols), row) for row in range(rows)])
    thread.start()
    thread.join()
    return grid
""", says=("thread", "inside this kernel's own process")),
            Answer("processes never joined", VIEW_AND_PROCESSES.format(joins=""), says=("never joined",)),
            Answer("the numpy view passed instead of the Array", VIEW_AND_PROCESSES.format(joins=JOIN_ALL).replace(
                "args=(flat,", "args=(grid,"), says=("exitcode 1", "shared Array itself")),
            Answer("a copy returned", VIEW_AND_PROCESSES.format(joins=JOIN_ALL).replace(
                "    return grid", "    return grid.copy()"), says=("copy",)),
            Answer("typecode 'f'", VIEW_AND_PROCESSES.format(joins=JOIN_ALL).replace('"d"', '"f"').replace(
                "np.float64", "np.float32"), says=("float32", "'d'")),
            Answer("a grid of 3 x 4 whatever the arguments", """
def fill_grid(rows, cols):
    flat = ctx.Array("d", 12)
    grid = np.frombuffer(flat.get_obj(), dtype=np.float64).reshape(3, 4)
    workers = [ctx.Process(target=fill_row, args=(flat, (3, 4), row)) for row in range(3)]
    for p in workers:
        p.start()
    for p in workers:
        p.join()
    return grid
""", says=("expected (2, 5)", "from the arguments")),
            Answer("each row's process started and joined in turn", """
def fill_grid(rows, cols):
    flat = ctx.Array("d", rows * cols)
    grid = np.frombuffer(flat.get_obj(), dtype=np.float64).reshape(rows, cols)
    for row in range(rows):
        p = ctx.Process(target=fill_row, args=(flat, (rows, cols), row))
        p.start()
        p.join()
    return grid
""", says=("started only after the one for row 0 had been joined", "start every process first")),
            Answer("a plain ctypes array instead of a shared one", """
def fill_grid(rows, cols):
    flat = (ctypes.c_double * (rows * cols))()
    grid = np.frombuffer(flat, dtype=np.float64).reshape(rows, cols)
    workers = [ctx.Process(target=fill_row, args=(flat, (rows, cols), row)) for row in range(rows)]
    for p in workers:
        p.start()
    for p in workers:
        p.join()
    return grid
""", says=("plain ctypes array",), start_methods=("spawn", "forkserver")),
            Answer("no return", VIEW_AND_PROCESSES.format(joins=JOIN_ALL).replace("    return grid", ""),
                   says=("returned None",)),
            Answer("the Array sent through a Pool's tasks", """
def fill_grid(rows, cols):
    flat = ctx.Array("d", rows * cols)
    with ctx.Pool(2) as pool:
        pool.starmap(fill_row, [(flat, (rows, cols), row) for row in range(rows)])
    return np.frombuffer(flat.get_obj(), dtype=np.float64).reshape(rows, cols)
""", says=("through inheritance", "Process(args=...)")),
        ],
        right=[
            Answer("the hidden solution", VIEW_AND_PROCESSES.format(joins=JOIN_ALL)),
            Answer("as_array after the joins, processes by row", """
def fill_grid(rows, cols):
    flat = ctx.Array("d", rows * cols)
    by_row = {row: ctx.Process(target=fill_row, args=(flat, (rows, cols), row)) for row in range(rows)}
    for process in by_row.values():
        process.start()
    for process in by_row.values():
        process.join()
    return np.ctypeslib.as_array(flat.get_obj()).reshape(rows, cols)
"""),
            Answer("a RawArray, without a lock", """
def fill_grid(rows, cols):
    flat = ctx.RawArray("d", rows * cols)
    workers = [ctx.Process(target=fill_row, args=(flat, (rows, cols), row)) for row in range(rows)]
    for p in workers:
        p.start()
    for p in workers:
        p.join()
    return np.frombuffer(flat, dtype=np.float64).reshape(rows, cols)
"""),
        ],
    ),
    3: Exercise(
        wrong=[
            Answer("the kernel-crash recipe at the top level: close() with the view alive", """
shm = shared_memory.SharedMemory(create=True, size=data.nbytes)
view = np.ndarray(data.shape, dtype=data.dtype, buffer=shm.buf)
view[:] = data
with ctx.Pool(2) as pool:
    row_sums = pool.starmap(row_sum, [(shm.name, data.shape, data.dtype.str, r) for r in range(len(data))])
shm.close()
shm.unlink()
""", says=("`view` was a numpy view", "crash the kernel", "removed `view`")),
            Answer("rows pickled through pool.map(np.sum, list(data))", """
def shared_row_sums(data):
    with ctx.Pool(2) as pool:
        return pool.map(np.sum, list(data))
""", says=("pickled to the workers", "SharedMemory")),
            Answer("a segment, but the rows of its view sent to the pool", sums(pool_call="pool.map(np.sum, view)"),
                   says=("you made a segment", "pickles a copy")),
            Answer("close() while the view is alive", sums(cleanup="        shm.close()\n        shm.unlink()"),
                   says=("still used the segment", "`view = None`")),
            Answer("the view read after close(): the crash inside the function", sums(
                cleanup="        shm.close()\n        shm.unlink()").replace(
                "    return sums", "    assert np.allclose(view.sum(axis=1), sums)\n    return sums"),
                   says=("`view`", "kept the memory mapped")),
            Answer("close() without unlink()", sums(cleanup="        view = None\n        shm.close()"),
                   says=("still existed", "unlinked it for you")),
            Answer("the data never copied in", sums(copy_in="        pass"), says=("still empty",)),
            Answer("imap_unordered", """
import functools


def shared_row_sums(data):
    shm = shared_memory.SharedMemory(create=True, size=data.nbytes)
    try:
        view = np.ndarray(data.shape, dtype=data.dtype, buffer=shm.buf)
        view[:] = data
        one_row = functools.partial(row_sum, shm.name, data.shape, data.dtype.str)
        with ctx.Pool(2) as pool:
            return list(pool.imap_unordered(one_row, range(len(data))))
    finally:
        view = None
        shm.close()
        shm.unlink()
""", says=("imap_unordered",)),
            Answer("sums computed in the kernel from the view", sums(pool_call="view.sum(axis=1).tolist()"),
                   says=("no pool ran",)),
            Answer("the dtype hard-coded", sums(dtype='"<f8"'), says=("int32", "data.dtype.str")),
            Answer("unlinked before the workers ran", sums().replace(
                "    try:\n", "    shm.unlink()\n    try:\n").replace("        shm.unlink()\n", ""),
                   says=("FileNotFoundError", "unlinked before the workers ran")),
            Answer("a worker defined in the notebook", """
def my_row_sum(name, shape, dtype, row):
    shm = shared_memory.SharedMemory(name=name)
    try:
        return float(np.ndarray(shape, dtype=dtype, buffer=shm.buf)[row].sum())
    finally:
        shm.close()
""" + sums(pool_call="pool.starmap(my_row_sum, tasks)"), says=("InteractiveFunctionError", "my_row_sum")),
            Answer("a ThreadPool", "from multiprocessing.pool import ThreadPool\n" + sums().replace(
                "ctx.Pool(2)", "ThreadPool(2)"), says=("ThreadPool", "threads of this kernel")),
            Answer("no try/finally: the clean-up runs only when nothing fails", """
def shared_row_sums(data):
    shm = shared_memory.SharedMemory(create=True, size=data.nbytes)
    view = np.ndarray(data.shape, dtype=data.dtype, buffer=shm.buf)
    view[:] = data
    tasks = [(shm.name, data.shape, data.dtype.str, row) for row in range(len(data))]
    with ctx.Pool(2) as pool:
        sums = pool.starmap(row_sum, tasks)
    view = None
    shm.close()
    shm.unlink()
    return sums
""", says=("when a task failed", "the segment was not closed or unlinked", "finally block")),
            Answer("a broad except that swallows the failure, clean-up only on success", """
def shared_row_sums(data):
    shm = shared_memory.SharedMemory(create=True, size=data.nbytes)
    try:
        view = np.ndarray(data.shape, dtype=data.dtype, buffer=shm.buf)
        view[:] = data
        with ctx.Pool(2) as pool:
            sums = pool.starmap(row_sum, [(shm.name, data.shape, data.dtype.str, r) for r in range(len(data))])
        view = None
        shm.close()
        shm.unlink()
        return sums
    except Exception:
        return []
""", says=("when a task failed", "your function returned []", "finally block")),
            Answer("pool.apply, one row after another", sums(
                pool_call="[pool.apply(row_sum, task) for task in tasks]"), says=("pool.apply waits", "starmap")),
            Answer("the pool run for show, the sums computed here", sums(
                pool_call="pool.starmap(row_sum, tasks) and data.sum(axis=1).tolist()"),
                   says=("not the ones the pool's workers sent back", "computed here")),
            Answer("no return", sums().replace("    return sums", ""), says=("returned None",)),
        ],
        right=[
            Answer("the hidden solution", """
def shared_row_sums(data):
    shm = shared_memory.SharedMemory(create=True, size=data.nbytes)
    try:
        view = np.ndarray(data.shape, dtype=data.dtype, buffer=shm.buf)
        view[:] = data
        tasks = [(shm.name, data.shape, data.dtype.str, row) for row in range(len(data))]
        with ctx.Pool(2) as pool:
            return pool.starmap(row_sum, tasks)
    finally:
        view = None
        shm.close()
        shm.unlink()
"""),
            Answer("the view deleted, then map over a partial", """
import functools


def shared_row_sums(data):
    shm = shared_memory.SharedMemory(create=True, size=data.nbytes)
    try:
        view = np.ndarray(data.shape, dtype=data.dtype, buffer=shm.buf)
        view[:] = data
        del view
        with ctx.Pool(2) as pool:
            return pool.map(functools.partial(row_sum, shm.name, data.shape, data.dtype.str), range(len(data)))
    finally:
        shm.close()
        shm.unlink()
"""),
            Answer("a ProcessPoolExecutor", """
from concurrent.futures import ProcessPoolExecutor


def shared_row_sums(data):
    shm = shared_memory.SharedMemory(create=True, size=data.nbytes)
    try:
        np.ndarray(data.shape, dtype=data.dtype, buffer=shm.buf)[:] = data
        rows = range(len(data))
        with ProcessPoolExecutor(2, mp_context=ctx) as pool:
            return list(pool.map(row_sum, [shm.name] * len(rows), [data.shape] * len(rows),
                                 [data.dtype.str] * len(rows), rows))
    finally:
        shm.close()
        shm.unlink()
"""),
        ],
    ),
}
