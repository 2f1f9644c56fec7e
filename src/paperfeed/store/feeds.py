"""Feed delivery in the store: personal feed tokens and saved searches.

Owns the SQL over the feed_tokens and saved_searches tables (`store/models_feeds.py`).
`paperfeed.feeds` decides (token making, caps, what each feed shows) and calls this
module, which reads and writes by ids and token hashes and hands back plain values. The
cap on how many rows a user may have is counted in the transaction that adds one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from paperfeed.store import models_feeds as mf
from paperfeed.store.store import Store, revoke_owned

__all__ = ["FeedStore", "FeedTokenInfo", "SavedSearchInfo"]


@dataclass(frozen=True)
class FeedTokenInfo:
    """One of a user's personal feed tokens (only its hash is kept)."""

    id: int
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class SavedSearchInfo:
    """A saved search with the public id of its feed."""

    id: int
    user_id: int
    name: str
    query: str
    category: str | None
    public_token: str
    created_at: datetime


def _saved(row: mf.SavedSearch) -> SavedSearchInfo:
    return SavedSearchInfo(row.id, row.user_id, row.name, row.query, row.category,
                           row.public_token, row.created_at)


class FeedStore:
    """The feed tables of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _session(self) -> Session:
        return Session(self.store.engine)

    # --- personal feed tokens ---------------------------------------------------------

    def add_token(self, user_id: int, token_hash: str, *, now: datetime, limit: int) -> int:
        """How many unrevoked tokens the user had; the new one is kept only when that
        was under `limit` (counted and added in one transaction)."""
        with self._session() as s, s.begin():
            active = s.scalar(select(func.count()).select_from(mf.FeedToken).where(
                mf.FeedToken.user_id == user_id, mf.FeedToken.revoked_at.is_(None))) or 0
            if active < limit:
                s.add(mf.FeedToken(user_id=user_id, token_hash=token_hash, created_at=now))
        return active

    def tokens(self, user_id: int) -> list[FeedTokenInfo]:
        with self._session() as s:
            return [FeedTokenInfo(t.id, t.created_at, t.revoked_at)
                    for t in s.scalars(select(mf.FeedToken).where(
                        mf.FeedToken.user_id == user_id).order_by(mf.FeedToken.id))]

    def revoke_token(self, user_id: int, token_id: int, *, now: datetime) -> bool:
        """False when the token is not the user's or is revoked already."""
        with self._session() as s, s.begin():
            return revoke_owned(s, mf.FeedToken, token_id, user_id, now)

    def user_for_token(self, token_hash: str) -> int | None:
        """The user of an unrevoked token; None when it is unknown or revoked alike."""
        with self._session() as s:
            row = s.scalar(select(mf.FeedToken).where(mf.FeedToken.token_hash == token_hash))
            return row.user_id if row is not None and row.revoked_at is None else None

    # --- saved searches ---------------------------------------------------------------

    def add_search(self, user_id: int, name: str, query: str, category: str | None,
                   public_token: str, *, now: datetime, limit: int
                   ) -> tuple[int, SavedSearchInfo | None]:
        """How many searches the user had, and the new one: kept only when they had
        fewer than `limit` (None otherwise), counted and added in one transaction."""
        with self._session() as s, s.begin():
            count = s.scalar(select(func.count()).select_from(mf.SavedSearch).where(
                mf.SavedSearch.user_id == user_id)) or 0
            if count >= limit:
                return count, None
            row = mf.SavedSearch(user_id=user_id, name=name, query=query, category=category,
                                 public_token=public_token, created_at=now)
            s.add(row)
            s.flush()
            return count, _saved(row)

    def searches(self, user_id: int) -> list[SavedSearchInfo]:
        with self._session() as s:
            return [_saved(r) for r in s.scalars(select(mf.SavedSearch).where(
                mf.SavedSearch.user_id == user_id).order_by(mf.SavedSearch.id))]

    def search(self, public_token: str) -> SavedSearchInfo | None:
        with self._session() as s:
            row = s.scalar(select(mf.SavedSearch).where(
                mf.SavedSearch.public_token == public_token))
            return _saved(row) if row is not None else None

    def delete_search(self, user_id: int, search_id: int) -> bool:
        """False when the search is not the user's."""
        with self._session() as s, s.begin():
            done = s.execute(delete(mf.SavedSearch).where(
                mf.SavedSearch.id == search_id, mf.SavedSearch.user_id == user_id))
            return bool(getattr(done, "rowcount", 0))
