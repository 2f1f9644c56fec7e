"""Choosing what of a card to show where: headline figures, the figures about one dataset.

Owns the small selection rules shared by the CLI, the web pages and the API, so
that a dataset page and `paperfeed search 'dataset:X'` show the same figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from paperfeed.card_types import Card, Result
from paperfeed.store.cards import facet_key

__all__ = ["about", "headline"]


class _Figure(Protocol):
    @property
    def claim(self) -> str: ...
    @property
    def sentence(self) -> str: ...
    @property
    def dataset(self) -> str | None: ...


F = TypeVar("F", bound=_Figure)


def headline(card: Card, k: int = 3) -> tuple[Result, ...]:
    """The first `k` figures, in the order the abstract gives them (its own emphasis)."""
    return card.results[:k]


def about(results: Sequence[F], dataset: str) -> list[F]:
    """The figures reported on `dataset`: tied to it by the extractor, or said in a sentence
    naming it. A paper naming the dataset with figures tied to none gives all of those: the
    reader sees each one's sentence and judges."""
    key = facet_key(dataset)
    if not key:
        return []

    def is_about(r: F) -> bool:
        # A figure tied to another dataset is not about this one, even in a shared sentence.
        if r.dataset:
            return facet_key(r.dataset) == key
        return key in facet_key(r.claim) or key in facet_key(r.sentence)

    return [r for r in results if is_about(r)] or [r for r in results if not r.dataset]
