"""Per-user state over papers: thumbs up/down, the library of saved papers with tags, own
papers and follows from onboarding, and the papers already shown (seen_papers).

Owns the ratings, library, profile_papers, follows and seen_papers tables (the digest's
claim also writes seen_papers, in its own transaction: store/digests.py). What the ranker
needs of a user comes in one read, `profile_inputs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from paperfeed.clock import utc_now
from paperfeed.store import models as m
from paperfeed.store.store import Store

MAX_TAGS = 20
MAX_ID = 2**63 - 1  # the largest integer both SQLite and PostgreSQL (bigint) hold
FOLLOW_KINDS = ("category", "author", "keyword")


@dataclass(frozen=True)
class ProfileInputs:
    """Everything a user told paperfeed that the ranker fits a profile on, read at once
    (each part in no particular order)."""

    own: tuple[int, ...]  # onboarding's own papers
    saved: tuple[int, ...]
    ratings: tuple[tuple[int, int], ...]  # (paper, +1 or -1)
    follows: tuple[tuple[str, str], ...]  # (kind, value)


@dataclass(frozen=True)
class Saved:
    paper_id: int
    tags: tuple[str, ...]
    saved_at: datetime


def clean_tags(tags: Sequence[str]) -> tuple[str, ...]:
    """Trimmed, lower-cased, de-duplicated, at most 20 of at most 40 characters."""
    seen: dict[str, None] = {}
    for tag in tags:
        tag = " ".join(tag.split()).lower()[:40]
        if tag:
            seen.setdefault(tag)
    return tuple(seen)[:MAX_TAGS]


class Personal:
    """Ratings and library of the users of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _session(self) -> Session:
        return Session(self.store.engine)

    def rate(self, user_id: int, paper_id: int, value: int) -> None:
        """+1 or -1 replaces any earlier rating; 0 removes it."""
        if value not in (-1, 0, 1):
            raise ValueError(f"rating must be -1, 0 or 1, not {value}")
        with self._session() as s, s.begin():
            if value == 0:
                s.execute(delete(m.Rating).where(m.Rating.user_id == user_id,
                                                 m.Rating.paper_id == paper_id))
                return
            # One statement, so two requests rating at once cannot both insert.
            now = utc_now()
            s.execute(self.store.upsert(m.Rating)
                      .values(user_id=user_id, paper_id=paper_id, value=value, created_at=now)
                      .on_conflict_do_update(index_elements=["user_id", "paper_id"],
                                             set_={"value": value, "created_at": now}))

    def ratings(self, user_id: int) -> dict[int, int]:
        with self._session() as s:
            return {p: v for p, v in s.execute(select(m.Rating.paper_id, m.Rating.value)
                                               .where(m.Rating.user_id == user_id))}

    def save(self, user_id: int, paper_id: int, tags: Sequence[str] = ()) -> Saved:
        """Add to the library, or replace the tags of a paper already in it."""
        cleaned = clean_tags(tags)
        with self._session() as s, s.begin():
            t = m.SavedPaper.__table__
            saved_at = s.execute(
                self.store.upsert(m.SavedPaper)
                .values(user_id=user_id, paper_id=paper_id, tags=list(cleaned), saved_at=utc_now())
                .on_conflict_do_update(index_elements=["user_id", "paper_id"],
                                       set_={"tags": list(cleaned)})
                .returning(t.c.saved_at)).scalar_one()
            return Saved(paper_id, cleaned, saved_at)

    def unsave(self, user_id: int, paper_id: int) -> bool:
        with self._session() as s, s.begin():
            result = s.execute(delete(m.SavedPaper).where(m.SavedPaper.user_id == user_id,
                                                          m.SavedPaper.paper_id == paper_id))
        return bool(getattr(result, "rowcount", 0))

    def library(self, user_id: int, *, tag: str | None = None) -> list[Saved]:
        """Saved papers, newest first; only those with `tag` when given."""
        with self._session() as s:
            rows = s.scalars(select(m.SavedPaper).where(m.SavedPaper.user_id == user_id)
                             .order_by(m.SavedPaper.saved_at.desc(), m.SavedPaper.id.desc()))
            saved = [Saved(r.paper_id, tuple(r.tags or ()), r.saved_at) for r in rows]
        wanted = clean_tags([tag])[0] if tag and clean_tags([tag]) else None
        return [x for x in saved if wanted is None or wanted in x.tags]

    def states(self, user_id: int, paper_ids: Sequence[int]) -> dict[int, tuple[int, bool]]:
        """(rating, saved) for each of the papers that has either."""
        if not paper_ids:
            return {}
        ids = set(paper_ids)
        with self._session() as s:
            rated = {p: v for p, v in s.execute(select(m.Rating.paper_id, m.Rating.value).where(
                m.Rating.user_id == user_id, m.Rating.paper_id.in_(ids)))}
            saved = set(s.scalars(select(m.SavedPaper.paper_id).where(
                m.SavedPaper.user_id == user_id, m.SavedPaper.paper_id.in_(ids))))
        return {p: (rated.get(p, 0), p in saved) for p in set(rated) | saved}

    # --- onboarding: own papers and follows -----------------------------------------------

    def add_own(self, user_id: int, paper_ids: Sequence[int]) -> int:
        """Mark papers as the user's own; returns how many were new. Ids of no stored
        paper (a forged form: 0, -1, 999999, 10**23) are ignored, never an error."""
        wanted = [p for p in dict.fromkeys(paper_ids) if 0 < p <= MAX_ID]
        with self._session() as s, s.begin():
            have = set(s.scalars(select(m.ProfilePaper.paper_id).where(
                m.ProfilePaper.user_id == user_id)))
            stored = set(s.scalars(select(m.Paper.id).where(m.Paper.id.in_(wanted)))) \
                if wanted else set()
            new = [p for p in wanted if p not in have and p in stored]
            s.add_all(m.ProfilePaper(user_id=user_id, paper_id=p, added_at=utc_now()) for p in new)
        return len(new)

    def remove_own(self, user_id: int, paper_id: int) -> bool:
        with self._session() as s, s.begin():
            result = s.execute(delete(m.ProfilePaper).where(
                m.ProfilePaper.user_id == user_id, m.ProfilePaper.paper_id == paper_id))
        return bool(getattr(result, "rowcount", 0))

    def own(self, user_id: int) -> list[int]:
        with self._session() as s:
            return list(s.scalars(select(m.ProfilePaper.paper_id).where(
                m.ProfilePaper.user_id == user_id).order_by(m.ProfilePaper.id)))

    def follow(self, user_id: int, kind: str, value: str) -> None:
        if kind not in FOLLOW_KINDS:
            raise ValueError(f"follow: kind must be one of {', '.join(FOLLOW_KINDS)}")
        value = " ".join(value.split())[:200]
        if not value:
            raise ValueError("follow: empty value")
        with self._session() as s, s.begin():
            s.execute(self.store.upsert(m.Follow).values(user_id=user_id, kind=kind, value=value)
                      .on_conflict_do_nothing())

    def unfollow(self, user_id: int, follow_id: int) -> bool:
        with self._session() as s, s.begin():
            result = s.execute(delete(m.Follow).where(m.Follow.user_id == user_id,
                                                      m.Follow.id == follow_id))
        return bool(getattr(result, "rowcount", 0))

    def follows(self, user_id: int) -> list[tuple[int, str, str]]:
        """(id, kind, value) of everything the user follows."""
        with self._session() as s:
            return [(i, k, v) for i, k, v in s.execute(
                select(m.Follow.id, m.Follow.kind, m.Follow.value)
                .where(m.Follow.user_id == user_id).order_by(m.Follow.kind, m.Follow.value))]

    # --- what the ranker reads, and what was shown ------------------------------------

    def profile_inputs(self, user_id: int) -> ProfileInputs:
        """Own, saved and rated papers and follows, read in one transaction."""
        with self._session() as s:
            own = tuple(s.scalars(select(m.ProfilePaper.paper_id)
                                  .where(m.ProfilePaper.user_id == user_id)))
            saved = tuple(s.scalars(select(m.SavedPaper.paper_id)
                                    .where(m.SavedPaper.user_id == user_id)))
            ratings = tuple((p, v) for p, v in s.execute(
                select(m.Rating.paper_id, m.Rating.value).where(m.Rating.user_id == user_id)))
            follows = tuple((k, v) for k, v in s.execute(
                select(m.Follow.kind, m.Follow.value).where(m.Follow.user_id == user_id)))
        return ProfileInputs(own, saved, ratings, follows)

    def seen(self, user_id: int) -> set[int]:
        """Papers already shown to the user (a digest, a feed)."""
        with self._session() as s:
            return set(s.scalars(select(m.SeenPaper.paper_id)
                                 .where(m.SeenPaper.user_id == user_id)))

    def mark_seen(self, user_id: int, paper_ids: Sequence[int], channel: str, *,
                  now: datetime | None = None) -> int:
        """Record papers shown to the user on `channel`; those marked before keep their
        first record. How many were new."""
        with self._session() as s, s.begin():
            already = set(s.scalars(select(m.SeenPaper.paper_id).where(
                m.SeenPaper.user_id == user_id, m.SeenPaper.paper_id.in_(paper_ids))))
            new = [pid for pid in dict.fromkeys(paper_ids) if pid not in already]
            at = now or utc_now()
            s.add_all(m.SeenPaper(user_id=user_id, paper_id=pid, channel=channel, seen_at=at)
                      for pid in new)
        return len(new)
