"""Embedder options compared on quality (dev and held-out queries) and papers/s (issue 12).

Owns the table "Issue 12: embedder options" of docs/decisions/embedding.md.
For each configuration it builds paperfeed's own `PaperIndex` (as
bench_quality.py does, vectors cached by model id in benchmarks/.cache/) and
reports dense-alone and hybrid nDCG@10 on:

- SciFact train claims, split in two halves by the project's committed seeded
  split `benchmarks/splits/scifact-train.json` (the one bench_search.py made and
  uses: "dev" = the half used to choose, "heldout" = the half reported);
- CSFCube dev queries (query by example; `related()` as well).

Then it times every configuration on the same `--n` arXiv papers (title +
abstract as the product embeds them), all embedders loaded in one process and
run in turn for `--rounds` rounds, so the first configuration (the baseline,
today's default) is measured in the same run and the ratio to it means
something on a shared machine. Per configuration it prints the median
papers/s (wall clock) and papers per CPU-second.

A configuration is `[MODEL_DIR=]BACKEND-LENGTH`, e.g. `onnx-int8-128` (the
packaged all-MiniLM-L6-v2) or `/data/models/minilm-arxiv=onnx-int8-128` (a
model folder, e.g. one written by `python -m paperfeed.embed.train`).

    python benchmarks/bench_embedders.py \
        --scifact ../shared/data/scifact --csfcube ../shared/data/csfcube \
        --arxiv ../shared/data/arxiv-daily-cs/arxiv_daily_cs_unique.jsonl.gz \
        --configs onnx-int8-128,onnx-int8-256
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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
import bench_quality
from paperfeed.embed import Embedder, load_embedder, paper_text

os.environ.setdefault("HF_HUB_OFFLINE", "1")

HERE = Path(__file__).resolve().parent
SPLIT_FILE = HERE / "splits" / "scifact-train.json"
MODEL_CACHE = beir.CACHE_DIR / "models"


def load_split(dev: beir.DevSet, path: Path = SPLIT_FILE) -> dict[str, list[str]]:
    """The project's committed SciFact split (made by bench_search.py, seed in the file)."""
    split = json.loads(path.read_text(encoding="utf-8"))
    if set(split["dev"]) | set(split["heldout"]) != set(dev.queries):
        raise SystemExit(f"{path} does not cover exactly the {len(dev.queries)} claims")
    return {"dev": list(split["dev"]), "heldout": list(split["heldout"])}


def subset(dev: beir.DevSet, qids: Sequence[str], name: str) -> beir.DevSet:
    keep = set(qids)
    return replace(dev, name=name, queries={q: t for q, t in dev.queries.items() if q in keep},
                   qrels={q: r for q, r in dev.qrels.items() if q in keep})


def per_query_ndcg(dev: beir.DevSet, run: bench_quality.Run) -> dict[str, float]:
    """nDCG@10 per query (pools and exclusions applied as bench_quality.evaluate does)."""
    cleaned = bench_quality.clean_run(dev, run)
    scores = pytrec_eval.RelevanceEvaluator(dev.qrels, {"ndcg_cut.10"}).evaluate(cleaned)
    return {q: scores.get(q, {}).get("ndcg_cut_10", 0.0) for q in dev.queries}


def split_config(config: str) -> tuple[str | None, str, int]:
    model, _, spec = config.rpartition("=")
    backend, _, length = spec.rpartition("-")
    return model or None, backend, int(length)


def load(config: str, threads: int | None = None) -> Embedder:
    model, backend, length = split_config(config)
    return load_embedder(model, backend=backend, cache_dir=MODEL_CACHE,  # type: ignore[arg-type]
                         max_seq_length=length, threads=threads)


@dataclass
class Quality:
    config: str
    model_id: str
    # (set, method) -> per-query nDCG@10
    scores: dict[tuple[str, str], dict[str, float]]


def quality(config: str, scifact: beir.DevSet, split: dict[str, list[str]],
            csfcube: beir.DevSet | None, workdir: Path) -> Quality:
    embedder = load(config)
    cached = beir.CachedEmbedder(lambda: embedder, embedder.model_id, embedder.dimension)
    scores: dict[tuple[str, str], dict[str, float]] = {}
    built = bench_quality.build(scifact, cached, workdir / "scifact")
    for mode in ("dense", "hybrid", "lexical"):
        run = bench_quality.search_run(built, mode)
        for part, qids in split.items():
            scores[(f"scifact-{part}", mode)] = per_query_ndcg(
                subset(scifact, qids, f"scifact-{part}"), run)
    built.index.close()
    if csfcube is not None:
        built = bench_quality.build(csfcube, cached, workdir / "csfcube")
        for mode in ("dense", "hybrid", "lexical"):
            scores[("csfcube-dev", mode)] = per_query_ndcg(
                csfcube, bench_quality.search_run(built, mode))
        related = bench_quality.related_run(built)
        if related is not None:
            scores[("csfcube-dev", "related")] = per_query_ndcg(csfcube, related)
        built.index.close()
    return Quality(config, embedder.model_id, scores)


def paired_ci(a: dict[str, float], b: dict[str, float], seed: int = 0,
              samples: int = 2000) -> tuple[float, float, float]:
    """Mean of a - b over the same queries and its 95% bootstrap interval."""
    qids = sorted(a)
    diff = np.array([a[q] - b[q] for q in qids])
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), (samples, len(diff)))].mean(axis=1)
    return float(diff.mean()), float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def speed(configs: Sequence[str], texts: list[str], rounds: int) -> dict[str, list[tuple[float,
                                                                                     float]]]:
    """(papers/s, papers/CPU-s) per round; all embedders loaded, run in turn each round."""
    embedders = {c: load(c) for c in configs}
    for embedder in embedders.values():
        embedder.encode(texts[:64])  # warm-up
    out: dict[str, list[tuple[float, float]]] = {c: [] for c in configs}
    for round_ in range(rounds):
        for config, embedder in embedders.items():
            wall, cpu = time.perf_counter(), time.process_time()
            embedder.encode(texts)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            out[config].append((len(texts) / wall, len(texts) / cpu))
            print(f"  round {round_ + 1} {config}: {len(texts) / wall:.1f} papers/s, "
                  f"{len(texts) / cpu:.1f} papers/CPU-s, load {os.getloadavg()[0]:.1f}",
                  flush=True)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scifact", type=Path, required=True)
    parser.add_argument("--csfcube", type=Path)
    parser.add_argument("--arxiv", type=Path, help="arXiv daily jsonl.gz (for the speed runs)")
    parser.add_argument("--configs", default="onnx-int8-128",
                        help="comma-separated [MODEL_DIR=]BACKEND-LENGTH; the first is the "
                             "baseline (default: today's default, onnx-int8-128)")
    parser.add_argument("--n", type=int, default=1000, help="arXiv papers to time")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-quality", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    configs = [c for c in args.configs.split(",") if c]
    for config in configs:
        split_config(config)

    results: dict[str, object] = {"configs": configs}
    if not args.no_quality:
        scifact = beir.load_beir(args.scifact, "train")
        split = load_split(scifact)
        csfcube = beir.load_csfcube(args.csfcube, "dev") if args.csfcube else None
        found: list[Quality] = []
        with tempfile.TemporaryDirectory() as tmp:
            for i, config in enumerate(configs):
                found.append(quality(config, scifact, split, csfcube, Path(tmp) / str(i)))
                print(f"# {config}: {found[-1].model_id}", flush=True)
        base = found[0]
        print("\n| config | set | method | nDCG@10 | vs baseline (95% CI) |")
        print("|---|---|---|---:|---|")
        for q in found:
            for (part, method), per_query in q.scores.items():
                mean = float(np.mean(list(per_query.values())))
                delta = ""
                if q is not base:
                    d, lo, hi = paired_ci(per_query, base.scores[(part, method)])
                    delta = f"{d:+.4f} ({lo:+.4f} to {hi:+.4f})"
                print(f"| {q.config} | {part} (n={len(per_query)}) | {method} | {mean:.4f} "
                      f"| {delta} |")
        results["quality"] = {
            q.config: {"model_id": q.model_id,
                       **{f"{p}/{m}": float(np.mean(list(s.values())))
                          for (p, m), s in q.scores.items()}}
            for q in found
        }
    if args.arxiv:
        docs = beir.load_arxiv_sample(args.arxiv, args.n)
        texts = [paper_text(d.title, d.abstract) for d in docs]
        print(f"\nspeed: {len(texts)} arXiv papers, {args.rounds} rounds, "
              f"load {os.getloadavg()[0]:.1f}", flush=True)
        timings = speed(configs, texts, args.rounds)
        base_wall = statistics.median(w for w, _ in timings[configs[0]])
        base_cpu = statistics.median(c for _, c in timings[configs[0]])
        print("\n| config | papers/s (median) | papers/CPU-s (median) | ratio to baseline (CPU) |")
        print("|---|---:|---:|---:|")
        for config, rows in timings.items():
            wall = statistics.median(w for w, _ in rows)
            cpu = statistics.median(c for _, c in rows)
            print(f"| {config} | {wall:.1f} | {cpu:.1f} | {cpu / base_cpu:.2f} "
                  f"(wall {wall / base_wall:.2f}) |")
        results["speed"] = timings
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
