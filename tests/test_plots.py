"""Speedup and timeline figures: the right lines, labels and bars, and no figures left open."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from mplessons import plot_speedup, plot_timeline, run_tasks, workloads
from mplessons.speedup import SweepResult, SweepRow, amdahl_speedup


def fake_sweep(fraction: float = 0.1, workers=(1, 2, 3, 4), cores: int = 2, backend: str = "process") -> SweepResult:
    """A sweep with known numbers: speedups follow Amdahl up to the cores and stay flat beyond."""
    speedups = [float(amdahl_speedup(min(n, cores), fraction)) for n in workers]
    rows = [SweepRow(n, 1.0 / s, s, s / n) for n, s in zip(workers, speedups, strict=True)]
    return SweepResult(rows, fraction, backend, "one-worker", 1.0, cores, 8, 3, "spawn")


def labels(ax) -> list[str]:
    return [line.get_label() for line in ax.get_lines()]


def test_plot_speedup_draws_measured_ideal_amdahl_cores_and_efficiency():
    result = fake_sweep()
    fig = plot_speedup(result)
    speed, eff = fig.axes
    assert labels(speed) == ["ideal (speedup = workers)", "process (spawn)", "Amdahl, serial fraction 0.10",
                             "usable cores (2)"]
    measured = speed.get_lines()[1]
    assert list(measured.get_xdata()) == [1, 2, 3, 4]
    assert list(measured.get_ydata()) == pytest.approx(result.speedups)
    cores_line = speed.get_lines()[3]
    assert list(cores_line.get_xdata()) == [2, 2]
    amdahl = speed.get_lines()[2]
    assert amdahl.get_ydata()[-1] == pytest.approx(amdahl_speedup(2, 0.1)), "Amdahl flattens past the cores"
    assert speed.get_xlabel() == "workers" and speed.get_ylabel() == "speedup (×)"
    assert eff.get_title() == "Efficiency" and "usable cores (2)" in labels(eff)
    assert list(eff.get_lines()[0].get_ydata()) == pytest.approx(result.efficiencies)


def test_figures_show_as_png_in_jupyter_without_pyplot():
    png = plot_speedup(fake_sweep())._repr_png_()
    assert png.startswith(b"\x89PNG")


def test_plot_speedup_draws_several_backends_side_by_side():
    fig = plot_speedup([fake_sweep(0.05), fake_sweep(0.9, backend="thread")], efficiency=False)
    assert len(fig.axes) == 1
    found = labels(fig.axes[0])
    assert "process (spawn)" in found and "thread (spawn)" in found
    assert "Amdahl, serial fraction 0.05" in found and "Amdahl, serial fraction 0.90" in found


def test_plot_speedup_from_raw_numbers():
    fig = plot_speedup(workers=[1, 2, 4], speedups=[1, 1.8, 2.0], serial_fraction=0.1, cores=4, label="mine",
                       title="My sweep")
    assert fig.axes[0].get_title() == "My sweep" and "mine" in labels(fig.axes[0])
    assert "usable cores (4)" in labels(fig.axes[0])


def test_plot_speedup_rejects_bad_input():
    with pytest.raises(TypeError, match="needs a sweep result"):
        plot_speedup()
    with pytest.raises(TypeError, match="results must be a SweepResult"):
        plot_speedup([1, 2])
    with pytest.raises(ValueError, match="same length"):
        plot_speedup(workers=[1, 2], speedups=[1])


def test_timeline_has_a_row_per_worker_and_a_bar_per_task():
    run = run_tasks(workloads.sleep_then_return, [0.02] * 6, backend="thread", workers=2, chunksize=2)
    fig = plot_timeline(run)
    (ax,) = fig.axes
    bars = ax.collections
    assert len(bars) == 6
    assert [t.get_text() for t in ax.get_yticklabels()] == ["worker 1", "worker 2"]
    assert "thread: 2 workers, 6 tasks, chunksize 2" in ax.get_title()
    colors = [tuple(np.round(b.get_facecolor()[0], 3)) for b in bars]
    assert len(set(colors)) == 3, "one colour per chunk of 2 tasks"
    assert ax.get_xlabel() == "seconds since the run started"


def test_timeline_shows_idle_workers_and_stacks_runs():
    busy = run_tasks(workloads.sleep_then_return, [0.01] * 4, backend="thread", workers=2, chunksize=1)
    idle = run_tasks(workloads.sleep_then_return, [0.01] * 2, backend="thread", workers=4, chunksize=2)
    fig = plot_timeline([busy, idle], title="chunksize matters")
    assert len(fig.axes) == 2 and fig._suptitle.get_text() == "chunksize matters"
    ticks = [t.get_text() for t in fig.axes[1].get_yticklabels()]
    assert ticks[0] == "worker 1" and ticks[1:] == ["worker 2 (idle)", "worker 3 (idle)", "worker 4 (idle)"]


def test_timeline_rejects_what_is_not_a_run():
    with pytest.raises(TypeError, match="RunResult"):
        plot_timeline([1, 2])


def test_many_redraws_leave_no_figures_open_and_no_warnings():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    run = run_tasks(workloads.square, range(8), backend="serial")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the "More than 20 figures" RuntimeWarning would fail here
        for _ in range(25):
            plot_speedup(fake_sweep())
            plot_timeline(run)
    assert plt.get_fignums() == before
