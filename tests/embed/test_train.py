"""The fine-tuning command: its pairs, its determinism, and that its output is an embedder."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from paperfeed.embed import load_embedder
from paperfeed.embed.train import (
    Pair,
    s2orc_pairs,
    specter_pairs,
    title_abstract_pairs,
    train,
    without,
)

ABSTRACT = "We study {topic} and show that a simple method improves the results on benchmarks."


def _corpus(path: Path, n: int) -> Path:
    topics = ["image segmentation", "machine translation", "graph neural networks",
              "robot grasping", "speech recognition", "protein folding", "code generation",
              "3D reconstruction"]
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for i in range(n):
            topic = topics[i % len(topics)]
            handle.write(json.dumps({"id": str(i), "title": f"Paper {i} on {topic}",
                                     "abstract": ABSTRACT.format(topic=topic)}) + "\n")
        handle.write(json.dumps({"id": "x", "title": "No abstract", "abstract": ""}) + "\n")
    return path


def test_title_abstract_pairs_are_drawn_reproducibly(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "c.jsonl.gz", 40)
    first = title_abstract_pairs(corpus, 10, seed=3)
    assert first == title_abstract_pairs(corpus, 10, seed=3)
    assert first != title_abstract_pairs(corpus, 10, seed=4)
    assert len(first) == 10
    # The positive is the abstract without the title (else the pair is trivially matched).
    assert all(p.anchor not in p.positive for p in first)
    assert len(title_abstract_pairs(corpus, 0, seed=0)) == 40  # the empty abstract is dropped


def test_real_citation_samples_give_pairs(shared_file: Callable[..., Path]) -> None:
    specter = specter_pairs(shared_file("specter-citation-sample"))
    # 422 (query, candidate) pairs over 20 queries: at most 402 links when chained per query.
    assert 300 <= len(specter) <= 402
    assert {p.kind for p in specter} == {"co-citation"}
    s2orc = s2orc_pairs(shared_file("s2orc-sample"))
    assert any(p.kind == "title-abstract" for p in s2orc)


def test_pairs_of_excluded_papers_are_dropped(tmp_path: Path) -> None:
    pairs = [Pair("A", "a", "title-abstract", ("Deep Nets: a Study",)),
             Pair("b text", "c text", "citation", ("B", "Graph cuts, revisited")),
             Pair("D", "d", "title-abstract", ("D",))]
    # Titles match whatever their case and punctuation.
    kept = without(pairs, {"graph cuts revisited", "deep nets a study"})
    assert [p.anchor for p in kept] == ["D"]


@pytest.mark.slow
def test_training_is_deterministic_and_loads_as_an_embedder(tmp_path: Path) -> None:
    pairs = [Pair(f"Paper on {t}", ABSTRACT.format(topic=t), "title-abstract")
             for t in ("image segmentation", "machine translation", "robot grasping",
                       "speech recognition", "protein folding", "code generation")]
    kwargs = {"steps": 2, "batch_size": 4, "max_seq_length": 32, "lr": 1e-4, "seed": 1,
              "threads": 1}
    first = train(pairs, tmp_path / "a", **kwargs)  # type: ignore[arg-type]
    train(pairs, tmp_path / "b", **kwargs)  # type: ignore[arg-type]
    assert first["steps"] == 2
    assert (tmp_path / "a" / "model.safetensors").read_bytes() == (
        tmp_path / "b" / "model.safetensors").read_bytes()
    embedder = load_embedder(tmp_path / "a", backend="onnx-int8", cache_dir=tmp_path / "cache",
                             max_seq_length=64)
    assert embedder.model_id.startswith("a@onnx-int8-s64-")
    base = load_embedder(backend="onnx-int8", cache_dir=tmp_path / "cache", max_seq_length=64)
    texts = ["Paper on image segmentation", "An unrelated sentence about cooking."]
    tuned, original = embedder.encode(texts), base.encode(texts)
    assert np.allclose(np.linalg.norm(tuned, axis=1), 1.0, atol=1e-5)
    # The weights moved, but two steps leave the model close to where it started
    # (a model that lost its weights would be nowhere near).
    cos = (tuned * original).sum(axis=1)
    assert (cos < 0.99999).any() and (cos > 0.5).all()
