"""Fresh while serving, with real processes: a harvest in another process reaches every
`paperfeed serve` worker's search, daily page, paper page (card) and feed, other workers'
votes reach trending, and the server's own scheduler puts the paper in the next digest.

Real parts only: `paperfeed serve` (one process, or `--workers 2`) over its own SQLite
store with the tests' instant embedder, `paperfeed harvest` as a separate process over
the loopback arXiv stand-in (tests/sources/arxiv_standin.py), an SMTP server on loopback
(aiosmtpd) for the server's mail. Each poll is bounded by the issue's 10 s freshness
bound (plus the digest job's own period), a correctness bound, not a speed claim.

With two workers the kernel spreads new connections over them (SO_REUSEPORT, by a hash
of the client's port): `on_every_worker` asks through WORKER_PROBES fresh connections,
so the chance that one worker was never asked is 2 ** -(WORKER_PROBES - 1).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.digest.conftest import Inbox
from tests.index.test_kill_recovery import ROOT, assert_ok, cli, word
from tests.pg import read_rows
from tests.serving import poll
from tests.signup import csrf, link_path, request_signup
from tests.smtp import loopback_smtp
from tests.sources.arxiv_standin import ArxivStandin, FakePaper, OaiRepository
from tests.web.test_freshness import OLD_DAY, found_ids, listing, write
from tests.web.test_serve import _free_port, _wait

pytestmark = [pytest.mark.slow, pytest.mark.sqlite_only]

FRESH = "zqharvestword"  # no paper of the store has it
NEW_ID = "2612.00999"
WORKER_PROBES = 12


@dataclass
class Server:
    url: str
    data: Path
    inbox: Inbox
    standin: ArxivStandin


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    """An SMTP server on loopback; the server under test sends all its mail there."""
    received = Inbox()
    with loopback_smtp(received) as port:
        yield received, port


@pytest.fixture(params=[1, 2], ids=["one-worker", "two-workers"])
def server(request: pytest.FixtureRequest, tmp_path: Path,
           inbox: tuple[Inbox, int]) -> Iterator[Server]:
    """`paperfeed serve --workers N` over 60 indexed papers, its digest job due every
    second (each user still waits for their own hour), mail to the loopback SMTP server;
    the arXiv stand-in serves one new cs.NE paper listed today."""
    data = tmp_path / "data"
    data.mkdir()
    assert_ok(cli(data, "ingest", str(write(tmp_path / "old.jsonl", [
        listing(i, word(i), OLD_DAY, "cs.LG") for i in range(60)]))))
    today = datetime.now(UTC).date()
    new = FakePaper(arxiv_id=NEW_ID, title=f"Harvested {FRESH} networks", datestamp=today,
                    categories="cs.NE",
                    abstract=f"We study {FRESH} and reach 91.2% accuracy on ImageNet.")
    received, smtp_port = inbox
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1",
           "PAPERFEED_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
           "PAPERFEED_DIGEST_WHEN": "every 1s", "PAPERFEED_SCHEDULE_POLL": "0.2",
           "PAPERFEED_HARVEST_WHEN": "0 0 1 1 *"}  # the test harvests itself
    env.pop("PAPERFEED_DATABASE_URL", None)
    with ArxivStandin(OaiRepository([new])) as standin:
        env["PAPERFEED_OAI_URL"] = standin.url
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.web.fake_serve", "--data-dir", str(data), "serve",
             "--port", str(port), "--workers", str(request.param)], cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait(url, proc)
            yield Server(url, data, received, standin)
        finally:
            proc.terminate()
            out, _ = proc.communicate(timeout=60)
            assert "Traceback" not in out, out[-3000:]


def harvest(server: Server) -> None:
    """`paperfeed harvest` (and its catch-up: index, cards, vocabulary) in another process."""
    today = datetime.now(UTC).date().isoformat()
    done = cli(server.data, "harvest", "--set", "cs", "--from", today, "--until", today,
               "--base-url", server.standin.url, "--json")
    assert_ok(done)
    summary = json.loads(done.stdout[done.stdout.index("{"):])
    assert (summary["ingested"], summary["indexed"]) == (1, 1), summary


def on_every_worker(check: Callable[[], bool]) -> bool:
    """`check` holds on WORKER_PROBES answers in a row, each over a new connection."""
    return all(check() for _ in range(WORKER_PROBES))


def sign_up_by_mail(browser: httpx.Client, received: Inbox, address: str) -> None:
    """Sign up through the form and the link the server mailed to the SMTP server."""
    assert request_signup(browser, address).status_code == 200
    deadline = time.monotonic() + 10
    while not received.to(address):
        assert time.monotonic() < deadline, "no sign-up mail"
        time.sleep(0.05)
    path = link_path(received.to(address)[-1], "/signup/confirm/")
    assert browser.post(path, data={"csrf_token": csrf(browser, path)}).status_code == 303


def test_a_harvest_in_another_process_reaches_every_worker(server: Server) -> None:
    url, today = server.url, datetime.now(UTC).date().isoformat()
    with httpx.Client(base_url=url, timeout=10) as browser:
        sign_up_by_mail(browser, server.inbox, "reader@example.org")
        browser.post("/onboarding/follow", data={
            "kind": "category", "value": "cs.NE", "csrf_token": csrf(browser, "/onboarding")})
        cookies = dict(browser.cookies)

        def feed() -> str:  # a new connection each time: any worker
            return httpx.get(f"{url}/feed", cookies=cookies, timeout=10).text

        # Every worker uses what caches once before the paper comes.
        for _ in range(WORKER_PROBES):
            assert found_ids(url, FRESH) == []
            assert httpx.get(f"{url}/daily", params={"date": today}).status_code == 200
            assert NEW_ID not in feed()
            httpx.get(f"{url}/api/v1/trending")
        papers_before = httpx.get(f"{url}/api/v1/stats").json()["papers"]

        harvest(server)

        poll("the harvested paper in /api/v1/search on every worker",
             lambda: on_every_worker(lambda: found_ids(url, FRESH) == [NEW_ID]))
        assert on_every_worker(lambda: found_ids(url, FRESH, "hybrid")[0] == NEW_ID)
        assert on_every_worker(lambda: found_ids(url, word(3)) == ["2503.00003"])
        assert on_every_worker(lambda: FRESH in httpx.get(
            f"{url}/daily", params={"date": today}).text)
        assert on_every_worker(lambda: httpx.get(f"{url}/api/v1/stats").json()["papers"]
                               == papers_before + 1)
        assert on_every_worker(lambda: NEW_ID in feed() and "in cs.NE, which you follow"
                               in feed())
        detail = httpx.get(f"{url}/api/v1/papers/arXiv:{NEW_ID}").json()
        assert FRESH in detail["title"] and detail["card"] is not None, detail
        assert "ImageNet" in detail["card"]["datasets"], detail["card"]
        assert on_every_worker(lambda: "ImageNet" in httpx.get(
            f"{url}/papers/arXiv:{NEW_ID}").text)

        # A vote through one worker is in every worker's trending.
        token = browser.get("/api/v1/session").json()["csrf_token"]
        voted = browser.post(f"/api/v1/papers/arXiv:{NEW_ID}/vote",
                             headers={"X-CSRF-Token": token})
        assert voted.status_code == 200 and voted.json()["votes"] == 1, voted.text

        def trending() -> list[tuple[str, int]]:
            items = httpx.get(f"{url}/api/v1/trending", timeout=10).json()["items"]
            return [(i["paper"]["arxiv_id"], i["votes"]) for i in items]

        poll("the vote in /api/v1/trending on every worker",
             lambda: on_every_worker(lambda: trending() == [(NEW_ID, 1)]))


@pytest.mark.parametrize("server", [1], indirect=True, ids=["one-worker"])
def test_the_servers_digest_job_sends_a_paper_harvested_by_another_process(
        server: Server) -> None:
    """The server's own scheduler (its digest job every second) picks with the server's
    index. The user turns the digest on only after the harvest: a run that found nothing
    new claims the user's day (at most one digest a period, `digest.send`), and the
    papers harvested later that day go out in the next day's digest instead."""
    address = "digest@example.org"

    def settings(frequency: str) -> None:
        answer = browser.post("/account/digest", data={
            "frequency": frequency, "hour": "0", "timezone": "UTC",
            "csrf_token": csrf(browser, "/account/digest")}, follow_redirects=True)
        assert answer.status_code == 200, answer.text[:500]

    def digest_runs() -> int:
        return int(read_rows(server.data, "SELECT count(*) FROM job_runs WHERE name = "
                                          "'digests' AND finished_at IS NOT NULL")[0][0])

    with httpx.Client(base_url=server.url, timeout=10) as browser:
        sign_up_by_mail(browser, server.inbox, address)
        browser.post("/onboarding/follow", data={
            "kind": "category", "value": "cs.NE", "csrf_token": csrf(browser, "/onboarding")})
        settings("off")
        # The server's digest job runs (and skips the user); its index and feed are used.
        runs = digest_runs()
        poll("two digest runs", lambda: digest_runs() >= runs + 2, within=20)
        assert found_ids(server.url, FRESH) == []
        assert NEW_ID not in browser.get("/feed").text

        harvest(server)
        settings("daily")  # due now: from 00:00 UTC

        poll("the digest", lambda: len(server.inbox.to(address)) == 2)
    assert len(server.inbox.to(address)) == 2  # the sign-up mail and one digest
    text = server.inbox.to(address)[-1].get_body(("plain",))
    assert text is not None, server.inbox.to(address)[-1]
    assert FRESH in text.get_content() and NEW_ID in text.get_content(), text.get_content()
