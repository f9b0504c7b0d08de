"""Drive a real JupyterLab in Debian's Chromium: start and stop the server and the browser, run notebooks, move sliders.

Why a real browser: nbval never looks inside widget outputs or images, so a broken front-end (ipywidgets not
rendered, "Error displaying widget") passes every kernel-side test. Facts this relies on are collected in the
project notes on browser testing (JupyterLab 4.6, ipywidgets 8, Playwright for Python with ``executable_path``).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from support import free_port, is_alive, process_command

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
RESULTS = ROOT / "test-results" / "browser"

CHROMIUM_ENV = "MPLESSONS_CHROMIUM"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
INSTALL_HINT = (
    "Debian/Ubuntu: `sudo apt-get install chromium`; macOS: install Google Chrome or Chromium and set "
    f"{CHROMIUM_ENV}='/Applications/Google Chrome.app/Contents/MacOS/Google Chrome'"
)
# Without the background-networking flags Chromium keeps calling hosts that a closed network refuses.
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Every cell in the page (4.x virtualises off-screen cells by default), and never write a notebook back.
LAB_OVERRIDES = {
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "defer"},
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
    "@jupyterlab/apputils-extension:notification": {"checkForUpdates": False, "fetchNews": "false"},
    "@jupyterlab/extensionmanager-extension:plugin": {"enabled": False},
}
ERROR_MIME = "application/vnd.jupyter.error"
STDERR_MIME = "application/vnd.jupyter.stderr"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def find_chromium() -> str | None:
    """The browser to drive: $MPLESSONS_CHROMIUM, else Debian's /usr/bin/chromium, else one on PATH."""
    explicit = os.environ.get(CHROMIUM_ENV)
    if explicit:
        return explicit if Path(explicit).exists() else None
    for name in CHROMIUM_CANDIDATES:
        found = name if Path(name).is_absolute() and Path(name).exists() else shutil.which(name)
        if found:
            return found
    return None


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return [p for p in psutil.Process(pid).children(recursive=True) if is_alive(p)]
    except psutil.Error:
        return []


def kill_all(procs: list[psutil.Process], grace: float = 5) -> list[psutil.Process]:
    """Terminate, then kill; return those that were still alive when we came (for the error message)."""
    left = [p for p in procs if is_alive(p)]
    for p in left:
        with contextlib.suppress(psutil.Error):
            p.terminate()
    _, still = psutil.wait_procs(left, timeout=grace)
    for p in still:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(still, timeout=grace)
    return left


@contextlib.contextmanager
def headless_chromium(chromium_path: str, owned: dict[int, str]) -> Iterator[object]:
    """Playwright's headless Chromium; ``owned`` names its driver processes while it runs (so that the
    stray-process checks do not blame them), and at the end every process it started must be gone."""
    from playwright.sync_api import sync_playwright

    me = psutil.Process()
    before = {p.pid for p in me.children()}
    pw = sync_playwright().start()
    driver = [p for p in me.children() if p.pid not in before]
    owned.update((p.pid, "browser") for p in driver)
    chromium = None
    try:
        chromium = pw.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        yield chromium
    finally:
        family = [q for p in driver for q in [p, *descendants(p.pid)]]
        try:
            if chromium is not None:
                chromium.close()
        finally:
            pw.stop()
            for p in driver:
                owned.pop(p.pid, None)
            psutil.wait_procs([p for p in family if is_alive(p)], timeout=10)
            killed = kill_all(family)
        assert not killed, ("browser processes outlived Playwright and had to be killed: "
                            f"{[process_command(p) for p in killed]}")


@dataclass
class LabServer:
    """``jupyter lab`` of this environment on 127.0.0.1, a free port and a random token, rooted in a temp folder."""

    root: Path
    work: Path
    port: int = 0
    token: str = field(default_factory=lambda: secrets.token_hex(24))
    proc: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> None:
        settings = self.work / "app-settings"
        settings.mkdir(parents=True, exist_ok=True)
        (settings / "overrides.json").write_text(json.dumps(LAB_OVERRIDES, indent=1))
        dirs = {name: self.work / name for name in ("user-settings", "workspaces", "checkpoints", "jupyter-config",
                                                     "jupyter-data", "jupyter-runtime", "ipython")}
        for d in dirs.values():
            d.mkdir(exist_ok=True)
        # A hermetic server: no user config, kernels without the user's IPython profile.
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(dirs["jupyter-config"]),
               "JUPYTER_DATA_DIR": str(dirs["jupyter-data"]), "JUPYTER_RUNTIME_DIR": str(dirs["jupyter-runtime"]),
               "IPYTHONDIR": str(dirs["ipython"]), "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        env.pop("JUPYTER_TOKEN", None)
        self.log_path = self.work / "jupyter-lab.log"
        for attempt in range(3):  # the free port may be taken between probing and binding
            self.port = free_port()
            args = [
                sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
                "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={self.root}", "--ServerApp.terminals_enabled=False",
                "--LabApp.expose_app_in_browser=True", f"--LabApp.app_settings_dir={settings}",
                f"--LabApp.user_settings_dir={dirs['user-settings']}",
                f"--LabApp.workspaces_dir={dirs['workspaces']}",
                f"--FileCheckpoints.checkpoint_dir={dirs['checkpoints']}",
                "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            ]
            if hasattr(os, "geteuid") and os.geteuid() == 0:
                args.append("--allow-root")
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(args, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL)
            if self._wait_ready(timeout):
                return
            if "already in use" not in self.log_tail() or attempt == 2:
                self.stop()
                raise RuntimeError(f"jupyter lab did not start within {timeout} s:\n{self.log_tail()}")
            self.stop()

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            try:
                self.api("GET", "/api/status", timeout=2)
                return True
            except (OSError, urllib.error.URLError, http.client.HTTPException):
                # HTTPException: something else answered on the port (a kernel's ZeroMQ socket that bound it
                # between free_port() and jupyter's bind): jupyter will exit with "already in use", and we retry
                time.sleep(0.25)
        return False

    def api(self, method: str, path: str, timeout: float = 10) -> object:
        req = urllib.request.Request(self.url + path, method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:] if self.log_path else ""
        except OSError:
            return ""

    def stop(self) -> list[str]:
        """POST /api/shutdown, then terminate/kill; return what had to be killed (kernels that outlived it)."""
        if self.proc is None:
            return []
        proc, self.proc = self.proc, None
        family = descendants(proc.pid)
        if proc.poll() is None:
            with contextlib.suppress(OSError, urllib.error.URLError):
                self.api("POST", "/api/shutdown", timeout=5)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        return [f"{p.pid} {process_command(p)}" for p in kill_all(family)]


# --- JavaScript run in the Lab page (window.jupyterapp comes from --LabApp.expose_app_in_browser) ---------------

JS_APP_READY = "() => !!(window.jupyterapp && window.jupyterapp.shell && document.querySelector('#jp-main-dock-panel'))"

JS_OPEN = """
async (path) => {
  const app = window.jupyterapp;
  await app.started; await app.restored;
  const panel = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
  await panel.context.ready;
  app.shell.activateById(panel.id);
  window.__nb = panel;
  window.__runAll = null;
  return {id: panel.id, windowingMode: panel.content.notebookConfig.windowingMode};
}
"""

JS_KERNEL_IDLE = """
() => {
  const k = window.__nb && window.__nb.sessionContext.session && window.__nb.sessionContext.session.kernel;
  return !!k && k.connectionStatus === 'connected' && k.status === 'idle';
}
"""

JS_KERNEL_STATE = """
() => {
  const s = window.__nb && window.__nb.sessionContext;
  const k = s && s.session && s.session.kernel;
  return k ? `${k.name}: ${k.status}/${k.connectionStatus}` : `no kernel (${s ? s.kernelDisplayStatus : 'no panel'})`;
}
"""

JS_RUN_ALL = """
() => {
  const app = window.jupyterapp;
  app.shell.activateById(window.__nb.id);
  window.__runAll = null;
  app.commands.execute('notebook:run-all-cells').then(
    (ok) => { window.__runAll = {ok: ok !== false}; },
    (err) => { window.__runAll = {ok: false, error: String(err)}; });
}
"""

JS_LOADING_WIDGETS = """
() => Array.from(window.__nb.node.querySelectorAll('.jp-OutputArea-output'))
  .filter((e) => e.textContent.trim().startsWith('Loading widget')).length
"""

JS_CELLS = """
([errorMime, stderrMime]) => window.__nb.content.widgets.map((cell, index) => {
  const m = cell.model;
  const texts = (mime) => Array.from(cell.node.querySelectorAll(`.jp-RenderedText[data-mime-type="${mime}"]`))
    .map((e) => e.innerText.slice(0, 3000));
  const outputs = Array.from(cell.node.querySelectorAll('.jp-OutputArea-output'));
  return {
    index,
    type: m.type,
    source: m.sharedModel.getSource(),
    executionCount: m.type === 'code' ? m.executionCount : null,
    // JupyterLab renders an error output with the stderr mime type: read the kind from the model
    errors: (m.type === 'code' ? m.outputs.toJSON() : [])
      .filter((o) => o.output_type === 'error').map((o) => `${o.ename}: ${o.evalue}`)
      .concat(texts(errorMime)),
    stderr: texts(stderrMime),
    widgetErrors: outputs.filter((e) => e.textContent.includes('Error displaying widget'))
      .map((e) => e.textContent.slice(0, 500)),
    loading: outputs.filter((e) => e.textContent.trim().startsWith('Loading widget')).length,
    widgets: cell.node.querySelectorAll('.jp-OutputArea-output .jupyter-widgets').length,
    images: cell.node.querySelectorAll('.jp-OutputArea-output img').length,
  };
})
"""

# Close the tab as a user does (panel.close(), nothing to save), not panel.dispose(): a dispose could land while
# Lab still had an activate request queued for the notebook, which then threw "Cannot read properties of null
# (reading 'footer')" into the next lesson's console (seen once in CI).
JS_CLOSE = """
async () => {
  const panel = window.__nb;
  window.__nb = null;
  if (!panel) return;
  try {
    await panel.sessionContext.shutdown();
  } finally {
    panel.context.model.dirty = false;
    panel.close();
    for (let i = 0; i < 50 && !panel.isDisposed; i++) await new Promise((r) => setTimeout(r, 100));
    if (!panel.isDisposed) panel.dispose();
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  }
}
"""

JS_SCROLL_HEIGHT = """
() => {
  const outer = window.__nb.node.querySelector('.jp-WindowedPanel-outer') || window.__nb.content.node;
  return {scroll: outer.scrollHeight, client: outer.clientHeight};
}
"""

JS_SCROLL_TOP = """
() => { (window.__nb.node.querySelector('.jp-WindowedPanel-outer') || window.__nb.content.node).scrollTop = 0; }
"""

JS_NEW_IMAGE_OR_ERROR = """
(scope) => {
  const img = Array.from(scope.querySelectorAll('img:not([data-mplessons-old])'))
    .find((i) => i.complete && i.naturalWidth > 0);
  if (img) return {src: img.src};
  const bad = Array.from(scope.querySelectorAll(
    '.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]:not([data-mplessons-old]),'
    + '.jp-RenderedText[data-mime-type="application/vnd.jupyter.error"]:not([data-mplessons-old])'))
    .find((e) => /Traceback|Error|failed/.test(e.innerText));
  return bad ? {error: bad.innerText.slice(0, 3000)} : false;
}
"""


def describe(cell: dict) -> str:
    first = cell["source"].strip().splitlines()[0] if cell["source"].strip() else "(empty)"
    return f"cell {cell['index']} ({first[:80]!r})"


class LabPage:
    """One Playwright page logged in to the server; notebooks are opened in it one after another."""

    def __init__(self, page, server: LabServer):
        self.page = page
        self.server = server
        self.console_errors: list[str] = []
        page.on("console", lambda msg: msg.type == "error" and self.console_errors.append(msg.text[:500]))
        page.on("pageerror", lambda exc: self.console_errors.append(f"uncaught: {exc}"[:500]))

    def login(self, timeout_ms: int = 90_000) -> None:
        self.page.goto(f"{self.server.url}/lab?token={self.server.token}", timeout=timeout_ms)
        self.page.wait_for_function(JS_APP_READY, timeout=timeout_ms)
        self.page.evaluate("async () => { await window.jupyterapp.started; await window.jupyterapp.restored; }")
        self.page.evaluate("() => window.jupyterapp.shell.collapseLeft()")  # wider notebook in the screenshots

    def open(self, path: str, timeout_ms: int = 90_000) -> dict:
        """Open a notebook (path relative to the server root) and wait until its kernel is idle."""
        self.console_errors.clear()
        info = self.page.evaluate(JS_OPEN, path)
        self.wait_kernel_idle(timeout_ms)
        return info

    def wait_kernel_idle(self, timeout_ms: int = 90_000) -> None:
        """Idle as the app's kernel connection reports it (the toolbar says idle while a kernel still starts)."""
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            dialog = self.page.locator(".jp-Dialog")
            if dialog.count() and "Select Kernel" in dialog.first.inner_text():
                dialog.locator(".jp-Dialog-button.jp-mod-accept").first.click()  # notebook without kernelspec
            if self.page.evaluate(JS_KERNEL_IDLE):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"kernel not idle after {timeout_ms / 1000:.0f} s: "
                                     f"{self.page.evaluate(JS_KERNEL_STATE)}")
            time.sleep(0.2)

    def run_all(self, timeout_ms: int = 180_000) -> tuple[float, dict]:
        """Run → Run All Cells; return (seconds, outcome) once it finished and the kernel is idle again."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        started = time.perf_counter()
        self.page.evaluate(JS_RUN_ALL)
        try:
            self.page.wait_for_function("() => window.__runAll !== null", timeout=timeout_ms, polling=200)
        except PlaywrightTimeout:
            stuck = [c for c in self.cells() if c["type"] == "code" and c["executionCount"] is None]
            where = describe(stuck[0]) if stuck else "?"
            raise AssertionError(f"Run All did not finish within {timeout_ms / 1000:.0f} s; first cell not run: "
                                 f"{where}; kernel {self.page.evaluate(JS_KERNEL_STATE)}") from None
        self.wait_kernel_idle(timeout_ms)
        with contextlib.suppress(PlaywrightTimeout):  # a widget stuck loading is reported by the cell checks
            self.page.wait_for_function(f"() => ({JS_LOADING_WIDGETS})() === 0", timeout=30_000, polling=200)
        return time.perf_counter() - started, self.page.evaluate("() => window.__runAll")

    def cells(self) -> list[dict]:
        return self.page.evaluate(JS_CELLS, [ERROR_MIME, STDERR_MIME])

    def close(self) -> None:
        """Shut the notebook's kernel down and drop the tab without saving (autosave is off too)."""
        self.page.evaluate(JS_CLOSE)

    def screenshot(self, path: Path) -> Path:
        """A picture of the whole notebook: grow the viewport to the notebook's height, shoot, shrink back."""
        path.parent.mkdir(parents=True, exist_ok=True)
        size = self.page.viewport_size
        heights = self.page.evaluate(JS_SCROLL_HEIGHT)
        tall = min(size["height"] + heights["scroll"] - heights["client"] + 40, 30_000)
        try:
            self.page.set_viewport_size({"width": size["width"], "height": max(tall, size["height"])})
            self.page.evaluate(JS_SCROLL_TOP)  # Run All leaves the notebook scrolled to its last cell
            self.page.wait_for_timeout(150)
            self.page.screenshot(path=str(path), full_page=True)
        finally:
            self.page.set_viewport_size(size)
        return path

    # --- widgets -------------------------------------------------------------------------------------------

    def drag_slider(self, slider, to_value: int | None = None) -> tuple[float, float]:
        """Drag a noUiSlider handle with the mouse to ``to_value`` (default: the far end); return (before, after)."""
        handle = slider.locator(".noUi-handle").first
        track = slider.locator(".noUi-base").first
        handle.scroll_into_view_if_needed()
        lo, hi, before = (float(handle.get_attribute(a)) for a in ("aria-valuemin", "aria-valuemax", "aria-valuenow"))
        if hi <= lo:
            raise AssertionError(f"the slider has nothing to drag: min {lo} = max {hi}")
        target = float(to_value) if to_value is not None else (hi if before < hi else lo)
        hbox, tbox = handle.bounding_box(), track.bounding_box()
        x0, y0 = hbox["x"] + hbox["width"] / 2, hbox["y"] + hbox["height"] / 2
        x1 = tbox["x"] + tbox["width"] * (target - lo) / (hi - lo)
        self.page.mouse.move(x0, y0)
        self.page.mouse.down()
        self.page.mouse.move(x1, y0, steps=12)
        self.page.mouse.up()
        expr = "(h) => parseFloat(h.getAttribute('aria-valuenow'))"
        deadline = time.monotonic() + 5
        while (after := handle.evaluate(expr)) != target and time.monotonic() < deadline:
            time.sleep(0.1)
        return before, after

    def click_and_wait_for_new_image(self, button, scope, timeout_ms: int = 120_000) -> tuple[list[str], str]:
        """Mark the images in ``scope``, click ``button``, wait for an image that was not there; return old and new src.

        The same input redraws an identical PNG, so "an <img> exists" would pass without a redraw: only an element
        that appeared after the click counts.
        """
        scope.locator(".jp-RenderedText").evaluate_all(
            "(texts) => texts.forEach((t) => t.setAttribute('data-mplessons-old', '1'))")
        old = scope.locator("img").evaluate_all(
            "(imgs) => imgs.map((i) => { i.setAttribute('data-mplessons-old', '1'); return i.src; })")
        button.scroll_into_view_if_needed()
        button.click()
        # wait for a loaded new image, or stop early at a traceback (a failing callback never draws)
        outcome = self.page.wait_for_function(JS_NEW_IMAGE_OR_ERROR, arg=scope.element_handle(), timeout=timeout_ms,
                                              polling=200).json_value()
        if "error" in outcome:
            raise AssertionError(f"pressing {button.inner_text()!r} showed an error instead of a plot:\n"
                                 f"{outcome['error']}")
        self.wait_kernel_idle(timeout_ms)
        return old, outcome["src"]


def notebooks() -> list[Path]:
    """The lessons, found anew at every collection (lessons are added over time)."""
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def code_cells_using(notebook: Path, text: str) -> list[int]:
    """Indices (among all cells) of code cells whose source contains ``text``."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    found = []
    for i, cell in enumerate(cells):
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        if cell["cell_type"] == "code" and text in source:
            found.append(i)
    return found
