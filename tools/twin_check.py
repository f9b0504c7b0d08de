"""Does a translated lesson (``notebooks/zh/NN_name``) still match its English twin, cell by cell?

A translation may change prose, comments and the strings a cell prints for the reader; nothing else. So the twin
must have the same cells in the same order, with the same types and metadata (tags, hidden sources), the same
headings' levels and the same links to other lessons, and code that is the same token for token once comments are
dropped and every string literal is read as "some string". The one line a twin adds is in its first code cell:
``mplessons.set_language("zh")``, which makes the package speak the twin's language.

    python tools/twin_check.py notebooks/zh/03_pool      (prints the first difference, exits 1; or "in step")
"""

from __future__ import annotations

import io
import re
import sys
import tokenize
from pathlib import Path

import nbformat

SKIPPED = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING,
           tokenize.ENDMARKER}
FSTRING_START = getattr(tokenize, "FSTRING_START", None)  # Python 3.12+: f-strings are tokenised in parts
FSTRING_END = getattr(tokenize, "FSTRING_END", None)
SET_LANGUAGE = re.compile(r"^\s*mplessons\.set_language\((['\"])(?P<lang>[a-z_]+)\1\)\s*(#.*)?$")
LESSON_LINK = re.compile(r"\]\(((?:\.\./)?[0-9][0-9][a-z]?_[a-z_]+\.(?:ipynb|md))(#[^)]*)?\)")
HEADING = re.compile(r"^(#{1,6}) ", re.M)


def code_tokens(source: str) -> list[str]:
    """The cell's code as tokens, comments dropped and every string literal as ``<str>``.

    IPython lines (``%magic``, ``!shell``) are kept as they are, whole: they are commands, not prose.
    """
    tokens: list[str] = []
    python_lines: list[str] = []
    for line in source.splitlines():
        if line.lstrip().startswith(("%", "!")):
            tokens.append(f"<ipython {line.strip()}>")
            python_lines.append("")  # keep the line numbers of what follows
        else:
            python_lines.append(line)
    depth = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO("\n".join(python_lines) + "\n").readline):
            if FSTRING_START is not None and tok.type == FSTRING_START:
                depth += 1
                continue
            if FSTRING_END is not None and tok.type == FSTRING_END:
                depth -= 1
                if depth == 0:
                    tokens.append("<str>")
                continue
            if depth or tok.type in SKIPPED:
                continue
            tokens.append("<str>" if tok.type == tokenize.STRING else tok.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return [line.rstrip() for line in source.splitlines()]  # not Python: compare it line by line
    return tokens


def without_language_line(source: str, lang: str) -> tuple[str, bool]:
    """The source without its ``mplessons.set_language(lang)`` line, and whether it had one."""
    lines = source.splitlines()
    kept = [line for line in lines if not ((m := SET_LANGUAGE.match(line)) and m["lang"] == lang)]
    return "\n".join(kept), len(kept) < len(lines)


def twin_difference(english: nbformat.NotebookNode, twin: nbformat.NotebookNode, lang: str) -> str | None:
    """The first way ``twin`` differs from ``english`` that a translation may not introduce, or None."""
    if len(english.cells) != len(twin.cells):
        first = next((i for i, (a, b) in enumerate(zip(english.cells, twin.cells, strict=False))
                      if a.cell_type != b.cell_type), min(len(english.cells), len(twin.cells)))
        return (f"{len(english.cells)} cells in English, {len(twin.cells)} here; the cell types differ from cell "
                f"{first + 1} on")
    first_code = next((i for i, c in enumerate(twin.cells) if c.cell_type == "code"), None)
    for i, (a, b) in enumerate(zip(english.cells, twin.cells, strict=True)):
        where = f"cell {i + 1} ({a.cell_type})"
        if a.cell_type != b.cell_type:
            return f"{where}: it is {b.cell_type} here"
        if dict(a.metadata) != dict(b.metadata):
            return f"{where}: metadata {dict(b.metadata)} here, {dict(a.metadata)} in English"
        if a.cell_type == "markdown":
            levels_a, levels_b = HEADING.findall(a.source), HEADING.findall(b.source)
            if levels_a != levels_b:
                return f"{where}: headings of levels {levels_b} here, {levels_a} in English"
            links_a = [m[0] for m in LESSON_LINK.findall(a.source)]
            links_b = [m[0] for m in LESSON_LINK.findall(b.source)]
            if links_a != links_b:
                return f"{where}: links to lessons {links_b} here, {links_a} in English"
            continue
        source = b.source
        if i == first_code:
            source, has_line = without_language_line(source, lang)
            if not has_line:
                return f"{where}: the first code cell must set the language: mplessons.set_language({lang!r})"
        mine, theirs = code_tokens(source), code_tokens(a.source)
        if mine != theirs:
            at = next((k for k, (x, y) in enumerate(zip(mine, theirs, strict=False)) if x != y),
                      min(len(mine), len(theirs)))
            return (f"{where}: the code differs from the English (beyond comments and strings), at token {at + 1}: "
                    f"{' '.join(mine[max(0, at - 3):at + 3])!r} here, {' '.join(theirs[max(0, at - 3):at + 3])!r} "
                    f"in English")
    return None


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from lesson_sources import NOTEBOOKS, read_text, stem_of

    status = 0
    for argument in argv:
        stem = stem_of(argument)
        lang = stem.parent.name
        difference = twin_difference(read_text(NOTEBOOKS / stem.name), read_text(stem), lang)
        print(f"{stem.relative_to(NOTEBOOKS)}: {difference or 'in step with the English'}")
        status |= difference is not None
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
