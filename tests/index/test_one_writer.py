"""One writer of the index at a time: a second `paperfeed` writer waits with one line, or
refuses with one line after PAPERFEED_INDEX_WAIT, never a traceback (issue 14 found the
second `ingest` dying with tantivy's LockBusy). Two real processes; the first is held
mid-run by tests/index/fake_cli.py until the test releases it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .test_kill_recovery import ROOT, assert_all_findable, assert_ok, cli, write_papers

PAPERS = 300


def start(data_dir: Path, out: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
    full_env.pop("PAPERFEED_TEST_KILL_AT", None)
    with out.open("w") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.index.fake_cli", "--data-dir", str(data_dir), *args],
            cwd=ROOT, env=full_env, stdout=sink, stderr=subprocess.STDOUT, text=True)


def wait_for(condition: str, check: object, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {condition}")
        time.sleep(0.05)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    assert_ok(cli(data_dir, "ingest", "--no-index",
                  str(write_papers(tmp_path / "p.jsonl", range(PAPERS)))))
    return data_dir


@pytest.fixture
def holder(store: Path, tmp_path: Path) -> tuple[subprocess.Popen[str], Path]:
    """`reindex --full` stopped inside its first batch, the index's writer lock held."""
    hold = tmp_path / "hold"
    hold.mkdir()
    process = start(store, tmp_path / "holder.out", "reindex", "--full",
                    PAPERFEED_TEST_HOLD=str(hold))
    wait_for("the first writer to start", lambda: (hold / "started").exists())
    yield process, hold  # type: ignore[misc]
    (hold / "release").touch()
    process.wait(timeout=120)


def test_a_second_writer_waits_then_indexes_its_papers(
        store: Path, tmp_path: Path, holder: tuple[subprocess.Popen[str], Path]) -> None:
    first, hold = holder
    new = write_papers(tmp_path / "new.jsonl", range(PAPERS, PAPERS + 50))
    out = tmp_path / "second.out"
    second = start(store, out, "ingest", str(new))
    wait_for("the second writer to say it waits", lambda: "waiting" in out.read_text())
    assert second.poll() is None  # it waits rather than failing
    (hold / "release").touch()
    assert first.wait(timeout=120) == 0
    assert second.wait(timeout=120) == 0, out.read_text()
    text = out.read_text()
    assert "Traceback" not in text
    assert [line for line in text.splitlines() if "waiting" in line] == [
        "another paperfeed process is writing the search index; waiting for it (up to 3600 s, "
        "PAPERFEED_INDEX_WAIT)"]
    assert "50 papers indexed" in text
    assert_all_findable(store, range(PAPERS + 50))


def test_a_second_writer_refuses_in_one_line_after_its_wait(
        store: Path, tmp_path: Path, holder: tuple[subprocess.Popen[str], Path]) -> None:
    first, hold = holder
    refused = cli(store, "reindex", extra_env={"PAPERFEED_INDEX_WAIT": "0.5"})
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "Traceback" not in refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "error: another paperfeed process kept the search index busy for 0.5 s"), lines
    (hold / "release").touch()
    assert first.wait(timeout=120) == 0
    assert_all_findable(store, range(PAPERS))
