"""Background jobs kept in the store: a queue that survives restarts, with progress.

Owns the `jobs` table and the uploads folder of the data directory, where a job's
input file waits until the job is done. A job is claimed by one runner at a time with
one atomic UPDATE, so several server processes can share the queue; a running job
whose runner stopped beating is put back in the queue and resumed (every job kind is
written so that running it again is harmless).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from paperfeed.clock import utc_now
from paperfeed.store import models as m
from paperfeed.store.files import atomic_write
from paperfeed.store.store import Store

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
ACTIVE = (QUEUED, RUNNING)
UPLOADS = "uploads"


@dataclass(frozen=True)
class JobInfo:
    id: int
    user_id: int | None
    kind: str
    state: str
    payload: dict[str, Any]
    progress: dict[str, Any]
    message: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def _info(row: m.Job) -> JobInfo:
    return JobInfo(id=row.id, user_id=row.user_id, kind=row.kind, state=row.state,
                   payload=dict(row.payload or {}), progress=dict(row.progress or {}),
                   message=row.message or "", created_at=row.created_at,
                   started_at=row.started_at, finished_at=row.finished_at)


def safe_name(name: str) -> str:
    """A file name that is only a name: no folders, no dots in front, short."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).name).lstrip(".")[:100]
    return cleaned or "upload"


class JobStore:
    """The job queue of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _session(self) -> Session:
        return Session(self.store.engine)

    def create(self, kind: str, *, user_id: int | None, payload: dict[str, Any],
               upload: tuple[str, bytes] | None = None) -> JobInfo:
        """Queue a job; `upload` (file name, bytes) is kept in the data folder for it."""
        with self._session() as s, s.begin():
            row = m.Job(kind=kind, user_id=user_id, state=QUEUED, payload=dict(payload),
                        progress={}, message="", created_at=utc_now())
            s.add(row)
            s.flush()
            if upload is not None:
                name, content = upload
                folder = self.store.subdir(UPLOADS) / f"job-{row.id}"
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / safe_name(name)
                atomic_write(path, content)
                row.payload = {**row.payload, "file": path.name, "name": name[:200]}
            return _info(row)

    def upload_path(self, job: JobInfo) -> Path:
        """The job's input file (raises KeyError when the job has none)."""
        return self.store.data_dir / UPLOADS / f"job-{job.id}" / str(job.payload["file"])

    def remove_upload(self, job_id: int) -> None:
        shutil.rmtree(self.store.data_dir / UPLOADS / f"job-{job_id}", ignore_errors=True)

    def claim(self, kinds: tuple[str, ...], *, now: datetime | None = None) -> JobInfo | None:
        """The oldest queued job of these kinds, now running here; None when there is none.

        One UPDATE ... WHERE state = 'queued': of two runners racing for a job, one
        changes the row and the other changes nothing and looks again."""
        now = now or utc_now()
        while True:
            with self._session() as s, s.begin():
                job_id = s.scalar(select(m.Job.id).where(
                    m.Job.state == QUEUED, m.Job.kind.in_(kinds)).order_by(m.Job.id).limit(1))
                if job_id is None:
                    return None
                taken = s.execute(update(m.Job).where(m.Job.id == job_id, m.Job.state == QUEUED)
                                  .values(state=RUNNING, started_at=now, heartbeat_at=now))
                if getattr(taken, "rowcount", 0) == 1:
                    row = s.get(m.Job, job_id)
                    assert row is not None
                    return _info(row)

    def beat(self, job_id: int, progress: dict[str, Any]) -> None:
        """Record progress; it also tells other runners this job is alive."""
        with self._session() as s, s.begin():
            s.execute(update(m.Job).where(m.Job.id == job_id)
                      .values(progress=dict(progress), heartbeat_at=utc_now()))

    def finish(self, job_id: int, state: str, message: str,
               progress: dict[str, Any] | None = None) -> None:
        values: dict[str, Any] = {"state": state, "message": message[:2000],
                                  "finished_at": utc_now(), "heartbeat_at": utc_now()}
        if progress is not None:
            values["progress"] = dict(progress)
        with self._session() as s, s.begin():
            s.execute(update(m.Job).where(m.Job.id == job_id).values(**values))
        self.remove_upload(job_id)

    def get(self, job_id: int) -> JobInfo | None:
        with self._session() as s:
            row = s.get(m.Job, job_id)
            return _info(row) if row is not None else None

    def for_user(self, user_id: int, *, limit: int = 5) -> list[JobInfo]:
        """The user's newest jobs, newest first."""
        with self._session() as s:
            return [_info(r) for r in s.scalars(
                select(m.Job).where(m.Job.user_id == user_id)
                .order_by(m.Job.id.desc()).limit(limit))]

    def latest(self, kind: str) -> JobInfo | None:
        """The newest job of a kind (e.g. the background catch-up), whoever queued it."""
        with self._session() as s:
            row = s.scalars(select(m.Job).where(m.Job.kind == kind)
                            .order_by(m.Job.id.desc()).limit(1)).first()
            return _info(row) if row is not None else None

    def active_count(self, user_id: int) -> int:
        with self._session() as s:
            return s.scalar(select(func.count()).select_from(m.Job).where(
                m.Job.user_id == user_id, m.Job.state.in_(ACTIVE))) or 0

    def requeue_stale(self, older_than: timedelta, *, now: datetime | None = None) -> int:
        """Put back in the queue the running jobs whose runner went quiet (a crash)."""
        cutoff = (now or utc_now()) - older_than
        with self._session() as s, s.begin():
            result = s.execute(update(m.Job).where(
                m.Job.state == RUNNING, m.Job.heartbeat_at < cutoff).values(state=QUEUED))
        return int(getattr(result, "rowcount", 0) or 0)
