"""The committed query sets and splits are whole: the evaluation rests on them."""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import querysets  # noqa: E402

from ..conftest import shared_path  # noqa: E402


def test_researcher_set_has_sixty_queries_per_kind_half_held_out() -> None:
    qs = querysets.load("researcher")
    counts = Counter((qs.kind[q], qs.part[q]) for q in qs.queries)
    for kind in querysets.KINDS:
        assert counts[(kind, "dev")] + counts[(kind, "heldout")] >= 60
        assert counts[(kind, "dev")] == counts[(kind, "heldout")]
    # A target's queries never straddle the two parts (no leak through the target).
    by_target: dict[str, set[str]] = {}
    for q, target in qs.target.items():
        by_target.setdefault(target, set()).add(qs.part[q])
    assert all(len(parts) == 1 for parts in by_target.values())


def test_researcher_judgments_are_graded_and_point_into_the_corpus() -> None:
    root = querysets.HERE / "researcher"
    corpus = set((root / "corpus-ids.txt").read_text().split())
    queries = {json.loads(line)["id"] for line in (root / "queries.jsonl").open()}
    seen = set()
    with (root / "qrels.tsv").open() as handle:
        for line_no, row in enumerate(csv.reader(handle, delimiter="\t"), start=1):
            assert len(row) == 3, f"qrels.tsv:{line_no}"
            qid, doc, grade = row
            assert qid in queries and doc in corpus, f"qrels.tsv:{line_no}"
            assert grade in {"0", "1", "2", "3"}, f"qrels.tsv:{line_no}"
            assert (qid, doc) not in seen, f"qrels.tsv:{line_no} repeats a pair"
            seen.add((qid, doc))
    assert {q for q, _ in seen} == queries  # every query's pool was judged
    qs = querysets.load("researcher")
    assert all(t in corpus for t in qs.target.values())


def test_split_is_the_seeded_one() -> None:
    qs = querysets.load("researcher")
    assert querysets.split_targets(sorted(set(qs.target.values()))) == {
        qs.target[q]: qs.part[q] for q in qs.queries}


def test_scifact_split_halves_the_train_claims() -> None:
    saved = json.loads((BENCHMARKS / "splits" / "scifact-train.json").read_text())
    dev, held = set(saved["dev"]), set(saved["heldout"])
    assert not dev & held and abs(len(dev) - len(held)) <= 1
    folder = shared_path("scifact")
    train = {json.loads(line)["_id"] for line in (folder / "queries-train.jsonl").open()}
    assert dev | held == train


def test_loader_names_the_line_of_a_broken_query(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "queries.jsonl").write_text('{"id": "q1", "kind": "keywords"}\n')
    with pytest.raises(ValueError, match=r"queries.jsonl:1: missing 'text'"):
        querysets.load("x", tmp_path)
