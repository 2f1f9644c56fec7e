"""Author pages' logic: conservative disambiguation and active periods.

An author page is one exact name key (lower-cased, accent-folded full name),
so "J. Smith" and "John Smith" are never merged: a wrong merge shows a
stranger's papers as someone's, a missed one only splits a page. Within one
name, papers are grouped by shared co-authors (connected components of
"these two papers share another author"); when that yields more than one
sizeable group, the page says the name may belong to several people and
shows the groups apart instead of pretending they are one person.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from paperfeed.store.browse import AuthorPaper


def coauthor_groups(papers: Sequence[AuthorPaper]) -> list[list[int]]:
    """Paper ids grouped by shared co-authors, largest group first (union-find)."""
    parent = list(range(len(papers)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with: dict[str, int] = {}
    for i, paper in enumerate(papers):
        for other in paper.coauthors:
            j = first_with.setdefault(other, i)
            parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i, paper in enumerate(papers):
        groups.setdefault(root(i), []).append(paper.paper_id)
    return sorted(groups.values(), key=lambda g: (-len(g), g))


def frequent_coauthors(papers: Sequence[AuthorPaper], *, limit: int = 12) -> list[tuple[str, int]]:
    """Co-author name keys by how many of these papers they share, most first."""
    counts = Counter(key for p in papers for key in set(p.coauthors))
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


@dataclass(frozen=True)
class Period:
    """A run of consecutive months with papers."""

    start: str  # YYYY-MM
    end: str
    papers: int


def _month(day: date) -> int:
    return day.year * 12 + day.month - 1


def _label(month: int) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def monthly_counts(days: Sequence[date | None]) -> list[tuple[str, int]]:
    """Papers per month (YYYY-MM), in order, undated papers left out."""
    counts = Counter(_month(d) for d in days if d is not None)
    return [(_label(m), counts[m]) for m in sorted(counts)]


def active_periods(days: Sequence[date | None], *, gap_months: int = 2) -> list[Period]:
    """Runs of months with papers; a quiet spell of up to `gap_months` does not end a run."""
    counts = Counter(_month(d) for d in days if d is not None)
    periods: list[Period] = []
    start = end = -1
    total = 0
    for month in sorted(counts):
        if start < 0:
            start = month
        elif month - end > gap_months + 1:
            periods.append(Period(_label(start), _label(end), total))
            start, total = month, 0
        end = month
        total += counts[month]
    if start >= 0:
        periods.append(Period(_label(start), _label(end), total))
    return periods
