"""Notebook-defined functions vs start methods, and the ``%%worker_module`` cell magic.

Under ``spawn`` (a fresh Python) and ``forkserver`` (a fork of a server process) the workers never ran the
notebook's cells, and a task's function reaches them by module and name. A function defined in a cell lives in
the kernel's ``__main__``, which has no file to import, so each worker dies when it unpickles its first chunk
of tasks; a ``Pool`` replaces the dead workers and, once every chunk is lost, waits forever, while a
``ProcessPoolExecutor`` raises ``BrokenProcessPool``. These helpers catch that before any process starts, and
give students a one-line way to make their own cells importable.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import keyword
import os
import pickle
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import InteractiveFunctionError
from .i18n import N_, tr
from .machine import resolve_start_method
from .validation import callable_fn

FIXES = N_(
    "Fix it either way:\n"
    "  1. import it from a module: put the function in a .py file next to the notebook and import it\n"
    "     (the lessons' own workers are in mplessons.workloads), or\n"
    "  2. in the notebook: run `%load_ext mplessons` once, then start the cell that defines it with\n"
    "     `%%worker_module my_jobs` - the cell becomes module my_jobs, which every worker can import."
)
"""How to make a notebook function importable; in the student's language: ``tr(FIXES)``."""


class InteractiveFunctionWarning(UserWarning):
    """A function works here only because of ``fork``; it would fail under spawn or forkserver."""


def _describe(fn: Callable[..., Any]) -> str:
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    return f"`{name}`"


def _main_is_importable() -> bool:
    """Whether spawn/forkserver children can re-create ``__main__`` (a script can be, a kernel cannot)."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and getattr(spec, "name", None):
        return True
    main_file = getattr(main, "__file__", None)
    return bool(main_file) and str(main_file).endswith(".py") and os.path.exists(main_file)


def _target(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The function whose module matters: unwrap partials and bound methods."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    return getattr(fn, "__func__", fn)


def check_worker(fn: Callable[..., Any], start_method: str | None = None) -> Callable[..., Any]:
    """Raise :class:`InteractiveFunctionError` if child processes could not import ``fn``.

    Returns ``fn`` unchanged so it can be used inline: ``pool.map(check_worker(job), items)``.
    Under ``fork`` a function defined in the notebook works (children are copies of the kernel), so this
    only warns, because with spawn (macOS, Windows) or forkserver (Linux from Python 3.14) the same cell
    would hang a ``Pool`` and break a ``ProcessPoolExecutor``.
    """
    callable_fn("fn", fn)
    method = resolve_start_method(start_method)
    target = _target(fn)
    described = _describe(target)
    qualname = getattr(target, "__qualname__", "")

    if getattr(target, "__name__", "") == "<lambda>" or "<locals>" in qualname:
        kind = tr("a lambda") if target.__name__ == "<lambda>" else tr("defined inside another function")
        raise InteractiveFunctionError(tr(
            "{function} is {kind}, so it cannot be pickled and sent to a worker process under any start "
            "method (Pool, ProcessPoolExecutor and run_tasks send functions by module and name).\n"
            "Define it with `def` at the top level of a module instead.\n{fixes}",
            function=described, kind=kind, fixes=tr(FIXES),
        ))
    try:
        pickle.dumps(fn)
    except Exception as exc:  # noqa: BLE001 - any pickling failure means workers cannot receive it
        error = f"{type(exc).__name__}: {exc}"
        raise InteractiveFunctionError(tr(
            "{function} cannot be pickled to send to a worker process ({error}).\n{fixes}",
            function=described, error=error, fixes=tr(FIXES),
        )) from None

    module = getattr(target, "__module__", None) or type(target).__module__
    if module == "__main__":
        if _main_is_importable():
            return fn
        if method == "fork":
            warnings.warn(
                tr("{function} is defined in this notebook. It works under 'fork' because each worker is a "
                   "copy of this kernel, but the same code hangs under 'spawn' (macOS, Windows) and "
                   "'forkserver' (Linux's default from Python 3.14) with a multiprocessing Pool, and raises "
                   "BrokenProcessPool with a ProcessPoolExecutor.\n{fixes}", function=described, fixes=tr(FIXES)),
                InteractiveFunctionWarning,
                stacklevel=2,
            )
            return fn
        how = tr("a fresh Python") if method == "spawn" else tr("forked from a server process")
        raise InteractiveFunctionError(tr(
            "{function} is defined in this notebook (the kernel's __main__). Under the '{method}' start method "
            "each worker is {how} that never ran this notebook's cells, and a pool sends it functions by module "
            "and name only. There is no module file to find {function} in, so each worker would die "
            "(AttributeError) when it unpickles its first chunk of tasks: a multiprocessing Pool replaces the "
            "dead workers and then waits forever; a ProcessPoolExecutor raises BrokenProcessPool.\n{fixes}",
            function=described, method=method, how=how, fixes=tr(FIXES),
        ))

    if module not in sys.modules or importlib.util.find_spec(module) is None:
        raise InteractiveFunctionError(tr(
            "{function} comes from module {module!r}, which worker processes cannot import from sys.path.\n"
            "{fixes}", function=described, module=module, fixes=tr(FIXES),
        ))
    return fn


# --- %%worker_module -------------------------------------------------------------------------------

HEADER = "# Written by %%worker_module from a notebook cell: edit the cell and re-run it, not this file.\n"
"""The first line of every worker module file, and how one is recognised: English in every language, so that a
file written in a zh session is still recognised (and may be overwritten) in an English one."""


def _check_module_name(name: str) -> str:
    """Refuse names that are not importable or that would shadow a real module."""
    if not name:
        raise ValueError(tr("%%worker_module needs a module name, e.g. `%%worker_module my_jobs`"))
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(tr(
            "%%worker_module name {name!r} is not a valid module name: use letters, digits and _, "
            "not starting with a digit, e.g. my_jobs", name=name,
        ))
    if name in sys.stdlib_module_names or name in sys.builtin_module_names:
        raise ValueError(tr(
            "%%worker_module name {name!r} would shadow the standard library module {name!r}; "
            "choose another name, e.g. my_{name}", name=name,
        ))
    existing = sys.modules.get(name)
    if existing is not None and not _is_worker_module(existing):
        raise ValueError(tr(
            "%%worker_module name {name!r} is already the name of an imported module; choose another name", name=name,
        ))
    if existing is None:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin and Path(spec.origin).resolve() != (Path.cwd() / f"{name}.py").resolve():
            raise ValueError(tr(
                "%%worker_module name {name!r} would shadow the installed module {name!r}; choose another name",
                name=name,
            ))
    return name


def _is_worker_module(module: Any) -> bool:
    path = getattr(module, "__file__", None)
    if not path or not os.path.exists(path):
        return False
    with open(path, encoding="utf-8") as f:
        return f.readline() == HEADER


def write_worker_module(name: str, source: str) -> Any:
    """Write ``source`` as ``NAME.py`` in the working directory and (re)import it.

    The working directory is on ``sys.path`` of the kernel and of its children under every start method
    (spawn and forkserver copy both the path and the directory), which is what makes the module findable
    by workers - the same as writing the file by hand with ``%%writefile``.
    """
    _check_module_name(name)
    path = Path.cwd() / f"{name}.py"
    try:
        path.write_text(HEADER + source, encoding="utf-8")
    except OSError as exc:
        raise OSError(tr(
            "%%worker_module could not write {name}.py in the notebook's folder ({reason}); "
            "open the notebook from a folder you can write to", name=name, reason=exc.strerror,
        )) from None
    for stale in Path.cwd().joinpath("__pycache__").glob(f"{name}.*.pyc"):
        stale.unlink(missing_ok=True)  # same-second edits keep the old mtime: never run stale bytecode
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    importlib.invalidate_caches()
    if name in sys.modules:
        return importlib.reload(sys.modules[name])
    return importlib.import_module(name)


def public_names(module: Any) -> dict[str, Any]:
    """What ``from module import *`` would give: ``__all__``, else names without a leading underscore."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in vars(module) if not n.startswith("_")]
        names = [n for n in names if getattr(getattr(module, n), "__module__", module.__name__) == module.__name__
                 or not callable(getattr(module, n))]
    return {n: getattr(module, n) for n in names}


def worker_module(line: str, cell: str, namespace: dict[str, Any] | None = None) -> list[str]:
    """Body of the ``%%worker_module NAME`` magic; returns the names it put into ``namespace``."""
    from . import worker_lint  # imports pyflakes: only here, not in every worker that imports mplessons

    name = line.strip()
    _check_module_name(name)
    for note in worker_lint.notes(name, cell, namespace):  # before the import, which may fail on these very names
        print(note)
    module = write_worker_module(name, cell)
    names = public_names(module)
    if namespace is not None:
        namespace.update(names)
        namespace[name] = module
    shown = ", ".join(sorted(n for n, v in names.items() if callable(v))) or tr("(no functions)")
    print(tr("worker module {name!r} ready ({name}.py): {functions}", name=name, functions=shown))
    return sorted(names)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext mplessons`` registers ``%%worker_module``."""

    def _magic(line: str, cell: str) -> None:
        worker_module(line, cell, ipython.user_ns)

    _magic.__doc__ = worker_module.__doc__
    ipython.register_magic_function(_magic, magic_kind="cell", magic_name="worker_module")
