"""What a check sees of the student's code: stand-ins for a context, a queue and a process that record every call.

The checks hand the student's function a multiprocessing context, queue or process of their own. Each does
what the real one does (it delegates to it) and records what was called, when and with which arguments, so a
check can tell "drained, then joined" from "joined, then drained", or "started all, then waited" from "one
after another", however busy the machine is. Blocking calls are capped (a ``join()`` before ``get()`` would
otherwise wait forever), and ``Context.cleanup`` stops whatever the student left running.
"""

from __future__ import annotations

import contextlib
import os
import queue as queue_module
import threading
import time
from dataclasses import dataclass, field
from typing import Any

NOBODY_PUTS_GRACE = 0.3
"""Seconds a ``get()`` waits on a queue whose every writer was never started: in a real program it would
wait its whole timeout (or forever), but nothing can arrive, and the check should not make the student wait."""


@dataclass
class Call:
    """One call the student made on a stand-in, with when it began and ended (``time.perf_counter``)."""

    what: str
    who: Any
    details: dict[str, Any] = field(default_factory=dict)
    begun: float = field(default_factory=time.perf_counter)
    ended: float | None = None
    outcome: str = ""

    def end(self, outcome: str = "") -> None:
        self.ended, self.outcome = time.perf_counter(), outcome

    @property
    def seconds(self) -> float:
        return (self.ended or time.perf_counter()) - self.begun


class Journal:
    """Every recorded call, in the order the calls began."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._lock = threading.Lock()

    def begin(self, what: str, who: Any, **details: Any) -> Call:
        call = Call(what, who, details)
        with self._lock:
            self.calls.append(call)
        return call

    def of(self, *what: str, who: Any = None) -> list[Call]:
        return [c for c in self.calls if c.what in what and (who is None or c.who is who)]


# --- a recording multiprocessing context ------------------------------------------------------------------


def _same(obj: Any) -> Any:
    return obj


class Queue:
    """A ``ctx.Queue()`` that records each ``get()`` and caps how long it waits.

    When several started processes put on it, ``get()`` waits until each has put its result and then hands
    them over smallest first (for ``(label, value)`` pairs: smallest value), the order in which the shortest
    jobs finish on an idle machine. A real queue hands results over in the order they arrive, which depends
    on the machine's load; this one always makes the order differ from the input order when the check gives
    the biggest input first, so an answer that ignores labels cannot pass by luck.
    """

    def __init__(self, real: Any, journal: Journal, cap: float) -> None:
        self._real, self._journal, self._cap = real, journal, cap
        self._writers: list[Process] = []
        self._held: list[Any] = []
        self._handed = 0
        self._owner = os.getpid()
        self.handed: list[Any] = []
        """Every item ``get()`` handed over, kept alive so that a check can tell, by identity, whether the
        values a function returned are the ones that came out of the queue."""

    def __reduce__(self) -> tuple[Any, ...]:  # a child process gets the real queue
        return (_same, (self._real,))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._real, name)  # put, put_nowait, close, join_thread, ...

    def __repr__(self) -> str:
        return repr(self._real)

    @property
    def writers(self) -> list[Process]:
        return self._writers

    def put(self, obj: Any, block: bool = True, timeout: float | None = None) -> None:
        """Records a ``put()`` made in this process (a child forked with this stand-in puts unrecorded)."""
        if os.getpid() == self._owner:
            self._journal.begin("put", self).end()
        self._real.put(obj, block, timeout)

    def put_nowait(self, obj: Any) -> None:
        self.put(obj, False)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        call = self._journal.begin("get", self, block=block, timeout=timeout)
        limit = self._cap if timeout is None else min(max(timeout, 0.0), self._cap)
        deadline = time.perf_counter() + (limit if block else 0.0)
        try:
            item = self._next(deadline)
        except queue_module.Empty:
            call.end("empty")
            raise
        except BaseException:
            call.end("error")
            raise
        call.end("item")
        return item

    def get_nowait(self) -> Any:
        return self.get(False)

    def empty(self) -> bool:
        return not self._held and self._real.empty()

    def qsize(self) -> int:
        return len(self._held) + self._real.qsize()

    def _take_arrived(self) -> None:
        while True:
            try:
                self._held.append(self._real.get(block=False))
            except queue_module.Empty:
                return

    def _all_in(self) -> bool:
        started = [w for w in self._writers if w.started]
        if self._handed + len(self._held) >= len(started):
            return True
        return all(not w.is_alive() for w in started)  # the rest died without putting anything

    def _nobody_will_put(self) -> bool:
        return bool(self._writers) and not any(w.started for w in self._writers)

    def _next(self, deadline: float) -> Any:
        self._take_arrived()
        if not self._held and self._nobody_will_put():
            deadline = min(deadline, time.perf_counter() + NOBODY_PUTS_GRACE)
        while True:
            if self._held and self._all_in():
                return self._hand_over()
            left = deadline - time.perf_counter()
            if left <= 0:
                if self._held:
                    return self._hand_over()
                raise queue_module.Empty
            with contextlib.suppress(queue_module.Empty):
                self._held.append(self._real.get(timeout=min(left, 0.05)))
            self._take_arrived()

    def _hand_over(self) -> Any:
        def size(i: int) -> tuple[int, Any, int]:
            item = self._held[i]
            value = item[1] if isinstance(item, tuple) and len(item) == 2 else item
            return (0, value, i) if isinstance(value, (int, float)) and not isinstance(value, bool) else (1, 0, i)

        self._handed += 1
        item = self._held.pop(min(range(len(self._held)), key=size))
        self.handed.append(item)
        return item

    def cleanup(self) -> None:
        """Read what is left (a child cannot exit while its data sits in the pipe) and close the queue."""
        self._take_arrived()
        self._held.clear()
        self._real.cancel_join_thread()
        self._real.close()


class Process:
    """A ``ctx.Process`` that records ``start``, ``run`` and ``join``; ``join()`` waits at most ``join_cap``."""

    def __init__(self, real: Any, journal: Journal, join_cap: float, target: Any, args: Any) -> None:
        for name, value in (("_real", real), ("_journal", journal), ("_join_cap", join_cap),
                            ("_target", target), ("_args", args), ("_started", False)):
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._real, name)  # pid, exitcode, name, daemon, sentinel, terminate, kill, close ...

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._real, name, value)  # p.daemon = True, p.name = ...

    def __repr__(self) -> str:
        return repr(self._real)

    @property
    def started(self) -> bool:
        return self._started

    @property
    def target(self) -> Any:
        return self._target

    @property
    def args(self) -> Any:
        return self._args

    @property
    def kwargs(self) -> dict[str, Any]:
        return getattr(self._real, "_kwargs", None) or {}

    def start(self) -> None:
        call = self._journal.begin("start", self)
        try:
            self._real.start()
        except BaseException:
            call.end("error")
            raise
        object.__setattr__(self, "_started", True)
        call.end("started")

    def run(self) -> None:
        call = self._journal.begin("run", self)
        try:
            self._real.run()
        finally:
            call.end()

    def join(self, timeout: float | None = None) -> None:
        limit = self._join_cap if timeout is None else min(max(timeout, 0.0), self._join_cap)
        call = self._journal.begin("join", self, timeout=timeout)
        try:
            self._real.join(limit)
        except BaseException:
            call.end("error")
            raise
        call.end("alive" if self._real.is_alive() else "ended")

    def is_alive(self) -> bool:
        return self._real.is_alive()


class Context:
    """A multiprocessing context whose ``Queue()`` and ``Process()`` record what the student does with them.

    Everything else (``Pool``, ``Event``, ``get_start_method`` ...) is the real context's.
    """

    def __init__(self, real: Any, *, cap: float = 20.0, join_cap: float = 20.0) -> None:
        self._real, self._cap, self._join_cap = real, cap, join_cap
        self.journal = Journal()
        self.queues: list[Queue] = []
        self.processes: list[Process] = []

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._real, name)

    def Queue(self, maxsize: int = 0) -> Queue:  # noqa: N802 - the name multiprocessing gives it
        made = Queue(self._real.Queue(maxsize), self.journal, self._cap)
        self.queues.append(made)
        return made

    def Process(self, group: Any = None, target: Any = None, name: str | None = None, args: Any = (),  # noqa: N802
                kwargs: Any = None, *, daemon: bool | None = None) -> Process:
        call = self.journal.begin("Process", None, target=target, args=args)
        try:
            real = self._real.Process(group=group, target=target, name=name, args=args,
                                      kwargs={} if kwargs is None else kwargs, daemon=daemon)
        except BaseException as exc:
            call.end(f"error {type(exc).__name__}")
            raise
        made = Process(real, self.journal, self._join_cap, target, args)
        call.who = made
        call.end()
        self.processes.append(made)
        passed = [*(args if isinstance(args, (tuple, list)) else ()), *(kwargs or {}).values()]
        for q in self.queues:
            if any(a is q for a in passed):
                q.writers.append(made)
        return made

    def state(self) -> Any:
        """For ``call_bounded``: changes while the student's code gets on (a call ends, a process runs)."""
        if any(p.started and p.is_alive() for p in self.processes):
            return time.perf_counter()  # a child at work is progress
        return (len(self.journal.calls), sum(c.ended is not None for c in self.journal.calls))

    def cleanup(self) -> None:
        """Stop every process the student left running and close every queue, so nothing is left behind."""
        for p in self.processes:
            if p.started and p.is_alive():
                for q in self.queues:
                    q._take_arrived()  # a child stuck writing its result can then exit by itself
                p._real.join(0.5)
            if p.started and p.is_alive():
                p._real.kill()
            if p.started:
                p._real.join(5)
        for q in self.queues:
            q.cleanup()
