"""`catch_up`: index, then cards, then vocabulary, once; a new model rebuilds the index."""

from __future__ import annotations

from paperfeed.application import catch_up
from paperfeed.application.catchup import REBUILD_NOTE
from paperfeed.catalog import Catalog
from paperfeed.index.vocabulary import VOCABULARY_FILE
from tests.application.conftest import Recorder, paper
from tests.index.conftest import FakeEmbedder


def test_catch_up_indexes_cards_and_fits_the_vocabulary_in_order(
        catalog: Catalog, recorder: Recorder) -> None:
    assert catalog.pending() == 24 and catalog.cards_pending() == 24
    report = catch_up(catalog, recorder, card_workers=1)
    assert (report.indexed, report.cards, report.rebuilt, report.vocabulary) == (24, 24, False,
                                                                                 True)
    assert recorder.kinds == ["index", "cards", "vocabulary"]
    assert recorder.steps[0].total == 24 and recorder.done["index"] == 24
    assert recorder.done["cards"] == 24 and not recorder.notes
    assert catalog.pending() == 0 and catalog.cards_pending() == 0
    assert (catalog.store.data_dir / "index" / VOCABULARY_FILE).exists()
    assert catalog.search("speech recognition", k=1)[0].paper.record.title.endswith(
        "speech recognition with transformers")


def test_a_second_catch_up_does_nothing_and_new_papers_only_their_share(
        catalog: Catalog, recorder: Recorder) -> None:
    catch_up(catalog, card_workers=1)
    again = catch_up(catalog, recorder, card_workers=1)
    assert (again.indexed, again.cards, again.vocabulary) == (0, 0, False)
    assert recorder.steps == []
    catalog.ingest_records([paper(100), paper(101)])
    more = catch_up(catalog, recorder, card_workers=1)
    assert (more.indexed, more.cards) == (2, 2)
    assert recorder.steps[0].total == 2


def test_another_embedding_model_rebuilds_the_whole_index_with_a_note(
        catalog: Catalog, recorder: Recorder) -> None:
    catch_up(catalog, card_workers=1)
    catalog.close()
    with Catalog(catalog.store.data_dir, embedder=FakeEmbedder("fake-bow-2")) as other:
        report = catch_up(other, recorder, card_workers=1)
        assert recorder.notes == [REBUILD_NOTE]
        assert report.rebuilt and report.indexed == 24 and report.cards == 0
        assert other.index.manifest()["model_id"] == "fake-bow-2"


def test_full_reindexes_every_paper(catalog: Catalog, recorder: Recorder) -> None:
    catch_up(catalog, card_workers=1)
    report = catch_up(catalog, recorder, full=True, card_workers=1)
    assert report.rebuilt and report.indexed == 24 and not recorder.notes
    assert catalog.pending() == 0
