"""Worker functions for lesson 03b (the pool toolkit), importable by child processes under every start method.

Set-up that a pool's ``initializer`` does once per worker keeps its result in a module global of the worker
process: ``model`` (section 1), ``counter`` and ``lock`` (the lock handed over through ``initargs``). Each
object records which process created it, so a lesson can count set-ups per worker instead of trusting a
timing.
"""

from __future__ import annotations

import os
import time
from typing import Any, NamedTuple

LOAD_SECONDS = 0.1
"""How long ``Model`` takes to load: slow enough that loading it once per task shows."""


class Model:
    """Stands in for something slow to set up: weights read from disk, a parsed lookup table."""

    loads = 0  # how many models this process has loaded

    def __init__(self, name: str):
        time.sleep(LOAD_SECONDS)
        Model.loads += 1
        self.name = name
        self.loaded_in = os.getpid()
        self.number = Model.loads

    def predict(self, x: int) -> int:
        return 3 * x + 1


class Prediction(NamedTuple):
    """A task's answer, with the model that gave it: (process that loaded it, its number there)."""

    x: int
    y: int
    model: tuple[int, int]


model: Model | None = None  # set by load_model, in each worker


def load_model(name: str) -> None:
    """A pool ``initializer``: load the model once, when the worker starts, into this module's global."""
    global model
    model = Model(name)


def predict(x: int) -> Prediction:
    """A task that uses the worker's model (``load_model`` must have run in this worker)."""
    if model is None:
        raise RuntimeError("no model in this worker: start the pool with initializer=load_model, initargs=(name,)")
    return Prediction(x, model.predict(x), (model.loaded_in, model.number))


def predict_loading_each_time(x: int) -> Prediction:
    """✗ The same task with the set-up inside it: a new model for every task."""
    fresh = Model("tiny-model")
    return Prediction(x, fresh.predict(x), (fresh.loaded_in, fresh.number))


# --- a Lock and a Value, handed over through initargs ------------------------------------------------------

counter: Any = None
lock: Any = None


def share_counter(shared_counter: Any, shared_lock: Any) -> None:
    """A pool ``initializer``: keep the ``Value`` and the ``Lock`` the pool was started with."""
    global counter, lock
    counter, lock = shared_counter, shared_lock


def count_up(times: int) -> int:
    """Add 1 to the shared counter ``times`` times, under the shared lock; return ``times``."""
    for _ in range(times):
        with lock:
            counter.value += 1
    return times


def count_up_with(shared_counter: Any, shared_lock: Any, times: int) -> int:
    """✗ The same, with the counter and the lock as task arguments: a pool cannot send them."""
    for _ in range(times):
        with shared_lock:
            shared_counter.value += 1
    return times


# --- recycling workers -----------------------------------------------------------------------------------

_kept: list[bytes] = []


def leaky_task(x: int) -> tuple[int, int]:
    """A task that leaks: it keeps 1 MB alive in this worker every time it runs (as a cache that is never
    emptied would). Returns (this worker's pid, MB it now holds)."""
    _kept.append(bytes(1_000_000))
    return os.getpid(), len(_kept)


# --- stopping a process ----------------------------------------------------------------------------------


def work_until_interrupted(events: Any) -> None:
    """Say "working", then work until interrupted; on ``KeyboardInterrupt`` (SIGINT) clean up and exit 0.

    ``terminate()`` (SIGTERM) ends the process without running any of this: nothing is cleaned up.
    """
    try:
        events.put("working")
        while True:
            time.sleep(0.02)
    except KeyboardInterrupt:
        events.put("KeyboardInterrupt: saved the partial results, closed the files, exiting")


# --- the exercise: a connection per worker ---------------------------------------------------------------

CONNECT_SECONDS = 0.1
"""How long ``connect`` takes: opening a connection is slow, so do it once per worker, not once per task."""


class Row(NamedTuple):
    """One lookup: the key, its price, the connection that served it (process that opened it, its number
    there) and the process that ran the lookup."""

    key: int
    price: int
    connection: tuple[int, int]
    looked_up_in: int


def price_of(key: int) -> int:
    """What the price list says for ``key``."""
    return 100 + 7 * key


class Connection:
    """Stands in for a database connection: slow to open, and it holds an open file. Like a real connection
    or a socket it belongs to the process that opened it: it cannot be pickled and sent to another process.

    Every open and every lookup is written to the file at ``address`` (one line each), so a check can see
    afterwards which process opened what and which connection served each lookup.
    """

    opened = 0  # how many connections this process has opened

    def __init__(self, address: str):
        time.sleep(CONNECT_SECONDS)
        Connection.opened += 1
        self.opened_in = os.getpid()
        self.number = Connection.opened
        self._log = open(address, "a", encoding="utf-8")  # noqa: SIM115 - it lives as long as the connection
        self._write(f"open {self.opened_in} {self.number}")

    def _write(self, line: str) -> None:
        self._log.write(line + "\n")
        self._log.flush()  # one small write per line: lines from several processes do not mix

    def lookup(self, key: int) -> Row:
        self._write(f"lookup {os.getpid()} {self.opened_in} {self.number} {key}")
        return Row(key, price_of(key), (self.opened_in, self.number), os.getpid())


def connect(address: str) -> Connection:
    """Open a connection to the price list at ``address`` (a file path): about 0.1 s."""
    return Connection(address)
