"""SQLAlchemy models of the scheduler: who holds each job's lease, and every run of a job.

On the store's `Base`; the tables are made by migration 0010, not by `create_all`.
Read and written by `store/schedule.py` alone, on behalf of `paperfeed.jobs.schedule`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from paperfeed.store.bounded import BoundedString
from paperfeed.store.models import Base


class JobLease(Base):
    """The lease of one recurring job: the primary key is the lock, `expires_at` its end.

    A process runs a job only while it holds the job's row here; a crashed holder's
    lease simply runs out, and the next process to ask takes it over.
    """

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(BoundedString(64), primary_key=True)
    holder: Mapped[str] = mapped_column(BoundedString(128))
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class JobRun(Base):
    """One run of a recurring job: when, by whom, how it ended, what it counted."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_name_started_at", "name", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(BoundedString(64))
    holder: Mapped[str] = mapped_column(BoundedString(128))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    outcome: Mapped[str] = mapped_column(BoundedString(16))  # running | ok | failed
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
