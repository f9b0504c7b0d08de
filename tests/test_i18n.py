"""mplessons in English and Simplified Chinese: every message has both versions, none bypasses ``tr``, one switch.

The catalog tests read the templates out of the code with Babel's own extractor (``tr`` and ``N_`` calls), so
a message added, changed or removed in English fails here until ``mplessons/locale/zh.po`` follows it. Every
test that switches the language does it through ``monkeypatch``, which puts ``$MPLESSONS_LANG`` back as it
was, so the tests after it (and the kernels they start) speak English.
"""

from __future__ import annotations

import ast
import functools
import multiprocessing
import os
import re
import shutil
import string
import subprocess
import sys
from collections import Counter

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from exercise_corpus import load_corpus, notebook_steps
from support import NOTEBOOKS, ROOT, Kernel

import mplessons
from mplessons import guard, i18n, worker_lint
from mplessons.checks import lesson02

PACKAGE = ROOT / "mplessons"
CATALOG = PACKAGE / "locale" / "zh.po"

CONVERTED = [
    "checks/__init__.py", "checks/bounded.py", "checks/lesson01.py", "checks/lesson02.py", "checks/lesson03.py",
    "checks/lesson03b.py", "checks/lesson04.py", "checks/lesson04_sums.py", "checks/lesson05.py",
    "checks/lesson05_safe_add.py",
    "checks/lesson06.py", "checks/lesson07.py", "checks/observe.py", "checks/pools.py", "checks/processes.py",
    "checks/watch.py", "checks/pool_watch.py", "checks/shm_safety.py", "checks/dask_watch.py",
    "guard.py", "worker_lint.py", "widgets.py", "free_threading.py", "lessons_threads.py",
    "runner.py", "process_backend.py", "dask_backend.py",
]
"""The modules whose every student-facing message goes through ``tr`` (the watch helpers of lessons 04-06
have none of their own: listed so that one added later is caught). Of the run-time modules, ``runner.py``,
``process_backend.py`` and ``dask_backend.py`` translate the errors a lesson meets; their parameter
validation stays English (``ENGLISH_ON_PURPOSE``, and ``validation.py``, which is not listed)."""

SINKS = {"passed", "failed", "not_attempted", "Feedback", "InteractiveFunctionError", "InteractiveFunctionWarning",
         "warn", "print"}
"""Calls whose text argument the student reads: a string literal or f-string there bypasses ``tr``."""

FIGURE_CALLS = {"set_xlabel", "set_ylabel", "set_title", "plot", "scatter", "axvline", "axhline", "legend", "text"}
"""matplotlib calls: figure text stays English (matplotlib's default fonts have no CJK glyphs)."""

ENGLISH_ON_PURPOSE = {
    ("checks/lesson03.py", "negative input"): "matched against the worker's ValueError, never shown",
    ("checks/lesson07.py", "not callable"): "matched against Python's own TypeError text, never shown",
    ("guard.py", "# Written by %%worker_module from a notebook cell: edit the cell and re-run it, not this file.\n"):
        "the marker line of a worker module file: the same in every language, so any session recognises it",
    ("widgets.py", "sizes must not repeat, got {}"): "speedup_lab's parameter validation, for whoever calls it",
    ("widgets.py", "size must be one of sizes {}, got {}"): "speedup_lab's parameter validation",
    ("widgets.py", "<speedup lab figure>"): "the text/plain stand-in of the (English) figure",
    ("free_threading.py", "module {} has no attribute {}"): "Python's own AttributeError wording",
    ("free_threading.py", "GIL on"): "figure title",
    ("free_threading.py", "GIL off"): "figure title",
    ("checks/lesson04.py", "join a started"): "matched against multiprocessing's own AssertionError, never shown",
    ("checks/lesson04.py", "through inheritance"): "matched against multiprocessing's own RuntimeError text",
    ("checks/lesson04_sums.py", "buffer is too small"): "matched against numpy's own TypeError text",
    ("checks/lesson05.py", "join a started"): "matched against multiprocessing's own AssertionError, never shown",
    ("checks/lesson05.py", "fork context"): "matched against multiprocessing's own error text",
    ("checks/lesson06.py", "cannot be interpreted as an integer"): "matched against Python's own TypeError text",
    ("runner.py", "scheduler= is only used with backend='dask', got backend={}"):
        "run_tasks' parameter validation, for whoever calls it",
    ("runner.py", "the serial backend always uses 1 worker"): "run_tasks' parameter validation (workers=)",
    ("dask_backend.py", "{} must be a dask scheduler address such as 'tcp://127.0.0.1:8786', got {}"):
        "parameter validation of scheduler= / $MPLESSONS_DASK_SCHEDULER",
}
"""English strings in the converted modules that are not messages to the student, with the reason."""

TR_NAMES = {("checks/__init__.py", "name")}
"""``tr(variable)`` calls whose variable is not an ``N_``-marked module constant: a check's function name, or
the ``N_``-marked phrase ``remembers_rejections`` is given (checks/lesson03b.py)."""

PROSE = re.compile(r"[A-Za-z]{2,} +[A-Za-z]{2,}")
CODE = re.compile(r"`[^`]+`|%%worker_module|\b[A-Za-z_][\w.]*\((?:[^()]|\([^()]*\))*\)")
ENGLISH_PLURAL = re.compile(r"^\w+\((s|es)\)$")  # "worker(s)": English grammar, not code
ASCII_PUNCTUATION_IN_CHINESE = re.compile(r"[\u4e00-\u9fff][,;:?!]|[,;:?!][\u4e00-\u9fff]")


@functools.cache
def templates() -> dict[str, list[str]]:
    """Every ``tr("...")`` / ``N_("...")`` template in the package -> where it is used."""
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(PACKAGE), method_map=[("**.py", "python")], keywords={"tr": None, "N_": None}):
        found.setdefault(message, []).append(f"mplessons/{filename}:{lineno}")
    return found


@functools.cache
def catalog():
    with CATALOG.open("rb") as f:
        return read_po(f)


def fields(text: str) -> Counter:
    """The ``{placeholders}`` of a template: name, conversion and format spec, counted."""
    return Counter((name, conversion or "", spec or "")
                   for _, name, spec, conversion in string.Formatter().parse(text) if name is not None)


@pytest.fixture
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start in English; whatever the test sets, ``$MPLESSONS_LANG`` is put back afterwards.

    ``setenv`` then ``delenv``: a bare ``delenv`` of a variable that is not set records nothing to undo, and
    ``set_language`` (which writes ``os.environ`` itself) would then leave the next tests in Chinese.
    """
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    monkeypatch.delenv(i18n.LANG_ENV)


# --- the catalog ----------------------------------------------------------------------------------------


def test_the_catalog_is_simplified_chinese_in_utf8():
    assert ("Language", "zh_CN") in catalog().mime_headers and catalog().charset.lower() == "utf-8"
    assert "Glossary" in catalog().header_comment, "the glossary for translators sits at the top of zh.po"


def test_every_template_has_a_chinese_translation_with_the_same_placeholders():
    assert len(templates()) > 150, f"the extractor found only {len(templates())} templates"
    problems = []
    for template, where in templates().items():
        entry = catalog().get(template)
        if entry is None or not entry.string:
            problems.append(f"{where[0]}: no translation for {template[:70]!r}")
        elif entry.fuzzy:
            problems.append(f"{where[0]}: the translation is marked fuzzy (review it): {template[:70]!r}")
        elif fields(entry.string) != fields(template):
            problems.append(f"{where[0]}: placeholders {sorted(fields(entry.string))} in the translation, "
                            f"{sorted(fields(template))} in {template[:70]!r}")
        elif entry.string.count("\n") != template.count("\n"):
            problems.append(f"{where[0]}: the translation has another number of lines: {template[:70]!r}")
    assert not problems, "\n".join(problems)


def test_the_catalog_has_no_entry_the_code_no_longer_uses():
    stale = [m.id for m in catalog() if m.id and m.id not in templates()]
    obsolete = list(catalog().obsolete)
    assert not stale, "zh.po entries whose English template is gone from the code:\n" + "\n".join(map(repr, stale))
    assert not obsolete, f"zh.po keeps obsolete (#~) entries, drop them (pybabel update --ignore-obsolete): {obsolete}"


def test_translations_keep_the_code_of_the_english_message():
    problems = []
    for entry in catalog():
        if not entry.id:
            continue
        missing = [c for c in CODE.findall(entry.id) if not ENGLISH_PLURAL.match(c) and c not in entry.string]
        if missing:
            problems.append(f"{entry.id[:60]!r}: the translation lacks {missing}")
        if ASCII_PUNCTUATION_IN_CHINESE.search(entry.string):
            problems.append(f"{entry.string[:60]!r}: ASCII punctuation in Chinese prose (use ，。：；？！)")
    assert not problems, "\n".join(problems)


# --- no message bypasses tr -----------------------------------------------------------------------------


def _literal_text(node: ast.AST) -> str | None:
    """The text of a string literal, f-string ("{}" for each value) or a + of them; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        parts = [_literal_text(node.left), _literal_text(node.right)]
        return "".join(p for p in parts if p is not None) if any(p is not None for p in parts) else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _literal_text(node.func.value)
    return None


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _bypasses(relative: str) -> list[str]:
    """Messages in one module that do not go through ``tr``: file:line and the text."""
    tree = ast.parse((PACKAGE / relative).read_text(encoding="utf-8"))
    exempt: set[int] = set()  # ids of string nodes that are not messages
    marked = {t.id for node in tree.body if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
              and _call_name(node.value) == "N_" for t in node.targets if isinstance(t, ast.Name)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            exempt.add(id(node.value))  # docstrings, module's and attributes'
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        arguments = [*node.args, *(k.value for k in node.keywords)]
        if name in ("tr", "N_"):
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Name):
                if first.id not in marked and (relative, first.id) not in TR_NAMES:
                    found.append(f"{relative}:{node.lineno}: {name}({first.id}) of a name not marked with N_")
            elif not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                found.append(f"{relative}:{node.lineno}: {name}() needs a plain string literal as its template")
            exempt.update(id(a) for a in node.args[:1])
        elif name in FIGURE_CALLS:
            exempt.update(id(n) for a in arguments for n in ast.walk(a))
        elif name in SINKS:
            for argument in arguments:
                text = _literal_text(argument)
                if text is not None and text.strip():
                    found.append(f"{relative}:{node.lineno}: {name}() is given text without tr(): {text[:70]!r}")
                    exempt.update(id(n) for n in ast.walk(argument))
    for node in ast.walk(tree):
        if id(node) in exempt or not isinstance(node, (ast.Constant, ast.JoinedStr)):
            continue
        if isinstance(node, ast.JoinedStr):
            exempt.update(id(v) for v in node.values)
        text = _literal_text(node)
        if text and PROSE.search(text) and (relative, text) not in ENGLISH_ON_PURPOSE:
            found.append(f"{relative}:{node.lineno}: English text outside tr(): {text[:70]!r}")
    return found


def test_no_student_facing_message_bypasses_tr():
    found = [problem for relative in CONVERTED for problem in _bypasses(relative)]
    assert not found, "\n".join(found)


def test_the_scan_finds_a_message_that_bypasses_tr(tmp_path, monkeypatch):
    """The scan itself can fail: a failed(f"...") and a returned sentence are both caught."""
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "fake.py").write_text(
        'def check(x):\n    return failed(f"got {x}")\n\n\ndef why():\n    return "you never joined p"\n')
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path)
    found = _bypasses("checks/fake.py")
    assert len(found) == 2 and "fake.py:2" in found[0] and "fake.py:6" in found[1], found


# --- the switch -----------------------------------------------------------------------------------------


def test_a_real_check_speaks_chinese_after_set_language_and_english_again_after(english):
    assert str(lesson02.check_io_threads(...)).startswith("⏳ not attempted yet: define run_in_threads")
    assert mplessons.set_language("zh") == "zh" and mplessons.language() == "zh"
    assert str(lesson02.check_io_threads(...)) == ("⏳ 尚未作答：请在上面的单元格（cell）里定义 run_in_threads 并运行，"
                                                   "然后再运行这个检查")
    serial = lesson02.check_io_threads(lambda fetch, values: [fetch(v) for v in values])
    assert not serial and "调用 run_in_threads 的那个线程（thread）里一次接一次地运行" in serial.message, serial
    assert "threading.Thread(target=work, args=(i, v))" in serial.message  # code stays code
    not_a_function = lesson02.check_cpu_processes(42)
    assert not_a_function.message == "cubic_sums_in_processes 应该是一个函数（用这个名字 def 定义），但得到的是 int 42"
    mplessons.set_language("en")
    assert lesson02.check_cpu_processes(42).message.startswith("cubic_sums_in_processes should be a function")


def test_check_worker_explains_in_chinese(english):
    mplessons.set_language("zh")
    with pytest.raises(mplessons.InteractiveFunctionError) as caught:
        mplessons.check_worker(lambda x: x, "spawn")
    message = str(caught.value)
    assert "<lambda>` 是一个 lambda 函数，所以在任何启动方式（start method）下都无法被序列化（pickle）" in message
    assert "两种改法，任选其一" in message and "`%%worker_module my_jobs`" in message


def test_worker_module_notes_and_errors_in_chinese(english, tmp_path, monkeypatch, capsys):
    mplessons.set_language("zh")
    notes = worker_lint.notes("jobs", "def pick():\n    return random.random()\n", {})
    assert notes[0].startswith("⚠ jobs.py 用到了这个单元格（cell）既没有定义也没有导入的名字")
    assert "NameError" in notes[0]
    assert notes[1] == "  • random: 在这个单元格（cell）里加上 `import random`"
    with pytest.raises(ValueError, match="会遮蔽标准库模块 'os'；请换一个名字，例如 my_os"):
        guard.worker_module("os", "x = 1\n", {})
    monkeypatch.chdir(tmp_path)
    try:
        guard.worker_module("mpl_i18n_jobs", "def twice(x):\n    return 2 * x\n", {})
    finally:
        sys.modules.pop("mpl_i18n_jobs", None)
    assert capsys.readouterr().out.endswith("工作模块 'mpl_i18n_jobs' 已就绪（mpl_i18n_jobs.py）：twice\n")


def test_the_speedup_labs_labels_follow_the_language(english):
    from mplessons.widgets import speedup_lab

    mplessons.set_language("zh")
    lab = speedup_lab(sizes=[1_000, 2_000], tasks=2)
    assert (lab.workers.description, lab.size.description, lab.backend.description) == ("worker 数", "任务大小", "后端")
    assert (lab.run.description, lab.clear.description) == ("运行", "清除数据点")
    assert lab.status.value == "按 <b>运行</b>：运行 2 个所选大小的任务。"
    assert list(lab.backend.options)[:3] == ["serial", "thread", "process"]  # values of backend=, not words
    mplessons.set_language("en")
    assert speedup_lab(sizes=[1_000, 2_000], tasks=2).run.description == "Run"


def test_a_bad_language_is_refused_naming_the_choices(english):
    choices = r"lang must be one of \['en', 'zh'\] \(English, Simplified Chinese\), got 'fr'"
    with pytest.raises(ValueError, match=choices):
        mplessons.set_language("fr")
    assert mplessons.language() == "en"
    assert mplessons.set_language("zh-CN") == "zh"  # the usual spellings of Simplified Chinese


def test_mplessons_lang_in_the_environment_of_a_fresh_python(english):
    code = "from mplessons.checks import lesson02; print(lesson02.check_io_threads(...))"
    english_text = "⏳ not attempted yet:"
    for value, expected in (("zh", "⏳ 尚未作答："), ("en", english_text), ("klingon", english_text)):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True,
                              env={**os.environ, i18n.LANG_ENV: value})
        assert done.stdout.startswith(expected), (value, done.stdout, done.stderr)


def test_a_spawn_worker_inherits_the_language(english):
    mplessons.set_language("zh")
    pool = multiprocessing.get_context("spawn").Pool(1)
    try:
        assert pool.apply(i18n.language) == "zh"
        assert pool.apply(i18n.tr, ("not attempted yet: {what}",), {"what": "x"}) == "尚未作答：x"
    finally:
        pool.close()
        pool.join()


# --- a zh lesson's exercise, in a real kernel -----------------------------------------------------------


@pytest.mark.slow
def test_a_wrong_answer_in_a_lesson_gets_its_diagnosis_in_chinese(tmp_path, english):
    """Lesson 02 as a zh notebook will run it (set_language in its first cell), under spawn, solutions removed:
    exercise 1 with the call-instead-of-pass mistake is diagnosed in Chinese."""
    scratch = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, scratch, ignore=shutil.ignore_patterns("*.py", "__pycache__", ".ipynb_checkpoints"))
    lesson = NOTEBOOKS / "02_processes_vs_threads.ipynb"
    steps = [s for s in notebook_steps(lesson) if "solution" not in s.tags]
    exercise = next(i for i, s in enumerate(steps) if "exercise" in s.tags)
    check = steps[exercise + 1]
    wrong = next(a for a in load_corpus(lesson.stem)[1].wrong if "called instead of passed" in a.label)
    kernel = Kernel(scratch, {"MPLESSONS_START_METHOD": "spawn"})
    try:
        kernel.run("import mplessons\nmplessons.set_language('zh')").raise_if_error()
        for step in steps[:exercise + 1]:
            kernel.run(step.source, timeout=120).raise_if_error()
        placeholder = kernel.run(check.source, timeout=60).raise_if_error()
        kernel.run(wrong.code, timeout=60).raise_if_error()
        verdict = kernel.run(check.source, timeout=90).raise_if_error()
    finally:
        kernel.shutdown()
    shown = "\n".join(d.get("text/plain", "") for d in placeholder.data + verdict.data)
    assert "⏳ 尚未作答：请在上面的单元格（cell）里定义 run_in_threads" in shown, shown
    assert "❌ fetch 共运行了 5 次，其中 5 次是在调用 run_in_threads 的那个线程（thread）里" in shown, shown
    assert "`target=results.append(fetch(v))`" in shown and "in the thread that called" not in shown, shown
