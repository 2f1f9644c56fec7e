"""Loaders for the retrieval dev sets and a cache of their embeddings.

Owns reading BEIR-format folders (`corpus.jsonl`, `queries*.jsonl`,
`qrels*.tsv`), the CSFCube query-by-example judgments, the 28 seed papers and
a deterministic sample of the arXiv daily corpus, plus `CachedEmbedder`, which
keeps every vector it computes in `benchmarks/.cache/embeddings.sqlite` keyed by
model id and a hash of the text, so re-runs do not embed again.

Every loader returns the same `DevSet` shape: documents, queries, graded
relevance, and per-query document ids to leave out of the ranking (the query
paper itself in query-by-example tasks).
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import random
import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt

from paperfeed.embed.model import paper_text
from paperfeed.embed.train import read_jsonl
from paperfeed.embed.types import Embedder
from paperfeed.index import IndexDoc, PaperIndex
from paperfeed.records import derive_title

CACHE_DIR = Path(__file__).resolve().parent / ".cache"


@dataclass(frozen=True)
class Doc:
    """One document of a dev corpus."""

    id: str
    title: str
    abstract: str
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    date: date | None = None


@dataclass
class DevSet:
    """A corpus, its queries and graded judgments (qrels[qid][doc_id] = grade)."""

    name: str
    docs: list[Doc]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    exclude: dict[str, set[str]] = field(default_factory=dict)
    # Restrict ranking to these candidates (CSFCube judges a pool per query).
    pools: dict[str, set[str]] | None = None


def build_index(docs: Sequence[Doc], embedder: Embedder, where: Path) -> PaperIndex:
    """A real PaperIndex of `docs` in `where`; a document's key is its position in `docs`."""
    index = PaperIndex.open(where, embedder)
    index.add([IndexDoc(key=i, title=d.title, abstract=d.abstract, authors=d.authors,
                        categories=d.categories, date=d.date) for i, d in enumerate(docs)],
              batch_size=2048)
    return index


def judged_ranking(ids: Sequence[str], exclude: set[str], pool: set[str] | None
                   ) -> dict[str, float]:
    """A ranking as pytrec_eval reads it: left-out ids dropped, kept to the judged pool
    when the set has one (CSFCube), scores falling with the rank."""
    kept = [d for d in ids if d not in exclude and (pool is None or d in pool)]
    return {d: float(len(kept) - rank) for rank, d in enumerate(kept)}


# --- BEIR ---------------------------------------------------------------------


def _pick(folder: Path, stem: str, split: str, suffix: str) -> Path:
    for name in (f"{stem}-{split}{suffix}", f"{stem}{suffix}"):
        if (folder / name).is_file():
            return folder / name
    if (folder / stem / f"{split}{suffix}").is_file():  # BEIR's qrels/<split>.tsv layout
        return folder / stem / f"{split}{suffix}"
    raise FileNotFoundError(f"no {stem} file for split {split!r} in {folder}")


def load_beir(folder: Path, split: str = "train") -> DevSet:
    """A BEIR-format folder: corpus.jsonl, queries[-split].jsonl, qrels[-split].tsv."""
    docs = [
        Doc(id=str(row["_id"]), title=str(row.get("title") or ""), abstract=str(row["text"]))
        for row in read_jsonl(folder / "corpus.jsonl")
    ]
    qrels: dict[str, dict[str, int]] = {}
    with _pick(folder, "qrels", split, ".tsv").open(encoding="utf-8") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if not row or row[0] == "query-id":
                continue
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    queries = {
        str(row["_id"]): str(row["text"])
        for row in read_jsonl(_pick(folder, "queries", split, ".jsonl"))
        if str(row["_id"]) in qrels
    }
    return DevSet(name=f"{folder.name}/{split}", docs=docs, queries=queries, qrels=qrels)


# --- CSFCube ------------------------------------------------------------------


def load_csfcube(folder: Path, split: str = "dev") -> DevSet:
    """CSFCube query by example: the query paper's title+abstract, facet ignored.

    Each (paper, facet) pair is one query, ranked within its judged pool as the
    CSFCube protocol does; grades are `relevance_adju` (0-3).
    """
    docs: dict[str, Doc] = {}
    for row in read_jsonl(folder / "corpus_from_readable_annotations.jsonl"):
        pid = str(row["paper_id"])
        sentences = row["abstract_sentences"]
        assert isinstance(sentences, list)
        docs[pid] = Doc(id=pid, title=str(row["title"]), abstract=" ".join(map(str, sentences)))
    wanted = set(json.loads((folder / "evaluation_splits.json").read_text())[split])
    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    pools: dict[str, set[str]] = {}
    exclude: dict[str, set[str]] = {}
    for path in sorted(folder.glob(f"{split}-pid2anns-csfcube-*.json")):
        facet = path.stem.rsplit("-", 1)[1]
        for pid, anns in json.loads(path.read_text()).items():
            qid = f"{pid}_{facet}"
            if qid not in wanted or pid not in docs:
                continue
            query_doc = docs[pid]
            queries[qid] = paper_text(query_doc.title, query_doc.abstract)
            qrels[qid] = {
                str(c): int(g) for c, g in zip(anns["cands"], anns["relevance_adju"], strict=True)
            }
            pools[qid] = {str(c) for c in anns["cands"]}
            exclude[qid] = {pid}
    return DevSet(
        name=f"csfcube/{split}",
        docs=list(docs.values()),
        queries=queries,
        qrels=qrels,
        exclude=exclude,
        pools=pools,
    )


# --- seeds --------------------------------------------------------------------


@dataclass(frozen=True)
class SeedPaper:
    """One seed paper: which file (research group) it came from and its position there."""

    group: str
    position: int
    title: str
    abstract: str


def parse_seed_file(path: Path) -> list[SeedPaper]:
    """The papers of one seed file, in order (the real parsers live in paperfeed.sources).

    `Abstract:` lines form one paper each (titles are then derived from the
    abstract); otherwise a long paragraph is an abstract and the short line
    before it its title, which skips the page chrome at the top.
    """
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    papers: list[tuple[str, str]] = []
    if any(line.startswith("Abstract:") for line in lines):
        for line in lines:
            if line.startswith("Abstract:"):
                abstract = line.removeprefix("Abstract:").strip()
                papers.append((derive_title(abstract), abstract))
    else:
        text_lines = [line for line in lines if line]
        for before, line in itertools.pairwise(text_lines):
            if len(line) > 200 and len(before) < 300:
                papers.append((before, line))
    stem = path.stem
    return [
        SeedPaper(group=stem, position=i, title=t, abstract=a)
        for i, (t, a) in enumerate(papers, start=1)
    ]


def load_seed_papers(folder: Path) -> list[SeedPaper]:
    """All seed papers of the `NNN_*.txt` files in a folder."""
    papers: list[SeedPaper] = []
    for path in sorted(folder.glob("[0-9][0-9][0-9]_*.txt")):
        papers.extend(parse_seed_file(path))
    return papers


def _norm_title(title: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", title.lower()))


def load_arxiv_sample(path: Path, n: int, seed: int = 0) -> list[Doc]:
    """A deterministic random sample of n papers of the arXiv daily corpus (all if n <= 0)."""
    rows = list(read_jsonl(path))
    if 0 < n < len(rows):
        rows = random.Random(seed).sample(rows, n)
    docs = []
    for row in rows:
        listed = row.get("first_seen_listing_date")
        docs.append(
            Doc(
                id=str(row["id"]),
                title=" ".join(str(row["title"]).split()),
                abstract=" ".join(str(row["abstract"]).split()),
                authors=tuple(map(str, row.get("authors") or ())),  # type: ignore[call-overload]
                categories=tuple(map(str, row.get("categories") or ())),  # type: ignore[call-overload]
                date=date.fromisoformat(str(listed)) if listed else None,
            )
        )
    return docs


def load_seeds_task(
    seed_folder: Path, arxiv_path: Path, sample: int = 10_000, task: str = "cards"
) -> DevSet:
    """A dev task on the 28 seed papers, mixed into `sample` arXiv papers.

    task="cards" (the one used for tuning): every task phrase of the gold
    cards in `cards-dev.jsonl` ("out-of-distribution detection", "RGB-Thermal",
    ...) is a typed query; relevant = the seed papers whose card lists that
    phrase (case-insensitive). Background papers on the same topic are not
    judged, so absolute scores are low; methods compare fairly.
    task="group": query by example, each seed paper against the other 27;
    relevant = the other papers of the same group file. Measured to carry
    almost no signal (a group's papers span unrelated topics): kept to show it.
    """
    seeds = load_seed_papers(seed_folder)
    seed_titles = {_norm_title(s.title) for s in seeds}
    background = [d for d in load_arxiv_sample(arxiv_path, sample) if _norm_title(d.title)
                  not in seed_titles]
    docs = [
        Doc(id=f"{s.group}#{s.position}", title=s.title, abstract=s.abstract) for s in seeds
    ] + background
    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    exclude: dict[str, set[str]] = {}
    if task == "group":
        for s in seeds:
            qid = f"{s.group}#{s.position}"
            queries[qid] = paper_text(s.title, s.abstract)
            qrels[qid] = {
                f"{o.group}#{o.position}": 1 for o in seeds if o.group == s.group and o is not s
            }
            exclude[qid] = {qid}
    elif task == "cards":
        by_phrase: dict[str, set[str]] = {}
        phrase_text: dict[str, str] = {}
        for row in read_jsonl(seed_folder / "cards-dev.jsonl"):
            tasks = row.get("tasks") or []
            assert isinstance(tasks, list)
            for phrase in tasks:
                norm = " ".join(str(phrase).lower().split())
                by_phrase.setdefault(norm, set()).add(str(row["id"]))
                phrase_text.setdefault(norm, str(phrase))
        known = {d.id for d in docs}
        for i, (norm, ids) in enumerate(sorted(by_phrase.items())):
            if ids & known:
                queries[f"task{i}"] = phrase_text[norm]
                qrels[f"task{i}"] = {doc_id: 1 for doc_id in ids & known}
    else:
        raise ValueError(f"unknown seeds task {task!r}")
    return DevSet(name=f"seeds-{task}+arxiv{sample}", docs=docs, queries=queries, qrels=qrels,
                  exclude=exclude)


# --- embeddings cache -----------------------------------------------------------


class CachedEmbedder:
    """An Embedder that remembers every vector in SQLite, keyed by model id and text hash.

    The model is loaded only when a text is not in the cache, so a warm re-run
    never loads it.
    """

    def __init__(
        self,
        load: Callable[[], Embedder],
        model_id: str,
        dimension: int = 384,
        cache_file: Path = CACHE_DIR / "embeddings.sqlite",
    ) -> None:
        self._load = load
        self._model: Embedder | None = None
        self.model_id = model_id
        self.dimension = dimension
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(cache_file)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS emb (model TEXT, hash TEXT, vec BLOB, "
            "PRIMARY KEY (model, hash))"
        )

    @staticmethod
    def _hash(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def encode(
        self, texts: Sequence[str], *, progress: Callable[[int], None] | None = None
    ) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        hashes = [self._hash(t) for t in texts]
        found: dict[str, bytes] = {}
        unique = list(dict.fromkeys(hashes))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for h, blob in self._db.execute(
                f"SELECT hash, vec FROM emb WHERE model = ? AND hash IN ({marks})",
                [self.model_id, *chunk],
            ):
                found[h] = blob
        missing = [i for i, h in enumerate(hashes) if h not in found]
        first_missing: dict[str, int] = {}
        for i in missing:
            first_missing.setdefault(hashes[i], i)
        todo = list(first_missing.values())
        # Embed in chunks and commit each, so an interrupted run keeps its progress.
        for start in range(0, len(todo), 256):
            chunk_idx = todo[start : start + 256]
            if self._model is None:
                self._model = self._load()
                if self._model.model_id != self.model_id:
                    raise RuntimeError(
                        f"cache keyed {self.model_id} but model is {self._model.model_id}"
                    )
            vectors = self._model.encode([texts[i] for i in chunk_idx])
            self._db.executemany(
                "INSERT OR REPLACE INTO emb VALUES (?, ?, ?)",
                [
                    (self.model_id, hashes[i], vectors[j].astype(np.float32).tobytes())
                    for j, i in enumerate(chunk_idx)
                ],
            )
            self._db.commit()
            for j, i in enumerate(chunk_idx):
                found[hashes[i]] = vectors[j].astype(np.float32).tobytes()
            if progress:
                progress(len(chunk_idx))
        for i, h in enumerate(hashes):
            out[i] = np.frombuffer(found[h], dtype=np.float32)
        return out
