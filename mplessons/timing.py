"""Measure how long things take, robustly enough for a shared laptop: repeats, medians, calibration.

Lessons need task sizes that take "about 50 ms here", not magic constants that are instant on one machine
and take minutes on another. :func:`calibrate` finds such a size in a fraction of a second by timing small
inputs and extrapolating, instead of trying the full size.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from .validation import callable_fn, positive_int, positive_number

#: calibrate() stops growing the probe once a call takes this long, and extrapolates from there
PROBE_SECONDS = 0.02


def median(values: Sequence[float]) -> float:
    """The median: one slow run (another program woke up) does not move it, unlike the mean."""
    if not values:
        raise ValueError("values is empty: give at least one measurement")
    return float(statistics.median(values))


def time_call(fn: Callable[..., Any], *args: Any, repeat: int = 1) -> list[float]:
    """Wall-clock seconds of ``fn(*args)``, once per repeat (``time.perf_counter``, the finest clock)."""
    callable_fn("fn", fn)
    repeat = positive_int("repeat", repeat)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return times


def median_time(fn: Callable[..., Any], *args: Any, repeat: int = 3) -> float:
    """Median seconds of ``repeat`` calls of ``fn(*args)``."""
    return median(time_call(fn, *args, repeat=repeat))


def _probe(fn: Callable[[int], Any], size: int) -> float:
    """Cost of ``fn(size)``: the fastest of a few calls when they are short (noise only ever adds time)."""
    first = time_call(fn, size)[0]
    if first > 2 * PROBE_SECONDS:
        return first
    return min(first, *time_call(fn, size, repeat=2))


def calibrate(fn: Callable[[int], Any], target_seconds: float, *, exponent: float | None = 1.0, start: int = 1,
              max_size: int = 10**12, budget_seconds: float = 0.5) -> int:
    """The input size ``n`` at which ``fn(n)`` takes about ``target_seconds`` on this machine.

    The size doubles from ``start`` until a call takes ``PROBE_SECONDS`` (or reaches the target), then the
    size for the target follows from ``t ~ n**exponent`` (1 = linear, as for ``cubic_sum``; ``None``
    estimates it from the probes, which is noisy on a busy machine). So calibrating for a 10 s task costs
    a few hundredths of a second, not 10 s. Short targets (up to a third of ``budget_seconds``) are checked
    once at the predicted size and corrected. Expect ±30 % on a busy machine: other programs steal time
    in bursts; a function slightly steeper than ``exponent`` (``cubic_sum``'s numbers get longer as it runs)
    overshoots long targets: 1 s came out as 1.2-1.6 s on the 2-core machine it was written on. Sizes are
    capped at ``max_size``.
    """
    callable_fn("fn", fn)
    target = positive_number("target_seconds", target_seconds)
    if exponent is not None:
        exponent = positive_number("exponent", exponent)
    size = min(positive_int("start", start), positive_int("max_size", max_size))
    budget = positive_number("budget_seconds", budget_seconds)
    probe_until = min(PROBE_SECONDS, target)
    began = time.perf_counter()
    probes = [(size, _probe(fn, size))]
    while probes[-1][1] < probe_until and size < max_size and time.perf_counter() - began < budget:
        size = min(2 * size, max_size)
        probes.append((size, _probe(fn, size)))
    k = _exponent(probes) if exponent is None else exponent
    guess = _extrapolate(probes, target, k, max_size)
    if guess != size and target <= budget / 3 and time.perf_counter() - began + 2 * target < budget:
        probes.append((guess, _probe(fn, guess)))
        guess = _extrapolate(probes, target, k, max_size)
    return guess


def _exponent(probes: list[tuple[int, float]]) -> float:
    """Least-squares slope of log time over log size for the probes long enough to measure (0.5..3)."""
    longest = max(t for _, t in probes)
    usable = [(math.log(n), math.log(t)) for n, t in probes if t >= longest / 64 and t > 0]
    if len({x for x, _ in usable}) < 3:
        return 1.0
    mx = sum(x for x, _ in usable) / len(usable)
    my = sum(y for _, y in usable) / len(usable)
    sxx = sum((x - mx) ** 2 for x, _ in usable)
    return min(3.0, max(0.5, sum((x - mx) * (y - my) for x, y in usable) / sxx))


def _extrapolate(probes: list[tuple[int, float]], target: float, k: float, max_size: int) -> int:
    """Size for ``target`` on ``t = c * n**k``, with ``c`` the median over the probes nearest the target.

    A median of up to three probes keeps one that ran while another program had the CPU from moving
    the answer much.
    """
    nearest = sorted(probes, key=lambda p: abs(math.log(max(p[1], 1e-9) / target)))[:3]
    nearest = [(n, t) for n, t in nearest if t >= nearest[0][1] / 8] or nearest[:1]
    c = median([max(t, 1e-9) / n**k for n, t in nearest])
    size = (target / c) ** (1 / k)
    return int(min(max_size, max(1, round(size))))
