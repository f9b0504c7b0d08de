"""One-shot: turn the lessons' build scripts (tools/build/*.py + tools/nbbuild.py) into paired text sources.

    python tools/convert_build_scripts.py

1. Run every ``tools/build/NN_name.py`` (each writes ``notebooks/NN_name.ipynb``, without outputs).
2. In every lesson, a speedup lab is run before it is displayed (``display(lab)`` moves after ``lab.run_once()``),
   so that the stored display carries the lab's figure for the website.
3. A lesson whose cells came out as they were keeps its stored outputs and cell ids; the others keep the ids of
   their unchanged cells and are executed (tools/refresh_notebooks.py). Either way ``notebooks/NN_name.md`` is
   written beside the notebook, as a save in JupyterLab would write it.
4. Delete tools/build/ and tools/nbbuild.py.

Delete this script after running it: once the build scripts are gone it has nothing left to convert.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

from jupytext.combine import combine_inputs_with_outputs
from lesson_sources import ROOT, TEXT_FORMAT, as_text_sees_it, first_difference, lesson_stems, read_notebook
from lesson_sources import write_pair as write_both
from refresh_notebooks import refresh

BUILD = ROOT / "tools" / "build"
NBBUILD = ROOT / "tools" / "nbbuild.py"


def run_lab_before_display(source: str) -> str:
    """Move a ``display(name)`` line to just after the first later line that calls ``name.run_once(``."""
    lines = source.split("\n")
    for i, line in enumerate(lines):
        shown = re.fullmatch(r"display\((\w+)\)", line.strip())
        runs = [k for k in range(i + 1, len(lines)) if shown and re.search(rf"\b{shown[1]}\.run_once\(", lines[k])]
        if runs:
            lines.insert(runs[0], lines.pop(i))
            return "\n".join(lines)
    return source


def main() -> int:
    before = {stem: read_notebook(stem) for stem in lesson_stems() if stem.with_suffix(".ipynb").exists()}
    for script in sorted(BUILD.glob("[0-9][0-9]*_*.py")):
        subprocess.run([sys.executable, str(script.relative_to(ROOT))], cwd=ROOT, check=True)
    for stem in lesson_stems():
        nb = read_notebook(stem)
        for cell in nb.cells:
            if cell.cell_type == "code" and (fixed := run_lab_before_display(cell.source)) != cell.source:
                cell.source = fixed
                print(f"{stem.name}: the speedup lab now runs before it is displayed")
        old = before.get(stem)
        unchanged = old is not None and first_difference(as_text_sees_it(nb, stem), old, stem) is None
        if old is not None:  # outputs and ids of the cells that did not change
            nb = combine_inputs_with_outputs(as_text_sees_it(nb, stem), old, fmt=TEXT_FORMAT)
        write_both(nb, stem)
        refresh(stem, run=not unchanged)
    shutil.rmtree(BUILD, ignore_errors=True)
    NBBUILD.unlink(missing_ok=True)
    print("removed tools/build/ and tools/nbbuild.py; now delete tools/convert_build_scripts.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
