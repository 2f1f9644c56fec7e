"""`PaperIndex`: hybrid search and related papers over one index directory.

Owns the manifest (the commit point), the order of writes that makes `add`
and `remove` crash-safe, and the search flow: lexical and dense candidates,
filters on both sides, fusion, sorting, pagination and display segments.

Crash safety. Each batch is one generation g. In order: vectors and row log
are appended and fsynced; tantivy gets the new versions (tagged g) and
commits; then `manifest.json` is replaced atomically, naming g and the new
row count. Only then are superseded versions deleted from tantivy (committed
with the next batch). A reader trusts only rows the manifest names and drops
any tantivy hit whose row is not live, so after a crash at any point the index
answers with exactly the content of the last manifest; the next write removes
the leftovers. Removals write tombstones and the manifest before touching
tantivy, for the same reason.

What the index holds. An `add` that brings the index to a source revision R
names R in the manifest (`source_version`) only after its last batch; each
batch before that names the run (`in_progress`: R and the generation it started
after), so after a kill the rows of that run tell which papers are already in
as they are now (`resumable`). Opening checks that the files hold what the
manifest names (`integrity.check_files`) and raises `IndexDamagedError` if not.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import tantivy

from paperfeed.clock import utc_stamp
from paperfeed.embed.model import paper_text
from paperfeed.embed.types import Embedder
from paperfeed.errors import IndexStaleError, PaperfeedError
from paperfeed.index.fusion import RELATED_FUSION, SEARCH_FUSION, FusionParams, fuse
from paperfeed.index.integrity import IndexDamagedError, check_files
from paperfeed.index.lexical import LexHit, LexicalIndex
from paperfeed.index.query import ParsedQuery, parse_user_query
from paperfeed.index.types import IndexDoc, SearchFilters, SearchHit
from paperfeed.index.vectors import VectorStore
from paperfeed.store.files import atomic_write, read_json

__all__ = ["PaperIndex"]

FORMAT_VERSION = 1
# Below this many live papers the dense side is searched exactly (cheap, perfect recall).
EXACT_BELOW = 5_000
# A filter matching at most this many papers is searched exactly on the dense side...
EXACT_FILTER_MAX = 50_000
# ...otherwise the ANN over-fetches this many times the expected need, then filters.
OVERFETCH = 3.0
# Date sort in hybrid and dense mode re-sorts this many best matches by date.
DATE_SORT_POOL = 200

# What a manifest must name for the files to be read at all.
_MANIFEST_KEYS = {"format", "generation", "rows", "tombstones", "dimension", "counts"}

Mode = Literal["hybrid", "lexical", "dense"]
Sort = Literal["relevance", "date"]


class PaperIndex:
    """BM25 (tantivy) plus embeddings (usearch) for one directory.

    Safe to share between threads (a server's request threads and its background import
    job): one lock guards the in-memory state; a write embeds its batch before taking it,
    so searches wait only for the short append and commit, never for the model.
    """

    def __init__(
        self,
        directory: Path,
        embedder: Embedder | Callable[[], Embedder],
        *,
        exact_below: int = EXACT_BELOW,
        search_fusion: FusionParams = SEARCH_FUSION,
        related_fusion: FusionParams = RELATED_FUSION,
        read_only: bool = False,
    ) -> None:
        self.directory = directory
        self.read_only = read_only
        self._embedder_source = embedder
        self._embedder: Embedder | None = None
        self._exact_below = exact_below
        self._search_fusion = search_fusion
        self._related_fusion = related_fusion
        self._manifest_path = directory / "manifest.json"
        self._manifest_stat = self._stat_manifest()  # before reading: a change after is seen
        self._manifest = self._read_manifest()
        problem = check_files(directory, self._manifest)
        if problem:
            raise IndexDamagedError(directory, problem)
        try:
            self._lexical = LexicalIndex(directory / "lexical", read_only=read_only)
            lexical_docs = self._lexical.num_docs
        except (OSError, ValueError) as exc:  # tantivy's words for a corrupt folder
            raise IndexDamagedError(directory, f"lexical index unreadable: {exc}") from exc
        self._vectors = VectorStore(
            directory,
            dimension=int(self._manifest["dimension"] or 0),
            n_rows=int(self._manifest["rows"]),
            n_tombstones=int(self._manifest["tombstones"]),
            read_only=read_only,
        )
        # Mapped now, not at the first dense search: a full rebuild deletes this folder
        # once it has switched, and a mapping made before keeps the file readable.
        self._vectors.matrix()
        if lexical_docs < self._vectors.n_live:
            # Superseded versions may linger in tantivy, never fewer documents than papers.
            raise IndexDamagedError(directory, f"lexical index holds {lexical_docs:,} "
                                    f"documents for {self._vectors.n_live:,} papers")
        self._recovered = False
        self._lock = threading.RLock()

    @classmethod
    def open(
        cls,
        directory: Path,
        embedder: Embedder | Callable[[], Embedder],
        **options: Any,
    ) -> PaperIndex:
        """Open or create the index in `directory`.

        `embedder` may be a factory: it is called the first time a vector is
        needed, so lexical-only use never loads the model. With `read_only=True`
        nothing is created or written (a missing index is an empty one) and `add`
        and `remove` refuse.
        """
        directory = Path(directory)
        if not options.get("read_only"):
            directory.mkdir(parents=True, exist_ok=True)
        return cls(directory, embedder, **options)

    # --- manifest ----------------------------------------------------------------

    def _read_manifest(self) -> dict[str, Any]:
        if self._manifest_path.exists():
            try:
                manifest: dict[str, Any] = read_json(self._manifest_path)
            except (OSError, ValueError) as exc:
                raise IndexDamagedError(self.directory, f"manifest.json unreadable: {exc}"
                                        ) from exc
            if not isinstance(manifest, dict) or not manifest.keys() >= _MANIFEST_KEYS:
                raise IndexDamagedError(self.directory, "manifest.json lacks "
                                        + ", ".join(sorted(_MANIFEST_KEYS)))
            if manifest.get("format") != FORMAT_VERSION:
                raise IndexStaleError(
                    f"{self.directory}: index format {manifest.get('format')} is not "
                    f"{FORMAT_VERSION}; run `paperfeed reindex`"
                )
            return manifest
        return {
            "format": FORMAT_VERSION,
            "model_id": None,
            "dimension": None,
            "generation": 0,
            "rows": 0,
            "tombstones": 0,
            "counts": {"papers": 0, "vectors": 0},
            "built_at": None,
            "updated_at": None,
            "source_version": None,
            "pending_lexical_deletes": [],
            "in_progress": None,
            "engines": {"lexical": "tantivy", "vectors": "usearch"},
        }

    def _write_manifest(self, **changes: Any) -> None:
        manifest = {**self._manifest, **changes}
        manifest["counts"] = {"papers": self._vectors.n_live, "vectors": self._vectors.n_live}
        manifest["updated_at"] = utc_stamp()
        manifest["built_at"] = manifest["built_at"] or manifest["updated_at"]
        atomic_write(self._manifest_path, json.dumps(manifest, indent=2, sort_keys=True))
        self._manifest = manifest
        self._manifest_stat = self._stat_manifest()

    def _commit(self, *, rows: int, tombstones: int, **changes: Any) -> None:
        """Make a written batch the index's content: the manifest is the commit point."""
        old_rows, old_tombstones = self._vectors.n_rows, self._vectors.n_tombstones
        self._vectors.commit(rows, tombstones)  # in memory first: the counts need it
        try:
            self._write_manifest(rows=rows, tombstones=tombstones, **changes)
        except BaseException:
            self._vectors.commit(old_rows, old_tombstones)
            raise

    def _stat_manifest(self) -> tuple[int, int, int] | None:
        """What identifies the manifest file on disk: each commit replaces it (a new
        inode), so an unchanged stat means an unchanged manifest."""
        try:
            st = os.stat(self._manifest_path)
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def is_current(self) -> bool:
        """Whether the manifest on disk is still the one this object read: false once
        another process has committed (a writer must then reopen the index, a reader
        follows it: `Catalog.index`). One stat when nothing changed."""
        with self._lock:  # never between this process's manifest write and its adoption
            stat = self._stat_manifest()
            if stat is not None and stat == self._manifest_stat:
                return True
            try:
                on_disk = read_json(self._manifest_path)
            except FileNotFoundError:
                return int(self._manifest["generation"]) == 0
            except (OSError, ValueError):
                return False
            keys = ("generation", "rows", "tombstones", "built_at")
            current = isinstance(on_disk, dict) and all(
                on_disk.get(k) == self._manifest.get(k) for k in keys)
            if current:
                self._manifest_stat = stat  # e.g. rewritten with equal content
            return current

    def version(self) -> tuple[str, int]:
        """What this object holds: (built_at, generation). The generation grows with
        each commit and a full rebuild starts again with a new built_at, so caches of
        index content keyed on it are never reused across a change."""
        return str(self._manifest["built_at"]), int(self._manifest["generation"])

    def manifest(self) -> dict[str, Any]:
        """model_id, counts, built_at, updated_at, source_version and engine details."""
        return json.loads(json.dumps(self._manifest))  # type: ignore[no-any-return]

    # --- embedder ----------------------------------------------------------------

    def _get_embedder(self) -> Embedder:
        if self._embedder is None:
            source = self._embedder_source
            if hasattr(source, "encode") and not isinstance(source, type):
                self._embedder = source  # type: ignore[assignment]
            else:
                self._embedder = source()  # type: ignore[operator]
        assert self._embedder is not None
        return self._embedder

    def _check_model(self, embedder: Embedder) -> None:
        stored = self._manifest["model_id"]
        if stored is not None and stored != embedder.model_id:
            raise IndexStaleError(
                f"the index in {self.directory} was built with {stored}, but the embedder is "
                f"{embedder.model_id}; run `paperfeed reindex`"
            )

    def _embed_queries(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        embedder = self._get_embedder()
        self._check_model(embedder)
        return np.asarray(embedder.encode(list(texts)), dtype=np.float32)

    # --- writing -----------------------------------------------------------------

    def _require_current(self) -> None:
        """Refuse to write over another process's commit: rows are numbered by the count
        this object read, so writing at a stale count would give two papers one row (the
        probe's wrong-paper hits). Writers take the writer lock and reopen first
        (`Catalog.writing_index`); this catches any path that does not."""
        if not self.is_current():
            raise IndexStaleError(
                f"the index in {self.directory} was changed by another process after this "
                "one opened it; open it again before writing")

    def _recover(self) -> None:
        """Before the first write: drop what a crashed writer left in tantivy."""
        if self.read_only:
            raise PaperfeedError(f"the index in {self.directory} is open read-only")
        self._require_current()
        if self._recovered:
            return
        generation = int(self._manifest["generation"])
        self._lexical.delete_generations_after(generation)
        self._lexical.delete_rows(self._manifest.get("pending_lexical_deletes", []))
        self._lexical.commit()
        self._recovered = True

    def add(
        self,
        docs: Iterable[IndexDoc],
        *,
        progress: Callable[[int], None] | None = None,
        batch_size: int = 512,
        source_version: str | None = None,
        finish: bool = True,
    ) -> int:
        """Add or replace papers (same key replaces); returns how many were written.

        Each batch commits on its own: after a crash the index holds every
        batch before the failing one and nothing of it. `progress` is called
        after each committed batch with the number of papers in it (an
        increment, as `Embedder.encode` reports). `source_version` is recorded
        in the manifest (e.g. the store state the papers came from). With
        `finish=False` the run stays in progress, as if cut off after its last batch:
        a first phase of newest papers, which the next run resumes (`resumable`).
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        written = 0
        try:
            with self._lock:
                self._recover()
                run = self._manifest.get("in_progress")
                if source_version is not None:
                    run = {"source_version": source_version,
                           "after_generation": int(self._manifest["generation"])}
            batch: dict[int, IndexDoc] = {}
            for doc in docs:
                batch[doc.key] = doc  # a key twice in one batch: the last one wins
                if len(batch) >= batch_size:
                    done = self._add_batch(list(batch.values()), run)
                    written += done
                    batch = {}
                    if progress:
                        progress(done)
            if batch:
                done = self._add_batch(list(batch.values()), run)
                written += done
                if progress:
                    progress(done)
            with self._lock:
                self._lexical.commit()  # the last batch's superseded versions
                if self._manifest["pending_lexical_deletes"] or source_version is not None:
                    # Only now, every batch durable, does the index hold `source_version`.
                    done = source_version is not None and finish
                    self._write_manifest(
                        pending_lexical_deletes=[],
                        source_version=(source_version if done
                                        else self._manifest["source_version"]),
                        in_progress=None if done else run,
                    )
                if self._vectors.n_live > self._exact_below:
                    self._vectors.ann()  # build or catch up now, not on the first search
                self._vectors.save_ann()
        except BaseException:
            self._recovered = False  # leftovers of the failed batch go before the next write
            raise
        finally:
            with self._lock:
                self._lexical.release_writer()
        return written

    def _add_batch(self, docs: list[IndexDoc], run: dict[str, Any] | None) -> int:
        embedder = self._get_embedder()
        self._check_model(embedder)
        # The slow part, outside the lock: searches go on meanwhile.
        vectors = np.asarray(
            embedder.encode([paper_text(d.title, d.abstract) for d in docs]), dtype=np.float32
        )
        with self._lock:
            return self._append_batch(docs, vectors, embedder.model_id, run)

    def _append_batch(self, docs: list[IndexDoc], vectors: npt.NDArray[np.float32],
                      model_id: str, run: dict[str, Any] | None) -> int:
        self._require_current()
        if self._vectors.dimension == 0:
            self._vectors.dimension = int(vectors.shape[1])
        generation = int(self._manifest["generation"]) + 1
        keys = [d.key for d in docs]
        superseded = [self._vectors.key_to_row[k] for k in keys if k in self._vectors.key_to_row]
        rows = self._vectors.append(keys, generation, vectors)
        self._lexical.add(docs, rows, generation)
        self._lexical.commit()
        self._commit(
            rows=self._vectors.n_rows + len(docs),
            tombstones=self._vectors.n_tombstones,
            model_id=model_id,
            dimension=self._vectors.dimension,
            generation=generation,
            pending_lexical_deletes=superseded,
            in_progress=run,  # source_version stays: the run is not finished
        )
        self._lexical.delete_rows(superseded)  # committed with the next batch
        return len(docs)

    def remove(self, keys: Iterable[int]) -> None:
        """Remove papers by key; unknown keys are ignored."""
        with self._lock:
            self._remove(keys)

    def _remove(self, keys: Iterable[int]) -> None:
        present = sorted({int(k) for k in keys} & self._vectors.key_to_row.keys())
        if not present:
            return
        try:
            self._recover()
            rows = [self._vectors.key_to_row[k] for k in present]
            generation = int(self._manifest["generation"]) + 1
            self._vectors.append_tombstones(present, generation)
            n_tombstones = self._vectors.n_tombstones + len(present)
            self._commit(
                rows=self._vectors.n_rows,
                tombstones=n_tombstones,
                generation=generation,
                pending_lexical_deletes=rows,
            )
            self._lexical.delete_rows(rows)
            self._lexical.commit()
            self._write_manifest(pending_lexical_deletes=[])
            self._vectors.save_ann()
        except BaseException:
            self._recovered = False
            raise
        finally:
            self._lexical.release_writer()

    def resumable(self) -> tuple[int, set[int]] | None:
        """What an unfinished `add(..., source_version=R)` left: (R, the keys it indexed).

        None when the last such add finished. Each of those keys was read from the
        source after R was taken, so a paper still at a revision <= R is indexed as it
        is now and a resumed run may skip it; any other paper must be indexed again.
        """
        with self._lock:
            run = self._manifest.get("in_progress")
            if not run:
                return None
            try:
                revision = int(run["source_version"])
            except (KeyError, TypeError, ValueError):
                return None  # not a number we can compare: resume nothing, redo all
            after = int(run.get("after_generation", 0))
            live = np.flatnonzero(self._vectors.live)
            fresh = live[self._vectors.row_gens[live] > after]
            return revision, set(self._vectors.row_keys[fresh].tolist())

    def keys(self) -> set[int]:
        """Keys of every paper in the index."""
        with self._lock:
            return set(self._vectors.key_to_row)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._vectors.key_to_row

    def __len__(self) -> int:
        return self._vectors.n_live

    def embedding(self, key: int) -> npt.NDArray[np.float32] | None:
        """The stored (float16-rounded) embedding of a paper, or None if it is not indexed."""
        with self._lock:
            return self._vectors.vector(key)

    def embeddings(self, keys: Sequence[int]) -> tuple[list[int], npt.NDArray[np.float32]]:
        """(keys found, their stored embeddings as rows): many papers in one read."""
        with self._lock:
            return self._vectors.vectors(keys)

    # --- candidates --------------------------------------------------------------

    def _stale(self) -> int:
        return max(0, self._lexical.num_docs - self._vectors.n_live)

    def _lexical_candidates(
        self,
        parsed: ParsedQuery | None,
        limit: int,
        filter_query: tantivy.Query | None,
        by_date: bool = False,
    ) -> list[LexHit]:
        return self._lexical.search(
            parsed,
            limit,
            filter_query=filter_query,
            by_date=by_date,
            live=self._vectors.is_live,
            stale=self._stale(),
        )

    def _dense_candidates(
        self,
        queries: npt.NDArray[np.float32],
        limit: int,
        filter_query: tantivy.Query | None,
        exclude_rows: Sequence[set[int]] | None = None,
    ) -> list[list[tuple[int, float]]]:
        """Per query, up to `limit` (row, cosine) pairs, best first, filter applied.

        A filter matching few papers is searched exactly over those papers; a
        broad one over-fetches from the ANN and falls back to exact search when
        the over-fetch did not yield enough, so a filter never loses hits.
        """
        n_live = self._vectors.n_live
        if limit <= 0 or n_live == 0 or len(queries) == 0:
            return [[] for _ in range(len(queries))]
        excluded = exclude_rows or [set() for _ in range(len(queries))]
        extra = max(len(e) for e in excluded)
        want = limit + extra
        allowed: npt.NDArray[np.int64] | None = None
        if filter_query is not None:
            matching = self._lexical.count(filter_query)
            if matching <= EXACT_FILTER_MAX:
                allowed = self._live_rows(self._lexical.rows_matching(filter_query, matching))
        elif n_live <= self._exact_below:
            allowed = np.flatnonzero(self._vectors.live).astype(np.int64)
        if allowed is not None:
            rows_found, sims = self._vectors.search_exact(queries, allowed, want)
            return [
                self._take(rows_found[i], sims[i], excluded[i], limit, None)
                for i in range(len(queries))
            ]
        # Broad filter or no filter on a big index: the ANN graph.
        selectivity = 1.0
        allowed_set: set[int] | None = None
        if filter_query is not None:
            selectivity = max(self._lexical.count(filter_query) / n_live, 1e-6)
        fetch = int(want / selectivity * (OVERFETCH if filter_query is not None else 1.0)) + 10
        results: list[list[tuple[int, float]]] = []
        for i in range(len(queries)):
            query = queries[i : i + 1]
            while True:
                rows_found, sims = self._vectors.search_ann(query, fetch)
                if filter_query is not None:
                    allowed_set = self._rows_passing(filter_query, rows_found[0])
                hits = self._take(rows_found[0], sims[0], excluded[i], limit, allowed_set)
                if len(hits) >= limit or fetch >= n_live:
                    break
                fetch = min(n_live, fetch * 4)
            if len(hits) < limit and filter_query is not None:
                # The graph did not reach enough matches: exact search never misses one.
                matching = self._lexical.count(filter_query)
                rows = self._live_rows(self._lexical.rows_matching(filter_query, matching))
                exact_rows, exact_sims = self._vectors.search_exact(query, rows, want)
                hits = self._take(exact_rows[0], exact_sims[0], excluded[i], limit, None)
            results.append(hits)
        return results

    def _live_rows(self, rows: Sequence[int]) -> npt.NDArray[np.int64]:
        """The live ones among tantivy rows (which may include a crashed batch's rows)."""
        found = np.array(rows, dtype=np.int64)
        found = found[(found >= 0) & (found < self._vectors.n_rows)]
        return found[self._vectors.live[found]]

    def _rows_passing(self, filter_query: tantivy.Query, rows: npt.NDArray[np.int64]) -> set[int]:
        if len(rows) == 0:
            return set()
        schema = self._lexical._schema
        query = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Must, filter_query),
                (tantivy.Occur.Must, tantivy.Query.term_set_query(schema, "row",
                                                                   rows.tolist())),
            ]
        )
        return set(self._lexical.rows_matching(query, len(rows)))

    def _take(
        self,
        rows: npt.NDArray[np.int64],
        sims: npt.NDArray[np.float32],
        excluded: set[int],
        limit: int,
        allowed: set[int] | None,
    ) -> list[tuple[int, float]]:
        out: list[tuple[int, float]] = []
        for row, sim in zip(rows.tolist(), sims.tolist(), strict=True):
            if row in excluded or not self._vectors.is_live(row):
                continue
            if allowed is not None and row not in allowed:
                continue
            out.append((row, float(sim)))
            if len(out) == limit:
                break
        return out

    # --- search ------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        k: int = 10,
        offset: int = 0,
        filters: SearchFilters | None = None,
        sort: Sort = "relevance",
        mode: Mode = "hybrid",
        highlight: bool = True,
    ) -> list[SearchHit]:
        """The k best papers for `query` after skipping `offset`.

        Query syntax: words and "quoted phrases"; anything else is ignored.
        An empty query lists the papers passing `filters`, newest first.
        sort="date": lexical mode sorts every paper matching the words by date;
        hybrid and dense modes sort their best DATE_SORT_POOL matches by date.
        highlight=False skips snippet work (plain title, leading abstract text).
        """
        return self.search_many([query], k=k, offset=offset, filters=filters, sort=sort,
                                mode=mode, highlight=highlight)[0]

    def search_many(
        self,
        queries: Sequence[str],
        *,
        k: int = 10,
        offset: int = 0,
        filters: SearchFilters | None = None,
        sort: Sort = "relevance",
        mode: Mode = "hybrid",
        highlight: bool = True,
    ) -> list[list[SearchHit]]:
        """`search` for several queries; the dense side embeds them all in one call."""
        if k <= 0 or offset < 0:
            if offset < 0:
                raise ValueError("offset must not be negative")
            return [[] for _ in queries]
        if mode not in ("hybrid", "lexical", "dense"):
            raise ValueError(f"unknown search mode {mode!r}")
        if sort not in ("relevance", "date"):
            raise ValueError(f"unknown sort {sort!r}")
        if self._vectors.n_live == 0:
            return [[] for _ in queries]
        filter_query = self._lexical.filter_query(filters)
        parsed = [parse_user_query(q) for q in queries]
        need = offset + k
        dense_todo = [
            i for i, p in enumerate(parsed) if mode != "lexical" and not p.is_empty
        ]
        depth = max(self._search_fusion.depth, need)
        if sort == "date":
            depth = max(depth, DATE_SORT_POOL)
        vectors = self._embed_queries([queries[i] for i in dense_todo]) if dense_todo else None
        with self._lock, self._damage_is_an_error():
            return self._search_locked(queries, parsed, dense_todo, vectors, filter_query,
                                       need, offset, depth, sort, mode, highlight)

    def verify(self) -> None:
        """Read a little of each lexical file (a term, a sort field, a stored document):
        raises `IndexDamagedError` for damage that opening does not notice."""
        if self._vectors.n_live == 0:
            return
        with self._lock, self._damage_is_an_error():
            self._lexical.search(parse_user_query("paperfeed index check"), 1)
            newest = self._lexical.search(None, 1, by_date=True)
            if newest:
                self._lexical.stored_doc(newest[0].address)

    @contextlib.contextmanager
    def _damage_is_an_error(self) -> Iterator[None]:
        """tantivy finds some damage (a deleted positions file) only when it reads: that
        is an `IndexDamagedError` too, not a traceback."""
        try:
            yield
        except (OSError, ValueError) as exc:
            raise IndexDamagedError(self.directory, f"lexical index unreadable: {exc}"
                                    ) from exc

    def _search_locked(
        self, queries: Sequence[str], parsed: list[ParsedQuery], dense_todo: list[int],
        vectors: npt.NDArray[np.float32] | None, filter_query: tantivy.Query | None,
        need: int, offset: int, depth: int, sort: Sort, mode: Mode, highlight: bool,
    ) -> list[list[SearchHit]]:
        results: list[list[SearchHit]] = [[] for _ in queries]
        dense_lists: dict[int, list[tuple[int, float]]] = {}
        # Deep pages need deep candidate lists on both sides.
        fusion = replace(self._search_fusion, depth=depth)
        if vectors is not None:
            for i, hits in zip(
                dense_todo, self._dense_candidates(vectors, depth, filter_query), strict=True
            ):
                dense_lists[i] = hits
        for i, p in enumerate(parsed):
            shown = p if highlight else None
            if p.is_empty:
                # No words: browse the filtered papers, newest first.
                lex = self._lexical_candidates(None, need, filter_query, by_date=True)
                results[i] = self._hits(shown, [(h.row, 0.0) for h in lex][offset:need], {}, {})
                continue
            lexical_scores: dict[int, float] = {}
            dense_scores = dict(dense_lists.get(i, []))
            coverage: float | None = None
            if mode != "dense":
                by_date = sort == "date" and mode == "lexical"
                lex = self._lexical_candidates(p, need if by_date else depth, filter_query,
                                               by_date)
                if by_date:
                    page = [(h.row, 0.0) for h in lex][offset:need]
                    results[i] = self._hits(shown, page, {}, {})
                    continue
                lexical_scores = {h.row: h.score for h in lex}
                if mode == "hybrid" and fusion.alpha_low is not None:
                    coverage = self._coverage(p, lex)
            ranked = self._rank(lexical_scores, dense_scores, mode, fusion, coverage)
            if sort == "date":
                ranked = self._by_date(ranked[:DATE_SORT_POOL])
            results[i] = self._hits(shown, ranked[offset:need], lexical_scores, dense_scores)
        return results

    @staticmethod
    def _rank(
        lexical: dict[int, float], dense: dict[int, float], mode: Mode, params: FusionParams,
        coverage: float | None = None,
    ) -> list[tuple[int, float]]:
        if mode == "lexical":
            return sorted(lexical.items(), key=lambda kv: (-kv[1], kv[0]))
        if mode == "dense":
            return sorted(dense.items(), key=lambda kv: (-kv[1], kv[0]))
        return fuse(
            sorted(lexical.items(), key=lambda kv: (-kv[1], kv[0])),
            sorted(dense.items(), key=lambda kv: (-kv[1], kv[0])),
            params,
            coverage,
        )

    def _coverage(self, parsed: ParsedQuery, lexical: Sequence[LexHit]) -> float:
        """How much of the query's IDF mass its best BM25 hit holds (0 without hits)."""
        if not lexical:
            return 0.0
        return self._lexical.coverage(self._lexical.query_terms(parsed), lexical[0].address)

    def coverages(self, queries: Sequence[str]) -> list[float]:
        """`_coverage` of each query, for benchmarks that fuse candidate lists themselves."""
        with self._lock:
            out = []
            for text in queries:
                parsed = parse_user_query(text)
                lex = [] if parsed.is_empty else self._lexical_candidates(parsed, 1, None)
                out.append(self._coverage(parsed, lex))
            return out

    def _by_date(self, ranked: list[tuple[int, float]]) -> list[tuple[int, float]]:
        addresses = self._lexical.addresses_of_rows([row for row, _ in ranked])
        days: dict[int, int] = {}
        for row, address in addresses.items():
            stored = self._lexical.stored_doc(address)
            days[row] = int((stored.get("day") or [0])[0])
        # Stable: equal dates keep their relevance order.
        return sorted(ranked, key=lambda rs: -days.get(rs[0], 0))

    def _hits(
        self,
        parsed: ParsedQuery | None,
        ranked: Sequence[tuple[int, float]],
        lexical: dict[int, float],
        dense: dict[int, float],
    ) -> list[SearchHit]:
        if not ranked:
            return []
        addresses = self._lexical.addresses_of_rows([row for row, _ in ranked])
        highlighter = self._lexical.highlighter(parsed)
        hits: list[SearchHit] = []
        for row, score in ranked:
            address = addresses.get(row)
            if address is None:  # cannot happen for a live row; skip rather than crash
                continue
            title, snippet = highlighter.render(address)
            hits.append(
                SearchHit(
                    key=int(self._vectors.row_keys[row]),
                    score=float(score),
                    lexical_score=lexical.get(row),
                    dense_score=dense.get(row),
                    title=title,
                    snippet=snippet,
                )
            )
        return hits

    # --- related -----------------------------------------------------------------

    def related(
        self, key: int, *, k: int = 10, filters: SearchFilters | None = None
    ) -> list[SearchHit]:
        """Papers nearest to paper `key` (itself excluded), best first.

        Dense similarity of the stored embeddings, fused with BM25 on the
        paper's title and abstract as RELATED_FUSION says (tuned on query by
        example dev sets: docs/decisions/fusion.md).
        """
        with self._lock, self._damage_is_an_error():
            return self._related_locked(key, k, filters)

    def _related_locked(self, key: int, k: int, filters: SearchFilters | None
                        ) -> list[SearchHit]:
        row = self._vectors.key_to_row.get(key)
        if row is None or k <= 0:
            return []
        vector = self._vectors.vector(key)
        assert vector is not None
        if self._manifest["model_id"] is None:
            return []
        depth = max(self._related_fusion.depth, k)
        params = replace(self._related_fusion, depth=depth)
        filter_query = self._lexical.filter_query(filters)
        dense = dict(
            self._dense_candidates(vector[None, :], depth, filter_query, [{row}])[0]
        )
        lexical: dict[int, float] = {}
        coverage: float | None = None
        if params.alpha > 0 or params.alpha_low:
            address = self._lexical.addresses_of_rows([row]).get(row)
            if address is not None:
                text = self._lexical.stored_text(address)
                parsed = parse_user_query(text.replace('"', " "))
                hits = [h for h in self._lexical_candidates(parsed, depth + 1, filter_query)
                        if h.row != row]
                lexical = {h.row: h.score for h in hits}
                if params.alpha_low is not None:
                    coverage = self._coverage(parsed, hits)
        ranked = self._rank(lexical, dense, "hybrid", params, coverage)
        return self._hits(None, ranked[:k], lexical, dense)

    def close(self) -> None:
        """Release the writer lock and the files (everything is already on disk)."""
        with self._lock:
            self._lexical.release_writer()
            self._vectors.close()

    def __enter__(self) -> PaperIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
