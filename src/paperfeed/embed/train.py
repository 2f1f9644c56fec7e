"""Domain adaptation of the sentence model by contrastive fine-tuning on CPU (issue 12).

Owns `python -m paperfeed.embed.train`: it reads (title, abstract) pairs of a
paper corpus in JSON lines (the arXiv daily dump's `title`/`abstract` fields)
and, optionally, citation pairs (papers the SPECTER sample says one paper cites,
the S2ORC sample's papers with abstracts as title/abstract pairs), and
fine-tunes the packaged all-MiniLM-L6-v2 with the in-batch-negatives loss of
sentence-transformers' MultipleNegativesRankingLoss (cross-entropy over
scaled cosines, the other positives of the batch as negatives). It writes a
sentence-transformers folder that `load_embedder(<folder>)` (or
PAPERFEED_MODEL=<folder>) embeds with, exported to int8 ONNX like the default.

Reproducible: the pairs are drawn and shuffled with `--seed`, torch is seeded,
and training stops after a fixed number of steps (never on a clock), so the
same data, seed and thread count give the same weights. The loop is a plain
PyTorch one (about 40 lines) because sentence-transformers' trainer needs the
`datasets` and `accelerate` packages, which the product does not otherwise use.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import logging
import random
import re
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperfeed.embed.model import local_model_dir, paper_text, resolve_model_path

log = logging.getLogger(__name__)

# MultipleNegativesRankingLoss' default: cosines scaled by 20 before the softmax.
SCALE = 20.0
# Files a sentence-transformers folder needs besides the weights, copied from the base.
_COPIED = (
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "1_Pooling",
    "2_Normalize",
)


@dataclass(frozen=True)
class Pair:
    """An anchor text and the text it should be nearest to; `kind` says where it came from.

    `titles` are the titles of the papers the two texts come from, so that
    papers of an evaluation corpus can be kept out of training.
    """

    anchor: str
    positive: str
    kind: str
    titles: tuple[str, ...] = ()


def norm_title(title: str) -> str:
    """A title reduced to lower-case words, to match the same paper across sources."""
    return " ".join(re.findall(r"[a-z0-9]+", title.lower()))


def read_titles(paths: Sequence[Path]) -> set[str]:
    """Normalised `title` fields of JSON-lines files (e.g. evaluation corpora to keep out)."""
    return {norm_title(_clean(row.get("title"))) for path in paths for row in read_jsonl(path)}


def without(pairs: Sequence[Pair], titles: set[str]) -> list[Pair]:
    """The pairs none of whose papers has one of `titles`."""
    return [p for p in pairs if not any(norm_title(t) in titles for t in p.titles)]


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """The JSON objects of a JSON-lines file (gzipped when it ends in .gz), blank lines
    skipped: the shared corpora's format, for training and the benchmarks."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _clean(text: object) -> str:
    return " ".join(str(text or "").split())


def title_abstract_pairs(path: Path, n: int, seed: int) -> list[Pair]:
    """n (title, abstract) pairs drawn with `seed` from a JSON-lines corpus (all if n <= 0).

    The positive is the abstract alone: with the title in it as well, the
    pair is matched on the repeated words and teaches almost nothing.
    """
    rows = [(_clean(r.get("title")), _clean(r.get("abstract"))) for r in read_jsonl(path)]
    rows = [(t, a) for t, a in rows if t and len(a) > 50]
    if 0 < n < len(rows):
        rows = random.Random(seed).sample(rows, n)
    return [Pair(t, a, "title-abstract", (t,)) for t, a in rows]


def specter_pairs(folder: Path) -> list[Pair]:
    """Co-citation pairs of the SPECTER sample: papers the same query paper cites (directly or not).

    The sample has no text for its 20 query papers, only for their candidates,
    so each query's candidates (directly cited first) are chained in pairs.
    """
    data = json.loads((folder / "data.json").read_text(encoding="utf-8"))
    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))

    def paper(pid: str) -> tuple[str, str] | None:
        row = meta.get(pid)
        if not row or not _clean(row.get("abstract")):
            return None
        title = _clean(row.get("title"))
        return title, paper_text(title, _clean(row.get("abstract")))

    pairs: list[Pair] = []
    for _query, candidates in sorted(data.items()):
        ranked = sorted(candidates, key=lambda c: (-int(candidates[c].get("count", 0)), c))
        papers = [p for p in map(paper, ranked) if p]
        pairs.extend(Pair(a[1], b[1], "co-citation", (a[0], b[0]))
                     for a, b in itertools.pairwise(papers))
    return pairs


def s2orc_pairs(folder: Path) -> list[Pair]:
    """The S2ORC sample: internal citation edges, and (title, paper) for papers with abstracts."""
    rows = {str(r["paper_id"]): r for r in read_jsonl(folder / "metadata_sample.jsonl")}
    texts = {
        pid: paper_text(_clean(r.get("title")), _clean(r.get("abstract")))
        for pid, r in rows.items()
        if _clean(r.get("title")) and len(_clean(r.get("abstract"))) > 50
    }
    def title(pid: str) -> str:
        return _clean(rows[pid]["title"])

    pairs = [Pair(title(p), _clean(rows[p]["abstract"]), "title-abstract", (title(p),))
             for p in sorted(texts)]
    for pid in sorted(texts):
        for cited in rows[pid].get("outbound_citations") or []:
            if str(cited) in texts:
                pairs.append(Pair(texts[pid], texts[str(cited)], "citation",
                                  (title(pid), title(str(cited)))))
    return pairs


def train(
    pairs: Sequence[Pair],
    out: Path,
    *,
    base: str | None = None,
    steps: int,
    batch_size: int = 32,
    max_seq_length: int = 128,
    lr: float = 2e-5,
    warmup: float = 0.1,
    seed: int = 0,
    threads: int | None = None,
) -> dict[str, Any]:
    """Fine-tunes `base` (default: the packaged model) on `pairs` for `steps` batches into `out`.

    Returns what was done (also written to `out/paperfeed_training.json`).
    """
    import numpy as np
    import torch
    from transformers import AutoModel, AutoTokenizer

    if steps < 1 or batch_size < 2:
        raise ValueError("steps must be >= 1 and batch_size >= 2 (in-batch negatives)")
    base_dir = local_model_dir(resolve_model_path(base))
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if threads:
        torch.set_num_threads(threads)
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
    model = AutoModel.from_pretrained(str(base_dir))
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    warm = max(1, int(steps * warmup))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))),
    )

    def embed(texts: list[str]) -> torch.Tensor:
        batch = tokenizer(texts, padding=True, truncation=True, max_length=max_seq_length,
                          return_tensors="pt")
        hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1)

    order: list[int] = []
    rng = random.Random(seed)
    started, cpu_started = time.perf_counter(), time.process_time()
    losses: list[float] = []
    for step in range(steps):
        if len(order) < batch_size:  # a new epoch: reshuffle
            fresh = list(range(len(pairs)))
            rng.shuffle(fresh)
            order.extend(fresh)
        chunk, order = order[:batch_size], order[batch_size:]
        # Duplicate positives in one batch would be false negatives: keep the first.
        kept: list[int] = []
        seen: set[str] = set()
        for i in chunk:
            if pairs[i].positive not in seen:
                seen.add(pairs[i].positive)
                kept.append(i)
        anchors = embed([pairs[i].anchor for i in kept])
        positives = embed([pairs[i].positive for i in kept])
        logits = SCALE * anchors @ positives.T
        loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(kept)))
        optimizer.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        losses.append(float(loss.detach()))
        if (step + 1) % 20 == 0 or step + 1 == steps:
            log.info("step %d/%d loss %.4f (%.0f s)", step + 1, steps,
                     float(np.mean(losses[-20:])), time.perf_counter() - started)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out), safe_serialization=True)
    for name in _COPIED:
        source = base_dir / name
        if source.is_dir():
            shutil.copytree(source, out / name, dirs_exist_ok=True)
        elif source.is_file():
            shutil.copy2(source, out / name)
    kinds: dict[str, int] = {}
    for pair in pairs:
        kinds[pair.kind] = kinds.get(pair.kind, 0) + 1
    report = {
        "base": str(base_dir),
        "pairs": kinds,
        "steps": steps,
        "batch_size": batch_size,
        "max_seq_length": max_seq_length,
        "lr": lr,
        "warmup": warmup,
        "seed": seed,
        "threads": torch.get_num_threads(),
        "loss_first_20": float(np.mean(losses[:20])),
        "loss_last_20": float(np.mean(losses[-20:])),
        "wall_s": round(time.perf_counter() - started, 1),
        "cpu_s": round(time.process_time() - cpu_started, 1),
    }
    (out / "paperfeed_training.json").write_text(json.dumps(report, indent=1) + "\n",
                                                 encoding="utf-8")
    return report


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m paperfeed.embed.train",
        description="Fine-tune the sentence model on a paper corpus's own pairs (CPU).",
    )
    parser.add_argument("--corpus", type=Path, required=True,
                        help="JSON lines with title and abstract "
                        "(e.g. arxiv_daily_cs_unique.jsonl.gz)")
    parser.add_argument("--specter", type=Path, help="SPECTER citation sample folder (optional)")
    parser.add_argument("--s2orc", type=Path, help="S2ORC metadata sample folder (optional)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write the model to")
    parser.add_argument("--base", help="model folder to start from (default: the packaged one)")
    parser.add_argument("--exclude", type=Path, nargs="*", default=[],
                        help="JSON-lines files whose papers (by title) are kept out of training, "
                        "e.g. the evaluation corpora")
    parser.add_argument("--pairs", type=int, default=10_000, help="corpus pairs drawn")
    # About 10 CPU-seconds a step at batch 32 and 128 tokens: 140 steps fit 25 CPU-minutes.
    parser.add_argument("--steps", type=int, default=140)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    pairs = title_abstract_pairs(args.corpus, args.pairs, args.seed)
    if args.specter:
        pairs += specter_pairs(args.specter)
    if args.s2orc:
        pairs += s2orc_pairs(args.s2orc)
    if args.exclude:
        kept = without(pairs, read_titles(args.exclude))
        log.info("kept out %d pairs whose papers are in %s", len(pairs) - len(kept),
                 ", ".join(map(str, args.exclude)))
        pairs = kept
    report = train(pairs, args.out, base=args.base, steps=args.steps, batch_size=args.batch_size,
                   max_seq_length=args.max_seq_length, lr=args.lr, seed=args.seed,
                   threads=args.threads)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
