"""/metrics and `--log-json` on a real `paperfeed serve` process over loopback.

The server runs the real command with the tests' instant embedder
(tests/index/fake_cli.py) over a SQLite store of its own (`sqlite_only`: the web
suite's PostgreSQL run would repeat it unchanged). Other processes change the store
meanwhile (a CLI ingest, a reindex, the server's own failing scheduled harvest), and
the scrape follows; the poll loops wait out the status cache (a few seconds).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from paperfeed.application.status import service_status
from paperfeed.catalog import Catalog
from paperfeed.clock import utc_now
from paperfeed.store.digests import DigestStore
from paperfeed.store.schedule import FAILED, OK, Schedule
from tests.index.conftest import FakeEmbedder
from tests.index.test_kill_recovery import ROOT, assert_ok, cli, word
from tests.serving import poll
from tests.sources.arxiv_standin import ArxivStandin, Reply
from tests.web.test_freshness import listing, write
from tests.web.test_serve import _free_port, _wait

pytestmark = pytest.mark.slow

TOKEN = "a-scrape-token-for-the-test"
PAPER_ROUTE = "/api/v1/papers/{ref:path}"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@dataclass
class Server:
    url: str
    data: Path
    proc: subprocess.Popen[str]


def scrape(url: str, token: str | None = TOKEN) -> Samples:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = httpx.get(f"{url}/metrics", headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["content-type"].startswith("text/plain")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(answer.text)
            for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """`paperfeed serve --log-json` over 20 indexed papers, scheduling a harvest every
    second from an OAI endpoint that answers 404 (a failed run each time)."""
    data = tmp_path / "data"
    data.mkdir()
    assert_ok(cli(data, "ingest", str(write(tmp_path / "old.jsonl", [
        listing(i, word(i), "2025-03-20", "cs.LG") for i in range(20)]))))
    with ArxivStandin(lambda request: Reply(status=404, body=b"no such endpoint")) as oai:
        port = _free_port()
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1",
               "PAPERFEED_METRICS_TOKEN": TOKEN, "PAPERFEED_OAI_URL": oai.url,
               "PAPERFEED_HARVEST_WHEN": "every 1s", "PAPERFEED_HARVEST_JITTER": "0",
               "PAPERFEED_SCHEDULE_POLL": "0.2"}
        env.pop("PAPERFEED_DATABASE_URL", None)
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.index.fake_cli", "--data-dir", str(data), "serve",
             "--port", str(port), "--log-json"], cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            _wait(f"http://127.0.0.1:{port}", proc)
            yield Server(f"http://127.0.0.1:{port}", data, proc)
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.communicate(timeout=120)


@pytest.mark.sqlite_only
def test_metrics_follow_requests_the_store_the_index_and_the_jobs(
        server: Server, tmp_path: Path) -> None:
    url = server.url
    assert httpx.get(f"{url}/metrics").status_code == 403  # the token is set: none, no scrape
    assert httpx.get(f"{url}/metrics", headers={"Authorization": "Bearer wrong"}
                     ).status_code == 403
    first = scrape(url)
    before = value(first, "paperfeed_http_requests_total", route=PAPER_ROUTE, method="GET",
                   status="2xx")
    for i in (1, 2, 3):
        assert httpx.get(f"{url}/api/v1/papers/arXiv:2503.{i:05d}").status_code == 200
    assert httpx.get(f"{url}/api/v1/papers/arXiv:2503.99999").status_code == 404
    after = scrape(url)
    assert value(after, "paperfeed_http_requests_total", route=PAPER_ROUTE, method="GET",
                 status="2xx") == before + 3
    assert value(after, "paperfeed_http_requests_total", route=PAPER_ROUTE, method="GET",
                 status="4xx") == 1
    assert value(after, "paperfeed_http_request_duration_seconds_count", route=PAPER_ROUTE,
                 method="GET", status="2xx") == before + 3
    # Bounded labels: the route template, never the paper asked for.
    assert not any("2503." in v for _, labels in after for _, v in labels)

    stats = httpx.get(f"{url}/api/v1/stats").json()
    assert value(after, "paperfeed_papers") == stats["papers"] == 20
    assert value(after, "paperfeed_papers_indexed") == 20
    assert value(after, "paperfeed_index_pending_papers") == 0
    assert value(after, "paperfeed_index_commit_age_seconds") >= 0
    assert ("paperfeed_harvest_age_seconds", frozenset()) not in after  # never harvested

    # The scheduled harvest fails (404) each second: counted from the store's job_runs.
    poll("a failed harvest in /metrics", within=60, every=0.3, check=lambda: value(
        scrape(url), "paperfeed_job_failures_total", job="harvest") >= 1)
    failed = scrape(url)
    assert value(failed, "paperfeed_job_runs_total", job="harvest", outcome="failed") >= 1
    assert value(failed, "paperfeed_job_runs_total", job="harvest", outcome="ok") == 0

    # Index lag: another process stores a paper without indexing it, then reindexes.
    assert_ok(cli(server.data, "ingest", "--no-index", str(write(
        tmp_path / "new.jsonl", [listing(500, "zqlagword", "2025-03-21", "cs.LG")]))))
    poll("the unindexed paper as index lag", within=60, every=0.3, check=lambda: value(
        scrape(url), "paperfeed_index_pending_papers") == 1)
    lagging = scrape(url)
    assert value(lagging, "paperfeed_papers") == 21
    assert value(lagging, "paperfeed_papers_indexed") == 20
    assert_ok(cli(server.data, "reindex"))
    poll("the index caught up in /metrics", within=60, every=0.3, check=lambda: value(
        scrape(url), "paperfeed_index_pending_papers") == 0)
    assert value(scrape(url), "paperfeed_papers_indexed") == 21

    # --log-json: every line on stderr is one JSON object with the common fields.
    server.proc.send_signal(signal.SIGTERM)
    _, err = server.proc.communicate(timeout=120)
    assert server.proc.returncode == 0, err[-3000:]
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    access = [line for line in lines if line["logger"] == "paperfeed.access"]
    paper = [line for line in access if line["route"] == PAPER_ROUTE]
    assert len(paper) == 4 and {line["status"] for line in paper} == {200, 404}
    assert all(line["method"] == "GET" and line["duration_ms"] >= 0 for line in paper)
    jobs = [line for line in lines if line.get("job") == "harvest"]
    assert jobs and all(line["outcome"] == "failed" and line["level"] == "WARNING"
                        for line in jobs)
    assert any(line["logger"].startswith("uvicorn") for line in lines)  # uvicorn's own too


def test_status_reads_harvests_job_runs_and_digest_sends_from_the_store(
        tmp_path: Path, database: str) -> None:
    """The figures behind the gauges, from a real store of its own (a fresh database on
    the PostgreSQL run, not the web suite's shared one; no server needed)."""
    with Catalog(tmp_path / "data", embedder=FakeEmbedder()) as catalog:
        from paperfeed.accounts import Accounts

        user = Accounts(catalog.store).sign_up("reader@example.org", "a long enough password")
        now = utc_now()
        schedule = Schedule(catalog.store)
        schedule.record_run("harvest", "a", now - timedelta(hours=2), now, OK)
        schedule.record_run("harvest", "b", now - timedelta(hours=1), now, FAILED, error="x")
        schedule.record_run("digests", "a", now, now, OK)
        catalog.store.save("oai-harvest|http://x/oai|arXiv|cs", {"in_progress": None})
        catalog.store.save("loaded-file:/x.jsonl", {"size": 1})  # not a harvest
        digests = DigestStore(catalog.store)
        claimed = digests.claim(user.id, "2026-12-01", [], "<m@x>", now=now)
        assert claimed is not None  # nothing to send: an "empty" run
        status = service_status(catalog, now=now + timedelta(seconds=90))
    assert status.job_runs == {("harvest", "ok"): 1, ("harvest", "failed"): 1,
                               ("digests", "ok"): 1}
    assert status.digest_runs == {"empty": 1}
    assert status.harvest_age is not None and 80 <= status.harvest_age <= 3600
    assert status.papers == status.indexed == status.pending == 0
