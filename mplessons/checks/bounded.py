"""A call of the student's function that cannot hang or break the check, and how its errors are described."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..i18n import tr
from . import failed


@dataclass
class Outcome:
    """How the student's function ended: its result or exception, or ``finished=False`` if it ran too long."""

    result: Any = None
    error: BaseException | None = None
    finished: bool = False
    stalled: bool = False
    wall: float = 0.0
    cpu: float = 0.0
    thread_id: int | None = None


def call_bounded(fn: Any, args: tuple[Any, ...], seconds: float, *, state: Callable[[], Any] | None = None,
                 patience: float = 3.0) -> Outcome:
    """Run ``fn(*args)`` in a helper thread and wait at most ``seconds`` for it.

    A function that hangs (a ``get()`` with nothing to get, a thread that is never started) is feedback, not a
    reason for the check to hang: it keeps running in its daemon thread, and the check reports it. With
    ``state``, a callable whose value changes while the student's code gets on (tasks begun and ended), the
    wait also ends once that value has not changed for ``patience`` seconds (``stalled``).
    ``cpu`` is this process's CPU time during the call, all threads included (child processes are not).
    A thread still running at the limit is left behind (Python cannot stop a thread); a check that watched
    the processes it started then stops them, which usually ends the thread's wait as well.
    """
    outcome = Outcome()
    done = threading.Event()

    def run() -> None:
        outcome.thread_id = threading.get_ident()
        try:
            outcome.result = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - SystemExit and all: the student's error is the feedback
            outcome.error = exc
        finally:
            done.set()

    wall, cpu = time.perf_counter(), time.process_time()
    threading.Thread(target=run, name="mplessons-check", daemon=True).start()
    deadline = wall + seconds
    seen, since = (state() if state else None), time.perf_counter()
    while not done.wait(min(0.05, max(deadline - time.perf_counter(), 0.0))):
        now = time.perf_counter()
        if now >= deadline:
            break
        if state is not None:
            current = state()
            if current != seen:
                seen, since = current, now
            elif now - since >= patience:
                outcome.stalled = True
                break
    outcome.finished = done.is_set()
    outcome.wall, outcome.cpu = time.perf_counter() - wall, time.process_time() - cpu
    return outcome


def never_raises(check: Callable[..., Any]) -> Callable[..., Any]:
    """A check must answer, whatever the student returned (an object whose ``==`` or ``repr`` raises ...)."""

    @functools.wraps(check)
    def answering(*args: Any, **kwargs: Any) -> Any:
        try:
            return check(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - turned into feedback
            return failed(tr("the check could not make sense of this answer ({error}): return a plain list, as the "
                             "exercise asks", error=describe_error(exc)))

    return answering


def describe_error(error: BaseException, limit: int = 240) -> str:
    """``ValueError: message``, as a traceback's last line says it: the message's first line, cut after a
    whole sentence if it is long (a feedback line, not a traceback). A Chinese sentence ends with "。"."""
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else ""
    if len(text) > limit:
        end = max(text.rfind(". ", 0, limit), text.rfind("。", 0, limit))
        text = text[: end + 1] if end > 0 else text[:limit].rsplit(" ", 1)[0] + " ..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
