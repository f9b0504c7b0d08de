"""Timing helpers, calibration, speedup sweeps and the Amdahl fit."""

from __future__ import annotations

import time

import numpy as np
import pytest

import mplessons
from mplessons import amdahl_fit, calibrate, sweep, workloads
from mplessons.speedup import SweepResult, amdahl_speedup, default_workers
from mplessons.timing import median, median_time, time_call

# --- Amdahl's law and the fit -------------------------------------------------------------------------


def test_amdahl_speedup_matches_the_formula():
    assert amdahl_speedup(1, 0.3) == pytest.approx(1.0)
    assert amdahl_speedup(4, 0.0) == pytest.approx(4.0)
    assert amdahl_speedup(4, 1.0) == pytest.approx(1.0)
    assert amdahl_speedup(10**9, 0.1) == pytest.approx(10.0, rel=1e-6)  # the 1/f ceiling
    assert list(amdahl_speedup([2, 4], 0.5)) == pytest.approx([1 / 0.75, 1 / 0.625])


@pytest.mark.parametrize("seed", range(5))
def test_amdahl_fit_recovers_a_known_serial_fraction_from_noisy_data(seed):
    rng = np.random.default_rng(seed)
    workers = np.arange(1, 17)
    noisy = amdahl_speedup(workers, 0.1) * rng.normal(1.0, 0.03, workers.size)
    assert amdahl_fit(workers, noisy) == pytest.approx(0.1, abs=0.02)


@pytest.mark.parametrize("fraction", [0.0, 0.05, 0.5, 1.0])
def test_amdahl_fit_is_exact_on_clean_data(fraction):
    workers = [1, 2, 4, 8]
    assert amdahl_fit(workers, amdahl_speedup(workers, fraction)) == pytest.approx(fraction, abs=1e-4)


def test_amdahl_fit_stays_in_range_for_superlinear_or_slower_than_serial_data():
    assert amdahl_fit([1, 2, 4], [1.0, 2.5, 5.0]) == 0.0
    assert amdahl_fit([1, 2, 4], [1.0, 0.6, 0.4]) == 1.0


@pytest.mark.parametrize(("workers", "speedups", "error", "message"), [
    ([], [], ValueError, "workers is empty"),
    ([1, 2], [1.0], ValueError, "same length"),
    ([0, 2], [1.0, 1.5], ValueError, "workers must all be 1 or more"),
    ([1, 2], [1.0, -1.0], ValueError, "speedups must all be greater than 0"),
    ([1, 1], [1.0, 1.1], ValueError, "at least one count above 1"),
    ([1, "2"], [1.0, 1.5], TypeError, "workers must contain finite numbers"),
    ([1, 2], [1.0, float("nan")], TypeError, "speedups must contain finite numbers"),
    (3, [1.0], TypeError, "workers must be a sequence"),
])
def test_amdahl_fit_rejects_bad_input_naming_the_parameter(workers, speedups, error, message):
    with pytest.raises(error, match=message):
        amdahl_fit(workers, speedups)


# --- timing and calibration ---------------------------------------------------------------------------


def test_median_and_time_call():
    assert median([3.0, 1.0, 100.0]) == 3.0
    with pytest.raises(ValueError, match="values is empty"):
        median([])
    times = time_call(time.sleep, 0.01, repeat=3)
    assert len(times) == 3 and all(0.009 < t < 1.0 for t in times)
    assert 0.009 < median_time(time.sleep, 0.01) < 1.0
    with pytest.raises(ValueError, match="repeat must be in 1"):
        time_call(time.sleep, 0, repeat=0)


@pytest.mark.parametrize("target", [0.005, 0.03])
def test_calibrate_finds_a_size_that_takes_about_the_target(target):
    started = time.perf_counter()
    size = calibrate(workloads.cubic_sum, target)
    assert time.perf_counter() - started < 1.5, "calibration must be quick (generous bound for a busy machine)"
    assert isinstance(size, int) and size > 0
    took = min(time_call(workloads.cubic_sum, size, repeat=3))
    assert target / 4 < took < target * 4, f"size {size} took {took:.4f} s for a {target} s target"


def test_calibrate_a_long_target_costs_far_less_than_the_target():
    started = time.perf_counter()
    small, large = calibrate(workloads.cubic_sum, 0.01), calibrate(workloads.cubic_sum, 5.0)
    assert time.perf_counter() - started < 2.0
    assert 100 < large / small < 2000  # about 500x for a linear cost


def quadratic(n: int) -> int:
    return sum(i * j for i in range(n) for j in range(n))


@pytest.mark.parametrize("exponent", [2, None])
def test_calibrate_a_quadratic_cost(exponent):
    size = calibrate(quadratic, 0.02, exponent=exponent)
    took = min(time_call(quadratic, size, repeat=5))  # the fastest run is the least disturbed by other programs
    assert 0.02 / 5 < took < 0.02 * 5, f"size {size} took {took:.4f} s"


def test_calibrate_respects_max_size_and_tiny_targets():
    assert calibrate(workloads.cubic_sum, 10.0, max_size=1000) == 1000
    assert calibrate(workloads.cubic_sum, 1e-9) >= 1


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"target_seconds": -1}, ValueError, "target_seconds must be a finite number greater than 0"),
    ({"target_seconds": 0}, ValueError, "target_seconds"),
    ({"target_seconds": "1"}, TypeError, "target_seconds must be a number"),
    ({"target_seconds": 0.01, "exponent": -2}, ValueError, "exponent"),
    ({"target_seconds": 0.01, "start": 0}, ValueError, "start must be in 1"),
    ({"target_seconds": 0.01, "max_size": 2.5}, TypeError, "max_size must be a whole number"),
])
def test_calibrate_rejects_bad_input(kwargs, error, message):
    with pytest.raises(error, match=message):
        calibrate(workloads.cubic_sum, **kwargs)


def test_calibrate_rejects_a_non_function():
    with pytest.raises(TypeError, match="fn must be a function"):
        calibrate(42, 0.1)


# --- sweeps -------------------------------------------------------------------------------------------


def test_sweep_rows_speedup_and_efficiency(monkeypatch):
    # Sleeping tasks overlap on threads whatever the load on the machine: a dependable speedup.
    monkeypatch.setattr(mplessons.speedup, "usable_cores", lambda: 4)  # 1, 2 and 4 all count for the fit
    result = sweep(workloads.sleep_then_return, [0.05] * 4, workers=[1, 2, 4], backend="thread", repeat=2)
    assert isinstance(result, SweepResult)
    assert result.workers == [1, 2, 4]
    assert result.rows[0].speedup == pytest.approx(1.0)  # the baseline is 1 worker of the same backend
    for row in result.rows:
        assert len(row.times) == 2 and row.seconds == pytest.approx(median(row.times))
        assert row.speedup == pytest.approx(result.baseline_seconds / row.seconds)
        assert row.efficiency == pytest.approx(row.speedup / row.workers)
        assert row.run is not None and row.run.workers == row.workers
    assert result.speedups[2] > 2.0, "4 threads sleeping 4 x 50 ms should overlap"
    assert result.serial_fraction is not None and 0.0 <= result.serial_fraction <= 1.0
    assert result.fit_workers == [1, 2, 4]
    text = str(result)
    assert "thread backend, 4 tasks" in text and "median of 2" in text and "Amdahl fit on 1, 2, 4 workers" in text
    assert len(text.splitlines()) == 2 + 3 + 1


def test_sweep_measures_the_one_worker_baseline_even_when_not_asked_for():
    result = sweep(workloads.sleep_then_return, [0.02] * 4, workers=[2, 4], backend="thread", repeat=1)
    assert result.workers == [2, 4] and result.baseline_seconds > 0.06


def test_sweep_against_a_serial_baseline():
    result = sweep(workloads.square, range(50), workers=2, backend="thread", repeat=1, baseline="serial")
    assert result.workers == [1, 2] and result.baseline == "serial"
    assert "speedup vs a serial run" in result.table()


def test_sweep_of_processes_under_each_start_method(start_method):
    result = sweep(workloads.power_digits, range(1, 5), workers=[1, 2], repeat=1, start_method=start_method,
                   chunksize=1, progress=False)
    assert result.start_method == start_method and result.backend == "process"
    assert [r.run.results for r in result.rows] == [[236125, 294538, 337000, 370393]] * 2
    assert f"process backend, {start_method}" in result.table()


def test_sweep_on_dask_runs_each_worker_count_and_starts_the_cluster_before_timing(monkeypatch):
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    from mplessons import dask_backend

    monkeypatch.delenv(dask_backend.SCHEDULER_ENV, raising=False)
    dask_backend.close()
    try:
        result = sweep(workloads.power_digits, range(1, 5), workers=[1, 2], backend="dask", repeat=1, chunksize=1,
                       progress=False)
    finally:
        dask_backend.close()  # no dask processes may outlive the test (checked by the autouse fixture)
    assert result.backend == "dask" and result.workers == [1, 2]
    assert "dask backend" in result.table()
    for row in result.rows:
        assert row.run.results == [236125, 294538, 337000, 370393] and row.run.backend == "dask"
        assert len({t.worker for t in row.run.tasks}) <= row.workers, "a run uses at most its worker count"
    # Starting the cluster takes seconds; had it been inside the timed run, the first task would start late.
    first = min(t.start for t in result.rows[0].run.tasks)
    assert first < 2.0, f"the first dask task began {first:.2f} s into the timed run: cluster start-up was timed"


def test_sweep_default_workers_go_past_the_cores():
    counts = default_workers()
    cores = mplessons.usable_cores()
    assert counts[0] == 1 and cores in counts and counts[-1] == 2 * cores
    assert default_workers("serial") == [1]


def test_sweep_progress_appears_only_when_it_takes_a_while(capsys):
    sweep(workloads.square, range(4), workers=[1, 2], backend="thread", repeat=1)
    assert "sweep" not in capsys.readouterr().err
    sweep(workloads.sleep_then_return, [0.2] * 2, workers=[1, 2], backend="thread", repeat=2)
    assert "sweep (thread)" in capsys.readouterr().err


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"workers": 0}, ValueError, "workers must be in 1"),
    ({"workers": [1, 2.5]}, TypeError, "workers must be a whole number"),
    ({"workers": []}, ValueError, "workers is empty"),
    ({"workers": True}, TypeError, "workers"),
    ({"backend": "gpu"}, ValueError, "unknown backend 'gpu'"),
    ({"backend": "serial", "workers": 2}, ValueError, "serial backend always uses 1 worker"),
    ({"repeat": 0}, ValueError, "repeat must be in 1"),
    ({"chunksize": 0}, ValueError, "chunksize must be in 1"),
    ({"baseline": "fastest"}, ValueError, "unknown baseline"),
])
def test_sweep_rejects_bad_input_before_running_anything(kwargs, error, message):
    with pytest.raises(error, match=message):
        sweep(workloads.square, range(4), **kwargs)


def test_sweep_rejects_empty_items_and_non_functions():
    with pytest.raises(ValueError, match="items is empty"):
        sweep(workloads.square, [])
    with pytest.raises(TypeError, match="fn must be a function"):
        sweep("square", [1])


def test_public_names_are_exported_without_importing_heavy_libraries_up_front():
    import subprocess
    import sys

    code = ("import sys, mplessons; heavy = [m for m in ('numpy', 'matplotlib', 'ipywidgets') if m in sys.modules]; "
            "print(heavy); print(mplessons.sweep.__module__, mplessons.plot_timeline.__module__, "
            "mplessons.widgets.__name__, mplessons.calibrate.__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[]"
    assert out[1] == "mplessons.speedup mplessons.plots mplessons.widgets mplessons.timing"
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        mplessons.nonsense  # noqa: B018
