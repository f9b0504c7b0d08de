"""ipywidgets UIs for the lessons: the speedup lab, where dragging a slider shows where speedup flattens.

Each press of Run runs a fixed batch of tasks of the chosen size with the chosen backend and worker count,
and plots the speedup against a serial run of the same batch next to the run's timeline. Points
accumulate across presses, so the speedup curve builds up as the student tries worker counts.

The run happens in a background thread: the kernel stays free to receive the next button click, which
is how a second click during a run is *seen and ignored* (a callback that blocked the kernel would only
get that click after the run and start a second one). Output goes into the Output widget's ``outputs``
directly (a PNG per figure), which works from any thread, unlike ``with output:``.

Labels, buttons and status lines speak the student's language (``tr``), chosen when the lab is made. The
figure stays English: matplotlib's default fonts have no CJK glyphs, so Chinese text would be drawn as boxes,
with a warning per missing glyph. The backend names in the dropdown stay as they are, too: they are the values
``speedup_lab(backend=...)`` and ``run_tasks(backend=...)`` take.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets

from .i18n import tr
from .machine import resolve_start_method, usable_cores
from .runner import RunResult, run_tasks
from .timing import calibrate
from .validation import callable_fn, non_empty_list, one_of, positive_int, positive_number
from .workloads import cubic_sum

BACKENDS = ("serial", "thread", "process", "dask")  # the order of the plot's colours


def available_backends() -> tuple[str, ...]:
    """The backends the dropdown offers: dask only where dask.distributed is installed (an optional extra)."""
    has_dask = importlib.util.find_spec("distributed") is not None  # looks, without importing it
    return BACKENDS if has_dask else BACKENDS[:3]


@dataclass(frozen=True)
class LabPoint:
    """One press of Run: what ran, how long it took, and its speedup over the serial run of the same batch."""

    backend: str
    workers: int
    size: int
    seconds: float
    serial_seconds: float

    @property
    def speedup(self) -> float:
        return self.serial_seconds / self.seconds


class SpeedupLab(widgets.VBox):
    """The speedup lab; make one with :func:`speedup_lab`.

    Controls: ``.workers`` (IntSlider), ``.size`` (SelectionSlider of task sizes), ``.backend`` (Dropdown),
    ``.run`` (Button), ``.progress``, ``.status``, ``.output``. Results: ``.last_run`` (a ``RunResult``),
    ``.history`` (a ``LabPoint`` per press), ``.figure`` (the last matplotlib Figure), ``.last_error``.
    """

    def __init__(self, fn: Callable[[int], Any], sizes: Sequence[int], size: int, tasks: int, backend: str,
                 workers: int, max_workers: int, start_method: str | None, timeout: float,
                 size_labels: Sequence[str] | None = None):
        self.fn, self.tasks, self.start_method, self.timeout = fn, tasks, start_method, timeout
        self.cores = usable_cores()
        labels = size_labels or [f"{s:,}" for s in sizes]
        self.workers = widgets.IntSlider(value=workers, min=1, max=max_workers, step=1, description=tr("workers"),
                                         continuous_update=False, layout=widgets.Layout(width="420px"))
        self.workers.add_class("mplessons-workers")
        self.size = widgets.SelectionSlider(options=list(zip(labels, sizes, strict=True)), value=size,
                                            description=tr("task size"), continuous_update=False,
                                            layout=widgets.Layout(width="420px"))
        self.size.add_class("mplessons-size")
        self.backend = widgets.Dropdown(options=list(available_backends()), value=backend,
                                        description=tr("backend"))
        self.backend.add_class("mplessons-backend")
        self.run = widgets.Button(description=tr("Run"), button_style="primary", icon="play",
                                  tooltip=tr("run {tasks} tasks and add a point to the speedup plot", tasks=tasks))
        self.run.add_class("mplessons-run")
        self.clear = widgets.Button(description=tr("Clear points"),
                                    tooltip=tr("forget the points and the serial baselines measured so far"))
        self.progress = widgets.IntProgress(value=0, min=0, max=2, description="", bar_style="info",
                                            layout=widgets.Layout(width="200px"))
        self.status = widgets.HTML(value=tr("Press <b>Run</b>: {tasks} tasks of the chosen size.", tasks=tasks))
        self.output = widgets.Output(layout=widgets.Layout(min_height="300px"))
        self.history: list[LabPoint] = []
        self.last_run: RunResult | None = None
        self.last_error: BaseException | None = None
        self.figure: Any = None
        self.figure_png: str | None = None  # base64 PNG of .figure, as shown in .output
        self.runs_started = 0
        self.clicks_ignored = 0
        self._serial: dict[int, float] = {}  # size -> seconds of the serial batch, measured once per size
        self._lock = threading.Lock()
        self._busy = False
        self._thread: threading.Thread | None = None
        self.run.on_click(self._on_run)
        self.clear.on_click(self._on_clear)
        self.backend.observe(self._on_backend, names="value")
        self._on_backend()
        super().__init__([widgets.HBox([self.workers, self.backend]),
                          widgets.HBox([self.size, self.run, self.clear]),
                          widgets.HBox([self.progress, self.status]), self.output])

    # --- events -------------------------------------------------------------------------------------

    def _on_backend(self, _change: Any = None) -> None:
        self.workers.disabled = self.backend.value == "serial"  # a serial run has exactly one worker

    def _on_clear(self, _button: Any = None) -> None:
        if not self._busy:
            self.history.clear()
            self._serial.clear()  # a baseline measured while the machine was busy would skew every point
            self.status.value = tr("Points and serial baselines cleared.")

    def _on_run(self, _button: Any = None) -> None:
        with self._lock:
            if self._busy:
                self.clicks_ignored += 1
                return
            self._busy = True
            self.runs_started += 1
        self.run.disabled = True
        self._thread = threading.Thread(target=self._run_safely, name="mplessons-speedup-lab", daemon=True)
        self._thread.start()

    def wait(self, timeout: float = 60) -> bool:
        """Block until the current run (if any) finished; True if none is running any more."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def run_once(self, timeout: float = 60) -> LabPoint | None:
        """Press Run and wait for it: what a notebook cell or a test does instead of clicking."""
        self.run.click()
        self.wait(timeout)
        return self.history[-1] if self.history and self.last_error is None else None

    # --- the run ------------------------------------------------------------------------------------

    def _run_safely(self) -> None:
        started = time.perf_counter()
        try:
            self.last_error = None
            self._measure_and_draw()
            self.status.value += tr(" Redrawn in {seconds:.2f} s.", seconds=time.perf_counter() - started)
        except BaseException as exc:  # noqa: BLE001 - shown to the student, not swallowed
            self.last_error = exc
            self.progress.bar_style = "danger"
            self.status.value = tr("<b style='color:#c00'>{error}</b>: the run failed, see below.",
                                   error=type(exc).__name__)
            self._show_error(exc)
        finally:
            self.run.disabled = False
            self._busy = False

    def _measure_and_draw(self) -> None:
        backend, size = self.backend.value, self.size.value
        workers = 1 if backend == "serial" else self.workers.value
        items = [size] * self.tasks
        self.progress.value, self.progress.bar_style = 0, "info"
        if size not in self._serial:
            self.status.value = tr("measuring the serial baseline: {tasks} tasks one after another…", tasks=self.tasks)
            self._serial[size] = run_tasks(self.fn, items, backend="serial", timeout=self.timeout).seconds
        self.progress.value = 1
        self.status.value = tr("running {tasks} tasks on {workers} {backend} worker(s)…", tasks=self.tasks,
                               workers=workers, backend=backend)
        if backend == "dask":
            self._start_dask(workers)
        run = run_tasks(self.fn, items, backend=backend, workers=workers, start_method=self.start_method,
                        timeout=self.timeout)
        self.progress.value = 2
        point = LabPoint(backend, workers, size, run.seconds, self._serial[size])
        self.last_run = run
        self.history.append(point)
        self.figure = self.draw()
        self._show_figure(self.figure)
        self.progress.bar_style = "success"
        first = min(t.start for t in run.tasks)
        self.status.value = tr("{workers} {backend} worker(s): {seconds:.3f} s, serial {serial:.3f} s → speedup "
                               "<b>{speedup:.2f}×</b> (first task began after {first:.3f} s).", workers=workers,
                               backend=backend, seconds=run.seconds, serial=point.serial_seconds,
                               speedup=point.speedup, first=first)

    def _start_dask(self, workers: int) -> None:
        """Start the embedded dask cluster before the timed run, saying so: the first start takes seconds."""
        from . import dask_backend

        address = dask_backend.scheduler_address()
        if dask_backend._client is None:
            self.status.value = tr("connecting to the dask scheduler at {address}…", address=address) if address \
                else tr("starting a local dask cluster ({workers} worker processes): a few seconds the first time…",
                        workers=max(workers, self.cores))
        elif address is None and dask_backend._cluster is not None and workers > len(dask_backend._cluster.workers):
            self.status.value = tr("adding dask worker processes to reach {workers}…", workers=workers)
        dask_backend.get_client(workers=workers)
        self.status.value = tr("running {tasks} tasks on {workers} {backend} worker(s)…", tasks=self.tasks,
                               workers=workers, backend="dask")

    def draw(self) -> Any:
        """The lab's figure: the speedup points at the current size (left) and the last run's timeline.

        Its text stays English in every language: matplotlib's default fonts cannot draw Chinese."""
        from .plots import COLORS, new_figure, plot_timeline

        size = self.size.value
        fig, grid = new_figure(11, 3.8, ncols=2, width_ratios=(1, 1.3), layout=None)
        fig.subplots_adjust(left=0.06, right=0.99, bottom=0.13, top=0.91, wspace=0.28)
        ax, ax_t = grid[0]
        top = max(self.workers.max, self.cores)
        ax.plot([1, top], [1, top], linestyle="--", color="grey", label="ideal (speedup = workers)")
        ax.axvline(self.cores, color="black", linewidth=1, linestyle="-.", label=f"usable cores ({self.cores})")
        ax.axhline(1.0, color="grey", linewidth=0.8)
        for i, backend in enumerate(BACKENDS):
            points = sorted((p for p in self.history if p.backend == backend and p.size == size),
                            key=lambda p: p.workers)
            if not points:
                continue
            color = COLORS[i]
            ax.scatter([p.workers for p in points], [p.speedup for p in points], color=color, alpha=0.5)
            best = _median_by_workers(points)
            ax.plot(list(best), list(best.values()), marker="o", color=color, label=backend)
        ax.set_xlim(0.5, top + 0.5)
        ax.set_ylim(0, top * 1.05)
        ax.set_xlabel("workers")
        ax.set_ylabel("speedup vs serial (×)")
        ax.set_title(f"Speedup, {self.tasks} tasks of size {size:,}", fontsize="medium")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small", loc="upper left")
        if self.last_run is not None:
            plot_timeline(self.last_run, axes=[ax_t])
            ax_t.set_xlabel("seconds since the run started")
        return fig

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        """The live widget, plus the latest figure as a PNG for renderers without a kernel (the course website)."""
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is not None and self.figure_png is not None:
            bundle["image/png"] = self.figure_png
        return bundle

    def _show_figure(self, fig: Any) -> None:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80)
        png = self.figure_png = base64.b64encode(buffer.getvalue()).decode("ascii")
        self.output.outputs = ({"output_type": "display_data", "metadata": {},
                                "data": {"image/png": png, "text/plain": "<speedup lab figure>"}},)

    def _show_error(self, exc: BaseException) -> None:
        lines = traceback.format_exception_only(type(exc), exc)
        notes = "".join(f"{note}\n" for note in getattr(exc, "__notes__", ()) if note not in "".join(lines))
        self.output.outputs = ({"output_type": "stream", "name": "stderr",
                                "text": tr("The run failed:") + "\n" + "".join(lines) + notes},)


def _median_by_workers(points: Sequence[LabPoint]) -> dict[int, float]:
    from .timing import median

    by: dict[int, list[float]] = {}
    for p in points:
        by.setdefault(p.workers, []).append(p.speedup)
    return {n: median(s) for n, s in sorted(by.items())}


def speedup_lab(fn: Callable[[int], Any] = cubic_sum, *, sizes: Sequence[int] | None = None, size: int | None = None,
                tasks: int | None = None, backend: str = "process", workers: int | None = None,
                max_workers: int | None = None, start_method: str | None = None,
                task_seconds: float = 0.04, timeout: float = 60) -> SpeedupLab:
    """The speedup lab for ``fn(size)``: pick workers, task size and backend, press Run, watch the curve.

    ``sizes``: the task sizes the size slider offers (default: calibrated here so a task takes about
    ``task_seconds / 30`` up to ``task_seconds * 3``; the default size takes about ``task_seconds``, so a
    press redraws in about a second). ``tasks``: the batch (default 8, or 2 × max workers if larger).
    ``max_workers``: the slider's end (default 2 × usable cores, to see what more workers than cores do).
    ``backend``: serial, thread, process, or dask where dask.distributed is installed (the dropdown offers it
    then; the first dask run starts a local cluster, which takes a few seconds and says so).
    """
    callable_fn("fn", fn)
    if backend == "dask" and "dask" not in available_backends():
        from .dask_backend import install_hint

        raise ImportError(install_hint())
    one_of("backend", backend, BACKENDS)
    if start_method is not None:
        resolve_start_method(start_method)  # refuse a bad name now, not at the first press of Run
    task_seconds = positive_number("task_seconds", task_seconds)
    cores = usable_cores()
    max_workers = positive_int("max_workers", 2 * cores if max_workers is None else max_workers, maximum=256)
    workers = positive_int("workers", min(cores, max_workers) if workers is None else workers, maximum=max_workers)
    tasks = positive_int("tasks", max(8, 2 * max_workers) if tasks is None else tasks, maximum=10_000)
    timeout = positive_number("timeout", timeout)
    labels = None
    if sizes is None:
        base = calibrate(fn, task_seconds)
        factors = (1 / 30, 1 / 10, 1 / 3, 1, 3)
        sizes = [max(1, round(base * f)) for f in factors]
        labels = [f"{s:,} (≈{task_seconds * f * 1000:.3g} ms)" for s, f in zip(sizes, factors, strict=True)]
        default = sizes[3]
    else:
        sizes = [positive_int("sizes", s) for s in non_empty_list("sizes", sizes)]
        if len(set(sizes)) != len(sizes):
            raise ValueError(f"sizes must not repeat, got {sizes}")
        default = sizes[len(sizes) // 2]
    if size is not None:
        size = positive_int("size", size)
        if size not in sizes:
            raise ValueError(f"size must be one of sizes {sizes}, got {size}")
        default = size
    return SpeedupLab(fn, sizes, default, tasks, backend, workers, max_workers, start_method, timeout, labels)
