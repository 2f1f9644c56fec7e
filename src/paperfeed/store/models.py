"""SQLAlchemy models: the schema of the paper store.

Portable across SQLite (embedded default) and PostgreSQL (server): only
generic column types, no dialect features in the schema.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from paperfeed.store.bounded import BoundedString, BoundedText


class Base(DeclarativeBase):
    pass


class Paper(Base):
    """One paper after dedupe; its sources are in `Provenance` and `SourceId`."""

    __tablename__ = "papers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    arxiv_id: Mapped[str | None] = mapped_column(BoundedString(64), unique=True)
    arxiv_version: Mapped[int | None] = mapped_column(Integer)
    doi: Mapped[str | None] = mapped_column(BoundedString(255), unique=True)
    title: Mapped[str] = mapped_column(Text)
    title_derived: Mapped[bool] = mapped_column(Boolean, default=False)
    title_key: Mapped[str] = mapped_column(BoundedString(512), index=True)
    abstract: Mapped[str] = mapped_column(Text, default="")
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    primary_category: Mapped[str | None] = mapped_column(BoundedString(64), index=True)
    submitted: Mapped[date | None] = mapped_column(Date)
    updated: Mapped[date | None] = mapped_column(Date)
    first_listed: Mapped[date | None] = mapped_column(Date, index=True)
    abs_url: Mapped[str | None] = mapped_column(Text)
    pdf_url: Mapped[str | None] = mapped_column(Text)
    code_urls: Mapped[list[str]] = mapped_column(JSON, default=list)
    comment: Mapped[str | None] = mapped_column(Text)
    journal_ref: Mapped[str | None] = mapped_column(Text)
    # The store revision that last changed this paper: indexes catch up from it.
    revision: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    modified_at: Mapped[datetime] = mapped_column(DateTime)


class PaperAuthor(Base):
    """An author of a paper, in order."""

    __tablename__ = "paper_authors"
    __table_args__ = (Index("ix_paper_authors_name_key", "name_key"),)

    paper_id: Mapped[int] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    given: Mapped[str] = mapped_column(Text, default="")
    family: Mapped[str] = mapped_column(Text, default="")
    # Lower-cased, accent-folded "given family": the key for author look-ups.
    name_key: Mapped[str] = mapped_column(BoundedString(255))


class PaperCategory(Base):
    __tablename__ = "paper_categories"

    paper_id: Mapped[int] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[str] = mapped_column(BoundedString(64), primary_key=True, index=True)


class SourceId(Base):
    """A source's own id for a paper (OAI identifier, BibTeX key, seed position ...)."""

    __tablename__ = "source_ids"
    # Not unique on (scheme, value) alone: BibTeX keys repeat across files.
    __table_args__ = (
        UniqueConstraint("paper_id", "scheme", "value"),
        Index("ix_source_ids_scheme_value", "scheme", "value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), index=True)
    scheme: Mapped[str] = mapped_column(BoundedString(32))
    value: Mapped[str] = mapped_column(BoundedString(512))


class Provenance(Base):
    """Where a paper was seen: source format, file and line, or harvest record."""

    __tablename__ = "provenance"
    __table_args__ = (UniqueConstraint("paper_id", "source", "file", "line", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(BoundedString(32))
    # Empty strings rather than NULL so the unique constraint holds on every dialect.
    # The file and record id are in the unique key: PostgreSQL caps an index entry at
    # about 2,700 bytes, so each keeps at most 1,024 bytes of UTF-8.
    file: Mapped[str] = mapped_column(BoundedText(max_bytes=1024), default="")
    line: Mapped[int] = mapped_column(Integer, default=0)
    record_id: Mapped[str] = mapped_column(BoundedString(512, max_bytes=1024), default="")
    seen_at: Mapped[datetime] = mapped_column(DateTime)
    # Who brought the record: "operator" (CLI ingest), "harvest", or "user:<id>" (an
    # upload through the web app, a claim that never rewrites a shared record).
    origin: Mapped[str] = mapped_column(BoundedString(64), default="operator",
                                        server_default="operator")


class FieldOrigin(Base):
    """Which fields of a paper's current record a source set, and who brought it
    (`origin` as in `Provenance.origin`): one row per paper and (source, origin), so a
    paper from one source costs one row. Fields set by a user's upload give way to any
    trusted source that has them."""

    __tablename__ = "field_origins"

    paper_id: Mapped[int] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(BoundedString(32), primary_key=True)
    origin: Mapped[str] = mapped_column(BoundedString(64), primary_key=True)
    # Comma-separated field names ("title,abstract,authors,...").
    fields: Mapped[str] = mapped_column(BoundedString(400))
    set_at: Mapped[datetime] = mapped_column(DateTime)


class HarvestState(Base):
    """Checkpoints of harvest jobs, one JSON value per job key."""

    __tablename__ = "harvest_state"

    key: Mapped[str] = mapped_column(BoundedString(255), primary_key=True)
    value: Mapped[dict[str, object]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class StoreMeta(Base):
    """Small key/value facts about the store (the current revision, ...)."""

    __tablename__ = "store_meta"

    key: Mapped[str] = mapped_column(BoundedString(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Vote(Base):
    """One upvote: a voter (a browser now, an account later) on a paper, at most once."""

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("paper_id", "voter"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), index=True)
    # "browser:<random id>" until accounts exist, "user:<id>" after.
    voter: Mapped[str] = mapped_column(BoundedString(128))
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    # Who cast it, for counting: "user:<id>" for an account, else a keyed hash of the
    # client's address, so one client's many browser cookies count once.
    client: Mapped[str | None] = mapped_column(BoundedString(128))


# The day a paper is listed under: its arXiv listing day, else its submission date.
# An expression index so the daily pages read a range without scanning the table.
LISTED = func.coalesce(Paper.first_listed, Paper.submitted)
Index("ix_papers_listed", LISTED)


class User(Base):
    """An account. The password is an argon2 hash; `session_epoch` ends every session when
    it changes (password change or reset)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(BoundedString(320), unique=True)  # lower-cased
    name: Mapped[str] = mapped_column(BoundedString(200), default="")
    password_hash: Mapped[str] = mapped_column(BoundedString(255))
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ApiToken(Base):
    """A per-user API token; only its SHA-256 is stored, the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(BoundedString(100))
    token_hash: Mapped[str] = mapped_column(BoundedString(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class PasswordReset(Base):
    """A single-use password reset token (its SHA-256) with an expiry."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(BoundedString(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class RateLimit(Base):
    """A fixed-window counter (log-in attempts, reset requests, votes ...) per key.

    Incremented with one atomic upsert, so concurrent requests can never both pass a limit."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(BoundedString(255), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime)
    count: Mapped[int] = mapped_column(Integer)


class UserSession(Base):
    """A logged-in browser: the cookie carries a random token, only its SHA-256 is here.
    Log-out deletes the row, so a copied cookie stops working at once."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(BoundedString(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class PendingSignup(Base):
    """A sign-up waiting for its emailed confirmation link (token stored as SHA-256)."""

    __tablename__ = "pending_signups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(BoundedString(320), index=True)
    name: Mapped[str] = mapped_column(BoundedString(200), default="")
    password_hash: Mapped[str] = mapped_column(BoundedString(255))
    token_hash: Mapped[str] = mapped_column(BoundedString(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class Job(Base):
    """A background job (a user's upload import ...): queued, running, done or failed,
    with its progress, so a page can follow it and a restart can resume it."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(BoundedString(32))
    state: Mapped[str] = mapped_column(BoundedString(16), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    progress: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


class UserPaper:
    """A user's relation to one paper: at most one row per (user, paper), gone with either."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"))

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        # A constraint object belongs to one table: each subclass gets its own.
        return (UniqueConstraint("user_id", "paper_id"),)


class Rating(UserPaper, Base):
    """A user's thumbs up (+1) or down (-1) on a paper; one a paper."""

    __tablename__ = "ratings"

    value: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class SavedPaper(UserPaper, Base):
    """A paper in a user's library, with the user's tags."""

    __tablename__ = "library"

    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    saved_at: Mapped[datetime] = mapped_column(DateTime)


class ProfilePaper(UserPaper, Base):
    """A paper the user says is theirs (onboarding): the seed of their feed."""

    __tablename__ = "profile_papers"

    added_at: Mapped[datetime] = mapped_column(DateTime)


class Follow(Base):
    """A category, keyword or author a user follows."""

    __tablename__ = "follows"
    __table_args__ = (UniqueConstraint("user_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(BoundedString(16))  # category | keyword | author
    value: Mapped[str] = mapped_column(BoundedString(200))


class SeenPaper(UserPaper, Base):
    """A paper shown to a user in a digest (or feed): never picked for them again."""

    __tablename__ = "seen_papers"

    channel: Mapped[str] = mapped_column(BoundedString(16))  # digest | feed
    seen_at: Mapped[datetime] = mapped_column(DateTime)
