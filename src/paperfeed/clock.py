"""The one clock: what time it is, in UTC, as the store keeps it.

Owns nothing else. The store writes naive UTC datetimes (SQLite has no time zone
type, and PostgreSQL's `timestamp without time zone` matches it), so `utc_now` is
naive; `utc_stamp` is the same instant as an ISO-8601 string with its offset, for
manifests and other files a person may read. At the bottom of the layers: the store,
the index and the web app all ask it.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["utc_now", "utc_stamp"]


def utc_now() -> datetime:
    """Now, in UTC, without a time zone (the store's convention)."""
    return datetime.now(UTC).replace(tzinfo=None)


def utc_stamp() -> str:
    """Now, in UTC, as "2026-12-03T10:15:00+00:00" (seconds)."""
    return utc_now().replace(tzinfo=UTC).isoformat(timespec="seconds")
