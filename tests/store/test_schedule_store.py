"""Job leases and job runs (store/schedule.py) on SQLite and PostgreSQL, with real racers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from paperfeed.store import Store
from paperfeed.store.schedule import FAILED, OK, RUNNING, Schedule

NOW = datetime(2026, 12, 3, 10, 0)
TTL = timedelta(minutes=5)
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture
def schedule(data_dir: Path) -> Iterator[Schedule]:
    with Store(data_dir) as store:
        yield Schedule(store)


def test_a_lease_is_held_by_one_holder_until_it_expires_or_is_released(
        schedule: Schedule) -> None:
    assert schedule.acquire("harvest", "a", TTL, now=NOW)
    assert not schedule.acquire("harvest", "b", TTL, now=NOW + timedelta(minutes=4))
    assert schedule.holder("harvest", now=NOW + timedelta(minutes=4)) == "a"
    assert schedule.acquire("harvest", "a", TTL, now=NOW + timedelta(minutes=4))  # extends
    assert schedule.renew("harvest", "a", TTL, now=NOW + timedelta(minutes=8))
    assert not schedule.acquire("harvest", "b", TTL, now=NOW + timedelta(minutes=12))
    # Expired: a crashed holder's lease is taken over, and the old holder cannot renew.
    assert schedule.acquire("harvest", "b", TTL, now=NOW + timedelta(minutes=14))
    assert not schedule.renew("harvest", "a", TTL, now=NOW + timedelta(minutes=14))
    schedule.release("harvest", "a")  # not a's any more: nothing happens
    assert schedule.holder("harvest", now=NOW + timedelta(minutes=15)) == "b"
    schedule.release("harvest", "b")
    assert schedule.holder("harvest", now=NOW + timedelta(minutes=15)) is None
    assert schedule.acquire("harvest", "a", TTL, now=NOW + timedelta(minutes=15))
    assert schedule.acquire("digests", "b", TTL, now=NOW)  # another job, another lease


def test_runs_are_recorded_and_the_latest_of_each_job_is_found(schedule: Schedule) -> None:
    first = schedule.record_run("harvest", "a", NOW, NOW + timedelta(minutes=1), OK,
                                {"ingested": 3})
    failed = schedule.record_run("harvest", "b", NOW + timedelta(hours=1),
                                 NOW + timedelta(hours=1, minutes=2), FAILED, {},
                                 "x" * 5000)
    running = schedule.start_run("digests", "a", now=NOW + timedelta(hours=2))
    last = schedule.last_runs()
    assert set(last) == {"harvest", "digests"}
    assert last["harvest"].id == failed and last["harvest"].outcome == FAILED
    assert last["harvest"].error is not None and len(last["harvest"].error) == 2000
    assert last["digests"].outcome == RUNNING and last["digests"].finished_at is None
    assert schedule.last_started("harvest") == NOW + timedelta(hours=1)
    assert schedule.last_started("trending") is None
    fail = schedule.last_failure("harvest")
    assert fail is not None and fail.id == failed
    schedule.finish_run(running, OK, {"sent": 2}, now=NOW + timedelta(hours=2, minutes=1))
    assert schedule.last_runs()["digests"].counts == {"sent": 2}
    assert [r.id for r in schedule.runs("harvest")] == [first, failed]


RACER = """
import json, os, sys, time
from datetime import timedelta
from pathlib import Path
from paperfeed.store import Store
from paperfeed.store.schedule import Schedule
data, me, go, rounds = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
with Store(data) as store:
    schedule = Schedule(store)
    (go.parent / f"ready-{me}").touch()
    while not go.exists():
        time.sleep(0.005)
    won = [n for n in range(rounds) if schedule.acquire(f"job{n}", me, timedelta(minutes=5))]
print(json.dumps(won))
"""


def test_two_processes_racing_for_leases_each_lease_has_exactly_one_winner(
        data_dir: Path, tmp_path: Path) -> None:
    Store(data_dir).close()  # migrated before the racers start
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    rounds = 40
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(data_dir), name, str(go),
                                str(rounds)], stdout=subprocess.PIPE, text=True, env=env)
              for name in ("one", "two")]
    while not all((tmp_path / f"ready-{n}").exists() for n in ("one", "two")):
        time.sleep(0.01)  # both have opened the store: start them together
    go.touch()
    won = [set(json.loads(p.communicate(timeout=120)[0])) for p in racers]
    assert all(p.returncode == 0 for p in racers)
    assert won[0] | won[1] == set(range(rounds))
    assert not won[0] & won[1]
    with Store(data_dir) as store:
        holders = {Schedule(store).holder(f"job{n}") for n in range(rounds)}
    assert holders <= {"one", "two"}
