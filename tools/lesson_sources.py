"""The lessons as pairs of files: ``NN_name.md`` (MyST Markdown, what people edit) and ``NN_name.ipynb`` (the same
cells with the stored outputs that nbval compares and the website shows).

jupytext keeps a pair in sync when JupyterLab saves it (``notebooks/jupytext.toml``); this module is what the
tools and the tests use to find the pairs and to say where the two files of a pair disagree, so that both mean
the same by "in sync". A translated twin of every lesson lives in a language folder (``notebooks/zh/``) with the
same file stems; every function here takes those folders in as well.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

import jupytext
import nbformat
from jupytext.config import load_jupytext_config

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
LESSON_NAME = "[0-9][0-9]*_*"  # 00_start_here, 03b_pool_toolkit, ...
TEXT_FORMAT = "md:myst"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def lesson_folders(notebooks: Path = NOTEBOOKS) -> list[Path]:
    """``notebooks/`` and its language folders (``notebooks/zh``): every folder that holds lessons."""
    subfolders = [d for d in sorted(notebooks.iterdir())
                  if d.is_dir() and not d.name.startswith((".", "_")) and any(d.glob(f"{LESSON_NAME}.*"))]
    return [notebooks, *subfolders]


def lesson_stems(notebooks: Path = NOTEBOOKS) -> list[Path]:
    """Every lesson as a path without suffix (``notebooks/03_pool``), whichever of its two files exist."""
    return sorted({p.with_suffix("") for folder in lesson_folders(notebooks) for suffix in (".ipynb", ".md")
                   for p in folder.glob(f"{LESSON_NAME}{suffix}")})


def stem_of(argument: str | Path) -> Path:
    """``notebooks/03_pool``, ``notebooks/03_pool.md`` and ``notebooks/03_pool.ipynb`` all name the same lesson."""
    path = Path(argument).resolve()
    return path.with_suffix("") if path.suffix in (".md", ".ipynb") else path


def config_for(stem: Path):
    """The jupytext configuration that JupyterLab applies to this lesson (``notebooks/jupytext.toml``)."""
    return load_jupytext_config(str(stem.parent))


def read_text(stem: Path) -> nbformat.NotebookNode:
    return jupytext.read(stem.with_suffix(".md"), fmt=TEXT_FORMAT, config=config_for(stem))


def read_notebook(stem: Path) -> nbformat.NotebookNode:
    return nbformat.read(stem.with_suffix(".ipynb"), as_version=4)


def write_pair(nb: nbformat.NotebookNode, stem: Path) -> None:
    """Write both files of a lesson as a save in JupyterLab does: through jupytext's contents manager, with the
    project's configuration (the ``.ipynb`` first, then the ``.md``). A later save in JupyterLab then changes nothing
    that the lesson's author did not change."""
    from jupytext import TextFileContentsManager

    nb.metadata.setdefault("kernelspec", dict(KERNELSPEC))
    nbformat.validate(nb)
    with tempfile.TemporaryDirectory() as checkpoints:  # a save also keeps a checkpoint: not in notebooks/
        manager = TextFileContentsManager(root_dir=str(stem.parent), checkpoints_kwargs={"checkpoint_dir": checkpoints})
        manager.save({"type": "notebook", "content": nb}, f"{stem.name}.ipynb")


def as_text_sees_it(nb: nbformat.NotebookNode, stem: Path) -> nbformat.NotebookNode:
    """The notebook as it reads back from its text: cell metadata that jupytext does not keep drops out."""
    config = config_for(stem)
    text = jupytext.writes(copy.deepcopy(nb), fmt=TEXT_FORMAT, config=config)  # writes() edits the metadata it gets
    return jupytext.reads(text, fmt=TEXT_FORMAT, config=config)


def _where(index: int, cell: nbformat.NotebookNode) -> str:
    first_line = next((line for line in cell.source.splitlines() if line.strip()), "")
    return f"cell {index + 1} ({cell.cell_type}: {first_line[:70]!r})"


def first_difference(text: nbformat.NotebookNode, notebook: nbformat.NotebookNode, stem: Path) -> str | None:
    """Where the ``.md`` (``text``) and the ``.ipynb`` (``notebook``) of a lesson disagree, or None.

    Compared: the kernelspec, and each cell's type, source and the metadata the text keeps (tags such as
    ``exercise``/``solution``/``nbval-ignore-output``, ``jupyter.source_hidden``). Outputs are the notebook's alone.
    """
    notebook = as_text_sees_it(notebook, stem)
    if text.metadata.get("kernelspec") != notebook.metadata.get("kernelspec"):
        return (f"kernelspec: the .md has {text.metadata.get('kernelspec')}, "
                f"the .ipynb {notebook.metadata.get('kernelspec')}")
    for index, (a, b) in enumerate(zip(text.cells, notebook.cells, strict=False)):
        for what in ("cell_type", "source", "metadata"):
            if a.get(what) != b.get(what):
                mine, theirs = (_first_differing_line(a.source, b.source) if what == "source"
                                else (a.get(what), b.get(what)))
                return (f"{_where(index, a)} differs in its {what}:\n"
                        f"  .md:    {_short(mine)}\n  .ipynb: {_short(theirs)}")
    if len(text.cells) != len(notebook.cells):
        longer, name = (text, ".md") if len(text.cells) > len(notebook.cells) else (notebook, ".ipynb")
        index = min(len(text.cells), len(notebook.cells))
        return (f"the .md has {len(text.cells)} cells, the .ipynb {len(notebook.cells)}: "
                f"{_where(index, longer.cells[index])} is only in the {name}")
    return None


def _first_differing_line(a: str, b: str) -> tuple[str, str]:
    lines_a, lines_b = a.splitlines(), b.splitlines()
    for line_a, line_b in zip(lines_a, lines_b, strict=False):
        if line_a != line_b:
            return line_a, line_b
    if len(lines_a) != len(lines_b):
        return "\n".join(lines_a[len(lines_b):]) or "(ends here)", "\n".join(lines_b[len(lines_a):]) or "(ends here)"
    return a[-40:], b[-40:]  # the same lines: the difference is in the whitespace at the end


def _short(value: object, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"
