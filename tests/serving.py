"""A real `paperfeed serve` process over a data folder, with the tests' instant embedder
(`tests.index.fake_cli`), on a free loopback port: the one way the process tests start a
server of their own (its own SQLite store, whatever database the run uses)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

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
