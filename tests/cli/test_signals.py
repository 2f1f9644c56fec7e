"""SIGTERM stops `paperfeed serve` (one process or several) and `paperfeed worker`
cleanly: the request in flight is answered, the job run in hand is finished and
recorded, and the process exits 0. Real processes, real HTTP on loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from paperfeed.store import Store
from tests.index.test_kill_recovery import ROOT, assert_ok, cli, stats, word
from tests.pg import read_rows
from tests.serving import poll
from tests.signup import csrf
from tests.sources.arxiv_standin import (
    ArxivStandin,
    FakePaper,
    OaiRepository,
    Reply,
    SeenRequest,
)
from tests.web.test_freshness import listing, write
from tests.web.test_serve import _free_port, _wait

pytestmark = pytest.mark.slow


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1", **extra}
    env.pop("PAPERFEED_DATABASE_URL", None)  # each test has a SQLite store of its own
    return env


def _post_slowly(port: int, path: str, cookie: str, body: bytes) -> socket.socket:
    """Open a POST and send its headers and half its body: a request in flight."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=120)
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    sock.sendall(head + body[: len(body) // 2])
    return sock


def _finish(sock: socket.socket, rest: bytes) -> bytes:
    sock.sendall(rest)
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
        if b"</html>" in answer:
            break
    sock.close()
    return answer


def test_sigterm_answers_the_request_in_flight_and_finishes_the_harvest_in_hand(
        tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    assert_ok(cli(data, "ingest", str(write(tmp_path / "old.jsonl", [
        listing(i, word(i), "2025-03-20", "cs.LG") for i in range(10)]))))
    today = date.today()
    corpus = [FakePaper(arxiv_id=f"2612.{i:05d}", title=f"Harvested paper {word(100 + i)}",
                        datestamp=today - timedelta(days=1)) for i in range(1, 5)]
    repository = OaiRepository(corpus, page_size=1)

    def slow(request: SeenRequest) -> Reply:
        time.sleep(1.0)  # a page takes a second: the run is in hand for several
        return repository(request)

    with ArxivStandin(slow) as oai:
        port = _free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.index.fake_cli", "--data-dir", str(data), "serve",
             "--port", str(port)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, env=_env(PAPERFEED_OAI_URL=oai.url, PAPERFEED_HARVEST_WHEN="every 1s",
                                PAPERFEED_HARVEST_JITTER="0", PAPERFEED_SCHEDULE_POLL="0.2",
                                PAPERFEED_HARVEST_MIN_INTERVAL="0"))
        url = f"http://127.0.0.1:{port}"
        try:
            _wait(url, proc)
            with httpx.Client(base_url=url, timeout=60) as browser:
                token = csrf(browser, "/reset")
                cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
            body = urlencode({"email": "someone@example.org", "csrf_token": token}).encode()
            poll("the scheduled harvest in hand", lambda: len(oai.requests) >= 1, within=120)
            sock = _post_slowly(port, "/reset", cookie, body)
            time.sleep(0.5)  # let the server read the headers and start the request
            proc.send_signal(signal.SIGTERM)
            time.sleep(1.0)
            assert proc.poll() is None, "the server left before its request was answered"
            answer = _finish(sock, body[len(body) // 2:])
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=180)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
    assert proc.returncode == 0, out[-3000:]
    assert "Traceback" not in out, out[-3000:]
    runs = read_rows(data, "SELECT name, finished_at, outcome, counts FROM job_runs")
    harvests = [r for r in runs if r[0] == "harvest"]
    assert harvests, runs
    # The run in hand at SIGTERM went to its end: recorded ok, none left "running".
    assert all(r[1] is not None and r[2] == "ok" for r in harvests), harvests
    assert json.loads(harvests[0][3])["ingested"] == len(corpus)
    facts = stats(data)
    assert facts["papers"] == 10 + len(corpus)
    assert facts["index"]["pending"] == 0  # the run's catch-up finished too


def _requests_of(url: str, route: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=30).text
    return sum(s.value for family in text_string_to_metric_families(text)
               for s in family.samples
               if s.name == "paperfeed_http_requests_total" and s.labels["route"] == route)


def test_workers_share_their_counters_and_all_stop_on_sigterm(tmp_path: Path) -> None:
    data = tmp_path / "data"
    Store(data).close()  # empty: the workers start without loading a model
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "paperfeed", "--data-dir", str(data), "serve", "--port",
         str(port), "--workers", "2", "--no-schedule"], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, env=_env())
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url, proc)
        before = _requests_of(url, "/api/v1/stats")
        for _ in range(12):  # a new connection each: the kernel spreads them over workers
            assert httpx.get(f"{url}/api/v1/stats", timeout=30).status_code == 200
        # Whichever worker answers the scrape counts every worker's requests.
        for _ in range(4):
            assert _requests_of(url, "/api/v1/stats") == before + 12
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=180)
    assert proc.returncode == 0, out[-3000:]
    assert "Traceback" not in out, out[-3000:]


def test_worker_logs_json_lines_and_stops_on_sigterm(tmp_path: Path) -> None:
    data = tmp_path / "data"
    Store(data).close()
    with ArxivStandin(lambda request: Reply(status=404, body=b"gone")) as oai:
        proc = subprocess.Popen(
            [sys.executable, "-m", "paperfeed", "--data-dir", str(data), "worker",
             "--log-json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=_env(PYTHONPATH=os.environ.get("PYTHONPATH", ""), PAPERFEED_OAI_URL=oai.url,
                     PAPERFEED_HARVEST_WHEN="every 1s", PAPERFEED_HARVEST_JITTER="0",
                     PAPERFEED_SCHEDULE_POLL="0.1"))
        try:
            poll("a failed harvest run", lambda: read_rows(
                data, "SELECT count(*) FROM job_runs WHERE outcome = 'failed'")[0][0] >= 1,
                 within=120)
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-3000:]
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]
    runs = [line for line in lines if line.get("job") == "harvest"]
    assert runs, lines
    for line in runs:
        assert {"time", "level", "logger", "message", "run_id", "duration_ms"} <= set(line)
        assert line["outcome"] == "failed" and "HTTP 404" in line["message"]
