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


# --- %%worker_module: names the cell uses but does not define, and __main__ blocks ------------------------


def run_cell(tmp_path, monkeypatch, cell: str, namespace: dict, name: str = "mpl_lint_jobs"):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        return guard.worker_module(name, cell, namespace)
    finally:
        sys.modules.pop(name, None)


def test_worker_module_names_each_undefined_name_and_its_fix(tmp_path, monkeypatch, capsys):
    import random

    namespace = {"random": random, "FACTOR": 5}
    cell = ("import math\nimport os\n\n\ndef pick(x):\n"
            "    return random.random() * FACTOR + math.pi + len([x]) + max(x, 0)\n")
    run_cell(tmp_path, monkeypatch, cell, namespace)
    out = capsys.readouterr().out
    assert "uses names that this cell neither defines nor imports" in out and "NameError" in out
    assert "• random: add `import random` to this cell" in out
    assert ("• FACTOR: worker modules do not see the notebook's variables: pass FACTOR as an argument or define "
            "it in the cell") in out
    for quiet in ("math", "os", "len", "max"):  # imported here, unused, or builtins: not the student's problem
        assert f"• {quiet}:" not in out
    assert out.index("• random") < out.index("worker module 'mpl_lint_jobs' ready"), "the note comes first"


def test_a_cell_without_such_names_gets_no_note(tmp_path, monkeypatch, capsys):
    run_cell(tmp_path, monkeypatch, "import random\n\n\ndef pick(x):\n    return random.random() + x\n", {})
    assert capsys.readouterr().out.startswith("worker module 'mpl_lint_jobs' ready")


def test_the_note_is_printed_even_when_the_import_then_fails(tmp_path, monkeypatch, capsys):
    with pytest.raises(NameError, match="random"):
        run_cell(tmp_path, monkeypatch, "SEED = random.random()\n", {})
    assert "• random: add `import random` to this cell" in capsys.readouterr().out


def test_a_main_block_gets_a_note_and_its_names_are_not_reported(tmp_path, monkeypatch, capsys):
    cell = ('def job(x):\n    return x * x\n\n\nif __name__ == "__main__":\n'
            '    with Pool(2) as pool:\n        print(pool.map(job, range(4)))\n')
    run_cell(tmp_path, monkeypatch, cell, {})
    out = capsys.readouterr().out
    assert 'the `if __name__ == "__main__":` block (line 6 of the cell) does not run here' in out
    assert "its __name__ is 'mpl_lint_jobs'" in out and "Put that code in the next cell" in out
    assert "• Pool" not in out, "a block that never runs needs no imports"


@pytest.mark.parametrize(("namespace", "name", "advice"), [
    ({}, "json", "add `import json` to this cell"),
    ({}, "np", "add `import numpy as np` to this cell"),
    ({"np": pytest.importorskip("numpy")}, "np", "add `import numpy as np` to this cell"),
    ({"square": workloads.square}, "square", "add `from mplessons.workloads import square` to this cell"),
    ({"plt_like": functools}, "plt_like", "add `import functools as plt_like` to this cell"),
    ({"Pool": __import__("multiprocessing").Pool}, "Pool", "add `from multiprocessing import Pool` to this cell"),
    ({"partial": functools.partial}, "partial", "add `from functools import partial` to this cell"),
    ({}, "no_such_name_here", "pass no_such_name_here as an argument or define it in the cell"),
])
def test_the_advice_for_each_kind_of_name(namespace, name, advice):
    from mplessons import worker_lint

    assert advice in worker_lint.advice(name, namespace)


def test_a_function_from_another_cell_is_named_as_such():
    from mplessons import worker_lint

    namespace: dict = {"__name__": "__main__"}
    exec("def helper(x):\n    return x\n", namespace)
    assert "defined in another notebook cell" in worker_lint.advice("helper", namespace)


def test_a_cell_that_does_not_parse_gets_no_notes_and_the_import_reports_it(tmp_path, monkeypatch, capsys):
    with pytest.raises(SyntaxError):
        run_cell(tmp_path, monkeypatch, "def job(x)\n    return random.random()\n", {})
    assert "⚠" not in capsys.readouterr().out
