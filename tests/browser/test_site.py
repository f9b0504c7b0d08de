"""The course website (``make site``) in a real browser: every page of a fresh build, served on 127.0.0.1.

Checked on every page: no console error, no failed or off-machine request (the site must work offline), every
image drawn. On lesson pages: the notebook's headings, solutions collapsed until clicked, the lab's stored figure,
the notebook download, and the links between lessons (previous/next and in the text). What is expected is read
from the notebooks, so a new lesson is checked without touching this file.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from labdriver import CHROMIUM_ARGS, NOTEBOOKS, ROOT, in_ci

pytestmark = pytest.mark.browser

sys.path.insert(0, str(ROOT / "tools"))
from lesson_sources import lesson_stems, read_notebook  # noqa: E402

ALL_LESSONS = lesson_stems()  # with the translations in notebooks/zh/, once there are any
LESSONS = [stem for stem in ALL_LESSONS if stem.parent == NOTEBOOKS]  # the English course, in its order
LAB_NOTE = "Interactive in JupyterLab"


def site_command(out: Path) -> list[str]:
    """The sphinx command of the Makefile's ``site`` recipe, writing to ``out`` instead of site/_build/html."""
    recipe = re.search(r"^site:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert recipe, "the Makefile has no site target"
    line = next(line for line in recipe.group(1).splitlines() if "sphinx" in line).strip().lstrip("@")
    argv = shlex.split(line.replace("$(BIN)/python", sys.executable))
    assert argv[-1] == "site/_build/html" and "-W" in argv, f"unexpected site recipe: {line}"
    return [*argv[:-1], str(out)]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    missing = [name for name in ("sphinx", "myst_nb", "sphinx_book_theme") if importlib.util.find_spec(name) is None]
    if missing:
        message = f"the website needs {missing}: pip install -e '.[docs]' (make test installs it)"
        pytest.fail(message) if in_ci() else pytest.skip(message)
    out = tmp_path_factory.mktemp("site") / "html"
    build = subprocess.run(site_command(out), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, f"make site failed:\n{build.stdout[-3000:]}\n{build.stderr[-5000:]}"
    assert not build.stderr.strip(), f"make site printed warnings:\n{build.stderr[-5000:]}"
    return out


@pytest.fixture(scope="module")
def site_url(built_site: Path) -> Iterator[str]:
    """The built site over HTTP on a free port of 127.0.0.1 (a thread of this process: nothing to leave behind)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(built_site)))
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


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


@pytest.fixture
def site(chromium_path: str, site_url: str) -> Iterator[SiteBrowser]:
    """Function scope, so that Chromium has ended before the suite's check for processes left behind."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(30_000)
            yield SiteBrowser(page, site_url)
        finally:
            browser.close()


def page_of(stem: Path) -> str:
    return f"/lessons/{stem.relative_to(NOTEBOOKS).as_posix()}.html"


def plain(markdown: str) -> str:
    """A heading as the page shows it: no markdown marks, plain quotes (Sphinx curls them), single spaces."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"[`*]", "", text).translate(str.maketrans("‘’“”", "''\"\""))
    return " ".join(text.replace("¶", "").replace("#", " ").split())


def headings(stem: Path) -> list[str]:
    found, fenced = [], False
    for cell in read_notebook(stem).cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            fenced ^= line.lstrip().startswith("```")
            if not fenced and re.match(r"#{1,4} ", line):
                found.append(plain(line.lstrip("#")))
    return found


def solution_sources(stem: Path) -> list[str]:
    return [c.source for c in read_notebook(stem).cells if "solution" in c.metadata.get("tags", [])]


def lesson_links(stem: Path) -> set[str]:
    """The other lessons this lesson's text links to (``[...](04_shared_memory.ipynb)``)."""
    text = "\n".join(c.source for c in read_notebook(stem).cells if c.cell_type == "markdown")
    return set(re.findall(r"\]\(([0-9][0-9]\w*)\.ipynb(?:#[^)]*)?\)", text))


def shows_a_lab(stem: Path) -> bool:
    return any(str(o.get("data", {}).get("text/plain", "")).startswith("SpeedupLab(")
               for c in read_notebook(stem).cells for o in c.get("outputs", []))


# --- the checks ----------------------------------------------------------------------------------------------


def test_the_browser_checks_see_a_broken_page(site: SiteBrowser, built_site: Path):
    """Positive control: a missing image, a console error and an off-site request are all reported."""
    (built_site / "control.html").write_text(
        '<!doctype html><title>control</title><img src="missing.png"><img src="https://example.invalid/x.png">'
        '<script>console.error("deliberate")</script>', encoding="utf-8")
    try:
        problems = " | ".join(site.visit(f"{site.base}/control.html").problems)
    finally:
        (built_site / "control.html").unlink()
    assert "image not drawn" in problems and "missing.png" in problems, problems
    assert "console: deliberate" in problems, problems
    assert "request off the site" in problems and "example.invalid" in problems, problems


def test_every_page_loads_offline_without_errors_and_draws_its_images(site: SiteBrowser, built_site: Path):
    pages = sorted(p.relative_to(built_site).as_posix() for p in built_site.rglob("*.html")
                   if not p.relative_to(built_site).as_posix().startswith(("_static/", "_sources/")))
    assert "index.html" in pages and all(page_of(s).lstrip("/") in pages for s in ALL_LESSONS), pages
    problems = {page: visit.problems for page in pages if (visit := site.visit(f"{site.base}/{page}")).problems}
    assert not problems, json.dumps(problems, indent=1)


@pytest.mark.parametrize("stem", ALL_LESSONS, ids=[s.relative_to(NOTEBOOKS).as_posix() for s in ALL_LESSONS])
def test_a_lesson_page(site: SiteBrowser, stem: Path):
    """Its headings, the lab's figure, the download, solutions behind toggles, links to the other lessons."""
    visit = site.visit(site.base + page_of(stem))
    assert not visit.problems, visit.problems
    shows_headings(site, stem)
    shows_the_lab_figure_where_the_lesson_has_a_lab(site, stem)
    offers_the_notebook_for_download(site, stem)
    hides_solutions_until_clicked(site, stem)
    links_to_the_lessons_its_text_names(site, stem)


def shows_headings(site: SiteBrowser, stem: Path) -> None:
    shown = {plain(t) for t in site.page.locator("article :is(h1, h2, h3, h4)").all_inner_texts()}
    missing = [h for h in headings(stem) if h not in shown]
    assert not missing, f"headings of {stem.name} not on its page: {missing}\npage has: {sorted(shown)}"


def shows_the_lab_figure_where_the_lesson_has_a_lab(site: SiteBrowser, stem: Path) -> None:
    notes = site.page.locator(f"article .cell_output :text('{LAB_NOTE}')")
    if not shows_a_lab(stem):
        assert notes.count() == 0
        return
    assert notes.count() >= 1, "the lab's stored figure needs the line saying it is interactive in JupyterLab"
    figure = site.page.locator(f"article .cell_output:has(:text('{LAB_NOTE}')) img").first
    assert figure.evaluate("img => img.naturalWidth") > 0, "the lab's stored figure is not drawn"


def offers_the_notebook_for_download(site: SiteBrowser, stem: Path) -> None:
    href = site.page.locator("a[href$='.ipynb']").first.get_attribute("href")
    response = site.page.request.get(site.page.url.rsplit("/", 1)[0] + "/" + href)
    assert response.ok and response.body() == stem.with_suffix(".ipynb").read_bytes(), (
        f"the download link {href} must give {stem.name}.ipynb as stored")


def hides_solutions_until_clicked(site: SiteBrowser, stem: Path) -> None:
    toggles = site.page.locator("article details.hide")
    sources = solution_sources(stem)
    assert toggles.count() == len(sources), f"{len(sources)} solutions, {toggles.count()} toggles"
    for i, source in enumerate(sources):
        toggle = toggles.nth(i)
        code = toggle.locator(".cell_input pre")
        assert toggle.get_attribute("open") is None and not code.is_visible(), f"solution {i + 1} starts open"
        assert stem.parent != NOTEBOOKS or "Show the solution" in toggle.locator("summary").inner_text()
        toggle.locator("summary").click()
        code.wait_for(state="visible")
        first_line = source.strip().splitlines()[0].strip()
        assert first_line in code.inner_text(), f"solution {i + 1} shows other code than the notebook's"


def links_to_the_lessons_its_text_names(site: SiteBrowser, stem: Path) -> None:
    for target in sorted(lesson_links(stem)):
        link = site.page.locator(f"article a.reference.internal[href*='{target}.html']").first
        assert link.count(), f"{stem.name}'s link to {target}.ipynb is not a link on the page"
        link.click()
        site.page.wait_for_load_state("load")
        assert site.path() == page_of(NOTEBOOKS / target), site.path()
        site.page.go_back(wait_until="load")
    local = site.page.locator("article a[href]").evaluate_all(
        "links => links.filter(a => a.origin === location.origin).map(a => a.href.split('#')[0])")
    broken = [url for url in sorted(set(local)) if not site.page.request.get(url).ok]
    assert not broken, f"links on {stem.name}'s page lead nowhere: {broken}"


def test_the_home_page_lists_every_lesson_and_next_and_previous_walk_through_them(site: SiteBrowser):
    """Next from the home page visits every lesson in order and ends (a zh section would follow the English one)."""
    site.visit(f"{site.base}/index.html")
    article = site.page.locator("article")
    assert "make lab" in article.inner_text() and "make test" in article.inner_text(), "the README's two commands"
    table_links = article.locator("table a").evaluate_all("links => links.map(a => a.pathname)")
    assert table_links == [page_of(s) for s in LESSONS], "the lesson table links every lesson, in order"
    walked, previous = [], []  # by clicking Next; Previous is read on each page and clicked once at the end
    while site.page.locator("a.right-next").count():
        site.page.locator("a.right-next").click()
        site.page.wait_for_load_state("load")
        walked.append(site.path())
        previous.append(site.page.locator("a.left-prev").evaluate("a => a.pathname"))
    assert walked == [page_of(s) for s in LESSONS], walked
    assert previous == ["/index.html", *walked[:-1]], f"Previous links: {previous}"
    site.page.locator("a.left-prev").click()
    site.page.wait_for_load_state("load")
    assert site.path() == walked[-2]
