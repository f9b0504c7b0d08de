"""The README's ``make lab`` serves the lessons on 127.0.0.1 only, and only to someone holding the token, also
when run as root (as in most containers, and in CI), where it says why it let Jupyter run as root.

A lab open to the network would let anyone on the classroom's Wi-Fi run code as the student. The tests run the
Makefile's own recipe through make, for this environment (``VENV`` is this Python's prefix, its install step
marked as done with ``make -o``).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest
from support import ROOT

VENV = Path(sys.prefix)
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
ROOT_NOTE = "make lab: you are root"

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make_lab(*variables: str, dry_run: bool = False) -> list[str]:
    """``make lab`` for this environment; ``dry_run`` only prints the commands it would run (``make -n``)."""
    return ["make", "--no-print-directory", "-o", str(VENV / ".installed"), *(["-n"] if dry_run else []), "lab",
            f"VENV={VENV}", *variables]


def make_env(**extra: str) -> dict[str, str]:
    """This environment without the MAKEFLAGS of a make that may be running these tests (its -j, its variables)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return {**env, **extra}


def lab_commands() -> list[str]:
    done = subprocess.run(make_lab(dry_run=True), cwd=ROOT, env=make_env(), capture_output=True, text=True,
                          check=True)
    return done.stdout.splitlines()


def jupyter_argv(lines: list[str]) -> list[str]:
    commands = [shlex.split(line) for line in lines if line.strip()]
    jupyter = [argv for argv in commands if Path(argv[0]).name in ("jupyter", "jupyter-lab")]
    assert len(jupyter) == 1, f"expected one jupyter command in the lab recipe, got {lines}"
    return jupyter[0]


def _options(argv: list[str]) -> dict[str, str]:
    return dict(arg[2:].split("=", 1) for arg in argv if arg.startswith("--") and "=" in arg)


def test_the_lab_recipe_binds_to_localhost_and_keeps_the_token():
    lines = lab_commands()
    argv = jupyter_argv(lines)
    assert Path(argv[0]).parent == VENV / "bin" and argv[1] == "lab"
    options = _options(argv)
    ip = options.get("ServerApp.ip") or options.get("ip")
    assert ip in ("127.0.0.1", "localhost"), f"the lab must listen on 127.0.0.1 only, got ip={ip!r}"
    for key, value in options.items():
        assert not (key.endswith(".token") and value in ("", "''", '""')), "the token must not be switched off"
        assert not (key.endswith("disable_check_xsrf") and value.lower() == "true")
        assert not key.endswith(("allow_remote_access", "allow_origin")), f"{key} opens the lab to others"
    # --allow-root only where it is needed, and then with a word on why
    assert ("--allow-root" in argv) == AS_ROOT
    assert any(ROOT_NOTE in line for line in lines) == AS_ROOT


def _status(url: str, method: str = "GET") -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def _stop_group(make: subprocess.Popen) -> None:
    """Last resort: end make and the server it started (their own process group)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if make.poll() is not None:
            return
        os.killpg(make.pid, sig)
        try:
            make.wait(timeout=20)
        except subprocess.TimeoutExpired:
            continue


@pytest.mark.slow
def test_make_lab_really_listens_on_localhost_only_and_wants_the_token(tmp_path):
    runtime = tmp_path / "runtime"
    # Fresh config and runtime folders: the test checks what the command does, not this user's jupyter config.
    env = make_env(JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_RUNTIME_DIR=str(runtime))
    log_path = tmp_path / "lab.log"
    with log_path.open("w") as log:
        # --port=0: the OS picks a free port as jupyter binds it (a port probed first could be taken meanwhile by
        # a kernel of a test running beside this one); the server's info file says which
        make = subprocess.Popen(make_lab("LAB_ARGS=--no-browser --port=0 --ServerApp.port_retries=0"),
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        info_files: list[Path] = []
        while not info_files:
            assert make.poll() is None, f"make lab exited: {log_path.read_text()[-2000:]}"
            assert time.monotonic() < deadline, "the lab did not start within 90 s"
            time.sleep(0.2)
            info_files = list(runtime.glob("jpserver-*.json"))
        time.sleep(0.2)  # the file may be half written
        info = json.loads(info_files[0].read_text())
        port = info["port"]
        assert port and info["token"], "the lab runs without a token"
        first_line = log_path.read_text().splitlines()[0]
        assert first_line.startswith(ROOT_NOTE) == AS_ROOT, first_line

        family = psutil.Process(make.pid).children(recursive=True)
        listening = {(c.laddr.ip, c.laddr.port) for p in family
                     for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN}
        assert ("127.0.0.1", port) in listening
        assert {ip for ip, p in listening if p == port} == {"127.0.0.1"}, f"also listening on {listening}"

        base = f"http://127.0.0.1:{port}"
        assert _status(f"{base}/api/status") == 403, "the API answered without the token"
        assert _status(f"{base}/api/status?token=wrong-{info['token'][:4]}") == 403
        assert _status(f"{base}/api/status?token={info['token']}") == 200
        assert _status(f"{base}/api/shutdown", method="POST") == 403, "shut down without the token"

        # Stop it as a user would from the File menu: the server exits, and so does make, cleanly.
        assert _status(f"{base}/api/shutdown?token={info['token']}", method="POST") == 200
        assert make.wait(timeout=30) == 0, log_path.read_text()[-2000:]
    finally:
        _stop_group(make)
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "the port still answers after the lab stopped"
