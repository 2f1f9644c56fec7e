"""Search and related-paper fusion, chosen by cross-validation, reported on held-out parts.

Owns the evaluation protocol of docs/decisions/evaluation.md for search:

1. Build a real `PaperIndex` per data set and take, per query, the BM25 and the
   dense candidate lists (with scores) and the query's lexical coverage, exactly
   as `search` sees them.
2. Every fusion candidate (static weights under four normalisations, RRF, and
   the query-adaptive weight that follows the coverage) is scored per query.
3. The configuration is chosen on development queries only. The objective is
   the mean, over the development cells (each query kind of the researcher set,
   SciFact, CSFCube), of the margin of fusion over the better single method on
   that cell, so a kind where fusion hurts counts as much as one where it helps.
4. Nested 5-fold cross-validation over the development queries (folds by target
   paper / query paper, seeded) estimates how the choice holds on unseen
   queries; the final choice (made on all development queries) is reported once
   on the held-out parts: the researcher set's `heldout` queries and the
   held-out half of SciFact train (`benchmarks/splits/scifact-train.json`).
   CSFCube has no held-out part here (its owners hold it), so only its
   cross-validated figure is a result.

`related()` is chosen the same way on CSFCube alone (query by example).

    python benchmarks/bench_search.py --seeds ../shared/data/seeds \
        --arxiv ../shared/data/arxiv-daily-cs/arxiv_daily_cs_unique.jsonl.gz \
        --scifact ../shared/data/scifact --csfcube ../shared/data/csfcube

Every path is an argument, so the script runs unchanged on another split
(`--queryset` names a folder under benchmarks/querysets/).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pytrec_eval

sys.path.insert(0, str(Path(__file__).resolve().parent))

import beir
import querysets
from paperfeed.embed import DEFAULT_MAX_SEQ_LENGTH
from paperfeed.index import FusionParams, PaperIndex
from paperfeed.index.fusion import FIXED_FUSION, RELATED_FUSION, SEARCH_FUSION, fuse

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SPLITS = Path(__file__).resolve().parent / "splits"
FOLDS = 5
FOLD_SEED = 2026
TITLE_SEED = 21
Lists = tuple[list[tuple[int, float]], list[tuple[int, float]], float]


@dataclass
class EvalSet:
    """One data set's queries with cell labels, parts, fold groups and candidate lists."""

    name: str
    ids: list[str]  # index key -> doc id
    qrels: dict[str, dict[str, int]]
    cell: dict[str, str]  # query -> which table row it counts in
    part: dict[str, str]  # "dev" or "heldout"
    group: dict[str, str]  # queries of one group share a fold
    lists: dict[str, Lists] = field(default_factory=dict)
    pools: dict[str, set[str]] | None = None
    exclude: dict[str, set[str]] = field(default_factory=dict)
    related: dict[str, int] = field(default_factory=dict)  # query -> key of its paper


def ndcg_per_query(es: EvalSet, run: dict[str, list[int]]) -> dict[str, float]:
    cleaned = {qid: beir.judged_ranking([es.ids[k] for k in keys],
                                        es.exclude.get(qid, set()),
                                        None if es.pools is None else es.pools[qid])
               for qid, keys in run.items()}
    qrels = {q: es.qrels[q] for q in run}
    scores = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10"}).evaluate(cleaned)
    return {q: scores.get(q, {}).get("ndcg_cut_10", 0.0) for q in run}


# --- building -------------------------------------------------------------------


def take_lists(es: EvalSet, index: PaperIndex, queries: dict[str, str], depth: int) -> None:
    qids = list(queries)
    texts = [queries[q] for q in qids]
    sides: dict[str, list[list[tuple[int, float]]]] = {}
    for mode in ("lexical", "dense"):
        hits = index.search_many(texts, k=depth, mode=mode, highlight=False)  # type: ignore[arg-type]
        sides[mode] = [[(h.key, float((h.lexical_score if mode == "lexical"
                                       else h.dense_score) or 0.0)) for h in row]
                       for row in hits]
    coverage = index.coverages(texts)
    for i, qid in enumerate(qids):
        es.lists[qid] = (sides["lexical"][i], sides["dense"][i], coverage[i])


def scifact_split(queries: Sequence[str], path: Path) -> dict[str, str]:
    """Half of SciFact train's claims dev, half held out; made once, then read from `path`."""
    if path.exists():
        saved = json.loads(path.read_text())
        return {q: "dev" for q in saved["dev"]} | {q: "heldout" for q in saved["heldout"]}
    order = sorted(queries)
    random.Random(FOLD_SEED).shuffle(order)
    half = (len(order) + 1) // 2
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"seed": FOLD_SEED, "how": "sorted ids shuffled, first half dev",
                                "dev": sorted(order[:half]), "heldout": sorted(order[half:])},
                               indent=0) + "\n")
    return scifact_split(queries, path)


def load_sets(args: argparse.Namespace, embedder: beir.CachedEmbedder, tmp: Path
              ) -> tuple[list[EvalSet], list[PaperIndex]]:
    sets: list[EvalSet] = []
    indexes: list[PaperIndex] = []

    def add(es: EvalSet, docs: Sequence[beir.Doc], queries: dict[str, str], depth: int) -> None:
        index = beir.build_index(docs, embedder, tmp / str(len(sets)))
        take_lists(es, index, queries, depth)
        sets.append(es)
        indexes.append(index)

    own_corpus = (querysets.root_of(args.queryset) / "corpus.jsonl").exists()
    if (args.seeds and args.arxiv) or own_corpus:
        docs = querysets.corpus_of(args.queryset, args.seeds, args.arxiv)
        qs = querysets.load(args.queryset)
        add(EvalSet(name=f"researcher ({args.queryset})", ids=[d.id for d in docs],
                    qrels=qs.qrels, cell=dict(qs.kind), part=dict(qs.part),
                    group=dict(qs.target)), docs, qs.queries, 100)
    if args.title_abstract:
        # Self-supervised: a paper's title finds its abstract (indexed without the title).
        sample = beir.load_arxiv_sample(args.arxiv, args.title_abstract, seed=TITLE_SEED)
        docs = [beir.Doc(id=d.id, title="", abstract=d.abstract, date=d.date) for d in sample]
        chosen = random.Random(TITLE_SEED).sample(sample, min(1_000, len(sample)))
        queries = {f"t{d.id}": d.title for d in chosen}
        add(EvalSet(name=f"title->abstract ({len(docs)} arXiv papers)",
                    ids=[d.id for d in docs], qrels={f"t{d.id}": {d.id: 1} for d in chosen},
                    cell={q: "title->abstract" for q in queries},
                    part={f"t{d.id}": "dev" if i % 2 == 0 else "heldout"
                          for i, d in enumerate(chosen)},
                    group={q: q for q in queries}), docs, queries, 100)
    if args.scifact:
        dev = beir.load_beir(args.scifact, "train")
        add(EvalSet(name="scifact train", ids=[d.id for d in dev.docs], qrels=dev.qrels,
                    cell={q: "scifact" for q in dev.queries},
                    part=scifact_split(list(dev.queries), args.scifact_split),
                    group={q: q for q in dev.queries}), dev.docs, dev.queries, 100)
    if args.csfcube:
        dev = beir.load_csfcube(args.csfcube, "dev")
        ids = [d.id for d in dev.docs]
        position = {d: i for i, d in enumerate(ids)}
        add(EvalSet(name="csfcube dev", ids=ids, qrels=dev.qrels,
                    cell={q: "csfcube" for q in dev.queries},
                    part={q: "dev" for q in dev.queries},
                    group={q: q.rsplit("_", 1)[0] for q in dev.queries},
                    pools=dev.pools, exclude=dev.exclude,
                    related={q: position[next(iter(dev.exclude[q]))] for q in dev.queries}),
            dev.docs, dev.queries, 1000)
    return sets, indexes


# --- candidates -------------------------------------------------------------------


def label(p: FusionParams) -> str:
    if p.method == "rrf":
        return f"rrf k={p.rrf_k:g} a={p.alpha:.1f}"
    if p.alpha_low is not None and p.coverage_band != (0.0, 1.0):
        low, high = p.coverage_band
        return f"ramp {p.norm} a={p.alpha_low:.1f}..{p.alpha:.1f} c={low:g}..{high:g}"
    if p.alpha_low is not None:
        return f"adaptive {p.norm} a={p.alpha_low:.1f}..{p.alpha:.1f}"
    return f"convex {p.norm} a={p.alpha:.1f}"


def candidates() -> list[FusionParams]:
    steps = [round(a, 1) for a in np.arange(0.0, 1.0001, 0.1)]
    grid = []
    for norm in ("minmax", "zscore", "rank", "max"):
        grid += [FusionParams(method="convex", norm=norm, alpha=a) for a in steps[1:-1]]
    grid += [FusionParams(method="rrf", alpha=a, rrf_k=60.0) for a in steps[1:-1]]
    for norm in ("minmax", "zscore"):
        grid += [FusionParams(method="convex", norm=norm, alpha=hi, alpha_low=lo)
                 for lo in steps for hi in steps if lo < hi]
    # The weight rises over a narrower coverage band (two more knobs).
    grid += [FusionParams(method="convex", norm="minmax", alpha=hi, alpha_low=lo,
                          coverage_band=(c0, c1))
             for lo in (0.0, 0.2) for hi in (0.7, 0.8, 0.9)
             for c0 in (0.0, 0.1, 0.2) for c1 in (0.4, 0.6)]
    return grid


DENSE = FusionParams(method="convex", norm="max", alpha=0.0)
LEXICAL = FusionParams(method="convex", norm="max", alpha=1.0)


def run_of(es: EvalSet, params: FusionParams, qids: Sequence[str]) -> dict[str, list[int]]:
    depth = max(params.depth, max((len(es.lists[q][0]) for q in qids), default=0))
    p = replace(params, depth=depth)
    out = {}
    for q in qids:
        lex, den, coverage = es.lists[q]
        if params is DENSE:
            out[q] = [k for k, _ in den]
        elif params is LEXICAL:
            out[q] = [k for k, _ in lex]
        else:
            out[q] = [k for k, _ in fuse(lex, den, p, coverage)]
    return out


Table = dict[str, dict[str, float]]  # label -> query -> nDCG@10


def score_all(sets: Sequence[EvalSet], grid: Sequence[FusionParams]) -> Table:
    table: Table = {}
    for params in [DENSE, LEXICAL, *grid]:
        key = {id(DENSE): "dense", id(LEXICAL): "lexical"}.get(id(params), label(params))
        table[key] = {}
        for es in sets:
            table[key] |= ndcg_per_query(es, run_of(es, params, list(es.lists)))
    return table


# --- choosing -----------------------------------------------------------------------


def cells_of(sets: Sequence[EvalSet]) -> dict[str, str]:
    return {q: es.cell[q] for es in sets for q in es.lists}


def objective(table: Table, name: str, qids: Sequence[str], cell: dict[str, str]) -> float:
    """Mean over cells of (fusion - better single method) on these queries."""
    margins = []
    for c in sorted({cell[q] for q in qids}):
        in_cell = [q for q in qids if cell[q] == c]
        mean = {k: float(np.mean([table[k][q] for q in in_cell]))
                for k in (name, "dense", "lexical")}
        margins.append(mean[name] - max(mean["dense"], mean["lexical"]))
    return float(np.mean(margins))


def choose(table: Table, names: Sequence[str], qids: Sequence[str], cell: dict[str, str]
           ) -> str:
    return max(names, key=lambda n: (objective(table, n, qids, cell), n))


def folds_of(sets: Sequence[EvalSet], qids: Sequence[str]) -> dict[str, int]:
    """Seeded folds over groups (target paper, query paper), per data set."""
    fold: dict[str, int] = {}
    for es in sets:
        groups = sorted({es.group[q] for q in qids if q in es.lists})
        random.Random(FOLD_SEED).shuffle(groups)
        number = {g: i % FOLDS for i, g in enumerate(groups)}
        fold |= {q: number[es.group[q]] for q in qids if q in es.lists}
    return fold


def cv_objective(table: Table, cv: dict[str, float], dev: Sequence[str],
                 cell: dict[str, str]) -> float:
    """The objective computed on out-of-fold scores: what a family of candidates delivers."""
    margins = []
    for c in sorted({cell[q] for q in dev}):
        in_cell = [q for q in dev if cell[q] == c]
        best = max(mean_over(table["dense"], in_cell), mean_over(table["lexical"], in_cell))
        margins.append(mean_over(cv, in_cell) - best)
    return float(np.mean(margins))


def simplest_family(table: Table, families: dict[str, list[str]], dev: Sequence[str],
                    cell: dict[str, str], fold: dict[str, int]) -> list[str]:
    """The candidates to choose among: a family with more knobs (listed later) is added only
    when it raises the nested-CV objective, i.e. wins on the held-out folds."""
    chosen: list[str] = []
    best = -np.inf
    for name, members in families.items():
        trial = chosen + members
        cv, _ = nested_cv(table, trial, dev, cell, fold)
        score = cv_objective(table, cv, dev, cell)
        print(f"  nested-CV objective with {name}: {score:.4f}")
        if not chosen or score > best:
            chosen, best = trial, score
    return chosen


def nested_cv(table: Table, names: Sequence[str], dev: Sequence[str], cell: dict[str, str],
              fold: dict[str, int]) -> tuple[dict[str, float], list[str]]:
    """Out-of-fold nDCG@10 per dev query, and the configuration each fold chose."""
    out: dict[str, float] = {}
    chosen = []
    for f in range(FOLDS):
        train = [q for q in dev if fold[q] != f]
        test = [q for q in dev if fold[q] == f]
        pick = choose(table, names, train, cell)
        chosen.append(pick)
        out |= {q: table[pick][q] for q in test}
    return out, chosen


# --- reporting ---------------------------------------------------------------------


def mean_over(values: dict[str, float], qids: Sequence[str]) -> float:
    found = [values[q] for q in qids if q in values]
    return float(np.mean(found)) if found else float("nan")


def report(title: str, table: Table, pick: str, cv: dict[str, float], sets: Sequence[EvalSet],
           cell: dict[str, str], part: dict[str, str]) -> None:
    print(f"\n## {title}: {pick}")
    head = (f"{'cell':<16}{'n dev':>6}{'dev chosen-on':>14}{'dev CV':>8}{'dense':>8}"
            f"{'BM25':>8}{'n held':>7}{'held-out':>9}{'dense':>8}{'BM25':>8}{'old':>8}"
            f"{'gap':>8}")
    print(head)
    old = label(FIXED_FUSION)  # the fixed weight used before, same run
    cells = sorted({cell[q] for q in cell})
    for c in [*cells, "all"]:
        qs = [q for q in cell if c in ("all", cell[q])]
        dev = [q for q in qs if part[q] == "dev"]
        held = [q for q in qs if part[q] == "heldout"]
        row = f"{c:<16}{len(dev):>6}"
        row += f"{mean_over(table[pick], dev):>14.4f}{mean_over(cv, dev):>8.4f}"
        row += f"{mean_over(table['dense'], dev):>8.4f}{mean_over(table['lexical'], dev):>8.4f}"
        row += f"{len(held):>7}"
        if held:
            h = mean_over(table[pick], held)
            row += (f"{h:>9.4f}{mean_over(table['dense'], held):>8.4f}"
                    f"{mean_over(table['lexical'], held):>8.4f}")
            row += f"{mean_over(table.get(old, table['dense']), held):>8.4f}"
            row += f"{mean_over(table[pick], dev) - h:>8.4f}"
        print(row)


def search_section(sets: Sequence[EvalSet], grid: Sequence[FusionParams]) -> None:
    started = time.perf_counter()
    table = score_all(sets, grid)
    cell = cells_of(sets)
    part = {q: es.part[q] for es in sets for q in es.lists}
    names = [label(p) for p in grid]
    dev = [q for q in cell if part[q] == "dev"]
    if not dev:  # another split, all held out: report the product's constants on it
        report("search, the product's constants (no dev queries here)", table,
               label(SEARCH_FUSION), {}, sets, cell, part)
        return
    fold = folds_of(sets, dev)
    print(f"\n{len(grid)} candidates scored in {time.perf_counter() - started:.0f}s")
    names = simplest_family(table, families(names), dev, cell, fold)
    cv, chosen = nested_cv(table, names, dev, cell, fold)
    pick = choose(table, names, dev, cell)
    print(f"folds chose: {', '.join(chosen)}")
    print("top 10 on all dev queries (objective = mean margin over the better single "
          "method per cell):")
    for name in sorted(names, key=lambda n: -objective(table, n, dev, cell))[:10]:
        print(f"  {name:<32}{objective(table, name, dev, cell):>8.4f}")
    for name, params in (("product", SEARCH_FUSION), ("old fixed", FIXED_FUSION)):
        print(f"  {'(' + name + ') ' + label(params):<32}"
              f"{objective(table, label(params), dev, cell):>8.4f}")
    report("search, chosen on all dev queries", table, pick, cv, sets, cell, part)
    by_source(table, pick, sets)


def by_source(table: Table, pick: str, sets: Sequence[EvalSet]) -> None:
    """The researcher set's held-out queries by where their target came from: a seed file
    (listing page, publication list) or the arXiv sample."""
    for es in sets:
        if not es.name.startswith("researcher"):
            continue
        print(f"\n{es.name}, held-out queries by the target's source:")
        print(f"{'source':<18}{'n':>4}{'chosen':>9}{'dense':>8}{'BM25':>8}{'old':>8}")
        for source, is_seed in (("seed files", True), ("arXiv sample", False)):
            qs = [q for q in es.lists
                  if es.part[q] == "heldout" and ("#" in es.group[q]) == is_seed]
            if qs:
                print(f"{source:<18}{len(qs):>4}{mean_over(table[pick], qs):>9.4f}"
                      f"{mean_over(table['dense'], qs):>8.4f}"
                      f"{mean_over(table['lexical'], qs):>8.4f}"
                      f"{mean_over(table[label(FIXED_FUSION)], qs):>8.4f}")


def families(names: Sequence[str]) -> dict[str, list[str]]:
    """Candidates by number of knobs: fixed weights (1-2), adaptive (2), ramp (4)."""
    return {
        "fixed weights and RRF": [n for n in names if n.startswith(("convex", "rrf"))],
        "+ adaptive weight": [n for n in names if n.startswith("adaptive")],
        "+ ramp over a coverage band": [n for n in names if n.startswith("ramp")],
    }


def related_section(csf: EvalSet, index: PaperIndex, grid: Sequence[FusionParams]) -> None:
    """related() itself, re-run per candidate configuration, chosen by nested CV on CSFCube."""
    table: Table = {"dense": {}, "lexical": {}}
    qids = list(csf.related)
    for name, params in [("dense", DENSE), ("lexical", LEXICAL),
                         *((label(p), p) for p in grid)]:
        index._related_fusion = params  # the benchmark swaps the constants in place
        run = {q: [h.key for h in index.related(csf.related[q], k=1000)] for q in qids}
        table[name] = ndcg_per_query(csf, run)
    index._related_fusion = RELATED_FUSION
    cell = {q: "csfcube" for q in qids}
    part = {q: "dev" for q in qids}
    names = [label(p) for p in grid]
    fold = folds_of([csf], qids)
    names = simplest_family(table, families(names), qids, cell, fold)
    cv, chosen = nested_cv(table, names, qids, cell, fold)
    pick = choose(table, names, qids, cell)
    print(f"\nrelated(): folds chose: {', '.join(chosen)}")
    report("related(), chosen on all dev queries", table, pick, cv, [csf], cell, part)
    print(f"related() dense-only {mean_over(table['dense'], qids):.4f}; out-of-fold "
          f"{mean_over(cv, qids):.4f}; product {label(RELATED_FUSION)} "
          f"{mean_over(table[label(RELATED_FUSION)], qids):.4f}; old {label(FIXED_FUSION)} "
          f"{mean_over(table[label(FIXED_FUSION)], qids):.4f}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=Path, help="seed files (researcher query set corpus)")
    parser.add_argument("--arxiv", type=Path, help="arXiv daily jsonl.gz (researcher corpus)")
    parser.add_argument("--queryset", default="researcher",
                        help="a folder under benchmarks/querysets/ or a path: queries.jsonl, "
                             "qrels.tsv, and corpus.jsonl or corpus-ids.txt (see querysets.py)")
    parser.add_argument("--scifact", type=Path, help="BEIR SciFact folder (train split)")
    parser.add_argument("--scifact-split", type=Path, default=SPLITS / "scifact-train.json")
    parser.add_argument("--csfcube", type=Path, help="CSFCube folder (dev queries)")
    parser.add_argument("--title-abstract", type=int, default=0, metavar="N",
                        help="add the self-supervised set: N arXiv papers (needs --arxiv) "
                             "indexed without titles, 1,000 titles as queries")
    parser.add_argument("--model-id", default=None)
    parser.add_argument("--model", default=None,
                        help="model folder (default: the product's, as load_embedder resolves)")
    parser.add_argument("--max-seq-length", type=int, default=DEFAULT_MAX_SEQ_LENGTH)
    parser.add_argument("--no-related", action="store_true")
    args = parser.parse_args(argv)
    if args.seeds and not args.arxiv:
        parser.error("--seeds needs --arxiv")
    if args.title_abstract and not args.arxiv:
        parser.error("--title-abstract needs --arxiv")

    from paperfeed.embed import load_embedder

    def load() -> beir.Embedder:
        return load_embedder(args.model, max_seq_length=args.max_seq_length)

    model_id = args.model_id or load().model_id
    embedder = beir.CachedEmbedder(load, model_id)
    print(f"model {model_id}; current search fusion {label(SEARCH_FUSION)}; "
          f"related {label(RELATED_FUSION)}")
    grid = candidates()
    with tempfile.TemporaryDirectory() as tmp:
        sets, indexes = load_sets(args, embedder, Path(tmp))
        for es in sets:
            print(f"# {es.name}: {len(es.lists)} queries "
                  f"({sum(p == 'dev' for p in es.part.values())} dev)")
        search_section(sets, grid)
        csf = next((es for es in sets if es.related), None)
        if csf is not None and not args.no_related:
            related_section(csf, indexes[sets.index(csf)], grid)
        for index in indexes:
            index.close()


if __name__ == "__main__":
    main()
