"""The set-up promises one minimum Python everywhere, and ``make`` refuses an older one in one clear line."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib

import pytest
from support import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import run_parts  # noqa: E402

MINIMUM = (3, 11)


def test_every_place_names_the_same_minimum_python():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["requires-python"] == ">=3.11"
    assert pyproject["tool"]["ruff"]["target-version"] == "py311"
    assert re.search(r"^\s*- python>=3\.11$", (ROOT / "environment.yml").read_text(), re.M)
    assert "v >= (3, 11) else f\"mplessons needs Python 3.11 or newer" in (ROOT / "Makefile").read_text()
    assert "Python ≥ 3.11" in (ROOT / "README.md").read_text()
    assert run_parts.OLDEST_SUPPORTED == MINIMUM


def _an_older_python() -> str | None:
    for python in run_parts._candidates() + [p for v in ("3.10", "3.9") if (p := shutil.which(f"python{v}"))]:
        probed = run_parts._probe(python)
        if probed and (3,) <= probed[0][:2] < MINIMUM:
            return python
    return None


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_refuses_an_older_python_in_one_line(tmp_path):
    python = _an_older_python()
    if python is None:
        pytest.skip("no Python 3 older than 3.11 on this machine (pyenv, PATH) to try make with")
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    done = subprocess.run(["make", "--no-print-directory", f"{venv}/.installed", f"VENV={venv}", f"PYTHON={python}"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    message = [line for line in done.stderr.splitlines() if not line.startswith("make: ***")]
    assert len(message) == 1, done.stderr
    assert re.fullmatch(r"mplessons needs Python 3\.11 or newer, but \S+ is 3\.\d+: run make \S+ PYTHON=python3\.11 "
                        r"\(or newer; README, Setup, says how to get one\)", message[0]), message[0]
    assert not venv.exists(), "make created a virtual environment with the old Python anyway"
