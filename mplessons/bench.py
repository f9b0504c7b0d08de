"""``python -m mplessons bench``: how close the lessons get to the machine's limit, measured as ratios.

Five parts, each a ratio or a count of seconds taken in one run (shared machines are noisy, so absolute
times from different runs are not compared):

1. efficiency - the CPU-bound lesson workload at 1, 2, 4, ... usable cores workers: speedup / workers;
2. overhead   - ``run_tasks`` vs raw ``Pool.map`` vs ``ProcessPoolExecutor.map`` on the same tasks, interleaved;
3. start-up   - time to the first result for each start method;
4. course     - every lesson notebook executed through nbclient, seconds each and in total;
5. BLAS       - lesson 03b's numpy tasks on usable-cores workers, BLAS threads left alone vs one per worker.
"""

from __future__ import annotations

import json
import math
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import workloads
from .machine import context, info, resolve_start_method, start_methods, usable_cores
from .runner import auto_chunksize, run_tasks
from .timing import calibrate, median

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
MACHINE_KEYS = ("cpu", "logical_cores", "physical_cores", "usable_cores", "python", "implementation", "platform",
                "gil_enabled")


@dataclass(frozen=True)
class Settings:
    """What a full run and a ``--quick`` run measure."""

    repeat: int
    task_seconds: float
    tiny_tasks: int
    batch_task_seconds: float
    blas_size: int  # lesson 03b's matrices: blas_size x blas_size, 6 tasks per worker as in the lesson
    blas_tasks_per_worker: int = 6

    @classmethod
    def for_mode(cls, quick: bool) -> Settings:
        if quick:
            return cls(repeat=1, task_seconds=0.25, tiny_tasks=5_000, batch_task_seconds=0.02, blas_size=200)
        return cls(repeat=3, task_seconds=0.5, tiny_tasks=20_000, batch_task_seconds=0.05, blas_size=300)


def worker_counts(cores: int) -> list[int]:
    """1, 2, 4, ... up to ``cores``, and ``cores`` itself: every count divides a batch of 2 x cores tasks evenly
    when ``cores`` is a power of two, so imbalance does not pollute the efficiency."""
    counts = [2**k for k in range(int(math.log2(cores)) + 1)]
    return sorted(set(counts + [cores]))


# --- 1. efficiency ------------------------------------------------------------------------------------


def measure_efficiency(settings: Settings, method: str, progress: Callable[[str], None]) -> tuple[dict, Any]:
    """Strong scaling of the lesson workload: the same batch at every worker count, one task per chunk."""
    from .speedup import sweep

    size = calibrate(workloads.cubic_sum, settings.task_seconds)
    counts = worker_counts(usable_cores())
    tasks = [size] * (2 * max(counts))
    result = sweep(workloads.cubic_sum, tasks, workers=counts, repeat=settings.repeat, start_method=method,
                   chunksize=1, progress=False, label=f"cubic_sum({size})")
    rows = [{"workers": r.workers, "seconds": r.seconds, "speedup": r.speedup, "efficiency": r.efficiency,
             # time inside one task: if it grows with the worker count, the cores slow each other down
             # (shared physical cores, a lower all-core clock), which no harness can fix
             "seconds_per_task": r.run.busy_seconds / len(tasks) if r.run is not None else None}
            for r in result.rows]
    for row in rows:
        progress(f"efficiency: {row['workers']} workers, {row['seconds']:.2f} s, speedup {row['speedup']:.2f}")
    return {"task": f"cubic_sum({size})", "task_seconds_target": settings.task_seconds, "tasks": len(tasks),
            "repeat": settings.repeat, "rows": rows, "amdahl_serial_fraction": result.serial_fraction}, result


# --- 2. overhead --------------------------------------------------------------------------------------


def _contenders(method: str, workers: int) -> dict[str, Callable[[Callable[[Any], Any], list[Any]], Any]]:
    """Ways to map a function over items, each creating and closing its own pool as a lesson cell does."""
    ctx = context(method)

    def pool_map(fn, items):
        with ctx.Pool(workers) as pool:
            return pool.map(fn, items)

    def executor_map(chunksize: int | None):
        def run(fn, items):
            size = auto_chunksize(len(items), workers) if chunksize is None else chunksize
            with ProcessPoolExecutor(workers, mp_context=ctx) as executor:
                return list(executor.map(fn, items, chunksize=size))
        return run

    contenders = {
        "Pool.map": pool_map,
        "run_tasks": lambda fn, items: run_tasks(fn, items, workers=workers, start_method=method).results,
        "ProcessPoolExecutor.map (chunksize 1)": executor_map(1),
        "ProcessPoolExecutor.map (chunksize auto)": executor_map(None),
    }
    try:
        from joblib import Parallel, delayed
    except ImportError:
        pass
    else:
        contenders["joblib.Parallel"] = lambda fn, items: Parallel(n_jobs=workers)(delayed(fn)(x) for x in items)
    return contenders


def measure_overhead(settings: Settings, method: str, progress: Callable[[str], None]) -> dict[str, Any]:
    workers = usable_cores()
    batch_size = calibrate(workloads.cubic_sum, settings.batch_task_seconds)
    scenarios = {
        "tiny tasks": (workloads.square, list(range(settings.tiny_tasks))),
        "CPU-bound batch": (workloads.cubic_sum, [batch_size] * (8 * workers)),
    }
    contenders = _contenders(method, workers)
    out: dict[str, Any] = {"workers": workers, "repeat": max(3, settings.repeat), "scenarios": {}}
    for name, (fn, items) in scenarios.items():
        expected = [fn(x) for x in items[:3]]
        times: dict[str, list[float]] = {c: [] for c in contenders}
        for _ in range(out["repeat"]):  # interleaved: a noisy moment hits every contender alike
            for contender, run in contenders.items():
                started = time.perf_counter()
                results = run(fn, items)
                times[contender].append(time.perf_counter() - started)
                if list(results[:3]) != expected:
                    raise AssertionError(f"{contender} returned wrong results")
        medians = {c: median(t) for c, t in times.items()}
        base = medians["Pool.map"]
        out["scenarios"][name] = {
            "tasks": len(items), "task": f"{fn.__name__}",
            "seconds": medians, "ratio_to_pool_map": {c: s / base for c, s in medians.items()},
            "extra_microseconds_per_task": {c: (s - base) / len(items) * 1e6 for c, s in medians.items()},
        }
        progress(f"overhead: {name}: run_tasks / Pool.map = {medians['run_tasks'] / base:.3f}")
    return out


# --- 3. start-up ---------------------------------------------------------------------------------------


def measure_startup(settings: Settings, progress: Callable[[str], None]) -> dict[str, Any]:
    """Seconds from creating a one-worker pool to its first result, per start method (median)."""
    out = {}
    for method in start_methods():
        ctx = context(method)
        times = []
        for _ in range(max(3, settings.repeat)):
            started = time.perf_counter()
            with ctx.Pool(1) as pool:
                pool.apply(workloads.square, (3,))
                times.append(time.perf_counter() - started)
        out[method] = median(times)
        progress(f"start-up: {method} {out[method] * 1000:.0f} ms")
    return out


# --- 5. BLAS threads in pool workers -------------------------------------------------------------------


def measure_blas(settings: Settings, method: str, progress: Callable[[str], None]) -> dict[str, Any]:
    """Lesson 03b's oversubscription cell with as many workers as usable cores (on 16 cores: 16 x 16 threads)."""
    from .lessons_blas import measure_oversubscription

    workers = usable_cores()
    out = measure_oversubscription(context(method), workers, settings.blas_size,
                                   settings.blas_tasks_per_worker * workers, repeat=settings.repeat)
    progress(f"BLAS threads: left alone / one per worker = {out['slowdown']:.2f}")
    return out


# --- 4. course runtime ---------------------------------------------------------------------------------


def measure_course(notebooks: Path, method: str, progress: Callable[[str], None]) -> dict[str, Any]:
    """Run every lesson as Run All would, in a scratch copy so nothing is written next to the lessons."""
    import os

    import nbformat
    from nbclient import NotebookClient

    paths = sorted(notebooks.glob("[0-9][0-9]*_*.ipynb"))
    if not paths:
        return {"error": f"no notebooks found in {notebooks.name}/", "notebooks": {}, "total_seconds": None}
    seconds: dict[str, float] = {}
    previous = os.environ.get("MPLESSONS_START_METHOD")
    os.environ["MPLESSONS_START_METHOD"] = method
    try:
        with tempfile.TemporaryDirectory(prefix="mplessons-bench-") as scratch:
            for path in paths:
                copy = Path(scratch) / path.name
                shutil.copy(path, copy)
                nb = nbformat.read(copy, as_version=4)
                started = time.perf_counter()
                NotebookClient(nb, timeout=300, kernel_name="python3",
                               resources={"metadata": {"path": scratch}}).execute()
                seconds[path.stem] = time.perf_counter() - started
                progress(f"course: {path.stem} {seconds[path.stem]:.1f} s")
    finally:
        if previous is None:
            os.environ.pop("MPLESSONS_START_METHOD", None)
        else:
            os.environ["MPLESSONS_START_METHOD"] = previous
    return {"start_method": method, "notebooks": seconds, "total_seconds": sum(seconds.values())}


# --- the whole benchmark -------------------------------------------------------------------------------


def run_benchmark(*, quick: bool = False, start_method: str | None = None, notebooks: Path | None = None,
                  course: bool = True, progress: Callable[[str], None] = print) -> tuple[dict[str, Any], Any]:
    """Run all four parts; returns the JSON-ready report and the efficiency sweep (for its plot)."""
    settings = Settings.for_mode(quick)
    method = resolve_start_method(start_method)
    machine = info()
    started = time.perf_counter()
    efficiency, sweep_result = measure_efficiency(settings, method, progress)
    report: dict[str, Any] = {
        "machine": {k: machine[k] for k in MACHINE_KEYS} | {"start_method": method, "node": platform.node()},
        "mode": "quick" if quick else "full",
        "efficiency": efficiency,
        "overhead": measure_overhead(settings, method, progress),
        "startup_seconds": measure_startup(settings, progress),
        "blas_threads": measure_blas(settings, method, progress),
    }
    report["course"] = measure_course(notebooks or NOTEBOOKS, method, progress) if course else None
    report["bench_seconds"] = time.perf_counter() - started
    report["headline"] = headline(report)
    return report, sweep_result


def headline(report: dict[str, Any]) -> dict[str, Any]:
    rows = {row["workers"]: row for row in report["efficiency"]["rows"]}
    cores = report["machine"]["usable_cores"]
    overhead = report["overhead"]["scenarios"]
    course = report.get("course") or {}
    return {
        "efficiency_at_2_workers": rows[2]["efficiency"] if 2 in rows else None,
        "efficiency_at_usable_cores": rows[cores]["efficiency"],
        "usable_cores": cores,
        "run_tasks_overhead_vs_pool_map": overhead["CPU-bound batch"]["ratio_to_pool_map"]["run_tasks"],
        "run_tasks_overhead_vs_pool_map_tiny_tasks": overhead["tiny tasks"]["ratio_to_pool_map"]["run_tasks"],
        "blas_threads_left_alone_slowdown": report["blas_threads"]["slowdown"],
        "course_total_seconds": course.get("total_seconds"),
    }


def format_report(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [f"mplessons bench ({report['mode']}) on {m['cpu']}: {m['usable_cores']} usable of "
             f"{m['logical_cores']} logical ({m['physical_cores']} physical) cores, Python {m['python']}, "
             f"start method {m['start_method']}", ""]
    eff = report["efficiency"]
    lines += [f"1. Efficiency: {eff['tasks']} tasks of {eff['task']} (~{eff['task_seconds_target']} s each), "
              f"median of {eff['repeat']}",
              "   workers  seconds  speedup  efficiency  s/task"]
    lines += [f"   {r['workers']:>7}  {r['seconds']:>7.2f}  {r['speedup']:>7.2f}  {r['efficiency']:>10.2f}"
              + (f"  {r['seconds_per_task']:>6.3f}" if r.get("seconds_per_task") is not None else "")
              for r in eff["rows"]]
    if eff.get("amdahl_serial_fraction") is not None:
        lines.append(f"   Amdahl fit: serial fraction {eff['amdahl_serial_fraction']:.3f}")
    over = report["overhead"]
    lines += ["", f"2. Overhead with {over['workers']} workers, median of {over['repeat']} interleaved rounds"]
    for name, scenario in over["scenarios"].items():
        lines.append(f"   {name} ({scenario['tasks']} x {scenario['task']}):")
        extra = scenario.get("extra_microseconds_per_task", {})
        lines += [f"     {c:<42} {s:>8.3f} s  {scenario['ratio_to_pool_map'][c]:>5.2f} x Pool.map"
                  + (f"  {extra[c]:>+8.2f} µs/task" if name == "tiny tasks" and c in extra and c != "Pool.map" else "")
                  for c, s in scenario["seconds"].items()]
    lines += ["", "3. Start-up, pool creation to first result:"]
    lines += [f"   {k:<11} {v * 1000:>6.0f} ms" for k, v in report["startup_seconds"].items()]
    course = report.get("course")
    if course:
        lines += ["", f"4. Course, Run All of every notebook via nbclient ({course.get('start_method')}):"]
        lines += [f"   {k:<28} {v:>6.1f} s" for k, v in course["notebooks"].items()]
        if course.get("total_seconds") is not None:
            lines.append(f"   {'total':<28} {course['total_seconds']:>6.1f} s")
    blas = report["blas_threads"]
    lines += ["", f"5. BLAS threads: {blas['tasks']} tasks of {blas['products_per_task']} products of "
                  f"{blas['size']}x{blas['size']} matrices on {blas['workers']} workers, median of {blas['repeat']}"]
    lines += [f"   {k:<15} {blas['blas_threads'][k]} BLAS threads per worker  {v:>7.3f} s"
              for k, v in blas["seconds"].items()]
    lines.append(f"   left alone / one per worker: {blas['slowdown']:.2f}")
    h = report["headline"]
    lines += ["", "Headline: " + ", ".join(f"{k} = {v:.3f}" if isinstance(v, float) else f"{k} = {v}"
                                             for k, v in h.items())]
    return "\n".join(lines)


def write_outputs(report: dict[str, Any], sweep_result: Any, json_path: str | None, plot_path: str | None) -> None:
    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if plot_path:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from .plots import plot_speedup

        m = report["machine"]
        fig = plot_speedup(sweep_result, title=f"{report['efficiency']['task']} on {m['cpu']}, "
                                               f"{m['usable_cores']} usable cores")
        fig.savefig(plot_path, dpi=120, bbox_inches="tight")
        plt.close(fig)
