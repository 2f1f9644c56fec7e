"""The scheduler over a real store (SQLite and PostgreSQL) with a real SMTP server: the
digest job sends at the user's local hour, and missed runs are made up once."""

from __future__ import annotations

from datetime import datetime, timedelta

from paperfeed.application.schedule import RecurringJob
from paperfeed.catalog import Catalog
from paperfeed.digest import send_digests, set_delivery_time
from paperfeed.jobs.schedule import Scheduler
from paperfeed.store.schedule import Schedule
from tests.digest.conftest import BASE_URL, DAY1, SENDER, CategorySource, Smtp, Users


def test_the_digest_job_sends_at_the_users_hour_and_is_recorded(
        catalog: Catalog, users: Users, smtp: Smtp, source: CategorySource) -> None:
    set_delivery_time(catalog.store, users.alice.id, 9, "Europe/Berlin")  # 08:00 UTC in March
    set_delivery_time(catalog.store, users.bob.id, 10, "Europe/Berlin")

    def digests(now: datetime) -> dict[str, int]:
        report = send_digests(catalog.store, source, smtp.mailer, SENDER, base_url=BASE_URL,
                              now=now, k=5, at_hour=True)
        return {"sent": report.count("sent"), "skipped": report.count("skipped")}

    start = datetime(DAY1.year, DAY1.month, DAY1.day, 7, 50)
    clock = [start]
    job = RecurringJob("digests", "every 15m", digests)
    scheduler = Scheduler(catalog.store, [job], clock=lambda: clock[0], holder="test")
    assert scheduler.run_due(start) == []  # never ran: waits for its first fire time
    clock[0] = start + timedelta(minutes=15)  # 08:05 UTC, 09:05 in Berlin
    assert scheduler.run_due() == ["digests"]
    assert len(smtp.inbox.to(users.alice.email)) == 1
    assert not smtp.inbox.to(users.bob.email)  # his hour is 10:00 in Berlin
    assert scheduler.run_due() == []  # not due again before 08:20
    (run,) = Schedule(catalog.store).runs("digests")
    assert run.outcome == "ok" and run.counts["sent"] == 1 and run.holder == "test"


def test_missed_runs_are_made_up_once_and_a_failure_is_recorded(catalog: Catalog) -> None:
    calls: list[datetime] = []

    def boom(now: datetime) -> dict[str, int]:
        calls.append(now)
        if len(calls) == 2:
            raise RuntimeError("arXiv said no")
        return {"n": len(calls)}

    start = datetime(2026, 12, 7, 0, 0)  # a Monday
    job = RecurringJob("harvest", "30 1 * * mon-fri", boom, jitter=timedelta(minutes=15))
    scheduler = Scheduler(catalog.store, [job], clock=lambda: start)
    first = scheduler.next_run(job, start)
    assert datetime(2026, 12, 7, 1, 30) <= first < datetime(2026, 12, 7, 1, 45)
    assert Scheduler(catalog.store, [job], clock=lambda: start).next_run(job, start) == first
    assert scheduler.run_due(first) == ["harvest"]
    # Down from Monday to Thursday: three fire times missed, one run makes them up.
    thursday = datetime(2026, 12, 10, 12, 0)
    assert scheduler.run_due(thursday) == ["harvest"]
    assert scheduler.run_due(thursday + timedelta(minutes=1)) == []
    runs = Schedule(catalog.store).runs("harvest")
    assert [r.outcome for r in runs] == ["ok", "failed"]
    assert runs[1].error == "RuntimeError: arXiv said no"
    assert datetime(2026, 12, 11, 1, 30) <= scheduler.next_run(job, thursday)
    # Another process holds the lease: nobody else runs the job meanwhile.
    assert Schedule(catalog.store).acquire("harvest", "other", timedelta(hours=1),
                                           now=datetime(2026, 12, 11, 2, 0))
    assert scheduler.run_due(datetime(2026, 12, 11, 2, 0)) == []
    assert len(calls) == 2
