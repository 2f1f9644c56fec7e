"""A small real corpus served over loopback HTTP with the feed router, once per module.

The first 100 papers of each of the first three listing days of the arXiv cs daily
listings (2025-03-18, 19 and 20), and one hostile paper whose title is a script tag.
A hashed bag-of-words embedder stands in for the sentence model, and the personal
feed takes its picks from a small stand-in source, not the real ranker. Every test runs
on SQLite and on a real PostgreSQL server (tests/pg.py).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import date
from itertools import islice
from pathlib import Path

import pytest

from paperfeed.catalog import Catalog
from paperfeed.rank.picks import Pick
from paperfeed.web import create_app
from paperfeed.web.feeds import router
from paperfeed.web.server import BackgroundServer
from tests.conftest import shared_path
from tests.index.conftest import FakeEmbedder
from tests.pg import new_database, use_database

SCRIPT_TITLE = "<script>alert(1)</script>"
HOSTILE = {
    "id": "2503.99991", "title": SCRIPT_TITLE,
    "abstract": "We show <img src=x onerror=alert(2)> and &amp; entities.",
    "authors": ["<b>Mallory</b> Hacker"], "categories": ["cs.CR"], "comment": None,
    "first_seen_listing_date": "2025-03-20", "abs": "javascript:alert(3)",
    "pdf": "https://arxiv.org/pdf/2503.99991",
}
PER_DAY = 100
# The stand-in pick source: these many newest cs.CV papers, with a reason carrying markup.
PICKS = 5
REASON = "close to your paper “<b>Token</b> & Merging”"


def corpus_records() -> list[dict[str, object]]:
    daily = shared_path("arxiv-daily-cs", "arxiv_daily_cs_unique.jsonl.gz")
    per_day: dict[str, int] = {}
    records: list[dict[str, object]] = []
    with gzip.open(daily, "rt", encoding="utf-8") as src:
        for line in islice(src, 711):  # the first three listing days
            record = json.loads(line)
            day = record["first_seen_listing_date"]
            if per_day.get(day, 0) < PER_DAY:
                per_day[day] = per_day.get(day, 0) + 1
                records.append(record)
    return [*records, HOSTILE]


@pytest.fixture(scope="session")
def feed_db(db_kind: str, request: pytest.FixtureRequest) -> str | None:
    """The database of the served corpus: None on SQLite (the file in `feed_data`)."""
    return new_database(db_kind, request)


@pytest.fixture(autouse=True)
def _on_each_database(feed_db: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs on SQLite and on PostgreSQL: a store it opens on `feed_data` finds
    the served corpus's database."""
    use_database(monkeypatch, feed_db)


@pytest.fixture(scope="session")
def feed_data(tmp_path_factory: pytest.TempPathFactory, feed_db: str | None) -> Path:
    root = tmp_path_factory.mktemp("feeds")
    corpus = root / "daily.jsonl"
    with corpus.open("w") as out:
        out.writelines(json.dumps(r) + "\n" for r in corpus_records())
    data = root / "data"
    with Catalog(data, embedder=FakeEmbedder(), url=feed_db) as catalog:
        report = catalog.ingest_file(corpus)
        assert report.error is None, report.error
        catalog.update_index()
    return data


@pytest.fixture(scope="session")
def feed_catalog(feed_data: Path, feed_db: str | None) -> Iterator[Catalog]:
    with Catalog(feed_data, embedder=FakeEmbedder(), url=feed_db) as catalog:
        yield catalog


class StandInPicks:
    """A PickSource: the newest cs.CV papers for everyone, and the calls it got."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.calls: list[tuple[int, date | None, int, bool]] = []

    def __call__(self, user_id: int, since: date | None, k: int, exclude_seen: bool
                 ) -> list[Pick]:
        self.calls.append((user_id, since, k, exclude_seen))
        from paperfeed.feeds import Feeds

        papers = Feeds(self.catalog).category_papers("cs.CV", PICKS)
        return [Pick(p.id, 1.0 - i / 10, f"{REASON} #{i}") for i, p in enumerate(papers)][:k]


@pytest.fixture(scope="session")
def picks(feed_catalog: Catalog) -> StandInPicks:
    return StandInPicks(feed_catalog)


@pytest.fixture(scope="session")
def feed_server(feed_catalog: Catalog, picks: StandInPicks) -> Iterator[str]:
    """The web app with the feed router on a free loopback port; its base URL."""
    app = create_app(feed_catalog, warm_up=False)
    app.include_router(router)
    app.state.picks = picks
    with BackgroundServer(app) as server:
        yield server.url
