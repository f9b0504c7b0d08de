"""What the website test (test_site.py) drives and expects: the site's builds as the Makefile runs them, a Chromium
page that records everything that goes wrong on a page, and what each page must show, read from the notebooks."""

from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

import psutil
from labdriver import NOTEBOOKS, ROOT, descendants
from support import is_alive, process_command

sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "site"))
from edition import EDITIONS, Edition  # noqa: E402  each edition's folder, language and words (needs no Sphinx)
from lesson_sources import lesson_stems, read_notebook  # noqa: E402

GENERATED = ["index.html", "genindex.html", "search.html"]  # Sphinx writes these in every edition


def folder_of(stem: Path) -> str:
    """"" for a lesson of notebooks/, "zh" for one of notebooks/zh/ (the keys of EDITIONS)."""
    folder = stem.parent.relative_to(NOTEBOOKS).as_posix()
    return "" if folder == "." else folder


ALL_LESSONS = lesson_stems()
LESSONS = {folder: [s for s in ALL_LESSONS if folder_of(s) == folder] for folder in EDITIONS}  # in their order
# Markdown pages of a language folder that are not lessons: the glossary of notebooks/zh/.
PAGES = {folder: sorted(p.with_suffix("") for p in (NOTEBOOKS / folder).glob("*.md")
                        if p.with_suffix("") not in ALL_LESSONS) for folder in EDITIONS}


def page_of(stem: Path) -> str:
    """``/lessons/03_pool.html``, ``/zh/lessons/03_pool.html``: where a lesson (or page) of a folder is on the site."""
    return f"/{EDITIONS[folder_of(stem)].prefix}lessons/{stem.name}.html"


def site_commands(out: Path) -> list[list[str]]:
    """The sphinx commands of the Makefile's ``site`` recipe (one per edition), writing under ``out`` instead."""
    recipe = re.search(r"^site:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert recipe, "the Makefile has no site target"
    commands = []
    for line in (line.strip().lstrip("@") for line in recipe.group(1).splitlines() if "sphinx" in line):
        argv = shlex.split(line.replace("$(BIN)/python", sys.executable))
        assert {"-E", "-W", "--keep-going"} <= set(argv) and argv[-1].startswith("site/_build/html"), (
            f"unexpected site recipe: {line}")
        commands.append([*argv[:-1], str(out) + argv[-1].removeprefix("site/_build/html")])
    built = sorted(argv[-1] for argv in commands)
    assert built == sorted(f"{out}/{e.prefix}".rstrip("/") for e in EDITIONS.values()), (
        f"make site must build every edition, each into its own folder of the site: {built}")
    return commands


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


@dataclass
class Visit:
    """What one page did in the browser."""

    url: str
    problems: list[str] = field(default_factory=list)


class SiteBrowser:
    """A Chromium page that records console errors, failed requests and requests that leave the machine."""

    def __init__(self, page, base: str):
        self.page, self.base, self.problems = page, base, []
        page.on("console", lambda msg: msg.type == "error" and self.problems.append(f"console: {msg.text[:300]}"))
        page.on("pageerror", lambda exc: self.problems.append(f"uncaught: {str(exc)[:300]}"))
        page.on("requestfailed", lambda req: self.problems.append(f"request failed: {req.url} ({req.failure})"))
        page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))
        page.route("**/*", self._only_this_site)

    def _only_this_site(self, route) -> None:
        url = route.request.url
        if url.startswith((self.base, "data:", "blob:")):
            route.continue_()
        else:
            self.problems.append(f"request off the site (the site must work offline): {url}")
            route.abort()

    def visit(self, url: str) -> Visit:
        """Open ``url``, wait until it has loaded and its images are settled, and report what went wrong."""
        self.problems = []
        self.page.goto(url, wait_until="load")
        self.page.wait_for_function("Array.from(document.images).every(img => img.complete)", timeout=30_000)
        broken = self.page.evaluate(
            "Array.from(document.images).filter(img => !(img.naturalWidth > 0)).map(img => img.currentSrc || img.src)")
        self.page.wait_for_timeout(100)  # late console messages
        return Visit(url, [*self.problems, *(f"image not drawn: {src}" for src in broken)])

    def path(self) -> str:
        return self.page.url.removeprefix(self.base).split("#")[0]

    def click(self, selector: str) -> str:
        """Click the first match and wait for the page it leads to; return that page's path."""
        self.page.locator(selector).first.click()
        self.page.wait_for_load_state("load")
        return self.path()


# pids of test_site.py's Playwright driver: its Chromium lives from the module's first test to its last on purpose.
OWNED: dict[int, str] = {}  # pid: what it is, for processes a fixture owns


def stray() -> list[psutil.Process]:
    """Child processes of this one (and theirs) that no test may leave behind: all but OWNED's."""
    return [q for p in psutil.Process().children() if p.pid not in OWNED and is_alive(p)
            and "resource_tracker" not in process_command(p) for q in [p, *descendants(p.pid)]]


def plain(markdown: str) -> str:
    """A heading as the page shows it: no markdown marks, plain quotes (Sphinx curls them), single spaces."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"[`*]", "", text).translate(str.maketrans("‘’“”", "''\"\""))
    return " ".join(text.replace("¶", "").replace("#", " ").split())


def headings_in(markdown_texts: list[str]) -> list[str]:
    found, fenced = [], False
    for text in markdown_texts:
        for line in text.splitlines():
            fenced ^= line.lstrip().startswith("```")
            if not fenced and re.match(r"#{1,4} ", line):
                found.append(plain(line.lstrip("#")))
    return found


def headings(stem: Path) -> list[str]:
    return headings_in([c.source for c in read_notebook(stem).cells if c.cell_type == "markdown"])


def solution_sources(stem: Path) -> list[str]:
    return [c.source for c in read_notebook(stem).cells if "solution" in c.metadata.get("tags", [])]


def lesson_links(stem: Path) -> set[str]:
    """The other lessons this lesson's text links to (``[...](04_shared_memory.ipynb)``)."""
    text = "\n".join(c.source for c in read_notebook(stem).cells if c.cell_type == "markdown")
    return set(re.findall(r"\]\(([0-9][0-9]\w*)\.ipynb(?:#[^)]*)?\)", text))


def shows_a_lab(stem: Path) -> bool:
    return any(str(o.get("data", {}).get("text/plain", "")).startswith("SpeedupLab(")
               for c in read_notebook(stem).cells for o in c.get("outputs", []))


def lab_note(folder: str) -> str:
    """The start of the line under the lab's stored figure, in the edition's words (up to its colon)."""
    return re.split("[:：]", EDITIONS[folder].words["static"].strip("*"))[0]


def readme_commands() -> list[str]:
    """The commands of the README's first shell block (``make lab``, ``make test``): both home pages give them."""
    block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    assert block, "the README starts with a bash block of its commands"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.split("#")[0].strip()]


def html_lang(edition: Edition) -> str:
    return edition.language.replace("_", "-")  # zh_CN (Sphinx) is zh-CN in HTML


