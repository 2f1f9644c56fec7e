"""The catalog: the store and the search index used together, for the CLI and the web app.

Owns the operations a person asks for (ingest files, harvest, keep the index
in step with the store, search, related papers, show a paper) so that the
delivery layers stay thin. It opens nothing itself: the store hands out the
data directory's folders and the index works inside the one it is given.
"""

from __future__ import annotations

import contextlib
import datetime
import heapq
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from paperfeed.card_types import Card
from paperfeed.cards.build import BuildReport, CardMaker, build_cards
from paperfeed.embed import Embedder, load_embedder
from paperfeed.errors import IndexStaleError, ModelUnavailableError, PaperfeedError, SourceError
from paperfeed.index import IndexDoc, PaperIndex, SearchFilters, SearchHit
from paperfeed.index.integrity import IndexDamagedError
from paperfeed.index.lexical import share_like_folder
from paperfeed.index.vocabulary import VOCABULARY_FILE, Vocabulary, VocabularyError
from paperfeed.index.writer_lock import index_writer
from paperfeed.records import PaperRecord
from paperfeed.sources import InputLimits, read_records
from paperfeed.store import IngestReport, PaperSummary, Store, StoredPaper
from paperfeed.store.cards import CardStore, PaperText

Progress = Callable[[int], None]
log = logging.getLogger(__name__)
# How often a process looks (one stat of manifest.json) for another process's index commit.
FOLLOW_INTERVAL = 1.0


@dataclass
class FileReport:
    """The outcome of ingesting one file."""

    path: str
    format: str | None
    report: IngestReport = field(default_factory=IngestReport)
    error: str | None = None
    # True when the file is no paper format at all (detection failed), not a bad paper file.
    unrecognised: bool = False

    @property
    def kept(self) -> int:
        """Papers of the file stored (new or merged) before an error stopped it."""
        return self.report.records if self.error else 0


@dataclass(frozen=True)
class Result:
    """A search hit with the stored paper it points at."""

    hit: SearchHit
    paper: StoredPaper


def _index_doc(summary: PaperSummary) -> IndexDoc:
    return IndexDoc(
        key=summary.id,
        title=summary.title,
        abstract=summary.abstract,
        authors=summary.authors,
        categories=summary.categories,
        date=summary.date,
    )


class Catalog:
    """A store and its index in one data directory."""

    def __init__(
        self,
        data_dir: Path | str | None = None,
        *,
        embedder: Embedder | Callable[[], Embedder] | None = None,
        url: str | None = None,
        read_only: bool | None = None,
    ) -> None:
        # read_only None: read-only exactly when this process cannot write the folder.
        self.store = Store(data_dir, url=url, read_only=read_only)
        self._embedder_source = embedder
        self._embedder: Embedder | None = None
        self._index: PaperIndex | None = None
        self._card_maker: CardMaker | None = None
        # Following other processes' commits (`index`): one thread checks at a time,
        # at most every FOLLOW_INTERVAL seconds, never while this process writes.
        self._open_lock = threading.Lock()
        self._follow_lock = threading.Lock()
        self._next_check = 0.0
        self._writing = 0
        # `pending()` of the index in use, keyed on (store revision, index version): while
        # a first phase is being finished it reads every changed paper's summary.
        self._pending: tuple[tuple[int, tuple[str, int]], int] | None = None

    @property
    def embedder(self) -> Embedder:
        """The sentence embedder, loaded on first use (lexical-only work never loads it)."""
        if self._embedder is None:
            source = self._embedder_source
            if source is None:
                self._embedder = self._load_embedder()
            elif callable(source) and not hasattr(source, "encode"):
                self._embedder = source()
            else:
                self._embedder = cast(Embedder, source)
        return self._embedder

    def _load_embedder(self) -> Embedder:
        # PAPERFEED_MODEL_CACHE lets several data dirs (and test runs) share one export.
        shared = os.environ.get("PAPERFEED_MODEL_CACHE")
        if shared:
            return load_embedder(cache_dir=shared)
        if not self.store.read_only:
            return load_embedder(cache_dir=self.store.subdir("models"))
        # A read-only store: the owner's export in models/ if it is there and complete,
        # else this user's cache folder (the export cannot be made in the store).
        try:
            return load_embedder(cache_dir=self.store.data_dir / "models")
        except OSError:
            pass
        from paperfeed.embed.model import default_cache_dir

        try:
            return load_embedder(cache_dir=default_cache_dir())
        except OSError as exc:
            raise ModelUnavailableError(
                f"no usable model export in {self.store.data_dir / 'models'} (read-only) and "
                f"none can be made in {default_cache_dir()} ({exc}); set "
                "PAPERFEED_MODEL_CACHE to a folder holding one or that this user can write"
            ) from exc

    @property
    def index(self) -> PaperIndex:
        """The search index as last committed by any process: at most FOLLOW_INTERVAL
        seconds after another process commits (an ingest, a harvest, a rebuild), the next
        use opens the new generation and later callers get it; a caller holding the old
        object finishes on it (it is freed when the last one lets go)."""
        index = self._index
        if index is None:
            with self._open_lock:
                if self._index is None:
                    self._index = self._open_index()
                return self._index
        if time.monotonic() >= self._next_check and not self._writing:
            self._follow()
        return self._index or index

    def _open_index(self) -> PaperIndex:
        """The index in the folder in use; opened again if a rebuild switched to another
        folder meanwhile (the one it left is deleted, so it must not be read)."""
        folder = self.store.index_dir()
        for _ in range(3):
            index = PaperIndex.open(folder, lambda: self.embedder,
                                    read_only=self.store.read_only)
            now = self.store.index_dir()
            if now == folder:
                break
            folder = now
        return index

    def _is_current(self, index: PaperIndex) -> bool:
        """Whether `index` is what the last writer left: the folder in use (a full rebuild
        switches folders) at the manifest on disk."""
        return index.directory == self.store.index_dir() and index.is_current()

    def _follow(self) -> None:
        """Swap in the index on disk if another process committed since ours was opened."""
        if not self._follow_lock.acquire(blocking=False):
            return  # another thread is checking or opening: use what is open meanwhile
        try:
            self._next_check = time.monotonic() + FOLLOW_INTERVAL
            index = self._index
            try:
                if index is None or self._writing or self._is_current(index):
                    return
                fresh = self._open_index()
                # A commit while we opened may leave the manifest and tantivy one batch
                # apart: open again until both are of one generation.
                for _ in range(3):
                    if self._is_current(fresh):
                        break
                    fresh = self._open_index()
            except PaperfeedError as exc:
                # Damaged or mid-rebuild: keep answering from what is open, look again soon.
                log.warning("the search index changed on disk but cannot be opened (%s); "
                            "still searching the previous one", exc)
                return
            with self._open_lock:
                if self._index is index and not self._writing:
                    # Not closed: requests in flight may still read it. Nothing else holds
                    # it, so it is freed (files unmapped) when the last of them returns.
                    self._index = fresh
        finally:
            self._follow_lock.release()

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None
        self.store.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- ingest -------------------------------------------------------------------

    def ingest_records(
        self, records: Iterable[PaperRecord], *, progress: Progress | None = None,
        batch_size: int = 1000, origin: str = "operator",
    ) -> IngestReport:
        """Store records; `origin` "user:<id>" for a web upload, which never rewrites a
        stored paper (`Store.add_papers`)."""
        return self.store.add_papers(records, progress=progress, batch_size=batch_size,
                                     origin=origin)

    def ingest_file(
        self,
        path: Path,
        *,
        format: str | None = None,
        author: str | None = None,
        progress: Progress | None = None,
        batch_size: int = 1000,
        limits: InputLimits | None = None,
    ) -> FileReport:
        """Ingest one file within `limits` (default: `sources.default_limits()`).

        A parse error or a passed cap stops the file; the batches before it stay
        stored and counted in the report.
        """
        from paperfeed.sources import default_limits, detect_format
        from paperfeed.sources.limits import bounded_batches

        limits = limits or default_limits()
        result = FileReport(path=str(path), format=format)
        try:
            try:
                result.format = format or detect_format(path, limits=limits)
            except SourceError as exc:
                result.unrecognised = True
                raise exc
            records = read_records(path.resolve(), format=result.format, author=author,
                                   limits=limits)
            # Batches bounded in bytes too: a file of huge author lists stays in memory.
            for batch in bounded_batches(records, size=batch_size):
                result.report.add(self.store.add_papers(batch, progress=progress,
                                                        batch_size=batch_size))
        except SourceError as exc:
            result.error = str(exc)
        return result

    # --- index --------------------------------------------------------------------

    def index_damage(self) -> str | None:
        """What is wrong with the index's files, in words, or None when they are sound
        (`index.integrity`): `update_index` then rebuilds, searches refuse in one line."""
        try:
            self.index.verify()  # opening checks the files, verify reads a little of them
        except IndexDamagedError as exc:
            return exc.problem
        return None

    @contextlib.contextmanager
    def writing_index(self, on_wait: Callable[[str], None]) -> Iterator[None]:
        """Be the only process writing the index for the block (`index.writer_lock`),
        with the index as the last writer left it."""
        with index_writer(self.store.data_dir, on_wait):
            with self._open_lock:
                if self._index is not None and not self._is_current(self._index):
                    # Another process committed: the next use opens what it wrote (and
                    # finds any damage). Not closed: requests in flight may still read it.
                    self._index = None
            self._writing += 1
            try:
                yield
            finally:
                self._writing -= 1

    def indexed_revision(self, index: PaperIndex | None = None) -> int:
        """The store revision `index` (default: the one in use) is caught up to."""
        version = (index if index is not None else self.index).manifest().get("source_version")
        try:
            return int(version) if version is not None else 0
        except ValueError:
            return 0

    @staticmethod
    def _already_indexed(index: PaperIndex) -> Callable[[PaperSummary], bool]:
        """Whether a paper changed since the index's revision is in it as it is now:
        true only for what an interrupted catch-up indexed (`PaperIndex.resumable`)."""
        resumable = index.resumable()
        if resumable is None:
            return lambda summary: False
        revision, keys = resumable
        return lambda summary: summary.revision <= revision and summary.id in keys

    def pending(self, index: PaperIndex | None = None) -> int:
        """How many stored papers `index` (default: the one in use, counted once per store
        revision and index commit) has not caught up with."""
        if index is not None:
            return self._count_pending(index)
        index = self.index
        key = (self.store.revision(), index.version())
        cached = self._pending
        if cached is None or cached[0] != key:
            cached = self._pending = (key, self._count_pending(index))
        return cached[1]

    def _count_pending(self, index: PaperIndex) -> int:
        since = self.indexed_revision(index)
        if index.resumable() is None:
            return self.store.count_since(since)
        done = self._already_indexed(index)
        return sum(1 for s in self.store.iter_summaries(since_revision=since) if not done(s))

    def index_unfinished(self) -> bool:
        """True when a catch-up or a full rebuild was interrupted: the next one finishes
        it, even with nothing left to embed (the index's revision moves on, the rebuild
        switches)."""
        return self.index.resumable() is not None or self.rebuild_unfinished()

    def rebuild_unfinished(self) -> bool:
        """True when a full rebuild was interrupted before it switched (kill -9)."""
        return self.store.index_folders.building() is not None

    def rebuild_progress(self) -> dict[str, int] | None:
        """An interrupted full rebuild: papers already in its generation and still to do."""
        folder = self.store.index_folders.building()
        if folder is None:
            return None
        try:
            with PaperIndex.open(folder, lambda: self.embedder, read_only=True) as partial:
                return {"indexed": len(partial), "pending": self.pending(partial)}
        except IndexStaleError:  # damaged: the rebuild starts over
            return {"indexed": 0, "pending": self.store.count()}

    def index_is_stale(self) -> bool:
        """True when the index was built with another embedding model than the current one."""
        built_with = self.index.manifest().get("model_id")
        return built_with is not None and built_with != self.embedder.model_id

    def update_index(
        self, *, progress: Progress | None = None, full: bool = False, batch_size: int = 2048,
        newest: int | None = None,
    ) -> int:
        """Bring the index up to the store's revision: only changed papers unless `full`.

        An index built with another model is rebuilt from scratch: its vectors
        cannot be compared with the new model's. With `newest` only the newest that
        many changed papers (by date) are made current, newest first, and the run is
        left unfinished: the next update, resumed, indexes the rest.
        """
        self.store.require_writable()
        if self._rebuilding(full):
            return self._rebuild(progress, batch_size)
        return self._catch_up_index(self.index, progress, batch_size, newest)

    def _rebuilding(self, full: bool) -> bool:
        return (full or self.index_damage() is not None or self.index_is_stale()
                or self.rebuild_unfinished())

    def _catch_up_index(self, index: PaperIndex, progress: Progress | None,
                        batch_size: int, newest: int | None = None) -> int:
        since = self.indexed_revision(index)
        revision = self.store.revision()
        done = self._already_indexed(index)  # what a killed run committed is not embedded again
        summaries: Iterable[PaperSummary] = self.store.iter_summaries(since_revision=since)
        if newest is not None:  # the newest of all changed papers, indexed or not yet
            summaries = heapq.nlargest(newest, summaries,
                                       key=lambda s: (s.date or datetime.date.min, s.id))
        docs = (_index_doc(s) for s in summaries if not done(s))
        # Batches of 2048: a crash loses under a minute of embedding, and fewer
        # tantivy commits halve the lexical build time (docs/decisions/lexical-engine.md).
        return index.add(docs, progress=progress, source_version=str(revision),
                         batch_size=batch_size, finish=newest is None)

    def _rebuild(self, progress: Progress | None, batch_size: int) -> int:
        """Write a whole new generation beside the index in use, then switch to it in one
        atomic step: readers answer from the old one throughout, then follow. A rebuild
        killed midway is finished by the next call (docs/decisions/index-generations.md)."""
        folders = self.store.index_folders
        folder = folders.start_rebuild()
        try:
            fresh = PaperIndex.open(folder, lambda: self.embedder)
            fresh.verify()
            resumable = fresh.manifest().get("model_id") in (None, self.embedder.model_id)
            if not resumable:
                fresh.close()
        except IndexStaleError:  # an unfinished rebuild left damaged
            resumable = False
        if not resumable:  # start that rebuild over
            folder = folders.start_rebuild(fresh=True)
            fresh = PaperIndex.open(folder, lambda: self.embedder)
        written = self._catch_up_index(fresh, progress, batch_size)
        self._carry_over(folder)
        folders.switch(folder)
        with self._open_lock:
            # The old one is not closed: requests in flight may still read it.
            self._index = fresh
        return written

    def _carry_over(self, folder: Path) -> None:
        """Copy what the index folder keeps besides the index (the vocabulary, fitted on
        the store, not on the index) into a new generation before it is switched to."""
        old = self.store.index_dir() / VOCABULARY_FILE
        new = folder / VOCABULARY_FILE
        if old.is_file() and not new.exists():
            with contextlib.suppress(OSError):  # a missing vocabulary is fitted again
                shutil.copyfile(old, new)

    def pending_for_update(self, *, full: bool = False) -> int:
        """How many papers `update_index` will embed now."""
        if self._rebuilding(full):
            progress = self.rebuild_progress()
            return progress["pending"] if progress else self.store.count()
        return self.pending()

    # --- queries ------------------------------------------------------------------

    def _attach(self, hits: Sequence[SearchHit]) -> list[Result]:
        # Results never show provenance: the lighter read.
        papers = {p.id: p for p in self.store.get_many([h.key for h in hits], details=False)}
        return [Result(hit=h, paper=papers[h.key]) for h in hits if h.key in papers]

    def search(
        self,
        query: str,
        *,
        k: int = 10,
        offset: int = 0,
        filters: SearchFilters | None = None,
        sort: Literal["relevance", "date"] = "relevance",
        mode: Literal["hybrid", "lexical", "dense"] = "hybrid",
    ) -> list[Result]:
        """Search; card facets in the query (`dataset:LaSOT`, `has:code` ...) restrict the
        results to the papers whose cards match them, the other words rank them."""
        text, filters = self.with_facets(query, filters)
        hits = self.index.search(text, k=k, offset=offset, filters=filters, sort=sort, mode=mode)
        return self._attach(hits)

    def with_facets(self, query: str, filters: SearchFilters | None
                    ) -> tuple[str, SearchFilters | None]:
        """The query's text without card facets, and the filters narrowed by them."""
        from dataclasses import replace

        from paperfeed.cards.facets import split_facets

        text, wanted = split_facets(query)
        if wanted.is_empty():
            return query, filters
        keys = self.cards.matching(datasets=wanted.datasets, tasks=wanted.tasks,
                                   kinds=wanted.kinds, has=wanted.has)
        if keys is None:
            return text, filters
        base = filters or SearchFilters()
        if base.keys is not None:
            keys &= base.keys
        return text, replace(base, keys=frozenset(keys))

    # --- cards --------------------------------------------------------------------

    @property
    def cards(self) -> CardStore:
        return CardStore(self.store)

    @property
    def card_maker(self) -> CardMaker:
        """The extractor with its tagger, loaded on first use."""
        if self._card_maker is None:
            self._card_maker = CardMaker.for_store(self.store)
        return self._card_maker

    def reset_card_maker(self) -> None:
        """Forget the loaded tagger (after training a new one)."""
        self._card_maker = None

    def update_cards(self, *, progress: Progress | None = None, workers: int | None = None
                     ) -> BuildReport:
        """Extract the cards of papers with none or a stale one (see `cards.build`)."""
        self.store.require_writable()
        return build_cards(self.store, progress=progress, workers=workers,
                           maker=self.card_maker)

    def cards_pending(self) -> int:
        return self.cards.count_stale(self.card_maker.version)

    def card(self, paper: StoredPaper) -> Card:
        """The paper's card; one missing or stale (not built yet) is extracted and kept now."""
        maker = self.card_maker
        stored = self.cards.get(paper.id)
        if stored is not None and stored.version == maker.version:
            return stored
        r = paper.record
        card = maker.make(PaperText(id=paper.id, title=r.title, abstract=r.abstract,
                                    comment=r.comment, revision=paper.revision))
        if not self.store.read_only:  # a read-only store shows it without keeping it
            self.cards.save([(paper.id, paper.revision, card)])
        return card

    def search_many(
        self, queries: Sequence[str], *, k: int = 10, filters: SearchFilters | None = None,
        mode: Literal["hybrid", "lexical", "dense"] = "hybrid",
    ) -> list[list[Result]]:
        batches = self.index.search_many(queries, k=k, filters=filters, mode=mode)
        return [self._attach(hits) for hits in batches]

    def find(self, ref: str) -> StoredPaper:
        paper = self.store.find(ref)
        if paper is None:
            raise PaperNotFoundError(f"no paper matches {ref!r} (try a store id, arXiv id or DOI)")
        return paper

    def related(self, ref: str, *, k: int = 10) -> tuple[StoredPaper, list[Result]]:
        paper = self.find(ref)
        return paper, self._attach(self.index.related(paper.id, k=k))

    def vocabulary(self) -> Vocabulary:
        """The corpus vocabulary (term → idf) in the index folder, for the ranker's lexical part.

        Fitted on the stored titles and abstracts (up to 200,000 of them) and saved
        on first use, and again when the store has grown by more than a fifth since
        (idf drifts slowly; a fit takes about 40 s for 75,000 papers). Callers keep it.
        """
        path = self.store.index_dir() / VOCABULARY_FILE
        size = self.store.count()
        if not self.store.read_only:
            share_like_folder(path)  # older versions wrote it owner-only
        try:
            vocabulary = Vocabulary.load(path) if path.exists() else None
        except VocabularyError:
            vocabulary = None  # damaged: fit a new one over it
        if vocabulary is None or size > 1.2 * vocabulary.corpus_size:
            vocabulary = Vocabulary.fit_sample(
                f"{s.title} {s.abstract}" for s in self.store.iter_summaries())
            if not self.store.read_only:  # read-only: this process keeps it in memory
                vocabulary.save(path)
        return vocabulary

    def stats(self) -> dict[str, Any]:
        stats = self.store.stats()
        damage = self.index_damage()
        if damage:  # nothing in it can be trusted: every paper waits for the rebuild
            stats["index"] = {"damaged": damage, "counts": {"papers": 0, "vectors": 0},
                              "pending": self.store.count()}
        else:
            stats["index"] = {**self.index.manifest(), "damaged": None,
                              "pending": self.pending()}
        # A full rebuild killed before it switched: `reindex` (or any catch-up) finishes it.
        stats["index"]["rebuilding"] = self.rebuild_progress()
        stats["harvest"] = self.store.harvest_states()
        return stats


class PaperNotFoundError(PaperfeedError):
    """No stored paper matches a reference."""
