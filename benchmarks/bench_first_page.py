"""Time to the first page: from an empty data folder to the app answering with the newest papers.

What it measures
    `paperfeed quickstart --corpus <arxiv-daily-cs> --interactive` in a child process
    over an empty data folder, with the real embedder (HF_HUB_OFFLINE=1; the model is
    exported into the data folder as on a new machine, unless --model-cache). The
    quickstart loads the corpus, indexes the newest PAPERFEED_FIRST_PAPERS papers and
    makes their cards, then serves; the rest is indexed by the server's background
    catch-up job (docs/decisions/first-page.md). The benchmark polls the server:

    - first answer: seconds from the start until `/api/v1/search?sort=date` answers with
      the store's newest day (`/api/v1/stats` last_date) first; the papers indexed then;
    - fully indexed (with --complete): seconds until every stored paper is indexed
      (`partial` false) and until the background job has finished (cards, tagger,
      vocabulary too).

    The machine's load shows in every figure: run it on an idle machine for the record.
    The step times (ingest, index, cards) are in the quickstart's log (--log).

How to run
        PYTHONPATH=src .venv/bin/python benchmarks/bench_first_page.py
        PYTHONPATH=src .venv/bin/python benchmarks/bench_first_page.py --complete

    `measure_first_page(data_dir)` returns the figures as a dict (benchmarks/bench_service.py).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "data" / "arxiv-daily-cs"
QUERY = "learning"  # a word nearly every day's papers use


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _json(client: httpx.Client, path: str, **params: Any) -> dict[str, Any] | None:
    try:
        answer = client.get(path, params=params)
    except httpx.HTTPError:
        return None
    if answer.status_code != 200:
        return None
    data: dict[str, Any] = answer.json()
    return data


def _newest_first(client: httpx.Client) -> dict[str, Any] | None:
    """The search answer when its first hit is from the store's newest day, else None."""
    stats = _json(client, "/api/v1/stats")
    found = _json(client, "/api/v1/search", q=QUERY, sort="date", per_page=5)
    if not stats or not found or not found["results"]:
        return None
    top = found["results"][0]["paper"]["listed"]
    return found if top == stats["last_date"] else None


def measure_first_page(data_dir: Path, *, corpus: Path = CORPUS, complete: bool = False,
                       model_cache: Path | None = None, first_papers: int | None = None,
                       timeout: float = 3600.0, log: Path | None = None) -> dict[str, Any]:
    """Run the quickstart over `data_dir` (empty) and time it; the figures as a dict."""
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PAPERFEED_HARVEST_WHEN": "0 0 1 1 *"}
    env.pop("PAPERFEED_MODEL_CACHE", None)
    if model_cache is not None:
        env["PAPERFEED_MODEL_CACHE"] = str(model_cache)
    if first_papers is not None:
        env["PAPERFEED_FIRST_PAPERS"] = str(first_papers)
    log = log or data_dir.parent / "quickstart.log"
    figures: dict[str, Any] = {"port": port, "log": str(log)}
    started = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "paperfeed", "--data-dir", str(data_dir), "quickstart",
             "--corpus", str(corpus), "--interactive", "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            deadline = started + timeout
            first = None
            while first is None and time.monotonic() < deadline:
                if proc.poll() is not None:
                    raise RuntimeError(f"the quickstart stopped ({proc.returncode}); see {log}")
                first = _newest_first(client)
                if first is None:
                    time.sleep(1.0)
            if first is None:
                raise RuntimeError(f"no answer within {timeout:.0f} s; see {log}")
            figures.update(first_answer_s=round(time.monotonic() - started, 1),
                           indexed_at_first_answer=first["indexed"], papers=first["papers"],
                           note=first["index_note"])
            print(json.dumps(figures), flush=True)  # now, in case the rest is cut short
            if complete:
                indexed_at = None
                while time.monotonic() < deadline:
                    found = _json(client, "/api/v1/search", q=QUERY, per_page=1)
                    stats = _json(client, "/api/v1/stats")
                    if found and not found["partial"] and indexed_at is None:
                        indexed_at = round(time.monotonic() - started, 1)
                        figures["fully_indexed_s"] = indexed_at
                    if indexed_at is not None and stats and stats["indexing"] is None:
                        figures["background_done_s"] = round(time.monotonic() - started, 1)
                        break
                    time.sleep(5.0)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--complete", action="store_true",
                        help="Also wait until the background job has indexed everything.")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--first-papers", type=int, default=None,
                        help="PAPERFEED_FIRST_PAPERS (default: the shipped value).")
    parser.add_argument("--model-cache", type=Path, default=None,
                        help="An exported model to reuse (default: export as a new machine).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-first-page-") as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        figures = measure_first_page(data, corpus=args.corpus, complete=args.complete,
                                     model_cache=args.model_cache,
                                     first_papers=args.first_papers,
                                     log=Path(tempfile.gettempdir()) / "bench-first-page.log")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
