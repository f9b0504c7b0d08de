"""Each lesson is a pair, NN_name.md (edited) and NN_name.ipynb (stored outputs), and the pair must agree.

Also what the lesson build scripts used to guarantee: every exercise is the task, a placeholder, a check, a hint,
a hidden solution and the same check again; every lesson says what you will learn and ends with key points.
And that saving in JupyterLab (jupytext's contents manager, as ``make lab`` starts it) writes the ``.md``.
"""

from __future__ import annotations

import asyncio
import copy
import importlib
import json
import os
import re
import shlex
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from support import NOTEBOOKS, ROOT

sys.path.insert(0, str(ROOT / "tools"))
import refresh_notebooks  # noqa: E402
from lesson_sources import first_difference, lesson_stems, read_notebook, read_text  # noqa: E402

STEMS = lesson_stems()
IDS = [stem.relative_to(NOTEBOOKS).as_posix() for stem in STEMS]
# What a lesson must say, per language folder ("" = notebooks/; add "zh" with the words of the Chinese lessons).
MARKERS = {"": {"objectives": "**You will learn**", "key points": "## Key points"},
           "zh": {"objectives": "**你将学到**", "key points": "## 要点"}}
HINT = "<details>"


def language(stem: Path) -> str:
    folder = stem.parent.relative_to(NOTEBOOKS).as_posix()
    return "" if folder == "." else folder


def tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def structure_problems(nb: nbformat.NotebookNode, markers: dict[str, str]) -> list[str]:
    """Everything wrong with a lesson's shape, each named by its cell (1-based), or an empty list."""
    cells, problems = nb.cells, []
    markdown = [c.source for c in cells if c.cell_type == "markdown"]
    for name, marker in markers.items():
        if not any(marker in text for text in markdown):
            problems.append(f"no {name}: no markdown cell contains {marker!r}")
    if "kernelspec" not in nb.metadata:
        problems.append("no kernelspec in the notebook metadata: JupyterLab would ask for a kernel")
    in_exercise: set[int] = set()
    for i, cell in enumerate(cells):
        if "exercise" not in tags(cell):
            continue
        where = f"exercise at cell {i + 1}"
        block = cells[i - 1:i + 5] if i >= 1 else []
        if len(block) < 6:
            problems.append(f"{where}: needs the task before it and check, hint, solution, check after it")
            continue
        task, placeholder, check, hint, solution, check_again = block
        expected = [
            (task.cell_type == "markdown", "the cell before it is the task (markdown)"),
            (placeholder.cell_type == "code", "the exercise cell is a code cell"),
            (check.cell_type == "code" and "check" in tags(check), "then a code cell tagged check"),
            (hint.cell_type == "markdown" and HINT in hint.source, f"then the hint: markdown with {HINT}"),
            (solution.cell_type == "code" and "solution" in tags(solution), "then a code cell tagged solution"),
            (solution.metadata.get("jupyter", {}).get("source_hidden") is True,
             "whose source is hidden (metadata jupyter.source_hidden: true)"),
            (check_again.cell_type == "code" and "check" in tags(check_again), "then the check again"),
            (check.source == check_again.source, "the two checks are the same code"),
        ]
        problems += [f"{where}: {what}" for ok, what in expected if not ok]
        in_exercise.update(range(i, i + 5))
    for i, cell in enumerate(cells):
        stray = {"check", "solution"} & set(tags(cell))
        if stray and i not in in_exercise:
            problems.append(f"cell {i + 1} is tagged {sorted(stray)} but belongs to no exercise")
    return problems


def twin_problems(english: nbformat.NotebookNode, twin: nbformat.NotebookNode) -> list[str]:
    """A translated lesson has the same cells as its English twin: same types and tags, cell by cell."""
    def shape(nb):
        return [(c.cell_type, sorted(tags(c))) for c in nb.cells]
    if shape(english) == shape(twin):
        return []
    index = next((i for i, (a, b) in enumerate(zip(shape(english), shape(twin), strict=False)) if a != b),
                 min(len(english.cells), len(twin.cells)))
    return [f"the cells differ from the English lesson's from cell {index + 1} on "
            f"({len(english.cells)} cells in English, {len(twin.cells)} here)"]


# --- the pairs ------------------------------------------------------------------------------------------------


def test_lessons_are_found():
    assert len([s for s in STEMS if language(s) == ""]) >= 7, f"found only {IDS}"


@pytest.mark.parametrize("stem", STEMS, ids=IDS)
def test_every_lesson_is_a_pair(stem: Path):
    missing = [stem.with_suffix(s).name for s in (".md", ".ipynb") if not stem.with_suffix(s).exists()]
    assert not missing, (f"{stem.name} lacks {missing}: a lesson is an .md with its .ipynb; create the missing one "
                         f"with `make refresh LESSON={stem.relative_to(ROOT)}` (from the .md) or "
                         f"`jupytext --to md:myst {stem.relative_to(ROOT)}.ipynb`")


@pytest.mark.parametrize("stem", STEMS, ids=IDS)
def test_the_md_and_the_ipynb_agree(stem: Path):
    difference = first_difference(read_text(stem), read_notebook(stem), stem)
    lesson = stem.relative_to(ROOT)
    assert difference is None, (f"{lesson}.md and .ipynb disagree, {difference}\nAfter editing the .md run "
                                f"`make refresh LESSON={lesson}` (or, for prose only, "
                                f"`python tools/refresh_notebooks.py --sync-only {lesson}`).")


def _copy_of_a_lesson(tmp_path: Path) -> Path:
    stem = STEMS[0]
    for path in (stem.with_suffix(".md"), stem.with_suffix(".ipynb"), NOTEBOOKS / "jupytext.toml"):
        shutil.copy2(path, tmp_path / path.name)
    return tmp_path / stem.name


def test_a_disagreement_is_found_and_named_by_its_cell(tmp_path):
    stem = _copy_of_a_lesson(tmp_path)
    text, notebook = read_text(stem), read_notebook(stem)
    assert first_difference(text, notebook, stem) is None

    index = next(i for i, c in enumerate(text.cells) if c.cell_type == "markdown" and i > 0)
    edited = copy.deepcopy(text)
    edited.cells[index].source = edited.cells[index].source.replace(" ", "  ", 1) + "\nA sentence only in the .md."
    message = first_difference(edited, notebook, stem)
    assert message and f"cell {index + 1} (markdown" in message and "source" in message, message

    code = next(i for i, c in enumerate(text.cells) if c.cell_type == "code")
    retagged = copy.deepcopy(text)
    retagged.cells[code].metadata["tags"] = [*tags(retagged.cells[code]), "solution"]
    message = first_difference(retagged, notebook, stem)
    assert message and f"cell {code + 1} (code" in message and "metadata" in message, message

    shorter = copy.deepcopy(text)
    del shorter.cells[-1]
    message = first_difference(shorter, notebook, stem)
    assert message and f"cell {len(text.cells)}" in message and "only in the .ipynb" in message, message


# --- what the build scripts guaranteed ----------------------------------------------------------------------


@pytest.mark.parametrize("stem", STEMS, ids=IDS)
def test_every_lesson_has_objectives_key_points_and_well_formed_exercises(stem: Path):
    assert language(stem) in MARKERS, f"add the words of notebooks/{language(stem)}/ lessons to MARKERS"
    problems = structure_problems(read_text(stem), MARKERS[language(stem)])
    assert not problems, f"{stem.relative_to(ROOT)}.md:\n  " + "\n  ".join(problems)


def test_the_structure_check_finds_a_broken_exercise():
    stem = next(s for s in STEMS if any("exercise" in tags(c) for c in read_text(s).cells))
    nb = read_text(stem)
    assert structure_problems(nb, MARKERS[""]) == []
    i = next(i for i, c in enumerate(nb.cells) if "exercise" in tags(c))
    broken = copy.deepcopy(nb)
    broken.cells[i + 3].metadata.pop("jupyter")  # the solution shows its code
    broken.cells[i + 4].source += "\n# something else"  # the second check differs
    problems = structure_problems(broken, MARKERS[""])
    assert any("source is hidden" in p for p in problems) and any("same code" in p for p in problems), problems
    no_key_points = copy.deepcopy(nb)
    no_key_points.cells = [c for c in nb.cells if "## Key points" not in c.source]
    assert any("no key points" in p for p in structure_problems(no_key_points, MARKERS[""]))


TWINS = [s for s in STEMS if language(s)]


@pytest.mark.parametrize("stem", TWINS or [pytest.param(None, marks=pytest.mark.skip(
    reason="no translated lessons (notebooks/zh/) yet"))], ids=[s.relative_to(NOTEBOOKS).as_posix() for s in TWINS])
def test_a_translated_lesson_has_the_cells_of_its_english_twin(stem: Path):
    english = NOTEBOOKS / stem.name
    assert english.with_suffix(".md").exists(), f"{stem.relative_to(ROOT)} has no English lesson of that name"
    assert twin_problems(read_text(english), read_text(stem)) == []


def test_the_twin_check_finds_a_missing_cell():
    nb = read_text(STEMS[0])
    twin = copy.deepcopy(nb)
    del twin.cells[2]
    problems = twin_problems(nb, twin)
    assert twin_problems(nb, nb) == []
    assert f"({len(nb.cells)} cells in English, {len(nb.cells) - 1} here)" in problems[0], problems


def test_every_stored_speedup_lab_carries_its_figure_for_the_website():
    labs = []
    for stem in STEMS:
        for i, cell in enumerate(read_notebook(stem).cells):
            for output in cell.get("outputs", []):
                if str(output.get("data", {}).get("text/plain", "")).startswith("SpeedupLab("):
                    labs.append(stem.name)
                    assert "image/png" in output["data"], (
                        f"{stem.name}, cell {i + 1}: the lab was displayed before it ran, so the website has no "
                        f"figure to show: call lab.run_once() before display(lab), then refresh the lesson")
    assert labs, "no lesson displays a speedup lab any more: drop this test or the website's widget fallback"


# --- JupyterLab writes the pair -----------------------------------------------------------------------------


def lab_contents_manager() -> type:
    """The contents manager class that the Makefile's ``lab`` recipe gives JupyterLab."""
    recipe = re.search(r"^lab:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert recipe, "the Makefile has no lab target"
    options = dict(arg[2:].split("=", 1) for arg in shlex.split(recipe.group(1)) if arg.startswith("--") and "=" in arg)
    name = options.get("ServerApp.contents_manager_class")
    assert name, "make lab must name jupytext's contents manager (--ServerApp.contents_manager_class=...)"
    module, _, attribute = name.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


def test_saving_a_markdown_cell_in_jupyterlab_changes_the_md_and_keeps_the_outputs(tmp_path):
    stem = _copy_of_a_lesson(tmp_path)
    manager = lab_contents_manager()(root_dir=str(tmp_path),
                                     checkpoints_kwargs={"checkpoint_dir": str(tmp_path / "checkpoints")})
    name = f"{stem.name}.ipynb"
    outputs_before = [c.get("outputs") for c in read_notebook(stem).cells]

    async def edit_and_save() -> None:
        model = await manager.get(name) if asyncio.iscoroutinefunction(manager.get) else manager.get(name)
        cells = model["content"]["cells"]
        index = next(i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and i > 0)
        cells[index]["source"] += "\n\nA sentence a teacher added in JupyterLab."
        save = manager.save({"type": "notebook", "content": model["content"]}, name)
        if asyncio.iscoroutine(save):
            await save

    asyncio.run(edit_and_save())
    assert "A sentence a teacher added in JupyterLab." in stem.with_suffix(".md").read_text(encoding="utf-8")
    saved = read_notebook(stem)
    assert "A sentence a teacher added in JupyterLab." in json.dumps(saved.cells)
    assert [c.get("outputs") for c in saved.cells] == outputs_before, "saving dropped stored outputs"
    assert first_difference(read_text(stem), saved, stem) is None


def test_jupyterlab_opens_the_pair_with_the_text_of_the_md(tmp_path):
    stem = _copy_of_a_lesson(tmp_path)
    md = stem.with_suffix(".md")
    md.write_text(md.read_text(encoding="utf-8").replace("\n## ", "\n## Edited in a text editor: ", 1), "utf-8")
    os.utime(md, (md.stat().st_atime, stem.with_suffix(".ipynb").stat().st_mtime + 5))  # saved after the .ipynb
    manager = lab_contents_manager()(root_dir=str(tmp_path))
    get = manager.get(f"{stem.name}.ipynb")
    model = asyncio.run(get) if asyncio.iscoroutine(get) else get
    assert "## Edited in a text editor: " in json.dumps(model["content"]["cells"])
    assert any(c.get("outputs") for c in model["content"]["cells"]), "the stored outputs come from the .ipynb"


def test_jupyterlab_opens_a_lesson_whose_notebook_is_newer_than_its_text(tmp_path):
    """After a git pull that changed only stored outputs the .ipynb is the newer file; JupyterLab must still open
    it (jupytext then compares the two and refuses only if their cells differ)."""
    stem = _copy_of_a_lesson(tmp_path)
    ipynb = stem.with_suffix(".ipynb")
    os.utime(ipynb, (ipynb.stat().st_atime, stem.with_suffix(".md").stat().st_mtime + 60))
    manager = lab_contents_manager()(root_dir=str(tmp_path))
    get = manager.get(ipynb.name)
    model = asyncio.run(get) if asyncio.iscoroutine(get) else get
    assert len(model["content"]["cells"]) == len(read_notebook(stem).cells)


# --- tools/refresh_notebooks.py ------------------------------------------------------------------------------


def test_refresh_sync_only_takes_the_text_and_keeps_the_outputs(tmp_path):
    stem = _copy_of_a_lesson(tmp_path)
    before = read_notebook(stem)
    md = stem.with_suffix(".md")
    md.write_text(md.read_text(encoding="utf-8").replace("\n## ", "\n## Renamed: ", 1), encoding="utf-8")
    os.utime(md, (md.stat().st_atime, stem.with_suffix(".ipynb").stat().st_mtime + 5))
    refresh_notebooks.main(["--sync-only", str(md)])
    after = read_notebook(stem)
    assert "## Renamed: " in json.dumps(after.cells)
    assert [c.get("outputs") for c in after.cells] == [c.get("outputs") for c in before.cells]
    assert [c.get("id") for c in after.cells] == [c.get("id") for c in before.cells], "cell ids churned"
    assert first_difference(read_text(stem), after, stem) is None


def test_refresh_refuses_a_notebook_changed_after_its_text(tmp_path):
    stem = _copy_of_a_lesson(tmp_path)
    nb = read_notebook(stem)
    nb.cells[0].source += "\nOnly in the notebook."
    nbformat.write(nb, stem.with_suffix(".ipynb"))
    md = stem.with_suffix(".md")
    os.utime(md, (md.stat().st_atime, stem.with_suffix(".ipynb").stat().st_mtime - 60))
    with pytest.raises(SystemExit, match="newer than its .md and differs from it: cell 1"):
        refresh_notebooks.main([str(stem)])


def test_refresh_runs_a_lesson_written_as_text_and_writes_both_files(tmp_path):
    shutil.copy2(NOTEBOOKS / "jupytext.toml", tmp_path)
    md = tmp_path / "99_tiny.md"
    md.write_text(_TINY_LESSON, encoding="utf-8")
    refresh_notebooks.main([str(md)])
    nb = read_notebook(tmp_path / "99_tiny")
    assert nb.cells[1].outputs[0]["text"] == "42\n" and nb.metadata["kernelspec"]["name"] == "python3"
    assert first_difference(read_text(tmp_path / "99_tiny"), nb, tmp_path / "99_tiny") is None


_TINY_LESSON = """\
---
kernelspec:
  display_name: Python 3 (ipykernel)
  language: python
  name: python3
---

# 99 · A lesson written as text

```{code-cell} ipython3
:tags: [nbval-ignore-output]

print(6 * 7)
```
"""
