"""Refresh lessons from their text: the cells of ``NN_name.md`` go into ``NN_name.ipynb``, which is executed so that
its stored outputs are real; then both files of the pair are written.

    python tools/refresh_notebooks.py [LESSON ...]              (default: every lesson, notebooks/zh/ included)
    python tools/refresh_notebooks.py --sync-only [LESSON ...]  (no run: prose edits keep the stored outputs)
    make refresh LESSON=notebooks/03_pool

LESSON is ``notebooks/NN_name`` with or without ``.md``/``.ipynb``. ``--sync-only`` keeps the stored outputs of every
code cell whose source did not change (jupytext's own matching). A lesson whose ``.ipynb`` was changed after its
``.md`` and no longer matches it is refused: that change was made outside JupyterLab and the ``.md`` lacks it.

Run it under the machine's default start method; nbval then re-runs the notebooks under fork, spawn and forkserver
and compares against these outputs (timings are sanitised by nbval_sanitize.cfg).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import nbformat
from jupytext.combine import combine_inputs_with_outputs
from jupytext.jupytext import drop_text_representation_metadata
from lesson_sources import ROOT, TEXT_FORMAT, first_difference, lesson_stems, read_notebook, read_text, stem_of
from lesson_sources import write_pair as write_both
from nbclient import NotebookClient


def shown(path: Path) -> str:
    """A path as the messages name it: relative to the repository when it is inside."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


MACHINE_PATH = re.compile(r"(/root/|/home/\w+/|/Users/\w+/|/tmp/|/work/|/private/var/|[A-Z]:\\\\Users)")


def synced(stem: Path) -> nbformat.NotebookNode:
    """The ``.md``'s cells with the ``.ipynb``'s stored outputs (and cell ids) wherever a code cell is unchanged."""
    text = read_text(stem)
    ipynb = stem.with_suffix(".ipynb")
    if not ipynb.exists():
        return drop_text_representation_metadata(text)
    stored = read_notebook(stem)
    difference = first_difference(text, stored, stem)
    if difference and ipynb.stat().st_mtime > stem.with_suffix(".md").stat().st_mtime + 1:
        raise SystemExit(f"{shown(ipynb)} is newer than its .md and differs from it: {difference}\n"
                         f"Keep the notebook's version with `jupytext --to {TEXT_FORMAT} {shown(ipynb)}`, "
                         f"or the text's by saving the .md again (touch it), then refresh.")
    return drop_text_representation_metadata(combine_inputs_with_outputs(text, stored, fmt=TEXT_FORMAT))


def execute(nb: nbformat.NotebookNode, stem: Path) -> None:
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(stem.parent)}})
    client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        for output in cell.get("outputs", []):
            text = json.dumps(output)
            if MACHINE_PATH.search(text):
                raise SystemExit(f"{stem.name}: a stored output contains a machine path: {text[:300]}")
    nb.metadata.pop("widgets", None)  # widget state is per-run; the lessons rebuild widgets when run


def refresh(stem: Path, run: bool = True) -> None:
    if not stem.with_suffix(".md").exists():
        raise SystemExit(f"{shown(stem)}.md does not exist: lessons are refreshed from their text")
    nb = synced(stem)
    if run:
        execute(nb, stem)
    write_both(nb, stem)
    print(f"{'refreshed' if run else 'synced'} {shown(stem)}.ipynb and .md")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lessons", nargs="*", help="notebooks/NN_name[.md|.ipynb] (default: every lesson)")
    parser.add_argument("--sync-only", action="store_true", help="copy the text into the notebook, run nothing")
    args = parser.parse_args(argv)
    stems = [stem_of(a) for a in args.lessons] or lesson_stems()
    for stem in stems:
        refresh(stem, run=not args.sync_only)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
