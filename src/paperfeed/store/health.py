"""The database's own health, for `paperfeed doctor`: its pages and its schema.

Owns the two checks that need the database itself: SQLite's `PRAGMA integrity_check`
(PostgreSQL checks its pages as it reads them: nothing to ask there) and whether the
schema is at the newest Alembic migration. Each answers a problem in words, or None.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from paperfeed.store.store import Store

__all__ = ["integrity_problem", "migration_problem"]

_SHOWN = 3  # integrity_check lines quoted in the problem


def integrity_problem(store: Store) -> str | None:
    """What SQLite's integrity check finds wrong with the database file, or None."""
    if not store.embedded:
        return None
    try:
        with store.engine.connect() as conn:
            lines = [str(row[0]) for row in conn.execute(text("PRAGMA integrity_check"))]
    except SQLAlchemyError as exc:
        return f"the database cannot be read: {exc.__cause__ or exc}"
    if lines == ["ok"]:
        return None
    return "; ".join(lines[:_SHOWN]) + (f" (and {len(lines) - _SHOWN} more)"
                                        if len(lines) > _SHOWN else "")


def migration_problem(store: Store) -> str | None:
    """How the schema differs from the newest migration, or None when it is there."""
    current, heads = store.schema_heads()
    if current == heads:
        return None
    return (f"schema {', '.join(sorted(current)) or 'none'}, newest "
            f"{', '.join(sorted(heads))}")
