"""A first page in minutes, with real processes: the quickstart indexes the newest papers
and stops (`--no-interactive`, as CI runs it); a later `paperfeed serve` finishes the
index in the background by itself; search says it is partial exactly while it is."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.serving import stop

ROOT = Path(__file__).resolve().parents[2]
DAYS, PER_DAY, FIRST = 6, 10, 20
PAPERS = DAYS * PER_DAY
NEWEST_WORD, OLDEST_WORD = "zqday0p0x", f"zqday{DAYS - 1}p0x"
PARTIAL = f"searching {FIRST} of {PAPERS} papers"


def _paper(day: int, i: int) -> str:
    listed = f"2025-03-{20 - day:02d}"  # day 0 is the newest
    arxiv = f"2503.{day * 100 + i:05d}"
    return json.dumps({
        "id": arxiv, "title": f"Paper zqday{day}p{i}x on graphs",
        "abstract": f"We study zqday{day}p{i}x and graph learning in depth.",
        "authors": ["Ada Lovelace"], "categories": ["cs.LG"], "comment": None,
        "first_seen_listing_date": listed, "abs": f"https://arxiv.org/abs/{arxiv}",
        "pdf": None}) + "\n"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "corpus" / "daily.jsonl"
    path.parent.mkdir()
    path.write_text("".join(_paper(d, i) for d in range(DAYS) for i in range(PER_DAY)))
    return path


@pytest.fixture
def env(card_tagger: Path) -> dict[str, str]:
    # The session's tagger: no minutes of training in the background job.
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
            "HF_HUB_OFFLINE": "1", "PAPERFEED_FIRST_PAPERS": str(FIRST),
            "PAPERFEED_CARD_TAGGER": str(card_tagger), "PAPERFEED_HARVEST_WHEN": "0 0 1 1 *",
            "PAPERFEED_SCHEDULE_POLL": "1"}


def cli(env: dict[str, str], data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.cli.first_page_cli", "--data-dir", str(data), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for(check: Callable[[], Any], timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except httpx.HTTPError:
            value = None
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout} s")


def search(client: httpx.Client, word: str) -> dict[str, Any]:
    answer = client.get("/api/v1/search", params={"q": word, "mode": "lexical"})
    assert answer.status_code == 200
    data: dict[str, Any] = answer.json()
    return data


def found(answer: dict[str, Any]) -> set[str]:
    return {r["paper"]["arxiv_id"] for r in answer["results"]}


@pytest.fixture
def server(env: dict[str, str]) -> Iterator[Callable[..., tuple[httpx.Client, Path]]]:
    """Start a server process over a data folder: `paperfeed serve` or an interactive
    quickstart; stopped (SIGTERM) at the end."""
    procs: list[subprocess.Popen[bytes]] = []
    clients: list[httpx.Client] = []

    def start(data: Path, *args: str, extra: dict[str, str] | None = None
              ) -> tuple[httpx.Client, Path]:
        port = free_port()
        log = data.parent / f"server-{port}.log"
        with log.open("wb") as out:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "tests.cli.first_page_cli", "--data-dir", str(data),
                 *args, "--port", str(port)],
                cwd=ROOT, env={**env, **(extra or {})}, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL))
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        clients.append(client)
        wait_for(lambda: client.get("/api/v1/health").status_code == 200)
        return client, log

    yield start
    for client in clients:
        client.close()
    for proc in procs:
        stop(proc)


def quickstart(env: dict[str, str], data: Path, corpus: Path) -> str:
    done = cli(env, data, "quickstart", "--corpus", str(corpus), "--no-interactive",
               "--port", "0")
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_quickstart_stops_after_the_newest_papers_and_serve_finishes_the_rest(
        tmp_path: Path, corpus: Path, env: dict[str, str], server: Any) -> None:
    data = tmp_path / "data"
    out = quickstart(env, data, corpus)
    # It checked the web app and says what is left and which command does it.
    assert "GET /api/v1/health -> 200" in out
    assert f"{FIRST} of {PAPERS} papers are searchable" in " ".join(out.split())
    assert "`paperfeed serve` does it in the background" in " ".join(out.split())

    # The newest papers are searchable, the oldest not yet; the CLI says so.
    searched = cli(env, data, "search", NEWEST_WORD, "--mode", "lexical", "--json")
    assert searched.returncode == 0, searched.stderr
    assert [r["arxiv_id"] for r in json.loads(searched.stdout)] == ["2503.00000"]
    assert PARTIAL in " ".join(searched.stderr.split())
    assert "the rest are queued for indexing" in " ".join(searched.stderr.split())
    assert json.loads(cli(env, data, "search", OLDEST_WORD, "--mode", "lexical",
                          "--json").stdout) == []

    # A server, no other command: its background job finishes the index. Held at its
    # first batch, the partial index shows in the API, the pages and the CLI.
    hold = tmp_path / "hold"
    hold.mkdir()
    client, log = server(data, "serve", extra={"PAPERFEED_TEST_HOLD_INDEX": str(hold)})
    wait_for(lambda: (hold / "started").exists())
    answer = search(client, NEWEST_WORD)
    assert (answer["indexed"], answer["papers"], answer["partial"]) == (FIRST, PAPERS, True)
    assert answer["index_note"] == f"{PARTIAL}; the rest are being indexed"
    assert found(search(client, OLDEST_WORD)) == set()
    page = client.get("/search", params={"q": NEWEST_WORD}).text
    assert f"{PARTIAL}; the rest are being indexed" in page
    stats = client.get("/api/v1/stats").json()
    assert stats["indexing"]["state"] == "running" and stats["indexing"]["step"] == "index"
    assert "Indexing in the background" in client.get("/stats").text
    during = cli(env, data, "search", NEWEST_WORD, "--mode", "lexical")
    assert f"{PARTIAL}; the rest are being indexed" in " ".join(during.stderr.split())

    (hold / "release").touch()
    wait_for(lambda: not search(client, OLDEST_WORD)["partial"])
    answer = search(client, OLDEST_WORD)
    assert found(answer) == {f"2503.{(DAYS - 1) * 100:05d}"}
    assert (answer["indexed"], answer["index_note"]) == (PAPERS, None)
    assert "searching" not in client.get("/search", params={"q": OLDEST_WORD}).text
    wait_for(lambda: client.get("/api/v1/stats").json()["indexing"] is None)
    assert client.get("/api/v1/stats").json()["health"] == "ok"
    after = cli(env, data, "search", OLDEST_WORD, "--mode", "lexical", "--json")
    assert "searching" not in after.stderr and len(json.loads(after.stdout)) == 1
    assert "index" in log.read_text()  # the bars of the background job in the terminal


def test_serve_without_its_schedule_leaves_a_partial_index_alone(
        tmp_path: Path, corpus: Path, env: dict[str, str], server: Any) -> None:
    data = tmp_path / "data"
    quickstart(env, data, corpus)
    client, _ = server(data, "serve", "--no-schedule")
    time.sleep(3)  # a background job, were one running, would have finished by now
    answer = search(client, NEWEST_WORD)
    assert (answer["indexed"], answer["partial"]) == (FIRST, True)
    # The quickstart queued the job; a server without its schedule leaves it queued.
    assert "the rest are queued for indexing" in answer["index_note"]


def test_the_interactive_quickstart_serves_first_and_indexes_the_rest_itself(
        tmp_path: Path, corpus: Path, env: dict[str, str], server: Any) -> None:
    data = tmp_path / "data"
    client, _ = server(data, "quickstart", "--corpus", str(corpus), "--interactive")
    wait_for(lambda: not search(client, OLDEST_WORD)["partial"])
    assert found(search(client, OLDEST_WORD)) == {f"2503.{(DAYS - 1) * 100:05d}"}
    wait_for(lambda: client.get("/api/v1/stats").json()["indexing"] is None)


def test_a_worker_finishes_the_index_for_web_servers_without_a_schedule(
        tmp_path: Path, corpus: Path, env: dict[str, str]) -> None:
    from paperfeed.application.backfill import coverage
    from paperfeed.catalog import Catalog
    from tests.index.conftest import FakeEmbedder

    data = tmp_path / "data"
    quickstart(env, data, corpus)
    with Catalog(data, embedder=FakeEmbedder()) as catalog:
        assert coverage(catalog).indexed == FIRST
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.cli.first_page_cli", "--data-dir", str(data), "worker"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with Catalog(data, embedder=FakeEmbedder()) as catalog:
            wait_for(lambda: not coverage(catalog).partial)
            assert coverage(catalog).indexed == PAPERS
    finally:
        stop(worker)
