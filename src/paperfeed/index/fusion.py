"""Combining the BM25 and the embedding rankings into one.

Owns the fusion methods (reciprocal rank fusion and a convex combination of
normalised scores) and the tuned constants. The constants were chosen on dev
data only (SciFact train claims, CSFCube dev queries, the seed papers); the
measurements are in docs/decisions/fusion.md. Change them only with a new run
of `benchmarks/bench_quality.py --tune` and an update of that page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["RELATED_FUSION", "SEARCH_FUSION", "FusionParams", "Ranked", "fuse"]

# A ranking: (key, score) pairs, best first.
Ranked = Sequence[tuple[int, float]]


@dataclass(frozen=True)
class FusionParams:
    """How to fuse. `alpha` weighs the lexical side (0 = dense only, 1 = lexical only)."""

    method: Literal["convex", "rrf"] = "convex"
    alpha: float = 0.5
    # convex only: "minmax" maps each list to [0, 1]; "max" divides by the list's best
    # score (theoretical minimum 0; negative cosines count as 0), so the last
    # candidate still scores above a document the side did not find.
    norm: Literal["minmax", "max"] = "max"
    rrf_k: float = 60.0
    # How many candidates each side contributes before fusing.
    depth: int = 100


# --- tuned constants: see docs/decisions/fusion.md ------------------------------
# Best mean nDCG@10 (relative to the best single method) over SciFact train,
# CSFCube dev and the seed-card queries; it beats BM25 alone and dense alone on
# each. Query by example (CSFCube) has its optimum at alpha 0.5-0.7 too, within
# noise of this one on 24 queries, so `related` uses the same constants.
SEARCH_FUSION = FusionParams(method="convex", norm="minmax", alpha=0.7, depth=100)
RELATED_FUSION = SEARCH_FUSION
# ---------------------------------------------------------------------------------


def _minmax(ranked: Ranked) -> dict[int, float]:
    if not ranked:
        return {}
    scores = [s for _, s in ranked]
    low, high = min(scores), max(scores)
    span = high - low
    if span <= 0:
        return {key: 1.0 for key, _ in ranked}
    return {key: (score - low) / span for key, score in ranked}


def _by_max(ranked: Ranked) -> dict[int, float]:
    if not ranked:
        return {}
    high = max(s for _, s in ranked)
    if high <= 0:
        return {key: 0.0 for key, _ in ranked}
    return {key: max(score, 0.0) / high for key, score in ranked}


def fuse(lexical: Ranked, dense: Ranked, params: FusionParams) -> list[tuple[int, float]]:
    """One ranking from both; keys missing from a side get that side's floor.

    convex: alpha * norm(bm25) + (1 - alpha) * norm(cosine), each normalised over
    its own candidate list; a document absent from a list scores 0 there.
    rrf: alpha / (rrf_k + rank_lexical) + (1 - alpha) / (rrf_k + rank_dense).
    Ties break on the key so results are deterministic.
    """
    lexical = lexical[: params.depth]
    dense = dense[: params.depth]
    fused: dict[int, float] = {}
    if params.method == "rrf":
        for weight, ranked in ((params.alpha, lexical), (1.0 - params.alpha, dense)):
            for rank, (key, _) in enumerate(ranked, start=1):
                fused[key] = fused.get(key, 0.0) + weight / (params.rrf_k + rank)
    else:
        norm = _minmax if params.norm == "minmax" else _by_max
        sides = ((params.alpha, norm(lexical)), (1.0 - params.alpha, norm(dense)))
        for weight, normalised in sides:
            for key, value in normalised.items():
                fused[key] = fused.get(key, 0.0) + weight * value
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
