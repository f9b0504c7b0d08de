"""Diagnoses of what a student did with a recording context's processes and queues (lessons 01 and 02).

Each function reads ``observe.Context``'s journal and returns the first mistake it finds, in words that name
it and its fix, or None.
"""

from __future__ import annotations

from typing import Any

from ..i18n import tr
from .bounded import Outcome, describe_error
from .observe import Context, Process


def _which(ctx: Context, process: Process) -> str:
    return tr("process {number} of {count}", number=ctx.processes.index(process) + 1, count=len(ctx.processes))


def outcome_problem(outcome: Outcome, what: str, seconds: float) -> str | None:
    """The function did not return in time, or raised: the student's error is the feedback."""
    if not outcome.finished:
        waited = (tr("has waited {seconds:.0f} s with nothing happening", seconds=outcome.wall) if outcome.stalled
                  else tr("did not return within {limit:g} s", limit=seconds))
        return tr("{what} {waited}. Something waits forever: a get() on a queue nobody puts on (were all "
                  "processes started?), or a join() before the results were read", what=what, waited=waited)
    if outcome.error is not None:
        return tr("{what} raised {error}", what=what, error=describe_error(outcome.error))
    return None


def creation_problem(ctx: Context) -> str | None:
    """``ctx.Process(...)`` refused its arguments, most often ``args=(x)`` without the comma."""
    for call in ctx.journal.of("Process"):
        args = call.details.get("args")
        if call.outcome.startswith("error") or not isinstance(args, (tuple, list)):
            return tr("ctx.Process(..., args={args!r:.40}) got {kind}, not a tuple of arguments: write "
                      "args=(q, i, n), and with one argument keep the comma, args=(x,) (lesson 01, section 2)",
                      args=args, kind=type(args).__name__)
    return None


def start_problem(ctx: Context, needed: int, example: str) -> str | None:
    """Processes run in this process (``run()``, ``target=job(...)``), never started, or too few of them."""
    if ctx.journal.of("run"):
        return tr("you called p.run(), which runs the target right here, in this process, one after another: "
                  "call p.start(), which starts a child process that runs it")
    for p in ctx.processes:
        if not callable(p.target):
            return tr("a Process got target={target!r:.40}, not a function: `target=job(...)` calls the function "
                      "at once, here, and hands Process its result. Pass the function and its arguments "
                      "separately: {example}", target=p.target, example=example)
    unstarted = [p for p in ctx.processes if not p.started]
    if unstarted:
        return tr("{unstarted} of your {count} processes were never started, so nothing put a result on the "
                  "queue: call start() on every process before you get() from the queue",
                  unstarted=len(unstarted), count=len(ctx.processes))
    if ctx.processes and len(ctx.processes) < needed:
        return tr("you started {count} process(es) for {needed} inputs: that is a serial answer. Start one "
                  "process per input, so that they run at the same time", count=len(ctx.processes), needed=needed)
    return None


def no_process_problem(ctx: Context) -> str | None:
    if ctx.processes:
        return None
    return tr("your function started no process with ctx.Process, where ctx is the context it was given (the "
              "check's ctx records what it makes): create the queue and one process per input with ctx.Queue() and "
              "ctx.Process(...). A Pool would do the job too, but this exercise is about starting the processes "
              "yourself")


def order_problem(ctx: Context) -> str | None:
    """A process started only after the student waited for another one: they ran one after another."""
    waits = [c for c in ctx.journal.of("get", "join") if c.ended is not None and c.outcome in ("item", "ended")]
    starts = [c for c in ctx.journal.of("start") if c.outcome == "started"]
    for start in starts[1:]:
        if any(w.ended <= start.begun for w in waits):
            return tr("{which} was started only after you had waited for an earlier one (a get() or join() came "
                      "first), so the processes ran one after another, as in a serial program. Start every process "
                      "first, then get() all the results, then join() them", which=_which(ctx, start.who))
    return None


def drain_problem(ctx: Context) -> str | None:
    """A ``join()`` came before every result that process's queue was due had been read."""
    for join in ctx.journal.of("join"):
        for q in ctx.queues:
            if join.who not in q.writers:
                continue
            due = sum(1 for w in q.writers if w.started)
            read = sum(1 for g in ctx.journal.of("get", who=q) if g.outcome == "item" and g.ended <= join.begun)
            if read < due:
                return tr("you joined {which} before every result had been read from its queue ({read} of {due} "
                          "read). A child cannot exit while its result sits unread in the pipe: with a big result "
                          "that join() waits forever. Drain first: get() every result, then join() each process",
                          which=_which(ctx, join.who), read=read, due=due)
    return None


def join_problem(ctx: Context) -> str | None:
    """A started process was never joined, or was still running when the function returned."""
    for p in ctx.processes:
        if p.started and not ctx.journal.of("join", who=p):
            return tr("you never joined {which}: after get()-ting the results, call join() on every process, which "
                      "waits for it to exit and frees it", which=_which(ctx, p))
    for p in ctx.processes:
        if p.started and p.is_alive():
            return tr("{which} was still running when your function returned: its join(timeout=...) gave up too "
                      "early. Give join() a timeout long enough for the process to finish", which=_which(ctx, p))
    return None


def describe_results(got: Any, expected: list[Any], inputs: list[Any]) -> str | None:
    """The usual result mistakes: not a list, pairs kept, Nones, wrong length, right values out of order."""
    if not isinstance(got, (list, tuple)):
        return tr("your function should return a list of {count} results, got {kind} {value!r:.60}",
                  count=len(expected), kind=type(got).__name__, value=got)
    got = list(got)
    if got and all(isinstance(r, tuple) and len(r) == 2 for r in got):
        return tr("your list holds (label, value) pairs: keep only the values, each at its input's position")
    if got and all(r is None for r in got):
        return tr("every result is None: a Process discards its target's return value. Take the results from the "
                  "queue with get()")
    if len(got) != len(expected):
        return tr("your function returned {got} results for {expected} inputs: get() one result per process",
                  got=len(got), expected=len(expected))
    if got == expected:
        return None
    if sorted(map(repr, got)) == sorted(map(repr, expected)):
        return tr("results are out of order: a shared queue hands them over in the order the processes finish, "
                  "not the order they were started. Put each value in its place with the label its worker sends "
                  "(or give each process a queue of its own)")
    wrong = [i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e]
    return tr("wrong values at positions {positions}: expected the result for input {input!r} at position {first}",
              positions=wrong, input=inputs[wrong[0]], first=wrong[0])
