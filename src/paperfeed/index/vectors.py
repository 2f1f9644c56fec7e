"""The embedding side of the index: a persisted matrix, its row log, and an ANN graph.

Owns three append-only files and one derived one, all in the index directory:

- `vectors.f16`: one float16 row of `dimension` columns per document version;
- `rows.i64`: per row, the paper key and the batch (generation) that wrote it;
- `tombstones.i64`: per removal, the key and the generation that removed it;
- `ann.usearch`: a usearch HNSW graph over the live rows (labels are row
  numbers). It is a cache: whatever it lacks or has too much is fixed when it
  is loaded, so a crash can leave it stale but never wrong.

Only the first `rows`/`tombstones` entries named by the manifest count; bytes
past them belong to a batch that never committed and are cut off before the
next write. Why usearch and float16: docs/decisions/vector-engine.md.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from paperfeed.store.files import append_durably, temp_path

if TYPE_CHECKING:
    from usearch.index import Index as UsearchIndex

__all__ = ["VectorStore"]

FloatMatrix = npt.NDArray[np.float32]

# HNSW settings, chosen in docs/decisions/vector-engine.md.
ANN_DTYPE = "f16"
ANN_CONNECTIVITY = 16
ANN_EXPANSION_ADD = 128
ANN_EXPANSION_SEARCH = 128
STORAGE_DTYPE = np.float16


def _usearch_index(**options: Any) -> UsearchIndex:
    """A new usearch index; usearch is imported only when the dense side is used.

    onnxruntime 1.32 segfaults when it is imported after usearch 2.26's
    extension (any order the other way round works), and the ONNX embedder may
    be loaded after the index: so import onnxruntime first when it is there.
    """
    with contextlib.suppress(ImportError):
        importlib.import_module("onnxruntime")
    from usearch.index import Index

    return Index(**options)


class VectorStore:
    """Vectors by row, which rows are live, and nearest-neighbour search over them."""

    def __init__(self, directory: Path, dimension: int, n_rows: int, n_tombstones: int,
                 *, read_only: bool = False) -> None:
        self.directory = directory
        self.read_only = read_only  # the ANN graph is then built in memory, never saved
        self.dimension = dimension
        self.n_rows = n_rows
        self.n_tombstones = n_tombstones
        self._vectors_path = directory / "vectors.f16"
        self._rows_path = directory / "rows.i64"
        self._tombs_path = directory / "tombstones.i64"
        self._ann_path = directory / "ann.usearch"
        self._ann: UsearchIndex | None = None
        self._ann_dirty = False  # in memory differs from ann.usearch
        self._matrix: np.memmap | None = None
        self.row_keys = np.zeros(0, dtype=np.int64)
        self.row_gens = np.zeros(0, dtype=np.int64)  # the batch that wrote each row
        self.live = np.zeros(0, dtype=bool)
        self.key_to_row: dict[int, int] = {}
        self._replay()

    # --- state -----------------------------------------------------------------

    def _read_pairs(self, path: Path, count: int) -> npt.NDArray[np.int64]:
        if count == 0 or not path.exists():
            return np.zeros((0, 2), dtype=np.int64)
        return np.fromfile(path, dtype=np.int64, count=count * 2).reshape(count, 2)

    def _replay(self) -> None:
        """Rebuild key -> live row from the logs (vectorised: fast for millions of rows)."""
        rows = self._read_pairs(self._rows_path, self.n_rows)
        tombs = self._read_pairs(self._tombs_path, self.n_tombstones)
        self.row_keys = rows[:, 0].copy()
        self.row_gens = rows[:, 1].copy()
        live = np.zeros(self.n_rows, dtype=bool)
        if self.n_rows:
            # The last row written for a key is its current version...
            reversed_keys = self.row_keys[::-1]
            _, first_in_reversed = np.unique(reversed_keys, return_index=True)
            last_rows = self.n_rows - 1 - first_in_reversed
            live[last_rows] = True
            # ...unless a later removal killed it.
            if len(tombs):
                removed_at: dict[int, int] = {}
                for key, gen in tombs.tolist():
                    removed_at[key] = max(gen, removed_at.get(key, -1))
                gens = rows[:, 1]
                for row in last_rows.tolist():
                    gen_removed = removed_at.get(int(self.row_keys[row]))
                    if gen_removed is not None and gen_removed >= gens[row]:
                        live[row] = False
        self.live = live
        live_rows = np.flatnonzero(live)
        self.key_to_row = dict(zip(self.row_keys[live_rows].tolist(), live_rows.tolist(),
                                   strict=True))
        self._matrix = None

    @property
    def n_live(self) -> int:
        return len(self.key_to_row)

    def is_live(self, row: int) -> bool:
        return 0 <= row < self.n_rows and bool(self.live[row])

    def matrix(self) -> np.memmap | None:
        if self._matrix is None and self.n_rows:
            self._matrix = np.memmap(
                self._vectors_path, dtype=STORAGE_DTYPE, mode="r",
                shape=(self.n_rows, self.dimension),
            )
        return self._matrix

    def vector(self, key: int) -> FloatMatrix | None:
        row = self.key_to_row.get(key)
        matrix = self.matrix()
        if row is None or matrix is None:
            return None
        return np.asarray(matrix[row], dtype=np.float32)

    def vectors(self, keys: Sequence[int]) -> tuple[list[int], FloatMatrix]:
        """The stored vectors of the keys that have one (in the order asked), in one read."""
        matrix = self.matrix()
        found = [k for k in keys if k in self.key_to_row] if matrix is not None else []
        if matrix is None or not found:
            return [], np.zeros((0, self.dimension), dtype=np.float32)
        rows = np.fromiter((self.key_to_row[k] for k in found), dtype=np.int64, count=len(found))
        return found, np.asarray(matrix[rows], dtype=np.float32)

    # --- writing ---------------------------------------------------------------

    def append(self, keys: Sequence[int], gen: int, vectors: FloatMatrix) -> list[int]:
        """Write new versions durably; they count only once the manifest names them."""
        if vectors.shape != (len(keys), self.dimension):
            raise ValueError(f"expected {(len(keys), self.dimension)} vectors, got {vectors.shape}")
        start = self.n_rows
        row_bytes = self.dimension * np.dtype(STORAGE_DTYPE).itemsize
        data = vectors.astype(STORAGE_DTYPE).tobytes()
        append_durably(self._vectors_path, data, keep=start * row_bytes)
        pairs = np.array([[k, gen] for k in keys], dtype=np.int64).reshape(len(keys), 2)
        append_durably(self._rows_path, pairs.tobytes(), keep=start * 16)
        return list(range(start, start + len(keys)))

    def append_tombstones(self, keys: Sequence[int], gen: int) -> None:
        pairs = np.array([[k, gen] for k in keys], dtype=np.int64).reshape(len(keys), 2)
        append_durably(self._tombs_path, pairs.tobytes(), keep=self.n_tombstones * 16)

    def commit(self, n_rows: int, n_tombstones: int) -> None:
        """Adopt the state the manifest now names, and bring a loaded ANN up to date."""
        self.n_rows, self.n_tombstones = n_rows, n_tombstones
        self._replay()
        if self._ann is not None and self._sync_ann(self._ann):
            self._ann_dirty = True

    # --- ANN -------------------------------------------------------------------

    def _new_ann(self) -> UsearchIndex:
        return _usearch_index(
            ndim=self.dimension,
            metric="ip",  # vectors are unit length: inner product is cosine
            dtype=ANN_DTYPE,
            connectivity=ANN_CONNECTIVITY,
            expansion_add=ANN_EXPANSION_ADD,
            expansion_search=ANN_EXPANSION_SEARCH,
        )

    def _sync_ann(self, ann: UsearchIndex) -> bool:
        """Add live rows the graph lacks, remove the ones it should not have."""
        have = np.asarray(ann.keys, dtype=np.int64) if len(ann) else np.zeros(0, np.int64)
        want = np.flatnonzero(self.live).astype(np.int64)
        extra = np.setdiff1d(have, want, assume_unique=True)
        missing = np.setdiff1d(want, have, assume_unique=True)
        if len(extra):
            ann.remove(extra.astype(np.uint64))
        matrix = self.matrix()
        if len(missing) and matrix is not None:
            for start in range(0, len(missing), 8192):
                chunk = missing[start : start + 8192]
                ann.add(chunk.astype(np.uint64), np.asarray(matrix[chunk], dtype=np.float32))
        return bool(len(extra) or len(missing))

    def ann(self) -> UsearchIndex:
        """The graph, loaded (or built) on first use and brought up to date."""
        if self._ann is None:
            ann = self._new_ann()
            if self._ann_path.exists():
                try:
                    ann.load(str(self._ann_path))
                except (RuntimeError, ValueError, OSError):
                    ann = self._new_ann()  # a damaged cache is rebuilt, not trusted
            self._ann = ann
            if self._sync_ann(ann):
                self._ann_dirty = True
                # The next process need not catch up again; a generation that a rebuild
                # has replaced and deleted cannot keep it, and need not.
                with contextlib.suppress(OSError):
                    self.save_ann()
        return self._ann

    def save_ann(self) -> None:
        """Write the graph if it changed since it was loaded or saved (atomically)."""
        if self._ann is None or not self._ann_dirty or self.read_only:
            return
        with temp_path(self._ann_path) as tmp:
            self._ann.save(str(tmp))
        self._ann_dirty = False

    def search_ann(self, query: FloatMatrix, count: int) -> tuple[npt.NDArray[np.int64],
                                                                  npt.NDArray[np.float32]]:
        """Rows and cosine similarities of the `count` nearest live rows, per query row."""
        ann = self.ann()
        if len(ann) == 0 or count <= 0:
            empty = np.zeros((len(query), 0))
            return empty.astype(np.int64), empty.astype(np.float32)
        matches = ann.search(query.astype(np.float32), min(count, len(ann)))
        keys = np.asarray(matches.keys, dtype=np.int64).reshape(len(query), -1)
        sims = 1.0 - np.asarray(matches.distances, dtype=np.float32).reshape(len(query), -1)
        return keys, sims

    def search_exact(self, query: FloatMatrix, rows: npt.NDArray[np.int64], count: int) -> tuple[
        npt.NDArray[np.int64], npt.NDArray[np.float32]
    ]:
        """Brute force over the given rows: exact, used for small or filtered sets."""
        matrix = self.matrix()
        if matrix is None or len(rows) == 0 or count <= 0:
            empty = np.zeros((len(query), 0))
            return empty.astype(np.int64), empty.astype(np.float32)
        rows = np.sort(rows)
        best_rows = np.zeros((len(query), 0), dtype=np.int64)
        best_sims = np.zeros((len(query), 0), dtype=np.float32)
        for start in range(0, len(rows), 65_536):  # bounded memory for huge subsets
            chunk = rows[start : start + 65_536]
            sims = query.astype(np.float32) @ np.asarray(matrix[chunk], dtype=np.float32).T
            all_rows = np.concatenate([best_rows, np.broadcast_to(chunk, sims.shape)], axis=1)
            all_sims = np.concatenate([best_sims, sims], axis=1)
            take = min(count, all_sims.shape[1])
            top = np.argpartition(-all_sims, take - 1, axis=1)[:, :take]
            best_rows = np.take_along_axis(all_rows, top, axis=1)
            best_sims = np.take_along_axis(all_sims, top, axis=1)
        order = np.argsort(-best_sims, axis=1, kind="stable")
        return np.take_along_axis(best_rows, order, axis=1), np.take_along_axis(best_sims, order,
                                                                                axis=1)

    def close(self) -> None:
        self._ann = None
        self._matrix = None
