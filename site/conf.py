"""The course as a website: Sphinx + MyST-NB + sphinx-book-theme, built offline from the notebooks' stored outputs.

    make site        (python -m sphinx -E -W --keep-going -b html site site/_build/html)

Nothing is executed: every page shows the outputs stored in ``notebooks/NN_name.ipynb``. The lessons are copied into
``site/lessons/`` at each build (git-ignored), because Sphinx resolves a symlinked source to its real path and then
cannot tell that ``04_shared_memory.ipynb`` in a lesson's text is another page of this site.

Three things the notebooks say for JupyterLab are translated for the web page when it is read (``source-read``; the
copy on disk and the ``.ipynb`` offered for download stay as they are):

* a cell tagged ``solution`` (collapsed in JupyterLab by ``jupyter.source_hidden``) gets MyST-NB's ``hide-input``,
  so its code sits behind a "Show the solution" toggle. Derived here rather than stored as a third marker in every
  exercise: a new exercise needs only the tags it needs in JupyterLab.
* the hint cell before a solution that only points at the collapsed cell ("click the dots to show it") is left
  out: the toggle takes its place. A hint with text of its own stays.
* a live widget shows its stored static figure (the speedup lab puts one in its display) with a line saying that
  it is interactive in JupyterLab; a widget with no figure (a progress bar) has nothing to show without a kernel
  and is left out. ``nb_mime_priority_overrides`` keeps MyST-NB from choosing the widget view over the image.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

from sphinx.util import logging

SITE = Path(__file__).resolve().parent
ROOT = SITE.parent
sys.path.insert(0, str(ROOT / "tools"))
from lesson_sources import LESSON_NAME, NOTEBOOKS, lesson_folders  # noqa: E402

LESSONS = SITE / "lessons"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
POINTER_ONLY = re.compile(r"<details>\s*<summary>[^<]*</summary>\s*</details>", re.S)
# Per language folder ("" = notebooks/ itself; add "zh" with the Simplified Chinese strings for notebooks/zh/).
WORDS = {
    "": {
        "show": "Show the solution",
        "hide": "Hide the solution",
        "static": "*Interactive in JupyterLab: this is its figure from the notebook's last run; run the notebook "
                  "there to use the controls.*",
    },
}
logger = logging.getLogger(__name__)

project = "mplessons"
html_title = "mplessons: Python multiprocessing, taught in Jupyter"
extensions = ["myst_nb"]
myst_enable_extensions = ["substitution"]
exclude_patterns = ["_build", "**/.ipynb_checkpoints"]
nb_execution_mode = "off"
nb_mime_priority_overrides = [("html", WIDGET_VIEW, None)]
html_theme = "sphinx_book_theme"
html_theme_options = {"use_download_button": True, "home_page_in_toc": True, "show_toc_level": 2}
html_sourcelink_suffix = ""  # the download button offers the notebook itself, not a .ipynb.txt
html_context = {"default_mode": "auto"}  # light or dark as the browser prefers (empty: a console error on some pages)


def stage_lessons() -> list[Path]:
    """Copy every lesson notebook (and each language folder's) into site/lessons/, mtimes kept for rebuilds."""
    shutil.rmtree(LESSONS, ignore_errors=True)
    staged = []
    for folder in lesson_folders(NOTEBOOKS):
        target = LESSONS / folder.relative_to(NOTEBOOKS)
        target.mkdir(parents=True, exist_ok=True)
        for notebook in sorted(folder.glob(f"{LESSON_NAME}.ipynb")):
            staged.append(Path(shutil.copy2(notebook, target / notebook.name)))
    return staged


def lesson_title(notebook: Path) -> str:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        for line in "".join(cell["source"]).splitlines() if cell["cell_type"] == "markdown" else ():
            if line.startswith("# "):
                return line[2:].strip()
    return notebook.stem


def readme_ideas() -> dict[str, str]:
    """The README's lesson table (``| `03_pool` | what it teaches |``): one place says what each lesson is about."""
    rows = re.findall(r"^\| `([0-9][0-9]\w*)` \| (.+?) \|$", (ROOT / "README.md").read_text(encoding="utf-8"), re.M)
    return dict(rows)


def lesson_table(notebooks: list[Path], ideas: dict[str, str] | None) -> str:
    """The home page's table: each lesson's title as a link, and what it is about (where the README says)."""
    lines = ["| lesson | about |", "|---|---|"] if ideas is not None else ["| lesson |", "|---|"]
    for notebook in notebooks:
        link = f"[{lesson_title(notebook)}]({notebook.relative_to(SITE).as_posix()})"
        if ideas is None:
            lines.append(f"| {link} |")
        elif notebook.stem in ideas:
            lines.append(f"| {link} | {ideas[notebook.stem]} |")
        else:
            logger.warning(f"lesson {notebook.stem} has no row in the README's lesson table: add one")
    return "\n".join(lines)


def lesson_language(folder: Path) -> str:
    """"" for the English lessons in lessons/, "zh" for lessons/zh/."""
    relative = folder.relative_to(LESSONS).as_posix()
    return "" if relative == "." else relative


_staged = stage_lessons()
# {{ lesson_table }} on the home page; {{ lesson_table_zh }} for a page listing the lessons in notebooks/zh/.
myst_substitutions = {
    "lesson_table" + (f"_{lang}" if lang else ""): lesson_table(
        [p for p in _staged if lesson_language(p.parent) == lang], None if lang else readme_ideas())
    for lang in sorted({lesson_language(p.parent) for p in _staged})
}


def for_the_web(app, docname: str, source: list[str]) -> None:
    """Solutions behind a toggle, live widgets as their stored figure with a line saying where they are live."""
    if not docname.startswith("lessons/"):
        return
    words = WORDS.get(lesson_language(SITE / Path(docname).parent), WORDS[""])
    nb = json.loads(source[0])
    cells = nb["cells"]
    # "Stuck? The solution is in the next cell (click the dots...)": a pointer to JupyterLab's collapsed cell, which
    # the page shows as its own toggle. A hint with content of its own (more than the summary line) stays.
    nb["cells"] = [cell for cell, after in zip(cells, [*cells[1:], None], strict=True)
                   if not (after and "solution" in after.get("metadata", {}).get("tags", [])
                           and POINTER_ONLY.fullmatch("".join(cell["source"]).strip()))]
    for cell in nb["cells"]:
        metadata = cell.setdefault("metadata", {})
        if "solution" in metadata.get("tags", []):
            metadata["tags"] = [*metadata["tags"], "hide-input"]
            metadata.setdefault("mystnb", {}).update(code_prompt_show=words["show"], code_prompt_hide=words["hide"])
        outputs = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW not in data:
                outputs.append(output)
            elif "image/png" in data:
                outputs += [output, {"output_type": "display_data", "metadata": {},
                                     "data": {"text/markdown": words["static"]}}]
        if "outputs" in cell:
            cell["outputs"] = outputs
    source[0] = json.dumps(nb)


def setup(app):
    app.connect("source-read", for_the_web)
