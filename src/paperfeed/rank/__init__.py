"""Ranking papers: trending by decayed votes now; the personal feed's ranker later."""

from paperfeed.rank.trending import HALF_LIFE, WINDOWS, trending_scores

__all__ = ["HALF_LIFE", "WINDOWS", "trending_scores"]
