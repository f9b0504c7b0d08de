"""The benchmark command runs and writes the promised JSON; its timings are not judged here."""

import json
import shutil
import subprocess
import sys

import pytest
from support import NOTEBOOKS

from mplessons.bench import worker_counts

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("cores", "expected"), [(1, [1]), (2, [1, 2]), (6, [1, 2, 4, 6]), (16, [1, 2, 4, 8, 16])])
def test_worker_counts_are_powers_of_two_and_the_usable_cores(cores, expected):
    assert worker_counts(cores) == expected


def test_quick_bench_writes_json_plot_and_table(tmp_path):
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    shutil.copy(NOTEBOOKS / "00_start_here.ipynb", lessons)
    out = subprocess.run(
        [sys.executable, "-m", "mplessons", "bench", "--quick", "--json", str(tmp_path / "b.json"),
         "--plot", str(tmp_path / "b.png"), "--notebooks", str(lessons)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads((tmp_path / "b.json").read_text())

    assert report["mode"] == "quick"
    assert report["machine"]["usable_cores"] >= 1 and report["machine"]["cpu"]
    rows = report["efficiency"]["rows"]
    assert [r["workers"] for r in rows] == worker_counts(report["machine"]["usable_cores"])
    assert rows[0]["speedup"] == pytest.approx(1.0)
    assert all(r["seconds"] > 0 and r["efficiency"] == pytest.approx(r["speedup"] / r["workers"]) for r in rows)
    for scenario in report["overhead"]["scenarios"].values():
        assert {"Pool.map", "run_tasks"} <= set(scenario["seconds"])
        assert scenario["ratio_to_pool_map"]["Pool.map"] == pytest.approx(1.0)
    assert set(report["startup_seconds"]) >= {"spawn"}
    blas = report["blas_threads"]
    assert set(blas["seconds"]) == {"left alone", "one per worker"} and all(s > 0 for s in blas["seconds"].values())
    assert blas["blas_threads"]["one per worker"] == [1] and blas["workers"] == report["machine"]["usable_cores"]
    assert list(report["course"]["notebooks"]) == ["00_start_here"]
    headline = report["headline"]
    for key in ("efficiency_at_2_workers", "efficiency_at_usable_cores", "run_tasks_overhead_vs_pool_map",
                "course_total_seconds"):
        assert key in headline
    assert headline["blas_threads_left_alone_slowdown"] == pytest.approx(blas["slowdown"])
    assert headline["course_total_seconds"] == pytest.approx(report["course"]["notebooks"]["00_start_here"])
    assert (tmp_path / "b.png").read_bytes()[:4] == b"\x89PNG"
    assert "1. Efficiency" in out.stdout and "5. BLAS threads" in out.stdout and "Headline:" in out.stdout
    assert not list(lessons.glob("*.py")), "the course runs in a scratch copy, not next to the lessons"


def test_bench_rejects_an_unknown_start_method():
    out = subprocess.run([sys.executable, "-m", "mplessons", "bench", "--start-method", "threads"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "invalid choice: 'threads'" in out.stderr
