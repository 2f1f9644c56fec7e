"""Helpers of the tests that run real processes: a `paperfeed serve` over a data folder
with the tests' instant embedder (`tests.index.fake_cli`) on a free loopback port (its own
SQLite store, whatever database the run uses); polling for what another process does;
stopping a process as an operator would."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.index.test_kill_recovery import ROOT
from tests.web.test_serve import _free_port, _wait


@contextlib.contextmanager
def fake_server(data: Path, *options: str) -> Iterator[str]:
    """Serve `data` until the block ends; yields the base URL. The server must stop on
    SIGTERM without a traceback."""
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    env.pop("PAPERFEED_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.index.fake_cli", "--data-dir", str(data), "serve",
         "--port", str(port), *options], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url, proc)
        yield url
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=60)
        assert "Traceback" not in out, out[-3000:]


def poll(what: str, check: Callable[[], object], within: float = 10.0,
         every: float = 0.1) -> None:
    """Wait until `check()` is true; fail naming `what` after `within` seconds (a bound
    on a correctness wait, not a timing claim)."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not within {within:.0f} s")
        time.sleep(every)


def stop(proc: subprocess.Popen[bytes] | subprocess.Popen[str], grace: float = 60) -> None:
    """SIGTERM, then SIGKILL if it is still running after `grace` seconds."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
