"""Run the parts of ``make test`` side by side and report each one's output, wall time and CPU time.

The parts spend most of their time waiting (kernels starting and stopping, pools starting, sleeps in tests),
so on two cores they finish far sooner together than one after another. Each part is a make goal run in its
own process group, its output kept in ``test-results/parts/NAME.log`` and printed whole when it ends, so the
outputs never interleave. ``--other-pythons GOAL`` adds one part per extra interpreter: the oldest and the
newest supported Python found with pyenv or on PATH, unless it is the one running this script (the main
parts cover that one). A missing interpreter is reported and skipped, never a failure.

A part's CPU time is its make's and that of every process make and its children waited for. Processes a part
orphans (a forkserver whose kernel exited first) are adopted on Linux and count in the total only.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / "test-results" / "parts"
OLDEST_SUPPORTED = (3, 11)
HEARTBEAT_SECONDS = 120


@dataclass
class Part:
    name: str
    args: list[str]  # make goal and variables
    proc: subprocess.Popen | None = None
    started: float = 0.0
    wall: float = 0.0
    cpu: float = 0.0
    exitcode: int | None = None

    @property
    def log(self) -> Path:
        return LOGS / (re.sub(r"[^\w.-]+", "_", self.name)[:80] + ".log")


# --- other Pythons ----------------------------------------------------------------------------------------


def _probe(python: str) -> tuple[tuple[int, ...], bool] | None:
    """(version, free-threaded?) of an interpreter, or None when it does not run (a pyenv shim of a version
    that is not selected, a broken link). The probe is written so that Python 2 can answer it too."""
    code = ("import sys, sysconfig; sys.stdout.write('%d.%d.%d %d' % "
            "(tuple(sys.version_info[:3]) + (bool(sysconfig.get_config_var('Py_GIL_DISABLED')),)))")
    try:
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=20, check=True).stdout
        version, free_threaded = out.split()
        return tuple(int(n) for n in version.split(".")), free_threaded == "1"
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def _candidates() -> list[str]:
    found = []
    pyenv_root = os.environ.get("PYENV_ROOT")
    if not pyenv_root and shutil.which("pyenv"):
        pyenv_root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip()
    if pyenv_root:
        found += sorted(str(p) for p in Path(pyenv_root).glob("versions/*/bin/python"))
    found += [p for minor in range(OLDEST_SUPPORTED[1], 20) if (p := shutil.which(f"python3.{minor}"))]
    return found


def other_python_parts(goal: str) -> tuple[list[Part], list[str]]:
    """Parts for the oldest and newest supported Python besides this one, and lines saying what was found."""
    mine = platform.python_version()
    by_minor: dict[tuple[int, int], tuple[str, str]] = {}
    skipped: set[tuple[tuple[int, ...], bool]] = set()
    for python in _candidates():
        probed = _probe(python)
        if probed is None:
            continue
        version, free_threaded = probed
        if free_threaded or version[:2] < OLDEST_SUPPORTED:
            skipped.add(probed)
            continue
        by_minor.setdefault(version[:2], (".".join(map(str, version)), python))
    by_minor[sys.version_info[:2]] = (mine, sys.executable)
    found = ", ".join(by_minor[minor][0] for minor in sorted(by_minor))
    not_run = ", ".join(".".join(map(str, v)) + ("t" if ft else "") for v, ft in sorted(skipped))
    if len(by_minor) == 1:
        return [], [f"other Pythons: none supported besides {mine} (looked in pyenv's versions and for "
                    f"python3.11 ... python3.19 on PATH): skipped" + (f"; not run: {not_run}" if not_run else "")]
    lines = [f"other Pythons: found {found} (pyenv, PATH); this one is {mine}"
             + (f"; not run: {not_run} (older than 3.11, or free-threaded)" if not_run else "")]
    parts = []
    for label, minor in (("oldest", min(by_minor)), ("newest", max(by_minor))):
        version, python = by_minor[minor]
        if minor == sys.version_info[:2]:
            lines.append(f"other Pythons: the {label} supported one found is {version}, the one the main parts use")
        else:
            lines.append(f"other Pythons: the {label} supported one found is {version} ({python}): {goal}")
            parts.append(Part(f"notebooks-python-{version}",
                              [*shlex.split(goal), f"PYTHON={python}", f"VENV=.venv-{version}"]))
    return parts, lines


# --- running ----------------------------------------------------------------------------------------------


def _child_env() -> dict[str, str]:
    """This make's environment, less its jobserver (whose pipes do not reach the parts) and -j."""
    env = dict(os.environ)
    flags, sep, variables = env.get("MAKEFLAGS", "").partition(" -- ")
    flags = " ".join(f for f in flags.split() if not re.match(r"^(-j\d*|--jobserver-(auth|fds)=)", f))
    env["MAKEFLAGS"] = flags + sep + variables
    return env


def start(part: Part, make: list[str], env: dict[str, str]) -> None:
    with part.log.open("w") as log:
        part.proc = subprocess.Popen([*make, "--no-print-directory", *part.args], cwd=ROOT, env=env, stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    part.started = time.monotonic()


def report(part: Part) -> None:
    verdict = "passed" if part.exitcode == 0 else f"FAILED (exit code {part.exitcode})"
    print(f"\n==== {part.name} ({' '.join(part.args)}): {verdict} in {part.wall:.0f} s, CPU {part.cpu:.0f} s",
          flush=True)
    sys.stdout.write(part.log.read_text(errors="replace"))
    print(f"==== end of {part.name}", flush=True)


def run(parts: list[Part], make: list[str], at_once: int) -> None:
    env = _child_env()
    waiting, running = list(parts), {}
    last_beat = time.monotonic()
    while waiting or running:
        while waiting and (at_once <= 0 or len(running) < at_once):
            part = waiting.pop(0)
            start(part, make, env)
            running[part.proc.pid] = part
        ended = [waited for pid in running if (waited := os.wait4(pid, os.WNOHANG))[0]]
        if not ended:
            time.sleep(0.2)
            if time.monotonic() - last_beat > HEARTBEAT_SECONDS:
                last_beat = time.monotonic()
                busy = ", ".join(f"{p.name} ({(last_beat - p.started) / 60:.0f} min)" for p in running.values())
                print(f"... still running: {busy}", flush=True)
            continue
        for pid, status, usage in ended:  # our own pids only: this may run inside another program
            part = running.pop(pid)
            part.exitcode = part.proc.returncode = os.waitstatus_to_exitcode(status)
            part.wall = time.monotonic() - part.started
            part.cpu = usage.ru_utime + usage.ru_stime  # the part's make and everything it waited for
            report(part)


def adopt_orphans() -> bool:
    """On Linux, become the parts' "subreaper": a process they orphan (a forkserver or resource tracker whose
    kernel exited first) is then reaped here, so its CPU time counts in the total instead of vanishing."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER


def reap_orphans() -> list[str]:
    """Reap orphans that have exited; return the command lines of any still running."""
    with contextlib.suppress(ChildProcessError):
        while os.wait4(-1, os.WNOHANG)[0]:
            pass
    import psutil

    alive = [p for p in psutil.Process().children() if p.status() != psutil.STATUS_ZOMBIE]
    return [f"{p.pid} {' '.join(p.cmdline())[:100]}" for p in alive]


def stop(parts: list[Part]) -> None:
    """On Ctrl-C: end every part's whole process group (make, pytest, kernels, workers)."""
    alive = [p for p in parts if p.proc and p.proc.returncode is None]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for part in alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(part.proc.pid, sig)
        deadline = time.monotonic() + 10
        while alive and time.monotonic() < deadline:
            alive = [p for p in alive if p.proc.poll() is None]
            time.sleep(0.1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("goals", nargs="*", help="make goals, one part each")
    parser.add_argument("--make", default="make", help="the make command (the Makefile passes $(MAKE))")
    parser.add_argument("--other-pythons", metavar="GOAL", help="also run GOAL with other Pythons (see above)")
    parser.add_argument("--at-once", type=int, default=int(os.environ.get("PARTS_AT_ONCE", "0")),
                        help="how many parts may run at the same time (0: all; env PARTS_AT_ONCE)")
    args = parser.parse_args(argv)
    parts = [Part(goal, [goal]) for goal in args.goals]
    if args.other_pythons:
        extra, lines = other_python_parts(args.other_pythons)
        print("\n".join(lines), flush=True)
        parts += extra
    LOGS.mkdir(parents=True, exist_ok=True)
    print(f"== {len(parts)} parts, {'all' if args.at_once <= 0 else args.at_once} at once: "
          f"{', '.join(p.name for p in parts)} (logs in {os.path.relpath(LOGS, ROOT)}/)", flush=True)
    adopted = adopt_orphans()
    started, cpu_before = time.monotonic(), os.times()
    try:
        run(parts, shlex.split(args.make), args.at_once)
    except KeyboardInterrupt:
        stop(parts)
        return 130
    outlived = reap_orphans() if adopted else []
    wall, cpu = time.monotonic() - started, os.times()
    print("\n== parts of the run                   result  wall s   CPU s")
    for p in parts:
        print(f"   {p.name:<34} {'passed' if p.exitcode == 0 else 'FAILED':<7} {p.wall:>6.0f}  {p.cpu:>6.0f}")
    total_cpu = (cpu.children_user + cpu.children_system) - (cpu_before.children_user + cpu_before.children_system)
    print(f"   {'all, side by side':<34} {'':<7} {wall:>6.0f}  {total_cpu:>6.0f}  "
          f"(CPU / wall = {total_cpu / max(wall, 1e-9):.1f} of {os.cpu_count()} cores"
          f"{'; with what the parts orphaned' if adopted else ''})")
    if outlived:
        print(f"== warning: {len(outlived)} processes outlived their part: {outlived[:5]}")
    failed = [p.name for p in parts if p.exitcode != 0]
    if failed:
        print(f"== FAILED: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
