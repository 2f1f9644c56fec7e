"""End-to-end speed at corpus scale: parse, store, embed, index, search; against bm25s/rank-bm25.

Usage:
    python benchmarks/bench_speed.py ../shared/data/arxiv-daily-cs/arxiv_daily_cs_unique.jsonl.gz
        [--limit N] [--queries 500] [--data-dir DIR] [--rank-bm25-queries 50]

Prints one table. Everything is measured in this run on this machine; the baselines
(bm25s and rank-bm25 over the same texts and queries) are measured in the same process.
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from pathlib import Path

import numpy as np
import numpy.typing as npt

from paperfeed.catalog import Catalog
from paperfeed.embed import Embedder, load_embedder
from paperfeed.records import PaperRecord
from paperfeed.sources import read_records


class TimedEmbedder:
    """Wraps the product's embedder and adds up the seconds spent embedding papers."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self.seconds = 0.0
        self.texts = 0

    def encode(self, texts: Sequence[str], *, progress: Callable[[int], None] | None = None
               ) -> npt.NDArray[np.float32]:
        start = time.perf_counter()
        out = self.inner.encode(texts, progress=progress)
        self.seconds += time.perf_counter() - start
        self.texts += len(texts)
        return out


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentiles(samples: Sequence[float]) -> tuple[float, float, float]:
    qs = statistics.quantiles(samples, n=100, method="inclusive")
    return qs[49], qs[94], qs[98]


def timed_queries(run: Callable[[str], object], queries: Sequence[str],
                  warmup: int = 20) -> list[float]:
    for q in queries[:warmup]:
        run(q)
    out = []
    for q in queries:
        start = time.perf_counter()
        run(q)
        out.append((time.perf_counter() - start) * 1000)
    return out


def make_queries(records: Sequence[PaperRecord], n: int, seed: int = 7) -> list[str]:
    """Half short title prefixes, half 2-3 word phrases from abstracts: what people type."""
    rng = random.Random(seed)
    queries = []
    for _ in range(n):
        r = rng.choice(records)
        if rng.random() < 0.5:
            queries.append(" ".join(r.title.split()[:6]))
        else:
            words = re.findall(r"[A-Za-z][A-Za-z-]{3,}", r.abstract)
            if len(words) < 4:
                queries.append(r.title)
                continue
            start = rng.randrange(len(words) - 3)
            queries.append(" ".join(words[start : start + rng.choice((2, 3))]))
    return queries


def row(name: str, value: str, note: str = "") -> None:
    print(f"| {name} | {value} | {note} |")


def search_only(args: argparse.Namespace) -> int:
    """Search latency on an existing index: today's fusion against the fixed weight."""
    from dataclasses import replace

    from paperfeed.index.fusion import FIXED_FUSION

    records = list(islice(read_records(args.corpus), args.limit))
    queries = make_queries(records, args.queries)
    with Catalog(args.search_only, read_only=True) as catalog:
        index = catalog.index
        print(f"papers in the index: {len(index):,}")
        lat = {
            "lexical": timed_queries(lambda q: index.search(q, k=10, mode="lexical"), queries),
            "dense": timed_queries(lambda q: index.search(q, k=10, mode="dense"), queries),
            "hybrid": timed_queries(lambda q: index.search(q, k=10), queries),
            "hybrid + store fetch": timed_queries(lambda q: catalog.search(q, k=10), queries),
        }
        adaptive = index._search_fusion
        index._search_fusion = replace(FIXED_FUSION)  # the same-run baseline
        lat["hybrid, fixed weight (baseline)"] = timed_queries(
            lambda q: index.search(q, k=10), queries)
        index._search_fusion = adaptive
        keys = list(index.keys())[: args.queries]
        # The researcher query set's questions and paraphrases are longer than the above.
        written = Path(__file__).resolve().parent / "querysets/researcher/queries.jsonl"
        if written.exists():
            import json

            long = [json.loads(line)["text"] for line in written.read_text().splitlines()
                    if line.strip()]
            lat["hybrid, researcher queries"] = timed_queries(lambda q: index.search(q, k=10),
                                                              long)
        lat["related"] = timed_queries(lambda k: index.related(int(k), k=10),
                                       [str(k) for k in keys])
    print("| measure | p50 / p95 / p99 | note |\n|---|---|---|")
    for name, samples in lat.items():
        p50, p95, p99 = percentiles(samples)
        row(f"search {name}", f"{p50:.1f} / {p95:.1f} / {p99:.1f} ms",
            f"{len(samples)} queries" + ("; target p95 < 30 ms" if name == "hybrid" else ""))
    base = percentiles(lat["hybrid, fixed weight (baseline)"])[1]
    print(f"hybrid p95 / fixed-weight p95 = {percentiles(lat['hybrid'])[1] / base:.2f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("corpus", type=Path, help="arXiv daily JSON lines (.jsonl or .jsonl.gz)")
    ap.add_argument("--limit", type=int, default=None, help="only the first N papers")
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--rank-bm25-queries", type=int, default=50,
                    help="rank-bm25 is slow: time it on this many of the queries")
    ap.add_argument("--data-dir", type=Path, default=None,
                    help="reuse a data dir (skips nothing: timings assume a fresh one)")
    ap.add_argument("--search-only", type=Path, default=None, metavar="DATA_DIR",
                    help="only time searches on an existing, already indexed data folder "
                         "(read-only), with the fixed-weight fusion as same-run baseline")
    args = ap.parse_args(argv)
    if args.search_only:
        return search_only(args)
    if not args.corpus.exists():
        print(f"corpus not found: {args.corpus} (the real data lives in ../shared/data)")
        return 2

    # 1. Parse alone.
    start = time.perf_counter()
    records = list(islice(read_records(args.corpus), args.limit))
    parse_s = time.perf_counter() - start
    n = len(records)

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="paperfeed-bench-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    embedder = TimedEmbedder(load_embedder(cache_dir=data_dir / "models"))
    with Catalog(data_dir, embedder=embedder) as catalog:
        # 2. Parse and store (the real ingest path: streaming, batched transactions).
        def stream() -> Iterator[PaperRecord]:
            yield from islice(read_records(args.corpus), args.limit)

        start = time.perf_counter()
        report = catalog.ingest_records(stream())
        store_s = time.perf_counter() - start

        # 3. Index build: lexical + embeddings + ANN.
        start = time.perf_counter()
        indexed = catalog.update_index()
        index_s = time.perf_counter() - start
        embed_s, embedded = embedder.seconds, embedder.texts

        # 4. Search latency after warm-up.
        queries = make_queries(records, args.queries)
        index = catalog.index
        lat_lex = timed_queries(lambda q: index.search(q, k=10, mode="lexical"), queries)
        lat_dense = timed_queries(lambda q: index.search(q, k=10, mode="dense"), queries)
        lat_hyb = timed_queries(lambda q: index.search(q, k=10), queries)
        lat_full = timed_queries(lambda q: catalog.search(q, k=10), queries)

    # 5. Baselines over the same texts and queries.
    texts = [f"{r.title} {r.title} {r.abstract} {' '.join(a.name for a in r.authors)}"
             for r in records]
    baselines: dict[str, tuple[float, list[float]]] = {}
    try:
        import bm25s

        start = time.perf_counter()
        retriever = bm25s.BM25()
        retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False),
                        show_progress=False)
        build = time.perf_counter() - start

        def bm25s_query(q: str) -> object:
            return retriever.retrieve(bm25s.tokenize([q], stopwords="en", show_progress=False),
                                      k=10, show_progress=False)

        baselines["bm25s"] = (build, timed_queries(bm25s_query, queries))
    except ImportError:
        print("bm25s not installed: baseline skipped", file=sys.stderr)
    try:
        from rank_bm25 import BM25Okapi

        start = time.perf_counter()
        tokenized = [re.findall(r"\w+", t.lower()) for t in texts]
        okapi = BM25Okapi(tokenized)
        build = time.perf_counter() - start
        sub = queries[: args.rank_bm25_queries]
        baselines["rank-bm25"] = (build, timed_queries(
            lambda q: okapi.get_top_n(re.findall(r"\w+", q.lower()), texts, n=10), sub,
            warmup=2))
    except ImportError:
        print("rank-bm25 not installed: baseline skipped", file=sys.stderr)

    print(f"\npapers: {n}; new {report.ingested}, merged {report.merged}; indexed {indexed}")
    print("| measure | value | note |\n|---|---|---|")
    row("parse", f"{n / parse_s:,.0f} papers/s", f"{parse_s:.1f} s")
    row("parse + store", f"{n / store_s:,.0f} papers/s", f"{store_s:.1f} s")
    row("index build (BM25 + embed + ANN)", f"{index_s:.1f} s",
        f"{indexed / index_s:,.1f} papers/s")
    if embedded:
        row("embedding (inside the build)", f"{embedded / embed_s:,.1f} papers/s",
            f"{embed_s:.1f} s, {embedder.model_id}")
    row("ingest total incl. embeddings", f"{(store_s + index_s) / 60:.1f} min", "target < 30 min")
    for name, lat in (("lexical", lat_lex), ("dense", lat_dense), ("hybrid", lat_hyb),
                      ("hybrid + store fetch", lat_full)):
        p50, p95, p99 = percentiles(lat)
        row(f"search {name} p50/p95/p99", f"{p50:.1f} / {p95:.1f} / {p99:.1f} ms",
            f"{len(lat)} queries" + ("; target p95 < 50 ms" if name == "hybrid" else ""))
    lex_p50 = percentiles(lat_lex)[0]
    for name, (build, lat) in baselines.items():
        p50, p95, p99 = percentiles(lat)
        row(f"{name} p50/p95/p99", f"{p50:.1f} / {p95:.1f} / {p99:.1f} ms",
            f"{len(lat)} queries; build {build:.1f} s; paperfeed lexical p50 / {name} p50 = "
            f"{lex_p50 / p50:.2f}; paperfeed hybrid p50 / {name} p50 = "
            f"{percentiles(lat_hyb)[0] / p50:.2f}")
    row("peak RSS", f"{peak_rss_mb():,.0f} MB", "whole process, baselines included")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
