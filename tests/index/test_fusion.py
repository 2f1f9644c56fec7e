"""Fusion of the two rankings."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from paperfeed.index.fusion import FusionParams, fuse

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
       method=st.sampled_from(["convex", "rrf"]), norm=st.sampled_from(["max", "minmax"]))
def test_fused_is_a_sorted_union(lexical: list[tuple[int, float]], dense: list[tuple[int, float]],
                                 alpha: float, method: str, norm: str) -> None:
    params = FusionParams(method=method, alpha=alpha, norm=norm)  # type: ignore[arg-type]
    fused = fuse(lexical, dense, params)
    assert {k for k, _ in fused} == {k for k, _ in lexical} | {k for k, _ in dense}
    scores = [s for _, s in fused]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 + 1e-9 for s in scores) or method == "rrf"
