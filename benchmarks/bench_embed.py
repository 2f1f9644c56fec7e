"""Embedding speed and quality per backend and sequence length.

Owns the table of docs/decisions/embedding.md. Each configuration runs in its
own subprocess (so peak RSS is its own): it loads the embedder, warms up,
embeds `--n` arXiv title+abstract texts and reports texts/s (wall clock) and
texts per CPU-second (less sensitive to other processes on the machine), then
embeds the SciFact corpus and train claims. The parent compares every
configuration with the reference (sentence-transformers fp32, 256 tokens) run
in the same invocation: mean and minimum cosine between the vectors of the
same arXiv texts, and dense-only nDCG@10 / Recall@100 on SciFact train.

    python benchmarks/bench_embed.py \
        ../shared/data/arxiv-daily-cs/arxiv_daily_cs_unique.jsonl.gz \
        --n 2000 --scifact ../shared/data/scifact

SciFact vectors are cached in benchmarks/.cache/bench_embed/ by model id
(`--no-cache` to recompute); exported ONNX models in benchmarks/.cache/models/.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytrec_eval

sys.path.insert(0, str(Path(__file__).resolve().parent))

import beir
from paperfeed.embed import load_embedder, paper_text

ROOT = Path(__file__).resolve().parent.parent
CACHE = beir.CACHE_DIR / "bench_embed"
MODEL_CACHE = beir.CACHE_DIR / "models"
REFERENCE = "torch-256"
DEFAULT_CONFIGS = (
    "torch-256",
    "onnx-fp32-256",
    "onnx-int8-256",
    "torch-128",
    "onnx-fp32-128",
    "onnx-int8-128",
    "onnx-int8-96",
    "onnx-int8-64",
)
WARMUP = 64

Matrix = npt.NDArray[np.float32]


def split_config(config: str) -> tuple[str, int]:
    backend, _, seq = config.rpartition("-")
    return backend, int(seq)


# --- worker (one configuration, in its own process) ---------------------------


def worker(args: argparse.Namespace) -> None:
    backend, seq = split_config(args.worker)
    if args.prepare:
        # Export/quantise in a process of its own, so the measured one neither
        # pays for it nor counts PyTorch in its peak RSS.
        load_embedder(backend=backend, cache_dir=MODEL_CACHE, max_seq_length=seq)  # type: ignore[arg-type]
        return
    work = Path(args.workdir)
    texts: list[str] = json.loads((work / "arxiv.json").read_text(encoding="utf-8"))
    started = time.perf_counter()
    embedder = load_embedder(
        backend=backend,  # type: ignore[arg-type]
        cache_dir=MODEL_CACHE,
        max_seq_length=seq,
        batch_size=args.batch_size,
        threads=args.threads,
        workers=args.workers,
    )
    load_s = time.perf_counter() - started
    embedder.encode(texts[:WARMUP])
    wall, cpu = time.perf_counter(), time.process_time()
    vectors = embedder.encode(texts)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    np.save(work / f"{args.worker}.arxiv.npy", vectors)

    # int8 vectors depend a little on batch composition, so the batch size is part of the key.
    batch = args.batch_size or "default"
    cached = CACHE / f"scifact-{embedder.model_id.replace('/', '_')}-b{batch}.npz"
    if args.no_cache or not cached.is_file():
        sci = json.loads((work / "scifact.json").read_text(encoding="utf-8"))
        docs = embedder.encode(sci["docs"])
        queries = embedder.encode(sci["queries"])
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(cached, docs=docs, queries=queries, ids=np.array(sci["hash"]))
    report = {
        "config": args.worker,
        "model_id": embedder.model_id,
        "load_s": load_s,
        "texts_per_s": len(texts) / wall,
        "texts_per_cpu_s": len(texts) / cpu,
        "peak_rss_mb": peak_rss_mb,
        "scifact": str(cached),
    }
    print(json.dumps(report), flush=True)


# --- parent ---------------------------------------------------------------------


@dataclass
class Row:
    config: str
    model_id: str
    load_s: float
    texts_per_s: float
    texts_per_cpu_s: float
    peak_rss_mb: float
    cos_mean: float = float("nan")
    cos_min: float = float("nan")
    ndcg10: float = float("nan")
    recall100: float = float("nan")


def retrieval(dev: beir.DevSet, docs: Matrix, queries: Matrix) -> tuple[float, float]:
    """Dense-only nDCG@10 and Recall@100 by brute-force cosine (vectors are unit length)."""
    qids = list(dev.queries)
    scores = queries @ docs.T
    top = np.argpartition(-scores, 100, axis=1)[:, :100]
    run = {qid: {dev.docs[j].id: float(scores[i, j]) for j in top[i]} for i, qid in enumerate(qids)}
    evaluator = pytrec_eval.RelevanceEvaluator(dev.qrels, {"ndcg_cut.10", "recall.100"})
    per_query = evaluator.evaluate(run)
    ndcg = float(np.mean([per_query[q]["ndcg_cut_10"] for q in qids]))
    recall = float(np.mean([per_query[q]["recall_100"] for q in qids]))
    return ndcg, recall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("arxiv", type=Path, nargs="?", help="arxiv_daily_cs_unique.jsonl.gz")
    parser.add_argument("--n", type=int, default=2000, help="arXiv texts to time (default 2000)")
    parser.add_argument("--scifact", type=Path, default=ROOT.parent / "shared/data/scifact")
    parser.add_argument(
        "--configs",
        default=",".join(DEFAULT_CONFIGS),
        help=f"BACKEND-SEQLEN list; {REFERENCE} (the reference) is always run",
    )
    parser.add_argument("--batch-size", type=int, default=None, help="default: 32 torch, 1 ONNX")
    parser.add_argument(
        "--workers", type=int, default=None, help="ONNX batches run at once (default: one per core)"
    )
    parser.add_argument("--threads", type=int, default=None, help="default: usable cores")
    parser.add_argument("--no-cache", action="store_true", help="recompute SciFact vectors")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    if args.arxiv is None:
        parser.error("the arXiv daily jsonl.gz path is required")

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    configs = [REFERENCE] + [c for c in args.configs.split(",") if c and c != REFERENCE]
    for config in configs:
        split_config(config)  # fail on a typo before any work
    arxiv = [paper_text(d.title, d.abstract) for d in beir.load_arxiv_sample(args.arxiv, args.n)]
    dev = beir.load_beir(args.scifact, "train")
    sci_docs = [paper_text(d.title, d.abstract) for d in dev.docs]
    sci_queries = list(dev.queries.values())
    sci_hash = hashlib.sha256(json.dumps([sci_docs, sci_queries]).encode()).hexdigest()

    work = CACHE / f"run-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    (work / "arxiv.json").write_text(json.dumps(arxiv), encoding="utf-8")
    (work / "scifact.json").write_text(
        json.dumps({"docs": sci_docs, "queries": sci_queries, "hash": sci_hash}), encoding="utf-8"
    )
    print(
        f"{len(arxiv)} arXiv texts, SciFact {len(sci_docs)} docs / {len(sci_queries)} claims, "
        f"batch {args.batch_size or 'default'}, threads {args.threads or 'all'}, "
        f"workers {args.workers or 'default'}, "
        f"load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    rows: list[Row] = []
    reference: Matrix | None = None
    for config in configs:
        command = [sys.executable, __file__, "--worker", config, "--workdir", str(work)]
        for flag in ("batch_size", "threads", "workers"):
            if getattr(args, flag):
                command += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
        if args.no_cache:
            command.append("--no-cache")
        subprocess.run([*command, "--prepare"], capture_output=True, check=False)
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            print(f"{config}: failed\n{result.stderr[-2000:]}", file=sys.stderr)
            continue
        report = json.loads(result.stdout.strip().splitlines()[-1])
        scifact = report.pop("scifact")
        report.pop("config")
        row = Row(config=config, **report)
        vectors = np.load(work / f"{config}.arxiv.npy")
        if config == REFERENCE:
            reference = vectors
        if reference is not None:
            cos = (vectors * reference).sum(axis=1)
            row.cos_mean, row.cos_min = float(cos.mean()), float(cos.min())
        stored = np.load(scifact)
        if str(stored["ids"]) == sci_hash:
            row.ndcg10, row.recall100 = retrieval(dev, stored["docs"], stored["queries"])
        rows.append(row)
        print(f"  {row}, load average {os.getloadavg()[0]:.1f}", flush=True)
    for path in work.iterdir():
        path.unlink()
    work.rmdir()

    ref = rows[0] if rows and rows[0].config == REFERENCE else None
    print()
    print(
        "| config | texts/s | texts/CPU-s | peak RSS MB | cos mean | cos min "
        "| nDCG@10 | ratio | R@100 | ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        nd_ratio = row.ndcg10 / ref.ndcg10 if ref else float("nan")
        rc_ratio = row.recall100 / ref.recall100 if ref else float("nan")
        print(
            f"| {row.config} | {row.texts_per_s:.1f} | {row.texts_per_cpu_s:.1f} "
            f"| {row.peak_rss_mb:.0f} | {row.cos_mean:.4f} | {row.cos_min:.4f} "
            f"| {row.ndcg10:.4f} | {nd_ratio:.3f} | {row.recall100:.4f} | {rc_ratio:.3f} |"
        )
    if args.json:
        args.json.write_text(json.dumps([row.__dict__ for row in rows], indent=2) + "\n")


if __name__ == "__main__":
    main()
