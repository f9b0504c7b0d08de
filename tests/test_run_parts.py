"""``make test``'s part runner: which other Pythons it picks, and what it reports about parts that pass or fail."""

from __future__ import annotations

import re
import stat
import sys
from pathlib import Path

import pytest
from support import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import run_parts  # noqa: E402

MINE = sys.version_info[:2]


def fake_python(folder: Path, name: str, answer: str) -> None:
    """An executable that answers run_parts' probe as an interpreter of that version would."""
    path = folder / name
    path.write_text(f"#!/bin/sh\nprintf '%s' '{answer}'\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def only(tmp_path, monkeypatch):
    """PATH holds only the fake interpreters made in the returned folder; pyenv's root is its ``pyenv``."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    return tmp_path


def test_the_newest_other_python_gets_a_part_and_older_or_free_threaded_ones_are_named_not_run(only):
    (only / "pyenv/versions/3.10.13/bin").mkdir(parents=True)
    fake_python(only / "pyenv/versions/3.10.13/bin", "python", "3.10.13 0")
    fake_python(only, f"python3.{MINE[1] + 1}", f"3.{MINE[1] + 1}.0 1")  # free-threaded
    fake_python(only, f"python3.{MINE[1] + 2}", f"3.{MINE[1] + 2}.5 0")
    parts, lines = run_parts.other_python_parts("test-notebooks START_METHODS=spawn")
    newest = f"3.{MINE[1] + 2}.5"
    assert [p.name for p in parts] == [f"notebooks-python-{newest}"]
    assert parts[0].args == ["test-notebooks", "START_METHODS=spawn", f"PYTHON={only / f'python3.{MINE[1] + 2}'}",
                             f"VENV=.venv-{newest}"]
    text = "\n".join(lines)
    assert "not run: 3.10.13" in text and f"3.{MINE[1] + 1}.0t" in text
    assert "the oldest supported one found is" in text and "the one the main parts use" in text


def test_no_other_python_is_said_and_skipped(only):
    fake_python(only, "python3.12", "garbage")  # does not answer like a Python: ignored
    parts, lines = run_parts.other_python_parts("test-notebooks")
    assert parts == [] and len(lines) == 1 and "none supported besides" in lines[0] and "skipped" in lines[0]


def test_parts_run_side_by_side_and_a_failed_one_fails_the_run(tmp_path, capsys, monkeypatch):
    """A stand-in for make runs each goal as a shell command; the report gives each part's result and times."""
    monkeypatch.setattr(run_parts, "LOGS", tmp_path / "logs")
    monkeypatch.setattr(run_parts, "adopt_orphans", lambda: False)  # this test process must not adopt orphans
    fake_make = tmp_path / "make.sh"
    fake_make.write_text('#!/bin/sh\nshift\nexec sh -c "$1"\n')  # drops --no-print-directory
    fake_make.chmod(0o755)
    script = tmp_path / "busy.py"
    script.write_text("import time\nt = time.process_time()\nwhile time.process_time() - t < 1.2:\n    pass\n")
    busy = f"{sys.executable} {script}"
    goals = [busy, "sleep 2; echo fine", "sleep 2; echo broken; exit 3"]
    code = run_parts.main(["--make", str(fake_make), *goals])
    out = capsys.readouterr().out
    assert code == 1
    assert "fine" in out and "FAILED (exit code 3)" in out and "broken" in out
    table = out[out.index("== parts of the run"):].splitlines()[1:5]
    walls = [float(row.split()[-2]) for row in table[:3]]
    cpus = [float(row.split()[-1]) for row in table[:3]]
    total_wall = float(re.search(r"all, side by side\s+(\d+)", table[3]).group(1))
    assert total_wall < 0.8 * sum(walls), f"the parts did not run side by side: {table}"
    assert cpus[0] >= 1 and cpus[1] < 1, f"CPU times are not the parts' own: {table}"
    assert [row.split()[-3] for row in table[:3]] == ["passed", "passed", "FAILED"]
