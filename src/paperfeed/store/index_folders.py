"""Where the search index lives in a data folder: its generations and the current one.

Owns the folder layout of the index (only the store knows the data folder's layout):

- `index/`: the first index of a store, and the whole index of a store made before
  generations; read as is until a full rebuild replaces it;
- `indexes/gen-<n>/`: one folder per full rebuild, written beside the one in use;
- `index.current`: one line naming the folder in use ("indexes/gen-3"), replaced
  atomically (`store.files.atomic_write`) when a rebuild switches: the commit point;
- `index.next`: the folder a full rebuild is writing, until it switches (after a kill
  -9 it tells the next catch-up which rebuild to finish).

Readers resolve `current()` and follow it when it changes; a rebuild deletes the old
generation after the switch (docs/decisions/index-generations.md says why that is safe
for processes still reading it).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from paperfeed.errors import StoreError
from paperfeed.store.files import atomic_write

__all__ = ["CURRENT_FILE", "GENERATIONS", "LEGACY", "NEXT_FILE", "IndexFolders"]

LEGACY = "index"
GENERATIONS = "indexes"
CURRENT_FILE = "index.current"
NEXT_FILE = "index.next"
_NAME = re.compile(rf"{GENERATIONS}/gen-(\d+)")


class IndexFolders:
    """The index folders of one data directory."""

    def __init__(self, data_dir: Path, *, read_only: bool = False) -> None:
        self.data_dir = data_dir
        self.read_only = read_only

    def _pointed(self, name: str) -> Path | None:
        """The folder a pointer file names, None when there is no pointer file."""
        path = self.data_dir / name
        try:
            text = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"{path}: unreadable ({exc})") from exc
        if not _NAME.fullmatch(text):
            raise StoreError(f"{path}: expected one line like '{GENERATIONS}/gen-3', found "
                             f"{text[:60]!r}; delete the file to use {self.data_dir / LEGACY}")
        return self.data_dir / text

    def current(self) -> Path:
        """The folder of the index in use (made when missing, unless read-only)."""
        folder = self._pointed(CURRENT_FILE) or self.data_dir / LEGACY
        if not self.read_only:
            folder.mkdir(parents=True, exist_ok=True)
        return folder

    def building(self) -> Path | None:
        """The folder of a full rebuild that has not switched yet (one killed midway)."""
        folder = self._pointed(NEXT_FILE)
        return folder if folder is not None and folder.is_dir() else None

    def start_rebuild(self, *, fresh: bool = False) -> Path:
        """The folder a full rebuild writes: the unfinished one, or (`fresh`, or none)
        a new empty generation. Call under the index writer lock."""
        unfinished = self.building()
        if unfinished is not None and not fresh:
            return unfinished
        self._remove_unused(keep=None)
        numbers = [int(m.group(1)) for p in (self.data_dir / GENERATIONS).glob("gen-*")
                   if (m := _NAME.fullmatch(f"{GENERATIONS}/{p.name}"))]
        current = _NAME.fullmatch(self._relative(self.current()))
        if current:
            numbers.append(int(current.group(1)))
        folder = self.data_dir / GENERATIONS / f"gen-{max(numbers, default=0) + 1}"
        folder.mkdir(parents=True)
        atomic_write(self.data_dir / NEXT_FILE, self._relative(folder) + "\n")
        return folder

    def switch(self, folder: Path) -> None:
        """Make `folder` the index in use (one atomic replace), then delete the others.
        Call under the index writer lock."""
        atomic_write(self.data_dir / CURRENT_FILE, self._relative(folder) + "\n")
        (self.data_dir / NEXT_FILE).unlink(missing_ok=True)
        self._remove_unused(keep=folder)

    def _remove_unused(self, keep: Path | None) -> None:
        """Delete every generation but the current one and `keep` (old ones, and a
        rebuild being replaced by a fresh one); processes still reading one keep their
        open files."""
        current = self.current()
        for folder in [self.data_dir / LEGACY, *(self.data_dir / GENERATIONS).glob("gen-*")]:
            if folder.is_dir() and folder not in (current, keep):
                shutil.rmtree(folder, ignore_errors=True)
        if keep is None:
            (self.data_dir / NEXT_FILE).unlink(missing_ok=True)

    def _relative(self, folder: Path) -> str:
        return folder.relative_to(self.data_dir).as_posix()
