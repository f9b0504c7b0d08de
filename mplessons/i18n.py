"""The language mplessons speaks to the student: English by default, Simplified Chinese on request.

Every message a student reads is written as ``tr("English template with {name}", name=value)``; a template
defined away from its use (a constant) is marked ``N_("...")`` and translated where it is used,
``tr(FIXES)``. The template is the key into the catalog ``mplessons/locale/zh.po`` (gettext's format, read
with Babel), so changing an English message makes its old translation stop matching: ``tests/test_i18n.py``
then names it, instead of a stale Chinese sentence living on.

What is translated: exercise-check feedback (``mplessons.checks``, every lesson), ``check_worker``'s
``InteractiveFunctionError`` / ``InteractiveFunctionWarning``, what ``%%worker_module`` prints and the errors
it raises for a bad module name, the speedup lab's labels, buttons and status lines, what
``mplessons.free_threading`` prints in lesson 07, and the run-time errors of ``run_tasks`` that a lesson shows:
``WorkerCrashedError`` and ``TaskTimeoutError`` (``runner.py``, ``process_backend.py``, ``dask_backend.py``),
the note that names the task whose exception it was, and the dask backend's "not installed" and "cannot reach
the scheduler" errors. What stays English: matplotlib figures (matplotlib's default fonts have no CJK glyphs:
it would draw boxes and warn), parameter-validation errors of the API (``validation.py``, and a bad argument
to ``run_tasks`` or ``get_client`` such as ``scheduler=``: for whoever calls the functions, who reads Python's
English tracebacks anyway), ``python -m mplessons`` and the benchmarks, exception type names, and code in a
message (it is Python).

The switch: ``mplessons.set_language("zh")`` (the zh lessons' first cell), or ``MPLESSONS_LANG=zh`` in the
environment for a whole session. Both live in ``os.environ``, which fork and spawn children copy when they
start. forkserver children copy the server instead, which keeps the environment of the moment it started (the
first forkserver pool of the session): switch before that, as the zh lessons' first cell does.

After changing messages, refresh the catalog with Babel's own tool, then translate the new entries (empty or
``#, fuzzy``) and run ``tests/test_i18n.py``::

    pybabel extract --no-default-keywords -k tr -k N_ --no-location -w 116 -o /tmp/mplessons.pot mplessons
    pybabel update --no-fuzzy-matching --ignore-obsolete -w 116 -i /tmp/mplessons.pot -o mplessons/locale/zh.po \
        -l zh_CN
"""

from __future__ import annotations

import functools
import os
import unicodedata
from pathlib import Path

LANG_ENV = "MPLESSONS_LANG"
LANGUAGES = {"en": "English", "zh": "简体中文"}
CATALOGS = Path(__file__).resolve().parent / "locale"
_ALIASES = {"zh_cn": "zh", "zh-cn": "zh", "zh_hans": "zh", "zh-hans": "zh", "cn": "zh", "en_us": "en", "en-us": "en"}


def _normalise(lang: str) -> str | None:
    key = str(lang).strip().lower()
    key = _ALIASES.get(key, key)
    return key if key in LANGUAGES else None


def set_language(lang: str) -> str:
    """Speak ``lang`` ("en" or "zh") from now on, here and in fork or spawn workers started later (forkserver
    workers only if the forkserver was not running yet: they copy its environment)."""
    chosen = _normalise(lang) if isinstance(lang, str) else None
    if chosen is None:
        raise ValueError(f"lang must be one of {sorted(LANGUAGES)} (English, Simplified Chinese), got {lang!r}; "
                         f"e.g. set_language(\"zh\")")
    os.environ[LANG_ENV] = chosen
    return chosen


def language() -> str:
    """The language in use: ``$MPLESSONS_LANG`` when it names a known language, else English."""
    return _normalise(os.environ.get(LANG_ENV, "")) or "en"


@functools.cache
def catalog(lang: str) -> dict[str, str]:
    """English template -> translation, for every translated entry of ``locale/<lang>.po``."""
    path = CATALOGS / f"{lang}.po"
    if lang == "en" or not path.exists():
        return {}
    from babel.messages.pofile import read_po

    with path.open("rb") as f:
        entries = read_po(f)
    return {m.id: m.string for m in entries if m.id and m.string and not m.fuzzy}


def N_(template: str) -> str:  # noqa: N802 - gettext's name for "mark for translation, translate later"
    """Mark a template defined away from its use: returns it unchanged; ``tr(CONSTANT)`` translates it."""
    return template


def tr(template: str, /, **values: object) -> str:
    """``template`` in the current language, with ``values`` filled in (``str.format`` rules).

    A template the catalog lacks falls back to English: a student never sees an empty message, and the
    catalog test fails until the translation is there. So does a translation that does not format (a
    placeholder mistyped), rather than an error in place of feedback. Templates always go through
    ``format``, so a literal brace is written ``{{`` in every template.
    """
    lang = language()
    text = template if lang == "en" else catalog(lang).get(template, template)
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):
        if text is template:
            raise
        return template.format(**values)


def columns(text: str) -> int:
    """How many terminal columns ``text`` takes: a wide (CJK) character counts as two, so that tables of
    translated labels still line up."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
