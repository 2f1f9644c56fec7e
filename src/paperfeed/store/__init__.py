"""The store: papers, authors, provenance and harvest checkpoints, and nothing else touches them.

Owns the database (SQLite in WAL mode by default, any SQLAlchemy URL for a
server), its Alembic migrations and the data directory. Every ingest batch is
one transaction. Code outside this package never opens the database or the
data directory itself: it asks the store (`Store.subdir` for derived data).
"""

from paperfeed.store.store import (
    IngestReport,
    PaperSummary,
    ReadOnlyStoreError,
    Store,
    StoredPaper,
    default_data_dir,
)

__all__ = ["IngestReport", "PaperSummary", "ReadOnlyStoreError", "Store", "StoredPaper",
           "default_data_dir"]
