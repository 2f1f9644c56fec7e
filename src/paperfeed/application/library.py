"""A user's own marks on papers: ratings, the library with its tags, and follows.

The web's JSON endpoints and the paper page's buttons call these; the feed learns
from what they record (`rank.feed`). Every call takes the user's id and a stored
paper's id: finding the paper from a reference is the caller's job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from paperfeed.errors import PaperfeedError
from paperfeed.store import Store
from paperfeed.store.personal import Personal, Saved

# The paper page's buttons: rate up, down, clear; save (with tags) and unsave.
RATINGS = {"up": 1, "down": -1, "clear": 0}
ACTIONS = (*RATINGS, "save", "unsave")


class LibraryError(PaperfeedError):
    """A library action that does not exist; the message lists the ones that do."""


@dataclass(frozen=True)
class Mine:
    """A user's marks on one paper."""

    paper_id: int
    rating: int  # 1 up, -1 down, 0 none
    saved: bool
    tags: tuple[str, ...]


class Library:
    """Ratings, saved papers and follows of the users of one store."""

    def __init__(self, store: Store) -> None:
        self.personal = Personal(store)

    def mine(self, user_id: int, paper_id: int) -> Mine:
        rating, saved = self.personal.states(user_id, [paper_id]).get(paper_id, (0, False))
        tags = next((x.tags for x in self.personal.library(user_id) if x.paper_id == paper_id),
                    ())
        return Mine(paper_id=paper_id, rating=rating, saved=saved, tags=tuple(tags))

    def rate(self, user_id: int, paper_id: int, value: int) -> Mine:
        """Thumbs up (1), down (-1), or 0 to clear."""
        self.personal.rate(user_id, paper_id, value)
        return self.mine(user_id, paper_id)

    def save(self, user_id: int, paper_id: int, tags: Sequence[str] = ()) -> Mine:
        """Save with these tags (replacing the tags of a paper saved already)."""
        self.personal.save(user_id, paper_id, tags)
        return self.mine(user_id, paper_id)

    def unsave(self, user_id: int, paper_id: int) -> Mine:
        self.personal.unsave(user_id, paper_id)
        return self.mine(user_id, paper_id)

    def act(self, user_id: int, paper_id: int, action: str, tags: Sequence[str] = ()) -> None:
        """One of `ACTIONS` (the paper page's buttons) on a paper."""
        if action in RATINGS:
            self.personal.rate(user_id, paper_id, RATINGS[action])
        elif action == "save":
            self.personal.save(user_id, paper_id, tags)
        elif action == "unsave":
            self.personal.unsave(user_id, paper_id)
        else:
            raise LibraryError("unknown action: use up, down, clear, save or unsave")

    def saved(self, user_id: int, tag: str | None = None) -> list[Saved]:
        """The saved papers, newest first, optionally only those with `tag`."""
        return self.personal.library(user_id, tag=tag)

    def tags(self, user_id: int) -> list[str]:
        """Every tag the user gave, sorted."""
        return sorted({t for x in self.personal.library(user_id) for t in x.tags})

    def states(self, user_id: int, paper_ids: Sequence[int]) -> dict[int, tuple[int, bool]]:
        """(rating, saved) of each of these papers the user marked."""
        return self.personal.states(user_id, paper_ids)

    def follow(self, user_id: int, kind: str, value: str) -> None:
        """Follow a category, author or keyword; ValueError names what is wrong."""
        self.personal.follow(user_id, kind, value)

    def unfollow(self, user_id: int, follow_id: int) -> bool:
        return self.personal.unfollow(user_id, follow_id)

    def follows(self, user_id: int) -> list[tuple[int, str, str]]:
        return self.personal.follows(user_id)
