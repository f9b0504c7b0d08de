"""The README's ``make lab`` serves the lessons on 127.0.0.1 only, and only to someone holding the token.

A lab open to the network would let anyone on the classroom's Wi-Fi run code as the student.
"""

from __future__ import annotations

import json
import os
import re
import shlex
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


def lab_command() -> list[str]:
    """The jupyter invocation of the Makefile's ``lab`` recipe, with ``$(BIN)`` pointing at this Python's bin."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^lab:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe, "the Makefile has no lab target"
    lines = [line.strip().lstrip("@") for line in recipe.group(1).splitlines()]
    jupyter = [line for line in lines if re.search(r"\bjupyter(-lab)?\b", line)]
    assert len(jupyter) == 1, f"expected one jupyter command in the lab recipe, got {lines}"
    bin_dir = str(Path(sys.executable).parent)
    return shlex.split(jupyter[0].replace("$(BIN)", bin_dir).replace("$(VENV)/bin", bin_dir))


def _options(argv: list[str]) -> dict[str, str]:
    return dict(arg[2:].split("=", 1) for arg in argv if arg.startswith("--") and "=" in arg)


def test_the_lab_recipe_binds_to_localhost_and_keeps_the_token():
    argv = lab_command()
    assert Path(argv[0]).name in ("jupyter", "jupyter-lab") and "lab" in argv[:2]
    options = _options(argv)
    ip = options.get("ServerApp.ip") or options.get("ip")
    assert ip in ("127.0.0.1", "localhost"), f"the lab must listen on 127.0.0.1 only, got ip={ip!r}"
    for key, value in options.items():
        assert not (key.endswith(".token") and value in ("", "''", '""')), "the token must not be switched off"
        assert not (key.endswith("disable_check_xsrf") and value.lower() == "true")
        assert not key.endswith(("allow_remote_access", "allow_origin")), f"{key} opens the lab to others"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


@pytest.mark.slow
def test_the_lab_really_listens_on_localhost_only_and_wants_the_token(tmp_path):
    port = _free_port()
    argv = [*lab_command(), "--no-browser", f"--port={port}", "--ServerApp.port_retries=0"]
    if os.geteuid() == 0:
        argv.append("--allow-root")
    runtime = tmp_path / "runtime"
    # Fresh config and runtime folders: the test checks what the command does, not this user's jupyter config.
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(runtime)}
    log = (tmp_path / "lab.log").open("w")
    server = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        info_files: list[Path] = []
        while not info_files:
            assert server.poll() is None, f"the lab exited: {(tmp_path / 'lab.log').read_text()[-2000:]}"
            assert time.monotonic() < deadline, "the lab did not start within 90 s"
            time.sleep(0.2)
            info_files = list(runtime.glob("jpserver-*.json"))
        time.sleep(0.2)  # the file may be half written
        info = json.loads(info_files[0].read_text())
        assert info["port"] == port and info["token"], "the lab runs without a token"

        family = psutil.Process(server.pid)
        listening = {(c.laddr.ip, c.laddr.port) for p in [family, *family.children(recursive=True)]
                     for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN}
        assert ("127.0.0.1", port) in listening
        assert {ip for ip, p in listening if p == port} == {"127.0.0.1"}, f"also listening on {listening}"

        base = f"http://127.0.0.1:{port}"
        assert _status(f"{base}/api/status") == 403, "the API answered without the token"
        assert _status(f"{base}/api/status?token=wrong-{info['token'][:4]}") == 403
        assert _status(f"{base}/api/status?token={info['token']}") == 200
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
