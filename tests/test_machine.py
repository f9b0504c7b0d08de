import importlib.util
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import sysconfig

import pytest

import mplessons
from mplessons.machine import info_text, interpreters_available


def test_usable_cores_is_a_positive_count_no_larger_than_the_machine():
    cores = mplessons.usable_cores()
    assert isinstance(cores, int)
    assert 1 <= cores <= (os.cpu_count() or 1)


@pytest.mark.skipif(not shutil.which("taskset"), reason="taskset is Linux-only (util-linux)")
def test_usable_cores_honours_cpu_affinity():
    out = subprocess.run(["taskset", "-c", "0", sys.executable, "-c",
                          "import mplessons; print(mplessons.usable_cores())"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"


def test_context_defaults_to_the_environment_variable(monkeypatch, start_method):
    monkeypatch.setenv("MPLESSONS_START_METHOD", start_method)
    assert mplessons.context().get_start_method() == start_method
    assert mplessons.default_start_method() == start_method


def test_context_without_environment_uses_pythons_default(monkeypatch):
    monkeypatch.delenv("MPLESSONS_START_METHOD", raising=False)
    assert mplessons.context().get_start_method() == multiprocessing.get_start_method()


def test_explicit_start_method_wins_over_the_environment(monkeypatch, start_method):
    monkeypatch.setenv("MPLESSONS_START_METHOD", "spawn")
    assert mplessons.context(start_method).get_start_method() == start_method


def test_unknown_start_method_lists_the_valid_ones():
    with pytest.raises(ValueError) as err:
        mplessons.context("thread")
    message = str(err.value)
    assert "start_method" in message and "'thread'" in message
    for method in multiprocessing.get_all_start_methods():
        assert repr(method) in message


def test_unknown_start_method_in_the_environment_names_the_variable(monkeypatch):
    monkeypatch.setenv("MPLESSONS_START_METHOD", "fast")
    with pytest.raises(ValueError, match=r"MPLESSONS_START_METHOD.*'fast'.*'spawn'"):
        mplessons.context()


@pytest.mark.parametrize("bad", [1, None.__class__, b"spawn", ["spawn"]])
def test_start_method_of_the_wrong_type_is_a_type_error(bad):
    with pytest.raises(TypeError, match="start_method"):
        mplessons.context(bad)


def test_info_describes_the_machine():
    details = mplessons.info()
    assert details["usable_cores"] == mplessons.usable_cores()
    assert details["logical_cores"] >= details["usable_cores"]
    assert set(details["start_methods"]) == set(multiprocessing.get_all_start_methods())
    assert isinstance(details["gil_enabled"], bool)
    assert details["packages"]["mplessons"] == mplessons.__version__
    text = info_text(details)
    for label in ("Usable cores", "Start method", "GIL", "Python"):
        assert label in text


def test_cli_info_prints_a_table_and_json():
    table = subprocess.run([sys.executable, "-m", "mplessons", "info"], capture_output=True, text=True, check=True)
    assert "Usable cores" in table.stdout
    raw = subprocess.run([sys.executable, "-m", "mplessons", "info", "--json"], capture_output=True, text=True,
                         check=True)
    details = json.loads(raw.stdout)
    assert details["python"].count(".") == 2
    assert {"free_threaded_build", "gil_enabled", "interpreters", "free_threaded_python"} <= set(details)


def test_cli_without_a_command_explains_usage():
    out = subprocess.run([sys.executable, "-m", "mplessons"], capture_output=True, text=True)
    assert out.returncode == 2
    assert "info" in out.stderr


def test_info_says_what_this_python_offers_for_threads():
    details = mplessons.info()
    assert details["free_threaded_build"] == bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    assert details["gil_enabled"] == (sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True)
    has_interpreters = importlib.util.find_spec("concurrent.interpreters") is not None
    assert details["interpreters"] is interpreters_available() is has_interpreters
    text = info_text(details)
    assert "Interpreters" in text and "Free-threaded Python" in text
    assert ("InterpreterPoolExecutor available" in text) is has_interpreters


def test_info_names_a_free_threaded_python_found_and_survives_a_bad_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("MPLESSONS_FREE_THREADED_PYTHON", sys.executable)
    assert mplessons.info()["free_threaded_python"] == f"{sys.executable} ($MPLESSONS_FREE_THREADED_PYTHON)"
    monkeypatch.setenv("MPLESSONS_FREE_THREADED_PYTHON", str(tmp_path / "python3.14t"))
    found = mplessons.info()["free_threaded_python"]
    assert found.startswith("none (") and "MPLESSONS_FREE_THREADED_PYTHON" in found
    monkeypatch.delenv("MPLESSONS_FREE_THREADED_PYTHON")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert mplessons.info()["free_threaded_python"] is None
    assert "none found" in info_text()


def test_info_text_speaks_the_students_language_and_its_columns_line_up(monkeypatch):
    """The zh twins print it: labels translated, and the colons in one column although CJK characters are
    two columns wide."""
    from mplessons.i18n import columns

    monkeypatch.setenv("MPLESSONS_LANG", "zh")
    lines = info_text().splitlines()
    assert any(line.startswith("可用核心") for line in lines), lines
    assert len({columns(line.split(" : ")[0]) for line in lines}) == 1, lines
