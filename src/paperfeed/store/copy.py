"""Copy a whole store into another database (`paperfeed store copy --to URL`).

Every table the models define, in dependency order (parents before the rows that point at
them), with the ids it has, in batches. The source is read in one transaction (one
snapshot, so a running server's writes meanwhile cannot make the copy inconsistent); the
target is written in ONE transaction for the whole copy: ids cross tables, so a copy that
stopped halfway would be a store with papers missing their authors, and nothing of it is
kept. Then PostgreSQL's id sequences are set past the copied ids, and the row counts of
every table are compared with the source's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Table, delete, func, insert, select

from paperfeed.errors import StoreError
from paperfeed.store import postgres
from paperfeed.store.models import Base
from paperfeed.store.models_cards import CardRow
from paperfeed.store.models_digest import DigestRun
from paperfeed.store.models_feeds import FeedToken
from paperfeed.store.models_schedule import JobRun
from paperfeed.store.store import Store

BATCH_SIZE = 5000
# Imported for their tables: every model must be on Base.metadata to be copied.
_MODELS = (CardRow, DigestRun, FeedToken, JobRun)


class CopyError(StoreError):
    """The target was not empty, or the copy does not hold what the source held."""


@dataclass(frozen=True)
class TableCount:
    table: str
    source: int
    target: int

    @property
    def equal(self) -> bool:
        return self.source == self.target


def tables() -> list[Table]:
    """Every table of the store, parents first."""
    return list(Base.metadata.sorted_tables)


def row_counts(conn: Connection) -> dict[str, int]:
    return {t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0)
            for t in tables()}


@contextmanager
def _snapshot(store: Store) -> Iterator[Connection]:
    """A connection whose reads all see the store as it was at one moment."""
    with store.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            # The sqlite3 module starts transactions only for writes: start the read one.
            conn.exec_driver_sql("BEGIN")
        else:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            conn.begin()
        try:
            yield conn
        finally:
            conn.rollback()


def copy_store(source: Store, target: Store, *, replace: bool = False,
               batch_size: int = BATCH_SIZE,
               progress: Callable[[str, int], None] | None = None) -> list[TableCount]:
    """Copy every row of `source` into `target`; the per-table counts, source and target.

    `target` must be empty (its schema made by opening it) unless `replace`: then its rows
    are deleted first, in the same transaction. `progress(table, rows)` is called after each
    batch. Raises CopyError when the target is not empty or a count differs (the copy is
    then committed: the counts say what is wrong)."""
    if source.url == target.url:
        raise CopyError(f"the source and the target are the same database ({source.url})")
    target.require_writable("store copy")
    with _snapshot(source) as src:
        expected = row_counts(src)
        with target.engine.begin() as dst:
            held = {name: n for name, n in row_counts(dst).items() if n}
            if held and not replace:
                listed = ", ".join(f"{name}: {n}" for name, n in sorted(held.items()))
                raise CopyError(f"the target {target.url} is not empty ({listed}); pass "
                                "--replace to delete its rows first")
            for table in reversed(tables()):  # children first, so no foreign key objects
                if held.get(table.name):
                    dst.execute(delete(table))
            for table in tables():
                _copy_table(src, dst, table, batch_size, progress)
            postgres.reset_sequences(dst, tables())
    with target.engine.connect() as dst:
        got = row_counts(dst)
    counts = [TableCount(name, expected[name], got[name]) for name in expected]
    wrong = [c for c in counts if not c.equal]
    if wrong:
        raise CopyError("the copy differs from the source: " + ", ".join(
            f"{c.table} {c.source} -> {c.target}" for c in wrong))
    return counts


def _copy_table(src: Connection, dst: Connection, table: Table, batch_size: int,
                progress: Callable[[str, int], None] | None) -> None:
    key = list(table.primary_key.columns) or list(table.columns)
    result = src.execution_options(yield_per=batch_size).execute(
        select(table).order_by(*key))
    for rows in result.partitions(batch_size):
        dst.execute(insert(table), [row._asdict() for row in rows])
        if progress:
            progress(table.name, len(rows))
