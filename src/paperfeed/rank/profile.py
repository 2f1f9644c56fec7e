"""The personal ranker: one person's profile over paper embeddings.

Owns turning the papers a person rated (their own papers, thumbs up, saved,
thumbs down) and a background sample of other papers into a score for any
paper vector, the reason behind a score (the nearest rated paper), and the
MMR re-ranking that keeps near-duplicates apart in a feed. It never touches
the store, the index or the embedder: callers pass unit vectors, ids and
titles, and get numbers back.

The default model, chosen by leave-researchers-out cross-validation
(benchmarks/bench_recommend.py, docs/decisions/ranker.md), is the simplest
that won on held-out researchers: the mean of the two highest cosines between a
paper and the positives ("topk", k = 2). A multi-topic person is close to some
of their papers, not to their average, and two neighbours are steadier than one.
A thumbs-down subtracts `negative_penalty` times the highest cosine to a
thumbs-down paper. With a background sample the score is standardised on it, so
it reads as "standard deviations above a random paper" (the feed's follow bonus
relies on that scale); without one it is the raw cosine score.

The other methods stay for comparison and for callers who ask for them: "max",
"mean" (centroid cosine), "softmax" (a smooth maximum with a temperature),
"linear" (a class-weighted ridge classifier of the positives against the
background and the thumbs-down papers, solved in closed form) and "blend" (half
smooth max, half ridge: the ranker of issue 5). With those, an optional lexical
part (`RankerParams.lexical`) adds the log of the smooth maximum of the tf-idf
cosine to the positives, standardised on the background's tf-idf rows
(index/vocabulary.py). The issue-5 ranker built from them scored worse than
centroid cosine on researchers nobody had tuned on, and no better than the
top-2 mean in cross-validation, so the default uses neither.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt
from scipy import sparse

__all__ = [
    "DEFAULT_PARAMS",
    "SOURCE_WEIGHTS",
    "Background",
    "Method",
    "Neighbour",
    "Profile",
    "RankerParams",
    "RatedPaper",
    "Reason",
    "Source",
    "diversify",
]

FloatMatrix = npt.NDArray[np.float64]
# Unit vectors for scoring: float32 is what the index stores and halves the work.
Vectors = npt.NDArray[np.float32]
# A scoring half of the model: unit vectors in, one number per row out.
_Part = Callable[[Vectors], npt.NDArray[np.float64]]
# L2-normalised tf-idf rows, one per paper (index/vocabulary.py `Vocabulary.transform`).
TermRows: TypeAlias = sparse.csr_matrix

# Why a paper is in the profile; "down" (thumbs down) is the one negative source.
Source = Literal["own", "up", "saved", "down"]
Method = Literal["topk", "max", "mean", "softmax", "linear", "blend"]

# Weight of one positive in the linear half, by source. A saved paper says less
# than a thumbs up or an authored paper (people save to read, not because it fits).
SOURCE_WEIGHTS: Mapping[str, float] = MappingProxyType({"own": 1.0, "up": 1.0, "saved": 0.5})

_MESSAGES = {
    "own": "close to your paper “{title}”",
    "up": "because you liked “{title}”",
    "saved": "because you saved “{title}”",
    "down": "close to “{title}”, which you marked not interesting",
}
_STD_FLOOR = 1e-6
# Added to the lexical part's cosine before the log: papers sharing no word stay finite
# and bunch together instead of spreading the scale.
_LEXICAL_FLOOR = 0.01


@dataclass(frozen=True)
class RankerParams:
    """How a profile scores. The defaults are the measured choice (see module docstring);
    `method="blend", lexical=0.3` is the ranker of issue 5."""

    method: Method = "topk"
    # "topk": the mean of the `top_k` highest cosines to the positives (all of them when
    # there are fewer); 1 is the plain maximum.
    top_k: int = 2
    # Ridge penalty of the linear half, relative to class weights that sum to 1.
    ridge: float = 1e-3
    # Share of the linear half in the blend (the kNN half gets the rest).
    blend: float = 0.5
    # Temperature of the smooth maximum (log-mean-exp of cosine / temperature);
    # towards 0 it is the plain maximum, large it tends to the mean cosine.
    temperature: float = 0.05
    # kNN half: minus this times the highest cosine to a thumbs-down paper.
    negative_penalty: float = 0.5
    # Linear half: one thumbs-down weighs this many average positives.
    negative_weight: float = 1.0
    # Share of the lexical part (tf-idf cosine to the positives) when tf-idf rows are
    # given, for "softmax", "linear" and "blend"; the embedding score gets the rest.
    # 0 (the default) turns it off; the ranker of issue 5 used 0.3.
    lexical: float = 0.0
    # Temperature of the lexical part's smooth maximum over tf-idf cosines (near a max:
    # one positive sharing the rare words is enough).
    lexical_temperature: float = 0.02
    source_weights: Mapping[str, float] = field(default_factory=lambda: SOURCE_WEIGHTS)

    def __post_init__(self) -> None:
        if self.method not in ("topk", "max", "mean", "softmax", "linear", "blend"):
            raise ValueError(f"unknown method {self.method!r}")
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or self.top_k < 1:
            raise ValueError("top_k must be a positive integer")
        if not self.ridge > 0:
            raise ValueError("ridge must be positive")
        if not 0.0 <= self.blend <= 1.0:
            raise ValueError("blend must be between 0 and 1")
        if not 0.0 <= self.lexical <= 1.0:
            raise ValueError("lexical must be between 0 and 1")
        if not (self.temperature > 0 and self.lexical_temperature > 0):
            raise ValueError("temperatures must be positive")
        if self.negative_penalty < 0 or self.negative_weight < 0:
            raise ValueError("negative_penalty and negative_weight must not be negative")
        if any(not w > 0 for w in self.source_weights.values()):
            raise ValueError("source weights must be positive")

    @property
    def uses_lexical(self) -> bool:
        """True when profiles with these parameters add the lexical part (given tf-idf rows)."""
        return self.lexical > 0 and self.method in ("softmax", "linear", "blend")


DEFAULT_PARAMS = RankerParams()


@dataclass(frozen=True, eq=False)
class RatedPaper:
    """A paper in a profile: store id, title (for explanations), embedding and source.

    `terms`, its tf-idf row (1 x vocabulary), feeds the lexical part; None leaves the
    paper out of it.
    """

    id: int
    title: str
    vector: npt.ArrayLike
    source: Source = "own"
    terms: TermRows | None = None


@dataclass(frozen=True)
class Neighbour:
    """A rated paper near the one being explained."""

    id: int
    title: str
    source: Source
    similarity: float


@dataclass(frozen=True)
class Reason:
    """Why a paper scored as it did: its nearest positive, and a nearer thumbs-down if any."""

    nearest: Neighbour
    against: Neighbour | None
    message: str


def _unit_rows(matrix: npt.ArrayLike, what: str, *, allow_zero: bool) -> Vectors:
    """Rows scaled to length 1, as float32; a zero row stays zero or is refused.

    Any finite input is accepted: rows whose squared norm overflows or
    underflows are first divided by their largest entry.
    """
    array = np.asarray(matrix)
    if not np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float64)
    if array.ndim != 2:
        raise ValueError(f"{what} must be a 2-d array of vectors, got shape {array.shape}")
    squared = np.einsum("ij,ij->i", array, array)
    tiny = np.finfo(array.dtype).tiny
    awkward = ~np.isfinite(squared) | (squared < tiny)
    if awkward.any():
        rows = np.asarray(array[awkward], dtype=np.float64)
        if not np.all(np.isfinite(rows)):
            raise ValueError(f"{what} contain NaN or infinite values")
        peak = np.max(np.abs(rows), axis=1, keepdims=True) if rows.size else rows[:, :1]
        rows = rows / np.where(peak > 0, peak, 1.0)
        array = np.array(array, dtype=np.float64)
        array[awkward] = rows
        squared = np.einsum("ij,ij->i", array, array)
    norms = np.sqrt(squared)
    if not allow_zero and np.any(norms == 0):
        raise ValueError(f"{what} contain a zero vector")
    unit = array / np.where(norms > 0, norms, 1.0)[:, None]
    return np.asarray(unit, dtype=np.float32)


def _unit_term_rows(matrix: object, what: str) -> TermRows:
    """tf-idf rows as CSR of length 1 (zero rows stay zero); NaN or inf is refused.

    Rows that already have unit length (`Vocabulary.transform`'s) are used as
    they are, without a copy: the feed passes thousands per request.
    """
    try:
        rows = sparse.csr_matrix(matrix, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be a 2-d sparse or dense matrix: {exc}") from exc
    if not np.all(np.isfinite(rows.data)):
        raise ValueError(f"{what} contain NaN or infinite values")
    row_of = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
    squared = np.bincount(row_of, weights=rows.data * rows.data, minlength=rows.shape[0])
    if np.all((np.abs(squared - 1.0) < 1e-6) | (squared == 0)):
        return rows
    rows = sparse.csr_matrix(rows, copy=True)
    data = rows.data
    if not np.all(np.isfinite(squared) & ((squared == 0) | (squared > 1e-300))):
        # Divide by each row's largest entry first: huge or tiny values would overflow the norm.
        peak = np.zeros(rows.shape[0])
        np.maximum.at(peak, row_of, np.abs(data))
        data = np.divide(data, peak[row_of], out=np.zeros_like(data), where=peak[row_of] > 0)
        squared = np.bincount(row_of, weights=data * data, minlength=rows.shape[0])
    norms = np.sqrt(squared)[row_of]
    rows.data = np.divide(data, norms, out=np.zeros_like(data), where=norms > 0)
    return rows


class Background:
    """A sample of other papers' vectors, the implicit negatives of every profile.

    The weighted Gram matrix of the background is the expensive part of fitting
    the linear half; it is computed once here and shared by every profile (and
    every refit) that uses this background. `terms`, the same papers' tf-idf
    rows, lets profiles standardise (and so use) their lexical part.
    """

    def __init__(self, vectors: npt.ArrayLike, terms: object | None = None) -> None:
        self.vectors = _unit_rows(vectors, "background vectors", allow_zero=True)
        if len(self.vectors) == 0:
            raise ValueError("a background needs at least one vector")
        self.terms: TermRows | None = None
        if terms is not None:
            self.terms = _unit_term_rows(terms, "background tf-idf rows")
            if self.terms.shape[0] != len(self.vectors):
                raise ValueError("background vectors and tf-idf rows differ in length")

    def __len__(self) -> int:
        return len(self.vectors)

    @property
    def dimension(self) -> int:
        return int(self.vectors.shape[1])

    @cached_property
    def gram(self) -> FloatMatrix:
        """[X 1]ᵀ [X 1] of the background, for the closed-form ridge fit."""
        vectors = self.vectors.astype(np.float64)
        augmented = np.hstack([vectors, np.ones((len(vectors), 1))])
        return np.asarray(augmented.T @ augmented, dtype=np.float64)


def _smooth_max(
    similarities: npt.NDArray[np.floating], temperature: float
) -> npt.NDArray[np.float64]:
    """Per row: temperature * log(mean(exp(s / temperature))), computed stably."""
    scaled = similarities / temperature
    peak = scaled.max(axis=1, keepdims=True)
    mean_exp = np.exp(scaled - peak).mean(axis=1)
    return np.asarray((peak[:, 0] + np.log(mean_exp)) * temperature, dtype=np.float64)


def _top_k_mean(similarities: npt.NDArray[np.floating], k: int) -> npt.NDArray[np.float64]:
    """Per row: the mean of the k largest values (of all of them when a row has fewer)."""
    width = similarities.shape[1]
    if k >= width:
        return np.asarray(similarities.mean(axis=1), dtype=np.float64)
    # The k largest, unordered: a partition is linear in the profile size.
    top = np.partition(similarities, width - k, axis=1)[:, width - k:]
    return np.asarray(top.mean(axis=1), dtype=np.float64)


class Profile:
    """One person's ranker. Build with `Profile.fit`; refit after a rating with `with_rated`."""

    def __init__(
        self,
        rated: Sequence[RatedPaper],
        background: Background | None,
        params: RankerParams,
    ) -> None:
        self.rated = tuple(rated)
        self.background = background
        self.params = params
        if not self.rated:
            raise ValueError("a profile needs at least one positive paper (own, up or saved)")
        rows = [np.asarray(r.vector, dtype=np.float64).ravel() for r in self.rated]
        if len({len(row) for row in rows}) > 1:
            raise ValueError("rated paper vectors differ in dimension")
        matrix = _unit_rows(np.stack(rows), "rated paper vectors", allow_zero=False)
        negative = np.array([r.source == "down" for r in self.rated])
        unknown = {r.source for r in self.rated} - {"down", *params.source_weights}
        if unknown:
            raise ValueError(f"no weight for source(s) {', '.join(sorted(unknown))}")
        if negative.all():
            raise ValueError("a profile needs at least one positive paper (own, up or saved)")
        if background is not None and background.dimension != matrix.shape[1]:
            raise ValueError(
                f"background vectors have dimension {background.dimension}, "
                f"rated papers {matrix.shape[1]}"
            )
        self._positives = matrix[~negative]
        self._negatives = matrix[negative]
        self._positive_papers = [r for r in self.rated if r.source != "down"]
        self._negative_papers = [r for r in self.rated if r.source == "down"]
        self.dimension = int(matrix.shape[1])
        self._coef: Vectors | None = None
        self._intercept = 0.0
        method = params.method
        if method in ("linear", "blend") and background is None:
            if method == "linear":
                raise ValueError("the linear method needs a background sample")
            method = "softmax"  # cold start without a background: kNN alone
        self.method: Method = method
        if method in ("linear", "blend"):
            assert background is not None
            self._fit_linear(background)
        # Standardise each half by its scores over the background (identity without one).
        self._knn_scale = self._scale(self._knn)
        self._linear_scale = self._scale(self._linear) if self._coef is not None else (0.0, 1.0)
        self._positive_terms = self._fit_lexical()
        self._lexical_scale = (0.0, 1.0)
        if self._positive_terms is not None:
            assert background is not None and background.terms is not None
            values = self._lexical(background.terms)
            self._lexical_scale = float(values.mean()), max(float(values.std()), _STD_FLOOR)

    @classmethod
    def fit(
        cls,
        rated: Iterable[RatedPaper],
        background: Background | npt.ArrayLike | None = None,
        params: RankerParams = DEFAULT_PARAMS,
    ) -> Profile:
        """A profile from rated papers (at least one positive) and a background sample.

        Raises ValueError for no positive, vectors of different dimensions, a
        zero or non-finite vector, or a source with no weight.
        """
        if background is not None and not isinstance(background, Background):
            background = Background(background)
        return cls(list(rated), background, params)

    def with_rated(self, *papers: RatedPaper) -> Profile:
        """This profile refitted with more ratings; a paper rated again replaces its old rating."""
        ids = {p.id for p in papers}
        kept = [r for r in self.rated if r.id not in ids]
        return Profile([*kept, *papers], self.background, self.params)

    # --- fitting ------------------------------------------------------------------

    def _fit_linear(self, background: Background) -> None:
        """Class-weighted ridge classifier: positives +1, background and thumbs-down -1.

        The positive class and the negative class each carry half the weight, so
        20 positives are not drowned by 2,000 background papers (sklearn's
        class_weight="balanced"); within the negative class a thumbs-down
        weighs `negative_weight` average positives, the background the rest.
        """
        params = self.params
        source_w = np.array(
            [params.source_weights[r.source] for r in self._positive_papers], dtype=np.float64
        )
        pos_w = 0.5 * source_w / source_w.sum()
        n_neg = len(self._negatives)
        raw_neg = params.negative_weight * float(source_w.mean()) / float(source_w.sum())
        # Raw weight of each explicit negative relative to the whole background (1.0).
        neg_share = raw_neg * n_neg
        total_negative = 1.0 + neg_share
        bg_each = 0.5 / total_negative / len(background)
        neg_each = 0.5 * raw_neg / total_negative

        dim = self.dimension
        gram = bg_each * background.gram
        # Σ w·y·[x 1] over the background (y = -1) is the Gram's last column, scaled.
        rhs = -bg_each * background.gram[:, -1]
        for rows, weights, target in (
            (self._positives, pos_w, 1.0),
            (self._negatives, np.full(n_neg, neg_each), -1.0),
        ):
            if len(rows) == 0:
                continue
            augmented = np.hstack([rows.astype(np.float64), np.ones((len(rows), 1))])
            gram = gram + (augmented * weights[:, None]).T @ augmented
            rhs = rhs + target * (augmented * weights[:, None]).sum(axis=0)
        penalty = np.full(dim + 1, params.ridge)
        penalty[-1] = 0.0  # the intercept is not shrunk
        system = gram + np.diag(penalty)
        try:
            solution = np.linalg.solve(system, rhs)
        except np.linalg.LinAlgError:
            solution = np.linalg.lstsq(system, rhs, rcond=None)[0]
        self._coef = np.asarray(solution[:dim], dtype=np.float32)
        self._intercept = float(solution[dim])

    def _fit_lexical(self) -> TermRows | None:
        """The positives' tf-idf rows, or None when the lexical part cannot be used.

        It needs a weight, a background with tf-idf rows (to standardise on) and
        at least one positive with a row; a positive without one is a zero row.
        """
        background = self.background
        if not self.params.uses_lexical or background is None or background.terms is None:
            return None
        rows = [p.terms for p in self._positive_papers]
        if all(row is None for row in rows):
            return None
        width = background.terms.shape[1]
        stacked = sparse.vstack([
            sparse.csr_matrix((1, width)) if row is None
            else _unit_term_rows(row, "rated paper tf-idf rows") for row in rows
        ])
        if stacked.shape != (len(rows), width):
            raise ValueError(
                f"rated papers' tf-idf rows must be one row of width {width} each "
                "(the background's vocabulary)"
            )
        return sparse.csr_matrix(stacked)

    @property
    def lexical(self) -> bool:
        """True when scores given tf-idf rows include the lexical part."""
        return self._positive_terms is not None

    def _scale(self, part: _Part) -> tuple[float, float]:
        if self.background is None:
            return 0.0, 1.0
        values = part(self.background.vectors)
        return float(values.mean()), max(float(values.std()), _STD_FLOOR)

    # --- scoring ------------------------------------------------------------------

    def _knn(self, unit: Vectors) -> npt.NDArray[np.float64]:
        similarities = unit @ self._positives.T
        # "topk", "max" and "mean" are the plain kNN rankers; the others use the smooth max.
        method = self.params.method
        if method == "topk":
            score = _top_k_mean(similarities, self.params.top_k)
        elif method == "max":
            score = similarities.max(axis=1)
        elif method == "mean":
            centroid = self._positives.mean(axis=0)
            norm = float(np.linalg.norm(centroid))
            score = unit @ (centroid / norm) if norm > 0 else np.zeros(len(unit))
        else:
            score = _smooth_max(similarities, self.params.temperature)
        if len(self._negatives) and self.params.negative_penalty > 0:
            score = score - self.params.negative_penalty * (unit @ self._negatives.T).max(axis=1)
        return np.asarray(score, dtype=np.float64)

    def _linear(self, unit: Vectors) -> npt.NDArray[np.float64]:
        assert self._coef is not None
        return np.asarray(unit @ self._coef + self._intercept, dtype=np.float64)

    def _lexical(self, terms: TermRows) -> npt.NDArray[np.float64]:
        assert self._positive_terms is not None
        similarities = np.asarray((terms @ self._positive_terms.T).toarray())
        best = _smooth_max(similarities, self.params.lexical_temperature)
        return np.asarray(np.log(np.maximum(best, 0.0) + _LEXICAL_FLOOR), dtype=np.float64)

    def score(
        self, vectors: npt.ArrayLike, terms: object | None = None
    ) -> npt.NDArray[np.float64]:
        """One score per row of `vectors` (n, dimension); higher is a better fit.

        Scores compare papers within this profile; they are standardised against
        the background (0 is a typical random paper) when there is one. `terms`
        (n tf-idf rows over the background's vocabulary) adds the lexical part
        when the profile has one; without it the embedding blend scores alone.
        """
        unit = _unit_rows(vectors, "vectors", allow_zero=True)
        if unit.shape[1] != self.dimension and len(unit):
            raise ValueError(f"vectors have dimension {unit.shape[1]}, profile {self.dimension}")
        term_rows = None
        if terms is not None and self._positive_terms is not None:
            term_rows = _unit_term_rows(terms, "tf-idf rows")
            if term_rows.shape != (len(unit), self._positive_terms.shape[1]):
                raise ValueError(
                    f"tf-idf rows have shape {term_rows.shape}, expected "
                    f"({len(unit)}, {self._positive_terms.shape[1]})"
                )
        if len(unit) == 0:
            return np.zeros(0, dtype=np.float64)
        mean, std = self._knn_scale
        knn = (self._knn(unit) - mean) / std
        if self.method in ("topk", "max", "mean", "softmax"):
            embedding = knn
        else:
            mean, std = self._linear_scale
            linear = (self._linear(unit) - mean) / std
            share = self.params.blend if self.method == "blend" else 1.0
            embedding = share * linear + (1.0 - share) * knn
        if term_rows is None:
            return np.asarray(embedding, dtype=np.float64)
        mean, std = self._lexical_scale
        lexical = (self._lexical(term_rows) - mean) / std
        share = self.params.lexical
        return np.asarray((1.0 - share) * embedding + share * lexical, dtype=np.float64)

    def rank(
        self, ids: Sequence[int], vectors: npt.ArrayLike, terms: object | None = None
    ) -> list[tuple[int, float]]:
        """(id, score) pairs, best first (ties keep the given order)."""
        if len(ids) != len(np.asarray(vectors)):
            raise ValueError("ids and vectors differ in length")
        scores = self.score(vectors, terms) if len(ids) else np.zeros(0)
        order = np.argsort(-scores, kind="stable")
        return [(int(ids[i]), float(scores[i])) for i in order]

    # --- explaining ---------------------------------------------------------------

    def explain(self, vector: npt.ArrayLike) -> Reason:
        """The positive paper nearest to `vector`, and a thumbs-down nearer still if any."""
        array = np.asarray(vector, dtype=np.float64)
        if array.ndim != 1 or array.shape[0] != self.dimension:
            raise ValueError(f"expected one vector of dimension {self.dimension}")
        unit = _unit_rows(array[None, :], "vector", allow_zero=True)[0]
        pos_sims = self._positives @ unit
        best = int(np.argmax(pos_sims))
        paper = self._positive_papers[best]
        nearest = Neighbour(paper.id, paper.title, paper.source, float(pos_sims[best]))
        against = None
        if len(self._negatives):
            neg_sims = self._negatives @ unit
            worst = int(np.argmax(neg_sims))
            if neg_sims[worst] > pos_sims[best]:
                neg = self._negative_papers[worst]
                against = Neighbour(neg.id, neg.title, neg.source, float(neg_sims[worst]))
        message = _MESSAGES[paper.source].format(title=paper.title)
        if against is not None:
            message += "; but " + _MESSAGES["down"].format(title=against.title)
        return Reason(nearest=nearest, against=against, message=message)


def diversify(
    ids: Sequence[int],
    vectors: npt.ArrayLike,
    scores: npt.ArrayLike,
    k: int,
    *,
    relevance: float = 0.7,
    duplicate_threshold: float = 0.92,
) -> list[int]:
    """Up to `k` ids in feed order: maximal marginal relevance over the scored candidates.

    Each step takes the candidate with the best `relevance * score - (1 -
    relevance) * (highest cosine to the papers already taken)`, scores being
    min-max scaled to [0, 1] first so both terms share a scale. A candidate
    whose cosine to a paper already taken reaches `duplicate_threshold` is a
    near-duplicate (another version, a re-post) and is left out altogether, so
    the result can be shorter than `k` (a threshold above 1 keeps them all).
    Raises ValueError for lengths that differ, repeated ids, a negative `k` or
    parameters out of range.
    """
    if k < 0:
        raise ValueError("k must not be negative")
    if not 0.0 <= relevance <= 1.0:
        raise ValueError("relevance must be between 0 and 1")
    if not duplicate_threshold > -1.0:
        raise ValueError("duplicate_threshold must be above -1 (above 1 keeps duplicates)")
    score_array = np.asarray(scores, dtype=np.float64).ravel()
    if len(ids) != len(score_array):
        raise ValueError("ids and scores differ in length")
    if len(set(ids)) != len(ids):
        raise ValueError("ids must be unique")
    if len(ids) == 0 or k == 0:
        return []
    unit = _unit_rows(vectors, "vectors", allow_zero=True)
    if len(unit) != len(ids):
        raise ValueError("ids and vectors differ in length")
    if not np.all(np.isfinite(score_array)):
        raise ValueError("scores contain NaN or infinite values")
    low, high = float(score_array.min()), float(score_array.max())
    span = high - low
    relevance_term = (score_array - low) / span if span > 0 else np.ones_like(score_array)

    available = np.ones(len(ids), dtype=bool)
    closest = np.full(len(ids), -1.0)  # highest cosine to anything taken so far
    chosen: list[int] = []
    while len(chosen) < k and available.any():
        value = relevance * relevance_term - (1.0 - relevance) * np.maximum(closest, 0.0)
        value[~available] = -np.inf
        pick = int(np.argmax(value))
        chosen.append(pick)
        available[pick] = False
        closest = np.maximum(closest, unit @ unit[pick])
        available &= closest < duplicate_threshold
    return [int(ids[i]) for i in chosen]
