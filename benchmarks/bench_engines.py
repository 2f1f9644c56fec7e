"""Compare candidate engines for the two sides of the search index.

Owns the measurements behind docs/decisions/lexical-engine.md and
vector-engine.md. Timings depend on the machine and on what else runs on it:
compare engines within one run, not across runs.

    # lexical: tantivy (paperfeed's LexicalIndex), SQLite FTS5, bm25s
    python benchmarks/bench_engines.py lexical \
        --arxiv ../shared/data/arxiv-daily-cs/arxiv_daily_cs_unique.jsonl.gz \
        --scifact ../shared/data/scifact
    # vectors: usearch (f32/f16/i8), hnswlib, sqlite-vec, exact numpy, on real embeddings
    python benchmarks/bench_engines.py vectors \
        --arxiv ../shared/data/arxiv-daily-cs/arxiv_daily_cs_unique.jsonl.gz --sample 10000
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import beir
from paperfeed.index import IndexDoc
from paperfeed.index import lexical as lexical_module
from paperfeed.index.lexical import LexicalIndex
from paperfeed.index.query import parse_user_query

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000.0, q))


# --- lexical engines --------------------------------------------------------------


class Engine:
    name = ""

    def build(self, docs: Sequence[IndexDoc], workdir: Path) -> None:
        raise NotImplementedError

    def query(self, text: str, k: int) -> list[int]:
        raise NotImplementedError


class TantivyEngine(Engine):
    """paperfeed's LexicalIndex, committing every 512 papers as PaperIndex.add does."""

    def __init__(self, boosts: dict[str, float] | None = None, commit_every: int = 512) -> None:
        self.boosts = boosts
        self.commit_every = commit_every
        self.name = "tantivy" if commit_every == 512 else f"tantivy/{commit_every}"

    def build(self, docs: Sequence[IndexDoc], workdir: Path) -> None:
        if self.boosts:
            lexical_module.FIELD_BOOSTS.clear()
            lexical_module.FIELD_BOOSTS.update(self.boosts)
        self.index = LexicalIndex(workdir / "tantivy")
        for start in range(0, len(docs), self.commit_every):
            chunk = docs[start : start + self.commit_every]
            self.index.add(chunk, [d.key for d in chunk], 1)
            self.index.commit()
        self.index.release_writer()

    def query(self, text: str, k: int) -> list[int]:
        return [h.key for h in self.index.search(parse_user_query(text), k)]


class Fts5Engine(Engine):
    """SQLite FTS5, porter tokenizer, bm25() column weights title 2, abstract 1, authors 1."""

    name = "sqlite-fts5"

    def build(self, docs: Sequence[IndexDoc], workdir: Path) -> None:
        self.db = sqlite3.connect(workdir / "fts.sqlite")
        self.db.execute(
            "CREATE VIRTUAL TABLE papers USING fts5(title, abstract, authors, "
            "tokenize='porter unicode61 remove_diacritics 2')"
        )
        for start in range(0, len(docs), 512):
            chunk = docs[start : start + 512]
            self.db.executemany(
                "INSERT INTO papers(rowid, title, abstract, authors) VALUES (?, ?, ?, ?)",
                [(d.key, d.title, d.abstract, "; ".join(d.authors)) for d in chunk],
            )
            self.db.commit()

    def query(self, text: str, k: int) -> list[int]:
        parsed = parse_user_query(text)
        parts = ['"' + " ".join(p) + '"' for p in parsed.phrases] + [
            f'"{t}"' for t, _ in parsed.terms
        ]
        if not parts:
            return []
        match = " OR ".join(parts)
        rows = self.db.execute(
            "SELECT rowid FROM papers WHERE papers MATCH ? "
            "ORDER BY bm25(papers, 2.0, 1.0, 1.0) LIMIT ?",
            (match, k),
        )
        return [int(r[0]) for r in rows]


class Bm25sEngine(Engine):
    """bm25s (numpy, whole-corpus build), English stopwords and Snowball stemmer; title twice."""

    name = "bm25s"

    def build(self, docs: Sequence[IndexDoc], workdir: Path) -> None:
        import bm25s
        import Stemmer

        self.stemmer = Stemmer.Stemmer("english")
        texts = [f"{d.title} {d.title} {d.abstract} {' '.join(d.authors)}" for d in docs]
        self.keys = np.array([d.key for d in docs])
        tokens = bm25s.tokenize(texts, stopwords="en", stemmer=self.stemmer, show_progress=False)
        self.retriever = bm25s.BM25()
        self.retriever.index(tokens, show_progress=False)

    def query(self, text: str, k: int) -> list[int]:
        import bm25s

        words = " ".join(parse_user_query(text).words())
        tokens = bm25s.tokenize([words], stopwords="en", stemmer=self.stemmer,
                                show_progress=False)
        if not tokens.ids or not tokens.ids[0]:
            return []
        k = min(k, len(self.keys))
        ids, scores = self.retriever.retrieve(tokens, k=k, show_progress=False, n_threads=1)
        return [int(self.keys[i]) for i, s in zip(ids[0], scores[0], strict=True) if s > 0]


def ndcg_at_10(dev: beir.DevSet, run: dict[str, list[str]]) -> float:
    import pytrec_eval

    scored = {q: {d: float(len(ids) - r) for r, d in enumerate(ids)} for q, ids in run.items()}
    evaluator = pytrec_eval.RelevanceEvaluator(dev.qrels, {"ndcg_cut.10"})
    per_query = evaluator.evaluate(scored)
    return float(np.mean([per_query.get(q, {}).get("ndcg_cut_10", 0.0) for q in dev.queries]))


def arxiv_docs(path: Path, limit: int) -> list[IndexDoc]:
    docs = beir.load_arxiv_sample(path, limit)
    return [
        IndexDoc(key=i, title=d.title, abstract=d.abstract, authors=d.authors,
                 categories=d.categories, date=d.date)
        for i, d in enumerate(docs)
    ]


def latency_queries(docs: Sequence[IndexDoc], n_titles: int, n_phrases: int) -> list[str]:
    rng = random.Random(1)
    titles = [d.title for d in rng.sample(list(docs), n_titles)]
    phrases = []
    for d in rng.sample(list(docs), n_phrases):
        words = re.findall(r"[A-Za-z]{4,}", d.abstract)
        if len(words) >= 3:
            start = rng.randrange(len(words) - 2)
            phrases.append('"' + " ".join(words[start : start + 3]) + '"')
    return titles + phrases


def run_lexical(args: argparse.Namespace) -> None:
    factories: list[Callable[[], Engine]] = [TantivyEngine, Fts5Engine, Bm25sEngine]
    if args.commit_every:
        factories.insert(1, lambda: TantivyEngine(commit_every=args.commit_every))
    corpus = arxiv_docs(args.arxiv, args.limit)
    queries = latency_queries(corpus, args.titles, args.phrases)
    scifact = beir.load_beir(args.scifact, "train")
    sci_docs = [IndexDoc(key=i, title=d.title, abstract=d.abstract)
                for i, d in enumerate(scifact.docs)]
    sci_ids = [d.id for d in scifact.docs]
    print(f"corpus: {len(corpus)} arXiv papers; {len(queries)} latency queries "
          f"({args.titles} titles, {len(queries) - args.titles} quoted 3-word phrases); "
          f"scifact: {len(sci_docs)} docs, {len(scifact.queries)} train claims")
    print(f"{'engine':<14} {'build s':>8} {'p50 ms':>8} {'p95 ms':>8} {'scifact nDCG@10':>16}")
    for factory in factories:
        with tempfile.TemporaryDirectory() as tmp:
            engine = factory()
            started = time.perf_counter()
            engine.build(corpus, Path(tmp))
            build = time.perf_counter() - started
            for q in queries[:20]:  # warm caches
                engine.query(q, 10)
            times = []
            for q in queries:
                started = time.perf_counter()
                engine.query(q, 10)
                times.append(time.perf_counter() - started)
        with tempfile.TemporaryDirectory() as tmp:
            engine = factory()
            engine.build(sci_docs, Path(tmp))
            run = {q: [sci_ids[i] for i in engine.query(text, 10)]
                   for q, text in scifact.queries.items()}
            ndcg = ndcg_at_10(scifact, run)
        print(f"{engine.name:<14} {build:>8.1f} {percentile(times, 50):>8.2f} "
              f"{percentile(times, 95):>8.2f} {ndcg:>16.4f}", flush=True)
    if args.boosts:
        print("\ntantivy field boosts on scifact train, nDCG@10:")
        original = dict(lexical_module.FIELD_BOOSTS)
        for boosts in [{"body": 1.0, "title": t} for t in (0.0, 0.1, 0.2, 0.3, 0.5, 1.0)]:
            with tempfile.TemporaryDirectory() as tmp:
                engine = TantivyEngine(boosts)
                engine.build(sci_docs, Path(tmp))
                run = {q: [sci_ids[i] for i in engine.query(text, 10)]
                       for q, text in scifact.queries.items()}
                label = " ".join(f"{f} {w:.1f}" for f, w in boosts.items())
                print(f"  {label:<28} {ndcg_at_10(scifact, run):.4f}", flush=True)
        lexical_module.FIELD_BOOSTS.clear()
        lexical_module.FIELD_BOOSTS.update(original)


# --- vector engines ---------------------------------------------------------------


class VectorEngine:
    name = ""

    def build(self, vectors: np.ndarray, workdir: Path) -> None:
        raise NotImplementedError

    def query(self, vector: np.ndarray, k: int) -> np.ndarray:
        raise NotImplementedError


class ExactNumpy(VectorEngine):
    name = "numpy exact f32"

    def build(self, vectors: np.ndarray, workdir: Path) -> None:
        self.matrix = vectors.astype(np.float32)

    def query(self, vector: np.ndarray, k: int) -> np.ndarray:
        sims = self.matrix @ vector
        top = np.argpartition(-sims, k)[:k]
        return top[np.argsort(-sims[top])]


class Usearch(VectorEngine):
    def __init__(self, dtype: str, expansion_search: int) -> None:
        self.dtype, self.expansion_search = dtype, expansion_search
        self.name = f"usearch {dtype} ef{expansion_search}"

    def build(self, vectors: np.ndarray, workdir: Path) -> None:
        from usearch.index import Index

        self.index = Index(ndim=vectors.shape[1], metric="ip", dtype=self.dtype,
                           connectivity=16, expansion_add=128,
                           expansion_search=self.expansion_search)
        self.index.add(np.arange(len(vectors), dtype=np.uint64), vectors, threads=1)
        self.index.save(str(workdir / "ann.usearch"))
        self.size = (workdir / "ann.usearch").stat().st_size

    def query(self, vector: np.ndarray, k: int) -> np.ndarray:
        return np.asarray(self.index.search(vector, k, threads=1).keys, dtype=np.int64)


class Hnswlib(VectorEngine):
    def __init__(self, ef: int) -> None:
        self.ef = ef
        self.name = f"hnswlib f32 ef{ef}"

    def build(self, vectors: np.ndarray, workdir: Path) -> None:
        import hnswlib

        self.index = hnswlib.Index(space="ip", dim=vectors.shape[1])
        self.index.init_index(max_elements=len(vectors), ef_construction=128, M=16)
        self.index.set_num_threads(1)
        self.index.add_items(vectors, np.arange(len(vectors)))
        self.index.set_ef(self.ef)
        self.index.save_index(str(workdir / "hnsw.bin"))
        self.size = (workdir / "hnsw.bin").stat().st_size

    def query(self, vector: np.ndarray, k: int) -> np.ndarray:
        labels, _ = self.index.knn_query(vector, k=k)
        return np.asarray(labels[0], dtype=np.int64)


class SqliteVec(VectorEngine):
    name = "sqlite-vec f32 (exact)"

    def build(self, vectors: np.ndarray, workdir: Path) -> None:
        # apsw, because this Python's sqlite3 module cannot load extensions.
        import apsw
        import sqlite_vec

        self.db = apsw.Connection(str(workdir / "vec.sqlite"))
        self.db.enable_load_extension(True)
        self.db.load_extension(sqlite_vec.loadable_path())
        self.db.execute(f"CREATE VIRTUAL TABLE v USING vec0(e float[{vectors.shape[1]}] "
                        "distance_metric=cosine)")
        with self.db:
            self.db.executemany("INSERT INTO v(rowid, e) VALUES (?, ?)",
                                [(i, vec.astype(np.float32).tobytes())
                                 for i, vec in enumerate(vectors)])
        self.size = (workdir / "vec.sqlite").stat().st_size

    def query(self, vector: np.ndarray, k: int) -> np.ndarray:
        rows = self.db.execute("SELECT rowid FROM v WHERE e MATCH ? AND k = ? ORDER BY distance",
                               (vector.astype(np.float32).tobytes(), k))
        return np.array([r[0] for r in rows], dtype=np.int64)


def run_vectors(args: argparse.Namespace) -> None:
    from paperfeed.embed import load_embedder, paper_text

    model_id = args.model_id or load_embedder().model_id
    embedder = beir.CachedEmbedder(load_embedder, model_id)
    docs = beir.load_arxiv_sample(args.arxiv, args.sample)  # the seeds task's sample: cached
    taken = {d.id for d in docs}
    rest = [d for d in beir.load_arxiv_sample(args.arxiv, 0) if d.id not in taken]
    docs += rest[: args.extra]  # more papers, in file order
    queries_text = [d.title for d in random.Random(2).sample(rest[args.extra :], args.queries)]
    started = time.perf_counter()
    vectors = embedder.encode([paper_text(d.title, d.abstract) for d in docs])
    queries = embedder.encode(queries_text)
    print(f"{len(vectors)} real paper embeddings ({model_id}), {len(queries)} title "
          f"queries of other papers; embeddings ready in {time.perf_counter() - started:.0f}s")
    exact = ExactNumpy()
    exact.build(vectors, Path("."))
    truth = [set(exact.query(q, 10).tolist()) for q in queries]
    engines: list[VectorEngine] = [
        ExactNumpy(), Usearch("f32", 64), Usearch("f16", 64), Usearch("f16", 128),
        Usearch("i8", 128), Hnswlib(64), Hnswlib(128), SqliteVec(),
    ]
    engines = [e for e in engines if not args.only or any(o in e.name for o in args.only)]
    print(f"{'engine':<24} {'build s':>8} {'recall@10':>10} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'file MB':>8}")
    for engine in engines:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            engine.build(vectors, Path(tmp))
            build = time.perf_counter() - started
            for q in queries[:20]:
                engine.query(q, 10)
            times, recalls = [], []
            for q, expected in zip(queries, truth, strict=True):
                started = time.perf_counter()
                found = engine.query(q, 10)
                times.append(time.perf_counter() - started)
                recalls.append(len(expected & set(found.tolist())) / 10)
            size: Any = getattr(engine, "size", None)
            size_text = f"{size / 1e6:>8.1f}" if size else f"{'-':>8}"
            print(f"{engine.name:<24} {build:>8.2f} {np.mean(recalls):>10.4f} "
                  f"{percentile(times, 50):>8.3f} {percentile(times, 95):>8.3f} {size_text}",
                  flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    lex = sub.add_parser("lexical")
    lex.add_argument("--arxiv", type=Path, required=True)
    lex.add_argument("--scifact", type=Path, required=True)
    lex.add_argument("--limit", type=int, default=0, help="papers to index (0: all)")
    lex.add_argument("--titles", type=int, default=500)
    lex.add_argument("--phrases", type=int, default=100)
    lex.add_argument("--boosts", action="store_true", help="also try tantivy title boosts")
    lex.add_argument("--commit-every", type=int, default=0,
                     help="also time tantivy committing every N papers (product: 512)")
    vec = sub.add_parser("vectors")
    vec.add_argument("--arxiv", type=Path, required=True)
    vec.add_argument("--sample", type=int, default=10_000)
    vec.add_argument("--extra", type=int, default=0,
                     help="papers added to the sample, in file order (must be embedded)")
    vec.add_argument("--queries", type=int, default=500)
    vec.add_argument("--only", nargs="*", default=[], help="engines whose name contains one")
    vec.add_argument("--model-id", default=None,
                     help="model id keying the cache (default: the configured embedder's)")
    args = parser.parse_args(argv)
    if args.what == "lexical":
        run_lexical(args)
    else:
        run_vectors(args)


if __name__ == "__main__":
    main()
