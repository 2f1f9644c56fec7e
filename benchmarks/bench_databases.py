"""SQLite and PostgreSQL side by side, in one run: ingest, paper fetches, the web load test.

What it measures, on each database
    ingest  the arXiv daily papers (store only: parsed once, then `Store.add_papers` in
            batches of 1,000 into an empty store), papers per second;
    fetch   latency of one paper by store id (`Store.get`) and by arXiv id (`Store.find`):
            p50 and p95 over --fetches random papers of that store, in ms;
    copy    (PostgreSQL only) `paperfeed store copy` of the web store into PostgreSQL;
    web     benchmarks/bench_web.py's load test (its server, request mix and load
            generator, reused as they are) of search and the daily page at concurrency
            1, 8 and 32, on the indexed store of --web-data-dir (SQLite) and on a copy of
            that folder whose database is the PostgreSQL copy (same index, same papers).
    The last table gives PostgreSQL / SQLite for every figure (above 1: PostgreSQL is slower
    for times, faster for rates).

PostgreSQL is a throwaway server started here exactly as the tests start theirs
(tests/pg.py: a temporary folder, a unix socket, fsync off, so its writes are cheaper
than a production server's), and stopped at the end.

How to run
    .venv/bin/python benchmarks/bench_databases.py --limit 20000
    .venv/bin/python benchmarks/bench_databases.py                    # all 74,728 papers
    .venv/bin/python benchmarks/bench_databases.py --limit 5000 --skip-web --duration 5

--web-data-dir must hold an indexed store (default: paperfeed's own data folder, as
`paperfeed quickstart` leaves it). Run on an otherwise idle machine: the load average at
the start is printed because other work moves the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))  # tests/pg.py: the same throwaway server as the tests

from tests.pg import PgServer, pg_bin_dir  # noqa: E402

import bench_web  # noqa: E402
from paperfeed.records import PaperRecord  # noqa: E402
from paperfeed.sources import read_records  # noqa: E402
from paperfeed.store import Store, default_data_dir  # noqa: E402
from paperfeed.store.copy import copy_store  # noqa: E402
from paperfeed.store.store import DB_FILE  # noqa: E402

CORPUS = ROOT.parent / "shared" / "data" / "arxiv-daily-cs" / "arxiv_daily_cs_unique.jsonl.gz"
KINDS = ("sqlite", "postgresql")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, default=CORPUS)
    p.add_argument("--limit", type=int, default=None, help="ingest only the first N papers")
    p.add_argument("--fetches", type=int, default=2000, help="papers fetched each way")
    p.add_argument("--web-data-dir", type=Path, default=None,
                   help="indexed store for the web load test (default: paperfeed's own)")
    p.add_argument("--skip-web", action="store_true", help="no copy, no web load test")
    p.add_argument("--concurrency", default="1,8,32")
    p.add_argument("--duration", type=int, default=20, help="seconds measured per web run")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--json", type=Path, help="also write every figure here")
    return p.parse_args(argv)


@contextmanager
def database(kind: str, server: PgServer) -> Iterator[str | None]:
    """The URL of a new database of `kind` (None: SQLite in the data folder), with
    PAPERFEED_DATABASE_URL pointing at it meanwhile (for the servers started)."""
    url = server.create_database() if kind == "postgresql" else None
    old = os.environ.pop("PAPERFEED_DATABASE_URL", None)
    if url:
        os.environ["PAPERFEED_DATABASE_URL"] = url
    try:
        yield url
    finally:
        os.environ.pop("PAPERFEED_DATABASE_URL", None)
        if old is not None:
            os.environ["PAPERFEED_DATABASE_URL"] = old


def ms_percentiles(timings: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(timings, n=100, method="inclusive")
    return q[49] * 1000, q[94] * 1000


def timed(calls: list[Callable[[], Any]]) -> list[float]:
    out = []
    for call in calls:
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def ingest_and_fetch(kind: str, server: PgServer, records: list[PaperRecord],
                     args: argparse.Namespace) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix=f"bench_db_{kind}_") as tmp, \
            database(kind, server) as url, Store(Path(tmp), url=url) as store:
        start = time.perf_counter()
        report = store.add_papers(records)
        seconds = time.perf_counter() - start
        assert report.ingested + report.merged == len(records), report.as_dict()
        rng = random.Random(args.seed)
        ids = rng.sample(range(1, store.count() + 1), min(args.fetches, store.count()))
        arxiv = [p.record.arxiv_id for p in store.get_many(ids, details=False)]
        by_id = timed([lambda i=i: store.get(i) for i in ids])
        by_arxiv = timed([lambda a=a: store.find(a) for a in arxiv if a])
    id50, id95 = ms_percentiles(by_id)
    ax50, ax95 = ms_percentiles(by_arxiv)
    print(f"{kind}: ingest {len(records)} in {seconds:.1f} s; get p50 {id50:.2f} ms; "
          f"find p50 {ax50:.2f} ms", file=sys.stderr)
    return {"ingest_s": seconds, "ingest_papers_per_s": len(records) / seconds,
            "get_p50_ms": id50, "get_p95_ms": id95, "find_p50_ms": ax50, "find_p95_ms": ax95}


def web_load(data_dir: Path, args: argparse.Namespace) -> dict[str, float]:
    """bench_web's whole run against a server on `data_dir` (and the database in the
    environment); its rows as figures."""
    out = Path(tempfile.mkstemp(prefix="bench_db_web_", suffix=".json")[1])
    web_args = bench_web.parse_args([
        "--data-dir", str(data_dir), "--concurrency", args.concurrency, "--duration",
        str(args.duration), "--warmup", str(args.warmup), "--client", args.client,
        "--seed", str(args.seed), "--json", str(out)])
    server = bench_web.Server(data_dir, 1)
    try:
        server.wait_ready()
        bench_web.benchmark(web_args, server.url, "1")
    finally:
        server.stop()
    rows = json.loads(out.read_text())["rows"]
    out.unlink()
    figures: dict[str, float] = {}
    for row in rows:
        name = f"{row['scenario']} c={row['concurrency']}"
        figures[f"{name} req/s"] = row["rps"]
        figures[f"{name} p50 ms"] = row["p50_ms"]
        figures[f"{name} p95 ms"] = row["p95_ms"]
        figures[f"{name} errors"] = row["errors"]
    return figures


def web_on_both(server: PgServer, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    source_dir = args.web_data_dir or default_data_dir()
    if not (source_dir / DB_FILE).is_file():
        raise SystemExit(f"--web-data-dir {source_dir} holds no store ({DB_FILE})")
    results = {"sqlite": web_load(source_dir, args)}
    with tempfile.TemporaryDirectory(prefix="bench_db_web_pg_") as tmp, \
            database("postgresql", server) as url:
        # The same folder (index, models, secret key) without the SQLite file...
        folder = Path(tmp) / "data"
        shutil.copytree(source_dir, folder, ignore=shutil.ignore_patterns(f"{DB_FILE}*"))
        # ...and its database copied into PostgreSQL, as `paperfeed store copy` does.
        with Store(source_dir, url=f"sqlite:///{source_dir / DB_FILE}") as src, \
                Store(folder, url=url) as dst:
            start = time.perf_counter()
            counts = copy_store(src, dst)
            copy_s = time.perf_counter() - start
        papers = next(c.target for c in counts if c.table == "papers")
        print(f"store copy: {sum(c.target for c in counts):,} rows ({papers:,} papers) in "
              f"{copy_s:.1f} s, every count equal", file=sys.stderr)
        results["postgresql"] = {"store copy s": copy_s, **web_load(folder, args)}
    return results


def ratio_table(figures: dict[str, dict[str, float]]) -> str:
    names = list(dict.fromkeys(n for kind in KINDS for n in figures[kind]))
    lines = ["| figure | SQLite | PostgreSQL | PostgreSQL / SQLite |", "|---|---:|---:|---:|"]
    for name in names:
        a, b = figures["sqlite"].get(name), figures["postgresql"].get(name)
        ratio = f"{b / a:.2f}" if a and b is not None else "-"
        lines.append(f"| {name} | {'-' if a is None else f'{a:,.2f}'} | "
                     f"{'-' if b is None else f'{b:,.2f}'} | {ratio} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        raise SystemExit("PostgreSQL is not installed (initdb, pg_ctl): scripts/setup.sh "
                         "installs Debian's postgresql package")
    load_at_start = os.getloadavg()
    start = time.perf_counter()
    records = list(islice(read_records(args.corpus), args.limit))
    print(f"parsed {len(records)} papers in {time.perf_counter() - start:.1f} s",
          file=sys.stderr)
    figures: dict[str, dict[str, float]] = {}
    with PgServer(bin_dir) as server:
        for kind in KINDS:
            figures[kind] = ingest_and_fetch(kind, server, records, args)
        if not args.skip_web:
            for kind, web in web_on_both(server, args).items():
                figures[kind].update(web)
    print()
    print(f"CPUs: {os.cpu_count()}; load average at start: "
          f"{' '.join(f'{x:.2f}' for x in load_at_start)}; papers ingested: {len(records)}; "
          f"fetches: {args.fetches} each way")
    print()
    print(ratio_table(figures))
    if args.json:
        args.json.write_text(json.dumps({"load_average_at_start": load_at_start,
                                         "papers": len(records), "figures": figures},
                                        indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
