"""System cards in a real SQLite store: saving with facets, staleness, facet look-ups."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from paperfeed.cards.model import Card, Result
from paperfeed.records import PaperRecord, Provenance
from paperfeed.store import Store
from paperfeed.store.cards import CardStore, facet_key


@pytest.fixture
def setup(data_dir: Path) -> Iterator[tuple[Store, CardStore, list[int]]]:
    with Store(data_dir) as store:
        store.add_papers([PaperRecord(title=f"Paper {i}", abstract=f"abstract {i}",
                                      arxiv_id=f"2501.0000{i}",
                                      provenance=(Provenance("t", "f", i),)) for i in range(4)])
        ids = sorted(p.id for p in store.get_many(range(1, 10)))
        yield store, CardStore(store), ids


def _card(name: str | None, datasets: tuple[str, ...] = (), tasks: tuple[str, ...] = (),
          code: bool = False, version: int = 1000, kind: str = "method") -> Card:
    return Card(name=name, kind=kind, tasks=tasks, datasets=datasets,  # type: ignore[arg-type]
                results=(Result("66.1%", "AUC on LaSOT", "It reaches 66.1% AUC on LaSOT.",
                                "LaSOT"),) if datasets else (),
                code_urls=("https://github.com/a/b",) if code else (), version=version)


def test_facet_key_folds_spelling() -> None:
    assert facet_key("LaSOT") == facet_key("lasot benchmark") == facet_key(" LaSOT dataset ")
    assert facet_key("ImageNet-1k") == facet_key("imagenet 1k") != facet_key("ImageNet")
    assert facet_key("Café") == facet_key("cafe")
    assert facet_key("dataset") == "dataset"  # the generic word alone stays a name


def test_save_read_and_replace(setup: tuple[Store, CardStore, list[int]]) -> None:
    store, cards, (p1, p2, p3, _) = setup
    revision = {p.id: p.revision for p in store.get_many([p1, p2, p3])}
    written = cards.save([(p1, revision[p1], _card("EViT", ("LaSOT", "lasot benchmark"),
                                                   ("tracking",), code=True)),
                          (p2, revision[p2], _card(None, ("ImageNet",))),
                          (9999, 1, _card("Gone"))])  # a paper that does not exist: skipped
    assert written == 2
    assert cards.get(p1) == _card("EViT", ("LaSOT", "lasot benchmark"), ("tracking",),
                                  code=True)
    assert cards.get(p1).results[0].sentence == "It reaches 66.1% AUC on LaSOT."  # type: ignore[union-attr]
    assert cards.get(p3) is None and cards.count() == 2
    # Two spellings of one dataset are one facet row.
    assert cards.facet("dataset", "LASOT").papers == 1  # type: ignore[union-attr]
    cards.save([(p1, revision[p1], _card("EViT v2", ("COCO",)))])
    assert cards.facet("dataset", "lasot") is None
    assert cards.matching(datasets=["coco"]) == {p1}


def test_matching_combines_facets(setup: tuple[Store, CardStore, list[int]]) -> None:
    _, cards, (p1, p2, p3, p4) = setup
    cards.save([(p1, 1, _card("A", ("LaSOT", "GOT-10k"), ("object tracking",), code=True)),
                (p2, 1, _card(None, ("LaSOT",), ("object tracking",))),
                (p3, 1, _card("C", ("ImageNet-1k",), kind="benchmark")),
                (p4, 1, _card("D", (), ("object tracking",), code=True, kind="survey"))])
    assert cards.matching() is None
    assert cards.matching(datasets=["lasot"]) == {p1, p2}
    assert cards.matching(datasets=["LaSOT", "got 10k"]) == {p1}
    assert cards.matching(datasets=["lasot"], has={"code": True}) == {p1}
    assert cards.matching(has={"code": False}) == {p2, p3}
    assert cards.matching(has={"name": False}) == {p2}
    assert cards.matching(has={"results": True}) == {p1, p2, p3}
    assert cards.matching(kinds=["benchmark", "survey"]) == {p3, p4}
    assert cards.matching(tasks=['object tracking'], kinds=["survey"]) == {p4}
    assert cards.matching(datasets=["imagenet*"]) == {p3}
    assert cards.matching(datasets=["imagenet"]) == set()
    assert cards.matching(datasets=["%"]) == set()  # LIKE wildcards are escaped
    with pytest.raises(ValueError, match="unknown has"):
        cards.matching(has={"wings": True})
    top = cards.top("dataset")
    assert [(f.value, f.papers) for f in top][:1] == [("LaSOT", 2)]
    assert [f.value for f in cards.top("task", prefix="object")] == ["object tracking"]
    assert [f.value for f in cards.named_with("task", facet_key("object tracking"), "dataset")
            ] == ["LaSOT", "GOT-10k"]
    assert [pid for pid, _ in cards.papers_naming("dataset", "LaSOT")] == sorted(
        [p1, p2], reverse=True)
    with pytest.raises(ValueError, match="unknown facet"):
        cards.top("author")


def test_stale_cards_and_deleted_papers(setup: tuple[Store, CardStore, list[int]]) -> None:
    store, cards, ids = setup
    assert cards.count_stale(1000) == 4
    revision = {p.id: p.revision for p in store.get_many(ids)}
    cards.save([(ids[0], revision[ids[0]], _card("A")), (ids[1], revision[ids[1]], _card("B")),
                (ids[2], revision[ids[2]], _card("C", version=999))])
    assert cards.count_stale(1000) == 2  # ids[2] has an old version, ids[3] none
    assert [[p.id for p in b] for b in cards.iter_stale(1000, batch_size=1)] == [[ids[2]],
                                                                                 [ids[3]]]
    # A changed paper (new revision) makes its card stale.
    store.add_papers([PaperRecord(title="Paper 0", abstract="a new abstract",
                                  arxiv_id="2501.00000", arxiv_version=2,
                                  provenance=(Provenance("t", "g", 1),))])
    assert ids[0] in {p.id for b in cards.iter_stale(1000) for p in b}
    # Deleting a paper deletes its card and facets (foreign keys cascade).
    cards.save([(ids[1], revision[ids[1]], _card("B", ("LaSOT",)))])
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM papers WHERE id = :i"), {"i": ids[1]})
        left = conn.execute(text("SELECT count(*) FROM card_facets")).scalar()
    assert cards.get(ids[1]) is None and left == 0


@given(st.text(max_size=300))
def test_facet_key_never_fails(value: str) -> None:
    key = facet_key(value)
    assert len(key) <= 255
    assert facet_key(key) == key or not key.strip()
