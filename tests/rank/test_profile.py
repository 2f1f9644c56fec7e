"""The personal ranker on synthetic vectors: no model, no store, milliseconds per test."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import sparse

from paperfeed.index.vocabulary import TfidfSettings, Vocabulary
from paperfeed.rank.profile import (
    DEFAULT_PARAMS,
    Background,
    Profile,
    RankerParams,
    RatedPaper,
    diversify,
)

DIM = 16
Matrix = npt.NDArray[np.float64]


def unit(matrix: npt.ArrayLike) -> Matrix:
    array = np.atleast_2d(np.asarray(matrix, dtype=np.float64))
    return array / np.linalg.norm(array, axis=1, keepdims=True)


def around(center: Matrix, n: int, rng: np.random.Generator, noise: float = 0.15) -> Matrix:
    """n unit vectors scattered around a unit `center`."""
    return unit(center + noise * rng.standard_normal((n, DIM)))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


@pytest.fixture
def topics(rng: np.random.Generator) -> Matrix:
    return unit(rng.standard_normal((4, DIM)))


@pytest.fixture
def background(rng: np.random.Generator) -> Background:
    return Background(unit(rng.standard_normal((300, DIM))))


def own_papers(vectors: Matrix, start: int = 1) -> list[RatedPaper]:
    return [RatedPaper(start + i, f"Paper {start + i}", v, "own") for i, v in enumerate(vectors)]


@pytest.mark.parametrize("method", ["topk", "blend", "softmax", "max", "mean", "linear"])
def test_cold_start_ranks_papers_near_your_own_first(
    method: str, rng: np.random.Generator, topics: Matrix, background: Background
) -> None:
    profile = Profile.fit(own_papers(around(topics[0], 5, rng)), background,
                          RankerParams(method=method))  # type: ignore[arg-type]
    near = around(topics[0], 5, rng)
    far = np.vstack([around(topics[1], 5, rng), around(topics[2], 5, rng),
                     unit(rng.standard_normal((10, DIM)))])
    ranked = profile.rank(list(range(25)), np.vstack([near, far]))
    assert {paper for paper, _ in ranked[:5]} == set(range(5))
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)


def test_the_default_is_the_mean_of_the_two_nearest_positives(
    rng: np.random.Generator, topics: Matrix
) -> None:
    assert (DEFAULT_PARAMS.method, DEFAULT_PARAMS.top_k, DEFAULT_PARAMS.lexical) == ("topk", 2, 0)
    positives = np.vstack([around(topics[0], 3, rng), around(topics[1], 2, rng)])
    candidates = unit(rng.standard_normal((12, DIM)))
    profile = Profile.fit(own_papers(positives))  # no background: raw scores
    cosines = np.sort(unit(candidates) @ unit(positives).T, axis=1)
    np.testing.assert_allclose(profile.score(candidates), cosines[:, -2:].mean(axis=1),
                               atol=1e-5)
    # k = 1 is the maximum; k at least the profile size is the mean cosine.
    one = Profile.fit(own_papers(positives), params=RankerParams(top_k=1))
    np.testing.assert_allclose(one.score(candidates), cosines[:, -1], atol=1e-5)
    many = Profile.fit(own_papers(positives), params=RankerParams(top_k=50))
    np.testing.assert_allclose(many.score(candidates), cosines.mean(axis=1), atol=1e-5)


def test_top_k_prefers_a_paper_near_two_positives_to_one_near_a_single_outlier(
    background: Background,
) -> None:
    # One positive stands alone on axis 2; two sit close together on axis 0.
    axes = np.eye(DIM)
    rated = own_papers(np.vstack([axes[0], unit(axes[0] + 0.1 * axes[3])[0], axes[2]]))
    near_pair = unit(axes[0] + 0.3 * axes[1])[0]
    near_outlier = unit(axes[2] + 0.2 * axes[1])[0]
    # The maximum prefers the paper by the outlier; the top-2 mean the paper by the pair.
    candidates = np.vstack([near_pair, near_outlier])
    by_max = Profile.fit(rated, background, RankerParams(method="max")).score(candidates)
    by_top2 = Profile.fit(rated, background).score(candidates)
    assert by_max[1] > by_max[0]
    assert by_top2[0] > by_top2[1]


def test_top_k_must_be_a_positive_integer() -> None:
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="top_k"):
            RankerParams(top_k=bad)  # type: ignore[arg-type]


def test_cold_start_without_background_falls_back_to_neighbours(
    rng: np.random.Generator, topics: Matrix
) -> None:
    profile = Profile.fit(own_papers(around(topics[0], 3, rng)), params=RankerParams(
        method="blend"))
    assert profile.method == "softmax"
    scores = profile.score(np.vstack([around(topics[0], 2, rng), around(topics[1], 2, rng)]))
    assert scores[:2].min() > scores[2:].max()
    # The default needs no background at all.
    assert Profile.fit(own_papers(around(topics[0], 3, rng))).method == "topk"


def test_a_thumbs_down_pushes_its_neighbours_down(
    rng: np.random.Generator, topics: Matrix, background: Background
) -> None:
    # Someone with two interests dislikes one corner of the second.
    rated = own_papers(np.vstack([around(topics[0], 4, rng), around(topics[1], 4, rng)]))
    profile = Profile.fit(rated, background)
    disliked = unit(topics[1] + 0.6 * topics[2])[0]
    neighbours = around(disliked, 5, rng, noise=0.05)
    others = np.vstack([around(topics[0], 5, rng), around(topics[1], 5, rng)])
    candidates = np.vstack([neighbours, others])
    before = profile.score(candidates)
    after_profile = profile.with_rated(RatedPaper(99, "Disliked", disliked, "down"))
    after = after_profile.score(candidates)

    def mean_rank(scores: Matrix) -> float:
        order = np.argsort(-scores)
        return float(np.mean([int(np.flatnonzero(order == i)[0]) for i in range(5)]))

    assert mean_rank(after) > mean_rank(before) + 2
    # Papers near the disliked one lose more than the rest.
    assert (before - after)[:5].mean() > (before - after)[5:].mean()


def test_rating_a_paper_again_replaces_the_old_rating(
    rng: np.random.Generator, topics: Matrix, background: Background
) -> None:
    rated = own_papers(around(topics[0], 3, rng))
    liked = RatedPaper(50, "Liked", around(topics[1], 1, rng)[0], "up")
    profile = Profile.fit([*rated, liked], background)
    changed = profile.with_rated(RatedPaper(50, "Liked", liked.vector, "down"))
    assert [r.source for r in changed.rated if r.id == 50] == ["down"]
    assert len(changed.rated) == len(profile.rated)


def test_explain_names_the_nearest_positive(
    rng: np.random.Generator, topics: Matrix, background: Background
) -> None:
    rated = [
        RatedPaper(1, "Sparse attention", topics[0], "own"),
        RatedPaper(2, "Graph transformers", topics[1], "up"),
        RatedPaper(3, "Diffusion for audio", topics[2], "saved"),
    ]
    profile = Profile.fit(rated, background)
    reason = profile.explain(around(topics[1], 1, rng, noise=0.05)[0])
    assert (reason.nearest.id, reason.nearest.title, reason.nearest.source) == (
        2, "Graph transformers", "up")
    assert 0.8 < reason.nearest.similarity <= 1.0
    assert "you liked" in reason.message and "Graph transformers" in reason.message
    assert reason.against is None
    assert "your paper" in profile.explain(topics[0]).message
    assert "you saved" in profile.explain(topics[2]).message


def test_explain_mentions_a_nearer_thumbs_down(
    topics: Matrix, background: Background
) -> None:
    profile = Profile.fit(
        [RatedPaper(1, "Mine", topics[0], "own"), RatedPaper(2, "Not for me", topics[3], "down")],
        background,
    )
    reason = profile.explain(topics[3])
    assert reason.nearest.id == 1
    assert reason.against is not None and reason.against.id == 2
    assert "not interesting" in reason.message


def test_diversify_drops_near_duplicates(rng: np.random.Generator, topics: Matrix) -> None:
    first = topics[0]
    version_2 = unit(first + 0.02 * rng.standard_normal(DIM))[0]  # same paper, new version
    other = topics[1]
    ids = [10, 11, 12]
    feed = diversify(ids, np.vstack([first, version_2, other]), [1.0, 0.99, 0.2], k=3)
    assert feed == [10, 12]


def test_diversify_interleaves_a_crowded_topic(rng: np.random.Generator, topics: Matrix) -> None:
    crowded = around(topics[0], 6, rng, noise=0.2)  # similar, not duplicates
    lone, filler = topics[1][None, :], topics[2][None, :]
    matrix = np.vstack([crowded, lone, filler])
    scores = [1.0, 0.98, 0.97, 0.96, 0.95, 0.94, 0.9, 0.0]
    feed = diversify(list(range(8)), matrix, scores, k=4, relevance=0.5)
    assert feed[:2] == [0, 6]  # the other topic comes second, not after the whole crowd
    plain = diversify(list(range(8)), matrix, scores, k=4, relevance=1.0,
                      duplicate_threshold=1.1)
    assert plain == [0, 1, 2, 3]


def test_diversify_degenerate_inputs() -> None:
    assert diversify([], np.zeros((0, DIM)), [], k=5) == []
    assert diversify([1, 2], np.eye(2), [0.5, 0.2], k=0) == []
    assert diversify([1, 2], np.eye(2), [0.5, 0.5], k=5) == [1, 2]
    with pytest.raises(ValueError, match="unique"):
        diversify([1, 1], np.eye(2), [0.5, 0.2], k=2)
    with pytest.raises(ValueError, match="length"):
        diversify([1, 2, 3], np.eye(2), [0.5, 0.2, 0.1], k=2)
    with pytest.raises(ValueError, match="negative"):
        diversify([1], np.eye(1), [0.5], k=-1)
    with pytest.raises(ValueError, match="relevance"):
        diversify([1], np.eye(1), [0.5], k=1, relevance=2.0)
    with pytest.raises(ValueError, match="NaN"):
        diversify([1], np.eye(1), [float("nan")], k=1)


def test_degenerate_profiles_raise_clear_errors(topics: Matrix, background: Background) -> None:
    with pytest.raises(ValueError, match="at least one positive"):
        Profile.fit([], background)
    with pytest.raises(ValueError, match="at least one positive"):
        Profile.fit([RatedPaper(1, "x", topics[0], "down")], background)
    with pytest.raises(ValueError, match="zero vector"):
        Profile.fit([RatedPaper(1, "x", np.zeros(DIM))], background)
    with pytest.raises(ValueError, match="NaN"):
        Profile.fit([RatedPaper(1, "x", np.full(DIM, np.nan))], background)
    with pytest.raises(ValueError, match="dimension"):
        Profile.fit([RatedPaper(1, "x", np.ones(DIM + 1))], background)
    with pytest.raises(ValueError, match="differ in dimension"):
        Profile.fit([RatedPaper(1, "x", np.ones(DIM)), RatedPaper(2, "y", np.ones(3))])
    with pytest.raises(ValueError, match="background"):
        Profile.fit([RatedPaper(1, "x", topics[0])], None, RankerParams(method="linear"))
    with pytest.raises(ValueError, match="at least one vector"):
        Background(np.zeros((0, DIM)))
    with pytest.raises(ValueError, match="method"):
        RankerParams(method="svm")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="weight"):
        Profile.fit([RatedPaper(1, "x", topics[0], "starred")], background)  # type: ignore[arg-type]


def test_scoring_nothing_or_the_wrong_shape(topics: Matrix, background: Background) -> None:
    profile = Profile.fit([RatedPaper(1, "x", topics[0])], background)
    assert profile.score(np.zeros((0, DIM))).shape == (0,)
    assert profile.rank([], np.zeros((0, DIM))) == []
    with pytest.raises(ValueError, match="dimension"):
        profile.score(np.ones((2, DIM + 3)))
    with pytest.raises(ValueError, match="2-d"):
        profile.score(np.ones(DIM))
    with pytest.raises(ValueError, match="dimension"):
        profile.explain(np.ones(DIM + 1))
    assert np.isfinite(profile.score(np.zeros((1, DIM)))).all()  # a zero vector scores, finitely


def test_linear_half_matches_a_reference_ridge(
    rng: np.random.Generator, topics: Matrix, background: Background
) -> None:
    """The closed-form fit solves the same problem as sklearn's Ridge with sample weights."""
    linear_model = pytest.importorskip("sklearn.linear_model")
    positives = around(topics[0], 6, rng)
    negative = around(topics[1], 1, rng)
    params = RankerParams(method="linear", ridge=0.01)
    profile = Profile.fit(
        [*own_papers(positives), RatedPaper(50, "no", negative[0], "down")], background, params
    )
    # The same class weights, spelled out: positives 0.5 in all; background and the
    # thumbs-down share the other 0.5, one thumbs-down weighing 1/6 of the background.
    x = np.vstack([positives, background.vectors, negative])
    y = np.r_[np.ones(6), -np.ones(len(background) + 1)]
    total_negative = 1.0 + 1.0 / 6
    w = np.r_[np.full(6, 0.5 / 6), np.full(len(background), 0.5 / total_negative / len(background)),
              [0.5 / 6 / total_negative]]
    reference = linear_model.Ridge(alpha=0.01).fit(x, y, sample_weight=w)
    expected = reference.predict(background.vectors)
    candidates = unit(rng.standard_normal((20, DIM)))
    got = profile.score(candidates)
    want = (reference.predict(candidates) - expected.mean()) / expected.std()
    np.testing.assert_allclose(got, want, atol=2e-3)


def test_saved_papers_weigh_less_than_own_papers(
    rng: np.random.Generator, topics: Matrix, background: Background
) -> None:
    params = RankerParams(method="linear")
    a, b = around(topics[0], 3, rng), around(topics[1], 3, rng)
    own_a_saved_b = Profile.fit(
        [*own_papers(a), *[RatedPaper(10 + i, "s", v, "saved") for i, v in enumerate(b)]],
        background, params)
    probe = np.vstack([topics[0], topics[1]])
    score_a, score_b = own_a_saved_b.score(probe)
    assert score_a > score_b


# --- properties -------------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300)


def vectors(rows: st.SearchStrategy[int], dim: int = 6) -> st.SearchStrategy[Matrix]:
    return rows.flatmap(lambda n: arrays(np.float64, (n, dim), elements=finite))


@settings(max_examples=60, deadline=None)
@given(
    positives=vectors(st.integers(1, 4)),
    negatives=vectors(st.integers(0, 2)),
    background_rows=vectors(st.integers(1, 12)),
    candidates=vectors(st.integers(0, 8)),
    method=st.sampled_from(["blend", "softmax", "max", "mean", "linear"]),
)
def test_scores_are_finite_for_any_finite_input(
    positives: Matrix, negatives: Matrix, background_rows: Matrix, candidates: Matrix,
    method: str,
) -> None:
    assume(np.all(np.abs(positives).max(axis=1) > 0))
    assume(len(negatives) == 0 or np.all(np.abs(negatives).max(axis=1) > 0))
    rated = [RatedPaper(i, "p", v) for i, v in enumerate(positives)]
    rated += [RatedPaper(100 + i, "n", v, "down") for i, v in enumerate(negatives)]
    profile = Profile.fit(rated, background_rows,
                          RankerParams(method=method))  # type: ignore[arg-type]
    scores = profile.score(candidates)
    assert scores.shape == (len(candidates),)
    assert np.all(np.isfinite(scores))
    for row in candidates[:2]:
        assert np.isfinite(profile.explain(row).nearest.similarity)


@settings(max_examples=80, deadline=None)
@given(
    data=st.data(),
    n=st.integers(0, 12),
    k=st.integers(0, 15),
    relevance=st.floats(0.0, 1.0),
    threshold=st.floats(-0.99, 1.5),
)
def test_diversify_returns_unique_ids_at_most_k(
    data: st.DataObject, n: int, k: int, relevance: float, threshold: float
) -> None:
    ids = data.draw(st.lists(st.integers(-1000, 1000), min_size=n, max_size=n, unique=True))
    matrix = data.draw(arrays(np.float64, (n, 4), elements=finite))
    scores = data.draw(arrays(np.float64, (n,), elements=st.floats(-1e6, 1e6)))
    feed = diversify(ids, matrix, scores, k, relevance=relevance, duplicate_threshold=threshold)
    assert len(feed) <= k
    assert len(set(feed)) == len(feed)
    assert set(feed) <= set(ids)
    # No two papers in the feed are near-duplicates of each other.
    peak = np.abs(matrix).max(axis=1, keepdims=True) if n else np.ones((0, 1))
    scaled = matrix / np.where(peak > 0, peak, 1.0)
    norms = np.linalg.norm(scaled, axis=1, keepdims=True)
    rows = scaled / np.where(norms > 0, norms, 1.0)
    position = {paper: i for i, paper in enumerate(ids)}
    for i, a in enumerate(feed):
        for b in feed[i + 1:]:
            assert float(rows[position[a]] @ rows[position[b]]) < threshold + 1e-5


# --- the lexical part: tf-idf rows over a corpus vocabulary -------------------------------

LEXICAL_TEXTS = [
    "Lidar point clouds for autonomous driving.",
    "Lidar odometry and mapping for mobile robots.",
    "Image classification with convolutional networks.",
    "Language models for machine translation.",
    "Reinforcement learning for robot control.",
    "Graph neural networks for molecules.",
    "Speech recognition with transformers.",
    "Image segmentation with transformers.",
]


# The ranker of issue 5: the lexical part is an option of the blend, off by default.
ISSUE5 = RankerParams(method="blend", lexical=0.3)


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return Vocabulary.fit(LEXICAL_TEXTS * 3, settings=TfidfSettings(min_df=1))


def lexical_background(vocabulary: Vocabulary, n: int = 300) -> Background:
    rng = np.random.default_rng(11)
    texts = [LEXICAL_TEXTS[i % len(LEXICAL_TEXTS)] for i in range(n)]
    return Background(unit(rng.standard_normal((n, DIM))), vocabulary.transform(texts))


def lexical_profile(vocabulary: Vocabulary, background: Background, topic: Matrix,
                    rng: np.random.Generator, params: RankerParams = ISSUE5) -> Profile:
    texts = ["Lidar semantic segmentation of point clouds.",
             "Lidar-based localisation in urban scenes."]
    terms = vocabulary.transform(texts)
    papers = [RatedPaper(i + 1, t, v, "own", terms[i])
              for i, (t, v) in enumerate(zip(texts, around(topic, 2, rng), strict=True))]
    return Profile.fit(papers, background, params)


def test_a_candidate_sharing_rare_words_with_the_positives_rises(
    vocabulary: Vocabulary, rng: np.random.Generator, topics: Matrix
) -> None:
    profile = lexical_profile(vocabulary, lexical_background(vocabulary), topics[0], rng)
    assert profile.lexical
    # Two candidates with the same embedding: only their words differ.
    vector = around(topics[0], 1, rng)
    vectors = np.vstack([vector, vector])
    terms = vocabulary.transform(["Lidar point clouds in the rain.",
                                  "Speech recognition in the rain."])
    with_words = profile.score(vectors, terms)
    assert with_words[0] > with_words[1]
    embeddings_only = profile.score(vectors)
    assert embeddings_only[0] == pytest.approx(embeddings_only[1])
    # Among papers of other topics, the one that says "lidar" is ranked above the others.
    others = np.vstack([around(topics[1], 6, rng), vector])
    texts = ["Graph neural networks for molecules."] * 5 + [
        "Lidar mapping with graph neural networks.", "Speech recognition with transformers."]
    ranked = profile.rank(list(range(7)), others, vocabulary.transform(texts))
    before = [i for i, _ in profile.rank(list(range(7)), others)]
    after = [i for i, _ in ranked]
    assert after.index(5) < before.index(5)


def test_without_tf_idf_rows_the_score_is_the_embedding_blend(
    vocabulary: Vocabulary, rng: np.random.Generator, topics: Matrix
) -> None:
    background = lexical_background(vocabulary)
    profile = lexical_profile(vocabulary, background, topics[0], np.random.default_rng(1))
    plain = Profile.fit([RatedPaper(p.id, p.title, p.vector) for p in profile.rated],
                        Background(background.vectors), RankerParams(method="blend"))
    off = lexical_profile(vocabulary, background, topics[0], np.random.default_rng(1),
                          RankerParams(method="blend", lexical=0.0))
    candidates = unit(rng.standard_normal((20, DIM)))
    terms = vocabulary.transform(LEXICAL_TEXTS * 2 + ["", "lidar", "", ""])
    assert not plain.lexical and not off.lexical
    # float32 vectors normalised twice differ in the last bits.
    np.testing.assert_allclose(profile.score(candidates), plain.score(candidates), atol=1e-5)
    np.testing.assert_allclose(plain.score(candidates, terms), plain.score(candidates))
    np.testing.assert_allclose(off.score(candidates, terms), plain.score(candidates), atol=1e-5)


def test_the_lexical_part_is_standardised_on_the_background(
    vocabulary: Vocabulary, rng: np.random.Generator, topics: Matrix
) -> None:
    background = lexical_background(vocabulary)
    profile = lexical_profile(vocabulary, background, topics[0], rng,
                              RankerParams(method="blend", lexical=1.0))
    scores = profile.score(background.vectors, background.terms)
    assert scores.mean() == pytest.approx(0.0, abs=1e-9)
    assert scores.std() == pytest.approx(1.0, abs=1e-6)


def test_refits_keep_the_lexical_part(
    vocabulary: Vocabulary, rng: np.random.Generator, topics: Matrix
) -> None:
    profile = lexical_profile(vocabulary, lexical_background(vocabulary), topics[0], rng)
    down = RatedPaper(99, "Speech", around(topics[2], 1, rng)[0], "down")
    liked = RatedPaper(98, "Mapping", around(topics[0], 1, rng)[0], "up")  # no tf-idf row
    refitted = profile.with_rated(down, liked)
    assert refitted.lexical
    terms = vocabulary.transform(["lidar", "speech"])
    assert np.all(np.isfinite(refitted.score(unit(rng.standard_normal((2, DIM))), terms)))


def test_the_lexical_part_needs_background_rows_and_a_positive_row(
    vocabulary: Vocabulary, rng: np.random.Generator, topics: Matrix, background: Background
) -> None:
    # A background without tf-idf rows: nothing to standardise on, so no lexical part.
    assert not lexical_profile(vocabulary, background, topics[0], rng).lexical
    # No positive with a row.
    bare = Profile.fit(own_papers(around(topics[0], 2, rng)), lexical_background(vocabulary),
                       ISSUE5)
    assert not bare.lexical
    # Cold start without a background, and the plain kNN baselines, stay embeddings only.
    assert not Profile.fit(
        [RatedPaper(1, "x", topics[0], "own", vocabulary.transform(["lidar"]))],
        params=ISSUE5).lexical
    assert not lexical_profile(vocabulary, lexical_background(vocabulary), topics[0], rng,
                               RankerParams(method="max", lexical=0.3)).lexical
    # The default ranker (top-2 mean) has no lexical part even when rows are there.
    assert not lexical_profile(vocabulary, lexical_background(vocabulary), topics[0], rng,
                               DEFAULT_PARAMS).lexical


def test_bad_tf_idf_rows_raise_clear_errors(
    vocabulary: Vocabulary, rng: np.random.Generator, topics: Matrix
) -> None:
    background = lexical_background(vocabulary)
    profile = lexical_profile(vocabulary, background, topics[0], rng)
    vectors = unit(rng.standard_normal((2, DIM)))
    with pytest.raises(ValueError, match="tf-idf rows have shape"):
        profile.score(vectors, vocabulary.transform(["lidar"]))  # one row for two vectors
    with pytest.raises(ValueError, match="tf-idf rows have shape"):
        profile.score(vectors, sparse.csr_matrix((2, len(vocabulary) + 1)))
    with pytest.raises(ValueError, match="NaN"):
        profile.score(vectors, sparse.csr_matrix(np.full((2, len(vocabulary)), np.nan)))
    with pytest.raises(ValueError, match="differ in length"):
        Background(background.vectors, background.terms[:10])
    with pytest.raises(ValueError, match="width"):
        Profile.fit([RatedPaper(1, "x", topics[0], "own", sparse.csr_matrix((1, 3)))],
                    background, ISSUE5)
    with pytest.raises(ValueError, match="lexical"):
        RankerParams(lexical=1.5)
    with pytest.raises(ValueError, match="temperatures"):
        RankerParams(lexical_temperature=0.0)


@settings(max_examples=60, deadline=None)
@given(
    weights=arrays(np.float64, (6, 5), elements=st.floats(0, 1e6) | st.just(0.0)),
    share=st.floats(0.0, 1.0),
)
def test_lexical_scores_are_finite_for_any_nonnegative_rows(
    weights: Matrix, share: float
) -> None:
    rng = np.random.default_rng(5)
    background = Background(unit(rng.standard_normal((40, DIM))),
                            sparse.csr_matrix(rng.random((40, 5))))
    rated = [RatedPaper(i, "", unit(rng.standard_normal(DIM))[0], "own",
                        sparse.csr_matrix(weights[i])) for i in range(2)]
    profile = Profile.fit(rated, background, RankerParams(method="blend", lexical=share))
    scores = profile.score(unit(rng.standard_normal((4, DIM))), weights[2:])
    assert scores.shape == (4,) and np.all(np.isfinite(scores))
