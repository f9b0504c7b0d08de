"""Diagnoses of what a student did with a recording context's processes and queues (lessons 01 and 02).

Each function reads ``observe.Context``'s journal and returns the first mistake it finds, in words that name
it and its fix, or None.
"""

from __future__ import annotations

from typing import Any

from ..i18n import tr
from .bounded import Outcome, describe_error
from .observe import Context, Process, Queue


def _which(ctx: Context, process: Process) -> str:
    return tr("process {number} of {count}", number=ctx.processes.index(process) + 1, count=len(ctx.processes))


def crash_problem(ctx: Context) -> str | None:
    """A started child ended with a non-zero exit code: its target raised (a wrong argument, most often), so
    its result never came, and whatever waited for it timed out."""
    for p in ctx.processes:
        if p.started and not p.is_alive() and p.exitcode not in (0, None):
            return tr("{which} ended with exit code {code} before it sent a result: its target raised an error "
                      "(its traceback is printed where Jupyter runs, not in the notebook). Call the target with the "
                      "arguments it takes: args= must match its parameters, in order",
                      which=_which(ctx, p), code=p.exitcode)
    return None


def outcome_problem(outcome: Outcome, what: str, seconds: float, ctx: Context | None = None) -> str | None:
    """The function did not return in time, or raised: the student's error is the feedback. With ``ctx``, a
    child that crashed is named first: it is why the function waited or raised."""
    if ctx is not None and (not outcome.finished or outcome.error is not None):
        crashed = crash_problem(ctx)
        if crashed:
            return crashed
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


def foreign_queue_problem(ctx: Context) -> str | None:
    """A process was handed a queue the check's ``ctx`` did not make (``multiprocessing.Queue()``,
    ``queue.Queue()``): what is read from it cannot be seen, so nothing else could be judged fairly."""
    for p in ctx.processes:
        passed = [*(p.args if isinstance(p.args, (tuple, list)) else ()), *p.kwargs.values()]
        for arg in passed:
            if isinstance(arg, Queue) or not all(callable(getattr(arg, name, None)) for name in ("put", "get")):
                continue
            return tr("{which} was given a {kind} that was not made with ctx.Queue(): use the ctx your function is "
                      "given for the queues too (ctx.Queue()), so that the check sees what you read from them",
                      which=_which(ctx, p), kind=f"{type(arg).__module__}.{type(arg).__name__}")
    return None


def put_here_problem(ctx: Context, example: str) -> str | None:
    """The student's own code put results on the check's queue, in this process: the children did not send them."""
    puts = ctx.journal.of("put")
    if not puts:
        return None
    return tr("your function put {count} item(s) on the queue itself, here in this process, so the results did not "
              "come from the child processes. Let each process's target put its own result ({example}); this "
              "process only get()s them", count=len(puts), example=example)


def not_from_queue_problem(ctx: Context, got: Any, expected: list[Any]) -> str | None:
    """Right values (in any order) that never came out of a queue: computed here (or kept from before) and
    returned, while what the children sent was thrown away. Told apart by identity: get() hands over new
    objects."""
    if not isinstance(got, (list, tuple)) or not got or sorted(map(repr, got)) != sorted(map(repr, expected)):
        return None
    handed = [item for q in ctx.queues for item in q.handed]
    if not handed:
        return tr("you read nothing from a queue: the values you returned were computed here, in this process (or "
                  "kept from an earlier run), not sent by your processes. Give each process the queue (args=(q, ...)) "
                  "and get() the results it puts there")
    pieces = [*handed, *(item[1] for item in handed if isinstance(item, tuple) and len(item) == 2)]
    strangers = [i for i, value in enumerate(got) if not any(value is piece for piece in pieces)]
    if not strangers:
        return None
    return tr("the values you returned at positions {positions} are not the ones get() handed you: they were "
              "computed here, in this process (or kept from an earlier run), and what your processes sent was "
              "thrown away. Return the values that came out of the queue", positions=strangers)


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
