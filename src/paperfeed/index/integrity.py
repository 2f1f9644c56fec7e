"""Telling a damaged index from a sound one, before anything reads it.

Owns `IndexDamagedError` and the cheap checks run when an index is opened: the
manifest must be readable JSON, and every file it names must hold at least what it
names (`rows.i64` 16 bytes per row, `vectors.f16` a row of `dimension` halves per
row, `tombstones.i64` 16 bytes per removal, tantivy's `lexical/meta.json`). A file
shorter than its manifest says was cut by hand or by the disk, never by a crash: an
append is durable before the manifest names it. The catalog turns this error into a
rebuild on `reindex` and into one clear line everywhere else
(docs/decisions/index-integrity.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from paperfeed.errors import IndexStaleError

__all__ = ["IndexDamagedError", "check_files"]

HALF = 2  # bytes per float16
PAIR = 16  # bytes per (int64, int64) record


class IndexDamagedError(IndexStaleError):
    """The index's files do not hold what its manifest says: only a rebuild helps."""

    def __init__(self, directory: Path, problem: str) -> None:
        self.directory = directory
        self.problem = problem
        super().__init__(f"the search index in {directory} is damaged ({problem}); "
                         "`paperfeed reindex` rebuilds it")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return -1


def check_files(directory: Path, manifest: dict[str, Any]) -> str | None:
    """The first way the files fall short of `manifest`, in words; None when they do not."""
    rows = int(manifest.get("rows") or 0)
    tombstones = int(manifest.get("tombstones") or 0)
    dimension = int(manifest.get("dimension") or 0)
    wanted = [("rows.i64", rows * PAIR), ("vectors.f16", rows * dimension * HALF),
              ("tombstones.i64", tombstones * PAIR)]
    for name, need in wanted:
        if need == 0:
            continue
        size = _size(directory / name)
        if size < need:
            have = "missing" if size < 0 else f"{size:,} bytes"
            return f"{name} is {have}, the manifest names {need:,}"
    if rows and not (directory / "lexical" / "meta.json").is_file():
        return "lexical/meta.json is missing"
    return None
