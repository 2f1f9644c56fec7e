"""kill -9 at any point of a catch-up loses nothing: the next run indexes what is missing.

Real processes: the `paperfeed` command (with the tests' instant embedder, tests/index/
fake_cli.py) SIGKILLs itself at a chosen point of `reindex --full` or of an ingest's
index phase; a second run must leave every stored paper findable by its own word and
`stats` must say that nothing waits. A killed `reindex --full` leaves the old generation
serving every paper (it writes a new one beside it) and the next `reindex` finishes it.
Before the index recorded its runs, a kill after the first batch of 2,048 left the rest
unindexed for good while `stats` said 0 pending.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from paperfeed.catalog import Catalog
from paperfeed.embed.model import paper_text

from .conftest import FakeEmbedder

ROOT = Path(__file__).resolve().parents[2]
PAPERS = 3_000  # two index batches of 2,048
CONSONANTS = "bcdfghjklmnpqrtvwxz"  # words the stemmer leaves alone


def word(i: int) -> str:
    """A word that only paper i has."""
    letters = ""
    while True:
        i, r = divmod(i, len(CONSONANTS))
        letters += CONSONANTS[r]
        if i == 0:
            return "zq" + letters


def write_papers(path: Path, numbers: range) -> Path:
    with path.open("w") as out:
        for i in numbers:
            out.write(json.dumps({
                "id": f"2401.{i:05d}", "authors": "Ada Lovelace, Alan Turing",
                "title": f"Paper {word(i)} on graphs", "categories": "cs.LG",
                "abstract": f"We study {word(i)} and other things in depth.",
                "versions": [{"version": "v1", "created": "Mon, 1 Jan 2024 10:00:00 GMT"}],
                "update_date": "2024-01-01"}) + "\n")
    return path


def cli(data_dir: Path, *args: str, kill_at: str | None = None,
        extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **(extra_env or {})}
    env.pop("PAPERFEED_TEST_KILL_AT", None)
    if kill_at:
        env["PAPERFEED_TEST_KILL_AT"] = kill_at
    return subprocess.run(
        [sys.executable, "-m", "tests.index.fake_cli", "--data-dir", str(data_dir), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)


def assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def stats(data_dir: Path) -> dict[str, object]:
    result = cli(data_dir, "stats", "--json")
    assert_ok(result)
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def assert_all_findable(data_dir: Path, numbers: range) -> None:
    """Each paper answers a lexical search for its own word, and dense search works."""
    with Catalog(data_dir, embedder=FakeEmbedder()) as catalog:
        ids = {p.record.arxiv_id: p.id for p in catalog.store.get_many(
            list(range(1, 10 * len(numbers))), details=False)}
        for i in numbers:
            hits = catalog.index.search(word(i), k=2, mode="lexical", highlight=False)
            assert [h.key for h in hits] == [ids[f"2401.{i:05d}"]], word(i)
        assert len(catalog.index) == catalog.store.count()
        # The dense side holds each paper's own vector (float16-rounded).
        summaries = list(catalog.store.iter_summaries())
        found, vectors = catalog.index.embeddings([s.id for s in summaries])
        assert found == [s.id for s in summaries]
        expected = FakeEmbedder().encode([paper_text(s.title, s.abstract) for s in summaries])
        np.testing.assert_allclose(vectors, expected, atol=2e-3)
    facts = stats(data_dir)
    index = facts["index"]
    assert isinstance(index, dict)
    assert index["pending"] == 0
    assert index["counts"]["papers"] == facts["papers"]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of PAPERS papers, nothing indexed."""
    folder = tmp_path_factory.mktemp("kill-template")
    data_dir = folder / "data"
    data_dir.mkdir()
    result = cli(data_dir, "ingest", "--no-index",
                 str(write_papers(folder / "papers.jsonl", range(PAPERS))))
    assert_ok(result)
    return data_dir


@pytest.fixture
def store(template: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(template, copy)
    return copy


@pytest.mark.parametrize("kill_at", ["encode:2", "lexical_commit:3", "manifest:2",
                                     "after_manifest:2"])
def test_reindex_full_killed_then_reindex_indexes_every_paper(store: Path, kill_at: str
                                                              ) -> None:
    assert_ok(cli(store, "reindex"))  # an index to rebuild
    killed = cli(store, "reindex", "--full", kill_at=kill_at)
    assert killed.returncode == -9, killed.stderr[-2000:]
    before = stats(store)["index"]
    assert isinstance(before, dict)
    # The old generation still serves every paper; the rebuild's own truth beside it:
    # what the dead run did not commit is pending there.
    assert before["counts"]["papers"] == PAPERS and before["pending"] == 0
    rebuilding = before["rebuilding"]
    assert isinstance(rebuilding, dict)
    indexed = rebuilding["indexed"]
    assert rebuilding["pending"] == PAPERS - indexed
    assert indexed < PAPERS or kill_at == "after_manifest:2"
    assert_all_findable(store, range(PAPERS))
    again = cli(store, "reindex")
    assert_ok(again)
    assert "interrupted: finishing it" in again.stdout
    # Only the missing papers are embedded again, not those the dead run committed.
    assert f"{PAPERS - indexed} papers indexed" in again.stdout
    assert_all_findable(store, range(PAPERS))
    assert stats(store)["index"]["rebuilding"] is None  # type: ignore[index]
    # The old generation is gone: one index folder, the one in use.
    assert not (store / "index").exists()
    assert [p.name for p in (store / "indexes").iterdir()] == ["gen-1"]


@pytest.mark.parametrize("kill_at", ["encode:1", "after_manifest:1"])
def test_ingest_killed_in_its_index_phase_then_ingest_again(store: Path, tmp_path: Path,
                                                            kill_at: str) -> None:
    assert_ok(cli(store, "reindex"))
    new = write_papers(tmp_path / "new.jsonl", range(PAPERS, PAPERS + 300))
    killed = cli(store, "ingest", str(new), kill_at=kill_at)
    assert killed.returncode == -9, killed.stderr[-2000:]
    pending = stats(store)["index"]
    assert isinstance(pending, dict)
    assert pending["pending"] == (300 if kill_at == "encode:1" else 0)
    assert_ok(cli(store, "ingest", str(new)))
    assert_all_findable(store, range(PAPERS + 300))


def test_a_killed_run_killed_again_still_converges(store: Path) -> None:
    assert cli(store, "reindex", kill_at="encode:2").returncode == -9
    assert cli(store, "reindex", kill_at="manifest:1").returncode == -9
    assert_ok(cli(store, "reindex"))
    assert_all_findable(store, range(PAPERS))
