"""The paper store: the only code that opens the database or the data directory.

Every ingest batch is one transaction, so a failure midway leaves the store
exactly as it was before that batch. Each committed batch that changes
anything bumps the store revision; papers carry the revision that last
changed them, so indexes can catch up incrementally.

A data folder this process cannot write (an archive on a read-only mount, or
another user's) is opened read-only: SQLite in `mode=ro` (or `immutable=1` when
no writer can be mid-transaction: docs/decisions/read-only-store.md), no
migration, no folder or file created, and every write refused with
`ReadOnlyStoreError`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from platformdirs import user_data_dir
from sqlalchemy import (
    URL,
    Engine,
    and_,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from paperfeed.clock import utc_now
from paperfeed.errors import StoreError
from paperfeed.records import Author, PaperRecord, normalize_doi, split_arxiv_id
from paperfeed.records import Provenance as RecordProvenance
from paperfeed.store import models as m
from paperfeed.store import postgres
from paperfeed.store.bounded import clip
from paperfeed.store.files import atomic_write
from paperfeed.store.index_folders import IndexFolders
from paperfeed.store.merge import (
    CATEGORY_MAX,
    FIELDS,
    PaperValues,
    changed_fields,
    ids_conflict,
    merge,
    name_key,
    record_title_key,
    trusted,
)

DB_FILE = "paperfeed.sqlite"
_MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger(__name__)


class ReadOnlyStoreError(StoreError):
    """A write to a store this process may only read."""


def folder_is_writable(data_dir: Path) -> bool:
    """Whether this process may write the data folder and the database in it.

    `os.access` asks the kernel with the process's real identity and capabilities, so
    a read-only mount (EROFS) and another user's folder both say no; root with
    CAP_DAC_OVERRIDE says yes, as it could write.
    """
    db = data_dir / DB_FILE
    return os.access(data_dir, os.W_OK | os.X_OK) and (
        not db.exists() or os.access(db, os.W_OK))


def _sqlite_url(db: Path, *, read_only: bool, immutable: bool = False) -> URL | str:
    if not read_only:
        return f"sqlite:///{db}"
    from urllib.parse import quote

    query = {"mode": "ro", "uri": "true"}
    if immutable:
        query["immutable"] = "1"
    # A URI filename: '?', '#' and '%' in the path must be percent-encoded.
    return URL.create("sqlite", database=f"file:{quote(str(db.resolve()))}", query=query)


def database_url(url: str | None = None) -> str | None:
    """The SQLAlchemy URL of the database: `url`, else `PAPERFEED_DATABASE_URL`, else None
    (SQLite in the data folder). A plain `postgresql://` URL gets the psycopg 3 driver."""
    url = url or os.environ.get("PAPERFEED_DATABASE_URL") or None
    if url is None:
        return None
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"not a database URL (PAPERFEED_DATABASE_URL?): {exc}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def default_data_dir() -> Path:
    """`PAPERFEED_DATA` if set, else the per-user data folder."""
    configured = os.environ.get("PAPERFEED_DATA")
    return Path(configured).expanduser() if configured else Path(user_data_dir("paperfeed"))


@dataclass
class IngestReport:
    """What an ingest did: new papers, records merged into stored ones, skips with reasons."""

    ingested: int = 0
    merged: int = 0
    changed: int = 0
    # Records of a user's upload that matched a stored paper: linked to it, never merged in.
    linked: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def records(self) -> int:
        return self.ingested + self.merged + self.linked

    def add(self, other: IngestReport) -> None:
        self.ingested += other.ingested
        self.merged += other.merged
        self.changed += other.changed
        self.linked += other.linked
        self.skipped.update(other.skipped)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ingested": self.ingested,
            "merged": self.merged,
            "changed_by_merge": self.changed,
            "linked": self.linked,
            "skipped": dict(self.skipped),
        }


@dataclass(frozen=True)
class StoredPaper:
    """A stored paper: its id in the store, the merged record and the revision that wrote it."""

    id: int
    record: PaperRecord
    revision: int


@dataclass(frozen=True)
class PaperSummary:
    """The fields an index needs, read in bulk."""

    id: int
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    date: date | None
    revision: int


@dataclass
class _Entry:
    """A paper being written in the current batch (stored or new)."""

    paper_id: int | None
    values: PaperValues
    original: PaperValues | None
    provenance: list[RecordProvenance] = field(default_factory=list)
    source_ids: list[tuple[str, str]] = field(default_factory=list)
    # field -> (source, origin, when) of its current value; stored papers start with theirs.
    origins: dict[str, tuple[str, str, datetime]] = field(default_factory=dict)
    origins_changed: bool = False

    def untrusted_fields(self) -> set[str]:
        return {name for name, (_, origin, _) in self.origins.items() if not trusted(origin)}

    def set_origin(self, names: Iterable[str], source: str, origin: str, at: datetime) -> None:
        for name in names:
            self.origins[name] = (source, origin, at)
            self.origins_changed = True


def _validate(record: PaperRecord) -> str | None:
    """Why a record cannot be stored, or None."""
    if not isinstance(record, PaperRecord):
        return "not a paper record"
    if not record.title.strip():
        return "no title"
    if len(record.title) > 2000:
        return "title longer than 2000 characters"
    if len(record.abstract) > 100_000:
        return "abstract longer than 100000 characters"
    return None


def _fits(value: str | None, column: Any) -> bool:
    return value is None or len(value) <= column.type.length


def _fit_provenance(p: RecordProvenance) -> RecordProvenance:
    # Clipped here, not only where bound: the batch matches a record to a stored paper by
    # (source, file, line), comparing these values in Python with the stored ones.
    file, record_id = m.Provenance.file.type, m.Provenance.record_id.type
    fitted = RecordProvenance(
        source=clip(p.source, m.Provenance.source.type.length),
        file=None if p.file is None else clip(p.file, None, file.max_bytes),
        line=p.line,
        record_id=None if p.record_id is None else clip(p.record_id, record_id.length,
                                                         record_id.max_bytes))
    return p if fitted == p else fitted


def fit_record(record: PaperRecord) -> PaperRecord:
    """The record with what it is matched by inside its columns.

    Every other text is clipped where it is bound (`store.bounded`), but the ids and
    source positions a batch matches records by are compared in Python with the stored
    ones, so they are fitted before matching. A clipped arXiv id or DOI would name
    another paper: one longer than its column is no real identifier (arXiv ids have at
    most 20 characters, registered DOIs under 200), so it is left out, with a warning
    naming where the record came from; the paper is stored without it."""
    changes: dict[str, object] = {}
    if not (_fits(record.arxiv_id, m.Paper.arxiv_id) and _fits(record.doi, m.Paper.doi)):
        dropped = [name for name, column in (("arxiv_id", m.Paper.arxiv_id),
                                              ("doi", m.Paper.doi))
                   if not _fits(getattr(record, name), column)]
        log.warning("%s: %s too long for the store, left out",
                    _place(record.provenance[0] if record.provenance else None),
                    " and ".join(dropped))
        changes.update(dict.fromkeys(dropped))
        if "arxiv_id" in changes:
            changes["arxiv_version"] = None
    provenance = tuple(_fit_provenance(p) for p in record.provenance)
    if provenance != record.provenance:
        changes["provenance"] = provenance
    return record.with_changes(**changes) if changes else record


def _place(p: RecordProvenance | None) -> str:
    if p is None:
        return "a record"
    return f"{p.file or p.source}:{p.line}" if p.line else (p.file or p.source)


class Store:
    """The paper store on SQLite (default) or any SQLAlchemy URL (PostgreSQL for servers)."""

    def __init__(self, data_dir: Path | str | None = None, *, url: str | None = None,
                 read_only: bool | None = None) -> None:
        """Open (or create) the store. `url` None means `PAPERFEED_DATABASE_URL`, else
        SQLite in the data folder (`database_url`). `read_only` None means: read-only
        exactly when the database is that SQLite file, the data folder exists and this
        process cannot write it (see `folder_is_writable`)."""
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        url = database_url(url)
        if read_only is None:
            read_only = url is None and self.data_dir.is_dir() and not folder_is_writable(
                self.data_dir)
        self.read_only = read_only
        self._secret: bytes | None = None
        db = self.data_dir / DB_FILE
        if not read_only:
            try:
                self.data_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create data directory {self.data_dir}: {exc}") from exc
        elif url is None and not db.is_file():
            raise StoreError(f"no store in {self.data_dir}, and this process cannot create one "
                             "there (the folder is read-only for it)")
        # For messages: a password in the URL is never shown.
        self.url = make_url(url).render_as_string() if url else f"sqlite:///{db}"
        try:
            self.engine: Engine = self._engine(url, db)
            self._migrate()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the store at {self.url}: {exc}") from exc

    def _engine(self, url: str | None, db: Path) -> Engine:
        """The engine; for a read-only SQLite store, the first URI that can read it."""
        if url is not None or not self.read_only:
            engine = create_engine(url or _sqlite_url(db, read_only=False))
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _sqlite_pragmas)
            postgres.configure(engine)
            return engine
        engine = self._read_only_engine(db, immutable=False)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT count(*) FROM sqlite_master"))
            return engine
        except SQLAlchemyError as exc:
            engine.dispose()
            wal = db.with_name(db.name + "-wal")
            if wal.exists() and wal.stat().st_size > 0:
                # Committed pages may still be in the WAL only: immutable=1 would not see
                # them. SQLite needs the -shm file to read it, and cannot make one here.
                raise StoreError(
                    f"cannot read the store in {self.data_dir} read-only: {wal.name} holds "
                    f"changes and {db.name}-shm cannot be used ({exc}); the owner's next "
                    "writing command (or its server stopping) folds them in") from exc
        # No -wal: the file alone is the whole store, and nobody can be writing it (a
        # writer keeps the -wal file while it is open). Without the -shm file (a read-only
        # folder cannot get one) SQLite reads it only as immutable.
        return self._read_only_engine(db, immutable=True)

    def _read_only_engine(self, db: Path, *, immutable: bool) -> Engine:
        engine = create_engine(_sqlite_url(db, read_only=True, immutable=immutable))
        event.listen(engine, "connect", _sqlite_read_only_pragmas)
        event.listen(engine, "handle_error", self._refuse_write)
        return engine

    def _refuse_write(self, context: Any) -> None:
        """SQLite's "attempt to write a readonly database", as one clear error."""
        original = context.original_exception
        # Plain SQLITE_READONLY only: SQLITE_READONLY_DIRECTORY and the like are about
        # opening the file (the -shm), which `_engine` answers by other means.
        if isinstance(original, sqlite3.OperationalError) and getattr(
                original, "sqlite_errorname", "") == "SQLITE_READONLY":
            raise self.read_only_error()

    def read_only_error(self, action: str = "") -> ReadOnlyStoreError:
        doing = f"`paperfeed {action}` writes to the store, but " if action else ""
        return ReadOnlyStoreError(
            f"{doing}the data folder {self.data_dir} is read-only for this process (a "
            "read-only mount or another user's folder): reading works, writing does not; "
            "run writing commands as its owner")

    @property
    def embedded(self) -> bool:
        """Whether the database is a file in this process (SQLite): a read costs
        microseconds, not a round trip to a server."""
        return self.engine.dialect.name == "sqlite"

    def require_writable(self, action: str = "") -> None:
        """Raise ReadOnlyStoreError (naming `action`) when the store is read-only."""
        if self.read_only:
            raise self.read_only_error(action)

    # --- set-up ---------------------------------------------------------------

    def schema_heads(self) -> tuple[set[str], set[str]]:
        """The migrations the database is at, and the newest ones."""
        cfg = Config()
        cfg.set_main_option("script_location", str(_MIGRATIONS))
        heads = set(ScriptDirectory.from_config(cfg).get_heads())
        with self.engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
        return current, heads

    def _migrate(self) -> None:
        """Bring the schema to the newest migration; nothing to do (and nothing written)
        when it is there. A read-only store that needs one cannot be opened."""
        current, heads = self.schema_heads()
        if current == heads:
            return
        if self.read_only:
            raise StoreError(
                f"the store in {self.data_dir} needs an upgrade (schema "
                f"{', '.join(sorted(current)) or 'none'} -> {', '.join(sorted(heads))}); run a "
                "writing command as its owner")
        cfg = Config()
        cfg.set_main_option("script_location", str(_MIGRATIONS))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def subdir(self, name: str) -> Path:
        """A folder inside the data directory for derived data (indexes, model cache).

        Made when missing, except in a read-only store: there the caller gets the path
        and must cope with its absence (an empty index, no outbox)."""
        path = self.data_dir / name
        if not self.read_only:
            path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def index_folders(self) -> IndexFolders:
        """The search index's generations in the data directory (`store.index_folders`)."""
        return IndexFolders(self.data_dir, read_only=self.read_only)

    def index_dir(self) -> Path:
        """The folder of the search index in use (the current generation): what a reader
        opens, and what a backup copies while holding the index writer lock."""
        return self.index_folders.current()

    def secret_key(self) -> bytes:
        """This installation's signing key: `PAPERFEED_SECRET_KEY`, else a random one kept in
        the data directory (owner-only), made on first use. Never in the repository."""
        configured = os.environ.get("PAPERFEED_SECRET_KEY")
        if configured:
            return configured.encode()
        path = self.data_dir / "secret_key"
        if self.read_only:
            return self._read_only_secret(path)
        try:
            if not path.exists():
                import secrets

                # Owner-only from the start; not overwriting: if another process made one
                # meanwhile, theirs wins and both read the same key.
                atomic_write(path, secrets.token_hex(32), mode=0o600, overwrite=False)
            return path.read_text().strip().encode()
        except OSError as exc:
            raise StoreError(f"cannot read or create the secret key {path}: {exc}") from exc

    def _read_only_secret(self, path: Path) -> bytes:
        """The owner's key when this process may read it; else one for this process only.

        The key is owner-only by design, and never written here. A read-only store takes
        no sign-in, vote or any other write, so a key that dies with the process only
        means that its voter cookies do not outlive it."""
        if self._secret is None:
            with contextlib.suppress(OSError):
                self._secret = path.read_text().strip().encode() or None
            if self._secret is None:
                import secrets

                log.warning("%s cannot be read: signing cookies with a key for this process "
                            "only (set PAPERFEED_SECRET_KEY to share one)", path)
                self._secret = secrets.token_hex(32).encode()
        return self._secret

    def clear_subdir(self, name: str) -> None:
        """Empty a derived-data folder (an index to rebuild); the store itself is never touched."""
        import shutil

        self.require_writable()

        path = self.data_dir / name
        if not name or "/" in name or name.startswith(".") or path == self.data_dir:
            raise StoreError(f"refusing to clear {path}")
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True, exist_ok=True)

    # --- revisions --------------------------------------------------------------

    def revision(self) -> int:
        with Session(self.engine) as session:
            value = session.get(m.StoreMeta, "revision")
            return int(value.value) if value else 0

    def _lock_revision(self, session: Session) -> None:
        """Take the store's write turn, first thing in an ingest transaction: the row lock on
        the revision counter on PostgreSQL (the row made first if missing), SQLite's write
        lock there (any insert takes it). Batches of concurrent writers then run one after
        the other, and each matches its records against everything committed before it."""
        session.execute(self._insert_ignore(m.StoreMeta).values(key="revision", value="0"))
        session.execute(select(m.StoreMeta.value).where(m.StoreMeta.key == "revision")
                        .with_for_update())

    def _next_revision(self, session: Session) -> int:
        row = session.get(m.StoreMeta, "revision")
        if row is None:
            row = m.StoreMeta(key="revision", value="0")
            session.add(row)
        row.value = str(int(row.value) + 1)
        return int(row.value)

    # --- ingest -----------------------------------------------------------------

    def add_papers(
        self,
        records: Iterable[PaperRecord],
        *,
        batch_size: int = 1000,
        progress: Callable[[int], None] | None = None,
        origin: str = "operator",
    ) -> IngestReport:
        """Store records, deduping against the store and each other, one transaction a batch.

        `origin` says who brings the records: "operator" (a command run by whoever owns
        the data folder), "harvest", or "user:<id>" for a web user's upload. A user's
        record never changes a stored paper: one that matches becomes a link to it
        (`IngestReport.linked`; `lookup` finds its id), one that matches nothing is
        stored as a new paper whose fields any trusted source later overrides. Which
        source and origin set each field is kept (`field_origins`).

        An exception from `records` (a parser error at some line) propagates after
        everything read before it is stored: the batches before it and the records
        of the batch in flight, each batch in one transaction.
        """
        report = IngestReport()
        batch: list[PaperRecord] = []

        def flush() -> None:
            nonlocal batch
            if batch:
                report.add(self._write_batch(batch, origin))
                if progress:
                    progress(len(batch))
                batch = []

        iterator = iter(records)
        while True:
            try:
                record = next(iterator)
            except StopIteration:
                break
            except BaseException:
                flush()  # what was read before the bad line is stored, then the error goes on
                raise
            reason = _validate(record)
            if reason:
                report.skipped[reason] += 1
                continue
            batch.append(fit_record(record))
            if len(batch) >= batch_size:
                flush()
        flush()
        return report

    def _write_batch(self, records: Sequence[PaperRecord], origin: str) -> IngestReport:
        def attempt() -> IngestReport:
            with Session(self.engine) as session, session.begin():
                self._lock_revision(session)
                return self._merge_batch(session, records, origin)

        try:
            return postgres.retrying(attempt)
        except SQLAlchemyError as exc:
            raise StoreError(f"could not write a batch of {len(records)} papers: {exc}") from exc

    def _merge_batch(self, session: Session, records: Sequence[PaperRecord], origin: str
                     ) -> IngestReport:
        report = IngestReport()
        may_write = trusted(origin)
        by_arxiv, by_doi, by_title, by_prov = self._prefetch(session, records, may_write)
        entries: list[_Entry] = []
        seen_entries: set[int] = set()
        for stored in [*by_arxiv.values(), *by_doi.values(),
                       *by_title.entries()]:
            if id(stored) not in seen_entries:
                seen_entries.add(id(stored))
                entries.append(stored)

        now = utc_now()
        for record in records:
            source = record.provenance[0].source if record.provenance else "unknown"
            entry = _match(record, by_arxiv, by_doi, by_title, by_prov)
            if entry is None:
                entry = _Entry(paper_id=None, values=PaperValues.from_record(record), original=None)
                entry.set_origin(changed_fields(None, entry.values), source, origin, now)
                entries.append(entry)
                report.ingested += 1
            elif not may_write and entry.paper_id is not None:
                # A user's claim about a shared paper: remembered as provenance, never merged.
                entry.provenance.extend(record.provenance)
                report.linked += 1
                continue
            else:
                before = entry.values
                replace = entry.untrusted_fields() if may_write else set()
                entry.values = merge(entry.values, record, replace=replace)
                entry.set_origin(changed_fields(before, entry.values), source, origin, now)
                report.merged += 1
            # A DOI held by another paper stays there (DOIs are unique in the store).
            holder = by_doi.get(entry.values.doi) if entry.values.doi else None
            if holder is not None and holder is not entry:
                entry.values.doi = entry.original.doi if entry.original else None
            entry.provenance.extend(record.provenance)
            if may_write:
                entry.source_ids.extend(record.source_ids)
            _register(entry, by_arxiv, by_doi, by_title)
            for p in record.provenance:
                by_prov.setdefault(_prov_key(p), entry)

        changed = [e for e in entries if e.paper_id is None or e.values != e.original]
        report.changed = sum(1 for e in changed if e.paper_id is not None)
        revision = self._next_revision(session) if changed else 0
        new = [e for e in changed if e.paper_id is None]
        if new:
            rows = [{**e.values.columns(), "revision": revision, "created_at": now,
                     "modified_at": now} for e in new]
            ids = session.scalars(
                insert(m.Paper).returning(m.Paper.id, sort_by_parameter_order=True), rows
            ).all()
            for entry, paper_id in zip(new, ids, strict=True):
                entry.paper_id = paper_id
        updated = [e for e in changed if e.original is not None]
        if updated:
            session.execute(
                update(m.Paper),
                [{"id": e.paper_id, **e.values.columns(), "revision": revision,
                  "modified_at": now} for e in updated],
            )
        self._write_children(session, changed, entries, now, origin)
        return report

    def _prefetch(
        self, session: Session, records: Sequence[PaperRecord], by_position: bool = True
    ) -> tuple[dict[str, _Entry], dict[str, _Entry], _Titles,
               dict[tuple[str, str, int], _Entry]]:
        """Stored papers that may match a record of the batch, with their field origins.

        By arXiv id, DOI, title key, or (when `by_position`) the same source position
        (file and line): the last makes re-ingesting a file a no-op even where a later
        version changed the title a record was first matched by.
        """
        arxiv_ids = {r.arxiv_id for r in records if r.arxiv_id}
        dois = {r.doi for r in records if r.doi}
        # A title match never joins two arXiv ids or two DOIs: a record with an id needs
        # only the same-titled papers that lack that id (not all 40,000 papers of a file
        # that gives one title to every paper).
        with_arxiv = {record_title_key(r) for r in records if r.arxiv_id}
        with_doi = {record_title_key(r) for r in records if r.doi and not r.arxiv_id}
        idless = {record_title_key(r) for r in records if not r.arxiv_id and not r.doi}
        clauses: list[ColumnElement[bool]] = []
        if idless:
            clauses.append(m.Paper.title_key.in_(idless))
        if with_arxiv:
            clauses.append(and_(m.Paper.title_key.in_(with_arxiv), m.Paper.arxiv_id.is_(None)))
        if with_doi:
            clauses.append(and_(m.Paper.title_key.in_(with_doi), m.Paper.doi.is_(None)))
        if arxiv_ids:
            clauses.append(m.Paper.arxiv_id.in_(arxiv_ids))
        if dois:
            clauses.append(m.Paper.doi.in_(dois))
        positions = {_prov_key(p) for r in records for p in r.provenance
                     if p.file and p.line and by_position}
        prov_hits: dict[tuple[str, str, int], int] = {}
        if positions:
            files = {f for _, f, _ in positions}
            for pid, source, file, line in session.execute(
                select(m.Provenance.paper_id, m.Provenance.source, m.Provenance.file,
                       m.Provenance.line).where(m.Provenance.file.in_(files),
                                                m.Provenance.line.in_({n for *_, n in positions}))
            ):
                if (source, file, line) in positions:
                    prov_hits[(source, file, line)] = pid
            if prov_hits:
                clauses.append(m.Paper.id.in_(set(prov_hits.values())))
        rows = session.scalars(select(m.Paper).where(or_(*clauses))).all() if clauses else []
        authors = _authors_of(session, [row.id for row in rows])
        origins = _origins_of(session, [row.id for row in rows])
        by_arxiv: dict[str, _Entry] = {}
        by_doi: dict[str, _Entry] = {}
        by_title = _Titles()
        by_id: dict[int, _Entry] = {}
        for row in rows:
            values = _values_of(row, authors.get(row.id, []))
            entry = _Entry(paper_id=row.id, values=values, original=_copy(values),
                           origins=origins.get(row.id, {}))
            by_id[row.id] = entry
            _register(entry, by_arxiv, by_doi, by_title)
        by_prov = {key: by_id[pid] for key, pid in prov_hits.items() if pid in by_id}
        return by_arxiv, by_doi, by_title, by_prov

    def _write_children(
        self, session: Session, changed: list[_Entry], entries: list[_Entry], now: datetime,
        origin: str,
    ) -> None:
        """Authors and categories of changed papers; provenance and source ids of every entry;
        field origins of the papers whose fields changed hands."""
        rewrite_authors = [e for e in changed if e.original is None
                           or e.original.authors != e.values.authors]
        rewrite_cats = [e for e in changed if e.original is None
                        or e.original.categories != e.values.categories]
        stale = [e.paper_id for e in rewrite_authors if e.original is not None]
        if stale:
            session.execute(delete(m.PaperAuthor).where(m.PaperAuthor.paper_id.in_(stale)))
        stale = [e.paper_id for e in rewrite_cats if e.original is not None]
        if stale:
            session.execute(delete(m.PaperCategory).where(m.PaperCategory.paper_id.in_(stale)))
        author_rows = [
            {"paper_id": e.paper_id, "position": i, "name": name, "given": given,
             "family": family, "name_key": name_key(name)}
            for e in rewrite_authors for i, (name, given, family) in enumerate(e.values.authors)
        ]
        if author_rows:
            session.execute(insert(m.PaperAuthor), author_rows)
        cat_rows = [{"paper_id": e.paper_id, "category": c}
                    for e in rewrite_cats
                    for c in dict.fromkeys(c[:CATEGORY_MAX] for c in e.values.categories)]
        if cat_rows:
            session.execute(insert(m.PaperCategory), cat_rows)
        prov_rows = [
            {"paper_id": e.paper_id, "source": p.source, "file": p.file or "",
             "line": p.line or 0, "record_id": p.record_id or "", "seen_at": now,
             "origin": origin}
            for e in entries for p in dict.fromkeys(e.provenance)
        ]
        moved = [e for e in entries if e.origins_changed]
        if moved:
            session.execute(delete(m.FieldOrigin).where(
                m.FieldOrigin.paper_id.in_([e.paper_id for e in moved if e.original is not None])))
            origin_rows = []
            for e in moved:
                groups: dict[tuple[str, str], tuple[list[str], datetime]] = {}
                for name in FIELDS:  # in a fixed order, so rows read the same every time
                    if name in e.origins:
                        src, who, at = e.origins[name]
                        names, latest = groups.setdefault((src[:32], who[:64]), ([], at))
                        names.append(name)
                        groups[(src[:32], who[:64])] = (names, max(latest, at))
                origin_rows += [{"paper_id": e.paper_id, "source": src, "origin": who,
                                 "fields": ",".join(names), "set_at": at}
                                for (src, who), (names, at) in groups.items()]
            if origin_rows:
                session.execute(insert(m.FieldOrigin), origin_rows)
        if prov_rows:
            session.execute(self._insert_ignore(m.Provenance), prov_rows)
        sid_rows = [{"paper_id": e.paper_id, "scheme": s, "value": v}
                    for e in entries for s, v in dict.fromkeys(e.source_ids)]
        if sid_rows:
            session.execute(self._insert_ignore(m.SourceId), sid_rows)

    def upsert(self, model: type[m.Base]) -> Any:
        """An INSERT of this database's dialect, which has `on_conflict_do_nothing` and
        `on_conflict_do_update` (SQLite and PostgreSQL spell them alike)."""
        dialect = self.engine.dialect.name
        if dialect == "sqlite":
            return sqlite.insert(model)
        if dialect == "postgresql":
            return postgresql.insert(model)
        raise StoreError(f"unsupported database dialect {dialect}")

    def _insert_ignore(self, model: type[m.Base]) -> Any:
        return self.upsert(model).on_conflict_do_nothing()

    # --- reads ------------------------------------------------------------------

    def count(self) -> int:
        with Session(self.engine) as session:
            return session.scalar(select(func.count(m.Paper.id))) or 0

    def get(self, paper_id: int) -> StoredPaper | None:
        found = self.get_many([paper_id])
        return found[0] if found else None

    def get_many(self, paper_ids: Sequence[int], *, details: bool = True) -> list[StoredPaper]:
        """Papers by store id, in the order asked (missing ids are left out).

        `details=False` leaves out provenance and source ids: what a listing of
        fifty papers needs, at half the cost (plain rows, no ORM objects).
        """
        if not paper_ids:
            return []
        papers, prov_t, sid_t = (m.Paper.__table__, m.Provenance.__table__,
                                 m.SourceId.__table__)
        with Session(self.engine) as session:
            rows = {r.id: r for r in session.execute(
                select(papers).where(papers.c.id.in_(set(paper_ids))))}
            authors = _authors_of(session, list(rows))
            prov: dict[int, list[Any]] = {}
            sids: dict[int, list[tuple[str, str]]] = {}
            if details:
                for p in session.execute(select(prov_t).where(
                        prov_t.c.paper_id.in_(list(rows))).order_by(prov_t.c.id)):
                    prov.setdefault(p.paper_id, []).append(p)
                for sid in session.execute(select(sid_t).where(
                        sid_t.c.paper_id.in_(list(rows))).order_by(sid_t.c.id)):
                    sids.setdefault(sid.paper_id, []).append((sid.scheme, sid.value))
            return [
                _stored(rows[i], authors.get(i, []), prov.get(i, []), sids.get(i, []))
                for i in paper_ids if i in rows
            ]

    def field_origins(self, paper_id: int) -> dict[str, tuple[str, str, datetime]]:
        """Field -> (source, origin, when) for each field whose origin is known (a paper
        stored before origins were kept has none: it came from the operator)."""
        with Session(self.engine) as session:
            return _origins_of(session, [paper_id]).get(paper_id, {})

    def provenance_origins(self, paper_id: int) -> set[tuple[str, str]]:
        """(source, origin) of every record seen for the paper, a user's claims included."""
        with Session(self.engine) as session:
            return {(source, origin) for source, origin in session.execute(
                select(m.Provenance.source, m.Provenance.origin)
                .where(m.Provenance.paper_id == paper_id))}

    def find(self, ref: str) -> StoredPaper | None:
        """A paper by store id, arXiv id (any version), DOI or source id ("seed:000_x#3")."""
        ref = ref.strip()
        with Session(self.engine) as session:
            paper_id: int | None = None
            if ref.isascii() and ref.isdigit() and len(ref) < 10:  # "²".isdigit() is True
                paper_id = session.scalar(select(m.Paper.id).where(m.Paper.id == int(ref)))
            if paper_id is None and (doi := normalize_doi(ref)):
                paper_id = session.scalar(select(m.Paper.id).where(m.Paper.doi == doi))
            if paper_id is None and (arxiv := split_arxiv_id(ref)):
                paper_id = session.scalar(select(m.Paper.id).where(m.Paper.arxiv_id == arxiv[0]))
            if paper_id is None and ":" in ref:
                scheme, value = ref.split(":", 1)
                paper_id = session.scalar(select(m.SourceId.paper_id).where(
                    m.SourceId.scheme == scheme, m.SourceId.value == value).limit(1))
        return self.get(paper_id) if paper_id is not None else None

    def lookup(self, records: Sequence[PaperRecord]) -> list[int | None]:
        """The stored id of each record (by arXiv id, DOI, then title key), None if absent."""
        out: list[int | None] = []
        with Session(self.engine) as session:
            for record in records:
                found = None
                if record.arxiv_id:
                    found = session.scalar(select(m.Paper.id).where(
                        m.Paper.arxiv_id == record.arxiv_id))
                if found is None and record.doi:
                    found = session.scalar(select(m.Paper.id).where(m.Paper.doi == record.doi))
                if found is None:
                    found = session.scalar(select(m.Paper.id).where(
                        m.Paper.title_key == record_title_key(record)).limit(1))
                out.append(found)
        return out

    def iter_summaries(
        self, *, since_revision: int = 0, batch_size: int = 2000
    ) -> Iterator[PaperSummary]:
        """Papers changed after `since_revision`, in id order, read in batches."""
        last_id = 0
        while True:
            with Session(self.engine) as session:
                rows = session.execute(
                    select(m.Paper.id, m.Paper.title, m.Paper.abstract, m.Paper.categories,
                           m.Paper.first_listed, m.Paper.submitted, m.Paper.revision)
                    .where(m.Paper.revision > since_revision, m.Paper.id > last_id)
                    .order_by(m.Paper.id).limit(batch_size)
                ).all()
                if not rows:
                    return
                names: dict[int, list[str]] = {}
                for pid, name in session.execute(
                    select(m.PaperAuthor.paper_id, m.PaperAuthor.name)
                    .where(m.PaperAuthor.paper_id.in_([r.id for r in rows]))
                    .order_by(m.PaperAuthor.paper_id, m.PaperAuthor.position)
                ):
                    names.setdefault(pid, []).append(name)
            for r in rows:
                yield PaperSummary(
                    id=r.id, title=r.title, abstract=r.abstract,
                    authors=tuple(names.get(r.id, [])), categories=tuple(r.categories or ()),
                    date=r.first_listed or r.submitted, revision=r.revision,
                )
            last_id = rows[-1].id

    def count_since(self, revision: int) -> int:
        with Session(self.engine) as session:
            return session.scalar(
                select(func.count(m.Paper.id)).where(m.Paper.revision > revision)) or 0

    def stats(self) -> dict[str, Any]:
        """Counts and date range of what is stored."""
        with Session(self.engine) as session:
            papers = session.scalar(select(func.count(m.Paper.id))) or 0
            first, last = session.execute(
                select(func.min(func.coalesce(m.Paper.first_listed, m.Paper.submitted)),
                       func.max(func.coalesce(m.Paper.first_listed, m.Paper.submitted)))
            ).one()
            sources: dict[str, int] = dict(session.execute(  # type: ignore[arg-type]
                select(m.Provenance.source, func.count(func.distinct(m.Provenance.paper_id)))
                .group_by(m.Provenance.source)).all())
            categories: list[tuple[str, int]] = session.execute(  # type: ignore[assignment]
                select(m.PaperCategory.category, func.count())
                .group_by(m.PaperCategory.category).order_by(func.count().desc()).limit(10)
            ).all()
            authors = session.scalar(
                select(func.count(func.distinct(m.PaperAuthor.name_key)))) or 0
        return {
            "papers": papers,
            "authors": authors,
            "first_date": first.isoformat() if first else None,
            "last_date": last.isoformat() if last else None,
            "by_source": sources,
            "top_categories": dict(categories),
            "revision": self.revision(),
            "data_dir": str(self.data_dir),
        }

    # --- harvest checkpoints (the harvester's HarvestState protocol) --------------

    def load(self, key: str) -> dict[str, Any] | None:
        with Session(self.engine) as session:
            row = session.get(m.HarvestState, key)
            return dict(row.value) if row else None

    def save(self, key: str, value: dict[str, Any]) -> None:
        with Session(self.engine) as session, session.begin():
            row = session.get(m.HarvestState, key)
            if row is None:
                session.add(m.HarvestState(key=key, value=value, updated_at=utc_now()))
            else:
                row.value = value
                row.updated_at = utc_now()

    def harvest_jobs(self) -> list[tuple[str, dict[str, Any], datetime]]:
        """Every checkpoint with the time it was last written (UTC), by key."""
        with Session(self.engine) as session:
            return [(r.key, dict(r.value), r.updated_at) for r in session.scalars(
                select(m.HarvestState).order_by(m.HarvestState.key))]

    def harvest_states(self) -> dict[str, dict[str, Any]]:
        with Session(self.engine) as session:
            return {r.key: dict(r.value) for r in session.scalars(select(m.HarvestState))}


# --- helpers ----------------------------------------------------------------------


def _sqlite_read_only_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # No journal_mode: changing it is a write. query_only refuses writes even where the
    # file system would take them (root on a folder it does not own).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def revoke_owned(session: Session, model: Any, row_id: int, user_id: int, now: datetime
                 ) -> bool:
    """Mark the user's row `row_id` of `model` (a token with `user_id` and `revoked_at`)
    revoked; False when it is another user's, unknown or revoked already."""
    row = session.get(model, row_id)
    if row is None or row.user_id != user_id or row.revoked_at is not None:
        return False
    row.revoked_at = now
    return True


def _match(
    record: PaperRecord,
    by_arxiv: dict[str, _Entry],
    by_doi: dict[str, _Entry],
    by_title: _Titles,
    by_prov: dict[tuple[str, str, int], _Entry],
) -> _Entry | None:
    if record.arxiv_id and record.arxiv_id in by_arxiv:
        return by_arxiv[record.arxiv_id]
    if record.doi and record.doi in by_doi:
        entry = by_doi[record.doi]
        if not ids_conflict(record.arxiv_id, None, entry.values.arxiv_id, None):
            return entry
    for p in record.provenance:
        seen = by_prov.get(_prov_key(p))
        if seen is not None and not ids_conflict(
            record.arxiv_id, record.doi, seen.values.arxiv_id, seen.values.doi
        ):
            return seen
    for entry in by_title.candidates(record):
        if not ids_conflict(record.arxiv_id, record.doi, entry.values.arxiv_id, entry.values.doi):
            return entry
    return None


def _prov_key(p: RecordProvenance) -> tuple[str, str, int]:
    return (p.source, p.file or "", p.line or 0)


def _register(
    entry: _Entry,
    by_arxiv: dict[str, _Entry],
    by_doi: dict[str, _Entry],
    by_title: _Titles,
) -> None:
    values = entry.values
    if values.arxiv_id:
        by_arxiv[values.arxiv_id] = entry
    if values.doi:
        by_doi.setdefault(values.doi, entry)
    by_title.add(entry)


class _Titles:
    """Entries by title key, also filed by the ids they lack: a record with an arXiv id
    can only join a same-titled entry without one (a DOI likewise), so it is compared
    with those alone. Keyed by identity: two entries with equal values are still two."""

    def __init__(self) -> None:
        self._all: dict[str, dict[int, _Entry]] = {}
        self._no_arxiv: dict[str, dict[int, _Entry]] = {}
        self._no_doi: dict[str, dict[int, _Entry]] = {}

    def add(self, entry: _Entry) -> None:
        key = entry.values.title_key()
        self._all.setdefault(key, {})[id(entry)] = entry
        if entry.values.arxiv_id is None:
            self._no_arxiv.setdefault(key, {})[id(entry)] = entry
        if entry.values.doi is None:
            self._no_doi.setdefault(key, {})[id(entry)] = entry

    def candidates(self, record: PaperRecord) -> Iterable[_Entry]:
        key = record_title_key(record)
        files = self._no_arxiv if record.arxiv_id else self._no_doi if record.doi else self._all
        return list(files.get(key, {}).values())

    def entries(self) -> Iterator[_Entry]:
        for same in self._all.values():
            yield from same.values()


def _authors_of(session: Session, paper_ids: list[int]) -> dict[int, list[tuple[str, str, str]]]:
    out: dict[int, list[tuple[str, str, str]]] = {}
    if not paper_ids:
        return out
    a = m.PaperAuthor
    for pid, name, given, family in session.execute(
            select(a.paper_id, a.name, a.given, a.family).where(a.paper_id.in_(paper_ids))
            .order_by(a.paper_id, a.position)):
        out.setdefault(pid, []).append((name, given, family))
    return out


def _origins_of(session: Session, paper_ids: list[int]
                ) -> dict[int, dict[str, tuple[str, str, datetime]]]:
    """Per paper, field -> (source, origin, when) of its current value."""
    out: dict[int, dict[str, tuple[str, str, datetime]]] = {}
    if not paper_ids:
        return out
    f = m.FieldOrigin
    for pid, source, origin, names, at in session.execute(
            select(f.paper_id, f.source, f.origin, f.fields, f.set_at)
            .where(f.paper_id.in_(paper_ids))):
        for name in names.split(","):
            if name:
                out.setdefault(pid, {})[name] = (source, origin, at)
    return out


def _values_of(row: m.Paper, authors: list[tuple[str, str, str]]) -> PaperValues:
    return PaperValues(
        arxiv_id=row.arxiv_id, arxiv_version=row.arxiv_version, doi=row.doi, title=row.title,
        title_derived=row.title_derived, abstract=row.abstract,
        categories=list(row.categories or []), submitted=row.submitted, updated=row.updated,
        first_listed=row.first_listed, abs_url=row.abs_url, pdf_url=row.pdf_url,
        code_urls=list(row.code_urls or []), comment=row.comment, journal_ref=row.journal_ref,
        authors=list(authors),
    )


def _copy(values: PaperValues) -> PaperValues:
    return PaperValues(**{**values.__dict__, "categories": list(values.categories),
                          "code_urls": list(values.code_urls), "authors": list(values.authors)})


def _stored(row: Any, authors: list[tuple[str, str, str]], prov: list[Any],
            sids: list[tuple[str, str]]) -> StoredPaper:
    record = PaperRecord(
        title=row.title, abstract=row.abstract,
        authors=tuple(Author(name=n, given=g, family=f) for n, g, f in authors),
        arxiv_id=row.arxiv_id, arxiv_version=row.arxiv_version, doi=row.doi,
        source_ids=tuple(sids), categories=tuple(row.categories or ()),
        submitted=row.submitted, updated=row.updated, first_listed=row.first_listed,
        abs_url=row.abs_url, pdf_url=row.pdf_url, code_urls=tuple(row.code_urls or ()),
        comment=row.comment, journal_ref=row.journal_ref, title_derived=row.title_derived,
        provenance=tuple(
            RecordProvenance(source=p.source, file=p.file or None, line=p.line or None,
                             record_id=p.record_id or None) for p in prov),
    )
    return StoredPaper(id=row.id, record=record, revision=row.revision)
