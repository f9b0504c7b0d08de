"""Stand-ins for a ``Pool`` and a ``ProcessPoolExecutor`` that record which API the student used (lesson 03).

Each delegates every call to the real pool or executor and writes down the task-submitting ones with their
arguments and, for ``apply_async`` and ``submit``, whether every earlier task had already finished at that
moment: if so, the student waited for each result before submitting the next, which no timing can hide.
The objects they return (``AsyncResult``, ``Future``) are the real ones, so ``as_completed``, ``wait`` and
callbacks work as usual.
"""

from __future__ import annotations

from typing import Any

from .observe import Journal

POOL_METHODS = ("apply", "map", "map_async", "imap", "imap_unordered", "starmap", "starmap_async")


class Pool:
    """A ``multiprocessing.pool.Pool`` that records ``apply_async`` and the other ways to hand it tasks."""

    def __init__(self, real: Any, journal: Journal) -> None:
        self._real, self._journal = real, journal
        self._results: list[Any] = []

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

    def __repr__(self) -> str:
        return repr(self._real)

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._journal.begin("with", self).end()
        self._real.terminate()  # what leaving `with pool:` does to a real Pool

    def apply_async(self, func: Any, args: Any = (), kwds: Any = None, callback: Any = None,
                    error_callback: Any = None) -> Any:
        call = self._journal.begin("apply_async", self, func=func, args=args,
                                   earlier_done=bool(self._results) and all(r.ready() for r in self._results))
        try:
            result = self._real.apply_async(func, args, kwds or {}, callback, error_callback)
        finally:
            call.end()
        self._results.append(result)
        return result


class Executor:
    """A ``concurrent.futures`` executor that records ``submit``, ``map`` and ``shutdown``."""

    def __init__(self, real: Any, journal: Journal) -> None:
        self._real, self._journal = real, journal
        self._futures: list[Any] = []

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._real, name)

    def __repr__(self) -> str:
        return repr(self._real)

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown(wait=True)

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        call = self._journal.begin("submit", self, func=fn, args=args,
                                   earlier_done=bool(self._futures) and all(f.done() for f in self._futures))
        try:
            future = self._real.submit(fn, *args, **kwargs)
        finally:
            call.end()
        self._futures.append(future)
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
