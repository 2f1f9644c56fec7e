"""A full rebuild and other processes' writes while `paperfeed serve` answers searches.

Real processes on loopback: `paperfeed serve` over a small SQLite store (the tests'
instant embedder, tests/index/fake_cli.py), a thread asking `/api/v1/search` in a loop,
and `paperfeed reindex --full` (held inside its first batch, or SIGKILLed) in another
process. Issue 14's probe: every search answered 500 during a rebuild ("mmap length is
greater than file size"), the next server import added `(0,0)` rows, and after a server
import a CLI ingest plus an update made a search return the *other* paper.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from paperfeed.catalog import Catalog
from tests.index.conftest import FakeEmbedder
from tests.index.test_kill_recovery import ROOT, assert_ok, cli, stats, word
from tests.jobs import wait_for_job
from tests.serving import fake_server, poll
from tests.signup import csrf, sign_up
from tests.web.test_freshness import OLD_DAY, found_ids, listing, write

pytestmark = [pytest.mark.slow, pytest.mark.sqlite_only]

PAPERS = 60
RENAMED = "zqrenamedword"  # paper 5's new title word, stored before the rebuild


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`paperfeed serve` over PAPERS indexed papers in a SQLite store of its own."""
    data = tmp_path / "data"
    data.mkdir()
    assert_ok(cli(data, "ingest", str(write(tmp_path / "old.jsonl", [
        listing(i, word(i), OLD_DAY, "cs.LG") for i in range(PAPERS)]))))
    with fake_server(data, "--no-schedule") as url:
        yield url, data


@dataclass
class Searcher:
    """Asks the server for an old paper's word, lexical and hybrid, until stopped; keeps
    every answer that was not exactly that paper."""

    url: str
    asked: int = 0
    wrong: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while not self._stop.is_set():
                for mode in ("lexical", "hybrid"):
                    answer = client.get("/api/v1/search", params={"q": word(3), "mode": mode})
                    self.asked += 1
                    if answer.status_code != 200:
                        self.wrong.append(f"{mode}: {answer.status_code} {answer.text[:200]}")
                        continue
                    ids = [h["paper"]["arxiv_id"] for h in answer.json()["results"]]
                    if not ids or ids[0] != "2503.00003":
                        self.wrong.append(f"{mode}: {ids}")

    def __enter__(self) -> Searcher:
        self._thread = threading.Thread(target=self.run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)


def version_2(number: int, title_word: str) -> dict[str, object]:
    """A newer arXiv version of a listed paper (the snapshot format): its text wins."""
    return {"id": f"2503.{number:05d}", "title": f"Paper {title_word} revised",
            "abstract": f"We revisit {title_word} at length.", "authors": "Ada Lovelace",
            "categories": "cs.LG", "update_date": "2025-03-25",
            "versions": [{"version": "v1", "created": "Thu, 20 Mar 2025 10:00:00 GMT"},
                         {"version": "v2", "created": "Tue, 25 Mar 2025 10:00:00 GMT"}]}


def rename_paper_5(data: Path, tmp_path: Path) -> None:
    """Store a new version of paper 5 without indexing it: only the rebuild indexes it."""
    result = cli(data, "ingest", "--no-index",
                 str(write(tmp_path / "renamed.jsonl", [version_2(5, RENAMED)])))
    assert_ok(result)
    assert "1 changed them" in " ".join(result.stdout.split()), result.stdout


def fake_cli(data: Path, *args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.index.fake_cli", "--data-dir", str(data), *args],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)


def index_matches_store(data: Path) -> None:
    """Every stored paper once in the index, nothing else, each found by its own word."""
    with Catalog(data, embedder=FakeEmbedder(), read_only=True) as catalog:
        assert catalog.index.keys() == {s.id for s in catalog.store.iter_summaries()}
        assert len(catalog.index) == catalog.store.count()


def test_a_full_rebuild_while_serving_never_fails_a_search(
        served: tuple[str, Path], tmp_path: Path) -> None:
    url, data = served
    rename_paper_5(data, tmp_path)
    hold = tmp_path / "hold"
    hold.mkdir()
    with Searcher(url) as searcher:
        rebuild = fake_cli(data, "reindex", "--full", env={"PAPERFEED_TEST_HOLD": str(hold)})
        poll("the rebuild's first batch", lambda: (hold / "started").exists(), within=120)
        # Held inside the rebuild: the server answers from the old generation.
        asked = searcher.asked
        poll("searches during the rebuild", lambda: searcher.asked >= asked + 20, within=60)
        assert found_ids(url, RENAMED) == []  # not yet: the old generation
        (hold / "release").touch()
        out, _ = rebuild.communicate(timeout=300)
        assert rebuild.returncode == 0 and "Traceback" not in out, out[-2000:]
        # Then it follows the new generation: paper 5 is found by its new words.
        poll("the rebuilt index on the server",
             lambda: found_ids(url, RENAMED) == ["2503.00005"])
        assert found_ids(url, RENAMED, "hybrid")[0] == "2503.00005"
    assert searcher.asked > 40 and searcher.wrong == [], searcher.wrong[:5]
    assert not (data / "index").exists()  # the old generation is deleted

    # A server-side import after the CLI's rebuild: appended to the new generation at
    # its true row count, no (0,0) rows (the probe's index 3,234 vs 3,233 papers).
    with httpx.Client(base_url=url, timeout=30) as browser:
        sign_up(browser, data / "outbox", "reader@example.org")
        entry = ("@article{up, title={An uploaded zqupload paper}, author={Doe, Jane},\n"
                 "  eprint={2612.00042}, archivePrefix={arXiv}, abstract={Text.}}\n")
        job = wait_for_job(browser, browser.post("/onboarding/import", data={
            "csrf_token": csrf(browser, "/onboarding")},
            files={"file": ("up.bib", entry.encode())}))
        assert job["state"] == "done", job
    assert found_ids(url, "zqupload") == ["2612.00042"]
    assert found_ids(url, word(3)) == ["2503.00003"]
    index_matches_store(data)
    facts = stats(data)["index"]
    assert isinstance(facts, dict)
    assert facts["pending"] == 0 and facts["counts"]["papers"] == PAPERS + 1


def test_a_rebuild_killed_midway_leaves_the_old_generation_serving(
        served: tuple[str, Path], tmp_path: Path) -> None:
    url, data = served
    rename_paper_5(data, tmp_path)
    with Searcher(url) as searcher:
        killed = cli(data, "reindex", "--full", kill_at="after_manifest:1")
        assert killed.returncode == -9, killed.stderr[-2000:]
        asked = searcher.asked
        poll("searches after the kill", lambda: searcher.asked >= asked + 20, within=60)
        assert found_ids(url, RENAMED) == []  # still the old generation
        facts = stats(data)["index"]
        assert isinstance(facts, dict)
        assert facts["pending"] == 1 and facts["rebuilding"] == {"indexed": PAPERS,
                                                                 "pending": 0}
        again = cli(data, "reindex")
        assert_ok(again)
        assert "interrupted: finishing it" in again.stdout
        poll("the finished rebuild on the server",
             lambda: found_ids(url, RENAMED) == ["2503.00005"])
    assert searcher.wrong == [], searcher.wrong[:5]
    facts = stats(data)["index"]
    assert isinstance(facts, dict)
    assert facts["pending"] == 0 and facts["rebuilding"] is None
    index_matches_store(data)


# --- probe (d): wrong-paper hits after the server has written once --------------------

ALPHA, BETA = "zqalpha", "zqbeta"  # paper A's word (new), paper B's new word (an update)


def cli_ids(data: Path, query: str, mode: str) -> list[str]:
    result = cli(data, "search", query, "--mode", mode, "--json", "-k", "3")
    assert_ok(result)
    return [hit["arxiv_id"] for hit in json.loads(result.stdout)]


def assert_right_papers(url: str, data: Path, wanted: dict[str, str]) -> None:
    """Each word finds exactly its paper: lexically the only hit, densely and hybrid the
    first one; from the server and from a new CLI process alike."""
    for query, arxiv_id in wanted.items():
        for mode in ("lexical", "dense", "hybrid"):
            for who, ids in (("server", found_ids(url, query, mode)),
                             ("cli", cli_ids(data, query, mode))):
                got = ids if mode == "lexical" else ids[:1]
                assert got == [arxiv_id], f"{who} {mode} {query}: {ids}"


def import_on_the_server(url: str, data: Path, arxiv_id: str, word_: str) -> None:
    """An onboarding upload of one new paper: the server's own import job writes the index."""
    with httpx.Client(base_url=url, timeout=30) as browser:
        sign_up(browser, data / "outbox", f"{word_}@example.org")
        entry = (f"@article{{up, title={{{word_} {word_}}}, author={{Doe, Jane}},\n"
                 f"  eprint={{{arxiv_id}}}, archivePrefix={{arXiv}}, "
                 f"abstract={{{word_} {word_} {word_}.}}}}\n")
        job = wait_for_job(browser, browser.post("/onboarding/import", data={
            "csrf_token": csrf(browser, "/onboarding")},
            files={"file": ("up.bib", entry.encode())}))
        assert job["state"] == "done", job


def test_no_wrong_paper_hits_after_server_and_cli_writes(
        served: tuple[str, Path], tmp_path: Path) -> None:
    url, data = served
    import_on_the_server(url, data, "2612.00001", "zqfirstupload")
    # A: a new paper whose text is (nearly) only its word, so the dense side ranks it first.
    paper_a = {**listing(900, ALPHA, OLD_DAY, "cs.LG"), "title": f"{ALPHA} {ALPHA}",
               "abstract": f"{ALPHA} {ALPHA} {ALPHA}."}
    assert_ok(cli(data, "ingest", str(write(tmp_path / "a.jsonl", [paper_a]))))
    b = version_2(7, BETA)
    b.update(title=f"{BETA} {BETA}", abstract=f"{BETA} {BETA} {BETA}.")
    updated = cli(data, "ingest", str(write(tmp_path / "b.jsonl", [b])))
    assert_ok(updated)
    assert "1 changed them" in " ".join(updated.stdout.split())
    wanted = {ALPHA: "2503.00900", BETA: "2503.00007", "zqfirstupload": "2612.00001"}
    poll("the CLI's papers on the server", lambda: found_ids(url, BETA) == ["2503.00007"])
    assert_right_papers(url, data, wanted)
    assert found_ids(url, word(7)) == []  # B's old text is gone
    # The server writes again after the CLI's commits: at the true row count, so every
    # earlier paper keeps its rows; an incremental reindex changes nothing.
    import_on_the_server(url, data, "2612.00002", "zqsecondupload")
    assert_ok(cli(data, "reindex"))
    assert_right_papers(url, data, {**wanted, "zqsecondupload": "2612.00002"})
    index_matches_store(data)
