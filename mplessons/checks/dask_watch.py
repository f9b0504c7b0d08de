"""Watch what a student's function asks of a dask cluster while a check runs it.

Two things cannot be seen in the results: whether the cluster computed them at all (a list comprehension in
the notebook gives the same numbers), and whether the tasks were all sent before the first wait (a
``client.submit(f, n).result()`` in a loop keeps one worker busy at a time). The scheduler's task stream
answers the first; the order of the client calls (sends: ``submit``, ``map``, ``compute``; waits:
``gather``, ``Future.result``) answers the second. Imported only where dask is installed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from distributed import Client, Future, get_task_stream

from .watch import patched

SENDS = ("submit", "map", "compute")
WAITS = ("gather",)
UNFINISHED = ("pending", "lost")


class DaskWatch:
    """Within ``with DaskWatch(client) as watch:``: ``watch.events`` lists the client calls in order,
    ``watch.futures`` the futures they made, and after the block ``watch.tasks`` the tasks the cluster ran."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.events: list[str] = []
        self.futures: list[Any] = []
        self.tasks: list[dict[str, Any]] = []
        self.fetched: list[Any] = []  # what gather, Future.result and Client.get handed back, kept alive
        self._stack = ExitStack()

    def __enter__(self) -> DaskWatch:
        stream = get_task_stream(self.client)
        self._stack.callback(lambda: self.tasks.extend(stream.data))  # closed last: after the stream collects
        self._stack.enter_context(stream)
        for name in SENDS + WAITS:
            self._stack.enter_context(patched(Client, name, self._recorder(name, Client.__dict__[name])))
        self._stack.enter_context(patched(Future, "result", self._recorder("result", Future.__dict__["result"])))
        self._stack.enter_context(patched(Client, "get", self._recorder("get", Client.__dict__["get"])))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _recorder(self, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        watch = self

        @functools.wraps(original)
        def record(*args: Any, **kwargs: Any) -> Any:
            if name != "get":  # dask.compute's way in: it sends and waits, and its results count as fetched
                watch.events.append("send" if name in SENDS else "wait")
            made = original(*args, **kwargs)
            if name in SENDS:
                watch.futures.extend(f for f in (made if isinstance(made, (list, tuple)) else [made])
                                     if isinstance(f, Future))
            else:
                watch.fetched.extend(_leaves(made))
            return made

        return record

    @property
    def sent_after_waiting(self) -> bool:
        """True when a task was sent after the function had waited for a result: one task at a time."""
        if "wait" not in self.events:
            return False
        return "send" in self.events[self.events.index("wait"):]

    def cancel_unfinished(self) -> int:
        """Cancel the tasks the student's function left queued or running; returns how many."""
        return cancel_unfinished(self.futures)


def _leaves(value: Any, depth: int = 3) -> list[Any]:
    """The items of (nested) lists and tuples, or the value itself."""
    if depth and isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _leaves(item, depth - 1)]
    return [value]


def cancel_unfinished(futures: list[Any]) -> int:
    """Cancel those of ``futures`` that have not finished, so a rejected answer leaves no work on the cluster."""
    unfinished = [f for f in futures if getattr(f, "status", None) in UNFINISHED]
    if unfinished:
        unfinished[0].client.cancel(unfinished)
    return len(unfinished)
