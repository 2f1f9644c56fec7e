"""Ranking papers: trending by decayed votes, and each user's personal feed.

`trending` scores votes; `profile` is the per-user model over embeddings
(own papers, ratings, saved papers against a background sample) with reasons
and diversification; `feed` gathers a user's profile from the store and turns
the newest papers into `picks` for the feed page, the digest and Atom feeds.
"""

from paperfeed.rank.picks import Pick, PickSource
from paperfeed.rank.profile import Background, Profile, RankerParams, RatedPaper, Reason, diversify
from paperfeed.rank.trending import HALF_LIFE, WINDOWS, one_per_client, trending_scores

__all__ = ["HALF_LIFE", "WINDOWS", "Background", "Pick", "PickSource", "Profile", "RankerParams",
           "RatedPaper", "Reason", "diversify", "one_per_client", "trending_scores"]
