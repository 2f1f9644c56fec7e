"""Ratings and the library over a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from paperfeed.accounts import Accounts
from paperfeed.records import PaperRecord, Provenance
from paperfeed.store import Store
from paperfeed.store.personal import Personal, ProfileInputs, clean_tags


@pytest.fixture
def setup(data_dir: Path) -> Iterator[tuple[Personal, int, list[int]]]:
    with Store(data_dir) as store:
        store.add_papers([PaperRecord(title=f"Paper {i}", abstract="a", arxiv_id=f"2501.0000{i}",
                                      provenance=(Provenance("t", "f", i),)) for i in range(3)])
        user = Accounts(store).sign_up("a@example.org", "long enough password").id
        ids = sorted(p.id for p in store.get_many(range(1, 10)))
        yield Personal(store), user, ids


def test_ratings_replace_and_clear(setup: tuple[Personal, int, list[int]]) -> None:
    personal, user, (p1, p2, _) = setup
    personal.rate(user, p1, 1)
    personal.rate(user, p2, -1)
    personal.rate(user, p2, 1)
    assert personal.ratings(user) == {p1: 1, p2: 1}
    personal.rate(user, p1, 0)
    assert personal.ratings(user) == {p2: 1}
    with pytest.raises(ValueError, match="rating must be"):
        personal.rate(user, p1, 5)


def test_library_with_tags_and_states(setup: tuple[Personal, int, list[int]]) -> None:
    personal, user, (p1, p2, p3) = setup
    personal.save(user, p1, ["To Read", " to  read ", "survey", ""])
    personal.save(user, p2, ["survey"])
    assert [x.paper_id for x in personal.library(user)] == [p2, p1]
    assert personal.library(user)[1].tags == ("to read", "survey")
    assert [x.paper_id for x in personal.library(user, tag="TO READ")] == [p1]
    personal.rate(user, p3, -1)
    assert personal.states(user, [p1, p2, p3]) == {p1: (0, True), p2: (0, True),
                                                   p3: (-1, False)}
    assert personal.unsave(user, p1) and not personal.unsave(user, p1)


def test_tags_are_bounded() -> None:
    assert clean_tags(["x" * 100] + [str(i) for i in range(50)])[0] == "x" * 40
    assert len(clean_tags([str(i) for i in range(50)])) == 20


def test_profile_inputs_read_everything_the_user_told_us(
        setup: tuple[Personal, int, list[int]]) -> None:
    personal, user, (p1, p2, p3) = setup
    assert personal.profile_inputs(user) == ProfileInputs((), (), (), ())
    personal.add_own(user, [p2, p1])
    personal.save(user, p3)
    personal.rate(user, p1, -1)
    personal.follow(user, "category", "cs.CV")
    personal.follow(user, "author", "Ann Smith")
    inputs = personal.profile_inputs(user)
    assert sorted(inputs.own) == [p1, p2] and inputs.saved == (p3,)
    assert inputs.ratings == ((p1, -1),)
    assert sorted(inputs.follows) == [("author", "Ann Smith"), ("category", "cs.CV")]
    assert personal.profile_inputs(user + 1) == ProfileInputs((), (), (), ())


def test_marking_seen_keeps_the_first_record(setup: tuple[Personal, int, list[int]]) -> None:
    personal, user, (p1, p2, _) = setup
    assert personal.mark_seen(user, [p1, p1], "digest") == 1
    assert personal.mark_seen(user, [p1, p2], "feed") == 1
    assert personal.seen(user) == {p1, p2} and personal.seen(user + 1) == set()
