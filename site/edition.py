"""One edition of the course website: what ``site/conf.py`` (English) and ``site/zh/conf.py`` (简体中文) share.

    make site    (two Sphinx builds: site -> site/_build/html, site/zh -> site/_build/html/zh)

Each edition is its own Sphinx project, so each has its own theme language (``language``: the menus, the search
page, the dates) and its own page tree; previous/next never leaves an edition. Nothing is executed: every page
shows the outputs stored in the notebooks of the edition's folder (``notebooks/`` or ``notebooks/zh/``). They are
copied into the project's ``lessons/`` folder at each build (``site/lessons/``, ``site/zh/lessons/``; git-ignored),
because Sphinx resolves a symlinked source to its real path and then cannot tell that ``04_shared_memory.ipynb`` in a
lesson's text is another page of this site. Each build empties only its own folder, so the two can run one after
the other in either order. Markdown pages of a language folder that are not lessons (``notebooks/zh/glossary.md``)
are staged beside the lessons, so a lesson's link to ``glossary.md`` works on the web page too.

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

The language switch (``_templates/language-switch.html``, in the theme's article header of every page) links a page
to the same page of the other edition where that page exists there: a lesson to its translation and back, home to
home. Its links are relative, so the site works from any folder and from ``file://``; that is why the zh edition
must be built into the ``zh/`` folder of the English one.
"""

from __future__ import annotations

import html
import json
import posixpath
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

SITE = Path(__file__).resolve().parent
ROOT = SITE.parent
sys.path.insert(0, str(ROOT / "tools"))
from lesson_sources import LESSON_NAME, NOTEBOOKS  # noqa: E402

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
POINTER_ONLY = re.compile(r"<details>\s*<summary>[^<]*</summary>\s*</details>", re.S)
LESSON_LINK = re.compile(r"\[([^\]]*)\]\(([0-9][0-9]\w*)\.ipynb(#[^)]*)?\)")  # [03 · Pools](03_pool.ipynb#maps)
GENERATED_PAGES = ("index", "genindex", "search")  # every edition has these


@dataclass(frozen=True)
class Edition:
    """The lessons of one language folder of ``notebooks/`` as one Sphinx project under ``site/``."""

    folder: str  # "" for notebooks/ itself, "zh" for notebooks/zh/ (the names test_notebook_sources.py uses)
    language: str  # Sphinx's language: the theme's own words
    name: str  # the edition in its own language, as the switch shows it
    title: str  # html_title
    words: dict[str, str]  # what the pages of this edition say that the notebooks do not

    @property
    def source(self) -> Path:
        return NOTEBOOKS / self.folder

    @property
    def project(self) -> Path:
        return SITE / self.folder

    @property
    def staged(self) -> Path:
        return self.project / "lessons"

    @property
    def prefix(self) -> str:
        """Where the edition's pages sit in the built site: "" (the English site) or "zh/"."""
        return f"{self.folder}/" if self.folder else ""

    def lessons(self) -> list[Path]:
        return sorted(self.source.glob(f"{LESSON_NAME}.ipynb"))

    def pages(self) -> list[Path]:
        """Markdown pages of the folder that are not lessons (a lesson's ``.md`` is the text of its ``.ipynb``)."""
        return sorted(p for p in self.source.glob("*.md") if not p.match(f"{LESSON_NAME}.md"))

    def docnames(self) -> set[str]:
        """Every page of this edition, by Sphinx document name (``lessons/03_pool``)."""
        return {*GENERATED_PAGES, *(f"lessons/{p.stem}" for p in [*self.lessons(), *self.pages()])}


EDITIONS = {
    "": Edition("", "en", "English", "mplessons: Python multiprocessing, taught in Jupyter", {
        "show": "Show the solution",
        "hide": "Hide the solution",
        "static": "*Interactive in JupyterLab: this is its figure from the notebook's last run; run the notebook "
                  "there to use the controls.*",
        "lesson": "lesson",
        "about": "about",
        "no lessons": "*No lessons yet.*",
    }),
    "zh": Edition("zh", "zh_CN", "简体中文", "mplessons：在 Jupyter 中学 Python 多进程", {
        "show": "显示答案",
        "hide": "隐藏答案",
        "static": "*在 JupyterLab 中可交互：这是笔记本上次运行时的图；在 JupyterLab 中运行笔记本即可使用这些控件。*",
        "lesson": "课程",
        "about": "内容",
        "no lessons": "*中文版课程正在翻译中，暂时只有术语表；英文版课程见页面顶部的 English 链接。*",
    }),
}


def _logger():
    from sphinx.util import logging  # here, so that the browser test can read EDITIONS without Sphinx installed

    return logging.getLogger(__name__)


def stage(edition: Edition) -> list[Path]:
    """Copy the edition's lessons and pages into its ``lessons/`` folder (mtimes kept); return the lessons."""
    shutil.rmtree(edition.staged, ignore_errors=True)
    edition.staged.mkdir(parents=True)
    for page in edition.pages():
        shutil.copy2(page, edition.staged / page.name)
    return [Path(shutil.copy2(notebook, edition.staged / notebook.name)) for notebook in edition.lessons()]


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


def lesson_table(edition: Edition, notebooks: list[Path], ideas: dict[str, str] | None) -> str:
    """A home page's table: each lesson's title as a link, and what it is about (where the README says)."""
    if not notebooks:
        return edition.words["no lessons"]
    words = edition.words
    lines = [f"| {words['lesson']} | {words['about']} |", "|---|---|"] if ideas is not None else [
        f"| {words['lesson']} |", "|---|"]
    for notebook in notebooks:
        link = f"[{lesson_title(notebook)}]({notebook.relative_to(edition.project).as_posix()})"
        if ideas is None:
            lines.append(f"| {link} |")
        elif notebook.stem in ideas:
            lines.append(f"| {link} | {ideas[notebook.stem]} |")
        else:
            _logger().warning(f"lesson {notebook.stem} has no row in the README's lesson table: add one")
    return "\n".join(lines)


def for_the_web(edition: Edition, docname: str, source: list[str]) -> None:
    """Solutions behind a toggle, live widgets as their stored figure with a line saying where they are live."""
    if not (docname.startswith("lessons/") and (edition.staged / f"{docname[8:]}.ipynb").exists()):
        return
    words = edition.words
    nb = json.loads(source[0])
    cells = nb["cells"]
    # "Stuck? The solution is in the next cell (click the dots...)": a pointer to JupyterLab's collapsed cell, which
    # the page shows as its own toggle. A hint with content of its own (more than the summary line) stays.
    nb["cells"] = [cell for cell, after in zip(cells, [*cells[1:], None], strict=True)
                   if not (after and "solution" in after.get("metadata", {}).get("tags", [])
                           and POINTER_ONLY.fullmatch("".join(cell["source"]).strip()))]
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown" and edition.folder:
            cell["source"] = LESSON_LINK.sub(lambda link: to_english_if_untranslated(edition, link),
                                             "".join(cell["source"]))
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


def to_english_if_untranslated(edition: Edition, link: re.Match) -> str:
    """A translation's link to a lesson that has no translation yet goes to the English lesson, and says so.

    Translations land one lesson at a time; until the last one has, the edition still builds and every link leads
    somewhere. A missing translation is reported by tests/test_notebook_sources.py, which names it; a link to a lesson
    that exists in no language is left alone, so that the build fails on it as it does in English."""
    text, stem, anchor = link.group(1), link.group(2), link.group(3) or ""
    if (edition.source / f"{stem}.ipynb").exists() or not (NOTEBOOKS / f"{stem}.ipynb").exists():
        return link.group(0)
    english = EDITIONS[""]
    href = posixpath.relpath(f"{english.prefix}lessons/{stem}.html", f"{edition.prefix}lessons")
    return (f'<a class="reference external untranslated" href="{href}{html.escape(anchor)}" hreflang="en">'
            f'{html.escape(text)} ({english.name})</a>')


def language_switch(edition: Edition, builder, pagename: str) -> list[dict[str, str]]:
    """Links from ``pagename`` to the same page in each other edition that has it, relative to this page."""
    here = edition.prefix + builder.get_target_uri(pagename)
    return [{"href": posixpath.relpath(other.prefix + builder.get_target_uri(pagename),
                                       posixpath.dirname(here) or "."),
             "name": other.name, "hreflang": other.language.replace("_", "-")}
            for other in EDITIONS.values() if other != edition and pagename in other.docnames()]


def chinese_search_naming_its_stemmer():
    """Sphinx 9.0's Chinese search stems Latin words with the English stemmer, ships that one's JavaScript, and then
    names a ``ChineseStemmer`` in it: every page of a zh site raised "ChineseStemmer is not defined" and its search
    found nothing (https://github.com/sphinx-doc/sphinx/issues/14229; fixed by sphinx-doc/sphinx#14416, in no release
    yet). The same search, with the JavaScript naming the stemmer it has; harmless once Sphinx has the fix."""
    from sphinx.search.zh import SearchChinese

    class SearchChineseWithItsStemmer(SearchChinese):
        language_name = "English"  # Sphinx 9.0 names the JavaScript stemmer after this (and uses it in a log line)

    return SearchChineseWithItsStemmer


def sphinx_config(edition: Edition) -> dict[str, object]:
    """The Sphinx settings of one edition, for its conf.py: ``globals().update(sphinx_config(EDITIONS["zh"]))``."""
    staged = stage(edition)
    others = [other.folder for other in EDITIONS.values() if other.folder and other != edition]

    def check_output_folder(app) -> None:
        if edition.folder and Path(app.outdir).name != edition.folder:
            _logger().warning(f"the {edition.name} edition must be built into the {edition.folder}/ folder of the "
                              f"English site (its language switch links are relative), not {app.outdir}: "
                              f"run `make site`")

    def add_language_switch(app, pagename, templatename, context, doctree) -> None:
        context["language_switch"] = language_switch(edition, app.builder, pagename)

    def setup(app) -> None:
        app.connect("builder-inited", check_output_folder)
        app.connect("source-read", lambda app, docname, source: for_the_web(edition, docname, source))
        app.connect("html-page-context", add_language_switch)
        if edition.language.startswith("zh"):
            app.add_search_language(chinese_search_naming_its_stemmer())

    return {
        "project": "mplessons",
        "language": edition.language,
        "html_title": edition.title,
        "extensions": ["myst_nb"],
        "myst_enable_extensions": ["substitution"],
        # {{ lesson_table }} on the home page; what each lesson is about is said in English only (the README)
        "myst_substitutions": {"lesson_table": lesson_table(edition, staged, readme_ideas() if not edition.folder
                                                            else None)},
        # The English project's folder holds site/zh/: it must not read the zh sources.
        "exclude_patterns": ["_build", "_templates", "**/.ipynb_checkpoints", *others],
        "templates_path": [str(SITE / "_templates")],
        "nb_execution_mode": "off",
        "nb_mime_priority_overrides": [("html", WIDGET_VIEW, None)],
        "html_theme": "sphinx_book_theme",
        "html_theme_options": {"use_download_button": True, "home_page_in_toc": True, "show_toc_level": 2,
                               "article_header_end": ["language-switch.html"]},
        "html_sourcelink_suffix": "",  # the download button offers the notebook itself, not a .ipynb.txt
        # light or dark as the browser prefers (empty: a console error on some pages)
        "html_context": {"default_mode": "auto"},
        "setup": setup,
    }
