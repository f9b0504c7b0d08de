"""A look at lesson 07's ``deposit`` that does not hang on luck: one deposit is paused inside its race window.

Four threads depositing at once lose a deposit only when two of them happen to overlap between ``read()`` and
``write()``; an answer without a lock that spreads its calls out (a ``time.sleep`` before the read) can lose
nothing in every round by chance. Here the check makes the overlap happen: the first deposit's ``read()`` waits
until the check lets it go, and meanwhile a second deposit starts. With one lock around the read and the write
the second waits for the first; without it the second reads the same old balance, and a deposit is lost for
certain. Only a lost deposit counts, so a right answer on a busy machine is never rejected: at worst a slow
second thread misses the window and the probe finds nothing.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from ..lessons_threads import Account

PAUSE_LIMIT = 5.0  # the paused read goes on by itself after this long, whatever the check does
SECOND_WAIT = 0.5  # how long the second deposit gets to reach read() while the first is paused
JOIN_LIMIT = 2.0  # per deposit, once the first is let go
START, FIRST, SECOND = 10, 5, 7


class _PausingAccount(Account):
    """An Account whose first ``read()`` pauses after reading, until ``go_on`` is set (or PAUSE_LIMIT)."""

    def __init__(self, balance: int) -> None:
        super().__init__(balance)
        self.first_read = threading.Event()
        self.second_read = threading.Event()
        self.go_on = threading.Event()
        self._seen = 0
        self._seen_lock = threading.Lock()

    def read(self) -> int:
        value = super().read()
        with self._seen_lock:
            self._seen += 1
            first = self._seen == 1
        if first:
            self.first_read.set()
            self.go_on.wait(PAUSE_LIMIT)
        else:
            self.second_read.set()
        return value


def _start(fn: Callable[..., Any], account: Account, amount: int) -> threading.Thread:
    """Run ``fn(account, amount)`` in a daemon thread; its errors were reported by the earlier steps."""

    def call() -> None:
        with contextlib.suppress(BaseException):  # one_at_a_time has already shown the student any error
            fn(account, amount)

    thread = threading.Thread(target=call, daemon=True, name="lesson07-probe")
    thread.start()
    return thread


def lost_in_the_window(fn: Callable[..., Any], first_timeout: float = 2.0) -> int:
    """The amount lost when a second deposit starts while the first is paused between its read and its write:
    0 when the second waited for the first (a lock), re-read the balance, or did not get there in time."""
    account = _PausingAccount(START)
    first = _start(fn, account, FIRST)
    if not account.first_read.wait(first_timeout):
        account.go_on.set()
        return 0
    second = _start(fn, account, SECOND)
    account.second_read.wait(SECOND_WAIT)
    account.go_on.set()
    for thread in (first, second):
        thread.join(JOIN_LIMIT)
    if first.is_alive() or second.is_alive():
        return 0
    return max(0, START + FIRST + SECOND - account.balance)
