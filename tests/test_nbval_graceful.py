"""The notebook runs' plugin: kernels shut down gracefully, and a segment left in /dev/shm fails the run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

HERE = Path(__file__).resolve().parent
SHM = Path("/dev/shm")
LEAK = """\
import mplessons
ctx = mplessons.context()  # as every lesson does: the kernel then frees multiprocessing's resources on shutdown
from multiprocessing import resource_tracker, shared_memory
segment = shared_memory.SharedMemory(create=True, size=64)
resource_tracker.unregister(segment._name, "shared_memory")  # nobody will clean it up now
print(segment.name)
"""

pytestmark = pytest.mark.skipif(not SHM.is_dir(), reason="no /dev/shm on this platform")


def run_nbval(folder: Path, source: str) -> subprocess.CompletedProcess:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nbformat.write(nb, folder / "scratch.ipynb")  # no stored outputs: nbval only checks that it runs
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "nbval_graceful", "--nbval-lax", "--nbval-current-env",
                           "-p", "no:cacheprovider", "--rootdir", str(folder), str(folder)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(HERE)}, cwd=folder)


def test_kernels_exit_cleanly_and_a_segment_left_in_dev_shm_fails_the_run(tmp_path):
    """One run (each costs a pytest and a kernel start): the kernel was asked to exit, not killed, so its
    atexit handlers ran (multiprocessing's cleanup is one); and a segment nobody cleans up fails the run."""
    marker = tmp_path / "exited-cleanly"
    before = set(os.listdir(SHM))
    result = run_nbval(tmp_path, f"import atexit, pathlib\natexit.register(pathlib.Path({str(marker)!r}).touch)\n"
                                 + LEAK)
    left = [n for n in set(os.listdir(SHM)) - before if n.startswith("psm_")]
    for name in left:
        (SHM / name).unlink()
    assert marker.exists(), "the kernel was killed: its atexit handlers never ran"
    assert left, "the control did not leak"
    assert result.returncode != 0
    assert "left 1 multiprocessing names in /dev/shm" in result.stdout, result.stdout[-2000:]
