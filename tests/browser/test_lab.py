"""The lessons as users see them: JupyterLab in headless Chromium, Run All, widgets rendered, a slider dragged.

nbval checks the kernel's outputs; these tests check what the page shows (widgets rendered, no error output, the
plot redrawn after a mouse drag and a click). Screenshots land in test-results/browser/ for a person to look at.
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
import time
from pathlib import Path

import nbformat
import pytest
from labdriver import RESULTS, ROOT, LabPage, LabServer, code_cells_using, describe, notebooks

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LESSONS = notebooks()
# Lessons with a speedup lab are run once, by test_speedup_lab_slider, which makes the same checks and then drags.
SPEEDUP_LABS = [nb for nb in LESSONS if code_cells_using(nb, "speedup_lab(")]
PLAIN_LESSONS = [nb for nb in LESSONS if nb not in SPEEDUP_LABS]


def _problems(cells: list[dict], console_errors: list[str], outcome: dict | None = None) -> list[str]:
    """Everything a user would see as broken after Run All."""
    problems = [] if outcome is None or outcome.get("ok") else [f"Run All stopped before the end: {outcome}"]
    for cell in cells:
        if cell["type"] == "code" and cell["source"].strip() and cell["executionCount"] is None:
            problems.append(f"{describe(cell)} did not run")
        problems += [f"{describe(cell)} shows an error output: {text}" for text in cell["errors"]]
        # stderr alone is fine (warnings, progress bars); a traceback there (a widget callback's error in an
        # Output, a crashed child) means something failed
        if not cell["errors"]:
            problems += [f"{describe(cell)} shows a traceback:\n{text}"
                         for text in cell["stderr"] if "Traceback (most recent call last)" in text]
        problems += [f"{describe(cell)}: {text}" for text in cell["widgetErrors"]]
        if cell["loading"]:
            problems.append(f"{describe(cell)} still shows 'Loading widget...'")
    # none were seen in Lab 4.6 with these settings, so any console error (a widget's, an uncaught one) counts
    problems += [f"browser console error: {text}" for text in console_errors]
    return problems


def _run_notebook(lab: LabPage, notebook, path: str) -> tuple[list[str], list[dict], float]:
    """Open, Run All; return the problems a user would see, the cells and the seconds Run All took."""
    info = notebook(path)
    assert info["windowingMode"] == "defer", f"overrides.json was not applied: windowingMode={info['windowingMode']}"
    seconds, outcome = lab.run_all()
    cells = lab.cells()
    return _problems(cells, lab.console_errors, outcome), cells, seconds


@pytest.mark.parametrize("path", PLAIN_LESSONS, ids=[nb.stem for nb in PLAIN_LESSONS])
def test_lesson_runs_in_lab(lab: LabPage, notebook, path: Path) -> None:
    """Open the lesson, Run All, wait for the kernel to be idle; every cell ran, no error output, widgets rendered."""
    try:
        problems, cells, seconds = _run_notebook(lab, notebook, path.name)
    finally:
        lab.screenshot(RESULTS / f"{path.stem}.png")
    assert not problems, f"{path.name} in JupyterLab:\n" + "\n".join(problems)
    print(f"{path.name}: Run All in {seconds:.1f} s in the browser, {len(cells)} cells")


def _mark_cell(lab: LabPage, index: int):
    lab.page.evaluate("(i) => window.__nb.content.widgets[i].node.setAttribute('data-mplessons-cell', String(i))",
                      index)
    return lab.page.locator(f"[data-mplessons-cell='{index}']")


def _drag_and_run(lab: LabPage, cell) -> tuple[float, float, list[str], str]:
    slider = cell.locator(".mplessons-workers").first
    slider.wait_for(state="visible")
    assert slider.locator(".noUi-handle").count() == 1, "the workers slider has no handle: not rendered as a slider"
    before, after = lab.drag_slider(slider)
    assert after != before, f"dragging the workers slider did not move it (still {before})"
    readout = slider.locator(".widget-readout").first.inner_text().strip()
    assert readout == f"{after:g}", f"slider readout {readout!r} does not match the handle's value {after:g}"
    old, new = lab.click_and_wait_for_new_image(cell.locator(".mplessons-run").first, cell)
    return before, after, old, new


def _wait_for_status(cell, pattern: str, seconds: float = 15) -> str | None:
    """The lab's HTML status text matching ``pattern`` (it is written from a background thread), or None."""
    deadline = time.monotonic() + seconds
    while True:
        for text in cell.locator(".widget-html").all_inner_texts():
            if re.search(pattern, text):
                return text
        if time.monotonic() > deadline:
            return None
        time.sleep(0.2)


HARNESS = [
    "import ipywidgets as widgets\nimport matplotlib.pyplot as plt\nfrom IPython.display import display",
    """\
workers = widgets.IntSlider(value=1, min=1, max=4, description="workers", layout=widgets.Layout(width="420px"))
workers.add_class("mplessons-workers")
run = widgets.Button(description="Run")
run.add_class("mplessons-run")
output = widgets.Output()


def draw(_=None):
    with output:
        output.clear_output(wait=True)
        fig, ax = plt.subplots(figsize=(4, 2.5))
        ax.bar(range(workers.value), range(1, workers.value + 1))
        ax.set_title(f"{workers.value} workers")
        display(fig)
        plt.close(fig)
        print(f"drawn with workers={workers.value}")


run.on_click(draw)
draw()
display(widgets.VBox([workers, run, output]))""",
]


def test_slider_drag_reaches_kernel(lab: LabPage, lab_server: LabServer, notebook) -> None:
    """The harness itself, on plain ipywidgets: a mouse drag reaches the kernel and Run redraws the figure.

    If this fails, the browser set-up or ipywidgets' front end is broken, not a lesson.
    """
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in HARNESS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, lab_server.root / "_browser_harness.ipynb")
    try:
        problems, _, _ = _run_notebook(lab, notebook, "_browser_harness.ipynb")
        assert not problems, "\n".join(problems)
        cell = _mark_cell(lab, 1)
        before, after, old, new = _drag_and_run(lab, cell)
        assert (before, after) == (1, 4)
        assert old and new not in old, "the redrawn figure is the same picture as before the drag"
        text = cell.locator(".jp-OutputArea-output").last.inner_text()
        assert "drawn with workers=4" in text, f"the kernel did not see the dragged value: {text!r}"
    finally:
        lab.screenshot(RESULTS / "_browser_harness.png")


def test_speedup_lab_appears_in_a_lesson() -> None:
    """Once the speedup lab exists, some lesson must show it, or its browser test would silently test nothing."""
    if not (ROOT / "mplessons" / "widgets.py").exists() and importlib.util.find_spec("mplessons.widgets") is None:
        pytest.skip("mplessons.widgets.speedup_lab does not exist yet, so no lesson can show it")
    assert SPEEDUP_LABS, "mplessons/widgets.py exists but no notebook in notebooks/ has a cell calling speedup_lab("


@pytest.mark.parametrize("path", SPEEDUP_LABS, ids=[nb.stem for nb in SPEEDUP_LABS])
def test_speedup_lab_slider(lab: LabPage, notebook, path: Path) -> None:
    """The lesson passes the same Run All checks; then, as a student: drag the workers slider, press Run, and the
    speedup plot is redrawn."""
    index = code_cells_using(path, "speedup_lab(")[0]
    cell = None
    try:
        problems, cells, seconds = _run_notebook(lab, notebook, path.name)
        assert not problems, f"{path.name} in JupyterLab:\n" + "\n".join(problems)
        # The widget's view is drawn after the kernel reports idle: wait for it rather than look once.
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        find = ("(i) => window.__nb.content.widgets"
                ".findIndex((c, j) => j >= i && c.node.querySelector('.mplessons-workers'))")
        with contextlib.suppress(PlaywrightTimeout):
            lab.page.wait_for_function(f"(i) => ({find})(i) >= 0", arg=index, timeout=15_000)
        shown = lab.page.evaluate(find, index)
        assert shown >= 0, f"no workers slider (.mplessons-workers) rendered at or after cell {index} (speedup_lab()"
        cell = _mark_cell(lab, shown)
        started = time.perf_counter()
        before, after, old, new = _drag_and_run(lab, cell)
        assert new not in old, "after the drag and Run the plot is the same picture as before"
        status = _wait_for_status(cell, rf"\b{after:g}\b[^.]*worker")
        assert status is not None, (
            f"the lab's status does not report a run with {after:g} workers (did the kernel get the drag?): "
            f"{cell.locator('.widget-html').all_inner_texts()}")
        problems = _problems(lab.cells(), lab.console_errors)
        assert not problems, "after dragging the slider and pressing Run:\n" + "\n".join(problems)
        print(f"{path.name}: Run All in {seconds:.1f} s; workers {before:g} -> {after:g}, "
              f"redrawn in {time.perf_counter() - started:.1f} s")
    finally:
        lab.screenshot(RESULTS / f"{path.stem}.png")
        if cell is not None:
            cell.screenshot(path=str(RESULTS / f"{path.stem}-speedup-lab.png"))


def test_a_port_taken_by_something_that_is_not_http_is_waited_out(tmp_path: Path):
    """Between free_port() and jupyter's bind, another process (a kernel's ZeroMQ socket) may take the port; our
    readiness probe then talks to it and gets no HTTP. That must count as "not ready", so that start() sees
    jupyter exit with "already in use" and retries, instead of failing with http.client.BadStatusLine."""
    import socket
    import subprocess
    import sys
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def answer_like_zeromq() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = listener.accept()
                with conn:
                    conn.sendall(b"\xff\x00\x00\x00\x00\x00\x00\x00\x01\x7f")  # a ZMTP greeting, not HTTP

    threading.Thread(target=answer_like_zeromq, daemon=True).start()
    server = LabServer(root=tmp_path, work=tmp_path)
    server.port = listener.getsockname()[1]
    server.proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1.5)"])  # a jupyter that gives up
    try:
        assert server._wait_ready(timeout=10) is False
    finally:
        server.proc.wait()
        listener.close()
