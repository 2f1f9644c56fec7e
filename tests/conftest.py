"""Shared fixtures: where the real data is, and a fresh data directory per test."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test with a clear message when absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared/data/{'/'.join(parts)} not found: the real corpora live beside "
                    "the repo (see README); this test needs them")
    return path


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def shared() -> type:
    """`shared("seeds", "x.txt")`: a path under ../shared/data, skipping when absent."""

    class _Shared:
        def __new__(cls, *parts: str) -> Path:  # type: ignore[misc]
            return shared_path(*parts)

    return _Shared
