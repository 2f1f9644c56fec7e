"""Combining the BM25 and the embedding rankings into one.

Owns the fusion methods (reciprocal rank fusion and a convex combination of
normalised scores, with a lexical weight that may follow the query's lexical
evidence) and the chosen constants. The constants were chosen on development
queries only and reported on held-out ones (docs/decisions/evaluation.md); change
them only with a new run of `benchmarks/bench_search.py` and an update of
docs/decisions/fusion.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "FIXED_FUSION", "RELATED_FUSION", "SEARCH_FUSION", "FusionParams", "Ranked", "fuse",
    "lexical_weight",
]

# A ranking: (key, score) pairs, best first.
Ranked = Sequence[tuple[int, float]]


@dataclass(frozen=True)
class FusionParams:
    """How to fuse. `alpha` weighs the lexical side (0 = dense only, 1 = lexical only)."""

    method: Literal["convex", "rrf"] = "convex"
    alpha: float = 0.5
    # Query-adaptive weight: when set, the lexical weight runs from `alpha_low` (the
    # best BM25 hit holds none of the query's IDF mass) to `alpha` (it holds all of
    # it), linearly in that share (`coverage`, see LexicalIndex.coverage).
    alpha_low: float | None = None
    # The coverage band over which the weight rises: below its low end the weight is
    # `alpha_low`, above its high end `alpha` (0..1: linear over the whole range).
    coverage_band: tuple[float, float] = (0.0, 1.0)
    # convex only: "minmax" maps each list to [0, 1]; "max" divides by the list's best
    # score (theoretical minimum 0; negative cosines count as 0), so the last
    # candidate still scores above a document the side did not find; "zscore"
    # standardises each list (a missing document gets the list's lowest value);
    # "rank" scores 1 - rank / depth.
    norm: Literal["minmax", "max", "zscore", "rank"] = "max"
    rrf_k: float = 60.0
    # How many candidates each side contributes before fusing.
    depth: int = 100


# --- chosen constants: see docs/decisions/fusion.md and evaluation.md -----------
# Chosen by `benchmarks/bench_search.py` on development queries only (the researcher
# query set's dev part, the dev half of title->abstract and of SciFact train, CSFCube
# dev), by the mean margin over the better single method per query kind; reported on
# held-out parts.
# search: the lexical weight follows the query's lexical evidence, from 0.3 when
# the best BM25 hit holds none of the query's IDF mass to 0.9 when it holds all.
SEARCH_FUSION = FusionParams(method="convex", norm="minmax", alpha=0.9, alpha_low=0.3,
                             depth=100)
# related (query by example, CSFCube dev, nested CV over query papers): z-scores,
# lexical weight 0.2..0.7 by the same evidence.
RELATED_FUSION = FusionParams(method="convex", norm="zscore", alpha=0.7, alpha_low=0.2,
                              depth=100)
# The single fixed weight used before (issue 3), kept as the same-run baseline.
FIXED_FUSION = FusionParams(method="convex", norm="minmax", alpha=0.7, depth=100)
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


def _zscore(ranked: Ranked) -> dict[int, float]:
    if not ranked:
        return {}
    scores = [s for _, s in ranked]
    mean = sum(scores) / len(scores)
    spread = (sum((s - mean) ** 2 for s in scores) / len(scores)) ** 0.5
    if spread <= 0:
        return {key: 0.0 for key, _ in ranked}
    low = (min(scores) - mean) / spread
    # Shifted so the list's lowest is 0, the floor a missing document gets.
    return {key: (score - mean) / spread - low for key, score in ranked}


def _by_rank(ranked: Ranked, depth: int) -> dict[int, float]:
    return {key: 1.0 - rank / depth for rank, (key, _) in enumerate(ranked)}


def lexical_weight(params: FusionParams, coverage: float | None) -> float:
    """The weight of the lexical side for one query."""
    if params.alpha_low is None or coverage is None:
        return params.alpha
    low, high = params.coverage_band
    share = min(max((coverage - low) / max(high - low, 1e-9), 0.0), 1.0)
    return params.alpha_low + (params.alpha - params.alpha_low) * share


def fuse(lexical: Ranked, dense: Ranked, params: FusionParams,
         coverage: float | None = None) -> list[tuple[int, float]]:
    """One ranking from both; keys missing from a side get that side's floor.

    convex: a * norm(bm25) + (1 - a) * norm(cosine), each normalised over its own
    candidate list; a document absent from a list scores the floor (0) there.
    rrf: a / (rrf_k + rank_lexical) + (1 - a) / (rrf_k + rank_dense).
    a is `params.alpha`, or follows `coverage` when `params.alpha_low` is set.
    Ties break on the key so results are deterministic.
    """
    lexical = lexical[: params.depth]
    dense = dense[: params.depth]
    alpha = lexical_weight(params, coverage)
    fused: dict[int, float] = {}
    if params.method == "rrf":
        for weight, ranked in ((alpha, lexical), (1.0 - alpha, dense)):
            for rank, (key, _) in enumerate(ranked, start=1):
                fused[key] = fused.get(key, 0.0) + weight / (params.rrf_k + rank)
    else:
        sides = ((alpha, _normalise(lexical, params)), (1.0 - alpha, _normalise(dense, params)))
        for weight, normalised in sides:
            for key, value in normalised.items():
                fused[key] = fused.get(key, 0.0) + weight * value
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def _normalise(ranked: Ranked, params: FusionParams) -> dict[int, float]:
    if params.norm == "minmax":
        return _minmax(ranked)
    if params.norm == "zscore":
        return _zscore(ranked)
    if params.norm == "rank":
        return _by_rank(ranked, params.depth)
    return _by_max(ranked)
