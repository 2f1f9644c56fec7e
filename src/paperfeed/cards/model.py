"""The card values, as the cards package has always exported them.

They live in `paperfeed.card_types`, below the store; this module only re-exports
them so that `paperfeed.cards.model.Card` keeps working.
"""

from paperfeed.card_types import KINDS, SPAN_LABELS, Card, Kind, Result, Span, Tagger

__all__ = ["KINDS", "SPAN_LABELS", "Card", "Kind", "Result", "Span", "Tagger"]
