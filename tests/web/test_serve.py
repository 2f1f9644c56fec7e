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


def test_two_servers_share_one_database_and_data_folder(web_data: Path, db_kind: str) -> None:
    """Two `paperfeed serve` processes on one data folder and one database (PostgreSQL, or
    the SQLite file): a session made through one is known to the other, and ended through
    the other it is gone for the first."""
    from paperfeed.accounts import Accounts
    from paperfeed.store import Store
    from tests.signup import csrf

    email, password = f"two-servers-{db_kind}@example.org", "a long enough password"
    with Store(web_data) as store:  # the database the autouse fixture chose, as the servers
        Accounts(store).sign_up(email, password)
    a_port, b_port = _free_port(), _free_port()
    a, b = _serve(web_data, a_port), _serve(web_data, b_port)
    try:
        url_a, url_b = f"http://127.0.0.1:{a_port}", f"http://127.0.0.1:{b_port}"
        _wait(url_a, a)
        _wait(url_b, b)
        with httpx.Client(timeout=60) as client:  # one browser; cookies ignore the port
            assert client.get(f"{url_b}/api/v1/me").status_code == 401
            logged_in = client.post(f"{url_a}/login", data={
                "email": email, "password": password,
                "csrf_token": csrf(client, f"{url_a}/login")})
            assert logged_in.status_code == 303, logged_in.text[:300]
            assert client.get(f"{url_b}/api/v1/me").json()["email"] == email
            kept = dict(client.cookies)  # a copy of the session cookie, kept past log-out
            out = client.post(f"{url_b}/logout",
                              data={"csrf_token": csrf(client, f"{url_b}/account")})
            assert out.status_code == 303
            # The session row is gone from the shared database: the copy opens nothing on A.
            assert httpx.get(f"{url_a}/api/v1/me", cookies=kept).status_code == 401
    finally:
        for proc in (a, b):
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=60)
