"""The default (int8 ONNX) embedder against the sentence-transformers reference, and its cache."""

from __future__ import annotations

import json
import random
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from paperfeed.embed import (
    DEFAULT_MAX_SEQ_LENGTH,
    Embedder,
    OnnxEmbedder,
    SentenceTransformerEmbedder,
    load_embedder,
)
from paperfeed.embed.cache import _sha256
from paperfeed.errors import ModelUnavailableError

pytestmark = pytest.mark.slow

SENTENCES = [
    "Graph neural networks for molecular property prediction under distribution shift.",
    "We propose a diffusion model that generates 3D indoor scenes from a text prompt and a "
    "floor plan, and evaluate it on a new benchmark of 5,000 annotated rooms.",
    "Large language models hallucinate citations; we measure how often on 1,200 questions.",
    "A lightweight transformer for real-time semantic segmentation on mobile devices.",
    "Retrieval-augmented generation improves factual accuracy in open-domain question answering.",
    "Out-of-distribution detection with energy scores.",
    "Self-supervised pre-training of vision transformers with masked image modelling.",
    "BM25",
]


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray((a * b).sum(axis=1))


def test_default_is_onnx_int8_at_the_chosen_length(default_embedder: Embedder) -> None:
    assert isinstance(default_embedder, OnnxEmbedder)
    assert "@onnx-int8-" in default_embedder.model_id
    assert f"-s{DEFAULT_MAX_SEQ_LENGTH}-" in default_embedder.model_id
    assert default_embedder.dimension == 384


def test_vectors_are_unit_length_and_agree_with_the_reference(
    default_embedder: Embedder, reference_embedder: Embedder
) -> None:
    got = default_embedder.encode(SENTENCES)
    want = reference_embedder.encode(SENTENCES)
    assert got.dtype == np.float32
    assert got.shape == (len(SENTENCES), 384)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    agreement = _cosines(got, want)
    assert agreement.min() > 0.95, agreement
    # Agreement means something only if different sentences are far apart.
    cross = got @ want.T
    assert (cross.argmax(axis=1) == np.arange(len(SENTENCES))).all()


def test_fp32_export_matches_the_reference_closely(
    model_cache: Path, reference_embedder: Embedder
) -> None:
    fp32 = load_embedder(backend="onnx-fp32", cache_dir=model_cache)
    agreement = _cosines(fp32.encode(SENTENCES), reference_embedder.encode(SENTENCES))
    assert agreement.min() > 0.9999, agreement


def test_order_is_preserved_across_length_buckets(model_cache: Path) -> None:
    # Distinct lengths and a small batch: several buckets, sorted differently from the input.
    texts = [" ".join(["token"] * (i + 1) + [f"item {i}"]) for i in range(12)]
    texts = [f"{s} {t}" for s, t in zip(SENTENCES * 2, texts, strict=False)]
    embedder = load_embedder(cache_dir=model_cache, batch_size=3)
    in_order = embedder.encode(texts)
    perm = list(range(len(texts)))
    random.Random(7).shuffle(perm)
    shuffled = embedder.encode([texts[i] for i in perm])
    np.testing.assert_allclose(shuffled, in_order[perm], atol=1e-5)
    assert isinstance(embedder, OnnxEmbedder)
    embedder.chunk_size = 5  # tokenised and sorted in several chunks too
    chunked = embedder.encode(texts)
    # Other batches mean other int8 activation scales (cosine ~0.99): close, not identical.
    assert _cosines(chunked, in_order).min() > 0.98
    assert ((chunked @ in_order.T).argmax(axis=1) == np.arange(len(texts))).all()
    one_by_one = np.vstack([embedder.encode([t]) for t in texts])
    assert _cosines(one_by_one, in_order).min() > 0.98


def test_empty_input(default_embedder: Embedder) -> None:
    out = default_embedder.encode([])
    assert out.shape == (0, 384)
    assert out.dtype == np.float32


def test_long_text_is_truncated_not_refused(default_embedder: Embedder) -> None:
    head = " ".join(SENTENCES * 40)  # far beyond 512 positions
    a, b = default_embedder.encode([head + " cats and dogs", head + " quantum chemistry"])
    np.testing.assert_allclose(np.linalg.norm(a), 1.0, atol=1e-5)
    # Everything past the limit is cut, so different tails give the same vector.
    assert float(a @ b) > 0.9999


def test_progress_counts_every_text(default_embedder: Embedder) -> None:
    seen: list[int] = []
    default_embedder.encode(SENTENCES * 10, progress=seen.append)
    assert sum(seen) == len(SENTENCES) * 10
    assert len(seen) > 1


def test_model_id_differs_per_backend_and_length(
    model_cache: Path, default_embedder: Embedder, reference_embedder: Embedder
) -> None:
    longer = load_embedder(cache_dir=model_cache, max_seq_length=256)
    fp32 = load_embedder(backend="onnx-fp32", cache_dir=model_cache)
    ids = {default_embedder.model_id, longer.model_id, fp32.model_id, reference_embedder.model_id}
    assert len(ids) == 4


def test_second_load_reuses_the_cache(model_cache: Path) -> None:
    files = sorted(model_cache.glob("*.onnx"))
    assert len(files) == 2  # fp32 and int8
    before = {f: f.stat().st_mtime_ns for f in files}
    load_embedder(cache_dir=model_cache)
    load_embedder(backend="onnx-fp32", cache_dir=model_cache)
    assert {f: f.stat().st_mtime_ns for f in files} == before
    assert sorted(model_cache.glob("*.onnx")) == files


def test_corrupted_cache_is_detected_and_rebuilt(
    model_cache: Path, default_embedder: Embedder, tmp_path: Path
) -> None:
    cache = tmp_path / "models"
    shutil.copytree(model_cache, cache)
    (int8,) = cache.glob("*.int8.onnx")
    (fp32,) = cache.glob("*.fp32.onnx")
    fp32_mtime = fp32.stat().st_mtime_ns
    data = bytearray(int8.read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 64):
        data[i] ^= 0xFF
    int8.write_bytes(bytes(data))

    rebuilt = load_embedder(cache_dir=cache)
    manifest = json.loads(int8.with_name(int8.name + ".manifest.json").read_text())
    assert _sha256(int8) == manifest["sha256"]
    assert int8.read_bytes() != bytes(data)
    assert fp32.stat().st_mtime_ns == fp32_mtime  # re-quantised from the intact fp32 export
    agreement = _cosines(rebuilt.encode(SENTENCES), default_embedder.encode(SENTENCES))
    assert agreement.min() > 0.999


def test_default_vectors_do_not_depend_on_their_batch(default_embedder: Embedder) -> None:
    # One text per run: a query embedded alone gets exactly its vector in the index.
    together = default_embedder.encode(SENTENCES)
    alone = np.vstack([default_embedder.encode([text]) for text in SENTENCES])
    np.testing.assert_allclose(alone, together, atol=1e-6)


def test_auto_falls_back_to_torch_without_onnx(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)
    embedder = load_embedder(cache_dir=tmp_path)
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert "@torch-fp32-" in embedder.model_id
    assert "onnx" in caplog.text
    assert not list(tmp_path.glob("*.onnx"))
    with pytest.raises(ModelUnavailableError, match="onnx"):
        load_embedder(backend="onnx-int8", cache_dir=tmp_path)
