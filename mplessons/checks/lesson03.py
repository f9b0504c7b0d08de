"""Self-checks for lesson 03 (Pool and ProcessPoolExecutor): each runs the student's function on a real pool,
wrapped so that the check sees which API was used and whether each task was submitted before the previous
one had finished (``pools``).

The tasks wait ``abs(x) * LINGER`` seconds and the first item is the biggest, so they finish in another order
than they were submitted: an answer that collects results in finishing order cannot pass by luck.
"""

from __future__ import annotations

from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing.pool import AsyncResult
from typing import Any

from ..i18n import tr
from ..lessons_pool import LINGER, lingering_fragile_square, lingering_square, nap
from ..machine import context
from . import Feedback, failed, function_problem, passed, remembers_rejections
from .bounded import Outcome, call_bounded, describe_error, never_raises
from .observe import Journal
from .pools import CountedHere, Executor, Pool, reads_recorded

WORKERS = 4
ASYNC_ITEMS = [9, 2, 6, 3, 8, 4, 7, 5]
FRAGILE_ITEMS = [8, -2, 5, 3, -6, 4, 2, 7]
TIME_LIMIT = 30.0


def _serial_seconds(items: list[Any]) -> float:
    return sum(abs(x) for x in items) * LINGER


def _progress(journal: Journal, tasks: list[Any], finished: str) -> Any:
    return len(journal.calls), sum(bool(getattr(t, finished)()) for t in tasks)


def _stalled(outcome: Outcome, what: str) -> str | None:
    if outcome.finished:
        return None
    waited = tr("has waited {seconds:.0f} s with no task finishing", seconds=outcome.wall) if outcome.stalled else \
        tr("did not return within {limit:g} s", limit=TIME_LIMIT)
    return tr("{what} {waited}: something waits for a result that never comes", what=what, waited=waited)


def _order(got: list[Any], expected: list[Any], items: list[Any]) -> str | None:
    if got == expected:
        return None
    if len(got) == len(expected) and sorted(map(repr, got)) == sorted(map(repr, expected)):
        return tr("results are out of order: got {got!r:.120} for inputs {inputs!r}, expected {expected!r:.120}. "
                  "Keep the results in the order you submitted the tasks (a callback or as_completed gives them in "
                  "the order they finish).", got=got, inputs=items, expected=expected)
    if len(got) != len(expected):
        return tr("expected {expected} results, one per input, got {got}", expected=len(expected), got=len(got))
    wrong = next(i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e)
    return tr("result {index} (input {input!r}) is {got!r:.60}, expected {expected!r:.60}",
              index=wrong, input=items[wrong], got=got[wrong], expected=expected[wrong])


def _computed_here(func: CountedHere, what: str) -> str | None:
    if not func.here:
        return None
    return tr("{what} called func {count} time(s) itself, here in this process: those tasks ran here, one after "
              "another, not in the pool's workers. Hand every item to the pool, and take each result from the "
              "object the pool gives back", what=what, count=func.here)


# --- exercise 1: apply_async ------------------------------------------------------------------------------


def _ex1_unread(journal: Journal, pool: Pool, read: set[int]) -> str | None:
    """Right values, but not from the tasks: no ``.get()`` on their AsyncResults and no callback."""
    calls = journal.of("apply_async")
    unread = [r for r, c in zip(pool.handed, calls, strict=False)
              if id(r) not in read and c.details["callback"] is None]
    if not unread:
        return None
    return tr("{unread} of your {count} tasks' results were never read (no .get() on the AsyncResult apply_async "
              "returned, no callback): the values you returned were made here. Return what each .get() gives you",
              unread=len(unread), count=len(calls))


def _apply_async_usage(journal: Journal, items: list[Any]) -> str | None:
    other = [c for c in journal.calls if c.what in ("map", "map_async", "imap", "imap_unordered", "starmap",
                                                     "starmap_async")]
    if other:
        return tr("you used pool.{method}: it gets the job done, but this exercise is about apply_async. Submit "
                  "each item with pool.apply_async(func, (x,)), then call .get() on each result", method=other[0].what)
    if journal.of("apply"):
        return tr("pool.apply(func, (x,)) waits for its result before it returns, so the tasks run one after "
                  "another: use pool.apply_async, which returns at once")
    calls = journal.of("apply_async")
    if not calls:
        return tr("your function did not call pool.apply_async on the pool it was given")
    for call in calls:
        func, args = call.details["func"], call.details["args"]
        if not callable(func):
            return tr("apply_async got {func!r:.40} as its function: apply_async(func(x)) calls func right here and "
                      "submits its result. Pass the function and its arguments: pool.apply_async(func, (x,))",
                      func=func)
        if isinstance(args, (tuple, list)) and len(args) > 1 and list(args) == list(items):
            return tr("apply_async(func, items) submits one task that calls func with every item as an argument: "
                      "submit one task per item, pool.apply_async(func, (x,))")
        if not isinstance(args, (tuple, list)):
            return tr("apply_async(func, (x)) passes x itself ({args!r:.20}), not a tuple of arguments: (x) is just "
                      "x in parentheses. Write (x,) with the comma (lesson 01, section 2)", args=args)
    return None


@remembers_rejections("all_with_apply_async")
@never_raises
def check_apply_async(fn: Any, start_method: str | None = None) -> Feedback:
    """Exercise 1: ``fn(pool, func, items)`` returns ``[func(x) for x in items]`` using ``pool.apply_async``."""
    problem = function_problem(fn, "all_with_apply_async")
    if problem is not None:
        return problem
    items, journal, func, read = list(ASYNC_ITEMS), Journal(), CountedHere(lingering_square), set()
    with context(start_method).Pool(WORKERS) as real:
        real.map(nap, [0.02] * WORKERS, chunksize=1)  # let every worker finish starting before the clock runs
        pool = Pool(real, journal)
        with reads_recorded(read):
            outcome = call_bounded(fn, (pool, func, list(items)), TIME_LIMIT,
                                   state=lambda: _progress(journal, pool.handed, "ready"))
    message = (_stalled(outcome, "all_with_apply_async") or _apply_async_usage(journal, items)
               or _computed_here(func, "all_with_apply_async"))
    if message is None and outcome.error is not None:
        message = tr("{what} raised {error}", what="all_with_apply_async", error=describe_error(outcome.error))
    message = message or _ex1_results(outcome.result, items, journal) or _ex1_unread(journal, pool, read)
    if message:
        return failed(message)
    return passed(tr("{count} results in input order in {seconds:.2f} s, every task submitted before the first "
                     ".get() (one after another: {serial:.2f} s).", count=len(items), seconds=outcome.wall,
                     serial=_serial_seconds(items)))


def _ex1_results(result: Any, items: list[Any], journal: Journal) -> str | None:
    if not isinstance(result, (list, tuple)):
        return tr("all_with_apply_async should return a list of results, got {kind} {value!r:.80}",
                  kind=type(result).__name__, value=result)
    result = list(result)
    if result and all(r is None for r in result):
        return tr("every result is None: keep the AsyncResult objects apply_async returns and call .get() on each "
                  "(a callback's return value is thrown away).")
    if result and all(isinstance(r, AsyncResult) for r in result):
        return tr("you returned the AsyncResult objects themselves: call .get() on each to get its value.")
    problem = _order(result, [x * x for x in items], items)
    if problem:
        return problem
    if any(c.details["earlier_done"] for c in journal.of("apply_async")):
        return tr("each task was submitted only after the previous one had finished: calling .get() right after "
                  "each apply_async waits for that task, so the tasks ran one after another. Submit them all first, "
                  "then .get() each.")
    return None


# --- exercise 2: failures with ProcessPoolExecutor --------------------------------------------------------


def _submit_usage(journal: Journal) -> str | None:
    if journal.of("map"):
        return tr("you used executor.map: it raises the first task's error when you reach that result, and every "
                  "result after it is lost. Submit each item with executor.submit(func, x), then call each future's "
                  ".result() inside its own try/except")
    calls = journal.of("submit")
    if not calls:
        return tr("your function did not call executor.submit on the executor it was given")
    for call in calls:
        func, args = call.details["func"], call.details["args"]
        if not callable(func):
            return tr("executor.submit got {func!r:.40} as its function: submit(func(x)) calls func right here "
                      "(where a failing task raises in your function) and submits its result. Pass the function and "
                      "its arguments: executor.submit(func, x)", func=func)
        if len(args) == 1 and isinstance(args[0], tuple):
            return tr("executor.submit(func, {args!r}) passes the tuple as one argument: submit takes the arguments "
                      "themselves, executor.submit(func, x) (apply_async is the one that wants a tuple)",
                      args=args[0])
    return None


def _ex2_error(error: BaseException, items: list[Any]) -> str:
    if isinstance(error, ValueError) and "negative input" in str(error):
        return tr("a task's {error} escaped from results_or_errors, so the results of the other tasks were lost: "
                  "call each future's .result() inside try/except ValueError (or Exception) as exc, and put exc in "
                  "the list", error=describe_error(error))
    return tr("{what} raised {error}", what="results_or_errors", error=describe_error(error))


def _ex2_results(result: Any, items: list[Any], journal: Journal) -> str | None:
    if not isinstance(result, (list, tuple)):
        return tr("results_or_errors should return a list, got {kind} {value!r:.80}", kind=type(result).__name__,
                  value=result)
    result = list(result)
    failing = [i for i, x in enumerate(items) if x < 0]
    if result and all(isinstance(r, Future) for r in result):
        return tr("you returned the Future objects themselves: call .result() on each, inside try/except.")
    stopped = result[:-1] if result and isinstance(result[-1], BaseException) else result
    if len(stopped) == failing[0] < len(items):
        return tr("your list stops at the first failing task (input {input}): the try/except is around the whole "
                  "loop, so the first error ended it. Put try/except around each future.result()",
                  input=items[failing[0]])
    if len(result) == len(items) - len(failing):
        return tr("your list leaves the failing tasks out: for a task that raised, put the exception object itself "
                  "in the list (except ValueError as exc: ... exc), so every item keeps its position")
    if any(isinstance(r, str) and r.startswith("negative input") for r in result):
        return tr("for a failing task, put the exception object itself in the list (except ValueError as exc: ... "
                  "exc), not its message.")
    if len(result) == len(items) and all(result[i] is None for i in failing):
        return tr("at the positions of the failing tasks {positions} your list has None: put the exception object "
                  "itself there (except ValueError as exc: ... exc)", positions=failing)
    shown = [type(r).__name__ if isinstance(r, BaseException) else r for r in result]
    problem = _order(shown, ["ValueError" if x < 0 else x * x for x in items], items)
    if problem:
        return problem
    if any(c.details["earlier_done"] for c in journal.of("submit")):
        return tr("each task was submitted only after the previous one had finished: calling .result() right after "
                  "each submit waits for that task, so the tasks ran one after another. Submit them all first, then "
                  "collect the results.")
    return None


def _ex2_not_from_futures(result: list[Any], executor: Executor, read: set[int]) -> str | None:
    """Right-looking results that did not come from the futures: unread futures, or exceptions made here."""
    unread = [f for f in executor.handed if id(f) not in read]
    if unread:
        return tr("{unread} of your {count} futures were never asked for their outcome (no .result(), .exception() "
                  "or callback): the values you returned were made here. Put in the list what each future.result() "
                  "returns, or the exception it raises", unread=len(unread), count=len(executor.handed))
    raised = [f.exception() for f in executor.handed if f.done() and not f.cancelled()]
    made = [i for i, r in enumerate(result) if isinstance(r, BaseException) and not any(r is e for e in raised)]
    if made:
        return tr("the exceptions at positions {positions} were made here, not raised by the tasks: put in the list "
                  "the exception object future.result() raised (except ValueError as exc: ... exc)", positions=made)
    return None


@remembers_rejections("results_or_errors")
@never_raises
def check_failures(fn: Any, start_method: str | None = None) -> Feedback:
    """Exercise 2: ``fn(executor, func, items)`` returns each result, or the exception a task raised, in order."""
    problem = function_problem(fn, "results_or_errors")
    if problem is not None:
        return problem
    items, journal, func, read = list(FRAGILE_ITEMS), Journal(), CountedHere(lingering_fragile_square), set()
    real = ProcessPoolExecutor(WORKERS, mp_context=context(start_method))
    try:
        list(real.map(nap, [0.02] * WORKERS))  # start the workers before the clock runs
        executor = Executor(real, journal)
        with reads_recorded(read):
            outcome = call_bounded(fn, (executor, func, list(items)), TIME_LIMIT,
                                   state=lambda: _progress(journal, executor.handed, "done"))
    finally:
        real.shutdown(wait=True, cancel_futures=True)  # a rejected attempt leaves no queued tasks behind
    message = (_stalled(outcome, "results_or_errors") or _submit_usage(journal)
               or _computed_here(func, "results_or_errors"))
    if message is None and outcome.error is not None:
        message = _ex2_error(outcome.error, items)
    message = (message or _ex2_results(outcome.result, items, journal)
               or _ex2_not_from_futures(outcome.result, executor, read))
    if message:
        return failed(message)
    errors = sum(x < 0 for x in items)
    return passed(tr("{count} results in input order, {errors} of them errors, in {seconds:.2f} s, every task "
                     "submitted before the first .result() (one after another: {serial:.2f} s).", count=len(items),
                     errors=errors, seconds=outcome.wall, serial=_serial_seconds(items)))

