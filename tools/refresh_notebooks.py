"""Execute lesson notebooks and store their real outputs, free of machine paths and run timestamps.

    python tools/refresh_notebooks.py [notebooks/NN_name.ipynb ...]   (default: every lesson)

Run it under the default start method of the machine; nbval then re-runs the notebooks under fork,
spawn and forkserver and compares against these outputs (timings are sanitised by nbval_sanitize.cfg).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
MACHINE_PATH = re.compile(r"(/root/|/home/\w+/|/Users/\w+/|/tmp/|/work/|/private/var/|[A-Z]:\\\\Users)")


def refresh(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        for output in cell.get("outputs", []):
            text = json.dumps(output)
            if MACHINE_PATH.search(text):
                raise SystemExit(f"{path.name}: a stored output contains a machine path: {text[:300]}")
    nb.metadata.pop("widgets", None)  # widget state is per-run; the lessons rebuild widgets when run
    nbformat.write(nb, path)
    print(f"refreshed {path.relative_to(ROOT)}")


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] or sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
    for path in paths:
        refresh(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
