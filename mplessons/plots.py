"""Matplotlib figures for the lessons: speedup against the ideal and Amdahl's law, and task timelines.

Figures are made with ``matplotlib.figure.Figure`` directly, not ``pyplot``: pyplot keeps every figure
open until closed, so a slider redrawing a plot 50 times would pile up figures and warn about memory.
A bare Figure is freed like any object; it has a ``_repr_png_`` so that Jupyter shows one returned as a
cell's value.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .speedup import SweepResult, amdahl_speedup
from .validation import positive_int, positive_number

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .runner import RunResult

_FIGURE: Any = None
#: one colour per chunk in timelines (cycled): tasks sent to a worker together look alike
CHUNK_COLORS = tuple(f"tab:{c}" for c in ("blue", "orange", "green", "red", "purple", "brown", "pink", "olive",
                                          "cyan", "gray"))
COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")


def _figure_class() -> type:
    from matplotlib.figure import Figure

    class LessonFigure(Figure):
        """A Figure that Jupyter shows as a PNG even when pyplot (and its inline backend) was never imported."""

        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", bbox_inches="tight")
            return buffer.getvalue()

    return LessonFigure


def new_figure(width: float, height: float, ncols: int = 1, nrows: int = 1, *, layout: str | None = "constrained",
               **kwargs: Any) -> tuple[Figure, Any]:
    """A Figure outside pyplot's registry (see the module docstring) and its axes.

    ``layout=None`` skips the automatic layout, which costs more than the drawing itself: for redraws.
    """
    global _FIGURE
    if _FIGURE is None:
        _FIGURE = _figure_class()
    fig = _FIGURE(figsize=(width, height), layout=layout)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kwargs)
    return fig, axes


def _as_sweeps(results: Any) -> list[SweepResult]:
    if isinstance(results, SweepResult):
        return [results]
    if isinstance(results, Sequence) and results and all(isinstance(r, SweepResult) for r in results):
        return list(results)
    raise TypeError("results must be a SweepResult from mplessons.sweep, or a list of them; "
                    f"got {type(results).__name__}")


def plot_speedup(results: SweepResult | Sequence[SweepResult] | None = None, *,
                 workers: Sequence[int] | None = None, speedups: Sequence[float] | None = None,
                 serial_fraction: float | None = None, cores: int | None = None, label: str | None = None,
                 efficiency: bool = True, title: str | None = None, axes: Sequence[Axes] | None = None) -> Figure:
    """Measured speedup vs workers, the ideal line, the Amdahl curve and (right) the efficiency.

    Pass one or more :func:`mplessons.sweep` results (several draw side by side on the same axes, e.g.
    processes and threads), or raw ``workers`` and ``speedups``. The dash-dot vertical line marks the usable
    cores; a dotted curve is an Amdahl fit, drawn only for a sweep that has one (``mplessons.speedup.fit_counts``
    says when) or for a ``serial_fraction`` you pass. It uses ``min(workers, cores)`` because no more than
    ``cores`` workers run at once, which is why measured speedups flatten there. ``axes``: draw into existing
    axes (speedup[, efficiency]) instead of a new figure.
    """
    from .machine import usable_cores

    cores = None if cores is None else positive_int("cores", cores)
    if serial_fraction is not None and not (isinstance(serial_fraction, (int, float)) and 0 <= serial_fraction <= 1):
        raise ValueError(f"serial_fraction must be a number in 0..1, got {serial_fraction!r}")
    if results is None:
        if workers is None or speedups is None:
            raise TypeError("plot_speedup needs a sweep result, or both workers= and speedups=")
        from .speedup import _as_array

        n, s = _as_array("workers", workers), _as_array("speedups", speedups)
        if n.shape != s.shape:
            raise ValueError(f"workers and speedups must have the same length, got {n.size} and {s.size}")
        series = [(label or "measured", n, s, serial_fraction)]
        cores = cores or usable_cores()
    else:
        sweeps = _as_sweeps(results)
        series = [(label if len(sweeps) == 1 and label else _sweep_label(r), np.array(r.workers, float),
                   np.array(r.speedups, float), r.serial_fraction) for r in sweeps]
        cores = cores or sweeps[0].cores
    if axes is None:
        fig, grid = new_figure(9.5 if efficiency else 5.5, 3.8, ncols=2 if efficiency else 1)
        ax_s, ax_e = grid[0][0], (grid[0][1] if efficiency else None)
    else:
        ax_s, ax_e = axes[0], (axes[1] if efficiency and len(axes) > 1 else None)
        fig = ax_s.figure
    top = max(max(n.max() for _, n, _, _ in series), cores)
    xs = np.linspace(1, top, 200)
    ax_s.plot(xs, xs, linestyle="--", color="grey", label="ideal (speedup = workers)")
    for i, (name, n, s, f) in enumerate(series):
        color = COLORS[i % len(COLORS)]
        ax_s.plot(n, s, marker="o", color=color, label=name)
        if f is not None:
            ax_s.plot(xs, amdahl_speedup(np.minimum(xs, cores), f), linestyle=":", color=color,
                      label=f"Amdahl, serial fraction {f:.2f}")
        if ax_e is not None:
            ax_e.plot(n, s / n, marker="o", color=color, label=name)
    from matplotlib.ticker import MaxNLocator

    for ax in (ax_s, ax_e):
        if ax is not None:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.axvline(cores, color="black", linewidth=1, linestyle="-.", label=f"usable cores ({cores})")
            ax.set_xlabel("workers")
            ax.set_xlim(0.8, top + 0.2)
            ax.grid(alpha=0.3)
    ax_s.set_ylabel("speedup (×)")
    ax_s.set_ylim(0, max(top, max(s.max() for _, _, s, _ in series)) * 1.05)
    ax_s.set_title(title or "Speedup")
    ax_s.legend(fontsize="small", loc="upper left")
    if ax_e is not None:
        ax_e.axhline(1.0, linestyle="--", color="grey", label="ideal (100 %)")
        ax_e.set_ylabel("efficiency (speedup / workers)")
        ax_e.set_ylim(0, 1.15 if all(s.max() <= 1.15 * n.max() for _, n, s, _ in series) else None)
        ax_e.yaxis.set_major_formatter(_percent())
        ax_e.set_title("Efficiency")
        ax_e.legend(fontsize="small", loc="lower left")
    return fig


def _sweep_label(r: SweepResult) -> str:
    return r.label or f"{r.backend}" + (f" ({r.start_method})" if r.start_method else "")


def _percent() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0)


def plot_timeline(runs: RunResult | Sequence[RunResult], *, title: str | None = None,
                  axes: Sequence[Axes] | None = None, width: float = 9.0) -> Figure:
    """One row per worker and a bar per task; several runs stack with a shared time axis.

    Bars are numbered by task and bars of the same chunk share a colour, so chunking is visible; a worker
    the pool started but that got no task shows as an empty "idle" row; the grey line marks when the run
    ended, so the gap after the last bar is the time spent waiting for the slowest worker (imbalance) and
    shutting down.
    """
    from .runner import RunResult

    if not isinstance(runs, (RunResult, Sequence)) or isinstance(runs, str):
        raise TypeError(f"runs must be a RunResult from mplessons.run_tasks, or a list of them; got {runs!r:.60}")
    width = positive_number("width", width)
    runs = [runs] if isinstance(runs, RunResult) else list(runs)
    if not runs or not all(isinstance(r, RunResult) for r in runs):
        raise TypeError("runs must be a RunResult from mplessons.run_tasks, or a list of them")
    if axes is None:
        height = sum(1.0 + 0.3 * max(r.workers, 1) for r in runs)
        fig, grid = new_figure(width, min(height, 12), nrows=len(runs), sharex=True)
        axes = [row[0] for row in grid]
    fig = axes[0].figure
    for ax, run in zip(axes, runs, strict=True):
        _draw_timeline(ax, run)
    end = max(r.seconds for r in runs)
    axes[-1].set_xlim(0, end * 1.02)
    axes[-1].set_xlabel("seconds since the run started")
    if title:
        fig.suptitle(title)
    return fig


def _draw_timeline(ax: Axes, run: RunResult) -> None:
    order: dict[int, int] = {}
    for task in sorted(run.tasks, key=lambda t: t.start):
        order.setdefault(task.worker, len(order))
    rows = max(run.workers, len(order))
    label = len(run.tasks) <= 40  # task numbers in the bars while they still fit
    for task in run.tasks:
        chunk = task.index // max(run.chunksize, 1)
        width = max(task.end - task.start, 1e-6)
        ax.broken_barh([(task.start, width)], (order[task.worker] - 0.4, 0.8),
                       facecolors=CHUNK_COLORS[chunk % len(CHUNK_COLORS)], edgecolor="white", linewidth=0.5)
        if label and width > run.seconds / 40:
            ax.text(task.start + width / 2, order[task.worker], str(task.index), ha="center", va="center",
                    fontsize="x-small", color="white")
    ax.axvline(run.seconds, color="grey", linewidth=1)
    ax.set_yticks(range(rows))
    ax.set_yticklabels([f"worker {i + 1}" if i < len(order) else f"worker {i + 1} (idle)" for i in range(rows)])
    ax.set_ylim(rows - 0.5, -0.5)
    n = len(run.tasks)
    ax.set_title(f"{run.backend}: {run.workers} worker{'s' * (run.workers != 1)}, {n} tasks, "
                 f"chunksize {run.chunksize}, {run.seconds:.2f} s", fontsize="medium")
    ax.grid(axis="x", alpha=0.3)
