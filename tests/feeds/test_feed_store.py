"""Feed tokens and saved searches in the store: migration 0007, hashing, limits, cascade."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from paperfeed.accounts import Accounts
from paperfeed.catalog import Catalog
from paperfeed.feeds import MAX_ACTIVE_TOKENS, FeedError, Feeds
from paperfeed.store import models as m
from paperfeed.store import models_feeds as mf

FEED_TABLES = {"feed_tokens", "saved_searches"}


@pytest.fixture
def catalog(data_dir: Path, database: str) -> Iterator[Catalog]:
    with Catalog(data_dir) as c:
        yield c


def test_feed_tokens_are_stored_hashed_and_stop_when_revoked(catalog: Catalog) -> None:
    user = Accounts(catalog.store).sign_up("a@example.org", "a long enough password")
    feeds = Feeds(catalog)
    token = feeds.create_token(user.id)
    assert token.startswith("pff_") and len(token) == 4 + 43
    with Session(catalog.store.engine) as s:
        [row] = s.scalars(select(mf.FeedToken)).all()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(row.__dict__)
    assert feeds.user_for_token(token) == user.id
    assert feeds.user_for_token(token[:-1]) is None
    assert feeds.user_for_token(row.token_hash) is None  # the hash is no way in
    other = Accounts(catalog.store).sign_up("b@example.org", "a long enough password")
    assert not feeds.revoke_token(other.id, row.id)  # not theirs
    assert feeds.revoke_token(user.id, row.id)
    assert not feeds.revoke_token(user.id, row.id)  # already revoked
    assert feeds.user_for_token(token) is None
    assert [t.revoked_at is not None for t in feeds.tokens(user.id)] == [True]


def test_limits_on_tokens_and_saved_searches(catalog: Catalog) -> None:
    user = Accounts(catalog.store).sign_up("a@example.org", "a long enough password")
    feeds = Feeds(catalog)
    for _ in range(MAX_ACTIVE_TOKENS):
        feeds.create_token(user.id)
    with pytest.raises(FeedError, match="revoke one"):
        feeds.create_token(user.id)
    feeds.revoke_token(user.id, feeds.tokens(user.id)[0].id)
    feeds.create_token(user.id)  # a revoked one frees a place
    with pytest.raises(FeedError, match="query"):
        feeds.save_search(user.id, "n", "   ")
    with pytest.raises(FeedError, match="query"):
        feeds.save_search(user.id, "n", "x" * 301)
    with pytest.raises(FeedError, match="category"):
        feeds.save_search(user.id, "n", "ok", "cs CV")
    saved = feeds.save_search(user.id, "", "  out of   distribution ", " cs.LG ")
    assert (saved.name, saved.query, saved.category) == (
        "out of distribution", "out of distribution", "cs.LG")
    assert feeds.saved_search(saved.public_token) == saved
    assert len(saved.public_token) == 43


def test_deleting_a_user_deletes_their_feeds(catalog: Catalog) -> None:
    user = Accounts(catalog.store).sign_up("a@example.org", "a long enough password")
    feeds = Feeds(catalog)
    token = feeds.create_token(user.id)
    saved = feeds.save_search(user.id, "n", "robots")
    with Session(catalog.store.engine) as s, s.begin():
        if catalog.store.engine.dialect.name == "sqlite":  # PostgreSQL always enforces them
            assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1
        s.execute(delete(m.User).where(m.User.id == user.id))
    assert feeds.user_for_token(token) is None
    assert feeds.saved_search(saved.public_token) is None
    with Session(catalog.store.engine) as s:
        assert s.scalars(select(mf.FeedToken)).all() == []
