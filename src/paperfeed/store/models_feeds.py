"""SQLAlchemy models of feed delivery: personal feed tokens and saved searches.

On the store's `Base`; the tables are made by migration 0007, not by `create_all`.
Read and written by `store/feeds.py` alone, on behalf of `paperfeed.feeds`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from paperfeed.store.bounded import BoundedString
from paperfeed.store.models import Base


class FeedToken(Base):
    """The secret in a personal feed URL. Only its SHA-256 is stored: the URL is shown once,
    and a copy of the database cannot read anyone's feed."""

    __tablename__ = "feed_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(BoundedString(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class SavedSearch(Base):
    """A user's search with a public feed. The public token is an unguessable id, kept in
    clear because the account page shows the feed URL; it grants reading search results,
    which are public anyway, and nothing else."""

    __tablename__ = "saved_searches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(BoundedString(100))
    query: Mapped[str] = mapped_column(BoundedString(500))
    category: Mapped[str | None] = mapped_column(BoundedString(64))
    public_token: Mapped[str] = mapped_column(BoundedString(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
