"""Retrieval quality of paperfeed's index: BM25 alone, dense alone, and the hybrid.

Owns the quality table of docs/decisions/fusion.md and the fusion tuning
(`--tune`). Every number comes from paperfeed's own `PaperIndex` (search modes
"lexical", "dense", "hybrid", and `related` for query-by-example sets), built
in a temporary directory from the dev set's documents; embeddings come from
`benchmarks/.cache/` when already computed.

    python benchmarks/bench_quality.py \
        --beir ../shared/data/scifact --split train \
        --csfcube ../shared/data/csfcube \
        --seeds ../shared/data/seeds \
        --arxiv ../shared/data/arxiv-daily-cs/arxiv_daily_cs_unique.jsonl.gz

Dev tasks: SciFact train claims (BEIR; any BEIR folder works with --beir);
CSFCube dev queries (query by example: the query paper's title+abstract, facet
ignored; each query's judged pool is re-ranked, grades 0-3); the seed papers
mixed into a sample of the arXiv corpus, queried with the task phrases of
their gold cards (relevant = the seed papers whose card lists the phrase;
`--seeds-task group` adds the query-by-example-by-group task, which carries
almost no signal, see docs/decisions/fusion.md).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytrec_eval

sys.path.insert(0, str(Path(__file__).resolve().parent))

import beir
from paperfeed.index import FusionParams, PaperIndex
from paperfeed.index.fusion import RELATED_FUSION, SEARCH_FUSION, fuse

os.environ.setdefault("HF_HUB_OFFLINE", "1")

Run = dict[str, list[str]]


@dataclass
class Built:
    dev: beir.DevSet
    index: PaperIndex
    ids: list[str]
    depth: int  # how deep to rank (deep enough to reach every judged candidate)


def clean_run(dev: beir.DevSet, run: Run) -> dict[str, dict[str, float]]:
    """A run as pytrec_eval scores it (`beir.judged_ranking` per query)."""
    return {qid: beir.judged_ranking(run.get(qid, []), dev.exclude.get(qid, set()),
                                     None if dev.pools is None else dev.pools[qid])
            for qid in dev.queries}


def evaluate(dev: beir.DevSet, run: Run) -> dict[str, float]:
    """Mean nDCG@10 and Recall@100 over all queries (a query with no results scores 0)."""
    cleaned = clean_run(dev, run)
    evaluator = pytrec_eval.RelevanceEvaluator(dev.qrels, {"ndcg_cut.10", "recall.100"})
    scores = evaluator.evaluate(cleaned)
    return {
        "ndcg@10": float(np.mean([scores.get(q, {}).get("ndcg_cut_10", 0.0)
                                  for q in dev.queries])),
        "recall@100": float(np.mean([scores.get(q, {}).get("recall_100", 0.0)
                                     for q in dev.queries])),
    }


def build(dev: beir.DevSet, embedder: beir.CachedEmbedder, workdir: Path) -> Built:
    started = time.perf_counter()
    index = beir.build_index(dev.docs, embedder, workdir / dev.name.replace("/", "_"))
    print(f"# {dev.name}: {len(dev.docs)} docs, {len(dev.queries)} queries, "
          f"indexed in {time.perf_counter() - started:.0f}s", flush=True)
    depth = 1000 if dev.pools is not None else 100 + max(
        (len(e) for e in dev.exclude.values()), default=0)
    return Built(dev, index, [d.id for d in dev.docs], depth)


def search_run(built: Built, mode: str, index: PaperIndex | None = None) -> Run:
    qids = list(built.dev.queries)
    run: Run = {}
    for start in range(0, len(qids), 256):
        chunk = qids[start : start + 256]
        results = (index or built.index).search_many(
            [built.dev.queries[q] for q in chunk], k=built.depth, mode=mode,  # type: ignore[arg-type]
            highlight=False)
        for qid, hits in zip(chunk, results, strict=True):
            run[qid] = [built.ids[h.key] for h in hits]
    return run


def related_run(built: Built, index: PaperIndex | None = None) -> Run | None:
    """For query-by-example sets whose query papers are in the corpus: `related`."""
    position = {doc_id: i for i, doc_id in enumerate(built.ids)}
    run: Run = {}
    for qid in built.dev.queries:
        (query_doc,) = built.dev.exclude.get(qid, {None}) or {None}
        if query_doc not in position:
            return None
        hits = (index or built.index).related(position[query_doc], k=built.depth)
        run[qid] = [built.ids[h.key] for h in hits]
    return run


def report(built_sets: Sequence[Built]) -> None:
    print()
    print(f"{'dev set':<22} {'method':<16} {'nDCG@10':>8} {'R@100':>8}")
    for built in built_sets:
        rows: dict[str, dict[str, float]] = {}
        for mode, label in (("lexical", "BM25"), ("dense", "dense"), ("hybrid", "paperfeed")):
            rows[label] = evaluate(built.dev, search_run(built, mode))
        related = related_run(built)
        if related is not None:
            rows["related()"] = evaluate(built.dev, related)
        for label, metrics in rows.items():
            print(f"{built.dev.name:<22} {label:<16} {metrics['ndcg@10']:>8.4f} "
                  f"{metrics['recall@100']:>8.4f}")
        best = max(rows["BM25"]["ndcg@10"], rows["dense"]["ndcg@10"])
        best_recall = max(rows["BM25"]["recall@100"], rows["dense"]["recall@100"])
        ratio = rows["paperfeed"]["ndcg@10"] / best if best else float("nan")
        ratio_recall = rows["paperfeed"]["recall@100"] / best_recall if best_recall else 0.0
        print(f"{built.dev.name:<22} {'paperfeed/best':<16} {ratio:>8.3f} {ratio_recall:>8.3f}")
        if "related()" in rows:
            rel = rows["related()"]["ndcg@10"] / best if best else float("nan")
            print(f"{built.dev.name:<22} {'related()/best':<16} {rel:>8.3f}")
        print(flush=True)


# --- tuning -------------------------------------------------------------------------


Lists = dict[str, tuple[list[tuple[int, float]], list[tuple[int, float]]]]


def candidate_lists(built: Built) -> Lists:
    """Per query, the BM25 and the dense candidates with their scores, as search sees them."""
    lexical = {}
    dense = {}
    for mode, into in (("lexical", lexical), ("dense", dense)):
        qids = list(built.dev.queries)
        for start in range(0, len(qids), 256):
            chunk = qids[start : start + 256]
            results = built.index.search_many(
                [built.dev.queries[q] for q in chunk], k=built.depth, mode=mode,  # type: ignore[arg-type]
                highlight=False)
            for qid, hits in zip(chunk, results, strict=True):
                into[qid] = [(h.key, float((h.lexical_score if mode == "lexical"
                                            else h.dense_score) or 0.0)) for h in hits]
    return {q: (lexical[q], dense[q]) for q in built.dev.queries}


def fused_ndcg(built: Built, lists: Lists, params: FusionParams) -> float:
    params = replace(params, depth=max(params.depth, built.depth))
    run = {q: [built.ids[k] for k, _ in fuse(lex, den, params)] for q, (lex, den) in lists.items()}
    return evaluate(built.dev, run)["ndcg@10"]


def tune(built_sets: Sequence[Built], exclude: Sequence[str]) -> None:
    lists = {b.dev.name: candidate_lists(b) for b in built_sets}
    grid: list[FusionParams] = []
    alphas = [round(a, 2) for a in np.arange(0.0, 1.0001, 0.1)]
    for alpha in alphas:
        grid.append(FusionParams(method="convex", norm="max", alpha=alpha))
        grid.append(FusionParams(method="convex", norm="minmax", alpha=alpha))
        for rrf_k in (10.0, 60.0):
            grid.append(FusionParams(method="rrf", alpha=alpha, rrf_k=rrf_k))
    table: dict[FusionParams, dict[str, float]] = {
        params: {b.dev.name: fused_ndcg(b, lists[b.dev.name], params) for b in built_sets}
        for params in grid
    }
    singles = {
        b.dev.name: max(table[FusionParams(method="convex", norm="max", alpha=1.0)][b.dev.name],
                        table[FusionParams(method="convex", norm="max", alpha=0.0)][b.dev.name])
        for b in built_sets
    }
    names = [b.dev.name for b in built_sets]
    qbe = [b.dev.name for b in built_sets if b.dev.exclude]

    def label(p: FusionParams) -> str:
        extra = f" k={p.rrf_k:g}" if p.method == "rrf" else f" {p.norm}"
        return f"{p.method}{extra} a={p.alpha:.1f}"

    def show(title: str, over: list[str]) -> None:
        if not over:
            return
        def objective(p: FusionParams) -> float:
            return float(np.mean([table[p][n] / singles[n] for n in over]))
        print(f"\n{title}: mean nDCG@10 relative to the best single method over {over}")
        header = "".join(f"{n[:18]:>20}" for n in names)
        print(f"{'fusion':<26}{'objective':>10}{header}")
        ranked = sorted(grid, key=objective, reverse=True)
        for p in [*ranked[:12], SEARCH_FUSION, RELATED_FUSION]:
            cells = "".join(f"{table[p][n]:>20.4f}" for n in names) if p in table else ""
            print(f"{label(p):<26}{objective(p) if p in table else float('nan'):>10.4f}{cells}")

    tuned = [n for n in names if not any(x in n for x in exclude)]
    show("all tuning sets (SEARCH_FUSION)", tuned)
    show("query-by-example tuning sets only (RELATED_FUSION)", [n for n in qbe if n in tuned])
    for method in ("convex max", "convex minmax", "rrf k=60"):
        row = [p for p in grid if label(p).startswith(method)]
        print(f"\n{method}: nDCG@10 by alpha")
        for p in row:
            cells = "".join(f"{table[p][n]:>20.4f}" for n in names)
            print(f"  a={p.alpha:.1f}{cells}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--beir", type=Path, nargs="*", default=[],
                        help="BEIR-format folders (corpus.jsonl, queries*.jsonl, qrels*.tsv)")
    parser.add_argument("--split", default="train", help="which queries/qrels split of --beir")
    parser.add_argument("--csfcube", type=Path, help="CSFCube folder")
    parser.add_argument("--csfcube-split", default="dev")
    parser.add_argument("--seeds", type=Path, help="folder with the NNN_*.txt seed files")
    parser.add_argument("--arxiv", type=Path, help="arXiv daily jsonl.gz (background for --seeds)")
    parser.add_argument("--sample", type=int, default=10_000, help="arXiv papers mixed in")
    parser.add_argument("--seeds-task", nargs="+", default=["cards"], choices=["cards", "group"],
                        help="seed dev tasks (see beir.load_seeds_task)")
    parser.add_argument("--tune", action="store_true", help="grid-search the fusion constants")
    parser.add_argument("--tune-exclude", nargs="*", default=["seeds-group"],
                        help="dev sets (name contains) shown but left out of the objective")
    parser.add_argument("--model-id", default=None,
                        help="model id to key the cache (default: load the embedder to ask it)")
    args = parser.parse_args(argv)

    from paperfeed.embed import load_embedder

    model_id = args.model_id or load_embedder().model_id
    embedder = beir.CachedEmbedder(load_embedder, model_id)
    dev_sets: list[beir.DevSet] = [beir.load_beir(folder, args.split) for folder in args.beir]
    if args.csfcube:
        dev_sets.append(beir.load_csfcube(args.csfcube, args.csfcube_split))
    if args.seeds:
        if not args.arxiv:
            parser.error("--seeds needs --arxiv for the background papers")
        for task in args.seeds_task:
            dev_sets.append(beir.load_seeds_task(args.seeds, args.arxiv, args.sample, task))
    if not dev_sets:
        parser.error("give at least one of --beir, --csfcube, --seeds")
    print(f"model: {model_id}; search fusion: {SEARCH_FUSION}; related fusion: {RELATED_FUSION}")
    with tempfile.TemporaryDirectory() as tmp:
        built_sets = [build(dev, embedder, Path(tmp)) for dev in dev_sets]
        report(built_sets)
        if args.tune:
            tune(built_sets, args.tune_exclude)
        for built in built_sets:
            built.index.close()


if __name__ == "__main__":
    main()
