"""Worker functions and shared objects for lesson 07 (threads done right).

Threads can run any function, even one defined in a notebook cell; what lives here is what *processes* (and, on
Python 3.14, subinterpreters) must be able to import, and the objects the lesson's exercise checks hand to the
student's code.
"""

from __future__ import annotations

import hashlib
import threading
import time


def hash_stream(chunk: bytes, times: int) -> str:
    """SHA-256 of ``chunk`` repeated ``times`` times, fed in one chunk at a time, as a big file is hashed.

    hashlib releases the GIL while it hashes more than 2047 bytes at once, so threads running this use
    several cores; the Python part of each round (one call) is tiny next to hashing a large chunk.
    """
    digest = hashlib.sha256()
    for _ in range(times):
        digest.update(chunk)
    return digest.hexdigest()


def fake_download(url: str, seconds: float = 0.2) -> str:
    """Wait ``seconds`` as a download would (without using the CPU or holding the GIL), then return a page."""
    time.sleep(seconds)
    return f"<html>{url}</html>"


class Account:
    """A bank balance kept somewhere slow: ``read()`` and ``write()`` each let other threads run.

    ``time.sleep(0)`` stands for a database round trip, a log line or any call that releases the GIL: between
    one thread's ``read()`` and its ``write()`` another thread may read the same old balance. ``reads`` and
    ``writes`` count the calls, so a check can tell that the balance really went through them.
    """

    def __init__(self, balance: int = 0):
        self._balance = balance
        self._counting = threading.Lock()  # only for the counts below, never around the balance itself
        self.reads = 0
        self.writes = 0

    def read(self) -> int:
        value = self._balance
        with self._counting:
            self.reads += 1
        time.sleep(0)  # another thread may run here, after the value was read ...
        return value

    def write(self, value: int) -> None:
        time.sleep(0)  # ... or here, before this one is written
        with self._counting:
            self.writes += 1
        self._balance = value

    @property
    def balance(self) -> int:
        """The balance right now (for printing; a deposit must go through ``read`` and ``write``)."""
        return self._balance

    def __repr__(self) -> str:
        return f"Account(balance={self._balance})"
