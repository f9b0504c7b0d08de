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


def kill_self_on(x: int, bad: int = 3) -> int:
    """Die by SIGKILL, as the out-of-memory killer would kill a worker."""
    import signal

    time.sleep(0.02)
    if x == bad:
        os.kill(os.getpid(), signal.SIGKILL)
    return x


def segfault_on(x: int, bad: int = 3) -> int:
    """Crash with a segmentation fault, as a buggy C extension would."""
    import ctypes
    import faulthandler

    time.sleep(0.02)
    if x == bad:
        faulthandler.disable()  # pytest enables it: the crash would print every thread's stack into the log
        ctypes.string_at(0)
    return x


def announce_then_sleep(args: tuple[str, float]) -> float:
    """Create the file ``path`` (so a test knows the task has started), then sleep ``seconds``."""
    path, seconds = args
    with open(path, "w") as f:
        f.write(str(os.getpid()))
    time.sleep(seconds)
    return seconds


def fail_first_else_sleep(x: int, seconds: float = 1.0) -> int:
    """Task 0 raises at once; every other task takes ``seconds``."""
    if x == 0:
        raise ValueError("task 0 failed")
    time.sleep(seconds)
    return x


def linger_at_exit(x: int) -> int:
    """Return at once, but leave the worker a clean-up step that takes a minute when it exits."""
    from multiprocessing import util

    util.Finalize(None, time.sleep, args=(60,), exitpriority=0)
    return x
