"""Every public function and CLI option refuses bad input at once, naming the parameter and what is allowed.

Property-tested with hypothesis: for each parameter of each public function, bad values (zero, negative,
fractional, string, None where not allowed, huge; unknown names; empty or non-iterable items; non-callables)
must raise ValueError/TypeError within 1 s, from mplessons' own checks (not from deep inside multiprocessing,
numpy or matplotlib), and without starting a single process. Public functions and their parameters are
discovered from ``mplessons.__all__``, so a new one fails ``test_every_public_parameter_is_covered`` until it
is listed here.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import math
import multiprocessing.process
import os
import re
import subprocess
import sys
import time
import traceback
from pathlib import Path
from unittest import mock

import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mplessons
import mplessons.widgets
from mplessons import workloads
from mplessons.__main__ import main as cli_main
from mplessons.runner import BACKENDS

PACKAGE = Path(mplessons.__file__).parent
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
METHODS = multiprocessing.get_all_start_methods()

# --- what is bad, by parameter name ---------------------------------------------------------------

not_int = st.one_of(st.floats(allow_nan=True).filter(lambda x: not float(x).is_integer()),
                    st.sampled_from(["2", "two", b"2", [2], True, False]))
non_positive = st.integers(max_value=0)
count = st.one_of(non_positive, not_int, st.just(None))  # None: only for parameters without a default of None
count_or_none = st.one_of(non_positive, not_int)
huge = st.integers(min_value=10**6, max_value=10**12)
seconds = st.one_of(st.floats(max_value=0), st.sampled_from([math.nan, math.inf, "1", "soon", [1]]))
seconds_or_none = seconds
names = st.one_of(st.text(max_size=12), st.sampled_from(["", "Fork", "threads", "gpu", " spawn"]))


def unknown(allowed):
    return st.one_of(names.filter(lambda s: s not in allowed), st.sampled_from([1, 2.5, ["fork"], b"fork"]))


non_callables = st.one_of(st.integers(), st.text(max_size=5), st.none(), st.lists(st.integers(), max_size=2))
bad_items = st.one_of(st.just([]), st.just(()), st.just(range(0)), st.integers(), st.none(), st.floats(),
                      st.text(max_size=5))
bad_counts_list = st.one_of(st.just([]), st.lists(st.one_of(non_positive, not_int), min_size=1, max_size=3),
                            st.integers(max_value=0), st.text(max_size=3))
bad_number_list = st.one_of(st.just([]), st.integers(), st.none(), st.text(min_size=1, max_size=3),
                            st.lists(st.sampled_from(["2", None, math.nan, math.inf]), min_size=2, max_size=2))

BAD = {
    "fn": non_callables,
    "items": bad_items,
    "backend": unknown(BACKENDS),
    "start_method": unknown(METHODS),
    "workers": st.one_of(count_or_none, huge),
    "chunksize": count_or_none,
    "timeout": seconds_or_none,
    "repeat": st.one_of(count, huge),
    "baseline": unknown(("one-worker", "serial")),
    "target_seconds": st.one_of(seconds, st.none()),
    "task_seconds": st.one_of(seconds, st.none()),
    "budget_seconds": st.one_of(seconds, st.none()),
    "exponent": st.one_of(st.floats(max_value=0), st.sampled_from(["1", math.nan, math.inf])),
    "start": count,
    "max_size": count,
    "size": st.one_of(count_or_none, huge),  # huge: not one of the lab's sizes
    "sizes": bad_counts_list,
    "tasks": st.one_of(count_or_none, huge),
    "max_workers": st.one_of(count_or_none, huge),
    "speedups": bad_number_list,
    "cores": count_or_none,
    "serial_fraction": st.one_of(st.floats(max_value=-0.01), st.floats(min_value=1.01), st.just("x")),
    "width": st.one_of(seconds, st.none()),
    "runs": st.one_of(st.just([]), st.integers(), st.none(), st.text(max_size=3), st.just([1, 2])),
    "results": st.one_of(st.integers(), st.text(max_size=3), st.just([1]), st.just([])),
    "scheduler": st.one_of(st.sampled_from(["nonsense", "http//x", "tcp:/", 5]), st.text(max_size=5)),
    "lang": st.one_of(st.sampled_from(["fr", "", "zh-TW", "english", None, 5]), st.text(max_size=3).filter(
        lambda t: t.strip().lower() not in ("en", "zh", "cn"))),
}
# The same name can mean a sequence elsewhere.
BAD_FOR = {
    ("amdahl_fit", "workers"): bad_number_list,
    ("plot_speedup", "workers"): bad_number_list,
    ("sweep", "workers"): st.one_of(count_or_none.filter(lambda v: not isinstance(v, list)), huge, bad_counts_list),
    ("sweep", "repeat"): st.one_of(count, st.integers(min_value=101, max_value=10**9)),
}

# Parameters that take any value on purpose (free text, flags, an IPython shell, figure axes).
FREE = {"label", "title", "axes", "progress", "efficiency", "details", "ipython"}
# Public functions whose parameters are not checked here, and why.
SKIPPED = {"load_ipython_extension": "IPython calls it with its own shell; users never call it"}


def _result():
    return mplessons.run_tasks(workloads.square, [1, 2], backend="serial")


VALID = {  # arguments that work, so each test changes one parameter only
    "run_tasks": lambda: {"fn": workloads.square, "items": range(4), "workers": 2},
    "sweep": lambda: {"fn": workloads.square, "items": range(4), "workers": [1, 2], "repeat": 1, "progress": False},
    "calibrate": lambda: {"fn": workloads.square, "target_seconds": 0.001},
    "check_worker": lambda: {"fn": workloads.square},
    "context": lambda: {},
    "amdahl_fit": lambda: {"workers": [1, 2, 4], "speedups": [1.0, 1.8, 3.0]},
    "plot_speedup": lambda: {"workers": [1, 2], "speedups": [1.0, 1.8]},
    "plot_timeline": lambda: {"runs": _result()},
    "widgets.speedup_lab": lambda: {"sizes": [10, 20, 30]},
    "set_language": lambda: {"lang": "en"},
}
VALID_FOR = {("run_tasks", "scheduler"): {"backend": "dask"}}


def public_functions() -> dict:
    found = {name: getattr(mplessons, name) for name in mplessons.__all__
             if inspect.isfunction(getattr(mplessons, name)) and name not in SKIPPED}
    found["widgets.speedup_lab"] = mplessons.widgets.speedup_lab
    return found


def cases() -> list[tuple[str, str]]:
    return [(name, param) for name, fn in public_functions().items()
            for param in inspect.signature(fn).parameters if param not in FREE]


def test_every_public_parameter_is_covered():
    missing = [(name, param) for name, param in cases()
               if param not in BAD and (name, param) not in BAD_FOR or name not in VALID]
    assert missing == [], f"public parameters without bad-input checks: {missing}"


@contextlib.contextmanager
def no_process_may_start():
    def refuse(self):
        raise AssertionError(f"a process was started despite bad input: {self!r}")

    before = {p.pid for p in psutil.Process().children(recursive=True)}
    with mock.patch.object(multiprocessing.process.BaseProcess, "start", refuse):
        yield
    new = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
    assert new == [], f"processes appeared: {new}"


def assert_clear_refusal(call, param: str) -> BaseException:
    """``call()`` must raise ValueError/TypeError naming ``param`` and what is allowed, from mplessons, in 1 s."""
    started = time.perf_counter()
    with no_process_may_start(), pytest.raises((ValueError, TypeError)) as err:
        call()
    elapsed = time.perf_counter() - started
    exc = err.value
    message = str(exc)
    assert elapsed < 1, f"took {elapsed:.2f} s to refuse"
    assert re.search(rf"\b{param}\b", message), f"message does not name {param!r}: {message}"
    assert re.search(r"must|one of|at least|needs|\d\.\.\d|only used with|address", message), \
        f"message does not say what is allowed: {message}"
    frames = traceback.extract_tb(exc.__traceback__)
    deep = [f.filename for f in frames if re.search(r"[/\\](multiprocessing|concurrent|numpy|matplotlib)[/\\]",
                                                        f.filename)]
    assert deep == [], f"raised from inside {deep[-1]}: {message}"
    assert Path(frames[-1].filename).resolve().is_relative_to(PACKAGE), f"raised outside mplessons: {frames[-1]}"
    assert exc.__cause__ is None or isinstance(exc.__cause__, (ValueError, TypeError))
    return exc


@pytest.fixture(scope="module", autouse=True)
def _warm_imports():
    """Load numpy, matplotlib and ipywidgets once, so the 1 s bound times the checks, not first imports."""
    import matplotlib

    matplotlib.use("Agg")
    for name in ("sweep", "plot_speedup", "plot_timeline", "amdahl_fit"):
        getattr(mplessons, name)


@pytest.mark.parametrize(("name", "param"), cases())
def test_bad_values_are_refused_clearly(name, param):
    fn = public_functions()[name]
    base = {**VALID[name](), **VALID_FOR.get((name, param), {})}
    strategy = BAD_FOR.get((name, param), BAD.get(param))

    @SETTINGS
    @given(value=strategy)
    def check(value):
        assert_clear_refusal(lambda: fn(**{**base, param: value}), param)

    check()


@pytest.mark.parametrize("backend", ["thread", "process", "dask"])
def test_a_huge_worker_count_is_refused_before_anything_starts(backend):
    assert_clear_refusal(lambda: mplessons.run_tasks(workloads.square, range(4), backend=backend, workers=10**6),
                         "workers")
    assert_clear_refusal(lambda: mplessons.sweep(workloads.square, range(4), workers=[1, 10**6]), "workers")
    assert_clear_refusal(lambda: mplessons.widgets.speedup_lab(max_workers=10**6, sizes=[1]), "max_workers")


def test_a_bad_start_method_in_the_environment_is_named(monkeypatch):
    monkeypatch.setenv("MPLESSONS_START_METHOD", "fastest")
    exc = assert_clear_refusal(lambda: mplessons.run_tasks(workloads.square, [1]), "MPLESSONS_START_METHOD")
    assert "fastest" in str(exc)


# --- the command line -------------------------------------------------------------------------------


def run_cli(argv: list[str]) -> tuple[int, str]:
    """Run ``main(argv)`` in this process; the benchmark itself must never start on bad input."""
    stderr = io.StringIO()
    with mock.patch("mplessons.bench.run_benchmark", side_effect=AssertionError("bench started")), \
            mock.patch("mplessons.__main__.info", side_effect=AssertionError("info ran")), \
            contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()), \
            pytest.raises(SystemExit) as exit_:
        cli_main(argv)
    return exit_.value.code, stderr.getvalue()


@pytest.mark.parametrize(("argv", "names"), [
    (["bench", "--start-method", "x"], "--start-method"),
    (["frobnicate"], "invalid choice"),
    ([], "required"),
    (["info", "--bogus"], "--bogus"),
    (["bench", "--quick", "extra"], "extra"),
    (["bench", "--notebooks", "/no/such/folder"], "--notebooks"),
    (["bench", "--json", "/no/such/folder/b.json"], "--json"),
    (["bench", "--plot", "/no/such/folder/b.png"], "--plot"),
    (["bench", "--json"], "--json"),
])
def test_cli_usage_errors_exit_2_with_usage(argv, names):
    code, stderr = run_cli(argv)
    assert code == 2 and "usage:" in stderr and names in stderr, stderr


@SETTINGS
@given(method=names.filter(lambda s: s not in METHODS and not s.startswith("-")))
def test_cli_any_unknown_start_method_is_a_usage_error(method):
    code, stderr = run_cli(["bench", "--start-method", method])
    assert code == 2 and "--start-method" in stderr and "choose from" in stderr


@SETTINGS
@given(command=st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_", min_size=1, max_size=10)
       .filter(lambda s: s not in ("info", "bench") and not s.startswith("-")))
def test_cli_any_unknown_subcommand_is_a_usage_error(command):
    code, stderr = run_cli([command])
    assert code == 2 and "usage:" in stderr and "choose from" in stderr


@SETTINGS
@given(option=st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=10).map(lambda s: "--x" + s),
       command=st.sampled_from(["info", "bench"]))
def test_cli_any_unknown_option_is_a_usage_error(option, command):
    code, stderr = run_cli([command, option])
    assert code == 2 and "unrecognized arguments" in stderr and option in stderr


@pytest.mark.parametrize(("argv", "env"), [
    (["bench", "--start-method", "x"], {}),
    (["frobnicate"], {}),
    (["info"], {"MPLESSONS_START_METHOD": "x"}),
])
def test_the_real_command_exits_2_without_a_traceback(argv, env):
    out = subprocess.run([sys.executable, "-m", "mplessons", *argv], capture_output=True, text=True, timeout=60,
                         env={**os.environ, **env})
    assert out.returncode == 2, out
    assert "usage:" in out.stderr and "Traceback" not in out.stderr
