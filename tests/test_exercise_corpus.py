"""Every exercise against its corpus of wrong and right answers, in a real kernel, under every start method.

See ``tests/exercise_corpus.py`` for how a lesson is walked; the answers are in ``tests/corpus/``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from exercise_corpus import (
    NOT_YET_MARK,
    Answer,
    Exercise,
    exercise_count,
    load_corpus,
    notebook_steps,
    verdict_problem,
)
from support import NOTEBOOKS, START_METHODS, Kernel

MIN_WRONG, MIN_RIGHT = 4, 2
LESSONS = sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]*_*.ipynb") if exercise_count(p))


def _text(result) -> str:
    plain = "\n".join(d.get("text/plain", "") for d in result.data)
    return f"{result.stdout}\n{plain}"


def _run(kernel: Kernel, source: str, timeout: float):
    """Run a cell; on a timeout interrupt the kernel (a hanging answer must not stop the corpus)."""
    try:
        return kernel.run(source, timeout=timeout), None
    except TimeoutError:
        kernel.interrupt()
        kernel.run("pass", timeout=30)
        return None, f"did not finish within {timeout:g} s (the kernel was interrupted)"


def _try(kernel: Kernel, answer: Answer, placeholder: str, check: str, right: bool, method: str) -> str | None:
    if answer.start_methods and method not in answer.start_methods:
        return None
    if answer.reset:
        kernel.run(placeholder, timeout=60).raise_if_error()
    _, problem = _run(kernel, answer.code, answer.timeout)  # the answer itself may raise: students' code does
    if problem:
        return f"the answer {problem}"
    result, problem = _run(kernel, check, answer.timeout)
    if problem:
        return f"the check {problem}"
    if result.ename:
        return f"the check raised {result.ename}: {result.evalue}"
    return verdict_problem(answer, _text(result), right)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_every_exercise_has_a_corpus(lesson: Path):
    corpus = load_corpus(lesson.stem)
    count = exercise_count(lesson)
    assert sorted(corpus) == list(range(1, count + 1)), f"{lesson.name} has {count} exercises, corpus: {sorted(corpus)}"
    for number, exercise in corpus.items():
        assert isinstance(exercise, Exercise)
        assert len(exercise.wrong) >= MIN_WRONG, f"exercise {number}: {len(exercise.wrong)} wrong answers"
        assert len(exercise.right) >= MIN_RIGHT, f"exercise {number}: {len(exercise.right)} right answers"
        assert all(a.says for a in exercise.wrong), f"exercise {number}: every wrong answer names its diagnosis"
        labels = [a.label for a in exercise.wrong + exercise.right]
        assert len(labels) == len(set(labels)), f"exercise {number}: answer labels repeat"


@pytest.mark.slow
@pytest.mark.parametrize("start_method", START_METHODS)
@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_the_corpus_through_the_lesson(lesson: Path, start_method: str, tmp_path: Path):
    """Walk the lesson with solutions removed; each answer at its exercise gets the verdict it deserves."""
    scratch = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, scratch, ignore=shutil.ignore_patterns("*.py", "__pycache__", ".ipynb_checkpoints"))
    corpus = load_corpus(lesson.stem)
    steps = notebook_steps(lesson)
    problems: list[str] = []
    kernel = Kernel(scratch, {"MPLESSONS_START_METHOD": start_method})
    try:
        position = 0
        while position < len(steps):
            step = steps[position]
            if "solution" in step.tags:
                position += 1
                continue
            if "exercise" not in step.tags:
                kernel.run(step.source, timeout=120).raise_if_error()
                position += 1
                continue
            check = steps[position + 1]
            assert "check" in check.tags, f"cell {check.index}: an exercise cell is followed by its check"
            kernel.run(step.source, timeout=60).raise_if_error()
            shipped = kernel.run(check.source, timeout=60).raise_if_error()
            if NOT_YET_MARK not in _text(shipped):
                problems.append(f"exercise {step.exercise}: the placeholder is not 'not attempted': {_text(shipped)!r}")
            exercise = corpus.get(step.exercise, Exercise())
            for right, answers in ((False, exercise.wrong), (True, exercise.right)):
                for answer in answers:
                    problem = _try(kernel, answer, step.source, check.source, right, start_method)
                    if problem:
                        problems.append(f"exercise {step.exercise}, {'right' if right else 'wrong'} answer "
                                        f"{answer.label!r}: {problem}")
            kernel.run(step.source, timeout=60).raise_if_error()  # the rest of the lesson runs on the placeholder
            position += 2
    finally:
        kernel.shutdown()
    assert not problems, f"{lesson.name} under {start_method}:\n" + "\n".join(problems)
