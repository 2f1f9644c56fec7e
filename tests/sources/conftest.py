"""Fixtures for the source tests: the real seed and arXiv files, and a file writer."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"



def _shared_file(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared/data/{'/'.join(parts)} not found: the real data lives beside "
                    "the repo; this test needs it")
    return path


@pytest.fixture
def shared_file() -> Callable[..., Path]:
    """`shared_file("seeds", "x.txt")`: a file under ../shared/data, skipping when absent."""
    return _shared_file


@pytest.fixture
def seeds_dir() -> Path:
    """The seed documents (three text files and their gold cards)."""
    return _shared_file("seeds")


@pytest.fixture
def snapshot_file() -> Path:
    """200 records of arXiv's bulk metadata snapshot (JSON lines)."""
    return _shared_file("arxiv-kaggle-sample", "arxiv-metadata-oai-snapshot.head200.json")


@pytest.fixture
def daily_file() -> Path:
    """74,728 records of the arXiv daily listing crawl (gzip'd JSON lines)."""
    return _shared_file("arxiv-daily-cs", "arxiv_daily_cs_unique.jsonl.gz")


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
