"""Fusion of the two rankings."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from paperfeed.index.fusion import (
    FIXED_FUSION,
    RELATED_FUSION,
    SEARCH_FUSION,
    FusionParams,
    fuse,
    lexical_weight,
)

ranking = st.lists(
    st.tuples(st.integers(0, 50), st.floats(-5, 50, allow_nan=False)), max_size=30,
    unique_by=lambda kv: kv[0],
).map(lambda kvs: sorted(kvs, key=lambda kv: -kv[1]))


def test_convex_extremes_reproduce_each_side() -> None:
    lexical = [(1, 9.0), (2, 5.0), (3, 1.0)]
    dense = [(3, 0.9), (2, 0.5), (4, 0.4)]
    only_lexical = fuse(lexical, dense, FusionParams(alpha=1.0, norm="max"))
    assert [k for k, _ in only_lexical][:3] == [1, 2, 3]
    only_dense = fuse(lexical, dense, FusionParams(alpha=0.0, norm="max"))
    assert [k for k, _ in only_dense][:3] == [3, 2, 4]
    # min-max puts each side's last candidate level with documents it did not find
    only_dense = fuse(lexical, dense, FusionParams(alpha=0.0, norm="minmax"))
    assert [k for k, _ in only_dense][:2] == [3, 2]


def test_document_found_by_both_sides_wins() -> None:
    lexical = [(1, 10.0), (2, 9.0), (3, 1.0)]
    dense = [(4, 0.9), (2, 0.85), (5, 0.2)]
    for params in (FusionParams(method="convex", alpha=0.5), FusionParams(method="rrf")):
        assert fuse(lexical, dense, params)[0][0] == 2


def test_depth_limits_candidates() -> None:
    lexical = [(i, 100.0 - i) for i in range(50)]
    fused = fuse(lexical, [], FusionParams(depth=10, alpha=1.0))
    assert {k for k, _ in fused} == set(range(10))


@given(lexical=ranking, dense=ranking, alpha=st.floats(0, 1),
       low=st.none() | st.floats(0, 1), coverage=st.none() | st.floats(-1, 2),
       method=st.sampled_from(["convex", "rrf"]),
       norm=st.sampled_from(["max", "minmax", "zscore", "rank"]))
def test_fused_is_a_sorted_union(lexical: list[tuple[int, float]], dense: list[tuple[int, float]],
                                 alpha: float, low: float | None, coverage: float | None,
                                 method: str, norm: str) -> None:
    params = FusionParams(method=method, alpha=alpha, alpha_low=low,  # type: ignore[arg-type]
                          norm=norm)  # type: ignore[arg-type]
    fused = fuse(lexical, dense, params, coverage)
    assert {k for k, _ in fused} == {k for k, _ in lexical} | {k for k, _ in dense}
    scores = [s for _, s in fused]
    assert scores == sorted(scores, reverse=True)
    assert all(s >= -1e-9 for s in scores)
    if norm in ("max", "minmax", "rank") and method == "convex":
        assert all(s <= 1.0 + 1e-9 for s in scores)


def test_lexical_weight_follows_the_coverage_within_its_range() -> None:
    params = FusionParams(alpha=0.8, alpha_low=0.4)
    assert lexical_weight(params, 0.0) == 0.4
    assert lexical_weight(params, 1.0) == 0.8
    assert abs(lexical_weight(params, 0.5) - 0.6) < 1e-12
    # Out-of-range coverage is clipped; no coverage (or a fixed weight) means alpha.
    assert lexical_weight(params, 7.0) == 0.8
    assert lexical_weight(params, -1.0) == 0.4
    assert lexical_weight(params, None) == 0.8
    assert lexical_weight(FusionParams(alpha=0.3), 0.0) == 0.3


def test_a_coverage_band_narrows_where_the_weight_rises() -> None:
    params = FusionParams(alpha=0.8, alpha_low=0.0, coverage_band=(0.2, 0.6))
    assert lexical_weight(params, 0.1) == 0.0
    assert lexical_weight(params, 0.2) == 0.0
    assert abs(lexical_weight(params, 0.4) - 0.4) < 1e-12
    assert lexical_weight(params, 0.6) == 0.8
    assert lexical_weight(params, 0.9) == 0.8


def test_weak_lexical_evidence_lets_the_dense_list_decide() -> None:
    """The paraphrase failure: a weak BM25 list must not override a confident dense one."""
    lexical = [(1, 3.1), (3, 3.0), (5, 0.2)]  # near-ties on common words
    dense = [(2, 0.80), (4, 0.78), (1, 0.30)]
    low = fuse(lexical, dense, SEARCH_FUSION, coverage=0.0)
    high = fuse(lexical, dense, SEARCH_FUSION, coverage=1.0)
    assert [k for k, _ in low][:2] == [2, 4]
    assert high[0][0] == 1
    # The fixed weight of old ranked the lexical-only paper 1 first whatever the evidence.
    assert fuse(lexical, dense, FIXED_FUSION)[0][0] == 1


def test_zscore_and_rank_normalisations_put_missing_documents_at_the_floor() -> None:
    lexical = [(1, 9.0), (2, 5.0), (3, 1.0)]
    for norm in ("zscore", "rank"):
        fused = dict(fuse(lexical, [(9, 0.5)], FusionParams(alpha=1.0, norm=norm)))  # type: ignore[arg-type]
        assert fused[1] > fused[2] > fused[3] >= fused[9] == 0.0


def test_chosen_constants_use_the_adaptive_weight() -> None:
    for params in (SEARCH_FUSION, RELATED_FUSION):
        assert params.alpha_low is not None and params.alpha_low < params.alpha
