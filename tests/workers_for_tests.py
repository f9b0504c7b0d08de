"""Worker functions the tests need; importable by child processes because tests/ is on sys.path."""

import os
import time


def exit_on(x: int, bad: int = 3, code: int = 3) -> int:
    time.sleep(0.02)
    if x == bad:
        os._exit(code)
    return x


def fail_on(x: int, bad: int = 2) -> int:
    if x == bad:
        raise ValueError(f"task refused input {x}")
    return x
