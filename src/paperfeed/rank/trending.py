"""Trending: votes that lose half their weight every `HALF_LIFE`.

score(paper) = sum over its votes v of 2 ** (-(now - time_v) / HALF_LIFE)

Each vote decays on its own, so a paper stays up only while people keep
voting for it: a new paper with a few fresh votes overtakes an old one whose
votes came last week, and nothing has to be tuned but one half-life. Unlike
Hacker News's votes / (age + 2) ** 1.8, the score does not depend on the
paper's age, so a paper listed on a quiet day is not punished for being read
late. 36 hours: a vote is worth half after a day and a half, a tenth after
five days, which matches a daily-reading habit (docs/decisions/trending.md).
Votes are counted once per client (`one_per_client`), so one machine cycling
browser cookies cannot push a paper up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

HALF_LIFE = timedelta(hours=36)
# How many days back from the newest listing day each trending view looks.
WINDOWS: dict[str, int] = {"day": 1, "week": 7, "month": 30}


def one_per_client(votes: Iterable[tuple[int, datetime, str]]) -> list[tuple[int, datetime]]:
    """Each client's earliest vote on each paper: a burst of votes from one client (one
    address cycling browser cookies) counts as one vote, not thirty."""
    first: dict[tuple[int, str], datetime] = {}
    for paper_id, at, client in votes:
        key = (paper_id, client)
        if key not in first or at < first[key]:
            first[key] = at
    return [(paper_id, at) for (paper_id, _), at in first.items()]


def trending_scores(
    votes: Iterable[tuple[int, datetime]], now: datetime, *, half_life: timedelta = HALF_LIFE
) -> list[tuple[int, float, int]]:
    """(paper id, score, votes), best first; ties go to more votes, then the newer id."""
    scores: dict[int, float] = defaultdict(float)
    counts: dict[int, int] = defaultdict(int)
    seconds = half_life.total_seconds()
    for paper_id, at in votes:
        age = max((now - at).total_seconds(), 0.0)  # a clock skew never makes a vote count more
        scores[paper_id] += 2.0 ** (-age / seconds)
        counts[paper_id] += 1
    ranked = sorted(scores, key=lambda p: (-scores[p], -counts[p], -p))
    return [(p, scores[p], counts[p]) for p in ranked]
