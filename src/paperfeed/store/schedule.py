"""The scheduler's records in the store: each recurring job's lease, and its runs.

Owns the SQL over job_leases and job_runs (`store/models_schedule.py`). The lease is
what keeps two processes (two servers, a server and a worker) from running one job at
once, on SQLite and PostgreSQL alike: `acquire` is one conditional UPDATE (take the
row if it expired or is ours) or, when there is no row yet, one INSERT whose primary
key lets only one of two racers in. `paperfeed.jobs.schedule` decides when to run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from paperfeed.clock import utc_now
from paperfeed.store.models_schedule import JobLease, JobRun
from paperfeed.store.store import Store

__all__ = ["FAILED", "OK", "RUNNING", "RunRecord", "Schedule"]

RUNNING, OK, FAILED = "running", "ok", "failed"
MAX_ERROR = 2000


@dataclass(frozen=True)
class RunRecord:
    """One run of a job (`finished_at` None while it runs, or when its process died)."""

    id: int
    name: str
    holder: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    counts: dict[str, Any]
    error: str | None


def _record(row: JobRun) -> RunRecord:
    return RunRecord(row.id, row.name, row.holder, row.started_at, row.finished_at,
                     row.outcome, dict(row.counts or {}), row.error)


class Schedule:
    """The job leases and job runs of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _session(self) -> Session:
        return Session(self.store.engine)

    # --- leases -----------------------------------------------------------------------

    def acquire(self, name: str, holder: str, ttl: timedelta, *,
                now: datetime | None = None) -> bool:
        """Take (or extend) the lease of job `name` for `ttl`; False when another holder
        has it and it has not expired."""
        self.store.require_writable("scheduled job")
        now = now or utc_now()
        with self._session() as s, s.begin():
            # PostgreSQL re-checks the WHERE after waiting for a concurrent writer's row
            # lock, SQLite serialises writers: either way one of two racers changes it.
            taken = s.execute(update(JobLease).where(
                JobLease.name == name,
                (JobLease.expires_at <= now) | (JobLease.holder == holder))
                .values(holder=holder, expires_at=now + ttl))
            if getattr(taken, "rowcount", 0) == 1:
                return True
            if s.get(JobLease, name) is not None:
                return False
        try:
            with self._session() as s, s.begin():
                s.add(JobLease(name=name, holder=holder, expires_at=now + ttl))
            return True
        except IntegrityError:  # another process inserted the first lease meanwhile
            return False

    def renew(self, name: str, holder: str, ttl: timedelta, *,
              now: datetime | None = None) -> bool:
        """Extend a lease this holder still has; False when it was lost (expired and taken)."""
        now = now or utc_now()
        with self._session() as s, s.begin():
            done = s.execute(update(JobLease).where(JobLease.name == name,
                                                    JobLease.holder == holder)
                             .values(expires_at=now + ttl))
        return getattr(done, "rowcount", 0) == 1

    def release(self, name: str, holder: str) -> None:
        """Give the lease up (only if it is still this holder's)."""
        with self._session() as s, s.begin():
            s.execute(delete(JobLease).where(JobLease.name == name, JobLease.holder == holder))

    def holder(self, name: str, *, now: datetime | None = None) -> str | None:
        """Who holds the lease now; None when nobody does."""
        now = now or utc_now()
        with self._session() as s:
            row = s.get(JobLease, name)
            return row.holder if row is not None and row.expires_at > now else None

    # --- runs -------------------------------------------------------------------------

    def start_run(self, name: str, holder: str, *, now: datetime | None = None) -> int:
        """Record that a run starts (outcome "running"); its id for `finish_run`."""
        with self._session() as s, s.begin():
            row = JobRun(name=name, holder=holder, started_at=now or utc_now(),
                         outcome=RUNNING, counts={})
            s.add(row)
            s.flush()
            return row.id

    def finish_run(self, run_id: int, outcome: str, counts: dict[str, Any] | None = None,
                   error: str | None = None, *, now: datetime | None = None) -> None:
        """Record how a run ended: "ok" or "failed", its counts, its error in a line."""
        with self._session() as s, s.begin():
            s.execute(update(JobRun).where(JobRun.id == run_id).values(
                finished_at=now or utc_now(), outcome=outcome, counts=dict(counts or {}),
                error=error[:MAX_ERROR] if error else None))

    def record_run(self, name: str, holder: str, started_at: datetime, finished_at: datetime,
                   outcome: str, counts: dict[str, Any] | None = None,
                   error: str | None = None) -> int:
        """Record a whole run at once (its id)."""
        run_id = self.start_run(name, holder, now=started_at)
        self.finish_run(run_id, outcome, counts, error, now=finished_at)
        return run_id

    def last_started(self, name: str) -> datetime | None:
        """When the latest run of `name` started, whatever its outcome."""
        with self._session() as s:
            return s.scalar(select(func.max(JobRun.started_at)).where(JobRun.name == name))

    def last_runs(self) -> dict[str, RunRecord]:
        """Each job's latest run, by name."""
        with self._session() as s:
            latest = (select(JobRun.name, func.max(JobRun.id).label("id"))
                      .group_by(JobRun.name).subquery())
            rows = s.scalars(select(JobRun).join(latest, JobRun.id == latest.c.id))
            return {row.name: _record(row) for row in rows}

    def last_failure(self, name: str) -> RunRecord | None:
        """The latest failed run of `name`."""
        with self._session() as s:
            row = s.scalar(select(JobRun).where(JobRun.name == name, JobRun.outcome == FAILED)
                           .order_by(JobRun.id.desc()).limit(1))
            return _record(row) if row is not None else None

    def run_counts(self) -> dict[tuple[str, str], int]:
        """How many runs each job has had, by (name, outcome): one grouped read."""
        with self._session() as s:
            rows = s.execute(select(JobRun.name, JobRun.outcome, func.count())
                             .group_by(JobRun.name, JobRun.outcome))
            return {(name, outcome): n for name, outcome, n in rows}

    def runs(self, name: str | None = None, *, limit: int = 1000) -> list[RunRecord]:
        """Runs in the order they started (of one job, or of all)."""
        query = select(JobRun).order_by(JobRun.started_at, JobRun.id).limit(limit)
        if name is not None:
            query = query.where(JobRun.name == name)
        with self._session() as s:
            return [_record(row) for row in s.scalars(query)]
