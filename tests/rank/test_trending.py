from datetime import datetime, timedelta

from paperfeed.rank import HALF_LIFE, trending_scores

NOW = datetime(2026, 11, 23, 12, 0)


def test_a_vote_is_worth_half_after_one_half_life() -> None:
    [(paper, score, votes)] = trending_scores([(1, NOW - HALF_LIFE)], NOW)
    assert (paper, votes) == (1, 1)
    assert abs(score - 0.5) < 1e-9


def test_fresh_votes_beat_more_old_votes() -> None:
    old = [(1, NOW - timedelta(days=7))] * 5      # 5 votes a week ago: 5 * 2**-4.67 = 0.2
    new = [(2, NOW - timedelta(hours=2))] * 2     # 2 votes this morning: about 1.92
    ranked = trending_scores(old + new, NOW)
    assert [p for p, _, _ in ranked] == [2, 1]
    assert ranked[1][2] == 5


def test_equal_scores_go_to_more_votes_then_newer_paper() -> None:
    ranked = trending_scores([(3, NOW), (4, NOW)], NOW)
    assert [p for p, _, _ in ranked] == [4, 3]


def test_a_vote_from_the_future_counts_as_now() -> None:
    [(_, score, _)] = trending_scores([(1, NOW + timedelta(hours=5))], NOW)
    assert score == 1.0


def test_a_burst_from_one_client_counts_once() -> None:
    from paperfeed.rank import one_per_client

    burst = [(1, NOW - timedelta(minutes=i), "ip:a") for i in range(30)]
    two = [(2, NOW, "ip:b"), (2, NOW, "user:3")]
    ranked = trending_scores(one_per_client(burst + two), NOW)
    assert [(p, n) for p, _, n in ranked] == [(2, 2), (1, 1)]
    # The burst's earliest vote is the one kept: the client cannot refresh its vote.
    [(_, at)] = one_per_client(burst)
    assert at == NOW - timedelta(minutes=29)
