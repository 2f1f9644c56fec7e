"""A first phase of the newest papers, the background catch-up that finishes it, and what
search says meanwhile (`catch_up(newest=...)`, `application.backfill`)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paperfeed.application import catch_up
from paperfeed.application.backfill import (
    CATCH_UP,
    TAGGER_DATA,
    Coverage,
    coverage,
    first_papers,
    indexing_job,
    queue_catch_up,
    run_catch_up_job,
    train_tagger,
)
from paperfeed.catalog import Catalog
from paperfeed.index.vocabulary import VOCABULARY_FILE
from paperfeed.settings import SettingsError
from paperfeed.store.jobs import RUNNING, JobStore
from tests.application.conftest import DAY, Recorder, paper
from tests.index.conftest import FakeEmbedder

PAPERS = 24


@pytest.fixture
def dated(data_dir: Path) -> Iterator[Catalog]:
    """24 papers, paper i listed i days before DAY: paper 0 is the newest."""
    with Catalog(data_dir, embedder=FakeEmbedder()) as catalog:
        catalog.ingest_records([paper(i, first_listed=DAY - datetime.timedelta(days=i))
                                for i in range(PAPERS)])
        yield catalog


def ids_of(catalog: Catalog, numbers: range) -> set[int]:
    return {catalog.find(f"2503.{i:05d}").id for i in numbers}


def embedded_titles(embedder: FakeEmbedder) -> list[str]:
    return [text for call in embedder.calls for text in call]


def test_a_first_phase_indexes_the_newest_papers_and_their_cards_only(
        dated: Catalog, recorder: Recorder) -> None:
    report = catch_up(dated, recorder, newest=5)
    assert (report.indexed, report.cards, report.complete, report.vocabulary) == (5, 5, False,
                                                                                 False)
    assert dated.index.keys() == ids_of(dated, range(5))
    assert set(dated.cards.get_many(ids_of(dated, range(PAPERS)))) == ids_of(dated, range(5))
    assert recorder.kinds == ["index", "cards"] and recorder.steps[0].total == 5
    assert dated.index_unfinished() and dated.pending() == PAPERS - 5
    assert not (dated.store.data_dir / "index" / VOCABULARY_FILE).exists()
    hits = dated.search("study", k=PAPERS, mode="lexical")
    assert {r.paper.id for r in hits} == ids_of(dated, range(5))


def test_the_next_catch_up_resumes_without_embedding_the_first_phase_again(
        dated: Catalog) -> None:
    catch_up(dated, newest=5)
    embedder = dated.embedder
    assert isinstance(embedder, FakeEmbedder)
    embedder.calls.clear()
    report = catch_up(dated, card_workers=1)
    assert report.complete and report.indexed == PAPERS - 5 and report.vocabulary
    newest_titles = {dated.find(f"2503.{i:05d}").record.title for i in range(5)}
    assert not any(t.startswith(tuple(newest_titles)) for t in embedded_titles(embedder))
    assert not dated.index_unfinished() and dated.pending() == 0
    assert dated.index.keys() == ids_of(dated, range(PAPERS))
    assert dated.cards_pending() == 0


def test_a_first_phase_run_again_adds_nothing_when_the_newest_are_in(dated: Catalog) -> None:
    catch_up(dated, newest=5)
    again = catch_up(dated, newest=5)
    assert again.indexed == 0 and not again.complete
    assert dated.index.keys() == ids_of(dated, range(5))


def test_newest_above_what_waits_is_a_whole_catch_up(dated: Catalog) -> None:
    report = catch_up(dated, newest=100, card_workers=1)
    assert report.complete and report.indexed == PAPERS and report.vocabulary
    assert not dated.index_unfinished()


def test_coverage_counts_the_index_against_the_store_and_words_it(dated: Catalog) -> None:
    catch_up(dated, newest=5)
    covered = coverage(dated)
    assert covered == Coverage(indexed=5, papers=PAPERS, job=None)
    assert covered.message() == ("searching 5 of 24 papers; the rest are not indexed yet "
                                 "(`paperfeed serve` or `paperfeed reindex` indexes them)")
    assert Coverage(8210, 74728, "running").message() == (
        "searching 8,210 of 74,728 papers; the rest are being indexed")
    assert Coverage(8210, 74728, "queued").message() == (
        "searching 8,210 of 74,728 papers; the rest are queued for indexing (`paperfeed "
        "serve` or `paperfeed worker` runs the job)")
    catch_up(dated, card_workers=1)
    assert coverage(dated).message() is None and not coverage(dated).partial


def test_a_catch_up_is_queued_once_and_only_when_there_is_work(dated: Catalog) -> None:
    catch_up(dated, newest=5)
    job = queue_catch_up(dated)
    assert job is not None and job.kind == CATCH_UP and job.state == "queued"
    assert queue_catch_up(dated) is None  # one queued is enough
    jobs = JobStore(dated.store)
    assert jobs.claim((CATCH_UP,)) is not None  # now "running", maybe by a dead process
    assert indexing_job(dated) is not None and coverage(dated).job == "running"
    again = queue_catch_up(dated)
    assert again is not None and again.id != job.id
    for queued in (job, again):
        jobs.finish(queued.id, "done", "")
    catch_up(dated, card_workers=1)
    assert queue_catch_up(dated) is None  # nothing left to do
    # Training the tagger is work even on a whole index.
    trained = queue_catch_up(dated, tagger_data=Path("/annotated"))
    assert trained is not None and trained.payload == {TAGGER_DATA: "/annotated"}


def test_the_job_finishes_the_index_and_records_its_steps(dated: Catalog,
                                                          recorder: Recorder) -> None:
    catch_up(dated, newest=5)
    beats: list[dict[str, Any]] = []
    message = run_catch_up_job(dated, {}, beats.append, recorder)
    assert "19 papers indexed" in message and "every stored paper is searchable" in message
    assert not coverage(dated).partial and not dated.index_unfinished()
    assert beats[0] == {"step": "index", "label": "index", "done": 0, "total": 19}
    assert {"done": 19} in beats
    assert [b["step"] for b in beats if "step" in b] == ["index", "cards", "vocabulary"]
    assert recorder.kinds == ["index", "cards", "vocabulary"] and recorder.done["index"] == 19


def test_no_tagger_is_trained_when_one_is_set_or_there(
        dated: Catalog, recorder: Recorder, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    monkeypatch.setenv("PAPERFEED_CARD_TAGGER", str(tmp_path / "set.crfsuite"))
    assert not train_tagger(dated, tmp_path / "no-such-data", recorder)
    monkeypatch.delenv("PAPERFEED_CARD_TAGGER")
    trained = dated.store.data_dir / "models" / "card-tagger.crfsuite"
    trained.parent.mkdir(parents=True, exist_ok=True)
    trained.touch()
    assert not train_tagger(dated, tmp_path / "no-such-data", recorder)
    assert recorder.steps == []


def test_first_papers_reads_the_setting_and_names_it_when_bad() -> None:
    assert first_papers({}) == 3000
    assert first_papers({"PAPERFEED_FIRST_PAPERS": "250"}) == 250
    for bad in ("0", "-3", "many"):
        with pytest.raises(SettingsError, match="PAPERFEED_FIRST_PAPERS"):
            first_papers({"PAPERFEED_FIRST_PAPERS": bad})


def test_a_running_job_is_reported_as_indexing(dated: Catalog) -> None:
    catch_up(dated, newest=5)
    queue_catch_up(dated)
    running = JobStore(dated.store).claim((CATCH_UP,))
    assert running is not None and running.state == RUNNING
    assert coverage(dated).message() == ("searching 5 of 24 papers; the rest are being "
                                         "indexed")
