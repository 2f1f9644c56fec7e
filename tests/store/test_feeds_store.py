"""The feed repository over a real SQLite file: tokens and saved searches, caps in one step."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from paperfeed.store import Store
from paperfeed.store.accounts import AccountStore
from paperfeed.store.feeds import FeedStore, FeedTokenInfo, SavedSearchInfo

NOW = datetime(2026, 12, 3, 10, 0)


@pytest.fixture
def setup(data_dir: Path) -> Iterator[tuple[FeedStore, int, int]]:
    with Store(data_dir) as store:
        users = AccountStore(store)
        a = users.create_user("a@example.org", "", "h", now=NOW)
        b = users.create_user("b@example.org", "", "h", now=NOW)
        assert a is not None and b is not None
        yield FeedStore(store), a.id, b.id


def test_tokens_are_capped_revoked_once_and_found_by_hash(
        setup: tuple[FeedStore, int, int]) -> None:
    feeds, user, other = setup
    assert feeds.add_token(user, "h1", now=NOW, limit=2) == 0
    assert feeds.add_token(user, "h2", now=NOW, limit=2) == 1
    assert feeds.add_token(user, "h3", now=NOW, limit=2) == 2  # refused: at the cap
    tokens = feeds.tokens(user)
    assert [type(t) for t in tokens] == [FeedTokenInfo, FeedTokenInfo]
    assert feeds.user_for_token("h1") == user and feeds.user_for_token("h3") is None
    assert not feeds.revoke_token(other, tokens[0].id, now=NOW)  # not theirs
    assert feeds.revoke_token(user, tokens[0].id, now=NOW)
    assert not feeds.revoke_token(user, tokens[0].id, now=NOW)
    assert feeds.user_for_token("h1") is None
    assert feeds.add_token(user, "h3", now=NOW, limit=2) == 1  # a revoked one frees a place
    assert feeds.user_for_token("h3") == user


def test_saved_searches_are_capped_and_deleted_only_by_their_owner(
        setup: tuple[FeedStore, int, int]) -> None:
    feeds, user, other = setup
    count, first = feeds.add_search(user, "GANs", "gan", "cs.CV", "pub-1", now=NOW, limit=1)
    assert count == 0 and isinstance(first, SavedSearchInfo)
    assert (first.user_id, first.name, first.query, first.category) == (user, "GANs", "gan",
                                                                          "cs.CV")
    assert feeds.add_search(user, "More", "x", None, "pub-2", now=NOW, limit=1) == (1, None)
    assert feeds.search("pub-1") == first and feeds.search("pub-2") is None
    assert feeds.searches(user) == [first] and feeds.searches(other) == []
    assert not feeds.delete_search(other, first.id)
    assert feeds.delete_search(user, first.id)
    assert feeds.searches(user) == []
