"""The store page shows each scheduled job's last run, last failure and next run."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from paperfeed.catalog import Catalog
from paperfeed.clock import utc_now
from paperfeed.jobs import scheduler_for
from paperfeed.store.schedule import FAILED, OK, Schedule
from paperfeed.web.views import Views

pytestmark = pytest.mark.slow


def test_runs_and_failures_of_every_worker_reach_the_page_and_the_api(
        web_catalog: Catalog, live_server: str) -> None:
    schedule = Schedule(web_catalog.store)
    start = utc_now() - timedelta(hours=2)
    schedule.record_run("harvest", "other-host:1", start, start + timedelta(minutes=3), FAILED,
                        error="<b>OAI-PMH</b> answered 503 three times")
    schedule.record_run("harvest", "other-host:1", start + timedelta(hours=1),
                        start + timedelta(hours=1, minutes=2), OK, {"ingested": 42})
    with httpx.Client(base_url=live_server, timeout=60) as client:
        jobs = {j["name"]: j for j in client.get("/api/v1/stats").json()["scheduled"]}
        page = client.get("/stats").text
    harvest = jobs["harvest"]
    assert harvest["outcome"] == "ok" and harvest["counts"] == {"ingested": 42}
    assert harvest["last_failure"] == "<b>OAI-PMH</b> answered 503 three times"
    assert harvest["next_run"] is None  # this test server runs no schedule
    assert "Scheduled jobs" in page and "ingested 42" in page and "not scheduled here" in page
    assert "&lt;b&gt;OAI-PMH&lt;/b&gt; answered 503" in page  # stored text is escaped


def test_a_process_running_the_schedule_shows_when_each_job_runs_next(
        web_catalog: Catalog) -> None:
    views = Views(web_catalog)
    views.scheduler = scheduler_for(web_catalog)  # built, not started: nothing runs
    jobs = {j.name: j for j in views.scheduled_jobs()}
    assert {job.name for job in views.scheduler.jobs} <= set(jobs)
    for job in views.scheduler.jobs:
        due = jobs[job.name].next_run
        assert isinstance(due, datetime) and due < datetime.max
