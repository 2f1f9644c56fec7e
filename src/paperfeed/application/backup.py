"""Backing up a running store and restoring it into an empty data folder.

`back_up` takes a consistent online snapshot: the index first, copied while this
process holds the index writer lock (no writer commits a generation meanwhile; readers
go on), then the database (SQLite's online backup API, or one repeatable-read snapshot
of PostgreSQL), then the secret key, the outbox and the models' fingerprints. The
database is copied after the index, so it holds everything the index holds and
perhaps more: after a restore the next catch-up indexes the rest (the index's
manifest says what it holds). docs/decisions/backup.md says why.

`restore` checks every file against backup.json's sha256 before it writes anything.
The files themselves are the store's business (`store.backup`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperfeed.catalog import Catalog
from paperfeed.index.writer_lock import index_writer
from paperfeed.store import Store
from paperfeed.store.backup import BackupError, new_backup, read_backup, restore_files

__all__ = ["RestoreReport", "back_up", "restore"]


def back_up(store: Store, dest: Path, on_wait: Callable[[str], None]) -> dict[str, Any]:
    """Write a backup of `store` to `dest` (new or empty); returns its backup.json.
    `on_wait` hears, once, that an index writer is busy and the backup waits for it."""
    with new_backup(dest) as folder:
        with index_writer(store.data_dir, on_wait):
            folder.copy_index(store)
        folder.snapshot_database(store)
        folder.copy_keys_and_mail(store)
        return folder.finish()


@dataclass(frozen=True)
class RestoreReport:
    """What a restore put back, and what the next catch-up has to index."""

    papers: int
    revision: int
    index_generation: int | None
    pending: int  # stored papers the restored index does not hold yet


def restore(src: Path, data_dir: Path) -> RestoreReport:
    """Verify the backup in `src` and put it into `data_dir` (new or empty)."""
    backup = read_backup(src)
    restore_files(backup, data_dir)
    with Catalog(data_dir) as catalog:
        papers, revision = catalog.store.count(), catalog.store.revision()
        if papers != backup.papers:
            raise BackupError(f"the restored store in {data_dir} holds {papers:,} papers, "
                              f"the backup's manifest says {backup.papers:,}")
        pending = catalog.pending() if catalog.index_damage() is None else papers
    return RestoreReport(papers=papers, revision=revision,
                         index_generation=backup.info.get("index", {}).get("generation"),
                         pending=pending)
