"""Worker functions for lessons 02 and 03, importable by child processes under every start method.

They wait (``time.sleep``) instead of computing, so the order in which they finish and the time a batch takes
depend on how they were scheduled, not on how busy the machine is: that makes them good for showing
``imap_unordered``, callbacks, and for the exercise checks that tell a parallel answer from a serial one.
"""

from __future__ import annotations

import time

NAP = 0.15
"""Seconds that ``slow_square`` and ``fragile_square`` wait: long enough to see, short enough for Run All."""


def nap(seconds: float) -> float:
    """Wait ``seconds`` and return them: a task whose finishing time we choose."""
    time.sleep(seconds)
    return seconds


def slow_square(x: int) -> int:
    """``x * x`` after waiting ``NAP`` seconds, as if the input had to be fetched first."""
    time.sleep(NAP)
    return x * x


def fragile_square(x: int) -> int:
    """Like ``slow_square``, but a negative input raises ValueError: a task that sometimes fails."""
    time.sleep(NAP)
    if x < 0:
        raise ValueError(f"negative input {x}")
    return x * x


LINGER = 0.03
"""Seconds per unit of input that ``lingering_square`` and ``lingering_fragile_square`` wait."""


def lingering_square(x: int) -> int:
    """``x * x`` after waiting ``abs(x) * LINGER`` seconds: bigger inputs take longer, so tasks given biggest
    first finish in another order than they were submitted (the lesson 03 exercise checks rely on it)."""
    time.sleep(abs(x) * LINGER)
    return x * x


def lingering_fragile_square(x: int) -> int:
    """Like ``lingering_square``, but a negative input raises ValueError: a task that sometimes fails."""
    time.sleep(abs(x) * LINGER)
    if x < 0:
        raise ValueError(f"negative input {x}")
    return x * x


def cubic_sum_range(start: int, stop: int) -> int:
    """Sum of i + i**2 + i**3 for i in range(start, stop): one slice of ``workloads.cubic_sum``'s loop.

    ``starmap`` hands it (start, stop) pairs, so one big sum can be split over several processes.
    """
    total = 0
    for i in range(start, stop):
        total += i + i**2 + i**3
    return total
