"""Building cards over a real SQLite store: resumable, versioned, parallel, tagger found."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperfeed.cards import build
from paperfeed.cards.build import (
    TAGGER_ENV,
    CardMaker,
    TaggerNotFound,
    build_cards,
    card_version,
    default_tagger_path,
)
from paperfeed.records import PaperRecord, Provenance
from paperfeed.store import Store
from paperfeed.store.cards import CardStore

ABSTRACT = ("We propose TrackX{i}, a tracker for visual object tracking. TrackX{i} reaches "
            "{i}.5% AUC on the LaSOT benchmark. Code is available at "
            "https://github.com/example/trackx{i}.")


def _store(data_dir: Path, n: int) -> Store:
    store = Store(data_dir)
    store.add_papers([PaperRecord(title=f"TrackX{i}: fast tracking", abstract=ABSTRACT.format(i=i),
                                  arxiv_id=f"2501.{i:05d}", provenance=(Provenance("t", "f", i),))
                      for i in range(1, n + 1)])
    return store


def test_build_extracts_every_card_once_and_resumes(data_dir: Path) -> None:
    with _store(data_dir, 12) as store:
        cards = CardStore(store)
        seen: list[int] = []

        def stop_after_first_batch(n: int) -> None:
            seen.append(n)
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            build_cards(store, progress=stop_after_first_batch, workers=1, batch_size=5)
        # The batch extracted before the interruption is stored; the rest is still to do.
        assert cards.count() == 5 and cards.count_stale(card_version(None)) == 7
        report = build_cards(store, workers=1, batch_size=5)
        assert (report.extracted, cards.count(), report.tagger) == (7, 12, None)
        assert build_cards(store, workers=1).extracted == 0
        card = cards.get(1)
        assert card is not None and card.name == "TrackX1" and card.datasets == ("LaSOT",)
        assert card.code_urls == ("https://github.com/example/trackx1",)
        assert [(r.value, r.dataset) for r in card.results] == [("1.5%", "LaSOT")]


def test_a_new_extractor_version_refreshes_cards(data_dir: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with _store(data_dir, 3) as store:
        build_cards(store, workers=1)
        monkeypatch.setattr("paperfeed.cards.extract.EXTRACTOR_VERSION", 999)
        assert CardStore(store).count_stale(card_version(None)) == 3
        assert build_cards(store, workers=1).extracted == 3


def test_parallel_build_matches_the_serial_one(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "PARALLEL_FROM", 1)
    with _store(tmp_path / "a", 30) as serial, _store(tmp_path / "b", 30) as parallel:
        build_cards(serial, workers=1, batch_size=7)
        report = build_cards(parallel, workers=2, batch_size=7)
        assert report.extracted == 30
        assert CardStore(serial).get_many(range(1, 31)) == CardStore(parallel).get_many(
            range(1, 31))


def test_tagger_resolution(data_dir: Path, monkeypatch: pytest.MonkeyPatch,
                           card_tagger: Path) -> None:
    with Store(data_dir) as store:
        monkeypatch.delenv(TAGGER_ENV, raising=False)
        assert CardMaker.for_store(store).tagger is None
        monkeypatch.setenv(TAGGER_ENV, str(data_dir / "missing.crfsuite"))
        with pytest.raises(TaggerNotFound, match=r"missing\.crfsuite"):
            CardMaker.for_store(store)
        monkeypatch.setenv(TAGGER_ENV, str(card_tagger))
        maker = CardMaker.for_store(store)
        assert maker.tagger is not None and maker.version == card_version(maker.tagger) > \
            card_version(None)
        monkeypatch.delenv(TAGGER_ENV)
        path = default_tagger_path(store)
        path.parent.mkdir(parents=True, exist_ok=True)
        for made in card_tagger.parent.iterdir():
            (path.parent / made.name).write_bytes(made.read_bytes())
        assert CardMaker.for_store(store).path == path
