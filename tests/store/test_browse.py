"""Browsing queries: listing days, categories, votes, authors; the 0001 -> 0002 upgrade."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from paperfeed.records import PaperRecord, Provenance, parse_author
from paperfeed.store import Store
from paperfeed.store.accounts import AccountStore
from paperfeed.store.browse import Browse
from paperfeed.store.personal import Personal
from paperfeed.store.store import _MIGRATIONS


def paper(n: int, day: date | None, cats: tuple[str, ...] = ("cs.LG",),
          authors: tuple[str, ...] = ("Ann Smith",)) -> PaperRecord:
    return PaperRecord(
        title=f"Paper number {n}", abstract=f"About thing {n}.",
        authors=tuple(parse_author(a) for a in authors), arxiv_id=f"2501.{n:05d}",
        categories=cats, first_listed=day, provenance=(Provenance("test", "f", n),))


@pytest.fixture
def browse(data_dir: Path) -> Iterator[Browse]:
    with Store(data_dir) as store:
        d1, d2, d4 = date(2025, 1, 6), date(2025, 1, 7), date(2025, 1, 9)
        store.add_papers([
            paper(1, d1), paper(2, d1, ("cs.CV", "cs.LG")), paper(3, d2, ("cs.CV",)),
            paper(4, d4, authors=("Ann Smith", "Bo Li")), paper(5, None),
        ])
        yield Browse(store)


def _ids(browse: Browse, arxiv: list[str]) -> list[int]:
    found = {p.record.arxiv_id: p.id for p in browse.store.get_many(range(1, 10))}
    return [found[a] for a in arxiv]


def test_days_counts_and_neighbours(browse: Browse) -> None:
    assert browse.latest_day() == date(2025, 1, 9)
    week = (date(2025, 1, 6), date(2025, 1, 12))
    assert browse.day_counts(*week) == [(date(2025, 1, 6), 2), (date(2025, 1, 7), 1),
                                        (date(2025, 1, 9), 1)]
    assert browse.day_counts(*week, category="cs.CV") == [(date(2025, 1, 6), 1),
                                                          (date(2025, 1, 7), 1)]
    day = date(2025, 1, 7)
    assert browse.neighbour_days(day, day) == (date(2025, 1, 6), date(2025, 1, 9))
    assert browse.neighbour_days(day, day, category="cs.CV") == (date(2025, 1, 6), None)


def test_listing_puts_voted_papers_first_and_pages(browse: Browse) -> None:
    p1, p2 = _ids(browse, ["2501.00001", "2501.00002"])
    day = date(2025, 1, 6)
    assert browse.listing(day, day).total == 2
    assert browse.vote(p1, "browser:a") and browse.vote(p1, "browser:b")
    assert not browse.vote(p1, "browser:a")  # once per voter
    assert browse.listing(day, day).paper_ids == [p1, p2]
    assert browse.listing(day, day, offset=1, limit=1).paper_ids == [p2]
    assert browse.listing(day, day, category="cs.CV").paper_ids == [p2]
    assert browse.vote_counts([p1, p2]) == {p1: 2}
    assert browse.voted_by("browser:a", [p1, p2]) == {p1}
    assert browse.unvote(p1, "browser:a") and not browse.unvote(p1, "browser:a")
    assert browse.vote_counts([p1]) == {p1: 1}


def test_votes_since_filters_by_time_and_listing_day(browse: Browse) -> None:
    p1, p4 = _ids(browse, ["2501.00001", "2501.00004"])
    now = datetime(2026, 1, 1, 12)
    browse.vote(p1, "v1", at=now - timedelta(days=3))
    browse.vote(p4, "v1", at=now)
    assert {p for p, _, _ in browse.votes_since(now - timedelta(days=1))} == {p4}
    assert {p for p, _, _ in browse.votes_since(now - timedelta(days=9),
                                                 listed_from=date(2025, 1, 8))} == {p4}


def test_many_browser_cookies_of_one_client_count_once(browse: Browse) -> None:
    p1, p2 = _ids(browse, ["2501.00001", "2501.00002"])
    day = date(2025, 1, 6)
    for i in range(30):
        assert browse.vote(p2, f"browser:{i}", client="ip:same")
    browse.vote(p1, "browser:x", client="ip:one")
    browse.vote(p1, "user:7", client="user:7")
    assert browse.vote_counts([p1, p2]) == {p1: 2, p2: 1}
    assert browse.listing(day, day).paper_ids == [p1, p2]  # 2 clients beat 1 client's 30
    clients = {c for p, _, c in browse.votes_since(datetime(2000, 1, 1)) if p == p2}
    assert clients == {"ip:same"}


def test_authors_and_categories(browse: Browse) -> None:
    papers = browse.author_papers("ann smith")
    assert len(papers) == 5 and papers[0].day == date(2025, 1, 9)
    assert papers[0].coauthors == ("bo li",)
    assert browse.find_authors("ann SMI") == [("ann smith", "Ann Smith", 5)]
    assert browse.find_authors("%") == []  # LIKE wildcards are matched literally
    assert browse.display_names(["bo li"]) == {"bo li": "Bo Li"}
    assert browse.categories() == [("cs.LG", 4), ("cs.CV", 2)]


def test_newest_papers_by_category_day_and_what_a_user_has_seen(browse: Browse) -> None:
    """Papers 1-5: listed 6, 6, 7, 9 January and never; 2 and 3 are in cs.CV."""
    ids = sorted(p.id for p in browse.store.get_many(range(1, 6)))
    p1, p2, p3, p4, p5 = ids
    assert [p.id for p in browse.newest(k=10)] == [p4, p3, p2, p1]  # undated left out
    assert [p.id for p in browse.newest(k=2)] == [p4, p3]
    cv = browse.newest(categories=("cs.CV",), k=10)
    assert [(p.id, p.categories) for p in cv] == [(p3, ("cs.CV",)), (p2, ("cs.CV", "cs.LG"))]
    assert [p.id for p in browse.newest(since=date(2025, 1, 7), k=10)] == [p4, p3]
    user = AccountStore(browse.store).create_user("a@example.org", "", "h",
                                                  now=datetime(2025, 1, 9))
    assert user is not None
    Personal(browse.store).mark_seen(user.id, [p4, p2], "feed")
    assert [p.id for p in browse.newest(unseen_by=user.id, k=10)] == [p3, p1]
    assert browse.has_category("cs.CV") and not browse.has_category("cs.AI")
    assert sorted(browse.in_categories(ids, ["cs.CV"])) == [(p2, "cs.CV"), (p3, "cs.CV")]
    assert browse.by_authors([p4, p5], ["bo li"]) == [(p4, "Bo Li")]


def test_upgrading_a_0001_store_keeps_its_papers(data_dir: Path) -> None:
    with Store(data_dir) as store:
        store.add_papers([paper(1, date(2025, 1, 6))])
        cfg = Config()
        cfg.set_main_option("script_location", str(_MIGRATIONS))
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0001")
        assert "votes" not in inspect(store.engine).get_table_names()
    with Store(data_dir) as store:
        assert store.count() == 1
        assert "votes" in inspect(store.engine).get_table_names()
        assert Browse(store).latest_day() == date(2025, 1, 6)


def test_secret_key_is_made_once_and_private(data_dir: Path, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    monkeypatch.delenv("PAPERFEED_SECRET_KEY", raising=False)
    with Store(data_dir) as store:
        key = store.secret_key()
        assert len(key) == 64 and store.secret_key() == key
        mode = stat.S_IMODE(os.stat(data_dir / "secret_key").st_mode)
        assert mode == 0o600
        monkeypatch.setenv("PAPERFEED_SECRET_KEY", "configured")
        assert store.secret_key() == b"configured"
