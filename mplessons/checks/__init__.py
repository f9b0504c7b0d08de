"""Exercise self-checks: each says what is wrong with an answer, not just True or False.

A lesson's exercise cell starts as a placeholder (``answer = ...``); its check then reports "not attempted
yet" without raising, so Run All passes on the notebook as shipped. Each lesson's checks live in
``mplessons.checks.lessonNN``.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from types import CodeType
from typing import Any

from ..i18n import tr

PLACEHOLDER = Ellipsis


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer, shown as a single line in the notebook."""

    ok: bool
    message: str
    attempted: bool = True

    def __str__(self) -> str:
        mark = "✅" if self.ok else ("❌" if self.attempted else "⏳")
        return f"{mark} {self.message}"

    def __repr__(self) -> str:
        return str(self)

    def __bool__(self) -> bool:
        return self.ok


def passed(message: str) -> Feedback:
    return Feedback(True, message)


def failed(message: str) -> Feedback:
    return Feedback(False, message)


def not_attempted(what: str) -> Feedback:
    """``what`` is already in the student's language (the caller's ``tr``)."""
    return Feedback(False, tr("not attempted yet: {what}", what=what), attempted=False)


def is_placeholder(answer: Any) -> bool:
    """True for the shipped placeholder (``...``) and for an unchanged ``None``."""
    return answer is PLACEHOLDER or answer is None


def code_names(fn: Any) -> set[str]:
    """The global and attribute names that ``fn`` (and the functions nested in it) use: how a check tells which
    tool an answer reached for where its behaviour cannot (a lock made per call, ``as_completed`` on one worker)."""
    names: set[str] = set()
    pending = [fn.__code__] if hasattr(fn, "__code__") else []
    while pending:
        code = pending.pop()
        names.update(code.co_names)
        pending.extend(c for c in code.co_consts if hasattr(c, "co_names"))
    return names


def not_a_function(name: str, answer: Any) -> Feedback:
    """The feedback for an exercise's answer, named ``name``, that should be a function and is not."""
    return failed(tr("`{name}` should be a function, got {kind} {value!r:.60}", name=name,
                     kind=type(answer).__name__, value=answer))


def function_problem(fn: Any, what: str, name: str | None = None) -> Feedback | None:
    """The feedback for an exercise's function that is still the placeholder, or is not a function at all.

    ``what`` is how the not-attempted line names it (``"fetch_all(fetch, urls)"``), ``name`` its bare name.
    """
    if is_placeholder(fn):
        return not_attempted(tr("define {what} in the cell above and run it, then run this check", what=what))
    if not callable(fn):
        return failed(tr("{what} should be a function (a def with that name), got {kind} {value!r:.60}",
                         what=name or what, kind=type(fn).__name__, value=fn))
    return None


# --- "this is the definition you checked before" ---------------------------------------------------------

_rejected: dict[str, str] = {}


def _code_fingerprint(code: CodeType) -> bytes:
    """What a function does: its bytecode, names and constants, nested functions included (not where it was
    defined: the same cell run twice gives the same fingerprint)."""
    consts = [(_code_fingerprint(c) if isinstance(c, CodeType) else repr(c).encode()) for c in code.co_consts]
    return b"|".join([code.co_code, repr(code.co_names).encode(), repr(code.co_varnames).encode(), *consts])


def fingerprint(answer: Any) -> str | None:
    """A digest of a function answer's definition, or None for answers that are not functions. A tuple of
    functions (an exercise answered by several) gets one digest: it changes when any of them changes."""
    if isinstance(answer, tuple):
        parts = [fingerprint(part) for part in answer]
        return None if None in parts else hashlib.sha256("|".join(parts).encode()).hexdigest()  # type: ignore[arg-type]
    while isinstance(answer, functools.partial):
        answer = answer.func
    code = getattr(getattr(answer, "__func__", answer), "__code__", None)
    if not isinstance(code, CodeType):
        return None
    return hashlib.sha256(_code_fingerprint(code)).hexdigest()


def remembers_rejections(name: str) -> Callable[[Callable[..., Feedback]], Callable[..., Feedback]]:
    """Decorate a check whose first argument is the student's function ``name`` (or an ``N_``-marked phrase
    naming several, in backticks: translated when the message is made).

    When the check rejects the very definition it rejected last time, the cell that should have replaced it
    most likely did not run (an error, or a cell magic that was not on the first line): say so first,
    instead of repeating a verdict on code the student has already changed.
    """

    def decorate(check: Callable[..., Feedback]) -> Callable[..., Feedback]:
        key = f"{check.__module__}.{check.__qualname__}"

        @functools.wraps(check)
        def remembering(answer: Any, *args: Any, **kwargs: Any) -> Feedback:
            feedback = check(answer, *args, **kwargs)
            digest = fingerprint(answer)
            if feedback.ok or not feedback.attempted or digest is None:
                _rejected.pop(key, None)
                return feedback
            if _rejected.get(key) == digest:
                return failed(tr(
                    "this is the {name} you checked before, unchanged: did your cell run? Look for an error "
                    "under it. A cell magic such as `%%worker_module` must be the cell's first line (not even "
                    "a comment above it). The verdict on it is still: {verdict}",
                    name=f"`{name}`" if name.isidentifier() else tr(name), verdict=feedback.message,
                ))
            _rejected[key] = digest
            return feedback

        return remembering

    return decorate
