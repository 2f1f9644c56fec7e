"""The project's own graded query sets: what researchers type, over real papers.

Owns building the corpus these sets are judged over and loading the sets with
their dev / held-out parts. A set lives in `benchmarks/querysets/<name>/`:

- `queries.jsonl`: one query a line, `{"id", "kind", "text", "target", "part"}`;
  kind is `keywords`, `question`, `paraphrase` or `description` (a strict
  paraphrase sharing no content word with its paper); `target` is the paper the writer
  had in mind; `part` is `dev` or `heldout` (fixed by `SPLIT_SEED`, by target, so a
  target's three queries share a part). Another split may leave out kind, target
  and part (then one kind, "all", every query held out).
- `qrels.tsv`: `query-id  doc-id  grade` (0-3) for the pooled top 20 of BM25,
  dense and hybrid search, judged by reading title and abstract.

A set may bring its own `corpus.jsonl` (BEIR style). Otherwise
the corpus is not stored here (data stays in `../shared/data`): it is rebuilt from
the seed files and a seeded sample of the arXiv daily corpus, and its ids
(`<seed file stem>#<n>` for seed papers, arXiv ids otherwise) are checked
against the committed `corpus-ids.txt` so a changed sample cannot go unnoticed.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import beir

HERE = Path(__file__).resolve().parent / "querysets"
ARXIV_SAMPLE = 5_000
SAMPLE_SEED = 12
SPLIT_SEED = 2026
KINDS = ("keywords", "question", "paraphrase", "description")


def researcher_corpus(seed_folder: Path, arxiv_path: Path) -> list[beir.Doc]:
    """The 28 seed papers mixed into a seeded sample of the arXiv daily corpus."""
    seeds = beir.load_seed_papers(seed_folder)
    seed_titles = {beir._norm_title(s.title) for s in seeds}
    background = [d for d in beir.load_arxiv_sample(arxiv_path, ARXIV_SAMPLE, SAMPLE_SEED)
                  if beir._norm_title(d.title) not in seed_titles]
    return [beir.Doc(id=f"{s.group}#{s.position}", title=s.title, abstract=s.abstract)
            for s in seeds] + background


def corpus_digest(docs: Sequence[beir.Doc]) -> str:
    return hashlib.sha256("\n".join(d.id for d in docs).encode()).hexdigest()[:16]


def split_targets(targets: Sequence[str], seed: int = SPLIT_SEED) -> dict[str, str]:
    """Half of the targets (per source: seed papers, arXiv papers) dev, half held out."""
    parts: dict[str, str] = {}
    for source in (True, False):
        group = sorted(t for t in targets if ("#" in t) == source)
        random.Random(seed).shuffle(group)
        for i, target in enumerate(group):
            parts[target] = "dev" if i < (len(group) + 1) // 2 else "heldout"
    return parts


@dataclass
class QuerySet:
    """Queries with kind, target and part, and graded judgments."""

    name: str
    queries: dict[str, str]
    kind: dict[str, str]
    target: dict[str, str]
    part: dict[str, str]
    qrels: dict[str, dict[str, int]]

    def ids(self, part: str | None = None, kind: str | None = None) -> list[str]:
        return [q for q in self.queries
                if (part is None or self.part[q] == part)
                and (kind is None or self.kind[q] == kind)]


def root_of(name: str, folder: Path = HERE) -> Path:
    """A set's folder: a name under benchmarks/querysets/, or a path to any folder."""
    path = Path(name)
    return path if path.is_dir() and not (folder / name).is_dir() else folder / name


def corpus_of(name: str, seed_folder: Path | None, arxiv_path: Path | None) -> list[beir.Doc]:
    """A set's corpus: its own `corpus.jsonl` (BEIR style: `_id`, `title`, `text`) when it
    has one, else the seed papers mixed into the arXiv sample, checked against the set's
    `corpus-ids.txt`."""
    root = root_of(name)
    own = root / "corpus.jsonl"
    if own.exists():
        docs = []
        with own.open(encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, start=1):
                if line.strip():
                    row = json.loads(line)
                    if "_id" not in row:
                        raise ValueError(f"{own}:{line_no}: missing '_id'")
                    docs.append(beir.Doc(id=str(row["_id"]), title=str(row.get("title") or ""),
                                         abstract=str(row.get("text") or "")))
        return docs
    if seed_folder is None or arxiv_path is None:
        raise ValueError(f"{root} has no corpus.jsonl: give the seed folder and the arXiv file")
    docs = researcher_corpus(seed_folder, arxiv_path)
    ids_file = root / "corpus-ids.txt"
    if ids_file.exists() and [d.id for d in docs] != ids_file.read_text().split():
        raise ValueError(f"the rebuilt corpus differs from {ids_file}")
    return docs


def load(name: str, folder: Path = HERE) -> QuerySet:
    root = root_of(name, folder)
    queries, kind, target, part = {}, {}, {}, {}
    with (root / "queries.jsonl").open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            for key in ("id", "text"):
                if key not in row:
                    raise ValueError(f"{root / 'queries.jsonl'}:{line_no}: missing {key!r}")
            qid = str(row["id"])
            queries[qid] = str(row["text"])
            # Another split may carry no kind, target or part: one kind, all held out.
            kind[qid] = str(row.get("kind") or "all")
            target[qid] = str(row.get("target") or "")
            part[qid] = str(row.get("part") or "heldout")
            if part[qid] not in ("dev", "heldout"):
                raise ValueError(f"{root / 'queries.jsonl'}:{line_no}: part must be dev or "
                                 f"heldout, not {part[qid]!r}")
    qrels: dict[str, dict[str, int]] = {q: {} for q in queries}
    qrels_path = root / "qrels.tsv"
    if qrels_path.exists():
        with qrels_path.open(encoding="utf-8") as handle:
            for row in csv.reader(handle, delimiter="\t"):
                if row and row[0] in qrels:
                    qrels[row[0]][row[1]] = int(row[2])
    for qid, doc in target.items():  # the paper the writer had in mind is relevant by construction
        if doc:
            qrels[qid][doc] = max(qrels[qid].get(doc, 0), 3)
    return QuerySet(name=name, queries=queries, kind=kind, target=target, part=part,
                    qrels=qrels)
