"""Watch the pools a student's function makes and the tasks it gives them, while a check runs it.

Whether a pool's workers received the rows of an array (pickled, a copy each) or only the name of the shared
memory segment that holds them is visible only in the arguments of the pool calls, so they are recorded.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from multiprocessing import pool as mp_pool
from typing import Any

from ..errors import InteractiveFunctionError
from ..guard import InteractiveFunctionWarning, check_worker
from ..i18n import tr
from .watch import patched

_inside = threading.local()

_ONE_ARGUMENT = {"map", "map_async", "imap", "imap_unordered"}
_STAR = {"starmap", "starmap_async"}
_APPLY = {"apply", "apply_async"}


@dataclass
class PoolCall:
    """One call of a pool method: which method, which function, and the arguments of each task."""

    api: str
    func: Any
    tasks: list[tuple[Any, ...]]
    pool: Any
    threads: bool = False
    returned: Any = None  # what a call that waits for its results (map, starmap, apply) returned


class TaskFailed(RuntimeError):
    """Raised by a watched pool call instead of running it, when the check wants to see what the student's
    code does when a task fails (does its ``finally`` still clean up?)."""


@dataclass
class PoolWatch:
    """Within ``with PoolWatch() as watch:``, record every ``Pool`` made and every task given to one.

    ``ProcessPoolExecutor.submit`` (which its ``map`` uses) counts too. A function that worker processes
    could not import (defined in the notebook, a lambda) raises :class:`InteractiveFunctionError` at once,
    under every start method, instead of hanging a spawn pool.
    """

    calls: list[PoolCall] = field(default_factory=list)
    pools: list[Any] = field(default_factory=list)
    fail: bool = False  # the first pool call raises TaskFailed, as a failing task would
    _stack: ExitStack = field(default_factory=ExitStack)

    def __enter__(self) -> PoolWatch:
        watch = self
        original_init = mp_pool.Pool.__init__

        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            original_init(self, *args, **kwargs)
            watch.pools.append(self)

        self._stack.enter_context(patched(mp_pool.Pool, "__init__", __init__))
        for api in sorted(_ONE_ARGUMENT | _STAR | _APPLY):
            self._stack.enter_context(patched(mp_pool.Pool, api, self._recorder(api, mp_pool.Pool.__dict__[api])))
        self._stack.enter_context(patched(ProcessPoolExecutor, "submit",
                                           self._recorder("submit", ProcessPoolExecutor.submit)))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _recorder(self, api: str, original: Callable[..., Any]) -> Callable[..., Any]:
        watch = self
        signature = inspect.signature(original)

        @functools.wraps(original)
        def record(pool: Any, *args: Any, **kwargs: Any) -> Any:
            if getattr(_inside, "pool_call", False):  # apply() calls apply_async(): record the outer call only
                return original(pool, *args, **kwargs)
            bound = signature.bind(pool, *args, **kwargs)
            values = bound.arguments
            func = values.get("func", values.get("fn"))
            if api == "submit" or api in _APPLY:
                tasks = [tuple(values.get("args", ()))]
            else:
                values["iterable"] = list(values["iterable"])  # read it once: the pool gets the same items
                tasks = [tuple(item) if api in _STAR else (item,) for item in values["iterable"]]
            threads = isinstance(pool, mp_pool.ThreadPool)
            call = PoolCall(api, func, tasks, pool, threads)
            watch.calls.append(call)
            if not threads:
                _refuse_unimportable(func, pool)
            if watch.fail:
                watch.fail = False
                raise TaskFailed(tr("a task failed (the check made {api} raise, to see that your function cleans "
                                    "up all the same)", api=api))
            _inside.pool_call = True
            try:
                call.returned = original(*bound.args, **bound.kwargs)
                return call.returned
            finally:
                _inside.pool_call = False

        return record

    def finish(self) -> int:
        """Terminate the pools the student's code left running; returns how many there were."""
        left = 0
        for pool in self.pools:
            if getattr(pool, "_state", None) == mp_pool.RUN:
                left += 1
                pool.terminate()
            with contextlib.suppress(ValueError):  # a pool closed but never joined: join() is enough
                pool.join()
        return left


def _refuse_unimportable(func: Any, pool: Any) -> None:
    """Raise at once for a function that worker processes could not import under spawn or forkserver (a
    pool there would wait for its crashing workers forever); under fork too, where it works only by luck."""
    context = getattr(pool, "_ctx", None) or getattr(pool, "_mp_context", None)  # Pool, ProcessPoolExecutor
    method = context.get_start_method() if context is not None else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InteractiveFunctionWarning)
        try:
            check_worker(func, method)
        except InteractiveFunctionError:
            raise
        except TypeError:  # not callable: let the pool raise its own error
            return
    for warning in caught:
        if issubclass(warning.category, InteractiveFunctionWarning):
            raise InteractiveFunctionError(str(warning.message))
