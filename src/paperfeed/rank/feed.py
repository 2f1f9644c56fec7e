"""The personal feed: a user's profile from the store, scored over the newest papers.

Owns gathering what a user told paperfeed (own papers from onboarding, thumbs
up and down, saved papers, followed categories, authors and keywords), fitting
their `Profile` (rank/profile.py) on the stored embeddings, and turning the
newest papers into picks with a reason each: the pick source behind the feed
page, the email digest and the personal Atom feed. The profile is refitted on
every call (a ridge solve over a few hundred vectors, about a millisecond), so
a rating counts at once.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from paperfeed.catalog import Catalog
from paperfeed.latex import clean_latex
from paperfeed.rank.picks import Pick, PickSource
from paperfeed.rank.profile import Background, Profile, RatedPaper, diversify
from paperfeed.rank.terms import document_frequencies, shared_terms
from paperfeed.store import models as m
from paperfeed.store.browse import LISTED
from paperfeed.store.merge import name_key

BACKGROUND_SIZE = 2000
# Papers considered when no start day is given: the last week of listings.
DEFAULT_WINDOW = timedelta(days=6)
MAX_CANDIDATES = 20_000
# A followed category, author or keyword lifts a paper by this many background
# standard deviations (profile scores are standardised): a nudge, not an override.
FOLLOW_BONUS = 1.0


@dataclass(frozen=True)
class Follows:
    categories: frozenset[str]
    authors: frozenset[str]  # name keys
    keywords: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.categories or self.authors or self.keywords)


class Feed:
    """Picks for the users of one catalog."""

    def __init__(self, catalog: Catalog, *, seed: int = 13) -> None:
        self.catalog = catalog
        self._seed = seed
        self._background: tuple[int, Background] | None = None

    def _session(self) -> Session:
        return Session(self.catalog.store.engine)

    # --- what the user told us ----------------------------------------------------

    def rated(self, user_id: int) -> list[tuple[int, str]]:
        """(paper id, source) for own, up, saved and down papers; a thumbs-down wins."""
        with self._session() as s:
            sources: dict[int, str] = {}
            for pid in s.scalars(select(m.ProfilePaper.paper_id)
                                 .where(m.ProfilePaper.user_id == user_id)):
                sources[pid] = "own"
            for pid in s.scalars(select(m.SavedPaper.paper_id)
                                 .where(m.SavedPaper.user_id == user_id)):
                sources.setdefault(pid, "saved")
            for pid, value in s.execute(select(m.Rating.paper_id, m.Rating.value)
                                        .where(m.Rating.user_id == user_id)):
                if value < 0:
                    sources[pid] = "down"
                elif sources.get(pid) != "own":
                    sources[pid] = "up"
        return sorted(sources.items())

    def follows(self, user_id: int) -> Follows:
        with self._session() as s:
            rows = s.execute(select(m.Follow.kind, m.Follow.value)
                             .where(m.Follow.user_id == user_id)).all()
        return Follows(
            categories=frozenset(v for k, v in rows if k == "category"),
            authors=frozenset(name_key(v) for k, v in rows if k == "author"),
            keywords=tuple(v for k, v in rows if k == "keyword"),
        )

    def seen(self, user_id: int) -> set[int]:
        with self._session() as s:
            return set(s.scalars(select(m.SeenPaper.paper_id)
                                 .where(m.SeenPaper.user_id == user_id)))

    # --- the model ----------------------------------------------------------------

    def background(self) -> Background | None:
        """A fixed random sample of stored vectors, drawn again when the index grows."""
        index = self.catalog.index
        size = len(index)
        if self._background is not None and self._background[0] == size:
            return self._background[1]
        keys = sorted(index.keys())
        if len(keys) < 50:
            return None
        sample = random.Random(self._seed).sample(keys, min(BACKGROUND_SIZE, len(keys)))
        _, vectors = index.embeddings(sample)
        background = Background(vectors)
        self._background = (size, background)
        return background

    def profile(self, user_id: int) -> Profile | None:
        """The user's profile, or None when they have no positive paper yet."""
        rated = self.rated(user_id)
        if not any(source != "down" for _, source in rated):
            return None
        ids = [pid for pid, _ in rated]
        keys, vectors = self.catalog.index.embeddings(ids)
        titles = {p.id: clean_latex(p.record.title)
                  for p in self.catalog.store.get_many(keys, details=False)}
        source = dict(rated)
        papers = [RatedPaper(id=k, title=titles.get(k, str(k)), vector=v,
                             source=source[k])  # type: ignore[arg-type]
                  for k, v in zip(keys, vectors, strict=True)]
        if not any(p.source != "down" for p in papers):
            return None  # positives not indexed yet
        return Profile.fit(papers, self.background())

    # --- picks --------------------------------------------------------------------

    def candidates(self, since: date | None, follows: Follows) -> list[int]:
        """Papers listed on or after `since` (the last week by default), newest first."""
        with self._session() as s:
            start = since
            if start is None:
                latest = s.scalar(select(LISTED).order_by(LISTED.desc()).limit(1))
                if latest is None:
                    return []
                start = latest - DEFAULT_WINDOW
            ids = list(s.scalars(select(m.Paper.id).where(LISTED >= start)  # noqa: SIM300
                                 .order_by(LISTED.desc(), m.Paper.id.desc())
                                 .limit(MAX_CANDIDATES)))
        for keyword in follows.keywords:
            # Keyword follows reach beyond the newest listings only through search.
            ids += [r.paper.id for r in self.catalog.search(keyword, k=50, sort="date")
                    if (r.paper.record.first_listed or r.paper.record.submitted or start)
                    >= start]
        return list(dict.fromkeys(ids))

    def _followed(self, paper_ids: Sequence[int], follows: Follows) -> dict[int, str]:
        """Why each followed paper matches: "in cs.CV", "by Kaiming He", "mentions 'x'"."""
        if not follows:
            return {}
        why: dict[int, str] = {}
        with self._session() as s:
            if follows.categories:
                for pid, cat in s.execute(select(m.PaperCategory.paper_id, m.PaperCategory.category)
                                          .where(m.PaperCategory.paper_id.in_(paper_ids),
                                                 m.PaperCategory.category.in_(
                                                     follows.categories))):
                    why.setdefault(pid, f"in {cat}, which you follow")
            if follows.authors:
                for pid, name in s.execute(select(m.PaperAuthor.paper_id, m.PaperAuthor.name)
                                           .where(m.PaperAuthor.paper_id.in_(paper_ids),
                                                  m.PaperAuthor.name_key.in_(follows.authors))):
                    why[pid] = f"by {name}, whom you follow"
        if follows.keywords:
            papers = self.catalog.store.get_many(list(paper_ids), details=False)
            for p in papers:
                text = f"{p.record.title} {p.record.abstract}".lower()
                for keyword in follows.keywords:
                    if keyword.lower() in text:
                        why[p.id] = f"mentions “{keyword}”, which you follow"
                        break
        return why

    def picks(self, user_id: int, since: date | None = None, k: int = 20,
              exclude_seen: bool = True) -> list[Pick]:
        """The best `k` new papers for the user, diversified, each with its reason."""
        profile = self.profile(user_id)
        follows = self.follows(user_id)
        if profile is None and not follows:
            return []
        excluded = {pid for pid, _ in self.rated(user_id)}
        if exclude_seen:
            excluded |= self.seen(user_id)
        ids = [i for i in self.candidates(since, follows) if i not in excluded]
        keys, vectors = self.catalog.index.embeddings(ids)
        if not keys:
            return []
        followed = self._followed(keys, follows)
        if profile is not None:
            scores = profile.score(vectors)
        else:
            # Follows only (no paper of theirs yet): newest first among followed papers.
            scores = -np.arange(len(keys), dtype=np.float64) / max(len(keys), 1)
            keep = [i for i, key in enumerate(keys) if key in followed]
            keys = [keys[i] for i in keep]
            vectors, scores = vectors[keep], scores[keep]
        bonus = np.array([FOLLOW_BONUS if key in followed else 0.0 for key in keys])
        scores = scores + bonus
        top = np.argsort(-scores, kind="stable")[: max(k * 10, 100)]
        order = diversify([keys[i] for i in top], vectors[top], scores[top], k)
        position = {keys[i]: i for i in top}
        # Document frequencies over the week's candidates (at most 2,000: 0.2 s of reads).
        terms = self._terms(order, keys[:2000], profile)
        result = []
        for key in order:
            i = position[key]
            reasons = []
            if profile is not None:
                reasons.append(profile.explain(vectors[i]).message)
            if terms.get(key):
                reasons.append("shared terms: " + ", ".join(terms[key]))
            if key in followed:
                reasons.append(followed[key])
            result.append(Pick(paper_id=key, score=float(scores[i]), reason="; ".join(reasons)))
        return result

    def _terms(self, picked: Sequence[int], ranked: Sequence[int], profile: Profile | None
               ) -> dict[int, list[str]]:
        """Shared terms of each pick with the user's positives, idf over the ranked papers."""
        if profile is None or not picked:
            return {}
        positives = [r.id for r in profile.rated if r.source != "down"]
        papers = {p.id: f"{p.record.title} {p.record.abstract}"
                  for p in self.catalog.store.get_many([*ranked, *positives], details=False)}
        df, n_docs = document_frequencies([papers[i] for i in ranked if i in papers])
        own = [papers[i] for i in positives if i in papers]
        return {key: shared_terms(papers[key], own, df, n_docs)
                for key in picked if key in papers}

    def mark_seen(self, user_id: int, paper_ids: Sequence[int], channel: str) -> None:
        """Record papers shown to the user (a digest) so they are never picked again."""
        from paperfeed.store.store import _now

        with self._session() as s, s.begin():
            already = set(s.scalars(select(m.SeenPaper.paper_id).where(
                m.SeenPaper.user_id == user_id, m.SeenPaper.paper_id.in_(paper_ids))))
            s.add_all(m.SeenPaper(user_id=user_id, paper_id=pid, channel=channel,
                                  seen_at=_now()) for pid in dict.fromkeys(paper_ids)
                      if pid not in already)


def default_pick_source(catalog: Catalog) -> PickSource:
    """The real ranker as a pick source (for the digest and the Atom feed)."""
    return Feed(catalog).picks
