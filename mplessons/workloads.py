"""Worker functions for the lessons, importable by child processes under every start method.

A notebook cell cannot define these itself under spawn or forkserver (see ``mplessons.guard``), so the
lessons import them from here. Each is plain Python, short enough to read in the lesson that uses it.
"""

from __future__ import annotations

import math
import time
from typing import Any

# --- the seed's jobs ---------------------------------------------------------------------------------


def cubic_sum(n: int) -> int:
    """Sum of i + i**2 + i**3 for i in range(n): the seed's CPU-bound ``job``.

    ``cubic_sum(10_000_000) == 2499999833333358333330000000``, as the seed printed.
    """
    total = 0
    for i in range(n):
        total += i + i**2 + i**3
    return total


def cubic_sum_to_queue(queue: Any, n: int) -> None:
    """The seed's code1 ``job``: a Process cannot return a value, so it puts its result on a Queue."""
    queue.put(cubic_sum(n))


def digit_count(x: int) -> int:
    """Number of decimal digits of an int, exactly, without converting it to a string.

    Python 3.11+ refuses ``str()`` of ints over 4300 digits (a guard against denial-of-service). The
    logarithm gives the count at once (``math.log10`` takes ints of any size); only when it lands within a
    hair of a power of ten is the count settled exactly, from the bit length and one comparison.
    """
    x = abs(x)
    if x < 10:
        return 1
    estimate = math.log10(x)
    margin = 1e-9 + estimate * 1e-14  # far above the float error of log10, even for millions of digits
    if margin < estimate % 1 < 1 - margin:
        return math.floor(estimate) + 1
    digits = int((x.bit_length() - 1) * math.log10(2)) + 1  # digits of 2**(bit_length-1) <= x
    if x >= 10**digits:
        digits += 1
    return digits


def power_digits(x: int) -> int:
    """The seed's code2 ``job``: grow x by its own powers, then count its digits.

    The seed returned ``len(str(x))``, which raises ValueError on Python 3.11+ for these huge numbers.
    """
    for i in range(10):
        x = x + x**i
    return digit_count(x)


# --- small helpers used across lessons ----------------------------------------------------------------


def square(x: float) -> float:
    """A task so small that sending it to another process costs more than computing it."""
    return x * x


def sleep_then_return(seconds: float, value: Any = None) -> Any:
    """An I/O-like task: it waits without using the CPU, as a download or a disk read would."""
    time.sleep(seconds)
    return value
