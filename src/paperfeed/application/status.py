"""The service's state as numbers, for monitoring: what is stored, indexed and behind,
when the index and the harvest last moved, and what the recurring jobs and the digest
have done.

Everything comes from the store and the index manifest, which every process shares,
so any process (a web worker, a CLI) reports the same figures, across restarts.
`StatusCache` keeps one reading for a few seconds, so a burst of scrapes costs the
store one set of reads. Holds no per-user data: counts only. `paperfeed.web.metrics`
turns it into Prometheus gauges.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from paperfeed.catalog import Catalog
from paperfeed.clock import utc_now
from paperfeed.store.digests import DigestStore
from paperfeed.store.schedule import Schedule

HARVEST_KEY = "oai-harvest|"  # the harvester's checkpoint keys (sources/harvest.py)


@dataclass(frozen=True)
class ServiceStatus:
    """One reading. Ages are seconds (None: never happened)."""

    papers: int
    indexed: int  # papers in the index (0 when its files are damaged)
    pending: int  # stored papers not yet searchable
    index_age: float | None  # since the index's last commit
    harvest_age: float | None  # since a harvest last finished a window
    job_runs: dict[tuple[str, str], int]  # (job, outcome) -> runs
    digest_runs: dict[str, int]  # status (sent, empty, sending, dry-run) -> runs


def _age(then: datetime | None, now: datetime) -> float | None:
    if then is None:
        return None
    if then.tzinfo is not None:  # manifest stamps carry their offset; the store's are UTC
        then = then.astimezone(UTC).replace(tzinfo=None)
    return max(0.0, (now - then).total_seconds())


def _last_harvest(catalog: Catalog) -> datetime | None:
    """When a harvest last finished a window (a checkpoint with nothing in progress)."""
    done = [at for key, value, at in catalog.store.harvest_jobs()
            if key.startswith(HARVEST_KEY) and not value.get("in_progress")]
    return max(done, default=None)


def service_status(catalog: Catalog, now: datetime | None = None) -> ServiceStatus:
    """Read the status now (a handful of counts; see `StatusCache` for repeated use)."""
    now = now or utc_now()
    papers = catalog.store.count()
    if catalog.index_damage():  # nothing in it can be trusted: all wait for the rebuild
        indexed, pending, committed = 0, papers, None
    else:
        manifest = catalog.index.manifest()
        indexed = int((manifest.get("counts") or {}).get("papers", 0))
        pending = catalog.pending()
        stamp = manifest.get("updated_at")
        committed = datetime.fromisoformat(stamp) if stamp else None
    return ServiceStatus(
        papers=papers, indexed=indexed, pending=pending,
        index_age=_age(committed, now), harvest_age=_age(_last_harvest(catalog), now),
        job_runs=Schedule(catalog.store).run_counts(),
        digest_runs=DigestStore(catalog.store).run_counts())


class StatusCache:
    """`service_status`, read at most once every `ttl` seconds (one reader at a time)."""

    def __init__(self, catalog: Catalog, ttl: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.catalog = catalog
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()
        self._value: ServiceStatus | None = None
        self._expires = 0.0

    def get(self) -> ServiceStatus:
        with self._lock:
            if self._value is None or self.clock() >= self._expires:
                self._value = service_status(self.catalog)
                self._expires = self.clock() + self.ttl
            return self._value
