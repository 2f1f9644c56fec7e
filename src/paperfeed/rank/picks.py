"""The contract between the personal feed and its deliveries (page, email digest, Atom).

A pick source answers "what should this user read, newest papers first considered,
best first": the feed page, the digest and the personal Atom feed all take one, so
each can be tested with a simple source and all share the real ranker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Pick:
    """A paper picked for a user, with the score and the reason shown beside it."""

    paper_id: int
    score: float
    reason: str  # e.g. "close to your paper “Token Merging for ViTs”"


# (user id, papers listed on or after this day (None: any), at most k, exclude seen) -> picks
PickSource = Callable[[int, date | None, int, bool], list[Pick]]
