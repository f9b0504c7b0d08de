"""The language mplessons speaks to the student: English by default, Simplified Chinese on request.

Every message a student reads (exercise feedback, ``check_worker``'s errors, ``%%worker_module`` notes, the
speedup lab's labels) is written as ``tr("English template with {name}", name=value)``. The template is the
key into the catalog ``mplessons/locale/zh.po`` (gettext's format, read with Babel), so changing an English
message makes its old translation stop matching: the catalog test then names it, instead of a stale Chinese
sentence living on.

The zh lessons call ``mplessons.set_language("zh")`` in their first cell; ``MPLESSONS_LANG=zh`` does the
same for a whole session (and reaches worker processes, which inherit the environment).
"""

from __future__ import annotations

import functools
import os
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
    """Speak ``lang`` ("en" or "zh") from now on, here and in worker processes started later."""
    chosen = _normalise(lang) if isinstance(lang, str) else None
    if chosen is None:
        raise ValueError(f"language must be one of {sorted(LANGUAGES)}, got {lang!r}; e.g. set_language('zh')")
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


def tr(template: str, /, **values: object) -> str:
    """``template`` in the current language, with ``values`` filled in (``str.format`` rules).

    A template the catalog lacks falls back to English: a student never sees an empty message, and the
    catalog test fails until the translation is there. Templates always go through ``format``, so a literal
    brace is written ``{{`` in every template.
    """
    lang = language()
    text = template if lang == "en" else catalog(lang).get(template, template)
    return text.format(**values)
