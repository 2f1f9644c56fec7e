"""The recurring jobs a running service does by itself, and their settings.

Each job is a function of the time it runs at that returns its counts (recorded in
the store's job_runs by the scheduler, `paperfeed.jobs.schedule`, which decides when
and under which lease):

- `harvest`: the configured OAI-PMH sets (PAPERFEED_HARVEST_SETS, default "cs") from
  the checkpoint (three days back on a store never harvested), then one catch-up of
  the index, cards and vocabulary;
- `digests`: the digests of users whose local send hour has come
  (`send_due_digests(at_hour=True)`).

Trending needs no job: it is computed from the votes on each request.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from paperfeed.application.catchup import catch_up
from paperfeed.application.digests import send_due_digests
from paperfeed.application.harvesting import ARXIV_OAI, MIN_INTERVAL, first_harvest_start, harvest
from paperfeed.catalog import Catalog
from paperfeed.settings import SettingsError, check_base_url

Counts = dict[str, Any]
FIRST_HARVEST_DAYS = 3
# arXiv announces Sunday to Thursday at 20:00 US Eastern: 00:00 UTC in summer, 01:00 in
# winter, so 01:30 UTC on weekdays is after it all year round.
HARVEST_WHEN = "30 1 * * mon-fri"
DIGEST_WHEN = "every 15m"


@dataclass(frozen=True)
class RecurringJob:
    """A job, when it runs ("every 15m" or a crontab line in UTC), and its jitter (a
    delay after each fire time, the same for every process, so that many installations
    do not all call arXiv at 01:30:00). `ttl` is the lease, renewed while it runs."""

    name: str
    when: str
    run: Callable[[datetime], Counts]
    jitter: timedelta = timedelta(0)
    ttl: timedelta = timedelta(minutes=10)


@dataclass(frozen=True)
class ScheduleSettings:
    """What an operator sets about the recurring jobs (all from the environment)."""

    harvest_sets: tuple[str, ...] = ("cs",)
    harvest_when: str = HARVEST_WHEN
    harvest_jitter: timedelta = timedelta(minutes=15)
    oai_url: str = ARXIV_OAI
    min_interval: float = MIN_INTERVAL
    catch_up: bool = True
    digest_when: str = DIGEST_WHEN
    base_url: str = "http://127.0.0.1:8000"
    poll: float = 30.0  # seconds between looks at what is due

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ScheduleSettings:
        env = os.environ if env is None else env
        sets = tuple(s.strip() for s in env.get("PAPERFEED_HARVEST_SETS", "cs").split(",")
                     if s.strip())
        base = env.get("PAPERFEED_BASE_URL", "").strip()
        return cls(
            harvest_sets=sets or ("cs",),
            harvest_when=env.get("PAPERFEED_HARVEST_WHEN", "").strip() or HARVEST_WHEN,
            harvest_jitter=timedelta(seconds=_number(env, "PAPERFEED_HARVEST_JITTER", 900)),
            oai_url=env.get("PAPERFEED_OAI_URL", "").strip() or ARXIV_OAI,
            min_interval=_number(env, "PAPERFEED_HARVEST_MIN_INTERVAL", MIN_INTERVAL),
            catch_up=env.get("PAPERFEED_HARVEST_CATCH_UP", "1").strip() not in ("0", "no"),
            digest_when=env.get("PAPERFEED_DIGEST_WHEN", "").strip() or DIGEST_WHEN,
            base_url=check_base_url(base) if base else cls.base_url,
            poll=_number(env, "PAPERFEED_SCHEDULE_POLL", 30.0))


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a number of seconds, got {raw!r}") from None
    if value < 0:
        raise SettingsError(f"{name}: expected a number of seconds >= 0, got {raw!r}")
    return value


def run_harvest(catalog: Catalog, settings: ScheduleSettings) -> Counts:
    """Harvest every configured set, then catch up once."""
    counts: Counts = {"ingested": 0, "merged": 0, "records": 0, "indexed": 0, "cards": 0}
    for set_spec in settings.harvest_sets:
        outcome = harvest(catalog, set_spec=set_spec, base_url=settings.oai_url,
                          from_date=first_harvest_start(catalog, FIRST_HARVEST_DAYS),
                          min_interval=settings.min_interval, index=False)
        counts["ingested"] += outcome.ingested
        counts["merged"] += outcome.merged
        counts["records"] += outcome.report.records
    if settings.catch_up and (counts["ingested"] or counts["merged"]):
        report = catch_up(catalog)
        counts["indexed"], counts["cards"] = report.indexed, report.cards
    return counts


def run_digests(catalog: Catalog, settings: ScheduleSettings, now: datetime) -> Counts:
    """Send the digests whose local hour has come; the counts by outcome."""
    done = send_due_digests(catalog, base_url=settings.base_url, now=now.replace(tzinfo=UTC),
                            at_hour=True)
    return {status: done.report.count(status)
            for status in ("sent", "empty", "skipped", "failed")}


def recurring_jobs(catalog: Catalog, settings: ScheduleSettings) -> list[RecurringJob]:
    """The service's recurring jobs over one catalog."""
    return [
        RecurringJob("harvest", settings.harvest_when, lambda now: run_harvest(catalog, settings),
                     jitter=settings.harvest_jitter, ttl=timedelta(minutes=30)),
        RecurringJob("digests", settings.digest_when,
                     lambda now: run_digests(catalog, settings, now)),
    ]
