"""System cards: what each paper proposes, for which tasks, on which datasets, with which results.

Owns extraction from a paper's text (rules for names, kinds, figures and
links; a CRF tagger trained on annotated scientific text for task and dataset
phrases) and the card values. Storage is in `store.cards`; display in `web`.
"""

from paperfeed.card_types import KINDS, Card, Result, Span, Tagger

__all__ = ["KINDS", "Card", "Result", "Span", "Tagger"]
