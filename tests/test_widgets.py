"""The speedup lab, driven as a notebook would: set the controls, press Run, read the figure and history."""

from __future__ import annotations

import importlib.util
import json
import time

import pytest
import workers_for_tests as w

import mplessons
from mplessons import workloads
from mplessons.widgets import SpeedupLab, speedup_lab

SIZES = [2_000, 20_000]  # cubic_sum: a few ms per task, so presses stay quick on a busy machine


def slow(n: int) -> int:
    """A task that waits n ms: long enough to click twice during a run (thread backend only)."""
    time.sleep(n / 1000)
    return n


def axis_labels(ax) -> list[str]:
    return [line.get_label() for line in ax.get_lines()]


def test_the_lab_has_bounded_controls_with_stable_css_classes():
    lab = speedup_lab(sizes=SIZES, tasks=4)
    cores = mplessons.usable_cores()
    assert isinstance(lab, SpeedupLab)
    assert (lab.workers.min, lab.workers.max, lab.workers.value) == (1, 2 * cores, cores)
    assert "mplessons-workers" in lab.workers._dom_classes and lab.workers.layout.width == "420px"
    assert "mplessons-run" in lab.run._dom_classes
    has_dask = importlib.util.find_spec("distributed") is not None
    assert list(lab.backend.options) == ["serial", "thread", "process"] + (["dask"] if has_dask else [])
    assert [value for _, value in lab.size.options] == SIZES
    lab.workers.value = 1000
    assert lab.workers.value == 2 * cores, "the slider clamps to its bounds"
    lab.backend.value = "serial"
    assert lab.workers.disabled, "a serial run has one worker: the slider is greyed out"


def test_default_sizes_are_calibrated_around_the_task_time():
    lab = speedup_lab(task_seconds=0.01)
    sizes = [value for _, value in lab.size.options]
    assert sizes == sorted(sizes) and len(sizes) == 5 and lab.size.value == sizes[3]
    assert "ms)" in lab.size.options[3][0]


def test_pressing_run_adds_a_point_and_redraws_speedup_and_timeline():
    lab = speedup_lab(sizes=SIZES, tasks=4, backend="thread")
    lab.workers.value = 2
    point = lab.run_once()
    assert lab.last_error is None, lab.last_error
    assert point is not None and point.backend == "thread" and point.workers == 2 and point.size == SIZES[1]
    assert point.speedup == pytest.approx(point.serial_seconds / point.seconds)
    assert lab.last_run is not None and lab.last_run.results == [workloads.cubic_sum(SIZES[1])] * 4
    speed, timeline = lab.figure.axes
    assert axis_labels(speed)[:2] == ["ideal (speedup = workers)", f"usable cores ({lab.cores})"]
    assert "thread" in axis_labels(speed)
    assert speed.get_title() == f"Speedup, 4 tasks of size {SIZES[1]:,}"
    assert speed.get_ylabel() == "speedup vs serial (×)"
    assert timeline.get_title().startswith("thread: 2 workers, 4 tasks")
    assert len(timeline.collections) == 4
    (shown,) = lab.output.outputs
    assert shown["data"]["image/png"] and "speedup" in lab.status.value

    lab.workers.value = 1
    lab.run_once()
    thread_line = speed_line(lab, "thread")
    assert list(thread_line.get_xdata()) == [1, 2], "points accumulate across presses"
    lab.backend.value = "serial"
    lab.run_once()
    assert "serial" in axis_labels(lab.figure.axes[0]) and len(lab.history) == 3


def speed_line(lab, label):
    return next(line for line in lab.figure.axes[0].get_lines() if line.get_label() == label)


def test_changing_the_size_starts_a_fresh_curve():
    lab = speedup_lab(sizes=SIZES, size=SIZES[0], tasks=4, backend="thread")
    lab.run_once()
    lab.size.value = SIZES[1]
    lab.run_once()
    assert [p.size for p in lab.history] == SIZES
    assert list(speed_line(lab, "thread").get_xdata()) == [lab.workers.value]
    lab.clear.click()
    assert lab.history == [] and lab._serial == {}, "Clear also re-measures the serial baseline next time"


def test_processes_under_each_start_method(start_method):
    lab = speedup_lab(sizes=SIZES, tasks=4, workers=2, start_method=start_method)
    point = lab.run_once()
    assert lab.last_error is None, lab.last_error
    assert point.backend == "process" and lab.last_run.start_method == start_method
    assert "process" in axis_labels(lab.figure.axes[0])


def test_two_quick_clicks_start_one_run():
    lab = speedup_lab(slow, sizes=[100], tasks=2, workers=2, backend="thread")
    lab.run.click()
    assert lab.run.disabled, "the button is greyed out while a run is going"
    lab.run.click()
    assert lab.wait(30)
    assert (lab.runs_started, lab.clicks_ignored, len(lab.history)) == (1, 1, 1)
    assert not lab.run.disabled
    lab.run_once()
    assert lab.runs_started == 2 and len(lab.history) == 2, "after the run, Run works again"


@pytest.mark.parametrize("backend", ["serial", "thread", "process"])
def test_a_worker_error_is_shown_with_its_message(backend):
    lab = speedup_lab(w.fail_on, sizes=[1, 2, 3], size=2, tasks=2, backend=backend, workers=1)
    assert lab.run_once() is None
    assert isinstance(lab.last_error, ValueError)
    (shown,) = lab.output.outputs
    assert shown["name"] == "stderr" and "ValueError: task refused input 2" in shown["text"]
    assert "ValueError" in lab.status.value and not lab.run.disabled and lab.history == []


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"workers": 0}, ValueError, "workers must be in 1"),
    ({"workers": 99, "max_workers": 4}, ValueError, r"workers must be in 1\.\.4"),
    ({"max_workers": 0}, ValueError, "max_workers must be in 1"),
    ({"workers": 1.5}, TypeError, "workers must be a whole number"),
    ({"backend": "gpu"}, ValueError, "unknown backend 'gpu'"),
    ({"sizes": []}, ValueError, "sizes is empty"),
    ({"sizes": [10, -1]}, ValueError, "sizes must be in 1"),
    ({"sizes": [10, 10]}, ValueError, "sizes must not repeat"),
    ({"sizes": [10, 20], "size": 30}, ValueError, "size must be one of sizes"),
    ({"tasks": 0}, ValueError, "tasks must be in 1"),
    ({"task_seconds": -1}, ValueError, "task_seconds"),
])
def test_bad_lab_arguments_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        speedup_lab(**kwargs)


def test_without_dask_the_dropdown_leaves_it_out_and_asking_for_it_says_how_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "distributed" else real(name, *a))
    assert list(speedup_lab(sizes=SIZES, tasks=4).backend.options) == ["serial", "thread", "process"]
    with pytest.raises(ImportError, match=r"pip install \"mplessons\[dask\]\""):
        speedup_lab(sizes=SIZES, backend="dask")


def test_the_dask_backend_starts_its_cluster_saying_so_and_plots(monkeypatch):
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    from mplessons import dask_backend

    monkeypatch.delenv(dask_backend.SCHEDULER_ENV, raising=False)
    dask_backend.close()
    lab = speedup_lab(sizes=SIZES, tasks=4, workers=2)
    lab.backend.value = "dask"  # as a student picks it in the dropdown
    statuses: list[str] = []
    lab.status.observe(lambda change: statuses.append(change["new"]), names="value")
    try:
        point = lab.run_once(timeout=120)
    finally:
        dask_backend.close()  # no dask processes may outlive the test (checked by the autouse fixture)
    assert lab.last_error is None, lab.last_error
    assert point is not None and point.backend == "dask" and point.workers == 2
    assert lab.last_run.results == [workloads.cubic_sum(SIZES[1])] * 4
    assert any("starting a local dask cluster" in s and "a few seconds the first time" in s for s in statuses), statuses
    assert "dask" in axis_labels(lab.figure.axes[0])
    assert "speedup <b>" in lab.status.value


def test_the_lab_needs_a_function():
    with pytest.raises(TypeError, match="fn must be a function"):
        speedup_lab("cubic_sum", sizes=[1])


LAB_IN_KERNEL = """
import time
from mplessons.widgets import speedup_lab
lab = speedup_lab(sizes=[2_000, 20_000], tasks=4, workers=2)
display(lab)
started = time.perf_counter()
point = lab.run_once()
lab.run.click(); lab.run.click(); lab.wait(30)
print(json.dumps({"error": repr(lab.last_error), "method": lab.last_run.start_method, "points": len(lab.history),
                  "ignored": lab.clicks_ignored, "labels": [l.get_label() for l in lab.figure.axes[0].get_lines()],
                  "outputs": [sorted(o["data"]) for o in lab.output.outputs]}))
"""


def test_the_lab_in_a_real_kernel(kernel_factory, start_method):
    kernel = kernel_factory(start_method)
    cell = kernel.run("import json\n" + LAB_IN_KERNEL, timeout=120).raise_if_error()
    assert any("application/vnd.jupyter.widget-view+json" in data for data in cell.data), cell.data
    found = json.loads(cell.stdout.strip().splitlines()[-1])
    assert found["error"] == "None" and found["method"] == start_method
    assert found["points"] == 2 and found["ignored"] == 1
    assert "process" in found["labels"] and "ideal (speedup = workers)" in found["labels"]
    assert found["outputs"] == [["image/png", "text/plain"]]
