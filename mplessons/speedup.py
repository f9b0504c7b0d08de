"""Speedup sweeps over worker counts and the Amdahl fit: the numbers behind the lessons' speedup plots.

Amdahl's law is a model: if a fraction ``f`` of a program's work cannot run in parallel and the rest splits
perfectly, ``n`` workers give a speedup of ``1 / (f + (1 - f) / n)``, which never passes ``1 / f``. Fitting
``f`` to measured speedups turns "it flattens out" into one number, but only within the worker counts that
were measured: real costs the model leaves out (starting each worker, pickling its tasks, too few tasks to
share out) grow with the number of workers, so ``1 / f`` is a guess far beyond them. With fewer than
``MIN_FIT_COUNTS`` different counts some ``f`` always fits exactly, and the fit tests nothing.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .i18n import columns, tr
from .machine import usable_cores
from .runner import BACKENDS, RunResult, max_workers, run_tasks
from .timing import median
from .validation import callable_fn, non_empty_list, one_of, positive_int

BASELINES = ("one-worker", "serial")
#: a one-parameter fit needs this many different worker counts before it can disagree with the data
MIN_FIT_COUNTS = 3


def amdahl_speedup(workers: Any, serial_fraction: float) -> Any:
    """Amdahl's speedup for ``workers`` (a number or an array) when ``serial_fraction`` cannot run in parallel."""
    n = np.asarray(workers, dtype=float)
    speedup = 1.0 / (serial_fraction + (1.0 - serial_fraction) / n)
    return float(speedup) if speedup.ndim == 0 else speedup


def amdahl_fit(workers: Sequence[int], speedups: Sequence[float]) -> float:
    """The serial fraction ``f`` in 0..1 whose Amdahl curve is nearest the measured speedups (least squares).

    Minimises ``sum((S_i - 1 / (f + (1 - f) / n_i))**2)`` over ``f`` on a fine grid, then refines around the
    best grid point; no optimiser library needed for one bounded parameter. Needs ``MIN_FIT_COUNTS``
    different worker counts: through 1 and 2 workers alone some ``f`` always passes exactly. Fit only worker
    counts up to the usable cores: beyond them the flattening comes from too few cores, not from serial code.
    ``1 / f`` is the model's ceiling, not a measurement: trust it only near the counts that were measured.
    """
    n = _as_array("workers", workers)
    s = _as_array("speedups", speedups)
    if n.shape != s.shape:
        raise ValueError(f"workers and speedups must have the same length, got {n.size} and {s.size}")
    if np.any(n < 1):
        raise ValueError(f"workers must all be 1 or more, got {n.min():g}")
    if np.any(s <= 0):
        raise ValueError(f"speedups must all be greater than 0, got {s.min():g}")
    if not np.any(n > 1):
        raise ValueError("workers needs at least one count above 1: with 1 worker every serial fraction fits")
    distinct = sorted({int(c) if float(c).is_integer() else c for c in n.tolist()})
    if len(distinct) < MIN_FIT_COUNTS:
        raise ValueError(
            f"workers needs at least {MIN_FIT_COUNTS} different counts for an Amdahl fit, got "
            f"{', '.join(f'{c:g}' for c in distinct)}: with fewer, some serial fraction always matches "
            f"exactly, so the fit would tell nothing. Measure more worker counts within the usable cores")

    def loss(f: np.ndarray) -> np.ndarray:
        predicted = 1.0 / (f[:, None] + (1.0 - f[:, None]) / n[None, :])
        return ((predicted - s[None, :]) ** 2).sum(axis=1)

    grid = np.linspace(0.0, 1.0, 2001)
    best = grid[np.argmin(loss(grid))]
    fine = np.clip(np.linspace(best - 1e-3, best + 1e-3, 2001), 0.0, 1.0)
    return float(fine[np.argmin(loss(fine))])


def _as_array(name: str, values: Any) -> np.ndarray:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a sequence of numbers, got {type(values).__name__}")
    values = list(values)
    if not values:
        raise ValueError(f"{name} is empty: give at least one value")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise TypeError(f"{name} must contain finite numbers only, got {v!r}")
    return np.asarray(values, dtype=float)


@dataclass
class SweepRow:
    """One worker count: median seconds over the repeats, and speedup and efficiency from it."""

    workers: int
    seconds: float
    speedup: float
    efficiency: float
    times: list[float] = field(default_factory=list, repr=False)
    run: RunResult | None = field(default=None, repr=False)  # the run with the median time, for timelines


@dataclass
class SweepResult:
    """What :func:`sweep` measured. ``print(result)`` shows the table; ``plot_speedup(result)`` draws it."""

    rows: list[SweepRow]
    serial_fraction: float | None
    backend: str
    baseline: str
    baseline_seconds: float
    cores: int
    n_items: int
    repeat: int
    start_method: str | None = None
    label: str | None = None
    fit_workers: list[int] = field(default_factory=list)  # the counts the Amdahl fit used (none: no fit)

    @property
    def workers(self) -> list[int]:
        return [r.workers for r in self.rows]

    @property
    def speedups(self) -> list[float]:
        return [r.speedup for r in self.rows]

    @property
    def efficiencies(self) -> list[float]:
        return [r.efficiency for r in self.rows]

    @property
    def seconds(self) -> list[float]:
        return [r.seconds for r in self.rows]

    def table(self) -> str:
        """A plain-text table, one line per worker count (in the student's language: ``set_language``)."""
        base = tr("1 worker of the same backend") if self.baseline == "one-worker" else tr("a serial run")
        method = tr(", {start_method}", start_method=self.start_method) if self.start_method else ""
        lines = [tr("{backend} backend{method}, {tasks} tasks, {cores} usable cores, median of {repeat}; speedup vs "
                    "{base} ({seconds:.3f} s)", backend=self.backend, method=method, tasks=self.n_items,
                    cores=self.cores, repeat=self.repeat, base=base, seconds=self.baseline_seconds),
                 "  ".join(_right_aligned(heading, width) for heading, width in
                           zip((tr("workers"), tr("seconds"), tr("speedup"), tr("efficiency")), (7, 9, 8, 10),
                               strict=True))]
        more = tr("  (more workers than cores)")
        for r in self.rows:
            mark = more if r.workers > self.cores else ""
            lines.append(f"{r.workers:>7}  {r.seconds:>7.3f} s  {r.speedup:>7.2f}×  {r.efficiency:>10.0%}{mark}")
        lines.append(self.fit_text())
        return "\n".join(lines)

    def fit_text(self) -> str:
        """One line on the Amdahl fit: what it found and how far it holds, or why there is none."""
        if self.serial_fraction is None:
            within = [n for n in self.workers if n <= self.cores]
            return tr("no Amdahl fit: it needs {needed} different worker counts within the {cores} usable cores, "
                      "this sweep has {count} ({counts})", needed=MIN_FIT_COUNTS, cores=self.cores,
                      count=len(within), counts=", ".join(map(str, within)) or tr("none"))
        return tr("Amdahl fit on {counts} workers: serial fraction {fraction:.2f}, so the model's ceiling is "
                  "{ceiling}; a guess beyond {most} workers, where start-up and pickling costs that grow with "
                  "workers are not measured", counts=", ".join(map(str, self.fit_workers)),
                  fraction=self.serial_fraction, ceiling=_limit(self.serial_fraction), most=max(self.fit_workers))

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return f"<SweepResult\n{self.table()}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython shows the table, not a dataclass dump
        printer.text(self.table())


def _right_aligned(text: str, width: int) -> str:
    """``text`` padded on the left to ``width`` columns, a wide (CJK) character counting as two."""
    return " " * max(0, width - columns(text)) + text


def _limit(f: float) -> str:
    return tr("unbounded") if f <= 0 else f"{1 / f:.1f}×"


def fit_counts(workers: Sequence[int], cores: int) -> list[int]:
    """The worker counts an Amdahl fit may use: those within ``cores``, if there are ``MIN_FIT_COUNTS`` of them.

    Beyond the usable cores workers take turns, which flattens the curve for a reason the model does not
    describe; with fewer different counts the fit cannot disagree with the data. ``[]`` means: do not fit.
    """
    within = sorted({n for n in workers if n <= cores})
    return within if len(within) >= MIN_FIT_COUNTS else []


def default_workers(backend: str = "process") -> list[int]:
    """1, 2, 4, ... up to the usable cores, then twice the cores: enough to see the curve flatten."""
    if backend == "serial":
        return [1]
    cores = usable_cores()
    if cores <= 4:
        counts = set(range(1, 2 * cores + 1))
    else:
        counts = {1, cores, 2 * cores} | {2**k for k in range(1, cores.bit_length()) if 2**k < cores}
    return sorted(c for c in counts if c <= max_workers(backend))


def _worker_counts(workers: Any, backend: str) -> list[int]:
    limit = max_workers(backend)
    hint = "the serial backend always uses 1 worker" if backend == "serial" else ""
    if workers is None:
        return default_workers(backend)
    if isinstance(workers, numbers.Integral) and not isinstance(workers, bool):
        return list(range(1, positive_int("workers", workers, maximum=limit, hint=hint) + 1))
    counts = non_empty_list("workers", workers)
    return sorted({positive_int("workers", c, maximum=limit, hint=hint) for c in counts})


def sweep(fn: Callable[[Any], Any], items: Iterable[Any], workers: int | Iterable[int] | None = None,
          backend: str = "process", repeat: int = 3, start_method: str | None = None,
          chunksize: int | None = None, *, baseline: str = "one-worker", progress: bool | None = None,
          timeout: float | None = None, label: str | None = None) -> SweepResult:
    """Run ``fn`` over ``items`` with each worker count, ``repeat`` times, and return speedup per count.

    ``workers``: a list of counts, or ``n`` for 1..n (default: 1, 2, 4, ... the usable cores, twice the
    cores). Seconds are the median of the repeats, taken round-robin over the counts so a burst of other
    work on the machine hits every count alike rather than one.

    Speedup is relative to **1 worker of the same backend** (``baseline="one-worker"``, measured even if
    1 is not in ``workers``): it then shows how the backend *scales*, with its fixed costs (starting
    processes, pickling) on both sides. ``baseline="serial"`` divides a plain serial run's time instead,
    which shows what parallelism *gains you* overall, overheads included. Efficiency is speedup / workers.
    The Amdahl serial fraction is fitted on the counts up to the usable cores, and only where there are
    ``MIN_FIT_COUNTS`` different ones (``None`` otherwise, e.g. always on a 2-core machine: see ``fit_counts``).
    ``backend="dask"`` starts the embedded dask cluster (or connects, see ``mplessons.dask_backend``) before
    timing anything, so its start-up is not counted as work.
    A ``tqdm`` progress bar appears when the sweep takes more than half a second (``progress=False``: never).
    """
    callable_fn("fn", fn)
    items = non_empty_list("items", items)
    one_of("backend", backend, BACKENDS)
    one_of("baseline", baseline, BASELINES)
    counts = _worker_counts(workers, backend)
    repeat = positive_int("repeat", repeat, maximum=100)
    chunksize = None if chunksize is None else positive_int("chunksize", chunksize)
    measured = sorted(set(counts) | ({1} if baseline == "one-worker" else set()))
    runs: dict[int, list[RunResult]] = {n: [] for n in measured}
    serial_runs: list[RunResult] = []
    steps = repeat * (len(measured) + (baseline == "serial"))
    if backend == "dask":
        # Start (or grow) the cluster before the clock runs: its start-up takes seconds and is not the work.
        from .dask_backend import get_client

        get_client(workers=max(measured))

    from tqdm.auto import tqdm

    with tqdm(total=steps, desc=f"sweep ({backend})", delay=0.5, leave=False,
              disable=progress is False) as bar:
        for _ in range(repeat):
            if baseline == "serial":
                serial_runs.append(run_tasks(fn, items, backend="serial", timeout=timeout))
                bar.update()
            for n in measured:
                runs[n].append(run_tasks(fn, items, backend=backend, workers=n, start_method=start_method,
                                         chunksize=chunksize, timeout=timeout))
                bar.update()

    base_runs = serial_runs if baseline == "serial" else runs[1]
    base = median([r.seconds for r in base_runs])
    rows = []
    for n in counts:
        times = [r.seconds for r in runs[n]]
        seconds = median(times)
        speedup = base / seconds
        middle = sorted(runs[n], key=lambda r: r.seconds)[len(times) // 2]
        rows.append(SweepRow(n, seconds, speedup, speedup / n, times, middle))
    cores = usable_cores()
    fitted = fit_counts([r.workers for r in rows], cores)
    fit_rows = [r for r in rows if r.workers in fitted]
    fraction = amdahl_fit([r.workers for r in fit_rows], [r.speedup for r in fit_rows]) if fitted else None
    method = runs[measured[0]][0].start_method
    return SweepResult(rows, fraction, backend, baseline, base, cores, len(items), repeat, method, label, fitted)
