from hypothesis import given
from hypothesis import strategies as st

from paperfeed.rank.terms import document_frequencies, shared_terms, words


def test_words_drop_stop_words_and_add_pairs() -> None:
    assert words("The Gaussian splatting of LiDAR scans") == [
        "gaussian", "splatting", "lidar", "scans", "gaussian splatting", "splatting lidar",
        "lidar scans"]


def test_shared_terms_prefer_rare_words_the_user_uses() -> None:
    ranked = ["a model for lidar point clouds", "a model for images", "a model for text",
              "gaussian splatting model for lidar"]
    df, n = document_frequencies(ranked)
    own = ["lidar gaussian splatting for driving", "gaussian splatting in robotics"]
    terms = shared_terms("gaussian splatting model for lidar", own, df, n)
    # "model" is in every ranked paper and in none of the user's: never named.
    assert terms[0] == "gaussian splatting" and "lidar" in terms and "model" not in terms
    assert "gaussian" not in terms  # the pair names the idea once


def test_nothing_shared_means_no_terms() -> None:
    df, n = document_frequencies(["x y z"])
    assert shared_terms("quantum annealing", ["protein folding"], df, n) == []


@given(st.text(max_size=300), st.lists(st.text(max_size=200), max_size=4))
def test_shared_terms_never_fail(pick: str, own: list[str]) -> None:
    df, n = document_frequencies([pick, *own])
    assert len(shared_terms(pick, own, df, n)) <= 3
