"""The course website, English edition (``site/_build/html``); its code is in ``edition.py``, shared with the zh
edition in ``zh/`` (``site/_build/html/zh``). Build both with ``make site``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from edition import EDITIONS, sphinx_config  # noqa: E402

globals().update(sphinx_config(EDITIONS[""]))
