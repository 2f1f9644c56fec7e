"""`paperfeed serve` as a user runs it: a real process on a loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _serve(data: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "paperfeed", "--data-dir", str(data), "serve", "--port",
         str(port), *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=env)


def _wait(url: str, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise AssertionError("server did not answer")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_answers_and_stops_on_ctrl_c(web_data: Path, workers: str) -> None:
    port = _free_port()
    proc = _serve(web_data, port, "--workers", workers)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait(url, proc)
        assert httpx.get(f"{url}/daily").status_code == 200
        # 741 loaded by the fixture, plus what onboarding tests imported into the same store.
        assert httpx.get(f"{url}/api/v1/stats").json()["papers"] >= 741
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    assert f"paperfeed is running at http://127.0.0.1:{port}" in out
    assert proc.returncode in (0, 130), out


def test_serve_on_a_busy_port_says_so(web_data: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = _serve(web_data, port)
        out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert f"127.0.0.1:{port} is in use; choose another with --port" in out
