"""Self-checks for lesson 06 (dask.distributed): each names what is wrong with an answer and how to fix it.

They look at answers by duck typing (a dask ``Future`` has ``.key``, ``.status`` and ``.result``), so this
module imports without dask installed.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from numbers import Integral
from typing import Any

from ..i18n import tr
from ..workloads import cubic_sum
from . import Feedback, code_names, failed, is_placeholder, not_a_function, not_attempted, passed, remembers_rejections
from .bounded import call_bounded, describe_error
from .watch import is_untouched

MAX_BATCHES = 100
BASE_SIZES = (120_000, 10_000, 40_000, 20_000)  # the first is the longest: as_completed reorders
TIMEOUT = 60.0


def _is_future(x: Any) -> bool:
    return all(hasattr(x, name) for name in ("key", "status", "result"))


def _first_difference(got: Sequence[Any], expected: Sequence[Any]) -> str:
    for i, (g, e) in enumerate(zip(got, expected, strict=False)):
        if g != e:
            return tr("position {index} holds {got!r:.60}, expected {expected!r:.60}", index=i, got=g, expected=e)
    return ""


def _same_items(got: Sequence[Any], expected: Sequence[Any]) -> bool:
    """The same values in any order (False for values that cannot be sorted together, such as None)."""
    try:
        return sorted(got) == sorted(expected)
    except TypeError:
        return False


def _fresh_sizes() -> list[int]:
    """Sizes no earlier call used, so the cluster cannot answer from results it still holds (dask reuses
    the result of an identical pure call) and every task really runs."""
    offsets = random.Random().sample(range(1, 5_000), len(BASE_SIZES))
    return [n + offset for n, offset in zip(BASE_SIZES, offsets, strict=True)]


def _error_hint(exc: BaseException) -> str:
    if "cannot be interpreted as an integer" in str(exc):
        return tr(": one task got the whole list. client.map(cubic_sum, sizes) makes one task per size; "
                  "client.submit(cubic_sum, sizes) makes one task for all of them")
    return ""


def _form_problem(results: Any, inputs: Sequence[Any]) -> str | None:
    """What is wrong with the returned object as a list of results (futures, one value, a wrong length)."""
    if _is_future(results):
        return tr("the function returned one Future: client.map returns a list of futures; gather them and return "
                  "that")
    if not isinstance(results, (list, tuple)):
        return tr("the function returned a {kind}; expected a list (client.gather returns one)",
                  kind=type(results).__name__)
    if any(_is_future(r) for r in results):
        return tr("the function returned futures, not results: pass the list to client.gather(futures) "
                  "(or call .result() on each) to fetch the values from the workers")
    if len(results) != len(inputs):
        return tr("{count} values for {sizes} sizes: one task per size, all of them gathered", count=len(results),
                  sizes=len(inputs))
    return None


def _values_problem(results: Sequence[Any], inputs: Sequence[Any], fn: Callable[[Any], Any]) -> str | None:
    """Whether a list of the right length holds ``fn`` of every input, in input order."""
    expected = [fn(x) for x in inputs]
    if _same_items(results, expected) and list(results) != expected:
        return tr("results are out of order ({difference}): as_completed gives completion order; "
                  "client.gather(futures) keeps the order of the inputs",
                  difference=_first_difference(results, expected))
    if list(results) != expected:
        return tr("wrong values: {difference}; did you run {name} on every size in `sizes`, the argument (the "
                  "check passes sizes of its own)?", difference=_first_difference(results, expected), name=fn.__name__)
    return None


def _not_fetched_problem(results: Sequence[Any], watch: Any) -> str | None:
    """Right values that did not come back from the cluster (gather, result, compute): computed here. Told
    apart by identity: a result fetched from a worker is a new object."""
    strangers = [i for i, r in enumerate(results) if not any(r is f for f in watch.fetched)]
    if not strangers:
        return None
    return tr("the results at positions {positions} did not come back from the cluster: they were computed here, "
              "in this kernel. Send every size, futures = client.map(cubic_sum, sizes), and return "
              "client.gather(futures)", positions=strangers)


@remembers_rejections("cluster_cubic_sums")
def check_gathered(cluster_cubic_sums: Any, client: Any, *, timeout: float = TIMEOUT) -> Feedback:
    """Exercise 1: ``cluster_cubic_sums(client, sizes)`` returns ``cubic_sum`` of every size, computed by tasks
    on the cluster that were all sent before the first wait, gathered in input order."""
    if is_placeholder(cluster_cubic_sums) or is_untouched(cluster_cubic_sums):
        return not_attempted(tr("write cluster_cubic_sums(client, sizes) with client.map and client.gather"))
    if not callable(cluster_cubic_sums):
        return not_a_function("cluster_cubic_sums", cluster_cubic_sums)
    from .dask_watch import DaskWatch  # here: this module imports without dask

    if getattr(client, "status", None) != "running":
        return failed(tr("`client` is not a running dask Client: run the cell of section 2 that makes it first"))
    sizes = _fresh_sizes()
    with DaskWatch(client) as watch:
        outcome = call_bounded(cluster_cubic_sums, (client, sizes), timeout)
    cancelled = watch.cancel_unfinished()
    note = (tr(" (this check cancelled {count} unfinished task(s), so they stop using the cluster)", count=cancelled)
            if cancelled else "")
    if not outcome.finished:
        return failed(tr("cluster_cubic_sums did not return within {timeout:g} s{note}", timeout=timeout, note=note))
    if outcome.error is not None:
        return failed(tr("cluster_cubic_sums raised {error}{hint}{note}", error=describe_error(outcome.error),
                         hint=_error_hint(outcome.error), note=note))
    problem = _form_problem(outcome.result, sizes)
    if problem:
        return failed(problem + note)
    if not watch.tasks:
        return failed(tr("no task ran on the cluster: the results were computed in this kernel (a list "
                         "comprehension or a loop in the notebook runs here). Send the work: "
                         "client.map(cubic_sum, sizes)"))
    if watch.sent_after_waiting:
        return failed(tr("you waited for a result before sending the next task (client.submit(...).result() in a "
                         "loop), so the tasks ran one at a time on one worker. Send them all first, "
                         "futures = client.map(cubic_sum, sizes), then wait once: client.gather(futures)"))
    problem = _values_problem(outcome.result, sizes, cubic_sum) or _not_fetched_problem(outcome.result, watch)
    if problem:
        return failed(problem + note)
    if _cluster_threads(client) < 2 and "as_completed" in code_names(cluster_cubic_sums):
        return failed(tr("your function uses as_completed, which gives the results in the order the tasks finish. "
                         "On this cluster, which runs one task at a time, that happened to be the input order; on "
                         "more workers it is not. client.gather(futures) keeps the order of the inputs"))
    return passed(tr("{count} results, in input order, computed by {count} tasks on the cluster's workers, all sent "
                     "before the first wait", count=len(sizes)))


def _cancelled(futures: Sequence[Any]) -> str:
    """Cancel what a rejected answer left queued or running on the cluster; say so."""
    from .dask_watch import cancel_unfinished

    try:
        count = cancel_unfinished(list(futures))
    except Exception:  # noqa: BLE001 - stand-in futures without a client, a closed cluster: nothing to cancel
        return ""
    if not count:
        return ""
    return tr(" (this check cancelled your {count:,} unfinished tasks, so they stop using the cluster)", count=count)


def _task_name(future: Any) -> str:
    """The function a future's task runs, as dask names its keys (``sum_of_squares-<token>``); without dask
    (no real futures to judge) every future passes."""
    try:
        from dask.utils import key_split
    except ImportError:
        return "sum_of_squares"
    return key_split(future.key)


def _cluster_threads(client: Any, default: int = 2) -> int:
    """How many tasks the client's cluster runs at once (its workers' threads); ``default`` where it cannot
    say (stand-in futures in the tests, a cluster that went away)."""
    try:
        workers = client.scheduler_info()["workers"].values()
        return sum(int(w.get("nthreads", 1)) for w in workers) or default
    except Exception:  # noqa: BLE001 - no client to ask: the default
        return default


def task_batches(dask_scheduler: Any, keys: list[str]) -> list[list[int] | None]:
    """Run on the scheduler: the one argument each task was given, where it is a list or array of numbers (None
    for data sent with client.scatter, which the spec only names, or a spec of another shape)."""
    batches: list[list[int] | None] = []
    for key in keys:
        args = getattr(getattr(dask_scheduler.tasks.get(key), "run_spec", None), "args", None)
        arg = args[0] if isinstance(args, tuple) and len(args) == 1 else None
        try:
            batches.append([int(x) for x in arg] if hasattr(arg, "__len__") and not isinstance(arg, str) else None)
        except (TypeError, ValueError):
            batches.append(None)
    return batches


def _batch_inputs(futures: Sequence[Any]) -> list[list[int]] | None:
    """The numbers each future's task was given, asked of the scheduler; None where it cannot say (stand-in
    futures, scattered data, a scheduler without mplessons): then only the total is judged."""
    try:
        client = futures[0].client
        batches = client.run_on_scheduler(task_batches, keys=[f.key for f in futures])
    except Exception:  # noqa: BLE001 - no scheduler to ask: judge by the total alone
        return None
    if not isinstance(batches, list) or len(batches) != len(futures) or any(b is None for b in batches):
        return None
    return batches


def _coverage_problem(batches: list[list[int]], numbers: Sequence[int]) -> str | None:
    """Numbers left out or counted twice by the slicing; a left-out 0 changes no sum of squares, so only the
    batches themselves show it."""
    wanted, got = Counter(int(x) for x in numbers), Counter(x for batch in batches for x in batch)
    if got == wanted:
        return None
    missing, extra = wanted - got, got - wanted
    return tr("your batches leave out {missing:,} number(s) of `numbers` (first: {first}) and hold {extra:,} "
              "more than once or from elsewhere: some numbers are missing or counted twice, check the slicing at the "
              "ends. Slices numbers[i:i + size] for i in range(0, len(numbers), size) cover each number once",
              missing=sum(missing.values()), first=min(missing) if missing else "-", extra=sum(extra.values()))


def _uneven_problem(batches: list[list[int]], n: int, workers: int) -> str | None:
    """One batch much larger than a fair share (n / workers): its worker works while the others wait."""
    largest = max((len(b) for b in batches), default=0)
    if largest <= 1.5 * n / max(1, min(workers, len(batches))):
        return None
    return tr("your largest batch holds {largest:,} of the {n:,} numbers: its worker does most of the work while "
              "the others wait. Make the batches about the same size, slices of len(numbers) // batch_count",
              largest=largest, n=n)


def check_batches(futures: Any, numbers: Sequence[int], workers: int | None = None) -> Feedback:
    """Exercise 2: tiny tasks sent in batches: a list of futures, each the sum of squares of one batch.
    ``workers`` (how many tasks the cluster runs at once) is asked of the futures' cluster if not given."""
    if is_placeholder(futures):
        return not_attempted(tr("make `batch_futures` a list of futures, one per batch of `numbers`"))
    if _is_future(futures):
        return failed(tr("`batch_futures` is a single Future (one task does all the work on one worker): "
                         "split `numbers` into batches and submit one task per batch"))
    if not isinstance(futures, (list, tuple)):
        return failed(tr("`batch_futures` is a {kind}; expected the list client.map returns",
                         kind=type(futures).__name__))
    if not all(_is_future(f) for f in futures):
        return failed(tr("`batch_futures` must hold the futures themselves (don't gather yet: this check gathers "
                         "them)"))
    n = len(numbers)
    if workers is None:
        workers = _cluster_threads(getattr(futures[0], "client", None)) if futures else 2
    if len(futures) >= n:
        return failed(tr("{count:,} tasks for {n:,} numbers: one task per number is the overhead we measured; "
                         "group the numbers into a few batches{cancelled}", count=len(futures), n=n,
                         cancelled=_cancelled(futures)))
    if len(futures) > MAX_BATCHES:
        return failed(tr("{count} batches: each costs a round trip to the scheduler; a handful per worker is "
                         "enough (at most {most}){cancelled}", count=len(futures), most=MAX_BATCHES,
                         cancelled=_cancelled(futures)))
    if len(futures) < min(workers, n):
        return failed(tr("{count} batch for {workers} workers leaves workers idle: make at least "
                         "{workers} batches{cancelled}", count=len(futures), workers=workers,
                         cancelled=_cancelled(futures)))
    others = sorted({_task_name(f) for f in futures} - {"sum_of_squares"})
    if others:
        return failed(tr("`batch_futures` holds futures of {names}, not of sum_of_squares tasks: submit one "
                         "sum_of_squares task per batch, client.map(sum_of_squares, batches) (data sent with "
                         "client.scatter, or computed here, is no task){cancelled}", names=", ".join(others),
                         cancelled=_cancelled(futures)))
    try:
        parts = [f.result(timeout=60) for f in futures]
    except Exception as exc:  # noqa: BLE001 - the task's own error is the feedback
        return failed(tr("a batch raised {kind}: {error}{cancelled}", kind=type(exc).__name__, error=exc,
                         cancelled=_cancelled(futures)))
    odd = next((p for p in parts if isinstance(p, bool) or not isinstance(p, Integral)), None)
    if odd is not None:
        return failed(tr("each batch's task should return one int, the sum of its batch's squares; got a "
                         "{kind} (use sum_of_squares)", kind=type(odd).__name__))
    total, expected = int(sum(parts)), sum(x * x for x in numbers)
    if total == expected and expected and len(parts) > 1 and sum(bool(p) for p in parts) == 1:
        return failed(tr("one of your {count} batches did all the work (its sum is the whole total) and the others "
                         "had nothing to do: split `numbers` itself into slices, one per batch, so that every "
                         "worker gets a share", count=len(futures)))
    batches = _batch_inputs(futures)
    problem = (_coverage_problem(batches, numbers) or _uneven_problem(batches, n, workers)
               if batches is not None else None)
    if problem:
        return failed(problem)
    if total != expected:
        hint = tr(" (some numbers are missing or counted twice: check the slicing at the ends)") if total else ""
        return failed(tr("the batches add up to {total}, expected {expected}{hint}", total=total, expected=expected,
                         hint=hint))
    return passed(tr("the sum of {n:,} squares from {count:,} tasks instead of {n:,}: batching pays the "
                     "overhead once per batch", n=n, count=len(futures)))
