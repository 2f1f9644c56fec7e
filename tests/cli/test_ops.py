"""`paperfeed backup`, `restore` and `doctor` as an operator runs them: real processes.

The store: 300 papers (each with a word of its own, tests/index/test_kill_recovery.py)
and an account, ingested and indexed by the real command with the tests' instant
embedder (tests/index/fake_cli.py). A backup is taken while another process ingests
batch after batch; the restored store must hold what backup.json says, answer the same
searches, take the account's log-in over real HTTP, and catch up the rest. Each bad
destination or tampered backup is one line and a non-zero exit. `doctor` is run over
each kind of damage an operator may meet: it names it, `--repair` mends it, and a
second look is all ok.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from paperfeed.index.vocabulary import VOCABULARY_FILE
from paperfeed.store import Store
from paperfeed.store.models_cards import CardRow
from tests.index.test_kill_recovery import ROOT, word, write_papers
from tests.serving import fake_server, poll
from tests.signup import PASSWORD, csrf

pytestmark = pytest.mark.sqlite_only

PAPERS = 300
EMAIL = "ada@example.org"
BATCH = 40  # papers per ingest of the writer under load
QUERIES = [word(0), f"{word(7)} {word(123)}", f"{word(42)} {word(250)} {word(299)}"]

# A writer process: `paperfeed ingest` of one new batch after another until told to stop.
WRITER = """
import subprocess, sys, pathlib
data, folder = sys.argv[1], pathlib.Path(sys.argv[2])
for batch in sorted(folder.glob("batch*.jsonl"), key=lambda p: int(p.stem[5:])):
    if (folder / "stop").exists():
        break
    done = subprocess.run([sys.executable, "-m", "tests.index.fake_cli", "--data-dir", data,
                           "ingest", str(batch)], capture_output=True, text=True)
    if done.returncode or "Traceback" in done.stderr:
        sys.exit(f"ingest {batch} failed ({done.returncode}): {done.stderr[-2000:]}")
"""


def run(data_dir: Path, *args: str, stdin: str | None = None
        ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("PAPERFEED_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "tests.index.fake_cli", "--data-dir", str(data_dir), *args],
        cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=600,
        check=False)


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    return result


def one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """A refusal as the operator must see it: exit != 0, one line, no traceback."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for w in words:
        assert w in lines[0], lines[0]


def lexical_ids(data_dir: Path, query: str) -> list[str]:
    found = ok(run(data_dir, "search", query, "--mode", "lexical", "--json", "-k", "20"))
    return [hit["arxiv_id"] for hit in json.loads(found.stdout)]


def stats(data_dir: Path) -> dict[str, Any]:
    return json.loads(ok(run(data_dir, "stats", "--json")).stdout)  # type: ignore[no-any-return]


def paper_count(data_dir: Path) -> int:
    with Store(data_dir, url=f"sqlite:///{data_dir / 'paperfeed.sqlite'}") as store:
        return store.count()


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 indexed papers with cards and vocabulary, an account and a secret key."""
    folder = tmp_path_factory.mktemp("ops-source")
    data_dir = folder / "data"
    ok(run(data_dir, "ingest", str(write_papers(folder / "papers.jsonl", range(PAPERS)))))
    ok(run(data_dir, "account", "add", EMAIL, "--password-stdin", stdin=PASSWORD + "\n"))
    with Store(data_dir, url=f"sqlite:///{data_dir / 'paperfeed.sqlite'}") as store:
        store.secret_key()
    return data_dir


@pytest.fixture
def copy_of(source: Path, tmp_path: Path) -> Callable[[], Path]:
    def make() -> Path:
        target = tmp_path / f"data{len(list(tmp_path.glob('data*')))}"
        shutil.copytree(source, target)
        return target
    return make


@pytest.fixture
def writer(copy_of: Callable[[], Path], tmp_path: Path
           ) -> Iterator[tuple[Path, Callable[[], None]]]:
    """A copy of the store with a writer process ingesting into it; call the second item
    to stop the writer after its current batch (it must not have failed)."""
    data_dir = copy_of()
    batches = tmp_path / "batches"
    batches.mkdir()
    for k in range(30):
        first = 1000 + k * BATCH
        write_papers(batches / f"batch{k}.jsonl", range(first, first + BATCH))
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(data_dir), str(batches)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)

    def stop() -> None:
        (batches / "stop").touch()
        out, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0, out

    try:
        yield data_dir, stop
    finally:
        if proc.poll() is None:
            (batches / "stop").touch()
            proc.communicate(timeout=600)


def log_in_over_http(data_dir: Path) -> None:
    """Serve `data_dir` and log in with the account's password (and fail with a wrong one)."""
    with fake_server(data_dir) as url:
        with httpx.Client(base_url=url, timeout=60) as client:
            wrong = client.post("/login", data={"email": EMAIL, "password": "not it",
                                                "csrf_token": csrf(client, "/login")})
            assert wrong.status_code != 303
        with httpx.Client(base_url=url, timeout=60) as client:
            right = client.post("/login", data={"email": EMAIL, "password": PASSWORD,
                                                "csrf_token": csrf(client, "/login")})
            assert right.status_code == 303, right.text[:500]
            assert EMAIL in client.get("/account").text


def test_backup_under_write_load_restores_equal_counts_searches_and_log_ins(
        writer: tuple[Path, Callable[[], None]], tmp_path: Path) -> None:
    data_dir, stop_writer = writer
    before = {q: lexical_ids(data_dir, q) for q in QUERIES}
    assert all(before.values())
    # The backup starts while the writer is between or inside its ingests.
    poll("the writer's first batch", lambda: paper_count(data_dir) >= PAPERS + BATCH,
         within=300, every=0.2)
    backup = tmp_path / "backup"
    done = ok(run(data_dir, "backup", str(backup), "--json"))
    stop_writer()
    info = json.loads(done.stdout)
    assert info == json.loads((backup / "backup.json").read_text())
    assert info["store"]["papers"] >= PAPERS + BATCH
    assert info["index"]["papers"] <= info["store"]["papers"]
    assert info["secret_key"] == "file"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    # The source's searches over papers stored before the load: the load added none.
    assert {q: lexical_ids(data_dir, q) for q in QUERIES} == before

    restored = tmp_path / "restored"
    said = ok(run(restored, "restore", str(backup)))
    assert f"restored {info['store']['papers']:,} papers" in said.stdout
    assert paper_count(restored) == info["store"]["papers"]
    assert (restored / "secret_key").read_bytes() == (data_dir / "secret_key").read_bytes()
    assert {q: lexical_ids(restored, q) for q in QUERIES} == before
    # The next catch-up indexes whatever the snapshot holds beyond its index.
    ok(run(restored, "reindex"))
    facts = stats(restored)
    assert facts["index"]["pending"] == 0
    assert facts["index"]["counts"]["papers"] == facts["papers"] == info["store"]["papers"]
    newest = 1000 + (info["store"]["papers"] - PAPERS) // BATCH * BATCH - 1
    assert lexical_ids(restored, word(newest)) == [f"2401.{newest:05d}"]
    log_in_over_http(restored)


def test_backup_refuses_a_missing_parent_or_a_folder_that_is_not_empty(
        source: Path, tmp_path: Path) -> None:
    one_line_error(run(source, "backup", str(tmp_path / "gone" / "backup")),
                   "parent folder", "does not exist")
    one_line_error(run(tmp_path / "no-store", "backup", str(tmp_path / "backup")),
                   "no store")
    assert not (tmp_path / "no-store").exists() and not (tmp_path / "backup").exists()
    full = tmp_path / "full"
    full.mkdir()
    (full / "notes.txt").write_text("mine")
    one_line_error(run(source, "backup", str(full)), "not empty")
    assert [p.name for p in full.iterdir()] == ["notes.txt"]
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    one_line_error(run(source, "backup", str(a_file)), "not empty")
    # An empty folder is fine, and nothing is left beside it.
    empty = tmp_path / "empty"
    empty.mkdir()
    ok(run(source, "backup", str(empty)))
    assert (empty / "backup.json").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_restore_refuses_a_tampered_backup_and_a_data_folder_in_use(
        source: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    ok(run(source, "backup", str(backup)))
    # Not into a data folder that holds a store.
    one_line_error(run(source, "restore", str(backup)), "not empty")
    with (backup / "index" / "rows.i64").open("r+b") as handle:
        handle.seek(20)
        handle.write(b"\x07")
    target = tmp_path / "target"
    one_line_error(run(target, "restore", str(backup)), "rows.i64", "sha256")
    assert not target.exists() and not [p for p in tmp_path.iterdir()
                                         if p.name.startswith(".")]
    (backup / "backup.json").unlink()
    one_line_error(run(target, "restore", str(backup)), "backup.json is missing")


def _truncate_rows(data_dir: Path) -> None:
    rows = data_dir / "index" / "rows.i64"
    with rows.open("r+b") as handle:
        handle.truncate(rows.stat().st_size // 2)


def _delete_meta(data_dir: Path) -> None:
    (data_dir / "index" / "lexical" / "meta.json").unlink()


def _empty_manifest(data_dir: Path) -> None:
    (data_dir / "index" / "manifest.json").write_text("")


def _delete_card(data_dir: Path) -> None:
    with Store(data_dir, url=f"sqlite:///{data_dir / 'paperfeed.sqlite'}") as store, \
            Session(store.engine) as s, s.begin():
        victim = s.scalar(select(CardRow.paper_id).limit(1))
        s.execute(delete(CardRow).where(CardRow.paper_id == victim))


def _delete_vocabulary(data_dir: Path) -> None:
    (data_dir / "index" / VOCABULARY_FILE).unlink()


def _delete_secret_key(data_dir: Path) -> None:
    (data_dir / "secret_key").unlink()


@pytest.mark.parametrize(("damage", "check"), [
    (_truncate_rows, "index files"), (_delete_meta, "index files"),
    (_empty_manifest, "index files"), (_delete_card, "cards"),
    (_delete_vocabulary, "vocabulary"), (_delete_secret_key, "secret key")])
def test_doctor_names_the_damage_repairs_it_and_then_finds_all_ok(
        copy_of: Callable[[], Path], damage: Callable[[Path], None], check: str) -> None:
    data_dir = copy_of()
    checks = json.loads(ok(run(data_dir, "doctor", "--json")).stdout)
    assert all(c["ok"] for c in checks), checks
    damage(data_dir)
    found = run(data_dir, "doctor", "--json")
    assert found.returncode == 1 and "Traceback" not in found.stderr, found.stderr
    problems = {c["check"] for c in json.loads(found.stdout) if not c["ok"]}
    assert check in problems, problems
    ok(run(data_dir, "doctor", "--repair"))
    again = json.loads(ok(run(data_dir, "doctor", "--json")).stdout)
    assert all(c["ok"] for c in again), again
    assert lexical_ids(data_dir, word(123)) == ["2401.00123"]
