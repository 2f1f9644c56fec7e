"""Fixtures for the source tests: the real seed and arXiv files, and a file writer."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import shared_path


@pytest.fixture
def seeds_dir() -> Path:
    """The seed documents (three text files and their gold cards)."""
    return shared_path("seeds")


@pytest.fixture
def snapshot_file() -> Path:
    """200 records of arXiv's bulk metadata snapshot (JSON lines)."""
    return shared_path("arxiv-kaggle-sample", "arxiv-metadata-oai-snapshot.head200.json")


@pytest.fixture
def daily_file() -> Path:
    """74,728 records of the arXiv daily listing crawl (gzip'd JSON lines)."""
    return shared_path("arxiv-daily-cs", "arxiv_daily_cs_unique.jsonl.gz")


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[..., Path]:
    """`write_file(name, content, gz=False)`: a file in tmp_path with text or bytes content."""

    def write(name: str, content: str | bytes, *, gz: bool = False) -> Path:
        data = content.encode("utf-8") if isinstance(content, str) else content
        if gz:
            data = gzip.compress(data)
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    return write
