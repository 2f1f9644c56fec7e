"""The scheduler: runs the recurring jobs (`paperfeed.application.schedule`) when due.

APScheduler gives the triggers only (cron lines and intervals, with their calendar
arithmetic); what ran when lives in the store (`store/schedule.py`), so every process
sees the same history: a job is due when its trigger's first fire time after the
job's last recorded start (or, for a job that never ran, after this scheduler
started) has passed, plus the job's jitter. Runs missed while nothing was running
are therefore made up once, not once per missed fire time (coalesced). A process
runs a due job only under the job's lease, and looks at the history again once it
holds it, so two servers or workers never run one job at once nor twice for one
fire time. Every run is recorded: start, end, outcome, counts, error.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from paperfeed.application.schedule import Counts, RecurringJob, ScheduleSettings, recurring_jobs
from paperfeed.catalog import Catalog
from paperfeed.clock import utc_now
from paperfeed.errors import PaperfeedError
from paperfeed.settings import SettingsError
from paperfeed.store.schedule import FAILED, OK, Schedule
from paperfeed.store.store import Store

log = logging.getLogger(__name__)
_EVERY = re.compile(r"every\s+(\d+)\s*([smh])", re.IGNORECASE)
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours"}


def trigger(when: str) -> BaseTrigger:
    """"every 15m" (s, m or h) or a five-field crontab line, in UTC."""
    match = _EVERY.fullmatch(when.strip())
    if match:
        amount = int(match.group(1))
        if amount < 1:
            raise SettingsError(f"schedule {when!r}: the interval must be at least 1")
        return IntervalTrigger(timezone=UTC, **{_UNIT[match.group(2).lower()]: amount})
    try:
        return CronTrigger.from_crontab(when, timezone=UTC)
    except ValueError as exc:
        raise SettingsError(f"schedule {when!r}: expected 'every 15m' or a crontab line "
                            f"such as '30 1 * * mon-fri' ({exc})") from None


def _jitter(name: str, fire: datetime, jitter: timedelta) -> timedelta:
    """A delay in [0, jitter) that every process computes alike for this fire time."""
    seconds = int(jitter.total_seconds())
    if seconds <= 0:
        return timedelta(0)
    digest = hashlib.sha256(f"{name}|{fire.isoformat()}".encode()).digest()
    return timedelta(seconds=int.from_bytes(digest[:8], "big") % seconds)


class Scheduler:
    """Runs due jobs in a daemon thread (`start`/`stop`), or when asked (`run_due`)."""

    def __init__(self, store: Store, jobs: Sequence[RecurringJob], *, poll: float = 30.0,
                 holder: str | None = None, clock: Callable[[], datetime] = utc_now) -> None:
        self.schedule = Schedule(store)
        self.jobs = list(jobs)
        self.triggers = {job.name: trigger(job.when) for job in self.jobs}
        self.poll = poll
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.clock = clock
        self.started = clock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def next_run(self, job: RecurringJob, now: datetime | None = None) -> datetime:
        """When `job` is next due (naive UTC; in the past when it is due now)."""
        now = now or self.clock()
        prev = self.schedule.last_started(job.name) or self.started
        fire = self.triggers[job.name].get_next_fire_time(prev.replace(tzinfo=UTC),
                                                          now.replace(tzinfo=UTC))
        if fire is None:  # a trigger that ends; ours do not
            return datetime.max
        due: datetime = fire.astimezone(UTC).replace(tzinfo=None)
        return due + _jitter(job.name, due, job.jitter)

    def run_due(self, now: datetime | None = None) -> list[str]:
        """Run every job due at `now` that no other process is running; their names."""
        ran = []
        for job in self.jobs:
            if self._stop.is_set():
                break
            if self._run_if_due(job, now or self.clock()):
                ran.append(job.name)
        return ran

    def _run_if_due(self, job: RecurringJob, now: datetime) -> bool:
        if self.next_run(job, now) > now:
            return False
        if not self.schedule.acquire(job.name, self.holder, job.ttl, now=self.clock()):
            return False
        try:
            # Another process may have run it between our look and the lease.
            if self.next_run(job, now) > now:
                return False
            self._run(job, now)
            return True
        finally:
            self.schedule.release(job.name, self.holder)

    def _run(self, job: RecurringJob, now: datetime) -> None:
        run_id = self.schedule.start_run(job.name, self.holder, now=now)
        beating = threading.Event()
        beat = threading.Thread(target=self._renew, args=(job, beating), daemon=True,
                                name=f"paperfeed-lease-{job.name}")
        beat.start()
        began = time.perf_counter()

        def fields(outcome: str, counts: Counts | None = None) -> dict[str, Any]:
            # For JSON logs (`--log-json`): one line per run with its job fields.
            return {"job": job.name, "run_id": run_id, "outcome": outcome, "counts": counts,
                    "duration_ms": round((time.perf_counter() - began) * 1000, 1)}

        try:
            counts = job.run(now)
        except PaperfeedError as exc:
            log.warning("scheduled job %s failed: %s", job.name, exc, extra=fields(FAILED))
            self.schedule.finish_run(run_id, FAILED, error=str(exc), now=self.clock())
        except Exception as exc:
            log.exception("scheduled job %s failed", job.name, extra=fields(FAILED))
            self.schedule.finish_run(run_id, FAILED, error=f"{type(exc).__name__}: {exc}",
                                     now=self.clock())
        else:
            self.schedule.finish_run(run_id, OK, counts, now=self.clock())
            log.info("scheduled job %s done", job.name, extra=fields(OK, counts))
        finally:
            beating.set()
            beat.join()

    def _renew(self, job: RecurringJob, done: threading.Event) -> None:
        """Keep the lease while the job runs (a third of its time to live apart)."""
        while not done.wait(job.ttl.total_seconds() / 3):
            if not self.schedule.renew(job.name, self.holder, job.ttl, now=self.clock()):
                log.warning("scheduled job %s: lost its lease while running", job.name)

    # --- the thread -------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="paperfeed-schedule",
                                        daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the thread to stop after the job in hand (safe in a signal handler)."""
        self._stop.set()

    def stop(self, timeout: float = 120.0) -> None:
        """Stop after the job in hand (a run is not cut off midway)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wait(self) -> None:
        """Block until `stop` (for `paperfeed worker`)."""
        self._stop.wait()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_due()
            except Exception:  # the store is busy or gone: look again later
                log.exception("the scheduler could not run its jobs")
            self._stop.wait(self.poll)


def scheduler_for(catalog: Catalog, settings: ScheduleSettings | None = None) -> Scheduler:
    """The scheduler of the service's recurring jobs, set from the environment."""
    settings = settings or ScheduleSettings.from_env()
    return Scheduler(catalog.store, recurring_jobs(catalog, settings), poll=settings.poll)
