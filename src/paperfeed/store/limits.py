"""Rate limits kept in the store: fixed-window counters, one atomic upsert per hit.

A hit inserts the key's counter or increments it in the same statement and returns the
new count, so two requests racing for the last allowed attempt can never both see a
count under the limit (on SQLite the write lock serialises them, on PostgreSQL the row
lock). The limits therefore hold across threads, server workers and restarts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from paperfeed.clock import utc_now
from paperfeed.errors import StoreError
from paperfeed.store import models as m
from paperfeed.store.store import Store


@dataclass(frozen=True)
class Hit:
    """The outcome of one hit: the count in the current window and when the window ends."""

    key: str
    count: int
    limit: int
    resets_at: datetime
    now: datetime

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit

    @property
    def retry_after(self) -> int:
        """Whole seconds until the window ends (at least 1)."""
        return max(1, math.ceil((self.resets_at - self.now).total_seconds()))


class RateLimits:
    """Counters by key ("login:account:ada@example.org", "reset:client:…", …)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _upsert(self, model: type[m.Base]) -> Any:
        dialect = self.store.engine.dialect.name
        if dialect == "sqlite":
            return sqlite.insert(model)
        if dialect == "postgresql":
            return postgresql.insert(model)
        raise StoreError(f"unsupported database dialect {dialect}")

    def hit(self, key: str, *, limit: int, window: timedelta, now: datetime | None = None,
            session: Session | None = None) -> Hit:
        """Count one event for `key`; a window older than `window` starts again at 1.

        Pass `session` to count inside a transaction the caller is already in."""
        now = now or utc_now()
        key = key[:255]
        t = m.RateLimit.__table__
        expired = t.c.window_start <= now - window
        stmt = self._upsert(m.RateLimit).values(key=key, window_start=now, count=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.key],
            set_={"count": case((expired, 1), else_=t.c.count + 1),
                  "window_start": case((expired, now), else_=t.c.window_start)},
        ).returning(t.c.count, t.c.window_start)
        if session is not None:
            count, start = session.execute(stmt).one()
        else:
            with Session(self.store.engine) as own, own.begin():
                count, start = own.execute(stmt).one()
        return Hit(key=key, count=int(count), limit=limit, resets_at=start + window, now=now)

    def hit_all(self, keys: Sequence[tuple[str, int]], *, window: timedelta,
                now: datetime | None = None) -> Hit | None:
        """Count one event under each (key, limit), in order. Over any limit, take back
        what this call counted (a refused request spends nothing) and return the hit that
        refused it; None when every limit allows it."""
        counted: list[str] = []
        for key, limit in keys:
            hit = self.hit(key, limit=limit, window=window, now=now)
            counted.append(key)
            if not hit.allowed:
                for done in counted:
                    self.undo(done)
                return hit
        return None

    def undo(self, key: str, *, session: Session | None = None) -> None:
        """Take back one hit (an attempt that turned out fine, such as a right password)."""
        t = m.RateLimit.__table__
        stmt = (update(m.RateLimit).where(t.c.key == key[:255], t.c.count > 0)
                .values(count=t.c.count - 1))
        if session is not None:
            session.execute(stmt)
            return
        with Session(self.store.engine) as own, own.begin():
            own.execute(stmt)

    def clear(self, key: str) -> None:
        with Session(self.store.engine) as own, own.begin():
            own.execute(delete(m.RateLimit).where(m.RateLimit.key == key[:255]))

    def peek(self, key: str, *, window: timedelta, now: datetime | None = None) -> int:
        """The count in the current window, without counting."""
        now = now or utc_now()
        with Session(self.store.engine) as own:
            row = own.get(m.RateLimit, key[:255])
            if row is None or row.window_start <= now - window:
                return 0
            return row.count

    def prune(self, older_than: timedelta, *, now: datetime | None = None) -> int:
        """Delete counters whose window began longer ago than `older_than`."""
        cutoff = (now or utc_now()) - older_than
        with Session(self.store.engine) as own, own.begin():
            result = own.execute(delete(m.RateLimit).where(m.RateLimit.window_start < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)
