"""The personal feed: a user's profile from the store, scored over the newest papers.

Owns gathering what a user told paperfeed (own papers from onboarding, thumbs
up and down, saved papers, followed categories, authors and keywords), fitting
their `Profile` (rank/profile.py) on the stored embeddings, and turning the
newest papers into picks with a reason each: the pick source behind the feed
page, the email digest and the personal Atom feed. The profile is refitted on
every call (a few milliseconds), so a rating counts at once.

Scoring is two-stage: embeddings score every candidate, then the best
`SHORTLIST` are read once for the "shared terms" reasons. When the ranker's
parameters include a lexical part (not the default since issue 12; see
rank/profile.py) the shortlist is re-scored with it, from tf-idf rows over the
catalog's vocabulary, because turning texts into tf-idf rows is the costly step.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from paperfeed.catalog import Catalog
from paperfeed.index.vocabulary import VOCABULARY_FILE, Vocabulary
from paperfeed.latex import clean_latex
from paperfeed.rank.picks import Pick, PickSource
from paperfeed.rank.profile import (
    DEFAULT_PARAMS,
    Background,
    Profile,
    RankerParams,
    RatedPaper,
    diversify,
)
from paperfeed.rank.terms import document_frequencies, shared_terms
from paperfeed.store.browse import Browse
from paperfeed.store.merge import name_key
from paperfeed.store.personal import Personal, ProfileInputs

if TYPE_CHECKING:
    from scipy import sparse

BACKGROUND_SIZE = 2000
# Papers considered when no start day is given: the last week of listings.
DEFAULT_WINDOW = timedelta(days=6)
MAX_CANDIDATES = 20_000
# Candidates that get the lexical part (and are read for shared terms): the best by
# embedding score. Picks come from these.
SHORTLIST = 2000
# Cached tf-idf rows (about 150 terms each): beyond this, start again rather than grow.
ROW_CACHE_MAX = 50_000
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

    def __init__(self, catalog: Catalog, *, seed: int = 13,
                 params: RankerParams = DEFAULT_PARAMS) -> None:
        self.catalog = catalog
        self._seed = seed
        self.params = params
        # Keyed by the index's version (`PaperIndex.version`) and the vocabulary file's
        # stamp (`_vocabulary_stamp`): any commit or refit, by this process or another,
        # brings a fresh sample. The vocabulary is kept with the background whose tf-idf
        # rows it made.
        self._background: tuple[object, Background, Vocabulary | None] | None = None
        # tf-idf rows of candidates already seen, per vocabulary: a day's candidates are
        # the same for every user and request, and turning 2,000 texts into rows costs
        # about 0.75 s, against a few ms to assemble cached ones. Each row is kept with the
        # hash of the text it came from: a paper updated since gets a new row.
        self._rows: dict[int, tuple[int, npt.NDArray[np.int32], npt.NDArray[np.float64]]] = {}
        self._rows_of: Vocabulary | None = None

    @property
    def personal(self) -> Personal:
        return Personal(self.catalog.store)

    @property
    def browse(self) -> Browse:
        return Browse(self.catalog.store)

    # --- what the user told us ----------------------------------------------------

    def rated(self, user_id: int) -> list[tuple[int, str]]:
        """(paper id, source) for own, up, saved and down papers; a thumbs-down wins."""
        return _sources(self.personal.profile_inputs(user_id))

    def follows(self, user_id: int) -> Follows:
        return _follows(self.personal.profile_inputs(user_id))

    def seen(self, user_id: int) -> set[int]:
        return self.personal.seen(user_id)

    # --- the model ----------------------------------------------------------------

    def _texts(self, paper_ids: Sequence[int]) -> dict[int, str]:
        """Title and abstract of each stored paper, the text tf-idf rows and terms come from."""
        return {p.id: f"{p.record.title} {p.record.abstract}"
                for p in self.catalog.store.get_many(list(paper_ids), details=False)}

    def background(self) -> Background | None:
        """A fixed random sample of stored papers, drawn again when the index grows."""
        return self._model()[0]

    def warm(self) -> None:
        """Load the background sample (and the vocabulary, for a lexical part) now."""
        self._model()

    def _model(self) -> tuple[Background | None, Vocabulary | None]:
        """The background and the vocabulary of its tf-idf rows (None: embeddings only)."""
        index = self.catalog.index
        version = (index.version(), self._vocabulary_stamp(index.directory))
        if self._background is not None and self._background[0] == version:
            return self._background[1], self._background[2]
        keys = sorted(index.keys())
        if len(keys) < 50:
            return None, None
        vocabulary: Vocabulary | None = None
        if self.params.uses_lexical:  # the default ranker has no lexical part: no vocabulary
            try:
                vocabulary = self.catalog.vocabulary()
            except OSError:
                vocabulary = None  # e.g. a read-only data directory: rank on embeddings alone
        if vocabulary is not None and not len(vocabulary):
            vocabulary = None
        sample = random.Random(self._seed).sample(keys, min(BACKGROUND_SIZE, len(keys)))
        sample, vectors = index.embeddings(sample)
        terms = None
        if vocabulary is not None:
            texts = self._texts(sample)
            terms = vocabulary.transform([texts.get(k, "") for k in sample])
        background = Background(vectors, terms)
        self._background = (version, background, vocabulary)
        return background, vocabulary

    def _vocabulary_stamp(self, folder: Path) -> tuple[int, int, int] | None:
        """The vocabulary file's inode, mtime and size, when the ranker uses it. A catch-up
        refits the vocabulary after its index commit, so a process that followed the
        commit in between would otherwise keep the old vocabulary until the next commit.
        One stat; the file is replaced atomically, so a refit always changes the stamp. It
        lives in the index folder in use (`indexes/gen-<n>/` after a full rebuild)."""
        if not self.params.uses_lexical:
            return None
        try:
            found = (folder / VOCABULARY_FILE).stat()
        except OSError:
            return None
        return found.st_ino, found.st_mtime_ns, found.st_size

    def profile(self, user_id: int) -> Profile | None:
        """The user's profile, or None when they have no positive paper yet."""
        fitted = self._fit_profile(self.rated(user_id))
        return fitted[0] if fitted is not None else None

    def _fit_profile(
        self, rated: Sequence[tuple[int, str]]
    ) -> tuple[Profile, dict[int, str], Vocabulary | None] | None:
        """The profile of the rated papers ((paper id, source), as `rated` gives them),
        their texts (for the shared-terms reasons) and the vocabulary that candidates'
        tf-idf rows must come from."""
        if not any(source != "down" for _, source in rated):
            return None
        ids = [pid for pid, _ in rated]
        keys, vectors = self.catalog.index.embeddings(ids)
        stored = self.catalog.store.get_many(keys, details=False)
        titles = {p.id: clean_latex(p.record.title) for p in stored}
        texts = {p.id: f"{p.record.title} {p.record.abstract}" for p in stored}
        background, vocabulary = self._model()
        terms = (vocabulary.transform([texts.get(k, "") for k in keys])
                 if vocabulary is not None else None)
        source = dict(rated)
        papers = [RatedPaper(id=k, title=titles.get(k, str(k)), vector=v,
                             source=source[k],  # type: ignore[arg-type]
                             terms=terms[i] if terms is not None else None)
                  for i, (k, v) in enumerate(zip(keys, vectors, strict=True))]
        if not any(p.source != "down" for p in papers):
            return None  # positives not indexed yet
        return Profile.fit(papers, background, self.params), texts, vocabulary

    # --- picks --------------------------------------------------------------------

    def candidates(self, since: date | None, follows: Follows) -> list[int]:
        """Papers listed on or after `since` (the last week by default), newest first."""
        start = since
        if start is None:
            latest = self.browse.latest_day()
            if latest is None:
                return []
            start = latest - DEFAULT_WINDOW
        ids = [paper.id for paper in self.browse.newest(since=start, k=MAX_CANDIDATES)]
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
        if follows.categories:
            for pid, cat in self.browse.in_categories(paper_ids, follows.categories):
                why.setdefault(pid, f"in {cat}, which you follow")
        if follows.authors:
            for pid, name in self.browse.by_authors(paper_ids, follows.authors):
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
        inputs = self.personal.profile_inputs(user_id)  # one read of what the user told us
        rated = _sources(inputs)
        fitted = self._fit_profile(rated)
        profile, rated_texts, vocabulary = fitted if fitted is not None else (None, {}, None)
        follows = _follows(inputs)
        if profile is None and not follows:
            return []
        excluded = {pid for pid, _ in rated}
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
        # Stage two: the shortlist's texts, read once, give tf-idf rows and shared terms.
        short = np.argsort(-scores, kind="stable")[: max(SHORTLIST, k * 10)]
        keys = [keys[i] for i in short]
        vectors, scores, bonus = vectors[short], scores[short], bonus[short]
        texts = self._texts(keys) if profile is not None else {}
        if profile is not None and profile.lexical and vocabulary is not None:
            terms_rows = self._term_rows(vocabulary, keys, texts)
            scores = profile.score(vectors, terms_rows) + bonus
        top = np.argsort(-scores, kind="stable")[: max(k * 10, 100)]
        order = diversify([keys[i] for i in top], vectors[top], scores[top], k)
        position = {keys[i]: i for i in top}
        terms = self._terms(order, texts, keys, rated_texts, profile)
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

    def _term_rows(self, vocabulary: Vocabulary, keys: Sequence[int], texts: dict[int, str]
                   ) -> sparse.csr_matrix:
        """The tf-idf rows of `keys`, transforming only papers not seen with this vocabulary."""
        from scipy import sparse

        if self._rows_of is not vocabulary or len(self._rows) > ROW_CACHE_MAX:
            self._rows, self._rows_of = {}, vocabulary
        def cached(key: int) -> bool:
            row = self._rows.get(key)
            return row is not None and row[0] == hash(texts.get(key, ""))

        missing = [key for key in keys if not cached(key)]
        if missing:
            made = vocabulary.transform([texts.get(key, "") for key in missing])
            for i, key in enumerate(missing):
                start, end = made.indptr[i], made.indptr[i + 1]
                self._rows[key] = (hash(texts.get(key, "")), made.indices[start:end].copy(),
                                   made.data[start:end].copy())
        parts = [self._rows[key][1:] for key in keys]
        indptr = np.zeros(len(parts) + 1, dtype=np.int64)
        np.cumsum([len(ix) for ix, _ in parts], out=indptr[1:])
        indices = np.concatenate([ix for ix, _ in parts]) if parts else np.zeros(0, np.int32)
        data = np.concatenate([d for _, d in parts]) if parts else np.zeros(0)
        return sparse.csr_matrix((data, indices, indptr), shape=(len(keys), len(vocabulary)))

    @staticmethod
    def _terms(picked: Sequence[int], texts: dict[int, str], ranked: Sequence[int],
               rated_texts: dict[int, str], profile: Profile | None) -> dict[int, list[str]]:
        """Shared terms of each pick with the user's positives, idf over the shortlist."""
        if profile is None or not picked:
            return {}
        df, n_docs = document_frequencies([texts[i] for i in ranked if i in texts])
        own = [rated_texts[r.id] for r in profile.rated
               if r.source != "down" and r.id in rated_texts]
        return {key: shared_terms(texts[key], own, df, n_docs)
                for key in picked if key in texts}

    def mark_seen(self, user_id: int, paper_ids: Sequence[int], channel: str) -> None:
        """Record papers shown to the user (a digest) so they are never picked again."""
        self.personal.mark_seen(user_id, paper_ids, channel)


def _sources(inputs: ProfileInputs) -> list[tuple[int, str]]:
    """(paper id, source) for own, up, saved and down papers; a thumbs-down wins."""
    sources: dict[int, str] = dict.fromkeys(inputs.own, "own")
    for pid in inputs.saved:
        sources.setdefault(pid, "saved")
    for pid, value in inputs.ratings:
        if value < 0:
            sources[pid] = "down"
        elif sources.get(pid) != "own":
            sources[pid] = "up"
    return sorted(sources.items())


def _follows(inputs: ProfileInputs) -> Follows:
    rows = inputs.follows
    return Follows(
        categories=frozenset(v for k, v in rows if k == "category"),
        authors=frozenset(name_key(v) for k, v in rows if k == "author"),
        keywords=tuple(v for k, v in rows if k == "keyword"),
    )


def default_pick_source(catalog: Catalog) -> PickSource:
    """The real ranker as a pick source (for the digest and the Atom feed)."""
    return Feed(catalog).picks
