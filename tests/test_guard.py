import functools
import sys
import warnings

import pytest

import mplessons
from mplessons import guard, workloads


def _make_main_function(monkeypatch):
    """A function that lives in ``__main__`` as a notebook cell's does, with ``__main__`` not importable."""
    namespace: dict = {"__name__": "__main__"}
    exec("def job(x):\n    return x + 1\n", namespace)
    monkeypatch.setattr(sys.modules["__main__"], "job", namespace["job"], raising=False)
    monkeypatch.setattr(guard, "_main_is_importable", lambda: False)
    return namespace["job"]


def test_module_functions_pass_under_every_start_method(start_method):
    assert mplessons.check_worker(workloads.cubic_sum, start_method) is workloads.cubic_sum
    partial = functools.partial(workloads.sleep_then_return, 0)
    assert mplessons.check_worker(partial, start_method) is partial


def test_notebook_function_is_refused_under_spawn_and_forkserver(monkeypatch, start_method):
    job = _make_main_function(monkeypatch)
    if start_method == "fork":
        with pytest.warns(mplessons.InteractiveFunctionWarning, match="works under 'fork'.*hangs under 'spawn'"):
            assert mplessons.check_worker(job, "fork") is job
        return
    with pytest.raises(mplessons.InteractiveFunctionError) as err:
        mplessons.check_worker(job, start_method)
    message = str(err.value)
    assert "`job` is defined in this notebook" in message
    assert f"'{start_method}'" in message
    assert "import it from a module" in message and "%%worker_module" in message


def test_lambda_and_nested_functions_are_refused_under_every_start_method(start_method):
    def outer():
        def inner(x):
            return x

        return inner

    with pytest.raises(mplessons.InteractiveFunctionError, match="is a lambda"):
        mplessons.check_worker(lambda x: x, start_method)
    with pytest.raises(mplessons.InteractiveFunctionError, match="defined inside another function"):
        mplessons.check_worker(outer(), start_method)


def test_the_error_is_also_a_type_error_so_generic_handlers_catch_it():
    assert issubclass(mplessons.InteractiveFunctionError, TypeError)


def test_non_callables_are_a_type_error_naming_fn():
    with pytest.raises(TypeError, match="fn must be a function"):
        mplessons.check_worker(42)


def test_unknown_start_method_is_refused_before_anything_else():
    with pytest.raises(ValueError, match="start_method"):
        mplessons.check_worker(workloads.square, "threads")


def test_script_main_is_importable_so_no_warning(monkeypatch):
    namespace: dict = {"__name__": "__main__"}
    exec("def job(x):\n    return x\n", namespace)
    monkeypatch.setattr(sys.modules["__main__"], "job", namespace["job"], raising=False)
    monkeypatch.setattr(guard, "_main_is_importable", lambda: True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mplessons.check_worker(namespace["job"], "spawn")


# --- %%worker_module, in-process -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [("", "needs a module name"), ("my-jobs", "not a valid module name"), ("2jobs", "not a valid module name"),
     ("class", "not a valid module name"), ("math", "shadow the standard library"),
     ("json", "shadow the standard library"), ("pytest", "already the name of an imported module")],
)
def test_bad_worker_module_names_are_refused(tmp_path, monkeypatch, name, reason):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=reason):
        guard.worker_module(name, "def f(x):\n    return x\n", {})
    assert not list(tmp_path.glob("*.py"))


def test_worker_module_writes_imports_and_reloads(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    namespace: dict = {}
    try:
        guard.worker_module("mpl_test_jobs", "from math import sqrt\n\ndef twice(x):\n    return 2 * x\n", namespace)
        assert namespace["twice"](4) == 8
        assert "sqrt" not in namespace, "imported helpers are not the module's public names"
        assert "worker module 'mpl_test_jobs' ready (mpl_test_jobs.py): twice" in capsys.readouterr().out
        mplessons.check_worker(namespace["twice"], "spawn")
        guard.worker_module("mpl_test_jobs", "def twice(x):\n    return 3 * x\n", namespace)
        assert namespace["twice"](4) == 12, "re-running the cell must pick up the edit"
    finally:
        sys.modules.pop("mpl_test_jobs", None)
