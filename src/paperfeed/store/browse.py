"""Read-only browsing queries: papers by listing day, authors and their co-authors, votes.

These are the queries behind the daily, trending and author pages. They stay
in the store package because they are SQL over the store's tables; what is
shown and how it is ranked is decided by the callers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, and_, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from paperfeed.clock import utc_now
from paperfeed.store import models as m
from paperfeed.store.merge import name_key
from paperfeed.store.store import Store

LISTED = m.LISTED
Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])


@dataclass(frozen=True)
class Listing:
    """One page of papers listed in a date range, most voted first."""

    total: int
    paper_ids: list[int]


@dataclass(frozen=True)
class AuthorPaper:
    paper_id: int
    day: date | None
    coauthors: tuple[str, ...]  # name keys of the other authors


@dataclass(frozen=True)
class NewPaper:
    """A newly listed paper and its categories (primary first when it has one)."""

    id: int
    primary_category: str | None
    categories: tuple[str, ...]


# Who a vote counts for: its client, or its voter for votes cast before clients were kept.
VOTE_CLIENT = func.coalesce(m.Vote.client, m.Vote.voter)

class Browse:
    """Browsing queries over one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _session(self) -> Session:
        return Session(self.store.engine)

    # --- listing days -----------------------------------------------------------------

    def latest_day(self) -> date | None:
        with self._session() as s:
            return s.scalar(select(func.max(LISTED)))

    def day_counts(self, start: date, end: date, category: str | None = None
                   ) -> list[tuple[date, int]]:
        """Papers per listing day in [start, end], days without papers left out."""
        query = select(LISTED, func.count()).where(LISTED.between(start, end))
        query = self._in_category(query, category).group_by(LISTED).order_by(LISTED)
        with self._session() as s:
            return [(d, n) for d, n in s.execute(query)]

    def neighbour_days(self, start: date, end: date, category: str | None = None
                       ) -> tuple[date | None, date | None]:
        """The nearest listing day with papers before `start` and after `end`."""
        before = self._in_category(select(func.max(LISTED)).where(start > LISTED), category)
        after = self._in_category(select(func.min(LISTED)).where(end < LISTED), category)
        with self._session() as s:
            return s.scalar(before), s.scalar(after)

    def listing(self, start: date, end: date, *, category: str | None = None,
                offset: int = 0, limit: int = 50) -> Listing:
        """Papers listed in [start, end]: most votes first, then newest, then by id."""
        votes = (select(m.Vote.paper_id, func.count(func.distinct(VOTE_CLIENT)).label("n"))
                 .group_by(m.Vote.paper_id).subquery())
        where = self._in_category(select(m.Paper.id).where(LISTED.between(start, end)),
                                  category)
        query = (where.outerjoin(votes, votes.c.paper_id == m.Paper.id)
                 .order_by(func.coalesce(votes.c.n, 0).desc(), LISTED.desc().nulls_last(),
                           m.Paper.id)
                 .offset(offset).limit(limit))
        count = self._in_category(
            select(func.count()).select_from(m.Paper).where(LISTED.between(start, end)),
            category)
        with self._session() as s:
            return Listing(total=s.scalar(count) or 0, paper_ids=list(s.scalars(query)))

    def newest(self, *, categories: Sequence[str] = (), since: date | None = None,
               unseen_by: int | None = None, k: int = 50) -> list[NewPaper]:
        """The k papers listed last (ties: the later stored first), listed on or after
        `since`, in any of `categories` (all when empty), and not yet shown to the user
        `unseen_by` (seen_papers) when given."""
        query = select(m.Paper.id, m.Paper.primary_category, m.Paper.categories).where(
            LISTED.is_not(None))
        if since is not None:
            query = query.where(since <= LISTED)
        if categories:
            # EXISTS walks the listing-day index newest first and checks each paper's
            # categories by key (see `_in_category`).
            pc = m.PaperCategory
            query = query.where(select(pc.paper_id).where(
                pc.paper_id == m.Paper.id, pc.category.in_(list(categories))).exists())
        if unseen_by is not None:
            query = query.where(m.Paper.id.not_in(select(m.SeenPaper.paper_id).where(
                m.SeenPaper.user_id == unseen_by)))
        with self._session() as s:
            rows = s.execute(query.order_by(LISTED.desc(), m.Paper.id.desc())
                             .limit(max(k, 0))).all()
        return [NewPaper(pid, primary, tuple(cats or ())) for pid, primary, cats in rows]

    def has_category(self, category: str) -> bool:
        """Whether any stored paper is in the category."""
        with self._session() as s:
            return s.scalar(select(m.PaperCategory.paper_id).where(
                m.PaperCategory.category == category).limit(1)) is not None

    def in_categories(self, paper_ids: Sequence[int], categories: Iterable[str]
                      ) -> list[tuple[int, str]]:
        """(paper, category) for each of the papers in any of the categories."""
        with self._session() as s:
            return [(pid, cat) for pid, cat in s.execute(
                select(m.PaperCategory.paper_id, m.PaperCategory.category)
                .where(m.PaperCategory.paper_id.in_(paper_ids),
                       m.PaperCategory.category.in_(categories)))]

    def by_authors(self, paper_ids: Sequence[int], name_keys: Iterable[str]
                   ) -> list[tuple[int, str]]:
        """(paper, author name as written) for each of the papers by any of the name keys."""
        with self._session() as s:
            return [(pid, name) for pid, name in s.execute(
                select(m.PaperAuthor.paper_id, m.PaperAuthor.name)
                .where(m.PaperAuthor.paper_id.in_(paper_ids),
                       m.PaperAuthor.name_key.in_(name_keys)))]

    def listed_days(self, paper_ids: Sequence[int]) -> dict[int, date | None]:
        with self._session() as s:
            rows = s.execute(select(m.Paper.id, LISTED).where(m.Paper.id.in_(set(paper_ids))))
            return {pid: d for pid, d in rows}

    @staticmethod
    def _in_category(query: Q, category: str | None) -> Q:
        if not category:
            return query
        # EXISTS, not IN (subquery): SQLite then walks the listing-day index and checks each
        # paper's category by primary key, instead of first listing every paper of the
        # category (measured 127 ms -> see docs/decisions/web.md for a month of cs.CV).
        pc = m.PaperCategory
        return query.where(select(pc.paper_id).where(
            pc.paper_id == m.Paper.id, pc.category == category).exists())

    def categories(self) -> list[tuple[str, int]]:
        """Every category with its paper count, largest first."""
        with self._session() as s:
            return [(c, n) for c, n in s.execute(
                select(m.PaperCategory.category, func.count())
                .group_by(m.PaperCategory.category).order_by(func.count().desc(),
                                                              m.PaperCategory.category))]

    # --- authors ----------------------------------------------------------------------

    def author_names(self, key: str) -> Counter[str]:
        """The spellings stored under one name key, with how often each is used."""
        with self._session() as s:
            return Counter({name: n for name, n in s.execute(
                select(m.PaperAuthor.name, func.count()).where(m.PaperAuthor.name_key == key)
                .group_by(m.PaperAuthor.name))})

    def author_papers(self, key: str, *, limit: int = 2000) -> list[AuthorPaper]:
        """The papers under a name key, newest first, each with its co-authors' keys."""
        with self._session() as s:
            rows = s.execute(
                select(m.Paper.id, LISTED).join(m.PaperAuthor, m.PaperAuthor.paper_id == m.Paper.id)
                .where(m.PaperAuthor.name_key == key)
                .order_by(LISTED.desc().nulls_last(), m.Paper.id.desc()).limit(limit)).all()
            ids = [r[0] for r in rows]
            others: dict[int, list[str]] = {}
            for pid, other in s.execute(
                    select(m.PaperAuthor.paper_id, m.PaperAuthor.name_key)
                    .where(m.PaperAuthor.paper_id.in_(ids), m.PaperAuthor.name_key != key)
                    .order_by(m.PaperAuthor.paper_id, m.PaperAuthor.position)):
                others.setdefault(pid, []).append(other)
        return [AuthorPaper(pid, d, tuple(dict.fromkeys(others.get(pid, [])))) for pid, d in rows]

    def display_names(self, keys: Sequence[str]) -> dict[str, str]:
        """The most used spelling of each name key."""
        if not keys:
            return {}
        best: dict[str, tuple[int, str]] = {}
        with self._session() as s:
            for key, name, n in s.execute(
                    select(m.PaperAuthor.name_key, m.PaperAuthor.name, func.count())
                    .where(m.PaperAuthor.name_key.in_(set(keys)))
                    .group_by(m.PaperAuthor.name_key, m.PaperAuthor.name)):
                if key not in best or (n, name) > best[key]:
                    best[key] = (n, name)
        return {k: v[1] for k, v in best.items()}

    def find_authors(self, query: str, *, limit: int = 20) -> list[tuple[str, str, int]]:
        """Name keys matching every word of `query` (as word prefixes): (key, name, papers)."""
        words = name_key(query).split()
        if not words:
            return []
        conditions = [func.lower(" " + m.PaperAuthor.name_key).contains(" " + w, autoescape=True)
                      for w in words[:6]]
        with self._session() as s:
            rows = s.execute(
                select(m.PaperAuthor.name_key, func.min(m.PaperAuthor.name), func.count())
                .where(and_(*conditions)).group_by(m.PaperAuthor.name_key)
                .order_by(func.count().desc(), m.PaperAuthor.name_key).limit(limit)).all()
        return [(k, n, c) for k, n, c in rows]

    # --- votes ------------------------------------------------------------------------

    def vote(self, paper_id: int, voter: str, *, client: str | None = None,
             at: datetime | None = None) -> bool:
        """Record an upvote; False when this voter had already voted for the paper.

        `client` is who counts: "user:<id>" for an account, else a keyed hash of the
        client's address, so one client's many browser cookies count once."""
        try:
            with self._session() as s, s.begin():
                s.add(m.Vote(paper_id=paper_id, voter=voter, client=client or voter,
                             created_at=at or utc_now()))
        except IntegrityError:
            return False
        return True

    def unvote(self, paper_id: int, voter: str) -> bool:
        with self._session() as s, s.begin():
            result = s.execute(delete(m.Vote).where(m.Vote.paper_id == paper_id,
                                                    m.Vote.voter == voter))
        return bool(getattr(result, "rowcount", 0))

    def vote_counts(self, paper_ids: Sequence[int]) -> dict[int, int]:
        """Votes per paper, counting each client once (see `vote`)."""
        if not paper_ids:
            return {}
        with self._session() as s:
            return {pid: n for pid, n in s.execute(
                select(m.Vote.paper_id, func.count(func.distinct(VOTE_CLIENT)))
                .where(m.Vote.paper_id.in_(set(paper_ids))).group_by(m.Vote.paper_id))}

    def voted_by(self, voter: str | None, paper_ids: Sequence[int]) -> set[int]:
        if not voter or not paper_ids:
            return set()
        with self._session() as s:
            return set(s.scalars(select(m.Vote.paper_id).where(
                m.Vote.voter == voter, m.Vote.paper_id.in_(set(paper_ids)))))

    def votes_since(self, since: datetime, *, listed_from: date | None = None
                    ) -> list[tuple[int, datetime, str]]:
        """Votes cast after `since` as (paper, when, client), optionally only on papers
        listed on or after a day."""
        query = select(m.Vote.paper_id, m.Vote.created_at, VOTE_CLIENT).where(
            m.Vote.created_at >= since)
        if listed_from is not None:
            query = query.join(m.Paper, m.Paper.id == m.Vote.paper_id).where(
                listed_from <= LISTED)
        with self._session() as s:
            return [(pid, at, client) for pid, at, client in s.execute(query)]
