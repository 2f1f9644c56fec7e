"""SQLAlchemy models of the email digest: each user's setting and every digest run.

On the store's `Base`; the tables are made by migration 0006, not by `create_all`.
Read and written by `store/digests.py` alone, on behalf of `paperfeed.digest`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from paperfeed.store.bounded import BoundedString
from paperfeed.store.models import Base


class DigestSetting(Base):
    """How often a user wants the digest. No row means the default (daily)."""

    __tablename__ = "digest_settings"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    frequency: Mapped[str] = mapped_column(BoundedString(16))  # daily | weekly | off
    # Set by the one-click unsubscribe link (frequency is then "off"); cleared by choosing
    # daily or weekly again on the account page.
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The local hour (0-23) the scheduler sends at, in `timezone` (an IANA name); None:
    # the defaults of paperfeed/digest/settings.py. Added by migration 0010.
    hour: Mapped[int | None] = mapped_column(Integer)
    timezone: Mapped[str | None] = mapped_column(BoundedString(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class DigestRun(Base):
    """One user's digest for one period ("2026-11-23" daily, "2026-W48" weekly).

    The unique (user, period) pair is the lock that makes sending idempotent: a run is
    claimed by inserting this row (status "sending", or "empty") together with the
    papers' seen_papers rows, before the message leaves; see paperfeed/digest/send.py.
    Dry runs use the period key "dry-run:<period>", so they never block a real run.
    """

    __tablename__ = "digest_runs"
    __table_args__ = (UniqueConstraint("user_id", "period_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    period_key: Mapped[str] = mapped_column(BoundedString(32))
    status: Mapped[str] = mapped_column(BoundedString(16))  # sending | sent | empty | dry-run
    paper_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    message_id: Mapped[str | None] = mapped_column(BoundedString(255))
    created_at: Mapped[datetime] = mapped_column(DateTime)
