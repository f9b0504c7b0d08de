"""The course website, 简体中文 edition: the lessons of ``notebooks/zh/``, built into ``site/_build/html/zh`` by
``make site``. Its code is in ``../edition.py``, shared with the English edition."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from edition import EDITIONS, sphinx_config  # noqa: E402

globals().update(sphinx_config(EDITIONS["zh"]))
