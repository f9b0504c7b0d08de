"""Run a lesson as a student would, with its solutions removed, and try a corpus of answers at each exercise.

A corpus lives in ``tests/corpus/<notebook stem>.py`` and defines ``EXERCISES``: for each exercise of the
notebook, in order (1, 2, ...), the wrong answers a student gives, each with the words its diagnosis must
contain, and at least two right answers. The runner walks the notebook's code cells in a real kernel:

* cells tagged ``solution`` are skipped (a student who has not looked at them);
* at a cell tagged ``exercise`` it runs the placeholder and its check (which must say "not attempted"), then
  for each answer: the placeholder again (unless ``reset=False``), the answer's code in place of the
  exercise cell, and the check cell; the check must answer ❌ with the diagnosis (or ✅ for a right answer)
  and must never raise;
* then the placeholder once more, and the rest of the lesson runs on it, to the end.

So one run also shows that the lesson runs to the end whatever the student wrote, solutions removed.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

CORPUS = Path(__file__).resolve().parent / "corpus"
WRONG_MARK, RIGHT_MARK, NOT_YET_MARK = "❌", "✅", "⏳"


@dataclass(frozen=True)
class Answer:
    """One answer typed into an exercise cell.

    ``says``: substrings the check's diagnosis must contain (case-sensitive), for a wrong answer the proof
    that the check named the actual mistake. ``reset=False`` runs it on top of the previous answer instead
    of on a fresh placeholder (for "the cell did not run, the old definition is still there" cases).
    ``timeout``: seconds the answer and its check may take together before the kernel is interrupted.
    """

    label: str
    code: str
    says: tuple[str, ...] = ()
    reset: bool = True
    timeout: float = 90.0
    start_methods: tuple[str, ...] = ()  # empty: every start method


@dataclass(frozen=True)
class Exercise:
    wrong: list[Answer] = field(default_factory=list)
    right: list[Answer] = field(default_factory=list)


@dataclass
class Step:
    """A code cell of the notebook, with the exercise it belongs to (its number, from 1), if any."""

    index: int
    source: str
    tags: tuple[str, ...]
    exercise: int | None = None


def notebook_steps(path: Path) -> list[Step]:
    """The notebook's code cells in order; exercise, check and solution cells carry their exercise number."""
    nb = nbformat.read(path, as_version=4)
    steps, number = [], 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tags = tuple(cell.metadata.get("tags", ()))
        if "exercise" in tags:
            number += 1
        belongs = number if set(tags) & {"exercise", "check", "solution"} else None
        steps.append(Step(index, cell.source, tags, belongs))
    return steps


def exercise_count(path: Path) -> int:
    return sum("exercise" in s.tags for s in notebook_steps(path))


def load_corpus(stem: str) -> dict[int, Exercise]:
    """``EXERCISES`` of ``tests/corpus/<stem>.py`` (an empty dict when the lesson has no corpus file)."""
    path = CORPUS / f"{stem}.py"
    if not path.exists():
        return {}
    spec = importlib.util.spec_from_file_location(f"corpus_{stem}", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module.EXERCISES


def verdict_problem(answer: Answer, output: str, right: bool) -> str | None:
    """Why the check's output is not the verdict this answer deserves, or None."""
    if right:
        if RIGHT_MARK not in output:
            return f"a right answer was not accepted: {output.strip()[:400]!r}"
        return None
    if RIGHT_MARK in output:
        return f"a wrong answer got {RIGHT_MARK}: {output.strip()[:400]!r}"
    if WRONG_MARK not in output:
        return f"expected {WRONG_MARK} with a diagnosis, got {output.strip()[:400]!r}"
    missing = [s for s in answer.says if s not in output]
    if missing:
        return f"the diagnosis does not say {missing}: {output.strip()[:400]!r}"
    return None
