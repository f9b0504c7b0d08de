"""The notebook runs' plugin: kernels shut down gracefully, and a segment a kernel leaves in /dev/shm fails the
run, while one that another program made there at the same time does not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from support import SHM

HERE = Path(__file__).resolve().parent
LEAK = """\
import mplessons
ctx = mplessons.context()  # as every lesson does: the kernel then frees multiprocessing's resources on shutdown
from multiprocessing import resource_tracker, shared_memory
segment = shared_memory.SharedMemory(create=True, size=64)
resource_tracker.unregister(segment._name, "shared_memory")  # nobody will clean it up now
pathlib.Path({own!r}).write_text(segment.name)
"""
# Another program's segment, made while the notebook runs: not this run's to blame (nor to remove).
FOREIGN = """\
import subprocess, sys
subprocess.run([sys.executable, "-c", "from multiprocessing import resource_tracker, shared_memory; "
                "s = shared_memory.SharedMemory(create=True, size=64); "
                "resource_tracker.unregister(s._name, 'shared_memory'); "
                "open({foreign!r}, 'w').write(s.name)"], check=True)
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


def test_kernels_exit_cleanly_and_only_a_segment_the_kernel_left_fails_the_run(tmp_path):
    """One run (each costs a pytest and a kernel start): the kernel was asked to exit, not killed, so its
    atexit handlers ran (multiprocessing's cleanup is one); a segment it left fails the run and is removed;
    one that another process made meanwhile is neither blamed nor touched."""
    marker, own, foreign = tmp_path / "exited-cleanly", tmp_path / "own.txt", tmp_path / "foreign.txt"
    source = (f"import atexit, pathlib\natexit.register(pathlib.Path({str(marker)!r}).touch)\n"
              + LEAK.format(own=str(own)) + FOREIGN.format(foreign=str(foreign)))
    try:
        result = run_nbval(tmp_path, source)
        own_name, foreign_name = own.read_text(), foreign.read_text()
        assert marker.exists(), "the kernel was killed: its atexit handlers never ran"
        assert result.returncode != 0
        assert "left 1 multiprocessing names in /dev/shm" in result.stdout, result.stdout[-2000:]
        assert own_name in result.stdout and foreign_name not in result.stdout
        assert not (SHM / own_name).exists(), "the run's own leftover was not removed"
        assert (SHM / foreign_name).exists(), "another program's segment was removed"
    finally:
        for path in (own, foreign):
            if path.exists():
                (SHM / path.read_text()).unlink(missing_ok=True)
