"""What the store does differently on PostgreSQL: the one place for its dialect quirks.

- A PostgreSQL text value cannot hold NUL (U+0000), which SQLite stores as any other
  character. Every string bound to a statement has its NULs replaced by U+FFFD, so text
  that SQLite takes (a login form's email, a saved search) is taken here too, and looked
  up the same way it was written.
- Writers that may meet in a row lock can deadlock, and PostgreSQL then aborts one of
  them; `retrying` runs such a transaction again (SQLite serialises writers instead).
- Rows copied with their ids leave the id sequences behind: `reset_sequences`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Table, event, text
from sqlalchemy.exc import OperationalError

log = logging.getLogger(__name__)
T = TypeVar("T")
NUL, REPLACEMENT = "\x00", "\ufffd"
# SQLSTATEs of a transaction PostgreSQL aborted so that another could go on.
RETRY_STATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
ATTEMPTS = 5


def configure(engine: Engine) -> None:
    """Set up a PostgreSQL engine (a no-op for any other dialect)."""
    if engine.dialect.name == "postgresql":
        event.listen(engine, "before_cursor_execute", _without_nul, retval=True)


def _clean(value: Any) -> Any:
    if isinstance(value, str) and NUL in value:
        return value.replace(NUL, REPLACEMENT)
    return value


def _without_nul(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
                 _executemany: bool) -> tuple[str, Any]:
    if isinstance(parameters, dict):
        parameters = {k: _clean(v) for k, v in parameters.items()}
    elif isinstance(parameters, list | tuple):
        parameters = type(parameters)(
            {k: _clean(v) for k, v in p.items()} if isinstance(p, dict)
            else type(p)(_clean(v) for v in p) if isinstance(p, list | tuple)
            else _clean(p)
            for p in parameters)
    return statement, parameters


def retrying(work: Callable[[], T], *, attempts: int = ATTEMPTS) -> T:
    """`work()` (one whole transaction), again when PostgreSQL aborted it for a deadlock
    or a serialization failure; any other error, or the last attempt's, goes up."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except OperationalError as exc:
            state = getattr(exc.orig, "sqlstate", None)
            if state not in RETRY_STATES or attempt == attempts:
                raise
            log.info("transaction aborted by PostgreSQL (%s), attempt %d of %d", state,
                     attempt, attempts)
            time.sleep(0.01 * 2 ** attempt)
    raise AssertionError("unreachable")


def reset_sequences(conn: Connection, tables: Iterable[Table]) -> None:
    """After rows were written with their ids, set each table's id sequence past the
    largest id, so the next insert gets a new one (PostgreSQL only; SQLite takes max+1)."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        key = list(table.primary_key.columns)
        if len(key) != 1 or table.autoincrement_column is None:
            continue
        column = key[0].name
        conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence(:table, :column), "
            f'coalesce(max("{column}"), 1), max("{column}") IS NOT NULL) FROM "{table.name}"'),
            {"table": table.name, "column": column})
