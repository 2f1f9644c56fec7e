"""`paperfeed harvest` against the loopback arXiv stand-in: pages stored, checkpoint kept."""

from __future__ import annotations

import json
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

from typer.testing import CliRunner

from paperfeed.cli.app import ExitCode, app
from paperfeed.store import Store
from tests.sources.arxiv_standin import ArxivStandin, FakePaper, OaiRepository, Reply


def fake_papers(count: int) -> list[FakePaper]:
    start = date(2026, 11, 1)
    return [FakePaper(arxiv_id=f"2611.{i:05d}", title=f"Harvested paper {i}",
                      datestamp=start + timedelta(days=i % 5)) for i in range(1, count + 1)]


def test_harvest_stores_every_page_and_resumes_incrementally(tmp_path: Path) -> None:
    corpus = fake_papers(5)
    with ArxivStandin(OaiRepository(corpus, page_size=3)) as server:
        # One 503 first: the command retries after Retry-After and still gets everything.
        server.script(Reply(status=503, headers={"Retry-After": "1"}, body=b"busy"))
        result = CliRunner().invoke(app, [
            "--data-dir", str(tmp_path), "harvest", "--set", "cs", "--until", "2026-11-20",
            "--base-url", server.url, "--no-index", "--json"])
        assert result.exit_code == ExitCode.OK, result.output
        summary = json.loads(result.output[result.output.index("{"):])
        assert (summary["records"], summary["ingested"], summary["pages"]) == (5, 5, 2)
        assert summary["retries"] == 1
        # Polite: 3 s between requests, as the server saw them (arrival times jitter by
        # a millisecond around the client's own 3 s spacing, tested exactly elsewhere).
        times = [r.at for r in server.requests]
        assert all(b - a >= 2.95 for a, b in pairwise(times)), times
        # A second run starts from the checkpoint (the previous `until`, one day of overlap).
        first_requests = len(server.requests)
        result = CliRunner().invoke(app, [
            "--data-dir", str(tmp_path), "harvest", "--set", "cs", "--base-url", server.url,
            "--no-index", "--json"])
        assert result.exit_code == ExitCode.OK, result.output
        again = server.requests[first_requests]
        assert again.params.get("from") == "2026-11-19"
    with Store(tmp_path) as store:
        assert store.count() == 5
        assert store.find("2611.00003") is not None
        assert any(k.startswith("oai") for k in store.harvest_states())
