"""mplessons: run Python multiprocessing lessons inside Jupyter, under fork, spawn and forkserver.

Notebook cells teach the standard library; this package holds what must be importable by worker processes
(``mplessons.workloads``), the guard that turns a would-be hang into a clear error (``check_worker``), the
``%%worker_module`` magic, and the timing harness behind the lessons' plots.

It speaks English, or Simplified Chinese after ``set_language("zh")`` or with ``MPLESSONS_LANG=zh`` in the
environment (``mplessons.i18n`` says what is translated).
"""

from __future__ import annotations

from .errors import InteractiveFunctionError, MPLessonsError, TaskTimeoutError, WorkerCrashedError
from .guard import InteractiveFunctionWarning, check_worker, load_ipython_extension
from .i18n import language, set_language
from .machine import context, default_start_method, gil_enabled, info, info_text, start_methods, usable_cores
from .runner import RunResult, TaskRecord, run_tasks
from .timing import calibrate

__version__ = "0.1.0"

# numpy, matplotlib and ipywidgets load on first use only, so that `import mplessons` (which every worker
# process does under spawn) stays cheap.
_LAZY = {"sweep": "speedup", "amdahl_fit": "speedup", "SweepResult": "speedup",
         "plot_speedup": "plots", "plot_timeline": "plots", "widgets": None}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'mplessons' has no attribute {name!r}")
    import importlib

    module = importlib.import_module(f".{_LAZY[name] or name}", __name__)
    return module if _LAZY[name] is None else getattr(module, name)

__all__ = [
    "InteractiveFunctionError",
    "InteractiveFunctionWarning",
    "MPLessonsError",
    "RunResult",
    "TaskRecord",
    "TaskTimeoutError",
    "SweepResult",
    "WorkerCrashedError",
    "amdahl_fit",
    "calibrate",
    "check_worker",
    "context",
    "default_start_method",
    "gil_enabled",
    "info",
    "info_text",
    "language",
    "load_ipython_extension",
    "plot_speedup",
    "plot_timeline",
    "run_tasks",
    "set_language",
    "start_methods",
    "sweep",
    "usable_cores",
]
