"""mplessons: run Python multiprocessing lessons inside Jupyter, under fork, spawn and forkserver.

Notebook cells teach the standard library; this package holds what must be importable by worker processes
(``mplessons.workloads``), the guard that turns a would-be hang into a clear error (``check_worker``), the
``%%worker_module`` magic, and the timing harness behind the lessons' plots.
"""

from __future__ import annotations

from .errors import InteractiveFunctionError, MPLessonsError, TaskTimeoutError, WorkerCrashedError
from .guard import InteractiveFunctionWarning, check_worker, load_ipython_extension
from .machine import context, default_start_method, gil_enabled, info, info_text, start_methods, usable_cores
from .runner import RunResult, TaskRecord, run_tasks

__version__ = "0.1.0"

__all__ = [
    "InteractiveFunctionError",
    "InteractiveFunctionWarning",
    "MPLessonsError",
    "RunResult",
    "TaskRecord",
    "TaskTimeoutError",
    "WorkerCrashedError",
    "check_worker",
    "context",
    "default_start_method",
    "gil_enabled",
    "info",
    "info_text",
    "load_ipython_extension",
    "run_tasks",
    "start_methods",
    "usable_cores",
]
