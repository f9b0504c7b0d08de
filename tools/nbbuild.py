"""Write lesson notebooks from Python, so every lesson has the same metadata and cell conventions.

Usage in a build script (not shipped in the notebook):

    from nbbuild import md, code, exercise, write
    write("notebooks/01_x.ipynb", [md("# Title"), code("print(1)"), *exercise(...)])

Then run ``python tools/refresh_notebooks.py notebooks/01_x.ipynb`` to execute it and store real outputs.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(text.strip("\n"))


def code(source: str, *, hidden: bool = False, tags: tuple[str, ...] = ()) -> nbformat.NotebookNode:
    cell = new_code_cell(source.strip("\n"))
    if hidden:
        cell.metadata["jupyter"] = {"source_hidden": True}
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def exercise(task_md: str, placeholder: str, solution: str, check: str) -> list[nbformat.NotebookNode]:
    """An exercise as in dask-tutorial: the task, a 'your code here' cell, its self-check, a hidden solution
    and the same check again, so Run All passes on the untouched placeholder and on the solution."""
    return [
        md(task_md),
        code(placeholder, tags=("exercise",)),
        code(check, tags=("check",)),
        md("<details><summary>Stuck? The solution is in the next cell (click the dots to show it).</summary>"
           "</details>"),
        code(solution, hidden=True, tags=("solution",)),
        code(check, tags=("check",)),
    ]


def write(path: str | Path, cells: list[nbformat.NotebookNode]) -> None:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.validate(nb)
    Path(path).write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
