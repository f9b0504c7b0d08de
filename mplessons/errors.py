"""The errors mplessons raises instead of letting multiprocessing hang or print a deep traceback."""

from __future__ import annotations


class MPLessonsError(Exception):
    """Base class, so a lesson can catch every mplessons error at once."""


class InteractiveFunctionError(MPLessonsError, TypeError):
    """Child processes could not import the function they were asked to run.

    A subclass of TypeError because the *function given* is unsuitable, like passing a wrong type.
    """


class WorkerCrashedError(MPLessonsError, RuntimeError):
    """A worker process died (killed, ``os._exit``, segfault) before returning a result."""

    def __init__(self, message: str, *, task_index: int | None = None, exitcode: int | None = None):
        super().__init__(message)
        self.task_index = task_index
        self.exitcode = exitcode


class TaskTimeoutError(MPLessonsError, TimeoutError):
    """Tasks were still running when ``timeout=`` ran out; the workers have been stopped."""

    def __init__(self, message: str, *, unfinished: list[int] | None = None):
        super().__init__(message)
        self.unfinished = unfinished or []
