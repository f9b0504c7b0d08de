"""What this machine offers a parallel program: usable cores, start methods, the GIL."""

from __future__ import annotations

import multiprocessing
import os
import platform
import sys
from multiprocessing.context import BaseContext
from typing import Any

from .i18n import columns, tr
from .validation import one_of

START_METHOD_ENV = "MPLESSONS_START_METHOD"
FREE_THREADED_ENV = "MPLESSONS_FREE_THREADED_PYTHON"  # read by mplessons.free_threading


def usable_cores() -> int:
    """Cores this process may really use: CPU affinity (``taskset``) and cgroup quotas honoured.

    ``os.cpu_count()`` counts the machine's logical CPUs, which overstates what a container or a
    ``taskset -c 0`` shell can use; loky's ``cpu_count`` takes the minimum of all the limits.
    """
    from loky import cpu_count  # imported here: every spawned worker imports mplessons, and loky is slow to load

    return max(1, int(cpu_count(only_physical_cores=False)))


def logical_cores() -> int:
    """All logical CPUs the operating system reports, whether or not this process may use them."""
    return os.cpu_count() or 1


def physical_cores() -> int:
    """Physical cores: hyper-threads share one core's arithmetic units, so CPU-bound speedup flattens past this."""
    from loky import cpu_count

    return max(1, int(cpu_count(only_physical_cores=True)))


def start_methods() -> list[str]:
    """The start methods this platform supports (fork and forkserver are POSIX-only)."""
    return list(multiprocessing.get_all_start_methods())


def default_start_method() -> str:
    """The method mplessons will use: ``$MPLESSONS_START_METHOD`` if set, else Python's default."""
    chosen = os.environ.get(START_METHOD_ENV, "").strip()
    if chosen:
        return _valid_method(chosen, source=f"${START_METHOD_ENV}")
    return multiprocessing.get_start_method(allow_none=False)


def _valid_method(name: Any, *, source: str = "start_method") -> str:
    return one_of(source, name, start_methods())


def resolve_start_method(start_method: str | None = None) -> str:
    """Validate an explicit start method, or fall back to :func:`default_start_method`."""
    return default_start_method() if start_method is None else _valid_method(start_method)


def context(start_method: str | None = None) -> BaseContext:
    """A multiprocessing context for ``start_method`` (default: ``$MPLESSONS_START_METHOD`` or Python's).

    Lessons write ``ctx = mplessons.context()`` and then ``ctx.Pool``, ``ctx.Process``, ``ctx.Queue``: the
    same cells then run under fork, spawn and forkserver, chosen from outside the notebook.
    """
    method = resolve_start_method(start_method)
    _release_resources_before_kernel_shutdown()
    return multiprocessing.get_context(method)


def _release_resources_before_kernel_shutdown() -> None:
    """In a Jupyter kernel, free multiprocessing's semaphores and stop its resource tracker at shutdown.

    On shutdown ipykernel ends the kernel before Python's exit handlers run, so under spawn and
    forkserver every Pool, Queue or Lock still referenced by a notebook variable keeps its named
    semaphores, and the resource tracker prints "leaked semaphore objects" into the server's log. Running
    multiprocessing's own exit handlers first (as a plain script's exit would) and then stopping the
    tracker makes a kernel shutdown as clean as a script's end.
    """
    kernel = getattr(getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)(), "kernel", None)
    at_shutdown = getattr(kernel, "_at_shutdown", None)
    if at_shutdown is None or getattr(at_shutdown, "_mplessons", False):
        return

    async def release_then_shut_down() -> None:
        from multiprocessing import resource_tracker, util

        try:
            util._run_finalizers(0)  # what multiprocessing's atexit handler does: stop pools, unlink semaphores
            resource_tracker._resource_tracker._stop()
        except Exception:  # noqa: BLE001 - never block a shutdown
            pass
        await at_shutdown()

    release_then_shut_down._mplessons = True  # type: ignore[attr-defined]
    kernel._at_shutdown = release_then_shut_down


def gil_enabled() -> bool:
    """True unless this is a free-threaded build (3.13t+) running with the GIL switched off."""
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


def free_threaded_build() -> bool:
    """True for a free-threaded CPython build (``python3.13t``), whether or not the GIL is re-enabled."""
    import sysconfig

    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def interpreters_available() -> bool:
    """True where ``concurrent.interpreters`` and ``concurrent.futures.InterpreterPoolExecutor`` exist (3.14+).

    Both need the ``_interpreters`` C module, which some builds lack: so try them, not only the version.
    """
    try:
        import concurrent.interpreters  # noqa: F401
        from concurrent.futures import InterpreterPoolExecutor  # noqa: F401
    except (ImportError, AttributeError):
        return False
    return True


def free_threaded_python() -> str | None:
    """A free-threaded interpreter lesson 07 could run its demo in, found as that lesson finds it; or None.

    A ``$MPLESSONS_FREE_THREADED_PYTHON`` that names no program is reported as such rather than raised: ``info``
    must describe a misconfigured machine, not fail on it.
    """
    from .free_threading import find_interpreter

    try:
        found = find_interpreter()
    except ValueError as exc:
        return f"none ({exc})"
    return None if found is None else f"{found.path} ({found.found_by})"


def _version(package: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


INFO_PACKAGES = ("mplessons", "numpy", "matplotlib", "ipywidgets", "jupyterlab", "ipykernel", "loky",
                 "tqdm", "distributed")


def info() -> dict[str, Any]:
    """Everything a student (or a bug report) needs to know about this machine's parallel resources."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": f"{platform.system()} {platform.machine()}",
        "cpu": _cpu_model(),
        "logical_cores": logical_cores(),
        "physical_cores": physical_cores(),
        "usable_cores": usable_cores(),
        "start_method": default_start_method(),
        "python_default_start_method": multiprocessing.get_start_method(allow_none=False),
        "start_methods": start_methods(),
        "free_threaded_build": free_threaded_build(),
        "gil_enabled": gil_enabled(),
        "interpreters": interpreters_available(),
        "free_threaded_python": free_threaded_python(),
        "packages": {name: _version(name) for name in INFO_PACKAGES},
    }


def _cpu_model() -> str:
    """The CPU's model name where the OS tells it cheaply; ``platform.processor()`` is often empty."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def info_text(details: dict[str, Any] | None = None) -> str:
    """``info()`` as aligned text, for the CLI and the first lesson."""
    d = info() if details is None else details
    packages = ", ".join(f"{k} {v}" for k, v in d["packages"].items() if v)
    rows = [
        ("Python", f"{d['python']} ({d['implementation']}) on {d['platform']}"),
        ("CPU", d["cpu"]),
        (tr("Logical cores"), tr("{logical}  ({physical} physical)", logical=d["logical_cores"],
                                 physical=d["physical_cores"])),
        (tr("Usable cores"), tr("{usable}  (affinity and cgroup limits applied)", usable=d["usable_cores"])),
        (tr("Start method"), tr("{method}  (Python's default here: {default})", method=d["start_method"],
                                default=d["python_default_start_method"])),
        (tr("Start methods"), ", ".join(d["start_methods"])),
        ("GIL", tr("enabled") if d["gil_enabled"] else tr("disabled (free-threaded)")),
        (tr("Free-threaded build"), tr("yes") if d["free_threaded_build"] else tr("no")),
        (tr("Interpreters"), tr("concurrent.interpreters and InterpreterPoolExecutor available") if d["interpreters"]
         else tr("no concurrent.interpreters / InterpreterPoolExecutor (Python 3.14+)")),
        (tr("Free-threaded Python"), d["free_threaded_python"] or tr(
            "none found (python3.14t or python3.13t on PATH, or ${variable})", variable=FREE_THREADED_ENV)),
        (tr("Packages"), packages),
    ]
    width = max(columns(k) for k, _ in rows)
    return "\n".join(k + " " * (width - columns(k)) + f" : {v}" for k, v in rows)
