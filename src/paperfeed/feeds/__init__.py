"""Feed delivery: personal feed tokens, saved searches, and which papers each feed shows.

Decides over the feed_tokens and saved_searches tables, which the store keeps
(`paperfeed.store.feeds`), as `paperfeed.accounts` decides over its tables. The XML is
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
from datetime import date, timedelta

from paperfeed.catalog import Catalog
from paperfeed.clock import utc_now
from paperfeed.errors import PaperfeedError
from paperfeed.feeds.atom import MEDIA_TYPES, FeedInfo, FeedItem, Format, build_feed
from paperfeed.index import SearchFilters
from paperfeed.rank.picks import Pick, PickSource
from paperfeed.store import Store, StoredPaper
from paperfeed.store.browse import Browse
from paperfeed.store.feeds import FeedStore
from paperfeed.store.feeds import FeedTokenInfo as FeedTokenInfo  # the values live in the store
from paperfeed.store.feeds import SavedSearchInfo as SavedSearchInfo

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


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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


def newest_picks(store: Store) -> PickSource:
    """A pick source that picks the newest papers for everyone: what a personal feed shows
    until the real ranker is in `app.state.picks`, and a stand-in for tests."""

    def picks(user_id: int, since: date | None, k: int, exclude_seen: bool) -> list[Pick]:
        return [Pick(paper.id, 0.0, "new in the latest listing")
                for paper in Browse(store).newest(since=since, k=k)]

    return picks


class Feeds:
    """Feed tokens, saved searches and the papers of each feed, over one catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.store = catalog.store
        self.records = FeedStore(self.store)
        self.browse = Browse(self.store)

    # --- personal feed tokens ---------------------------------------------------------

    def create_token(self, user_id: int) -> str:
        """A new personal feed token: returned once, only its hash is kept."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        active = self.records.add_token(user_id, _digest(token), now=utc_now(),
                                        limit=MAX_ACTIVE_TOKENS)
        if active >= MAX_ACTIVE_TOKENS:
            raise FeedError(f"you have {active} personal feed URLs; revoke one first")
        return token

    def tokens(self, user_id: int) -> list[FeedTokenInfo]:
        return self.records.tokens(user_id)

    def revoke_token(self, user_id: int, token_id: int) -> bool:
        return self.records.revoke_token(user_id, token_id, now=utc_now())

    def user_for_token(self, token: str) -> int | None:
        """The user a feed token belongs to; None when it is unknown or revoked alike."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        return self.records.user_for_token(_digest(token))

    # --- saved searches ---------------------------------------------------------------

    def save_search(self, user_id: int, name: str, query: str, category: str | None = None
                    ) -> SavedSearchInfo:
        query = check_query(query)
        category = check_category(category)
        name = " ".join(name.split())[:MAX_NAME] or query[:MAX_NAME]
        count, saved = self.records.add_search(
            user_id, name, query, category, secrets.token_urlsafe(32), now=utc_now(),
            limit=MAX_SAVED_SEARCHES)
        if saved is None:
            raise FeedError(f"you have {count} saved searches; delete one first")
        return saved

    def saved_searches(self, user_id: int) -> list[SavedSearchInfo]:
        return self.records.searches(user_id)

    def saved_search(self, public_token: str) -> SavedSearchInfo | None:
        if not public_token or len(public_token) > 64:
            return None
        return self.records.search(public_token)

    def delete_search(self, user_id: int, search_id: int) -> bool:
        return self.records.delete_search(user_id, search_id)

    # --- what each feed shows ---------------------------------------------------------

    def has_category(self, category: str) -> bool:
        return self.browse.has_category(category)

    def category_papers(self, category: str, k: int = FEED_SIZE) -> list[StoredPaper]:
        """The newest k papers of a category, newest first."""
        ids = [paper.id for paper in self.browse.newest(categories=(category,), k=k)]
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
        latest = self.browse.latest_day()
        since = latest - PICK_WINDOW if latest is not None else None
        chosen = picks(user_id, since, k, False)[:k]
        return self.items(chosen)

    def items(self, picks: Sequence[Pick]) -> list[FeedItem]:
        papers = {p.id: p for p in self.store.get_many([p.paper_id for p in picks],
                                                        details=False)}
        return [FeedItem(papers[p.paper_id], p.reason) for p in picks if p.paper_id in papers]
