"""The course website (``make site``) in a real browser: both editions of a fresh build, served on 127.0.0.1.

The English edition is the site's root, the 简体中文 one its ``zh/`` folder. Checked on every page of both: no console
error, no failed or off-machine request (the site must work offline), every image drawn, and a language switch
exactly where the other edition has the same page, leading there. On lesson pages: the notebook's headings,
solutions collapsed until clicked (in the edition's words), the lab's stored figure, the notebook download, and the
links between lessons (previous/next and in the text), which stay within the edition. What is expected is read from
the notebooks (``notebooks/``, ``notebooks/zh/``), so a new lesson or translation is checked without touching this
file. One Chromium serves the module, with one browser context per edition.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from labdriver import NOTEBOOKS, ROOT, headless_chromium, in_ci
from sitedriver import (
    ALL_LESSONS,
    EDITIONS,
    GENERATED,
    LESSONS,
    OWNED,
    PAGES,
    QuietHandler,
    SiteBrowser,
    folder_of,
    headings,
    headings_in,
    html_lang,
    lab_note,
    lesson_links,
    page_of,
    plain,
    readme_commands,
    shows_a_lab,
    site_commands,
    solution_sources,
    stray,
)
from support import process_command

pytestmark = pytest.mark.browser


def private_copy_of_the_site_sources(into: Path) -> Path:
    """What `make site` reads (site/, notebooks/, tools/, README.md), copied: each edition stages its lessons
    inside its Sphinx project (site/zh/lessons/), and a build in the working tree met a staged notebook gone
    (FileNotFoundError) while the rest of the suite ran beside it. A copy is this build's alone."""
    skip = shutil.ignore_patterns("_build", "__pycache__", ".ipynb_checkpoints")
    for folder in ("site", "notebooks", "tools"):
        shutil.copytree(ROOT / folder, into / folder, ignore=skip)
    shutil.copy2(ROOT / "README.md", into / "README.md")
    return into


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    missing = [name for name in ("sphinx", "myst_nb", "sphinx_book_theme") if importlib.util.find_spec(name) is None]
    if missing:
        message = f"the website needs {missing}: pip install -e '.[docs]' (make test installs it)"
        pytest.fail(message) if in_ci() else pytest.skip(message)
    out = tmp_path_factory.mktemp("site") / "html"
    source = private_copy_of_the_site_sources(tmp_path_factory.mktemp("site-source"))
    for command in site_commands(out):
        build = subprocess.run(command, cwd=source, capture_output=True, text=True, timeout=300)
        assert build.returncode == 0, f"{shlex.join(command)} failed:\n{build.stdout[-3000:]}\n{build.stderr[-5000:]}"
        assert not build.stderr.strip(), f"{shlex.join(command)} printed warnings:\n{build.stderr[-5000:]}"
    return out


@pytest.fixture(scope="module")
def site_url(built_site: Path) -> Iterator[str]:
    """The built site over HTTP on a free port of 127.0.0.1 (a thread of this process: nothing to leave behind)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(built_site)))
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture(autouse=True)
def _no_stray_children():
    """Overrides the browser tests' check (conftest.py): nothing but this module's own browser may outlive a test."""
    yield
    deadline = time.time() + 10
    while (left := stray()) and time.time() < deadline:
        time.sleep(0.1)
    assert not left, f"test left processes behind: {[(p.pid, process_command(p)) for p in left]}"


@pytest.fixture(scope="module")
def browser(chromium_path: str):
    """One headless Chromium for the module; at its end, every process it started must be gone."""
    with headless_chromium(chromium_path, OWNED) as chromium:
        yield chromium


@pytest.fixture(scope="module")
def sites(browser, site_url: str) -> Iterator[dict[str, SiteBrowser]]:
    """One browser context (own history and cache) per edition, by folder: ``sites["zh"]``."""
    contexts = {folder: browser.new_context(viewport={"width": 1280, "height": 900}) for folder in EDITIONS}
    try:
        pages = {folder: context.new_page() for folder, context in contexts.items()}
        for page in pages.values():
            page.set_default_timeout(30_000)
        yield {folder: SiteBrowser(page, site_url) for folder, page in pages.items()}
    finally:
        for context in contexts.values():
            context.close()


# --- the checks ----------------------------------------------------------------------------------------------


def test_the_browser_checks_see_a_broken_page(sites: dict[str, SiteBrowser], built_site: Path):
    """Positive control: a missing image, a console error and an off-site request are all reported."""
    site = sites[""]
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


def edition_pages(built_site: Path, folder: str) -> list[str]:
    """The HTML pages of one edition, as paths in the site (``zh/lessons/03_pool.html``)."""
    prefix, others = EDITIONS[folder].prefix, [e.prefix for e in EDITIONS.values() if e.prefix and e.folder != folder]
    pages = (p.relative_to(built_site).as_posix() for p in built_site.rglob("*.html"))
    return sorted(p for p in pages if p.startswith(prefix) and not p.startswith(tuple(others))
                  and not p.removeprefix(prefix).startswith(("_static/", "_sources/")))


def switch_problems(site: SiteBrowser, built_site: Path, page: str, folder: str) -> list[str]:
    """The switch must link to the same page of each other edition that has it, named in its language, and no more."""
    inner = page.removeprefix(EDITIONS[folder].prefix)
    expected = sorted((f"/{e.prefix}{inner}", e.name) for e in EDITIONS.values()
                      if e.folder != folder and (built_site / f"{e.prefix}{inner}").exists())
    links = site.page.locator("a.language-switch").evaluate_all(
        "links => links.map(a => [a.pathname, a.innerText.trim(), a.getAttribute('href')])")
    shown = sorted((path, name) for path, name, _ in links)
    problems = [] if shown == expected else [f"language switch links {shown}, expected {expected}"]
    # relative, so that the site works from any folder and from file://
    return problems + [f"language switch href {href!r} is not relative" for _, _, href in links
                       if href.startswith("/") or "://" in href]


def test_every_page_loads_offline_without_errors_and_draws_its_images(sites: dict[str, SiteBrowser], built_site: Path):
    """Both editions: exactly their own pages (no zh source in the English build and no English one in the zh
    build), each loading cleanly, with a working language switch wherever the other edition has the page."""
    assert {folder_of(s) for s in ALL_LESSONS} <= set(EDITIONS), "a lesson folder without an edition in site/edition.py"
    problems = {}
    for folder, edition in EDITIONS.items():
        pages = edition_pages(built_site, folder)
        expected = [f"{edition.prefix}{p}" for p in GENERATED] + [
            page_of(s).lstrip("/") for s in LESSONS[folder] + PAGES[folder]]
        lacking, besides = sorted(set(expected) - set(pages)), sorted(set(pages) - set(expected))
        assert not lacking and not besides, f"the {edition.name} edition lacks {lacking} and has {besides} besides"
        site = sites[folder]
        for page in pages:
            visit = site.visit(f"{site.base}/{page}")
            if found := visit.problems + switch_problems(site, built_site, page, folder):
                problems[page] = found
    assert not problems, json.dumps(problems, indent=1, ensure_ascii=False)


@pytest.mark.parametrize("stem", ALL_LESSONS, ids=[s.relative_to(NOTEBOOKS).as_posix() for s in ALL_LESSONS])
def test_a_lesson_page(sites: dict[str, SiteBrowser], stem: Path):
    """Its headings, the lab's figure, the download, solutions behind toggles, links to the other lessons."""
    site = sites[folder_of(stem)]
    visit = site.visit(site.base + page_of(stem))
    assert not visit.problems, visit.problems
    shows_headings(site, headings(stem), stem.name)
    shows_the_lab_figure_where_the_lesson_has_a_lab(site, stem)
    offers_the_notebook_for_download(site, stem)
    hides_solutions_until_clicked(site, stem)
    links_to_the_lessons_its_text_names(site, stem)


@pytest.mark.parametrize("page", [p for folder in EDITIONS for p in PAGES[folder]],
                         ids=[p.relative_to(NOTEBOOKS).as_posix() for folder in EDITIONS for p in PAGES[folder]])
def test_a_page_that_is_not_a_lesson(sites: dict[str, SiteBrowser], page: Path):
    """The glossary: it loads cleanly, shows its headings, and its links lead somewhere."""
    site = sites[folder_of(page)]
    visit = site.visit(site.base + page_of(page))
    assert not visit.problems, visit.problems
    shows_headings(site, headings_in([page.with_suffix(".md").read_text(encoding="utf-8")]), page.name)
    assert not broken_links(site), f"links on {page.name}'s page lead nowhere: {broken_links(site)}"


def shows_headings(site: SiteBrowser, expected: list[str], name: str) -> None:
    shown = {plain(t) for t in site.page.locator("article :is(h1, h2, h3, h4)").all_inner_texts()}
    missing = [h for h in expected if h not in shown]
    assert expected and not missing, f"headings of {name} not on its page: {missing}\npage has: {sorted(shown)}"


def shows_the_lab_figure_where_the_lesson_has_a_lab(site: SiteBrowser, stem: Path) -> None:
    note = lab_note(folder_of(stem))
    notes = site.page.locator(f"article .cell_output :text('{note}')")
    if not shows_a_lab(stem):
        assert notes.count() == 0
        return
    assert notes.count() >= 1, f"the lab's stored figure needs the line saying it is interactive ({note!r})"
    figure = site.page.locator(f"article .cell_output:has(:text('{note}')) img").first
    assert figure.evaluate("img => img.naturalWidth") > 0, "the lab's stored figure is not drawn"


def offers_the_notebook_for_download(site: SiteBrowser, stem: Path) -> None:
    href = site.page.locator("a[href$='.ipynb']").first.get_attribute("href")
    response = site.page.request.get(site.page.url.rsplit("/", 1)[0] + "/" + href)
    assert response.ok and response.body() == stem.with_suffix(".ipynb").read_bytes(), (
        f"the download link {href} must give {stem.name}.ipynb as stored")


def hides_solutions_until_clicked(site: SiteBrowser, stem: Path) -> None:
    words = EDITIONS[folder_of(stem)].words
    toggles = site.page.locator("article details.hide")
    sources = solution_sources(stem)
    assert toggles.count() == len(sources), f"{len(sources)} solutions, {toggles.count()} toggles"
    for i, source in enumerate(sources):
        toggle, summary = toggles.nth(i), toggles.nth(i).locator("summary")
        code = toggle.locator(".cell_input pre")
        assert toggle.get_attribute("open") is None and not code.is_visible(), f"solution {i + 1} starts open"
        assert summary.inner_text().strip() == words["show"], f"solution {i + 1}'s toggle: {summary.inner_text()!r}"
        summary.click()
        code.wait_for(state="visible")
        first_line = source.strip().splitlines()[0].strip()
        assert first_line in code.inner_text(), f"solution {i + 1} shows other code than the notebook's"
        assert summary.inner_text().strip() == words["hide"], f"open solution {i + 1}: {summary.inner_text()!r}"


def broken_links(site: SiteBrowser) -> list[str]:
    local = site.page.locator("article a[href]").evaluate_all(
        "links => links.filter(a => a.origin === location.origin).map(a => a.href.split('#')[0])")
    return [url for url in sorted(set(local)) if not site.page.request.get(url).ok]


def links_to_the_lessons_its_text_names(site: SiteBrowser, stem: Path) -> None:
    """Each in-text link to another lesson is a link on the page, to that lesson in the same edition; in a
    translation, to the English lesson where that one has no translation yet (and the link says so)."""
    for target in sorted(lesson_links(stem)):
        translated = (stem.parent / f"{target}.ipynb").exists()
        kind = "reference.internal" if translated else "untranslated"
        link = site.page.locator(f"article a.{kind}[href*='{target}.html']").first
        assert link.count(), f"{stem.name}'s link to {target}.ipynb is not a link (a.{kind}) on the page"
        assert translated or link.inner_text().endswith(f"({EDITIONS[''].name})"), link.inner_text()
        link.click()
        site.page.wait_for_load_state("load")
        assert site.path() == page_of((stem.parent if translated else NOTEBOOKS) / target), site.path()
        site.page.go_back(wait_until="load")
    assert not broken_links(site), f"links on {stem.name}'s page lead nowhere: {broken_links(site)}"


@pytest.mark.parametrize("folder", list(EDITIONS), ids=[e.language for e in EDITIONS.values()])
def test_the_home_page_lists_every_lesson_and_next_and_previous_walk_through_them(
        sites: dict[str, SiteBrowser], folder: str):
    """Next from an edition's home page visits every lesson in order, then its other pages, and ends there."""
    site, home = sites[folder], f"/{EDITIONS[folder].prefix}index.html"
    site.visit(site.base + home)
    article = site.page.locator("article")
    missing = [command for command in readme_commands() if command not in article.inner_text()]
    assert not missing, f"the README's commands {missing} are not on {home}"
    table_links = article.locator("table a").evaluate_all("links => links.map(a => a.pathname)")
    assert table_links == [page_of(s) for s in LESSONS[folder]], "the lesson table links every lesson, in order"
    linked = set(article.locator("a").evaluate_all("links => links.map(a => a.pathname)"))
    assert {page_of(p) for p in PAGES[folder]} <= linked, f"{home} links to its other pages (the glossary)"
    walked, previous = [], []  # by clicking Next; Previous is read on each page and clicked once at the end
    while site.page.locator("a.right-next").count():
        walked.append(site.click("a.right-next"))
        previous.append(site.page.locator("a.left-prev").evaluate("a => a.pathname"))
    assert walked == [page_of(s) for s in LESSONS[folder] + PAGES[folder]], walked
    assert previous == [home, *walked[:-1]], f"Previous links: {previous}"
    if len(walked) > 1:
        assert site.click("a.left-prev") == walked[-2]


@pytest.mark.parametrize("folder", list(EDITIONS), ids=[e.language for e in EDITIONS.values()])
def test_the_search_finds_pages_of_its_own_edition(sites: dict[str, SiteBrowser], folder: str):
    """A word of both home pages (the course's subject) finds pages, all in the edition searched (Sphinx 9.0's zh
    search broke every page of a zh site: site/edition.py has the fix)."""
    site, prefix = sites[folder], EDITIONS[folder].prefix
    visit = site.visit(f"{site.base}/{prefix}search.html?q=multiprocessing")
    results = site.page.locator("#search-results ul.search li a")
    results.first.wait_for(state="attached", timeout=15_000)
    assert not visit.problems and not site.problems, [*visit.problems, *site.problems]
    found = results.evaluate_all("links => links.map(a => a.pathname)")
    assert f"/{prefix}index.html" in found and all(path.startswith(f"/{prefix}") for path in found), found
    others = [e.prefix for e in EDITIONS.values() if e.prefix and e.folder != folder]
    assert not [path for path in found if path.startswith(tuple(f"/{o}" for o in others))], found


def test_the_site_works_from_a_file_url(browser, built_site: Path):
    """Opened from disk (file://, no server): the home pages, the switch between them and the first lesson load."""
    context = browser.new_context()
    try:
        site = SiteBrowser(context.new_page(), built_site.as_uri())
        for folder, edition in EDITIONS.items():
            visit = site.visit(f"{site.base}/{edition.prefix}index.html")
            assert not visit.problems, visit.problems
            if LESSONS[folder]:
                assert site.click("article table a") == page_of(LESSONS[folder][0]), "the home page's first lesson"
                site.page.go_back(wait_until="load")
            for other in (e for e in EDITIONS.values() if e != edition):
                assert site.click(f"a.language-switch[hreflang='{html_lang(other)}']") == f"/{other.prefix}index.html"
                site.page.go_back(wait_until="load")
        assert not site.problems, site.problems
    finally:
        context.close()


def test_the_language_switch_leads_from_each_lesson_to_its_translation_and_back(sites: dict[str, SiteBrowser]):
    """Home to home, and each English lesson to each of its translations (the page's lang included) and back; a
    lesson not translated yet offers no switch."""
    site = sites[""]
    english_pages = {"index": "/index.html", **{stem.name: page_of(stem) for stem in LESSONS[""]}}
    for name, english in english_pages.items():
        for edition in (e for e in EDITIONS.values() if e.folder):
            twin = f"/{edition.prefix}index.html" if name == "index" else page_of(NOTEBOOKS / edition.folder / name)
            switch = f"a.language-switch[hreflang='{html_lang(edition)}']"
            site.visit(site.base + english)
            if name != "index" and not (NOTEBOOKS / edition.folder / f"{name}.ipynb").exists():
                assert site.page.locator(switch).count() == 0, f"{english} offers a {edition.name} page it lacks"
                continue
            assert site.click(switch) == twin, f"{english}'s {edition.name} switch"
            assert site.page.evaluate("document.documentElement.lang") == html_lang(edition)
            assert site.click(f"a.language-switch[hreflang='{html_lang(EDITIONS[''])}']") == english, (
                f"{twin}'s switch back to English")
            assert site.page.evaluate("document.documentElement.lang") == html_lang(EDITIONS[""])
