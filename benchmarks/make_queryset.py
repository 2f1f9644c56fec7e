"""How the researcher query set in `benchmarks/querysets/researcher/` was made.

Owns the two mechanical steps around the human-style writing and judging:

    python benchmarks/make_queryset.py assemble WRITTEN.jsonl... [--append]
        queries written per target paper -> queries.jsonl with ids and parts
    python benchmarks/make_queryset.py pool --seeds ../shared/data/seeds \
        --arxiv ../shared/data/arxiv-daily-cs/arxiv_daily_cs_unique.jsonl.gz --out DIR
        the pooled top 20 of BM25, dense and hybrid search per query not judged yet,
        as judging packets

    python benchmarks/make_queryset.py check WRITTEN.jsonl --seeds ... --arxiv ...
        flag strict descriptions that share a content word with their paper

Order mattered: the queries were written from the target paper's title and
abstract alone, before any ranker ran on them; the pools were judged afterwards
(grades 0-3), and the judgments are `qrels.tsv`. The writing and judging were
done by language-model assistants working from written briefs (the briefs are
in `benchmarks/querysets/researcher/README.md`), not by the code here.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import beir
import querysets

POOL_DEPTH = 20


def assemble(written: Sequence[Path], name: str, append: bool = False) -> None:
    """Number the written queries and give each its target's part.

    append: add to an existing set (new ids after the last; the targets must be the set's
    own, so the split by target stays the one made first).
    """
    rows = [json.loads(line) for path in written for line in path.read_text().splitlines()
            if line.strip()]
    out = querysets.HERE / name / "queries.jsonl"
    existing = out.read_text(encoding="utf-8").splitlines() if append else []
    old = [json.loads(line) for line in existing if line.strip()]
    targets = sorted({str(r["target"]) for r in old} or {str(r["target"]) for r in rows})
    if not {str(r["target"]) for r in rows} <= set(targets):
        raise SystemExit("appended queries must be about the set's own targets")
    parts = querysets.split_targets(targets)
    order = {kind: i for i, kind in enumerate(querysets.KINDS)}
    rows.sort(key=lambda r: (str(r["target"]), order[str(r["kind"])]))
    start = len(old) + 1
    with out.open("a" if append else "w", encoding="utf-8") as handle:
        for i, row in enumerate(rows, start=start):
            record = {"id": f"q{i:03d}", "kind": row["kind"], "text": row["text"],
                      "target": row["target"], "part": parts[str(row["target"])]}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"{out}: {len(rows)} queries over {len({str(r['target']) for r in rows})} targets"
          + (f" appended after {len(old)}" if append else ""))


def pool(seed_folder: Path, arxiv: Path, name: str, out: Path, packets: int) -> None:
    from paperfeed.embed import load_embedder

    docs = querysets.researcher_corpus(seed_folder, arxiv)
    expected = (querysets.HERE / name / "corpus-ids.txt").read_text().split()
    if [d.id for d in docs] != expected:
        raise SystemExit("the rebuilt corpus differs from corpus-ids.txt")
    qs = querysets.load(name)
    qrels_file = querysets.HERE / name / "qrels.tsv"
    judged = {line.split("\t", 1)[0] for line in qrels_file.read_text().splitlines()} \
        if qrels_file.exists() else set()
    model_id = load_embedder().model_id
    embedder = beir.CachedEmbedder(load_embedder, model_id)
    by_id = {d.id: d for d in docs}
    pools: dict[str, list[str]] = {q: [] for q in qs.queries}
    with tempfile.TemporaryDirectory() as tmp:
        index = beir.build_index(docs, embedder, Path(tmp) / "ix")
        qids = [q for q in qs.queries if q not in judged]  # pool only what is not judged
        for mode in ("lexical", "dense", "hybrid"):
            results = index.search_many([qs.queries[q] for q in qids], k=POOL_DEPTH,
                                        mode=mode, highlight=False)  # type: ignore[arg-type]
            for qid, hits in zip(qids, results, strict=True):
                for hit in hits:
                    doc_id = docs[hit.key].id
                    if doc_id not in pools[qid]:
                        pools[qid].append(doc_id)
        index.close()
    out.mkdir(parents=True, exist_ok=True)
    sizes = []
    chunks = [qids[i::packets] for i in range(packets)]
    for n, chunk in enumerate(chunks):
        with (out / f"pool-{n}.md").open("w", encoding="utf-8") as handle:
            for qid in chunk:
                # Judges see the query and the pool in a fixed shuffled-by-id order, not
                # which system found what, and not which paper the writer had in mind.
                ids = sorted(set(pools[qid]) - {qs.target[qid]})
                sizes.append(len(ids) + 1)
                handle.write(f"# query {qid}\nQuery: {qs.queries[qid]}\n\n")
                for doc_id in ids:
                    d = by_id[doc_id]
                    handle.write(f"## doc {doc_id}\nTitle: {d.title}\n"
                                 f"Abstract: {d.abstract[:900]}\n\n")
    print(f"{len(qids)} queries; pool sizes mean {sum(sizes) / len(sizes):.1f}, "
          f"max {max(sizes)}; {packets} packets in {out}")


# Words a strict description may share with its paper (the writers' checker, below).
GENERIC = frozenset({
    "model", "models", "data", "method", "methods", "approach", "approaches", "learning",
    "learn", "learned", "using", "use", "used", "based", "paper", "work", "results", "result",
    "show", "shows", "new", "novel", "task", "tasks", "performance", "propose", "proposed",
    "system", "systems", "network", "networks", "train", "training", "trained", "large", "small",
    "better", "than", "that", "this", "with", "from", "their", "which", "when", "such", "more",
    "less", "without", "into", "each", "other", "while", "about", "these", "those", "what",
    "where", "have", "will", "been", "also", "over", "under", "between", "across", "both",
    "only", "very", "many", "much", "some", "make", "makes", "made", "how", "can", "way", "ways",
    "problem", "problems", "study", "studies", "existing", "current", "prior", "well", "high",
    "low", "good", "time", "times", "first", "one", "two", "three", "number", "set", "sets",
    "able", "allow", "allows", "help", "helps", "need", "needs", "often", "still", "even",
    "given",
})


def shared_stems(query: str, paper: str) -> set[str]:
    """Content-word stems a description shares with its paper (what `check` flags)."""
    # The index's own split and stems (paperfeed.text), so a flagged stem is one BM25 matches.
    from paperfeed.text import index_terms, tokenize

    def stems(text: str) -> set[str]:
        words = [w for w in tokenize(text) if w not in GENERIC and len(w) > 2]
        return set(index_terms(" ".join(words)))

    return stems(query) & stems(paper)


def check(written: Path, seed_folder: Path, arxiv: Path) -> int:
    """Print every description that shares a content word with its target paper."""
    docs = {d.id: f"{d.title} {d.abstract}"
            for d in querysets.researcher_corpus(seed_folder, arxiv)}
    flagged = 0
    for line in written.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            shared = shared_stems(str(row["text"]), docs[str(row["target"])])
            if shared:
                flagged += 1
                print(f"{row['target']}: shares {sorted(shared)}: {row['text']}")
    print(f"{flagged} queries share content words")
    return flagged


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("assemble")
    a.add_argument("written", type=Path, nargs="+")
    a.add_argument("--name", default="researcher")
    a.add_argument("--append", action="store_true", help="add to the set's existing queries")
    p = sub.add_parser("pool")
    p.add_argument("--seeds", type=Path, required=True)
    p.add_argument("--arxiv", type=Path, required=True)
    p.add_argument("--name", default="researcher")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--packets", type=int, default=8)
    c = sub.add_parser("check", help="flag descriptions sharing content words with their paper")
    c.add_argument("written", type=Path)
    c.add_argument("--seeds", type=Path, required=True)
    c.add_argument("--arxiv", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "check":
        raise SystemExit(1 if check(args.written, args.seeds, args.arxiv) else 0)
    if args.command == "assemble":
        assemble(args.written, args.name, args.append)
    else:
        pool(args.seeds, args.arxiv, args.name, args.out, args.packets)


if __name__ == "__main__":
    main()
