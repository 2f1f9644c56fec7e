"""The plain values the search index takes and returns.

Owns `IndexDoc` (what the store hands the index), `SearchFilters`, and the
`SearchHit` / `Segment` results the CLI and web app render. No behaviour here.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from paperfeed.errors import PaperfeedError

__all__ = ["IndexDoc", "QueryError", "SearchFilters", "SearchHit", "Segment"]


@dataclass(frozen=True)
class IndexDoc:
    """One paper as the index sees it; `key` is the store's id and identifies it for upserts."""

    key: int
    title: str
    abstract: str
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    date: datetime.date | None = None


@dataclass(frozen=True)
class SearchFilters:
    """Restrictions on results; an empty tuple or None means no restriction.

    `categories` and `authors` are any-of. Categories match case-insensitively;
    an author matches on the full name or any trailing part of it ("Hinton",
    "van Gool"), ignoring case, accents and punctuation. Dates are inclusive.
    `keys`, when not None, restricts results to those store ids (the papers a
    card facet such as `dataset:LaSOT` selected); an empty set matches nothing.
    """

    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    categories: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    keys: frozenset[int] | None = None

    def is_empty(self) -> bool:
        return not (self.date_from or self.date_to or self.categories or self.authors
                    or self.keys is not None)


@dataclass(frozen=True)
class Segment:
    """A run of text, highlighted when it matched the query."""

    text: str
    highlighted: bool


@dataclass(frozen=True)
class SearchHit:
    """One result: fused score, the score of each side that found it, and display text."""

    key: int
    score: float
    lexical_score: float | None
    dense_score: float | None
    title: tuple[Segment, ...]
    snippet: tuple[Segment, ...]


class QueryError(PaperfeedError):
    """A query the engine could not run even after sanitising (should not happen)."""
