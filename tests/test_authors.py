from datetime import date

from paperfeed.authors import active_periods, coauthor_groups, frequent_coauthors, monthly_counts
from paperfeed.store.browse import AuthorPaper


def _p(pid: int, *coauthors: str, day: date | None = None) -> AuthorPaper:
    return AuthorPaper(pid, day, coauthors)


def test_papers_sharing_a_coauthor_chain_form_one_group() -> None:
    papers = [_p(1, "a b", "c d"), _p(2, "c d"), _p(3, "e f", "a b"), _p(4, "x y"), _p(5)]
    assert coauthor_groups(papers) == [[1, 2, 3], [4], [5]]


def test_frequent_coauthors_count_papers_not_mentions() -> None:
    papers = [_p(1, "a b", "a b"), _p(2, "a b", "c d"), _p(3, "c d")]
    assert frequent_coauthors(papers) == [("a b", 2), ("c d", 2)]


def test_active_periods_bridge_short_gaps_only() -> None:
    days = [date(2025, 1, 5), date(2025, 1, 9), date(2025, 3, 1), date(2025, 12, 2), None]
    periods = active_periods(days, gap_months=2)
    assert [(p.start, p.end, p.papers) for p in periods] == [
        ("2025-01", "2025-03", 3), ("2025-12", "2025-12", 1)]
    assert monthly_counts(days) == [("2025-01", 2), ("2025-03", 1), ("2025-12", 1)]


def test_no_dated_papers_means_no_period() -> None:
    assert active_periods([None]) == []
    assert coauthor_groups([]) == []
