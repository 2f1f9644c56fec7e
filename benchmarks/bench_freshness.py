"""Freshness lag: from another process's index commit to a hit on a running server.

What it measures
    A `paperfeed serve` process (the tests' instant embedder, tests/index/fake_cli.py, so
    that embedding time does not hide the lag) over a throw-away store of --papers papers.
    Then --ingests times: a separate `paperfeed ingest` process stores and indexes one new
    paper with a word no other paper has, and the benchmark polls the server's
    `/api/v1/search?q=<word>&mode=lexical` every 20 ms. The lag of one ingest is the time
    from the ingest's last manifest write (manifest.json's mtime: the index commit) to
    the first answer that holds the paper. It is bounded by `catalog.FOLLOW_INTERVAL`
    (1 s) plus opening the new generation. Prints each lag, then p50 and p95.

How to run
        PYTHONPATH=src .venv/bin/python benchmarks/bench_freshness.py
        PYTHONPATH=src .venv/bin/python benchmarks/bench_freshness.py --papers 5000 --ingests 30

    Run from the repository root (it starts `python -m tests.index.fake_cli`).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from paperfeed.store.index_folders import IndexFolders

ROOT = Path(__file__).resolve().parents[1]


def paper(number: int, word: str) -> str:
    return json.dumps({
        "id": f"2503.{number:05d}", "title": f"Paper {word} on graphs",
        "abstract": f"We study {word} and other things in depth.",
        "authors": ["Ada Lovelace"], "categories": ["cs.LG"], "comment": None,
        "first_seen_listing_date": "2025-03-20",
        "abs": f"https://arxiv.org/abs/2503.{number:05d}", "pdf": None}) + "\n"


def cli(data: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "tests.index.fake_cli", "--data-dir", str(data),
                    *args], cwd=ROOT, check=True, capture_output=True, text=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def found(url: str, word: str) -> bool:
    answer = httpx.get(f"{url}/api/v1/search", params={"q": word, "mode": "lexical"},
                       timeout=10)
    return bool(answer.status_code == 200 and answer.json()["results"])


def measure_lags(url: str, data: Path, work: Path, first: int, count: int,
                 ingest: Callable[[Path, Path], None] | None = None) -> list[float]:
    """`count` one-paper ingests (numbers from `first`) by `ingest(data, file)` (default:
    `cli`, a separate process), each waited for on the server at `url`: the lags in s,
    from the index commit (manifest.json's mtime) to the first answer holding the paper."""
    lags = []
    for n in range(count):
        word = f"zqfresh{n}x"
        one = work / f"new{n}.jsonl"
        one.write_text(paper(first + n, word))
        (ingest or (lambda d, f: cli(d, "ingest", str(f))))(data, one)
        committed = (IndexFolders(data).current() / "manifest.json").stat().st_mtime
        while not found(url, word):
            time.sleep(0.02)
        lags.append(time.time() - committed)
        print(f"ingest {n + 1}: searchable {lags[-1] * 1000:.0f} ms after the commit")
    return lags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=2000)
    parser.add_argument("--ingests", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-freshness-") as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        corpus = Path(tmp) / "corpus.jsonl"
        corpus.write_text("".join(paper(i, f"zqbase{i}x") for i in range(args.papers)))
        cli(data, "ingest", str(corpus))
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.index.fake_cli", "--data-dir", str(data), "serve",
             "--port", str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start")
                time.sleep(0.2)
            lags = measure_lags(url, data, Path(tmp), args.papers, args.ingests)
        finally:
            server.terminate()
            server.wait(timeout=60)
    lags.sort()
    p95 = lags[min(len(lags) - 1, round(0.95 * (len(lags) - 1)))]
    print(f"\n{args.ingests} ingests of one paper over {args.papers:,} papers: freshness lag "
          f"p50 {statistics.median(lags) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
          f"max {lags[-1] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
