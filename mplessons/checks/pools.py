"""Stand-ins for a ``Pool`` and a ``ProcessPoolExecutor`` that record which API the student used (lesson 03).

Each delegates every call to the real pool or executor and writes down the task-submitting ones with their
arguments and, for ``apply_async`` and ``submit``, whether every earlier task had already finished at that
moment: if so, the student waited for each result before submitting the next, which no timing can hide.
The objects they return (``AsyncResult``, ``Future``) are the real ones, so ``as_completed``, ``wait`` and
callbacks work as usual.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import ExitStack, contextmanager
from multiprocessing.pool import ApplyResult
from typing import Any

from .observe import Journal
from .watch import patched

POOL_METHODS = ("apply", "map", "map_async", "imap", "imap_unordered", "starmap", "starmap_async")


class _Recorded:
    """A real pool or executor, handed to the student's function, whose task-giving calls go in a journal."""

    def __init__(self, real: Any, journal: Journal) -> None:
        self._real, self._journal = real, journal
        self.handed: list[Any] = []  # the AsyncResults or Futures given out so far, in order

    def __repr__(self) -> str:
        return repr(self._real)

    def _earlier_done(self, ready: str) -> bool:
        """Whether every task handed out so far had finished (``ready``: its method) when the next one came."""
        return bool(self.handed) and all(getattr(h, ready)() for h in self.handed)


class Pool(_Recorded):
    """A ``multiprocessing.pool.Pool`` that records ``apply_async`` and the other ways to hand it tasks."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        attribute = getattr(self._real, name)
        if name not in POOL_METHODS:
            return attribute

        def recorded(*args: Any, **kwargs: Any) -> Any:
            call = self._journal.begin(name, self, args=args)
            try:
                return attribute(*args, **kwargs)
            finally:
                call.end()

        return recorded

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._journal.begin("with", self).end()
        self._real.terminate()  # what leaving `with pool:` does to a real Pool

    def apply_async(self, func: Any, args: Any = (), kwds: Any = None, callback: Any = None,
                    error_callback: Any = None) -> Any:
        call = self._journal.begin("apply_async", self, func=func, args=args, callback=callback,
                                   earlier_done=self._earlier_done("ready"))
        try:
            result = self._real.apply_async(func, args, kwds or {}, callback, error_callback)
        finally:
            call.end()
        self.handed.append(result)
        return result


class Executor(_Recorded):
    """A ``concurrent.futures`` executor that records ``submit``, ``map`` and ``shutdown``."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._real, name)

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown(wait=True)

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        call = self._journal.begin("submit", self, func=fn, args=args, earlier_done=self._earlier_done("done"))
        try:
            future = self._real.submit(fn, *args, **kwargs)
        finally:
            call.end()
        self.handed.append(future)
        return future

    def map(self, fn: Any, *iterables: Any, **kwargs: Any) -> Any:
        call = self._journal.begin("map", self, func=fn)
        try:
            return self._real.map(fn, *iterables, **kwargs)
        finally:
            call.end()

    def shutdown(self, wait: bool = True, **kwargs: Any) -> None:
        self._journal.begin("shutdown", self).end()
        self._real.shutdown(wait=wait, **kwargs)


# --- did the student's code run the tasks itself, and did it read their results? -------------------------


def _plain(fn: Any) -> Any:
    return fn


class CountedHere:
    """The task function a check hands the student: it counts the calls made in this process (the student
    computing the results here, with the pool only for show); a worker gets the plain function, pickled as
    itself."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        functools.update_wrapper(self, fn)
        self._fn, self._home, self.here = fn, os.getpid(), 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if os.getpid() == self._home:
            self.here += 1
        return self._fn(*args, **kwargs)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_plain, (self._fn,))

    def __repr__(self) -> str:
        return repr(self._fn)


@contextmanager
def reads_recorded(read: set[int]) -> Iterator[None]:
    """Within the block, note in ``read`` the id of every ``AsyncResult`` and ``Future`` whose outcome the
    code asks for (``get``, ``result``, ``exception``, or a callback that will be given it)."""

    def recording(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            read.add(id(self))
            return original(self, *args, **kwargs)

        return method

    with ExitStack() as stack:
        for owner, name in ((ApplyResult, "get"), (Future, "result"), (Future, "exception"),
                            (Future, "add_done_callback")):
            stack.enter_context(patched(owner, name, recording(owner.__dict__[name])))
        yield
