"""Where the repository's parts are, for tests that need files rather than the package."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
