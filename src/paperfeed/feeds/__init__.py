"""Feed delivery: personal feed tokens, saved searches, and which papers each feed shows.

Owns the feed_tokens and saved_searches tables (`paperfeed.store.models_feeds`)
through the store's engine, as `paperfeed.accounts` owns its tables. The XML is
made in `paperfeed.feeds.atom`, the HTTP and forms live in `paperfeed.web.feeds`.
Ranks nothing itself: a personal feed shows what a `PickSource` picked.

A personal feed URL carries a secret token ("pff_" and 256 random bits) of which
only the SHA-256 is stored, like API tokens: shown once, revocable. A saved search
gets a random public id instead, kept in clear so its feed URL can be shown again:
it reveals the search's results, which are public anyway, and nothing else.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from paperfeed.catalog import Catalog
from paperfeed.errors import PaperfeedError
from paperfeed.feeds.atom import MEDIA_TYPES, FeedInfo, FeedItem, Format, build_feed
from paperfeed.index import SearchFilters
from paperfeed.rank.picks import Pick, PickSource
from paperfeed.store import Store, StoredPaper
from paperfeed.store import models as m
from paperfeed.store import models_feeds as mf
from paperfeed.store.store import _now

__all__ = ["FEED_SIZE", "MAX_QUERY", "MEDIA_TYPES", "FeedError", "FeedInfo", "FeedItem",
           "FeedTokenInfo", "Feeds", "Format", "SavedSearchInfo", "build_feed",
           "check_category", "check_query", "newest_picks"]

FEED_SIZE = 50
MAX_QUERY = 300
MAX_NAME = 100
# Personal feeds show picks among the papers listed in the last two weeks: a feed reader
# keeps what it has fetched, so older papers would only be repeats.
PICK_WINDOW = timedelta(days=14)
# Enough for anyone; a cap so one account cannot fill the database through a form.
MAX_ACTIVE_TOKENS = 20
MAX_SAVED_SEARCHES = 100
TOKEN_PREFIX = "pff_"
# arXiv-style categories: cs.CV, hep-th, q-bio.NC, astro-ph.CO ...
_CATEGORY = re.compile(r"[A-Za-z][A-Za-z0-9.\-]{0,63}")


class FeedError(PaperfeedError):
    """A feed request or form that cannot be done; the message says why."""


@dataclass(frozen=True)
class FeedTokenInfo:
    id: int
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class SavedSearchInfo:
    id: int
    user_id: int
    name: str
    query: str
    category: str | None
    public_token: str
    created_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _saved(row: mf.SavedSearch) -> SavedSearchInfo:
    return SavedSearchInfo(row.id, row.user_id, row.name, row.query, row.category,
                           row.public_token, row.created_at)


def check_category(value: str | None) -> str | None:
    """A category as given (trimmed), None when empty; FeedError when it cannot be one."""
    value = (value or "").strip()
    if not value:
        return None
    if not _CATEGORY.fullmatch(value):
        raise FeedError("category: letters, digits, '.' and '-', like cs.CV or hep-th")
    return value


def check_query(value: str) -> str:
    """A search as given (trimmed); FeedError when empty or longer than MAX_QUERY."""
    value = " ".join(value.split())
    if not value:
        raise FeedError("query: type the words to search for")
    if len(value) > MAX_QUERY:
        raise FeedError(f"query: at most {MAX_QUERY} characters")
    return value


def _newest_ids(session: Session, *, category: str | None, since: date | None, k: int
                ) -> list[int]:
    """The k papers listed last (ties: the later stored first), optionally in a category."""
    query = select(m.Paper.id).where(m.LISTED.is_not(None))
    if since is not None:
        query = query.where(since <= m.LISTED)
    if category:
        # EXISTS walks the listing-day index newest first and checks each paper's category
        # by key, as store/browse.py does for the daily pages.
        pc = m.PaperCategory
        query = query.where(select(pc.paper_id).where(
            pc.paper_id == m.Paper.id, pc.category == category).exists())
    return list(session.scalars(
        query.order_by(m.LISTED.desc().nulls_last(), m.Paper.id.desc()).limit(k)))


def newest_picks(store: Store) -> PickSource:
    """A pick source that picks the newest papers for everyone: what a personal feed shows
    until the real ranker is in `app.state.picks`, and a stand-in for tests."""

    def picks(user_id: int, since: date | None, k: int, exclude_seen: bool) -> list[Pick]:
        with Session(store.engine) as s:
            ids = _newest_ids(s, category=None, since=since, k=k)
        return [Pick(pid, 0.0, "new in the latest listing") for pid in ids]

    return picks


class Feeds:
    """Feed tokens, saved searches and the papers of each feed, over one catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.store = catalog.store

    def _session(self) -> Session:
        return Session(self.store.engine)

    # --- personal feed tokens ---------------------------------------------------------

    def create_token(self, user_id: int) -> str:
        """A new personal feed token: returned once, only its hash is kept."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._session() as s, s.begin():
            active = s.scalar(select(func.count()).select_from(mf.FeedToken).where(
                mf.FeedToken.user_id == user_id, mf.FeedToken.revoked_at.is_(None))) or 0
            if active >= MAX_ACTIVE_TOKENS:
                raise FeedError(f"you have {active} personal feed URLs; revoke one first")
            s.add(mf.FeedToken(user_id=user_id, token_hash=_digest(token), created_at=_now()))
        return token

    def tokens(self, user_id: int) -> list[FeedTokenInfo]:
        with self._session() as s:
            return [FeedTokenInfo(t.id, t.created_at, t.revoked_at)
                    for t in s.scalars(select(mf.FeedToken).where(
                        mf.FeedToken.user_id == user_id).order_by(mf.FeedToken.id))]

    def revoke_token(self, user_id: int, token_id: int) -> bool:
        with self._session() as s, s.begin():
            token = s.get(mf.FeedToken, token_id)
            if token is None or token.user_id != user_id or token.revoked_at is not None:
                return False
            token.revoked_at = _now()
            return True

    def user_for_token(self, token: str) -> int | None:
        """The user a feed token belongs to; None when it is unknown or revoked alike."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        with self._session() as s:
            row = s.scalar(select(mf.FeedToken).where(
                mf.FeedToken.token_hash == _digest(token)))
            return row.user_id if row is not None and row.revoked_at is None else None

    # --- saved searches ---------------------------------------------------------------

    def save_search(self, user_id: int, name: str, query: str, category: str | None = None
                    ) -> SavedSearchInfo:
        query = check_query(query)
        category = check_category(category)
        name = " ".join(name.split())[:MAX_NAME] or query[:MAX_NAME]
        with self._session() as s, s.begin():
            count = s.scalar(select(func.count()).select_from(mf.SavedSearch).where(
                mf.SavedSearch.user_id == user_id)) or 0
            if count >= MAX_SAVED_SEARCHES:
                raise FeedError(f"you have {count} saved searches; delete one first")
            row = mf.SavedSearch(user_id=user_id, name=name, query=query, category=category,
                                 public_token=secrets.token_urlsafe(32), created_at=_now())
            s.add(row)
            s.flush()
            return _saved(row)

    def saved_searches(self, user_id: int) -> list[SavedSearchInfo]:
        with self._session() as s:
            return [_saved(r) for r in s.scalars(select(mf.SavedSearch).where(
                mf.SavedSearch.user_id == user_id).order_by(mf.SavedSearch.id))]

    def saved_search(self, public_token: str) -> SavedSearchInfo | None:
        if not public_token or len(public_token) > 64:
            return None
        with self._session() as s:
            row = s.scalar(select(mf.SavedSearch).where(
                mf.SavedSearch.public_token == public_token))
            return _saved(row) if row is not None else None

    def delete_search(self, user_id: int, search_id: int) -> bool:
        with self._session() as s, s.begin():
            done = s.execute(delete(mf.SavedSearch).where(
                mf.SavedSearch.id == search_id, mf.SavedSearch.user_id == user_id))
            return bool(getattr(done, "rowcount", 0))

    # --- what each feed shows ---------------------------------------------------------

    def has_category(self, category: str) -> bool:
        with self._session() as s:
            return s.scalar(select(m.PaperCategory.paper_id).where(
                m.PaperCategory.category == category).limit(1)) is not None

    def category_papers(self, category: str, k: int = FEED_SIZE) -> list[StoredPaper]:
        """The newest k papers of a category, newest first."""
        with self._session() as s:
            ids = _newest_ids(s, category=category, since=None, k=k)
        return self.store.get_many(ids, details=False)

    def search_papers(self, query: str, category: str | None = None, k: int = FEED_SIZE
                      ) -> list[StoredPaper]:
        """What the search page shows sorted by date: its best matches, newest first."""
        filters = SearchFilters(categories=(category,) if category else ())
        results = self.catalog.search(check_query(query), k=k, filters=filters, sort="date")
        return [r.paper for r in results]

    def picked_items(self, picks: PickSource, user_id: int, k: int = FEED_SIZE
                     ) -> list[FeedItem]:
        """The user's picks among recent papers, best first, each with its reason.

        Seen papers are not excluded, nor marked seen: a feed is fetched again and again,
        and its reader remembers what was read; the digest keeps its own record.
        """
        with self._session() as s:
            latest = s.scalar(select(func.max(m.LISTED)))
        since = latest - PICK_WINDOW if latest is not None else None
        chosen = picks(user_id, since, k, False)[:k]
        return self.items(chosen)

    def items(self, picks: Sequence[Pick]) -> list[FeedItem]:
        papers = {p.id: p for p in self.store.get_many([p.paper_id for p in picks],
                                                        details=False)}
        return [FeedItem(papers[p.paper_id], p.reason) for p in picks if p.paper_id in papers]
