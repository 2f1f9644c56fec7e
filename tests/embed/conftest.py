"""Fixtures for the embedding tests: the model exported once per session into a temporary cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from paperfeed.embed import DEFAULT_MAX_SEQ_LENGTH, Embedder, load_embedder


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder holding the exported fp32 and int8 models (exported here, once)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    folder = tmp_path_factory.mktemp("models")
    load_embedder(backend="onnx-int8", cache_dir=folder)
    return folder


@pytest.fixture(scope="session")
def default_embedder(model_cache: Path) -> Embedder:
    """What the app gets: backend "auto", default sequence length, the session's cache."""
    return load_embedder(cache_dir=model_cache)


@pytest.fixture(scope="session")
def reference_embedder() -> Embedder:
    """sentence-transformers in full precision, at the same sequence length."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return load_embedder(backend="torch", max_seq_length=DEFAULT_MAX_SEQ_LENGTH)
