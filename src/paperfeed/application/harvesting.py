"""Harvesting arXiv into the catalog over OAI-PMH, then catching up the derived data.

One path for `paperfeed harvest`, `paperfeed quickstart` and any scheduled run: the
pages go into the store as they arrive (`origin="harvest"`), the checkpoint lets the
next run go on where this one ended, and with `index` the catch-up (`catchup`) runs
afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from paperfeed.application.catchup import CatchUpReport, catch_up
from paperfeed.application.progress import Progress, QuietProgress, Step
from paperfeed.catalog import Catalog
from paperfeed.sources.harvest import DEFAULT_OAI_URL, HarvestProgress, HarvestReport, harvest_arxiv

ARXIV_OAI = DEFAULT_OAI_URL
MIN_INTERVAL = 3.0  # seconds between requests: arXiv asks for at least 3


@dataclass
class HarvestOutcome:
    """A harvest run: the harvester's report, what the store made of it, the catch-up."""

    report: HarvestReport
    ingested: int = 0
    merged: int = 0
    caught_up: CatchUpReport | None = field(default=None)

    @property
    def indexed(self) -> int:
        return self.caught_up.indexed if self.caught_up is not None else 0

    def as_dict(self) -> dict[str, Any]:
        """The summary `paperfeed harvest --json` prints."""
        r = self.report
        return {"ingested": self.ingested, "merged": self.merged, "indexed": self.indexed,
                "pages": r.pages, "records": r.records, "retries": r.retries,
                "resumed": r.resumed}


def first_harvest_start(catalog: Catalog, days: int, today: date | None = None) -> date | None:
    """Where a quickstart harvest starts: `days` back on a store never harvested, else None
    (the checkpoint of the previous harvest)."""
    if any(k.startswith("oai") for k in catalog.store.harvest_states()):
        return None
    return (today or date.today()) - timedelta(days=days)


def harvest(catalog: Catalog, progress: Progress | None = None, *, set_spec: str = "cs",
            from_date: date | None = None, until: date | None = None,
            base_url: str = ARXIV_OAI, min_interval: float = MIN_INTERVAL,
            index: bool = True) -> HarvestOutcome:
    """Harvest `set_spec` (e.g. "cs", "cs:cs:CV") from `from_date` (default: the
    checkpoint) to `until`, store it, and with `index` catch up the derived data."""
    catalog.store.require_writable("harvest")
    progress = progress or QuietProgress()
    totals = {"ingested": 0, "merged": 0}

    def sink(records: list[Any]) -> None:
        rep = catalog.ingest_records(records, origin="harvest")
        totals["ingested"] += rep.ingested
        totals["merged"] += rep.merged

    with progress.step(Step("harvest", f"harvest {set_spec}", None, unit="records")) as advance:
        seen = [0]

        def on_page(p: HarvestProgress) -> None:
            advance(p.records - seen[0])
            seen[0] = p.records

        report = harvest_arxiv(sink, catalog.store, set_spec=set_spec, from_date=from_date,
                               until=until, base_url=base_url, min_interval=min_interval,
                               progress=on_page)
    outcome = HarvestOutcome(report, ingested=totals["ingested"], merged=totals["merged"])
    if index:
        outcome.caught_up = catch_up(catalog, progress)
    return outcome
