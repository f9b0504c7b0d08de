"""Self-check for lesson 03b (the pool toolkit): one connection per worker, opened by the pool's initializer.

The check runs the student's ``run_lookups(ctx, address, keys)`` on a context it watches, with ``address`` a
fresh journal file: every ``Connection`` writes a line there when it is opened and for each lookup, and the
watched ``ctx.Pool`` records its arguments and writes a line each time the initializer runs in a worker. So
the verdict rests on what happened, process by process, not on the returned values alone.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..i18n import N_, tr
from ..lessons_toolkit import Connection, price_of
from ..machine import context
from . import Feedback, failed, is_placeholder, not_a_function, not_attempted, passed, remembers_rejections

KEYS = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]
WORKERS = 2
SECONDS = 60.0


class Refused(Exception):
    """Raised by the watched ``ctx.Pool`` for arguments that would make a real Pool fail or hang."""


def guarded_initializer(initializer: Callable[..., Any], initargs: tuple, journal: str) -> None:
    """Run the student's initializer in a worker and note it in the journal. An initializer that raises
    would make a real Pool start new workers forever (a hang); here the error is noted and the worker goes on."""
    try:
        initializer(*initargs)
    except BaseException as exc:  # noqa: BLE001 - the student's error is the feedback
        _note(journal, f"init-error {os.getpid()} {type(exc).__name__}: {exc}")
    else:
        _note(journal, f"init {os.getpid()}")


def _note(journal: str, line: str) -> None:
    with open(journal, "a", encoding="utf-8") as f:
        f.write(line.replace("\n", " ") + "\n")


@dataclass
class PoolCall:
    initializer: Any
    initargs: Any
    maxtasksperchild: Any = None
    processes: Any = None


@dataclass
class WatchedContext:
    """A multiprocessing context whose ``Pool`` records how it was called (everything else is the real one)."""

    real: Any
    journal: str
    calls: list[PoolCall] = field(default_factory=list)
    pools: list[Any] = field(default_factory=list)
    used: set[str] = field(default_factory=set)  # other attributes asked for (a ProcessPoolExecutor asks many)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("real", "journal", "calls", "pools", "used"):
            raise AttributeError(name)
        self.used.add(name)
        return getattr(self.real, name)

    def Pool(self, processes: Any = None, initializer: Any = None, initargs: Any = (),  # noqa: N802 - ctx.Pool
             maxtasksperchild: Any = None) -> Any:
        self.calls.append(PoolCall(initializer, initargs, maxtasksperchild, processes))
        problem = initializer_problem(initializer, initargs)
        if problem:
            raise Refused(problem)
        if initializer is not None:
            initializer, initargs = guarded_initializer, (initializer, tuple(initargs), self.journal)
        pool = self.real.Pool(processes, initializer, initargs, maxtasksperchild)
        self.pools.append(pool)
        return pool


def importable_problem(fn: Any, name: str) -> str | None:
    """Why worker processes could not import ``fn``, or None. ``name`` as the message shows it: `lookup` in
    backticks, or words (the initializer)."""
    qualname = getattr(fn, "__qualname__", "") or ""
    if getattr(fn, "__name__", "") == "<lambda>" or "<locals>" in qualname:
        return tr("{name} is a lambda or a function defined inside another one: it works only under fork "
                  "(workers are copies of this process); under spawn and forkserver it must be pickled by name, "
                  "which fails. Define it with def at the top level of your %%worker_module cell", name=name)
    if getattr(fn, "__module__", None) == "__main__":
        return tr("{name} is defined in a plain notebook cell: it works only under fork; under spawn and "
                  "forkserver the workers cannot import it and the Pool would hang. Put it in a cell that starts "
                  "with %%worker_module NAME", name=name)
    return None


def initializer_problem(initializer: Any, initargs: Any) -> str | None:
    """What is wrong with Pool(initializer=..., initargs=...) before any worker starts, or None."""
    if isinstance(initargs, (str, bytes, os.PathLike)):
        return tr("initargs is {initargs!r:.60}, not a tuple: brackets without a comma make no tuple, so the Pool "
                  "would call the initializer with one argument per character. Write initargs=(address,) with the "
                  "comma", initargs=initargs)
    if not isinstance(initargs, (tuple, list)):
        return tr("initargs should be a tuple of arguments, e.g. (address,), got {kind}", kind=type(initargs).__name__)
    if initializer is None:
        return None
    if not callable(initializer):
        return tr("initializer is {kind} {value!r:.60}, not a function: initializer=open_connection(address) calls "
                  "it here and passes its result. Pass the function itself, initializer=open_connection, and its "
                  "arguments in initargs=(address,)", kind=type(initializer).__name__, value=initializer)
    if any(isinstance(arg, Connection) for arg in initargs):
        return tr("initargs holds a connection you opened here in the notebook: a connection (an open file, a "
                  "socket) belongs to the process that opened it. It cannot be pickled for spawn and forkserver "
                  "workers, and fork workers would all share its one file. Pass the address, initargs=(address,), "
                  "and let the initializer open a connection in each worker")
    return importable_problem(initializer, tr("the initializer"))


@dataclass
class Journal:
    """What the journal file says happened."""

    inits: Counter  # pid -> times the initializer ran there
    init_errors: list[str]
    opens: Counter  # pid -> connections opened there
    lookups: list[tuple[int, int]]  # (pid that looked up, pid that opened the connection)
    opened_by_a_task: set[int]  # pids where the connection was opened after the initializer had returned

    @classmethod
    def read(cls, path: Path) -> Journal:
        inits, opens, errors, lookups, late = Counter(), Counter(), [], [], set()
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        for line in text.splitlines():
            kind, _, rest = line.partition(" ")
            words = rest.split()
            if kind == "init":
                inits[int(words[0])] += 1
            elif kind == "init-error":
                errors.append(rest.partition(" ")[2])
            elif kind == "open":
                opens[int(words[0])] += 1
                if inits[int(words[0])]:  # "init" is written when the initializer returns
                    late.add(int(words[0]))
            elif kind == "lookup":
                lookups.append((int(words[0]), int(words[1])))
        return cls(inits, errors, opens, lookups, late)


def _run(fn: Callable[..., Any], ctx: WatchedContext, address: str) -> tuple[Any, BaseException | None, bool]:
    """Call ``fn(ctx, address, KEYS)`` in a thread; (result, exception, finished in time)."""
    outcome: dict[str, Any] = {}

    def call() -> None:
        try:
            outcome["result"] = fn(ctx, address, list(KEYS))
        except BaseException as exc:  # noqa: BLE001 - the student's error is the feedback
            outcome["error"] = exc

    thread = threading.Thread(target=call, daemon=True, name="lesson03b-check")
    thread.start()
    thread.join(SECONDS)
    if thread.is_alive():
        for pool in ctx.pools:
            pool.terminate()
        return None, None, False
    return outcome.get("result"), outcome.get("error"), True


def check_lookups(run_lookups: Any, open_connection: Any, lookup: Any, start_method: str | None = None) -> Feedback:
    """The exercise: ``run_lookups(ctx, address, keys)`` runs ``lookup`` over ``keys`` on ``ctx.Pool`` with
    ``initializer=open_connection, initargs=(address,)``: one connection per worker, used by every task."""
    return _judge((run_lookups, open_connection, lookup), start_method)


@remembers_rejections(N_("`run_lookups`, `open_connection` and `lookup`"))
def _judge(answer: tuple[Any, Any, Any], start_method: str | None) -> Feedback:
    names = ("run_lookups", "open_connection", "lookup")
    for fn, name in zip(answer, names, strict=True):
        if is_placeholder(fn):
            return not_attempted(tr("define {names} in a %%worker_module cell, then run this check",
                                    names=", ".join(names)))
        if not callable(fn):
            return not_a_function(name, fn)
    run_lookups, open_connection, lookup = answer
    for fn, name in ((open_connection, "open_connection"), (lookup, "lookup")):
        problem = importable_problem(fn, f"`{name}`")
        if problem:
            return failed(problem)
    with tempfile.TemporaryDirectory(prefix="lesson03b-") as folder:
        journal = Path(folder) / "prices.log"
        ctx = WatchedContext(context(start_method), str(journal))
        result, error, finished = _run(run_lookups, ctx, str(journal))
        seen = Journal.read(journal)
    return _verdict(ctx, seen, result, error, finished)


def _verdict(ctx: WatchedContext, seen: Journal, result: Any, error: BaseException | None,
             finished: bool) -> Feedback:
    here = os.getpid()
    if isinstance(error, Refused):
        return failed(str(error))
    if not finished:
        return failed(tr("run_lookups did not finish within {seconds:.0f} s (the check stopped its pools): does "
                         "every task return, and does run_lookups return the list?", seconds=SECONDS))
    if seen.init_errors:
        return failed(tr("open_connection raised in the workers: {error:.200}. (A Pool whose initializer raises "
                         "starts new workers forever: this run would have hung.) Call open_connection(address) in a "
                         "cell to see the error", error=seen.init_errors[0]))
    if seen.opens[here]:
        if any(pid == here for pid, _ in seen.lookups):
            return failed(tr("the lookups ran here in the notebook, in its own process (with no pool, or in "
                             "threads), not in worker processes: create ctx.Pool(...) with "
                             "initializer=open_connection, initargs=(address,), and pool.map(lookup, keys)"))
        if ctx.calls and all(c.initializer is None for c in ctx.calls):
            return failed(tr("a connection was opened here in the notebook, and the pool got no initializer: either "
                             "run_lookups opened it itself, or initializer=open_connection(address) calls it once, "
                             "here, and passes its result (None). Pass the function itself, "
                             "initializer=open_connection, with initargs=(address,), so that each worker opens its "
                             "own"))
        return failed(tr("a connection was opened here in the notebook, not in the workers: "
                         "initializer=open_connection(address) calls it once, here, and passes its result. Pass "
                         "the function itself, initializer=open_connection, with initargs=(address,)"))
    if error is not None:
        return _explain_error(ctx, seen, error)
    if not ctx.calls and "Process" not in ctx.used:
        return failed(tr("run_lookups did not start its pool from the ctx it was given: write ctx.Pool(...) (the "
                         "check hands you a context, as the lesson's ctx, under the course's start method)"))
    if max(seen.opens.values(), default=0) > 1:
        return failed(tr("{opened} connections were opened for {lookups} lookups in {workers} worker(s): the set-up "
                         "runs inside the task, once per task. Open the connection in the initializer "
                         "(initializer=open_connection, initargs=(address,)), once per worker, and let lookup use it",
                         opened=sum(seen.opens.values()), lookups=len(seen.lookups), workers=len(seen.opens)))
    replaced = next((c for c in ctx.calls if c.maxtasksperchild), None)
    if replaced and len(seen.opens) > (replaced.processes if isinstance(replaced.processes, int) else os.cpu_count()):
        return failed(tr("maxtasksperchild={limit} replaces each worker after {limit} task(s), so {opened} "
                         "connections were opened for {lookups} lookups: each new worker opens its own, and the "
                         "tasks pay for the set-up again. Leave maxtasksperchild out, so that each worker keeps its "
                         "connection for all its tasks", limit=replaced.maxtasksperchild,
                         opened=sum(seen.opens.values()), lookups=len(seen.lookups)))
    if ctx.calls and all(c.initializer is None for c in ctx.calls):
        return failed(tr("the pool has no initializer, so the tasks opened the connections: write "
                         "ctx.Pool(..., initializer=open_connection, initargs=(address,))"))
    borrowed = [owner for pid, owner in seen.lookups if owner != pid]
    if borrowed:
        return failed(tr("the workers used a connection opened in another process (this notebook): open it in the "
                         "initializer, in each worker"))
    if seen.opened_by_a_task:
        return failed(tr("each worker opened one connection, but in its first task, after the initializer had "
                         "returned (so the first task pays for it, and a worker that never gets a task has none): "
                         "open it in the initializer itself, with `global connection`"))
    return _check_rows(seen, result)


def _explain_error(ctx: WatchedContext, seen: Journal, error: BaseException) -> Feedback:
    text = f"{type(error).__name__}: {error}"
    if seen.opens and isinstance(error, (AttributeError, NameError)) and ("NoneType" in text or "connection" in text):
        return failed(tr("each worker opened a connection, but lookup found `connection` still None ({error:.120}): "
                         "inside a function, `connection = connect(address)` makes a local variable. Write "
                         "`global connection` as the first line of open_connection", error=text))
    if not seen.opens and ctx.calls and all(c.initializer is None for c in ctx.calls):
        return failed(tr("the pool has no initializer, so no worker opened a connection ({error:.120}): write "
                         "ctx.Pool(..., initializer=open_connection, initargs=(address,))", error=text))
    return failed(tr("run_lookups raised {error:.200}", error=text))


def _check_rows(seen: Journal, result: Any) -> Feedback:
    if not isinstance(result, (list, tuple)):
        return failed(tr("run_lookups should return the list of what lookup returned, got {kind} {value!r:.80}",
                         kind=type(result).__name__, value=result))
    result = list(result)
    if len(result) != len(KEYS):
        return failed(tr("expected {expected} results, one per key, got {got}", expected=len(KEYS), got=len(result)))
    got = [(getattr(r, "key", None), getattr(r, "price", None)) for r in result]
    expected = [(k, price_of(k)) for k in KEYS]
    if got != expected:
        if sorted(map(repr, got)) == sorted(map(repr, expected)):
            return failed(tr("the results are out of order: return them in the order of keys (pool.map does)"))
        return failed(tr("the results should be what lookup(key) returns for each key, got {first!r:.160}",
                         first=result[:3]))
    if len(seen.lookups) < len(KEYS):
        return failed(tr("only {looked_up} of {count} keys were looked up through a connection: each task should "
                         "call connection.lookup(key)", looked_up=len(seen.lookups), count=len(KEYS)))
    return passed(tr("each worker opened exactly one connection, in the initializer (once per worker process), and "
                     "all {count} lookups used their own worker's connection", count=len(KEYS)))
