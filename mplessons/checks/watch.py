"""Watch what a student's function does while a check runs it: the processes and threads it starts and joins,
the pool calls it makes, all within a time limit.

A check that only looks at a function's return value cannot tell a parallel answer from a serial one, nor a
child process from the parent doing the work itself. So the check calls the function itself, with inputs of
its choosing, and records the calls that matter (``Process.start``/``join``, ``Pool.map`` and friends) by
wrapping those methods for the length of the call. The wrappers only record and pass every call on
unchanged: the function behaves as it does in the student's own cells. The call itself, with its time
limit, is :func:`.bounded.call_bounded`.
"""

from __future__ import annotations

import dis
import functools
import inspect
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import Any

# Code from these packages starts processes and threads of its own (a Pool's workers and handler threads,
# ipykernel's output threads): those are not the student's.
INFRASTRUCTURE = ("multiprocessing", "concurrent", "threading", "asyncio", "ipykernel", "IPython", "zmq",
                  "tornado", "jupyter_client", "traitlets", "distributed", "dask", "loky", "joblib",
                  "mplessons.checks")
_events = itertools.count(1)


# --- the student's function ---------------------------------------------------------------------


def is_untouched(fn: Any) -> bool:
    """True for a function whose body is still only ``...``, ``pass`` or a docstring (the exercise's skeleton):
    its bytecode does nothing but return None."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return False
    for instruction in dis.get_instructions(code):
        if instruction.opname in ("RESUME", "NOP", "RETURN_VALUE"):
            continue
        if instruction.opname in ("LOAD_CONST", "RETURN_CONST") and instruction.argval is None:
            continue
        return False
    return True


def _module_of(obj: Any) -> str:
    obj = getattr(obj, "__func__", obj)
    while isinstance(obj, functools.partial):
        obj = obj.func
    return getattr(obj, "__module__", None) or type(obj).__module__ or ""


def is_infrastructure(obj: Any) -> bool:
    module = _module_of(obj)
    return any(module == p or module.startswith(p + ".") for p in INFRASTRUCTURE)


# --- processes and threads -----------------------------------------------------------------------------


@dataclass(eq=False)
class Started:
    """A process or thread that the student's code created, with what it was asked to run."""

    obj: Any
    target: Any
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    started: int | None = None  # event numbers, in the order things happened
    started_at: float | None = None  # time.monotonic() when start() was called
    joined: int | None = None  # the first join() that returned with the process finished
    alive_at_return: bool = False
    ended_before: list[Started] = field(default_factory=list)  # processes already ended when this one started

    @property
    def name(self) -> str:
        return getattr(self.obj, "name", "?")

    def argument(self, position: int, name: str) -> Any:
        if len(self.args) > position:
            return self.args[position]
        return self.kwargs.get(name)


_PROCESS_INIT = inspect.signature(BaseProcess.__init__)
_THREAD_INIT = inspect.signature(threading.Thread.__init__)


def _record_init(original: Callable[..., None], signature: inspect.Signature,
                 into: list[Started]) -> Callable[..., None]:
    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError:
            return
        bound.apply_defaults()
        target = bound.arguments.get("target")
        if is_infrastructure(target if target is not None else type(self)):
            return
        into.append(Started(self, target, tuple(bound.arguments.get("args") or ()),
                            dict(bound.arguments.get("kwargs") or {})))

    return __init__


class ProcessWatch:
    """Within ``with ProcessWatch() as watch:``, record the student's processes and threads.

    ``watch.processes`` and ``watch.threads`` list them in creation order, each with the event number of its
    ``start()`` and of the ``join()`` that saw it finished; :meth:`finish` notes which were still running
    when the student's function returned, and stops and reaps them, so a rejected answer leaves no process.
    """

    def __init__(self) -> None:
        self.processes: list[Started] = []
        self.threads: list[Started] = []
        self._stack = ExitStack()

    def __enter__(self) -> ProcessWatch:
        watch = self

        def start(self: Any, _original: Callable[..., None] = BaseProcess.start) -> None:
            called_at = time.monotonic()
            ended = [e for e in watch.processes if e.started is not None and e.obj is not self
                     and e.obj.exitcode is not None]
            _original(self)
            watch._mark(self, "started")
            for entry in watch.processes:
                if entry.obj is self:
                    entry.ended_before, entry.started_at = ended, called_at

        def join(self: Any, timeout: float | None = None, _original: Callable[..., None] = BaseProcess.join) -> None:
            _original(self, timeout)
            if self.exitcode is not None:
                watch._mark(self, "joined")

        def thread_start(self: Any, _original: Callable[..., None] = threading.Thread.start) -> None:
            _original(self)
            watch._mark(self, "started")

        def thread_join(self: Any, timeout: float | None = None,
                        _original: Callable[..., None] = threading.Thread.join) -> None:
            _original(self, timeout)
            if not self.is_alive():
                watch._mark(self, "joined")

        patches = [(BaseProcess, "__init__", _record_init(BaseProcess.__init__, _PROCESS_INIT, self.processes)),
                   (BaseProcess, "start", start), (BaseProcess, "join", join),
                   (threading.Thread, "__init__", _record_init(threading.Thread.__init__, _THREAD_INIT,
                                                                self.threads)),
                   (threading.Thread, "start", thread_start), (threading.Thread, "join", thread_join)]
        for owner, name, replacement in patches:
            self._stack.enter_context(patched(owner, name, replacement))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _mark(self, obj: Any, what: str) -> None:
        for entry in (*self.processes, *self.threads):
            if entry.obj is obj and getattr(entry, what) is None:
                setattr(entry, what, next(_events))

    def finish(self, timeout: float = 10.0) -> list[Started]:
        """Note what was still running, then join every started process (stopping those that do not end).

        Returns the processes that were never joined by the student's code.
        """
        unjoined = []
        for entry in self.processes:
            if entry.started is None:
                continue
            entry.alive_at_return = entry.obj.is_alive()
            if entry.joined is None:
                unjoined.append(entry)
        deadline = time.monotonic() + timeout
        for entry in unjoined:
            stop_process(entry.obj, max(0.1, deadline - time.monotonic()))
        return unjoined


def stop_process(process: Any, timeout: float) -> None:
    """Join ``process``; terminate it, then kill it, if it does not end in time."""
    try:
        process.join(timeout)
        if process.is_alive():
            process.terminate()
            process.join(2)
        if process.is_alive():
            process.kill()
            process.join(2)
    except (AssertionError, ValueError):  # never started, or closed already
        pass


@contextmanager
def patched(owner: Any, name: str, replacement: Any) -> Iterator[None]:
    original = owner.__dict__[name]
    setattr(owner, name, replacement)
    try:
        yield
    finally:
        setattr(owner, name, original)
