"""Defect 17: a data folder the process cannot write still serves every reading command.

The probe put a store on a read-only mount and `paperfeed search` and `serve` exited 4.
Here the real CLI runs in a subprocess that really cannot write the folder, in two ways:

- "ro-mount": the folder bind-mounted read-only in a private mount namespace (the
  archive on a read-only disk; even root gets EROFS);
- "other-user": the folder owned by `nobody` (0755/0644, the secret key 0600) and the
  process root without CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER and CAP_CHOWN,
  so file permissions bind it like any other user. (Switching to `nobody` itself is not
  possible here: the interpreter lives under /root, mode 0700.)

Each mode is skipped, saying why, only when the machine cannot provide it (not root,
no `unshare`/`mount`). Reading works and leaves the folder byte for byte as it was;
every writing command stops with one line and exit 4; the web app serves pages and
search and answers 503 to writes.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.security.conftest import KNOWN_ID

PR_CAPBSET_DROP = 24
# CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
FILE_CAPABILITIES = (0, 1, 2, 3)
NOBODY = 65534
RO_MOUNT = ('mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" "$1" && shift '
            '&& exec "$@"')


def _drop_file_capabilities() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in FILE_CAPABILITIES:
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@dataclass
class Confined:
    """Runs commands so that they cannot write `data`."""

    mode: str
    data: Path

    def argv(self, args: list[str]) -> list[str]:
        if self.mode == "ro-mount":
            return ["unshare", "-m", "--propagation", "private", "sh", "-c", RO_MOUNT, "sh",
                    str(self.data), *args]
        return args

    @property
    def preexec(self) -> Callable[[], None] | None:
        return _drop_file_capabilities if self.mode == "other-user" else None

    def run(self, args: list[str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv(args), preexec_fn=self.preexec, capture_output=True,
                              text=True, timeout=timeout, env=_env())

    def paperfeed(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run([sys.executable, "-m", "paperfeed", "--data-dir", str(self.data),
                         *args])


def _env() -> dict[str, str]:
    return {**os.environ, "COLUMNS": "200", "PAPERFEED_SECRET_KEY": ""}


def snapshot(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Every file and folder under `folder`: size, modification time and mode."""
    found = {}
    for path in [folder, *folder.rglob("*")]:
        st = path.lstat()
        found[str(path.relative_to(folder))] = (st.st_size, st.st_mtime_ns, st.st_mode)
    return found


def _prepare(source: Path, target: Path, mode: str) -> Confined:
    shutil.copytree(source, target)
    secret = target / "secret_key"
    secret.write_text("0" * 64)
    secret.chmod(0o600)
    confined = Confined(mode, target)
    if os.geteuid() != 0:
        pytest.skip("needs root: to mount read-only or to take file permissions away")
    if mode == "ro-mount":
        if shutil.which("unshare") is None or shutil.which("mount") is None:
            pytest.skip("no unshare/mount to make a read-only bind mount")
    else:
        for path in [target, *target.rglob("*")]:
            os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
    probe = confined.run([sys.executable, "-c",
                          f"open({str(target / 'probe')!r}, 'w')"], timeout=60)
    if probe.returncode == 0:
        (target / "probe").unlink()
        pytest.fail(f"{mode}: the confined process could still write the folder")
    if "Traceback" not in probe.stderr:
        pytest.skip(f"{mode} is not available here: {probe.stderr.strip()[:200]}")
    return confined


@pytest.fixture(scope="module", params=["ro-mount", "other-user"])
def confined(request: pytest.FixtureRequest, security_store: Path,
             tmp_path_factory: pytest.TempPathFactory) -> Confined:
    target = tmp_path_factory.mktemp(f"readonly-{request.param}") / "data"
    return _prepare(security_store, target, request.param)


def test_reading_commands_work_and_change_nothing(confined: Confined) -> None:
    before = snapshot(confined.data)
    runs = {
        "search": confined.paperfeed("search", "gaussian splatting", "-k", "3"),
        "search --json": confined.paperfeed("search", "tracking", "--mode", "lexical", "--json"),
        "related": confined.paperfeed("related", KNOWN_ID, "-k", "3"),
        "show": confined.paperfeed("show", KNOWN_ID),
        "stats": confined.paperfeed("stats"),
        "cards datasets": confined.paperfeed("cards", "datasets", "--limit", "3"),
    }
    for name, done in runs.items():
        assert done.returncode == 0, (name, done.returncode, done.stderr[-1500:])
        assert "Traceback" not in done.stderr, (name, done.stderr)
    assert "1. " in runs["search"].stdout and "score" in runs["search"].stdout
    assert '"arxiv_id"' in runs["search --json"].stdout
    assert KNOWN_ID in runs["show"].stdout and "proposes" in runs["show"].stdout
    assert "papers" in runs["stats"].stdout and "60" in runs["stats"].stdout
    # Nothing created, deleted or touched: no -wal, -shm, lock, export or cache file.
    assert snapshot(confined.data) == before


@pytest.mark.parametrize("args", [
    ("ingest", "{listing}"), ("reindex",), ("reindex", "--full"), ("cards", "build"),
    ("harvest", "--from", "2025-01-01"), ("digest", "send"),
], ids=lambda a: " ".join(a[:2]))
def test_writing_commands_fail_with_one_clear_line(confined: Confined, tmp_path: Path,
                                                   args: tuple[str, ...]) -> None:
    listing = tmp_path / "one.jsonl"
    listing.write_text('{"id": "2599.00001", "title": "A new paper", "abstract": "Words."}\n')
    before = snapshot(confined.data)
    done = confined.paperfeed(*(a.replace("{listing}", str(listing)) for a in args))
    assert done.returncode == 4, (done.returncode, done.stdout[-500:], done.stderr[-1500:])
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error:") and "read-only" in lines[0], lines[0]
    assert "run writing commands as its owner" in lines[0]
    assert snapshot(confined.data) == before


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served_read_only(confined: Confined) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        confined.argv([sys.executable, "-m", "paperfeed", "--data-dir", str(confined.data),
                       "serve", "--port", str(port)]),
        preexec_fn=confined.preexec, env=_env(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                pytest.fail(f"serve exited {process.returncode}: {process.stderr.read()}")
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not answer within 120 s"
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_serve_reads_and_answers_503_to_writes(confined: Confined,
                                               served_read_only: str) -> None:
    before = snapshot(confined.data)
    with httpx.Client(base_url=served_read_only, timeout=60) as client:
        for path in ("/daily", "/search?q=gaussian+splatting", f"/papers/{KNOWN_ID}",
                     "/stats", "/api/v1/search?q=tracking", f"/api/v1/papers/{KNOWN_ID}",
                     "/api/v1/session", "/login"):
            response = client.get(path)
            assert response.status_code == 200, (path, response.text[:300])
        assert "gaussian" in client.get("/search?q=gaussian+splatting").text.lower()
        token = client.get("/api/v1/session").json()["csrf_token"]
        vote = client.post(f"/api/v1/papers/{KNOWN_ID}/vote", headers={"X-CSRF-Token": token})
        assert vote.status_code == 503, vote.text[:300]
        assert vote.json()["error"] == "read_only"
        assert "read-only" in vote.json()["message"]
        signup = client.post("/signup", data={"email": "new@example.org", "password": "x" * 12,
                                              "csrf_token": token})
        assert signup.status_code == 503
        assert signup.headers["content-type"].startswith("text/html")
        assert "read-only" in signup.text
        login = client.post("/login", data={"email": "a@example.org", "password": "x" * 12,
                                            "csrf_token": token})
        assert login.status_code == 503
    assert snapshot(confined.data) == before


def test_a_store_that_needs_an_upgrade_is_refused_clearly(security_store: Path,
                                                          tmp_path: Path) -> None:
    data = tmp_path / "old" / "data"
    shutil.copytree(security_store, data)
    with sqlite3.connect(data / "paperfeed.sqlite") as db:
        db.execute("UPDATE alembic_version SET version_num = '0008'")
    old = _prepare_plain(data)
    done = old.paperfeed("search", "tracking")
    assert done.returncode == 4, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs an upgrade" in lines[0], done.stderr
    assert "run a writing command as its owner" in lines[0]


def _prepare_plain(data: Path) -> Confined:
    """`data` confined as a read-only mount (the mode that needs no chown)."""
    confined = Confined("ro-mount", data)
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare for a read-only bind mount")
    return confined
