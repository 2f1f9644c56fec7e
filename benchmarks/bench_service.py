"""The service benchmark (issue 14): freshness lag, and search while a harvest runs.

What it measures, in one run
    A store of --papers real arXiv papers (the cs daily listings, ../shared/data), made in a
    temp folder, served by a real `paperfeed serve --no-schedule` process. Then:

    1. Freshness lag: --ingests times a separate `paperfeed ingest` of one new paper; the
       lag is from its index commit (manifest.json's mtime) to the first
       `/api/v1/search` answer on the server holding it (`bench_freshness.measure_lags`).
       Prints p50, p95 and max.
    2. Search under a harvest: one client calls `/api/v1/search` (hybrid, the default
       mode: the server embeds each query) in a loop, 50 ms apart
       (`bench_import_load.Probe`), for --idle seconds on the idle server, then for as long
       as a separate `paperfeed harvest` of --harvest papers (the next papers of the
       listings, dated today) from the loopback arXiv stand-in
       (tests/sources/arxiv_standin.py, pages of 500, 3 s apart as the client insists)
       and its catch-up (index, cards, vocabulary) run. Prints p50/p95/max of each phase
       and the ratio harvesting/idle.
    3. With --first-page, the time from an empty data folder to the first answer of a
       quickstart (`bench_first_page.measure_first_page`, the real model, the 74,728-paper
       corpus); then backup (and restore) time and size of --backup-store
       (`bench_backup.measure_backup`, opened read-only; default the benchmark's store).

    The embedder: the tests' instant one (tests/index/fake_cli.py) by default, so that
    embedding time does not hide the lag; --real-embedder uses the real model (the
    ONNX MiniLM export; the harvest's catch-up then embeds every harvested paper, and
    every hybrid query is embedded by the server) in the server and in every CLI process.

How to run (from the repository root)
        PYTHONPATH=src .venv/bin/python benchmarks/bench_service.py
        PYTHONPATH=src .venv/bin/python benchmarks/bench_service.py --real-embedder \\
            --papers 5000 --harvest 3000 --ingests 20 --first-page \\
            --backup-store ~/.local/share/paperfeed
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.sources.arxiv_standin: the tests' loopback stand-in
from tests.sources.arxiv_standin import ArxivStandin, FakePaper, OaiRepository  # noqa: E402

from bench_freshness import free_port, measure_lags  # noqa: E402
from bench_import_load import Probe, summary  # noqa: E402

DAILY = ROOT.parent / "shared" / "data" / "arxiv-daily-cs" / "arxiv_daily_cs_unique.jsonl.gz"
SEARCH = "/api/v1/search?q=token+pruning+for+vision+transformers"
PAGE = 500
FIRST_NEW = 90_000  # bench_freshness's papers get arXiv ids 2503.90000 up: none is real


class Paperfeed:
    """The `paperfeed` command, with the instant embedder or the real one."""

    def __init__(self, real: bool) -> None:
        self.prefix = [sys.executable, "-m", "paperfeed" if real else "tests.index.fake_cli"]
        self.env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        self.env.pop("PAPERFEED_DATABASE_URL", None)  # the store's own SQLite file
        if real and "PAPERFEED_MODEL_CACHE" not in self.env:
            from paperfeed.embed.model import default_cache_dir

            # The user's model export, not a new one in the throw-away data folder.
            self.env["PAPERFEED_MODEL_CACHE"] = str(default_cache_dir())

    def run(self, data: Path, *args: str) -> str:
        done = subprocess.run([*self.prefix, "--data-dir", str(data), *args], cwd=ROOT,
                              env=self.env, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"paperfeed {args[0]} failed:\n{done.stdout[-2000:]}"
                             f"{done.stderr[-2000:]}")
        return done.stdout

    def serve(self, data: Path, port: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [*self.prefix, "--data-dir", str(data), "serve", "--port", str(port),
             "--no-schedule"], cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT)


def wait_ready(url: str, server: subprocess.Popen[bytes]) -> float:
    started = time.monotonic()
    while True:
        if server.poll() is not None:
            raise SystemExit("the server stopped while starting")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        if time.monotonic() - started > 600:
            raise SystemExit("the server did not start within 10 min")
        time.sleep(0.2)


def listings(skip: int, count: int) -> list[dict[str, Any]]:
    with gzip.open(DAILY, "rt", encoding="utf-8") as src:
        return [json.loads(line) for line in islice(src, skip, skip + count)]


def harvested(papers: list[dict[str, Any]], today: date) -> list[FakePaper]:
    """The papers as the stand-in serves them: arXiv's OAI format, dated today."""
    return [FakePaper(arxiv_id=p["id"], title=p["title"], datestamp=today,
                      categories=" ".join(p.get("categories") or ["cs.LG"]),
                      abstract=p.get("abstract") or "No abstract.") for p in papers]


def searching(url: str, seconds: float | None = None,
              until: threading.Event | None = None) -> Probe:
    """Search latencies (ms) for `seconds`, or until `until` is set."""
    probe = Probe(url, SEARCH)
    probe.start()
    if seconds is not None:
        time.sleep(seconds)
    elif until is not None:
        until.wait()
    probe.stop.set()
    probe.join()
    return probe


def line(name: str, probe: Probe) -> tuple[float, float]:
    n, p50, p95, worst = summary(probe.latencies)
    print(f"  {name:<11} {n:>5} searches  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
          f"max {worst:7.1f} ms  errors {probe.errors}")
    return p50, p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=3000, help="papers in the store")
    parser.add_argument("--ingests", type=int, default=12, help="one-paper ingests timed")
    parser.add_argument("--harvest", type=int, default=3000, help="papers harvested")
    parser.add_argument("--idle", type=float, default=20.0, help="seconds of idle search")
    parser.add_argument("--first-page", action="store_true",
                        help="Also time the quickstart on an empty data folder (minutes).")
    parser.add_argument("--backup-store", type=Path, default=None,
                        help="Data folder to time a backup of (read-only; default: the "
                             "benchmark's own store), e.g. ~/.local/share/paperfeed")
    parser.add_argument("--real-embedder", action="store_true")
    args = parser.parse_args()
    command = Paperfeed(args.real_embedder)
    embedder = "the real model (ONNX MiniLM)" if args.real_embedder else "the instant test one"
    with tempfile.TemporaryDirectory(prefix="bench-service-") as tmp:
        work = Path(tmp)
        data = work / "data"
        data.mkdir()
        store = work / "store.jsonl"
        store.write_text("".join(json.dumps(p) + "\n" for p in listings(0, args.papers)))
        started = time.monotonic()
        command.run(data, "ingest", str(store))
        print(f"store: {args.papers:,} papers ingested and indexed in "
              f"{time.monotonic() - started:.1f} s; embedder: {embedder}")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = command.serve(data, port)
        try:
            print(f"server ready after {wait_ready(url, server):.1f} s")
            httpx.get(f"{url}{SEARCH}", timeout=60)  # the first query loads what it needs

            print(f"\n1. freshness lag, {args.ingests} one-paper ingests in other processes:")
            def ingest(folder: Path, one: Path) -> None:
                command.run(folder, "ingest", str(one))

            lags = sorted(measure_lags(url, data, work, FIRST_NEW, args.ingests, ingest))
            p95 = lags[min(len(lags) - 1, round(0.95 * (len(lags) - 1)))]
            print(f"  lag p50 {statistics.median(lags) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms,"
                  f" max {lags[-1] * 1000:.0f} ms")

            today = datetime.now(UTC).date()
            new = harvested(listings(args.papers, args.harvest), today)
            print(f"\n2. search p50/p95 idle, then while `paperfeed harvest` stores "
                  f"{len(new):,} papers (pages of {PAGE}) and indexes them:")
            idle = searching(url, args.idle)
            with ArxivStandin(OaiRepository(new, page_size=PAGE)) as standin:
                done = threading.Event()
                took: list[float] = []

                def harvest() -> None:
                    begun = time.monotonic()
                    try:
                        command.run(data, "harvest", "--set", "cs", "--from", today.isoformat(),
                                    "--until", today.isoformat(), "--base-url", standin.url)
                    finally:
                        took.append(time.monotonic() - begun)
                        done.set()

                threading.Thread(target=harvest, daemon=True).start()
                busy = searching(url, until=done)
            _, idle_p95 = line("idle", idle)
            _, busy_p95 = line("harvesting", busy)
            print(f"  harvest + index took {took[0]:.1f} s; p95 harvesting/idle "
                  f"{busy_p95 / idle_p95:.2f}x")
            found = httpx.get(f"{url}/api/v1/stats", timeout=60).json()["papers"]
            print(f"  the server counts {found:,} papers after the harvest")
        finally:
            server.terminate()
            server.wait(timeout=60)

        print("\n3. time to first page and backup")
        if args.first_page:
            from bench_first_page import measure_first_page

            (work / "first-page").mkdir()
            figures = measure_first_page(work / "first-page" / "data")
            print(f"  time to first page on an empty data folder: {figures['first_answer_s']} s, "
                  f"{figures['indexed_at_first_answer']:,} of {figures['papers']:,} papers "
                  "indexed then")
        else:
            print("  time to first page: not run (--first-page; takes minutes)")
        from bench_backup import measure_backup, report

        report(measure_backup(args.backup_store or data, work, restore_too=True))

if __name__ == "__main__":
    main()
