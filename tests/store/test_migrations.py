"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import paperfeed.digest  # registers the digest models on Base
import paperfeed.feeds  # noqa: F401 - registers the feed models on Base
from paperfeed.store import Store
from paperfeed.store.models import Base


def test_migrated_store_matches_every_model(data_dir: Path) -> None:
    with Store(data_dir) as store, store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # SQLite reflects JSON as a generic type and expression indexes without their
    # expression; neither is a difference in the schema.
    real = [d for d in diff if not (isinstance(d, tuple) and d[0] in ("add_index", "remove_index")
                                    and getattr(d[1], "name", "") == "ix_papers_listed")]
    assert real == [], real
