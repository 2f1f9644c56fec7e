"""`harvest`: arXiv pages into the store over real HTTP (the loopback stand-in), then the
catch-up; a later run goes on from the checkpoint."""

from __future__ import annotations

from datetime import date, timedelta

from paperfeed.application.harvesting import first_harvest_start, harvest
from paperfeed.catalog import Catalog
from tests.application.conftest import Recorder
from tests.sources.arxiv_standin import ArxivStandin, FakePaper, OaiRepository


def test_a_harvest_stores_the_records_and_catches_up(catalog: Catalog,
                                                     recorder: Recorder) -> None:
    today = date(2026, 11, 20)
    assert first_harvest_start(catalog, 3, today) == date(2026, 11, 17)
    corpus = [FakePaper(arxiv_id=f"2611.{i:05d}", title=f"Harvested paper {i}",
                        datestamp=date(2026, 11, 1) + timedelta(days=i)) for i in range(1, 4)]
    with ArxivStandin(OaiRepository(corpus, page_size=10)) as server:
        outcome = harvest(catalog, recorder, until=date(2026, 11, 20), base_url=server.url)
    assert (outcome.report.records, outcome.ingested, outcome.merged) == (3, 3, 0)
    # The catch-up covers every paper not yet indexed: the 24 stored before and the 3 new.
    assert outcome.indexed == 27 and outcome.as_dict()["pages"] == 1
    assert recorder.kinds[:2] == ["harvest", "index"]
    assert recorder.steps[0].label == "harvest cs" and recorder.done["harvest"] == 3
    assert catalog.pending() == 0 and catalog.store.find("2611.00002") is not None
    # The checkpoint is kept: a quickstart now goes on from it rather than N days back.
    assert first_harvest_start(catalog, 3, today) is None


def test_a_harvest_without_index_leaves_the_catch_up_to_the_caller(catalog: Catalog) -> None:
    corpus = [FakePaper(arxiv_id="2611.00009", title="One more", datestamp=date(2026, 11, 2))]
    with ArxivStandin(OaiRepository(corpus)) as server:
        outcome = harvest(catalog, until=date(2026, 11, 20), base_url=server.url, index=False)
    assert outcome.ingested == 1 and outcome.caught_up is None and outcome.indexed == 0
    assert catalog.pending() == 25
