"""One-shot: turn the lessons' build scripts (tools/build/*.py + tools/nbbuild.py) into paired text sources.

    python tools/convert_build_scripts.py             # rebuild every notebook from tools/build/, then pair and run it
    python tools/convert_build_scripts.py --no-build  # keep today's notebooks and their outputs, only pair them

1. Unless --no-build: run every ``tools/build/NN_name.py`` (each writes ``notebooks/NN_name.ipynb``, no outputs).
2. In every lesson, a speedup lab is run before it is displayed (``display(lab)`` moves after ``lab.run_once()``),
   so that the stored display carries the lab's figure for the website.
3. Write ``notebooks/NN_name.md`` beside each notebook (jupytext, MyST Markdown) and sync the pair.
4. Execute (tools/refresh_notebooks.py) every notebook that was rebuilt or whose lab cell moved.
5. Delete tools/build/ and tools/nbbuild.py.

Delete this script after running it: once the build scripts are gone it has nothing left to convert.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys

import jupytext
from lesson_sources import NOTEBOOKS, ROOT, TEXT_FORMAT, config_for, lesson_stems, read_notebook
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


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-build", action="store_true", help="pair today's notebooks instead of rebuilding them")
    args = parser.parse_args(argv)
    rebuilt = set()
    if not args.no_build:
        for script in sorted(BUILD.glob("[0-9][0-9]*_*.py")):
            subprocess.run([sys.executable, str(script.relative_to(ROOT))], cwd=ROOT, check=True)
            rebuilt.add(NOTEBOOKS / script.stem)
            print(f"built notebooks/{script.stem}.ipynb from {script.relative_to(ROOT)}")
    for stem in lesson_stems():
        nb = read_notebook(stem)
        moved = False
        for cell in nb.cells:
            if cell.cell_type == "code" and (fixed := run_lab_before_display(cell.source)) != cell.source:
                cell.source, moved = fixed, True
        if moved:
            print(f"{stem.name}: the speedup lab now runs before it is displayed")
            jupytext.write(nb, stem.with_suffix(".ipynb"), fmt="ipynb")
        jupytext.write(nb, stem.with_suffix(".md"), fmt=TEXT_FORMAT, config=config_for(stem))
        refresh(stem, run=moved or stem in rebuilt)
    shutil.rmtree(BUILD, ignore_errors=True)
    NBBUILD.unlink(missing_ok=True)
    print("removed tools/build/ and tools/nbbuild.py; now delete tools/convert_build_scripts.py")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
