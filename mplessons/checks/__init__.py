"""Exercise self-checks: each says what is wrong with an answer, not just True or False.

A lesson's exercise cell starts as a placeholder (``answer = ...``); its check then reports "not attempted
yet" without raising, so Run All passes on the notebook as shipped. Each lesson's checks live in
``mplessons.checks.lessonNN``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    return Feedback(False, f"not attempted yet: {what}", attempted=False)


def is_placeholder(answer: Any) -> bool:
    """True for the shipped placeholder (``...``) and for an unchanged ``None``."""
    return answer is PLACEHOLDER or answer is None
