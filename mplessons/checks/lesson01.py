"""Self-checks for lesson 01 (Process and Queue): each calls the student's function with a context, queue or
process of its own (``observe``), which records what was called and when, and says what is wrong."""

from __future__ import annotations

from typing import Any

from ..i18n import tr
from ..lessons_queue import big_result_to_queue
from ..machine import context
from ..workloads import cubic_sum
from . import Feedback, failed, function_problem, passed, remembers_rejections
from . import processes as diagnose
from .bounded import call_bounded, describe_error, never_raises
from .observe import Call, Context

TIME_LIMIT = 30.0
"""Seconds the student's function may run before the check gives up on it (it cannot hang the notebook)."""

JOIN_CAP = 4.0
"""Exercise 2: the longest a ``join()`` may wait. A join before the drain would wait forever; a join after it
returns within milliseconds."""

EXAMPLE = "ctx.Process(target=labelled_cubic_sum, args=(q, i, n))"


def unsorted(sizes: list[int]) -> list[int]:
    """The sizes the check calls exercise 1's function with: the notebook's, biggest first, then smallest, then
    the rest, so that neither input order nor results sorted by value match the order the processes finish in
    (an answer that sorts the values instead of using the labels cannot pass by luck)."""
    ordered = sorted(sizes, reverse=True)
    return ordered[:1] + ordered[-1:] + ordered[1:-1] if len(ordered) > 2 else ordered


def _ignored_sizes_problem(ctx: Context, given: list[int], sizes: list[int]) -> str | None:
    """The processes were made for the notebook's SIZES, not for the sizes the function was called with."""
    made = [p.args[-1] for p in ctx.processes if isinstance(p.args, (tuple, list)) and p.args]
    if given == sizes or made != given:
        return None
    return tr("your function returned the results for SIZES, not for the sizes it was given (the check called "
              "it with {sizes}): use its parameter `sizes`, not the global", sizes=sizes)


@remembers_rejections("results_in_order")
@never_raises
def check_results_in_order(fn: Any, sizes: list[int], start_method: str | None = None) -> Feedback:
    """Exercise 1: ``fn(ctx, sizes)`` starts one process per size, drains a queue, joins, returns in input order."""
    problem = function_problem(fn, "results_in_order")
    if problem is not None:
        return problem
    given, sizes = list(sizes), unsorted(sizes)
    ctx = Context(context(start_method), cap=10.0, join_cap=10.0)
    try:
        outcome = call_bounded(fn, (ctx, list(sizes)), TIME_LIMIT, state=ctx.state)
        expected = [cubic_sum(n) for n in sizes]
        message = (diagnose.creation_problem(ctx) or diagnose.foreign_queue_problem(ctx)
                   or diagnose.start_problem(ctx, len(sizes), EXAMPLE)
                   or diagnose.outcome_problem(outcome, "results_in_order", TIME_LIMIT, ctx)
                   or diagnose.no_process_problem(ctx) or diagnose.put_here_problem(ctx, EXAMPLE)
                   or _ignored_sizes_problem(ctx, given, sizes)
                   or diagnose.not_from_queue_problem(ctx, outcome.result, expected)
                   or diagnose.describe_results(outcome.result, expected, sizes)
                   or diagnose.order_problem(ctx) or diagnose.drain_problem(ctx) or diagnose.join_problem(ctx))
    finally:
        ctx.cleanup()
    if message:
        return failed(message)
    return passed(tr("all {count} results are right and in input order, from {count} processes that ran at "
                     "the same time: started, drained, then joined", count=len(sizes)))


def _ex2_timeouts(ctx: Context) -> str | None:
    for call in ctx.journal.of("get", "join"):
        if call.details.get("timeout") is None and call.details.get("block", True):
            how = "q.get(timeout=30)" if call.what == "get" else "p.join(timeout=30)"
            return tr("{call}() has no timeout=: if the child dies or hangs, it waits forever (and the notebook "
                      "with it). Write {fix}", call=call.what, fix=how)
    return None


def _ex2_join_first(ctx: Context, first_get: Call | None, n_bytes: int) -> str | None:
    joins = ctx.journal.of("join")
    early = [j for j in joins if first_get is None or j.begun < first_get.begun]
    if not early or not any(p.started for p in ctx.processes):
        return None
    join = early[0]
    if join.outcome == "alive":
        waited = (tr("join() without a timeout would have waited forever (the check stopped it after {cap:g} s)",
                     cap=JOIN_CAP)
                  if join.details.get("timeout") is None else
                  tr("join(timeout={timeout!r}) gave up after {seconds:.1f} s with the child still alive",
                     timeout=join.details["timeout"], seconds=join.seconds))
    else:
        waited = tr("here it returned only because the child had died")
    return tr("you joined p before you read its data: {waited}. The child cannot exit until its {size:,} bytes "
              "have been read from the pipe, so drain first: data = q.get(timeout=30), then p.join(timeout=30)",
              waited=waited, size=n_bytes)


@remembers_rejections("drain_then_join")
@never_raises
def check_drained_then_joined(fn: Any, n_bytes: int, start_method: str | None = None) -> Feedback:
    """Exercise 2: ``fn(q, p)`` starts ``p``, reads its big result from ``q`` with a timeout, then joins ``p``."""
    problem = function_problem(fn, "drain_then_join")
    if problem is not None:
        return problem
    ctx = Context(context(start_method), cap=10.0, join_cap=JOIN_CAP)
    try:
        q = ctx.Queue()
        p = ctx.Process(target=big_result_to_queue, args=(q, n_bytes))
        outcome = call_bounded(fn, (q, p), TIME_LIMIT, state=ctx.state)
        message = _verdict_ex2(ctx, outcome, n_bytes)
    finally:
        ctx.cleanup()
    if message:
        return failed(message)
    return passed(tr("got all {size:,} bytes, and then the process exited with code 0: drain, then join",
                     size=n_bytes))


def _verdict_ex2(ctx: Context, outcome: Any, n_bytes: int) -> str | None:
    (p,) = ctx.processes
    gets = [g for g in ctx.journal.of("get") if g.outcome == "item"]
    if ctx.journal.of("run"):
        return tr("you called p.run(), which runs big_result_to_queue right here, in this process: call p.start(), "
                  "which starts the child process")
    if not p.started:
        said = (tr(" (your function raised {error})", error=describe_error(outcome.error))
                if outcome.error is not None else "")
        return tr("p was never started{said}: call p.start() first; a process that is not started puts nothing on "
                  "the queue, so get() can only time out", said=said)
    message = _ex2_join_first(ctx, gets[0] if gets else None, n_bytes)
    if message:
        return message
    problem = (diagnose.put_here_problem(ctx, tr("p already runs big_result_to_queue(q, N_BYTES)"))
               or diagnose.outcome_problem(outcome, "drain_then_join", TIME_LIMIT, ctx))
    if problem:
        return problem
    if not gets:
        return tr("you never read the data: call data = q.get(timeout=30) after p.start()")
    if not ctx.journal.of("join"):
        return tr("you never joined p: after q.get(), call p.join(timeout=30), which waits for the child to exit "
                  "(and frees it)")
    message = _ex2_timeouts(ctx)
    if message:
        return message
    data = outcome.result
    if data is None:
        return tr("drain_then_join returned None: return the data you got from q.get()")
    if not isinstance(data, (bytes, bytearray)):
        return tr("drain_then_join should return the bytes from q.get(), got {kind} {value!r:.40}",
                  kind=type(data).__name__, value=data)
    if len(data) != n_bytes:
        return tr("the data has {got:,} bytes, expected {expected:,}: return what q.get() gave you, unchanged",
                  got=len(data), expected=n_bytes)
    if not any(data is item for item in ctx.queues[0].handed):
        return tr("the bytes you returned are not the ones q.get() gave you (you made them here): return the data "
                  "you read from the queue, unchanged")
    if p.is_alive():
        return tr("p was still running when drain_then_join returned: its join(timeout=...) gave up too early; give "
                  "it a few seconds")
    if p.exitcode != 0:
        return tr("the process exited with code {exitcode}; it should end normally, with 0", exitcode=p.exitcode)
    return None
