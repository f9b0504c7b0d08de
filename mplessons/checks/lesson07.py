"""Self-checks for lesson 07 (threads done right): each runs the student's function and watches what it did.

Exercise 2 hands ``fetch_all`` a fake download of its own, which notes in which thread, when, and called from
where each download ran: that tells a thread pool from a loop, from threads started by hand and from processes;
and each page it returns is a new object, so pages made by the student's own code instead show. Exercise 1 runs
the student's ``deposit`` in several threads at once on an ``Account`` whose read and write let other threads
run, and counts the deposits lost.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from types import CodeType
from typing import Any

from ..i18n import tr
from ..lessons_threads import Account
from . import Feedback, failed, function_problem, passed, remembers_rejections
from .bounded import call_bounded
from .deposit_probe import FIRST, SECOND, lost_in_the_window

# --- exercise 2: ThreadPoolExecutor for waiting work ---------------------------------------------------

URLS = [f"https://example.org/page/{i}" for i in range(1, 9)]
WAITS = dict(zip(URLS, [0.3, 0.25, 0.2, 0.15, 0.1, 0.1, 0.1, 0.1], strict=True))  # the first is the longest
MIN_AT_ONCE = 4  # of 8 downloads: a pool that runs fewer at once is barely faster than a loop
TIME_LIMIT = 30.0  # fetch_all runs in a helper thread: a deadlocked pool is feedback, not a hung notebook


@dataclass(frozen=True)
class _Call:
    url: str
    thread: int
    main_thread: bool  # ran in the thread that called fetch_all (set once the check knows that thread)
    from_pool: bool
    start: float
    end: float
    page: str = ""
    from_mp_pool: bool = False


_calls: list[_Call] = []
_calls_lock = threading.Lock()


def page_for(url: str) -> str:
    return f"<html>{url}</html>"


def _called_from(*tail: str) -> bool:
    """True when a frame of the file ending in ``tail`` is on the stack (``concurrent/futures/thread.py``:
    concurrent.futures' pool worker)."""
    frame = sys._getframe(2)
    while frame is not None:
        parts = os.path.normpath(frame.f_code.co_filename).split(os.sep)
        if parts[-len(tail):] == list(tail):
            return True
        frame = frame.f_back
    return False


def fetch(url: str) -> str:
    """The check's fake download: waits (longer for the first URLs) and notes where and when it ran."""
    start = time.perf_counter()
    from_pool = _called_from("concurrent", "futures", "thread.py")
    from_mp_pool = not from_pool and _called_from("multiprocessing", "pool.py")
    time.sleep(WAITS.get(url, 0.1))
    page = page_for(url)  # a new object each time: the check can tell it from one the student made
    call = _Call(url, threading.get_ident(), False, from_pool, start, time.perf_counter(), page, from_mp_pool)
    with _calls_lock:
        _calls.append(call)
    return page


def _most_at_once(calls: list[_Call]) -> int:
    events = sorted([(c.start, 1) for c in calls] + [(c.end, -1) for c in calls], key=lambda e: (e[0], e[1]))
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


def _error_line(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _result_problem(result: Any, expected: list[str]) -> Feedback | None:
    if isinstance(result, Iterator):
        return failed(tr("you returned an iterator (executor.map gives one): return a list, "
                         "list(executor.map(...))"))
    if not isinstance(result, (list, tuple)):
        return failed(tr("fetch_all should return a list of pages, got {kind} {value!r:.80}",
                         kind=type(result).__name__, value=result))
    result = list(result)
    if result and all(hasattr(r, "result") and hasattr(r, "done") for r in result):
        return failed(tr("you returned the Future objects: call .result() on each to get its page"))
    if len(result) != len(expected):
        return failed(tr("expected {expected} pages, one per URL, got {got}", expected=len(expected),
                         got=len(result)))
    if result == expected:
        return None
    if sorted(map(repr, result)) == sorted(map(repr, expected)):
        return failed(tr("the pages are out of order: as_completed gives them in the order the downloads finish "
                         "(the first URL is the slowest here). Keep the order of `urls`: executor.map, or the futures "
                         "in the order you submitted them"))
    wrong = next(i for i, (r, e) in enumerate(zip(result, expected, strict=True)) if r != e)
    return failed(tr("page {index} is {got!r:.60}, expected {expected!r}: return what fetch(url) returned, for each "
                     "URL in order", index=wrong, got=result[wrong], expected=expected[wrong]))


@remembers_rejections("fetch_all")
def check_fetch_all(fn: Any) -> Feedback:
    """Exercise 2: ``fn(fetch, urls)`` returns ``[fetch(u) for u in urls]``, downloading in a ThreadPoolExecutor."""
    problem = function_problem(fn, "fetch_all(fetch, urls)", "fetch_all")
    if problem is not None:
        return problem
    with _calls_lock:
        _calls.clear()
    expected = [page_for(u) for u in URLS]
    serial = sum(WAITS.values())
    outcome = call_bounded(fn, (fetch, list(URLS)), TIME_LIMIT, state=lambda: len(_calls))
    wall, exc = outcome.wall, outcome.error
    if not outcome.finished:
        waited = (tr("has waited {seconds:.0f} s with no download finishing", seconds=outcome.wall)
                  if outcome.stalled else tr("did not return within {limit:g} s", limit=TIME_LIMIT))
        return failed(tr("fetch_all {waited}: something waits for a result that never comes (a task that waits "
                         "for another task of the same pool, with no thread left to run it?)", waited=waited))
    if isinstance(exc, TypeError):
        if "not callable" in str(exc):
            return failed(tr("TypeError: {message}. You called fetch(url) yourself and handed its result, a page, to "
                             "the executor: pass the function and its argument separately, "
                             "executor.submit(fetch, url) or executor.map(fetch, urls)", message=exc))
        return failed(tr("fetch_all raised TypeError: {message}", message=exc))
    if exc is not None:
        return failed(tr("{what} raised {error}", what="fetch_all", error=_error_line(exc)))
    result = outcome.result
    with _calls_lock:
        calls = list(_calls)
    for i, c in enumerate(calls):  # "this thread": the one that ran fetch_all for the check
        calls[i] = replace(c, main_thread=c.thread == outcome.thread_id)
    problem = _result_problem(result, expected)
    if problem is not None:
        return problem
    if not calls:
        return failed(tr("none of the downloads ran in this process: a ProcessPoolExecutor? Waiting needs no other "
                         "core, and threads start at once and share memory: use ThreadPoolExecutor"))
    if all(c.main_thread for c in calls):
        return failed(tr("every download ran in this thread, one after another ({seconds:.2f} s; at once they take "
                         "about {at_once:.2f} s): submit them to a ThreadPoolExecutor, executor.map(fetch, urls)",
                         seconds=wall, at_once=max(WAITS.values())))
    here = [c for c in calls if c.main_thread]
    if here:
        return failed(tr("{count} of the {total} downloads ran in this thread, one after another, not in the pool: "
                         "hand every URL to the executor, executor.map(fetch, urls)", count=len(here),
                         total=len(calls)))
    if any(c.from_mp_pool for c in calls):
        return failed(tr("the downloads ran in multiprocessing.pool.ThreadPool: it works, but this exercise is about "
                         "concurrent.futures.ThreadPoolExecutor (with ThreadPoolExecutor() as executor: ...), the "
                         "same API as lesson 03's ProcessPoolExecutor"))
    if not all(c.from_pool for c in calls):
        return failed(tr("the downloads ran in threads you started yourself: this exercise is about "
                         "concurrent.futures.ThreadPoolExecutor, which starts, reuses and joins the threads for you "
                         "(with ThreadPoolExecutor() as executor: ...)"))
    fetched = [c.page for c in calls]
    made = [i for i, page in enumerate(result) if not any(page is f for f in fetched)]
    if made:
        return failed(tr("the pages at positions {positions} are not what fetch returned: they were made here, by "
                         "your own code (and fetch's pages were thrown away). Return the pages the executor gives "
                         "back, list(executor.map(fetch, urls))", positions=made))
    at_once = _most_at_once(calls)
    if at_once < MIN_AT_ONCE:
        return failed(tr("at most {at_once} download(s) ran at the same time ({seconds:.2f} s; one after another: "
                         "{serial:.2f} s). Submit every download before waiting for any result (.result() right "
                         "after submit waits for that one), and leave max_workers at its default or make it larger",
                         at_once=at_once, seconds=wall, serial=serial))
    return passed(tr("{count} pages in order in {seconds:.2f} s (one after another: {serial:.2f} s): the downloads "
                     "overlapped in the pool's threads", count=len(URLS), seconds=wall, serial=serial))


# --- exercise 1: fix the race with a Lock ---------------------------------------------------------------

THREADS, DEPOSITS, ROUNDS = 4, 25, 3
CALL_TIMEOUT = 2.0  # seconds one deposit may take before the check calls it stuck


def _names_used(code: CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, CodeType):
            names |= _names_used(const)
    return names


def _makes_its_own_lock(fn: Callable[..., Any]) -> bool:
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    return isinstance(code, CodeType) and bool({"Lock", "RLock", "Semaphore", "BoundedSemaphore"} & _names_used(code))


def _call_with_timeout(fn: Callable[..., Any], *args: Any) -> tuple[bool, BaseException | None]:
    """Call ``fn(*args)`` in a helper thread: (finished in time, its exception). A stuck call is left behind."""
    outcome: list[BaseException | None] = []

    def call() -> None:
        try:
            fn(*args)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - reported to the student
            outcome.append(exc)

    helper = threading.Thread(target=call, daemon=True, name="lesson07-check")
    helper.start()
    helper.join(CALL_TIMEOUT)
    return bool(outcome), (outcome[0] if outcome else None)


def _one_at_a_time(fn: Callable[..., Any]) -> Feedback | None:
    """Two deposits in a row, nothing concurrent: wrong sums, errors and locks never released show here."""
    account = Account(10)
    for amount, call in ((5, "first"), (7, "second")):
        finished, error = _call_with_timeout(fn, account, amount)
        if not finished:
            if call == "first":
                return failed(tr("deposit did not return within {seconds:g} s on its first call, with no other "
                                 "thread running.", seconds=CALL_TIMEOUT))
            return failed(tr("deposit did not return within {seconds:g} s on its second call, with no other thread "
                             "running. A lock acquired and never released? `with lock:` releases it even when the "
                             "code inside raises", seconds=CALL_TIMEOUT))
        if error is not None:
            call_made = f"deposit(account, {amount})"
            return failed(tr("{what} raised {error}", what=call_made, error=_error_line(error)))
    if account.reads < 2 or account.writes < 2:
        return failed(tr("two deposits made {reads} read(s) and {writes} write(s): the balance lives in a slow "
                         "store, so go through it, `account.read()` then `account.write(new_balance)`",
                         reads=account.reads, writes=account.writes))
    if account.balance != 22:
        return failed(tr("deposit(account, 5) then deposit(account, 7) took a balance of 10 to {balance}, expected "
                         "22: write the balance you read plus the amount", balance=account.balance))
    return None


def _round(fn: Callable[..., Any]) -> tuple[Account, int, bool]:
    """THREADS threads each deposit 1, 2, 3, ... DEPOSITS times at once; (account, expected, all finished)."""
    account = Account(0)
    start_line = threading.Barrier(THREADS)

    def work(amount: int) -> None:
        start_line.wait(timeout=10)
        for _ in range(DEPOSITS):
            fn(account, amount)

    workers = [threading.Thread(target=work, args=(k + 1,), daemon=True) for k in range(THREADS)]
    for w in workers:
        w.start()
    deadline = time.perf_counter() + 10 * CALL_TIMEOUT
    for w in workers:
        w.join(max(0.0, deadline - time.perf_counter()))
    expected = DEPOSITS * sum(range(1, THREADS + 1))
    return account, expected, not any(w.is_alive() for w in workers)


@remembers_rejections("deposit")
def check_deposit(fn: Any) -> Feedback:
    """Exercise 1: ``fn(account, amount)`` called from several threads at once never loses a deposit."""
    problem = function_problem(fn, "deposit(account, amount)", "deposit")
    if problem is not None:
        return problem
    problem = _one_at_a_time(fn)
    if problem is not None:
        return problem
    lost_total = deposited = 0
    for done_rounds in range(1, ROUNDS + 1):  # noqa: B007 - the count after the loop is reported
        account, expected, finished = _round(fn)
        if not finished:
            return failed(tr("{threads} threads calling deposit at once did not finish within {seconds:g} s: a "
                             "deadlock? Take one lock, once per deposit, and release it (`with lock:`)",
                             threads=THREADS, seconds=10 * CALL_TIMEOUT))
        if account.reads < THREADS * DEPOSITS or account.writes < THREADS * DEPOSITS:
            return failed(tr("{deposits} deposits made only {reads} reads and {writes} writes: every deposit must "
                             "read the balance and write the new one", deposits=THREADS * DEPOSITS,
                             reads=account.reads, writes=account.writes))
        if account.balance > expected:
            return failed(tr("the balance reached {balance:,}, more than the {expected:,} deposited: add `amount` "
                             "once per call", balance=account.balance, expected=expected))
        lost_total += expected - account.balance
        deposited += expected
        if lost_total:
            break
    if lost_total:
        if _makes_its_own_lock(fn):
            return failed(tr("lost {lost:,} of {deposited:,} deposited when {threads} threads ran deposit at once: "
                             "deposit makes a new Lock on every call, so each call holds a lock nobody else waits "
                             "for. Create one lock once, outside the function (lock = threading.Lock()), and use it "
                             "inside: with lock: ...", lost=lost_total, deposited=deposited, threads=THREADS))
        return failed(tr("lost {lost:,} of {deposited:,} deposited when {threads} threads ran deposit at once: "
                         "between account.read() and account.write() another thread read the same old balance. Hold "
                         "one threading.Lock, created once outside deposit, around the read and the write together",
                         lost=lost_total, deposited=deposited, threads=THREADS))
    lost = lost_in_the_window(fn, CALL_TIMEOUT)
    if lost:
        return failed(tr("{threads} threads at once lost nothing this time, by luck of timing, but deposits without "
                         "one lock can be lost: the check paused one deposit between its account.read() and its "
                         "account.write(), a second deposit read the same old balance meanwhile, and {lost} of the "
                         "{deposited} deposited was lost. Hold one threading.Lock, created once outside deposit, "
                         "around the read and the write together", threads=THREADS, lost=lost,
                         deposited=FIRST + SECOND))
    return passed(tr("{threads} threads made {deposits} deposits at once, {rounds} times, and none was lost",
                     threads=THREADS, deposits=THREADS * DEPOSITS, rounds=done_rounds))
