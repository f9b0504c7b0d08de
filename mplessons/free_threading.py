"""Find a free-threaded Python on this machine and run lesson 07's thread demo in it.

The lesson runs in whatever Python the kernel has (usually one with the GIL). A free-threaded interpreter, if
there is one, is found by name (``python3.14t``, ``python3.13t`` on PATH) or named in
``$MPLESSONS_FREE_THREADED_PYTHON``, and the demo runs in it as a subprocess: ``thread_scaling_demo.py`` needs
only the standard library there. Nothing here ever reports a stored result as this machine's.

What the lesson prints (``HOW_TO_GET_ONE``, ``Scaling.summary()``, the errors) is in the student's language;
the plot stays English (matplotlib's default fonts cannot draw Chinese).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .i18n import N_, tr
from .machine import FREE_THREADED_ENV as ENV_VAR

CANDIDATES = ("python3.14t", "python3.13t")
DEMO_SCRIPT = Path(__file__).with_name("thread_scaling_demo.py")

_HOW_TO_GET_ONE = N_("""\
To get one (the build is called free-threaded, its programs end in "t"):
  * python.org installers for Windows and macOS: choose Customize and tick the free-threaded binaries
  * uv:         uv python install 3.14t
  * pyenv:      pyenv install 3.14t
  * conda:      conda create -n ft -c conda-forge python-freethreading
  * Fedora:     dnf install python3.14-freethreading
  * Ubuntu:     apt install python3.14-nogil (from the deadsnakes PPA)
Then put python3.14t on PATH, or set MPLESSONS_FREE_THREADED_PYTHON to its path, and run this cell again.""")


def __getattr__(name: str) -> Any:
    """``HOW_TO_GET_ONE``: where to get a free-threaded Python, in the language of the moment it is read."""
    if name == "HOW_TO_GET_ONE":
        return tr(_HOW_TO_GET_ONE)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Interpreter:
    """A Python found to run the demo in, and how it was found (for the lesson's output)."""

    path: str
    found_by: str


def find_interpreter(environ: Mapping[str, str] | None = None, search_path: str | None = None) -> Interpreter | None:
    """``$MPLESSONS_FREE_THREADED_PYTHON`` if set, else the first of ``python3.14t``, ``python3.13t`` on PATH.

    Only the name is checked here; whether it really is a free-threaded build is what the demo reports.
    """
    env = os.environ if environ is None else environ
    path = env.get("PATH", os.defpath) if search_path is None else search_path
    named = env.get(ENV_VAR, "").strip()
    if named:
        found = shutil.which(named, path=path)
        if found is None:
            raise ValueError(tr("${variable} is {value!r}, which is not an executable file or a program on PATH: "
                                "set it to the full path of a free-threaded python (such as python3.14t), or unset "
                                "it", variable=ENV_VAR, value=named))
        return Interpreter(found, f"${ENV_VAR}")
    for name in CANDIDATES:
        found = shutil.which(name, path=path)
        if found is not None:
            return Interpreter(found, tr("{program} on PATH", program=name))
    return None


@dataclass(frozen=True)
class Scaling:
    """What the demo measured in the other Python: seconds for the same tasks on 1, 2, ... threads."""

    python: str
    executable: str
    free_threaded_build: bool
    gil_enabled: bool
    cores: int
    tasks: int
    seconds: dict[int, float]
    lost_updates: int
    updates: int

    @property
    def speedups(self) -> dict[int, float]:
        base = self.seconds[min(self.seconds)]
        return {k: base / s for k, s in sorted(self.seconds.items())}

    def summary(self) -> str:
        if not self.free_threaded_build:
            build = tr("not a free-threaded build: its threads share one GIL, expect no speedup")
        elif self.gil_enabled:
            build = tr("a free-threaded build, but the GIL is on (PYTHON_GIL=1, or an extension turned it on)")
        else:
            build = tr("free-threaded, GIL off")
        lines = [tr("Python {version} at {executable}: {build}; {cores} logical cores.", version=self.python,
                    executable=self.executable, build=build, cores=self.cores)]
        lines += [tr("  {threads} thread(s): {seconds:.2f} s for {tasks} tasks, speedup {speedup:.1f}x", threads=k,
                     seconds=self.seconds[k], tasks=self.tasks, speedup=v)
                  for k, v in self.speedups.items()]
        lines.append(tr("  bare `counter.value += 1` in 2 threads: lost {lost:,} of {updates:,} updates",
                        lost=self.lost_updates, updates=self.updates))
        return "\n".join(lines)


def run_thread_scaling(python: str, threads: Sequence[int] = (1, 2, 4), tasks: int = 4,
                       task_seconds: float = 0.1, timeout: float = 120) -> Scaling:
    """Run ``thread_scaling_demo.py`` in ``python`` and parse its one line of JSON."""
    options = json.dumps({"threads": list(threads), "tasks": tasks, "task_seconds": task_seconds})
    try:
        done = subprocess.run([python, str(DEMO_SCRIPT), options], capture_output=True, text=True,
                              timeout=timeout, check=False)
    except FileNotFoundError:
        raise RuntimeError(tr("cannot run {python!r}: no such program", python=python)) from None
    except subprocess.TimeoutExpired:
        raise RuntimeError(tr("{python} did not finish the demo within {seconds:g} s", python=python,
                              seconds=timeout)) from None
    if done.returncode != 0:
        raise RuntimeError(tr("{python} exited with code {code} running the demo: {output}", python=python,
                              code=done.returncode, output=done.stderr.strip()[-600:] or done.stdout.strip()[-600:]))
    return parse_scaling(done.stdout, python)


def parse_scaling(stdout: str, python: str | None = None) -> Scaling:
    """The demo's result from its output (the last line that is JSON; warnings may come before it)."""
    python = python or tr("the other Python")
    for line in reversed(stdout.strip().splitlines()):
        try:
            raw: dict[str, Any] = json.loads(line)
        except ValueError:
            continue
        try:
            return Scaling(
                python=str(raw["python"]), executable=str(raw["executable"]),
                free_threaded_build=bool(raw["free_threaded_build"]), gil_enabled=bool(raw["gil_enabled"]),
                cores=int(raw["cores"]), tasks=int(raw["tasks"]),
                seconds={int(k): float(v) for k, v in raw["seconds"].items()},
                lost_updates=int(raw["lost_updates"]), updates=int(raw["updates"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RuntimeError(tr("{python} printed a result the lesson cannot read ({error!r}): {line}",
                                  python=python, error=exc, line=line[:300])) from None
    raise RuntimeError(tr("{python} printed no result: {output!r}", python=python, output=stdout.strip()[-300:]))


def plot_thread_scaling(result: Scaling):
    """Speedup against the number of threads, with the ideal line and the usable cores of *that* run (in
    English: matplotlib's default fonts cannot draw Chinese)."""
    import matplotlib.pyplot as plt

    counts = sorted(result.seconds)
    speedups = [result.speedups[k] for k in counts]
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot(counts, [min(k, result.cores) for k in counts], ":", color="grey", label="ideal (its cores)")
    ax.plot(counts, speedups, "o-", color="tab:orange", label=f"threads, Python {result.python}")
    ax.set_xlabel("threads")
    ax.set_ylabel("speedup")
    ax.set_xticks(counts)
    ax.set_ylim(bottom=0)
    gil = "GIL on" if result.gil_enabled else "GIL off"
    ax.set_title(f"{result.tasks} CPU-bound tasks ({gil})")
    ax.legend()
    fig.tight_layout()
    return fig
