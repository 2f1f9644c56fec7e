"""What the web/CLI hardening of issue 11 costs: body limits, terminal output, read-only opening.

Prints, each against its same-run baseline:

- the request-body-limit middleware (`web/limits.py`) around a trivial ASGI app: a
  small JSON POST with and without it, in-process (no sockets), per request;
- `SafeConsole` against Rich's plain `Console` printing 50 search-result-like entries;
- opening a store read-only (SQLite `mode=ro` / `immutable=1`, the index through a
  folder of links) against opening it normally, and one lexical search on each.

    python benchmarks/bench_hardening_web.py [--papers 2000] [--repeat 2000]

The store is built from the first `--papers` papers of ../shared/data/arxiv-daily-cs in
a temporary folder (embeddings included, so it takes a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import io
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from itertools import islice
from pathlib import Path

from rich.console import Console
from rich.text import Text
from starlette.types import Message, Receive, Scope, Send

from paperfeed.catalog import Catalog
from paperfeed.cli.terminal import SafeConsole
from paperfeed.settings import Settings
from paperfeed.store import Store
from paperfeed.web.limits import BodyLimits

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def best_of(fn: Callable[[], None], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


async def _app(scope: Scope, receive: Receive, send: Send) -> None:
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def bench_body_limits(repeat: int) -> None:
    limited = BodyLimits(_app, Settings().body_limits)
    body = b'{"tags": ["to read", "tracking"]}'
    scope: Scope = {"type": "http", "method": "POST", "path": "/api/v1/library/1",
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]}

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        pass

    async def run(app: Callable[[Scope, Receive, Send], object]) -> None:
        for _ in range(repeat):
            await app(scope, receive, send)  # type: ignore[misc]

    plain = best_of(lambda: asyncio.run(run(_app)))
    guarded = best_of(lambda: asyncio.run(run(limited)))
    print(f"body limits: {plain / repeat * 1e6:.2f} µs/request bare, "
          f"{guarded / repeat * 1e6:.2f} µs with the middleware "
          f"(+{(guarded - plain) / repeat * 1e6:.2f} µs, ratio {guarded / plain:.2f})")


def bench_console() -> None:
    entries = [(f"{i:>3}. A title about gaussian splatting and tracking number {i}",
                "     arXiv:2503.1173{i} · 2025-03-18 · cs.CV · Some Author, Other Author",
                "     We propose a method for " + "object tracking with splats " * 8)
               for i in range(50)]

    def render(console_type: type[Console]) -> Callable[[], None]:
        def go() -> None:
            console = console_type(file=io.StringIO(), width=120, force_terminal=True)
            for title, meta, snippet in entries:
                console.print(Text(title, style="bold"))
                console.print(f"[dim]{meta}[/dim]")
                console.print(snippet)
        return go

    plain = best_of(render(Console))
    safe = best_of(render(SafeConsole))
    print(f"terminal output: 50 results in {plain * 1e3:.1f} ms with Console, "
          f"{safe * 1e3:.1f} ms with SafeConsole (ratio {safe / plain:.2f})")


def bench_read_only(papers: int) -> None:
    daily = SHARED / "arxiv-daily-cs" / "arxiv_daily_cs_unique.jsonl.gz"
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "daily.jsonl"
        with gzip.open(daily, "rt", encoding="utf-8") as src, corpus.open("w") as out:
            out.writelines(islice(src, papers))
        data = Path(tmp) / "data"
        with Catalog(data) as catalog:
            catalog.ingest_file(corpus)
            catalog.update_index()
        for read_only in (False, True):
            # A copy each time: no -wal/-shm from the other run, as on a fresh start.
            copy = Path(tmp) / f"copy-{read_only}"
            shutil.copytree(data, copy)

            def open_and_search(folder: Path = copy, ro: bool = read_only) -> None:
                with Catalog(folder, read_only=ro) as catalog:
                    catalog.search("gaussian splatting", k=10, mode="lexical")

            opened = statistics.median(
                [best_of(lambda c=copy, r=read_only: Store(c, read_only=r).close(), 1)
                 for _ in range(7)])
            searched = best_of(open_and_search, 3)
            label = "read-only" if read_only else "writable "
            print(f"{label}: open store {opened * 1e3:.1f} ms; open store + index + one "
                  f"lexical search {searched * 1e3:.1f} ms ({papers} papers)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()
    bench_body_limits(args.repeat)
    bench_console()
    bench_read_only(args.papers)


if __name__ == "__main__":
    main()
