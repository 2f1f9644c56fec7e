"""Recommendation quality of paperfeed's personal ranker (paperfeed.rank.profile).

Owns the measurements behind the ranker's model choice and its comparison
with simple baselines; prints markdown tables. Two tasks:

a. Reviewer gold standard (Stelmakh, Wieting, Xi, Neubig, Shah: "A Gold
   Standard Dataset for the Reviewer Assignment Problem", arXiv:2303.16750,
   TMLR 2025; data github.com/niharshah/goldstandard-reviewer-paper-match).
   Researchers rated 1-5 their expertise to review papers they had read. As in
   the paper's main evaluation, each researcher's profile is their 20 most
   recent papers with a title, abstract and year (ties in year broken at
   random), drawn 10 times and the results averaged; the profile scores the
   papers they rated. Metric, exactly as the authors' scripts/scoring.py:

       loss = Σ_r Σ_{pairs p<q rated by r} |e_p - e_q| · 1[ŝ_p, ŝ_q ordered against e_p, e_q]
              / Σ_r Σ_{pairs} |e_p - e_q|

   where e is the reported expertise and ŝ the predicted score; a tie in ŝ
   costs half (|e_p - e_q| / 2); pairs with e_p = e_q cost nothing. Lower is
   better; 0.5 is chance. Pooled over all researchers (a ratio of sums), then
   averaged over the profile draws. Also: Kendall's tau-b between scores and
   expertise per researcher (scipy), averaged over researchers and draws.
   The paper's figures (title+abstract, all 58 researchers) are printed as
   "reported"; this split has only some of the researchers, so they are a
   guide, not a like-for-like comparison.

b. Leave-group-out on seed publication lists (one research group per file).
   For each group and split (seeded), `--profile-papers` of its papers form the
   profile and the rest are mixed into the whole corpus of the data directory
   (74,728 arXiv papers by default; stored vectors, no re-embedding). Metrics
   over all corpus + held-out candidates: Recall@50 (share of held-out papers
   in the top 50) and MRR (1 / rank of the first held-out paper), averaged
   over splits. The seed papers are not in the corpus otherwise (checked and
   printed). A group's papers span several topics, so absolute numbers are low.

paperfeed runs as shipped (rank/profile.py defaults). The issue-5 ranker, kept
for reference, adds a lexical part whose tf-idf rows come from one corpus
vocabulary (paperfeed.index.vocabulary, the settings `Catalog.vocabulary()`
uses) fitted on the corpus papers plus the gold-standard and seed papers, as a
store holding a user's papers and the candidates would be; like the tf-idf
baseline's idf, it sees texts, never ratings.

Baselines, run in the same process on the same profiles: BM25 (bm25s, the
candidate as query against each profile paper, best match), tf-idf cosine
(scikit-learn, best match, idf over the task's own texts; skipped without it),
mean-embedding cosine and max-embedding cosine.

Choosing (issue 12): a small grid of 0- and 1-knob embedding models (mean, max,
smooth max over T, top-k mean over k, mean/max mix; 13 configurations) is
scored per researcher once; benchmarks/ranker_cv.py then chooses each grid on
training folds of researchers and scores the held-out fold (5 folds x 3 seeds,
benchmarks/splits/reviewer-dev-folds.json, used when it covers exactly the
researchers of --evaluations, else made afresh from the same seeds), and the
seed task chooses on one group and scores the other. paperfeed's configuration
is what its rule (lowest pooled loss over the 13) picks on all 29 dev
researchers; the tables print chosen-on and held-out figures, the gap and the
baselines on the same folds. On another evaluations file (held-out
researchers), the first table is paperfeed against the baselines on
researchers nobody chose on.

    python benchmarks/bench_recommend.py \\
        --evaluations ../shared/data/reviewer-goldstandard/evaluations.tsv \\
        --participants ../shared/data/reviewer-goldstandard/participants.jsonl \\
        --papers ../shared/data/reviewer-goldstandard/papers.jsonl \\
        --seeds ../shared/data/seeds/000_*.txt ../shared/data/seeds/003_*.txt

Embeddings of the gold-standard and seed papers are cached in
benchmarks/.cache/embeddings.sqlite; the corpus vectors come from the index.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

sys.path.insert(0, str(Path(__file__).resolve().parent))

import beir  # benchmarks/beir.py: the shared embedding cache
import ranker_cv  # benchmarks/ranker_cv.py: folds over researchers, choice rules
from paperfeed.catalog import Catalog
from paperfeed.embed import paper_text
from paperfeed.embed.train import read_jsonl
from paperfeed.index.vocabulary import Vocabulary
from paperfeed.rank.profile import (
    DEFAULT_PARAMS,
    Background,
    Profile,
    RankerParams,
    RatedPaper,
)
from paperfeed.sources import read_records
from ranker_cv import Family, FoldPlan

os.environ.setdefault("HF_HUB_OFFLINE", "1")

Vectors = npt.NDArray[np.float32]
Scores = npt.NDArray[np.float64]

# Stelmakh et al., title+abstract regime, all 58 researchers, profiles of 20 papers.
# Table 3 of arXiv:2303.16750v1 (TPMS ... ACL); the SPECTER2 / SciNCL rows were run by
# the OpenReview team with the authors' data and scripts (openreview-expertise README,
# "Performance", which reproduces the table). Loss, lower is better.
REPORTED = [
    ("TPMS (tf-idf)", 0.28, "paper, Table 3"),
    ("OpenReview ELMo", 0.34, "paper, Table 3"),
    ("SPECTER", 0.27, "paper, Table 3"),
    ("SPECTER+MFR", 0.24, "paper, Table 3 (best in v1)"),
    ("ACL reviewer matching", 0.30, "paper, Table 3"),
    ("SPECTER2", 0.22, "OpenReview, same scripts"),
    ("SciNCL", 0.22, "OpenReview, same scripts"),
    ("SPECTER2+SciNCL", 0.21, "OpenReview, same scripts (best reported)"),
]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- scorers: (profile vectors, profile doc indices, candidate vectors, candidate doc
# --- indices, background) -> scores ---------------------------------------------------


@dataclass
class Task:
    """What a scorer may use: vectors, the lexical models' doc rows, the background,
    and tf-idf rows over the corpus vocabulary (paperfeed's lexical part)."""

    profile: Vectors
    profile_docs: list[int]
    candidates: Vectors
    candidate_docs: list[int] | None  # None: candidates are the whole lexical index
    background: Background  # with the corpus vocabulary's tf-idf rows
    profile_terms: Any
    candidate_terms: Any


Scorer = Callable[[Task], Scores]


def profile_scorer(params: RankerParams) -> Scorer:
    def score(task: Task) -> Scores:
        rated = [RatedPaper(i, "", v, terms=task.profile_terms[i])
                 for i, v in enumerate(task.profile)]
        return Profile.fit(rated, task.background, params).score(
            task.candidates, task.candidate_terms)
    return score


def background_of(corpus: Vectors, corpus_terms: Any, rows: npt.NDArray[np.int64]) -> Background:
    rows = np.sort(rows)
    return Background(corpus[rows], corpus_terms[rows])


def mean_cosine(task: Task) -> Scores:
    centroid = task.profile.mean(axis=0)
    return np.asarray(task.candidates @ (centroid / np.linalg.norm(centroid)), dtype=np.float64)


def max_cosine(task: Task) -> Scores:
    return np.asarray((task.candidates @ task.profile.T).max(axis=1), dtype=np.float64)


class Lexical:
    """BM25 (bm25s) and tf-idf (scikit-learn, if installed) over one list of texts."""

    def __init__(self, texts: Sequence[str]) -> None:
        import bm25s
        import Stemmer

        self._bm25s = bm25s
        self._stemmer = Stemmer.Stemmer("english")
        tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=self._stemmer,
                                show_progress=False)
        self.bm25 = bm25s.BM25()
        self.bm25.index(tokens, show_progress=False)
        self.query_tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=self._stemmer,
                                           return_ids=False, show_progress=False)
        self.tfidf: Any = None
        try:
            from sklearn.feature_extraction.text import TfidfVectorizer
        except ImportError:
            log("scikit-learn not installed: the tf-idf baseline is skipped")
        else:
            self.tfidf = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit_transform(
                texts)

    def bm25_scorer(self, task: Task) -> Scores:
        """Best BM25 match: each profile paper's text as a query, max over them.

        In task a the candidates are few and the profile long, so the candidate
        is the query and the profile papers the documents (same max, other side).
        """
        if task.candidate_docs is None:  # rank the whole index
            best = None
            for doc in task.profile_docs:
                scores = self.bm25.get_scores(self.query_tokens[doc])
                best = scores if best is None else np.maximum(best, scores)
            assert best is not None
            return np.asarray(best, dtype=np.float64)
        out = []
        for doc in task.candidate_docs:
            scores = self.bm25.get_scores(self.query_tokens[doc])
            out.append(float(np.max(scores[task.profile_docs])))
        return np.asarray(out, dtype=np.float64)

    def tfidf_scorer(self, task: Task) -> Scores:
        """Best tf-idf cosine between the candidate and a profile paper."""
        profile = self.tfidf[task.profile_docs]
        candidates = self.tfidf if task.candidate_docs is None else self.tfidf[task.candidate_docs]
        return np.asarray((candidates @ profile.T).max(axis=1).toarray().ravel(), dtype=np.float64)


def smooth_max_scorer(temperature: float) -> Scorer:
    """T · log mean exp(cosine / T) over the profile: the max as T -> 0, the mean cosine as
    T grows."""
    def score(task: Task) -> Scores:
        scaled = (task.candidates @ task.profile.T).astype(np.float64) / temperature
        peak = scaled.max(axis=1, keepdims=True)
        return np.asarray(temperature * (peak[:, 0] + np.log(np.exp(scaled - peak).mean(axis=1))),
                          dtype=np.float64)
    return score


def top_k_scorer(k: int) -> Scorer:
    """Mean of the k highest cosines to profile papers (k = 1 is the max)."""
    def score(task: Task) -> Scores:
        sims = np.sort(task.candidates @ task.profile.T, axis=1)[:, ::-1]
        return np.asarray(sims[:, :k].mean(axis=1), dtype=np.float64)
    return score


def mix_scorer(mean_share: float) -> Scorer:
    """mean_share · centroid cosine + (1 - mean_share) · max cosine."""
    def score(task: Task) -> Scores:
        return mean_share * mean_cosine(task) + (1.0 - mean_share) * max_cosine(task)
    return score


# The ranker of issue 5 (blend of smooth max and ridge, plus the lexical part), tuned on all
# 29 dev researchers and both dev seed groups: kept to be compared, never to be chosen.
PREVIOUS_PARAMS = RankerParams(method="blend", ridge=1e-3, blend=0.5, temperature=0.05,
                               negative_penalty=0.5, negative_weight=1.0, lexical=0.3,
                               lexical_temperature=0.02)
PRODUCT = "paperfeed (rank/profile.py defaults)"
TFIDF = "tf-idf cosine (best profile match)"
BM25 = "BM25 (best profile match)"
MEAN = "mean-embedding cosine"
MAX = "max-embedding cosine"
TEMPERATURES = (0.02, 0.05, 0.1, 0.2)
TOP_K = (2, 3, 5, 10)
MEAN_SHARES = (0.25, 0.5, 0.75)


def method_grid(lexical: Lexical, with_candidates: bool) -> tuple[list[Family], dict[str, Scorer]]:
    """The families compared (baselines are one-configuration families) and every scorer.

    The grid was fixed before any of it was run: 0- and 1-knob embedding models (13
    configurations with mean and max cosine), the previous ranker for reference, and the
    baselines.
    """
    scorers: dict[str, Scorer] = {
        PRODUCT: profile_scorer(DEFAULT_PARAMS),
        MEAN: mean_cosine,
        MAX: max_cosine,
        BM25: lexical.bm25_scorer,
    }
    families = [Family(MEAN, 0, (MEAN,), baseline=True), Family(MAX, 0, (MAX,), baseline=True),
                Family(BM25, 0, (BM25,), baseline=True)]
    if lexical.tfidf is not None:
        scorers[TFIDF] = lexical.tfidf_scorer
        families.append(Family(TFIDF, 0, (TFIDF,), baseline=True))
    if not with_candidates:
        return families, scorers
    smooth = {f"smooth max T={t:g}": smooth_max_scorer(t) for t in TEMPERATURES}
    top = {f"top-{k} mean": top_k_scorer(k) for k in TOP_K}
    mix = {f"mean/max mix {a:g}·mean": mix_scorer(a) for a in MEAN_SHARES}
    previous = {"previous ranker (issue 5: blend + lexical 0.3)": profile_scorer(PREVIOUS_PARAMS)}
    previous_emb = {"previous ranker without its lexical part":
                    profile_scorer(replace(PREVIOUS_PARAMS, lexical=0.0))}
    scorers |= smooth | top | mix | previous | previous_emb
    families += [
        Family("smooth max, T in " + "/".join(f"{t:g}" for t in TEMPERATURES), 1, tuple(smooth)),
        Family("top-k mean, k in " + "/".join(map(str, TOP_K)), 1, tuple(top)),
        Family("mean/max mix, mean share in " + "/".join(f"{a:g}" for a in MEAN_SHARES), 1,
               tuple(mix)),
        Family("previous ranker (issue 5)", 0, tuple(previous), tuned_on_dev=True),
        Family("previous ranker without lexical part", 0, tuple(previous_emb),
               tuned_on_dev=True),
    ]
    return families, scorers


# --- task a: the reviewer gold standard -------------------------------------------------


def task_texts(args: argparse.Namespace) -> list[str]:
    """Every gold-standard and seed paper's text: in a store they would be stored papers."""
    texts = [paper_text(p.get("title") or "", p.get("abstract") or "")
             for p in read_jsonl(args.papers)]
    for path in args.seeds:
        texts += [paper_text(r.title, r.abstract) for r in read_records(path) if r.abstract]
    return texts


def pair_loss(scores: dict[str, float], expertise: dict[str, float]) -> tuple[float, float]:
    """(loss, maximum loss) of one researcher, as in the authors' compute_main_metric."""
    loss = worst = 0.0
    for p, q in itertools.combinations(list(expertise), 2):
        predicted = scores[p] - scores[q]
        true = expertise[p] - expertise[q]
        worst += abs(true)
        if predicted * true == 0:
            loss += abs(true) / 2
        elif predicted * true < 0:
            loss += abs(true)
    return loss, worst


def kendall(scores: dict[str, float], expertise: dict[str, float]) -> float:
    from scipy.stats import kendalltau

    papers = list(expertise)
    result = kendalltau([scores[p] for p in papers], [expertise[p] for p in papers])
    return float(result.statistic)


@dataclass
class GoldResult:
    loss: float
    loss_ci: tuple[float, float]
    tau: float
    per_researcher: dict[str, tuple[float, float]]
    # Loss of each bootstrap resample of researchers (the same resamples for every method).
    resampled: npt.NDArray[np.float64]

    def difference_ci(self, other: GoldResult) -> tuple[float, float]:
        """95% paired-bootstrap interval of this loss minus the other's."""
        diff = self.resampled - other.resampled
        return float(np.percentile(diff, 2.5)), float(np.percentile(diff, 97.5))


def run_gold(
    args: argparse.Namespace, corpus: Vectors, corpus_terms: Any, vocabulary: Vocabulary,
    embedder: beir.CachedEmbedder, with_candidates: bool,
) -> tuple[dict[str, GoldResult], list[Family], int]:
    # Each record was one file named by its Semantic Scholar id (kept as "_file_id").
    papers = {str(p.get("_file_id") or p.get("ssId")): p for p in read_jsonl(args.papers)}
    participants = {str(p["authorId"]): p for p in read_jsonl(args.participants)}
    with args.evaluations.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))

    def has_text(pid: str) -> bool:
        paper = papers.get(pid) or {}
        return bool(paper.get("title") and paper.get("abstract"))

    refs: dict[str, dict[str, float]] = {}
    dropped = 0
    for row in rows:
        researcher = str(row["ParticipantID"])
        rated = {}
        for i in range(1, 11):
            pid, value = row.get(f"Paper{i}") or "", row.get(f"Expertise{i}") or ""
            if pid and value:
                if has_text(pid):
                    rated[pid] = float(value)
                else:
                    dropped += 1
        if researcher in participants and len(rated) >= 2:
            refs[researcher] = rated
    own: dict[str, list[str]] = {}
    for researcher in refs:
        ids = {p["paperId"] for p in participants[researcher]["papers"]}
        own[researcher] = sorted(p for p in ids if has_text(p) and papers[p].get("year"))
    refs = {r: e for r, e in refs.items() if own[r]}

    needed = sorted({p for r in refs for p in own[r]} | {p for e in refs.values() for p in e})
    log(f"gold standard: {len(refs)} researchers, {sum(map(len, refs.values()))} ratings, "
        f"embedding {len(needed)} papers (cached after the first run)")
    vectors = embedder.encode([paper_text(papers[p]["title"], papers[p]["abstract"])
                               for p in needed])
    row_of = {p: i for i, p in enumerate(needed)}
    texts = [paper_text(papers[p]["title"], papers[p]["abstract"]) for p in needed]
    lexical = Lexical(texts)
    terms = vocabulary.transform(texts)

    families, methods = method_grid(lexical, with_candidates)

    per_draw: dict[str, list[dict[str, tuple[float, float]]]] = {m: [] for m in methods}
    taus: dict[str, list[float]] = {m: [] for m in methods}
    for draw in range(args.draws):
        rng = random.Random(args.seed + draw)
        sample = np.random.default_rng(args.seed + draw).choice(
            len(corpus), min(args.background, len(corpus)), replace=False)
        background = background_of(corpus, corpus_terms, sample)
        results: dict[str, dict[str, tuple[float, float]]] = {m: {} for m in methods}
        for researcher, expertise in refs.items():
            # The authors' profile: most recent first, ties in year broken at random.
            ranked = sorted(own[researcher],
                            key=lambda p: papers[p]["year"] + rng.uniform(0, 0.001), reverse=True)
            chosen = ranked[: args.profile_size]
            rated = list(expertise)
            task = Task(
                profile=vectors[[row_of[p] for p in chosen]],
                profile_docs=[row_of[p] for p in chosen],
                candidates=vectors[[row_of[p] for p in rated]],
                candidate_docs=[row_of[p] for p in rated],
                background=background,
                profile_terms=terms[[row_of[p] for p in chosen]],
                candidate_terms=terms[[row_of[p] for p in rated]],
            )
            for name, scorer in methods.items():
                scores = dict(zip(rated, scorer(task).tolist(), strict=True))
                results[name][researcher] = pair_loss(scores, expertise)
                tau = kendall(scores, expertise)
                if not np.isnan(tau):
                    taus[name].append(tau)
        for name in methods:
            per_draw[name].append(results[name])
        log(f"  draw {draw + 1}/{args.draws} done")

    out: dict[str, GoldResult] = {}
    boot = np.random.default_rng(args.seed)
    researchers = list(refs)
    resamples = [boot.choice(len(researchers), len(researchers)) for _ in range(args.bootstrap)]
    for name in methods:
        draws = per_draw[name]
        loss = statistics.fmean(
            sum(d[r][0] for r in d) / sum(d[r][1] for r in d) for d in draws)
        # Per researcher, loss and maximum averaged over draws; bootstrap over researchers.
        mean_pairs = {r: (statistics.fmean(d[r][0] for d in draws),
                          statistics.fmean(d[r][1] for d in draws)) for r in researchers}
        lo_hi = np.array([mean_pairs[r] for r in researchers])
        stats = np.array([lo_hi[idx, 0].sum() / lo_hi[idx, 1].sum() for idx in resamples])
        ci = (float(np.percentile(stats, 2.5)), float(np.percentile(stats, 97.5)))
        out[name] = GoldResult(loss, ci, statistics.fmean(taus[name]), mean_pairs, stats)
    if dropped:
        log(f"gold standard: {dropped} ratings of papers without title or abstract left out")
    return out, families, dropped


# --- task b: leave-group-out on seed publication lists ------------------------------------


@dataclass
class SeedResult:
    recall: float
    mrr: float
    median_rank: float


def ranks_of(held_scores: Scores, corpus_scores: Scores) -> npt.NDArray[np.float64]:
    """Rank of each held-out paper among corpus + held-out (ties count half)."""
    sorted_corpus = np.sort(corpus_scores)
    above = len(sorted_corpus) - np.searchsorted(sorted_corpus, held_scores, side="right")
    ties = (np.searchsorted(sorted_corpus, held_scores, side="right")
            - np.searchsorted(sorted_corpus, held_scores, side="left"))
    held_above = np.array([(held_scores > s).sum() for s in held_scores])
    held_ties = np.array([(held_scores == s).sum() - 1 for s in held_scores])
    return np.asarray(1 + above + held_above + 0.5 * (ties + held_ties), dtype=np.float64)


def run_seeds(
    args: argparse.Namespace, corpus_texts: list[str], corpus: Vectors, corpus_terms: Any,
    vocabulary: Vocabulary, embedder: beir.CachedEmbedder, with_candidates: bool,
) -> tuple[dict[str, dict[str, SeedResult]], list[Family], list[str]]:
    """Per method, per group (and "all"): Recall@50, MRR and median rank over the splits."""
    notes: list[str] = []
    groups: dict[str, list[str]] = {}
    for path in args.seeds:
        texts = [paper_text(r.title, r.abstract) for r in read_records(path) if r.abstract]
        if len(texts) > args.profile_papers:
            groups[Path(path).stem] = texts
        else:
            notes.append(f"{Path(path).name}: {len(texts)} papers, too few for a split; skipped")
    seed_texts = [t for texts in groups.values() for t in texts]
    seed_vectors = embedder.encode(seed_texts)
    nearest = (seed_vectors @ corpus.T).max(axis=1) if len(seed_texts) else np.zeros(0)
    notes.append(
        f"{len(seed_texts)} seed papers in {len(groups)} groups; the seed papers are not in the "
        f"corpus otherwise: highest cosine of a seed paper to a corpus paper "
        f"{float(nearest.max()) if len(nearest) else float('nan'):.3f} "
        f"({int((nearest >= 0.95).sum())} at or above 0.95, the near-duplicate level)")

    t0 = time.perf_counter()
    lexical = Lexical(corpus_texts + seed_texts)
    log(f"seeds: lexical indexes built in {time.perf_counter() - t0:.0f} s")
    n_corpus = len(corpus_texts)
    all_terms = sparse.vstack([corpus_terms, vocabulary.transform(seed_texts)]).tocsr()

    families, methods = method_grid(lexical, with_candidates)

    all_vectors = np.vstack([corpus, seed_vectors]).astype(np.float32)
    ranks: dict[str, dict[str, list[npt.NDArray[np.float64]]]] = {
        m: {g: [] for g in groups} for m in methods}
    offset = n_corpus
    for group, texts in groups.items():
        rows = np.arange(offset, offset + len(texts))
        offset += len(texts)
        for split in range(args.splits):
            rng = np.random.default_rng(args.seed + split)
            order = rng.permutation(len(rows))
            profile_rows = rows[order[: args.profile_papers]]
            held_rows = rows[order[args.profile_papers:]]
            sample = rng.choice(n_corpus, min(args.background, n_corpus), replace=False)
            task = Task(
                profile=all_vectors[profile_rows],
                profile_docs=profile_rows.tolist(),
                candidates=all_vectors,
                candidate_docs=None,
                background=background_of(corpus, corpus_terms, sample),
                profile_terms=all_terms[profile_rows],
                candidate_terms=all_terms,
            )
            for name, scorer in methods.items():
                scores = scorer(task)
                ranks[name][group].append(ranks_of(scores[held_rows], scores[:n_corpus]))
        log(f"  {group}: {args.splits} splits done")

    held_out = sum(len(texts) - args.profile_papers for texts in groups.values()) * args.splits
    notes.append(f"{held_out} held-out papers in {len(groups) * args.splits} queries (the same "
                 f"papers resampled): a Recall@50 of 0.005 is one paper in the top 50 once")
    def summary(per_query: list[npt.NDArray[np.float64]]) -> SeedResult:
        return SeedResult(
            recall=statistics.fmean(float(np.mean(r <= 50)) for r in per_query),
            mrr=statistics.fmean(float(1.0 / r.min()) for r in per_query),
            median_rank=float(np.median(np.concatenate(per_query))),
        )

    out: dict[str, dict[str, SeedResult]] = {}
    for name, by_group in ranks.items():
        out[name] = {g: summary(q) for g, q in by_group.items()}
        out[name]["all"] = summary([r for q in by_group.values() for r in q])
    return out, families, notes


# --- retraining speed -------------------------------------------------------------------


def retrain_timing(
    corpus: Vectors, corpus_texts: list[str], corpus_terms: Any, vocabulary: Vocabulary,
    background_size: int, seed: int,
) -> list[tuple[str, float]]:
    """Per-request costs of the feed with the default ranker: every rating refits."""
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(corpus), 50 + background_size + 60, replace=False)
    positives = [RatedPaper(int(i), "", corpus[i], terms=corpus_terms[int(i)])
                 for i in picks[:50]]
    background = Background(corpus[picks[50:50 + background_size]],
                            corpus_terms[picks[50:50 + background_size]])
    t0 = time.perf_counter()
    _ = background.gram
    gram_ms = (time.perf_counter() - t0) * 1e3
    t0 = time.perf_counter()
    profile = Profile.fit(positives, background)
    first_ms = (time.perf_counter() - t0) * 1e3
    refits = []
    for i in picks[-60:]:
        t0 = time.perf_counter()
        profile.with_rated(RatedPaper(int(i), "", corpus[i], "down", corpus_terms[int(i)]))
        refits.append((time.perf_counter() - t0) * 1e3)
    rows = rng.choice(len(corpus), 2000, replace=False)
    t0 = time.perf_counter()
    vocabulary.transform([corpus_texts[i] for i in rows])
    transform_ms = (time.perf_counter() - t0) * 1e3
    t0 = time.perf_counter()
    profile.score(corpus[rows[:1000]])
    score_1k_embeddings = (time.perf_counter() - t0) * 1e3
    t0 = time.perf_counter()
    profile.score(corpus, corpus_terms)
    score_all = (time.perf_counter() - t0) * 1e3
    return [
        (f"background Gram matrix, once per background ({background_size:,} papers; "
         "linear and blend methods only)", gram_ms),
        ("first fit: 50 positives (standardised on the background)", first_ms),
        ("refit after one new rating, median of 60", float(np.median(refits))),
        ("refit after one new rating, 90th percentile", float(np.percentile(refits, 90))),
        ("tf-idf rows of 2,000 candidate texts (the feed's shortlist; only with a lexical "
         "part, not the default)", transform_ms),
        ("score 1,000 candidates", score_1k_embeddings),
        (f"score the whole corpus ({len(corpus):,})", score_all),
    ]


# --- output -----------------------------------------------------------------------------


def ratio(numerator: float, denominator: float) -> str:
    if denominator == 0:
        return "—" if numerator == 0 else "∞"
    return f"{numerator / denominator:.2f}"


def baseline_names(results: dict[str, Any]) -> list[str]:
    return [n for n in (MEAN, MAX, TFIDF, BM25) if n in results]


def print_gold(results: dict[str, GoldResult], families: list[Family], dropped: int,
               args: argparse.Namespace) -> None:
    ours = results[PRODUCT]
    n_researchers = len(ours.per_researcher)
    print(f"\n## a. Reviewer gold standard ({n_researchers} researchers, {args.evaluations.name}; "
          f"profiles of the {args.profile_size} most recent papers, {args.draws} draws)\n")
    if dropped:
        print(f"{dropped} ratings of papers without title or abstract left out.\n")
    print(f"paperfeed as shipped ({DEFAULT_PARAMS.method}"
          + (f", T={DEFAULT_PARAMS.temperature:g}" if DEFAULT_PARAMS.method == "softmax" else "")
          + f"): loss {ours.loss:.3f} (95% bootstrap CI over researchers "
          f"{ours.loss_ci[0]:.3f}-{ours.loss_ci[1]:.3f}), Kendall's tau {ours.tau:.3f}. Its "
          "configuration was chosen on the 29 dev researchers (see the cross-validation table "
          "below): on that file this is an in-sample figure, on any other it is held out.\n")
    print("Loss: lower is better (0.5 = chance); tau: higher is better. "
          "Ratios > 1 mean paperfeed is better.\n")
    print("| baseline | loss (baseline) | loss (paperfeed) | loss ratio baseline/paperfeed "
          "| paperfeed - baseline, 95% CI | tau (baseline) | tau (paperfeed) "
          "| tau ratio paperfeed/baseline |")
    print("|---|---|---|---|---|---|---|---|")
    for name in baseline_names(results):
        result = results[name]
        low, high = ours.difference_ci(result)
        print(f"| {name} | {result.loss:.3f} | {ours.loss:.3f} | {ratio(result.loss, ours.loss)} "
              f"| {ours.loss - result.loss:+.3f} ({low:+.3f} to {high:+.3f}) "
              f"| {result.tau:.3f} | {ours.tau:.3f} | {ratio(ours.tau, result.tau)} |")
    print("\nReported by Stelmakh et al. (title+abstract, all 58 researchers, same protocol; "
          "this run covers only the researchers in the evaluations file):\n")
    print("| reported method | loss (reported) | source | loss (paperfeed, this split) "
          "| ratio reported/paperfeed |")
    print("|---|---|---|---|---|")
    for name, loss, source in REPORTED:
        print(f"| {name} | {loss:.2f} | {source} | {ours.loss:.3f} | {ratio(loss, ours.loss)} |")
    configs = [c for f in families if not f.baseline for c in f.configs]
    if configs:
        print("\nEvery configuration of the grid on all researchers of this file (in-sample "
              "when this is the file that chose; same draws):\n")
        print("| configuration | loss | 95% CI | tau |")
        print("|---|---|---|---|")
        for name in configs:
            r = results[name]
            print(f"| {name} | {r.loss:.3f} | {r.loss_ci[0]:.3f}-{r.loss_ci[1]:.3f} | "
                  f"{r.tau:.3f} |")


def fold_plan(args: argparse.Namespace, researchers: list[str]) -> tuple[FoldPlan, str]:
    """The committed folds when they cover exactly these researchers, else fresh ones."""
    if args.folds.is_file():
        plan = FoldPlan.load(args.folds)
        if sorted(plan.researchers) == sorted(researchers):
            return plan, f"folds from {args.folds.name} (seeds {plan.seeds})"
    plan = FoldPlan.make(researchers, args.k, args.fold_seeds, args.inner_k)
    if args.write_folds:
        args.folds.parent.mkdir(parents=True, exist_ok=True)
        args.folds.write_text(plan.to_json(), encoding="utf-8")
        return plan, f"folds written to {args.folds} (seeds {plan.seeds})"
    return plan, (f"folds made for this file's researchers (not those of {args.folds.name}), "
                  f"seeds {plan.seeds}")


UNION = "**rule: lowest loss over the 13 embedding configurations (paperfeed's rule)**"
ONE_SE = "rule: simplest family within 1 SE of the best (inner CV; the rule first written)"


def embedding_families(families: list[Family]) -> list[Family]:
    """The 0- and 1-knob embedding families (mean, max, smooth max, top-k, mean/max mix)."""
    return [f for f in families if not f.tuned_on_dev and f.name not in (TFIDF, BM25)]


def one_se_rule(families: list[Family], inner_k: int, seed: int) -> ranker_cv.Rule:
    """ranker_cv.simplest_within_one_se over the embedding families."""
    return ranker_cv.simplest_within_one_se(embedding_families(families), inner_k, seed)


def product_rule(families: list[Family]) -> ranker_cv.Rule:
    """What chose paperfeed's configuration: the lowest pooled loss over every embedding
    configuration of the grid (mean and max cosine included)."""
    return ranker_cv.argmin_rule([c for f in embedding_families(families) for c in f.configs])


def cross_validate_gold(results: dict[str, GoldResult], families: list[Family],
                        args: argparse.Namespace) -> None:
    researchers = sorted(results[PRODUCT].per_researcher)
    plan, source = fold_plan(args, researchers)
    table = {name: r.per_researcher for name, r in results.items()}
    seed = plan.seeds[0]
    outcomes = [ranker_cv.evaluate(f.name, ranker_cv.argmin_rule(f.configs), table, plan)
                for f in families]
    tuned = {f.name for f in families if f.tuned_on_dev}
    knobs = {f.name: str(f.knobs) for f in families}
    if len(families) > len(baseline_names(results)):
        outcomes.append(ranker_cv.evaluate(UNION, product_rule(families), table, plan))
        outcomes.append(ranker_cv.evaluate(ONE_SE, one_se_rule(families, plan.inner_k, seed),
                                           table, plan))
        knobs |= {UNION: "1 of 13", ONE_SE: "family + 1"}
        chosen = product_rule(families)(table, researchers)
        print(f"\npaperfeed's rule on all {len(researchers)} researchers of this file chooses: "
              f"**{chosen}** (loss {ranker_cv.pooled(table[chosen], researchers):.3f} on them, "
              f"in-sample).")
    outcomes.append(ranker_cv.evaluate(PRODUCT, ranker_cv.argmin_rule([PRODUCT]), table, plan))
    knobs[PRODUCT] = "fixed"
    n_folds = sum(len(f) for f in plan.repeats)
    boot = np.random.default_rng(args.seed)
    resamples = [boot.choice(len(researchers), len(researchers))
                 for _ in range(args.bootstrap)]
    sampled = {o.name: ranker_cv.bootstrap(o.per_researcher(), resamples, researchers)
               for o in outcomes}
    by_name = {o.name: o for o in outcomes}
    print(f"\n### Leave-researchers-out cross-validation ({plan.k} folds over the "
          f"{len(researchers)} researchers x {len(plan.seeds)} seeds = {n_folds} held-out "
          f"folds; {source})\n")
    print("Each row is a grid: in every outer fold it is chosen on the other folds (lowest "
          "pooled loss, or the rule as named) and scored on the held-out fold, which never "
          "chose. Chosen-on: pooled loss on the training folds (mean over folds). Held-out: "
          "each researcher scored by the configuration chosen without them, pooled over all "
          "researchers (mean over seeds), with a 95% bootstrap CI over researchers; gap = "
          "held-out - chosen-on. Per-fold spread: mean and sd of the pooled loss of each "
          f"held-out fold (about {len(researchers) / plan.k:.0f} researchers each). "
          "Differences to the baselines are paired "
          "(same researchers, same resamples).\n")
    print("| model (grid) | knobs | chosen (in how many folds) | chosen-on loss (training folds) "
          "| held-out loss, 95% CI | gap | held-out folds: mean (sd) "
          "| minus mean-embedding, 95% CI | minus max-embedding, 95% CI |")
    print("|---|---|---|---|---|---|---|---|---|")
    for o in outcomes:
        counts: dict[str, int] = {}
        for c in o.choices:
            counts[c] = counts.get(c, 0) + 1
        chosen_text = "; ".join(f"{c} ({n})" for c, n in
                                sorted(counts.items(), key=lambda kv: -kv[1]))
        if len(counts) == 1 and len(o.choices) == n_folds and o.name == next(iter(counts)):
            chosen_text = "—"
        low, high = ranker_cv.interval(sampled[o.name])
        diffs = []
        for base in (MEAN, MAX):
            if base in by_name:
                d = sampled[o.name] - sampled[base]
                point = o.pooled_out_of_fold() - by_name[base].pooled_out_of_fold()
                lo, hi = ranker_cv.interval(d)
                diffs.append(f"{point:+.3f} ({lo:+.3f} to {hi:+.3f})")
            else:
                diffs.append("—")
        note = (" (tuned on all dev researchers and both seed groups: not held out on the "
                "dev file)" if o.name in tuned else "")
        if o.name == PRODUCT:
            note = (" (chosen by paperfeed's rule on all dev researchers: not held out on the "
                    "dev file)")
        held = o.pooled_out_of_fold()
        chosen_on = statistics.fmean(o.chosen_on)
        print(f"| {o.name}{note} | {knobs.get(o.name, '?')} | {chosen_text} "
              f"| {chosen_on:.3f} | {held:.3f} ({low:.3f}-{high:.3f}) | {held - chosen_on:+.3f} "
              f"| {statistics.fmean(o.held_out):.3f} ({statistics.stdev(o.held_out):.3f}) "
              f"| {diffs[0]} | {diffs[1]} |")


def print_seeds(results: dict[str, dict[str, SeedResult]], families: list[Family],
                notes: list[str], n_corpus: int, args: argparse.Namespace) -> None:
    ours = results[PRODUCT]["all"]
    print(f"\n## b. Leave-group-out on seed publication lists ({args.profile_papers} papers as "
          f"the profile, the rest among {n_corpus:,} corpus papers; {args.splits} splits "
          f"per group)\n")
    for note in notes:
        print(f"- {note}")
    print("\nRecall@50 and MRR: higher is better. Ratios > 1 mean paperfeed is better. "
          "paperfeed's configuration was chosen on the gold standard alone, so on this task "
          "every figure of it is held out.\n")
    print("| baseline | R@50 (baseline) | R@50 (paperfeed) | R@50 ratio | MRR (baseline) "
          "| MRR (paperfeed) | MRR ratio | median rank (baseline) | median rank (paperfeed) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in baseline_names(results):
        r = results[name]["all"]
        print(f"| {name} | {r.recall:.3f} | {ours.recall:.3f} | {ratio(ours.recall, r.recall)} "
              f"| {r.mrr:.4f} | {ours.mrr:.4f} | {ratio(ours.mrr, r.mrr)} "
              f"| {r.median_rank:,.0f} | {ours.median_rank:,.0f} |")
    groups = [g for g in results[PRODUCT] if g != "all"]
    if len(groups) < 2:
        return
    print(f"\n### Leave-group-out choice ({len(groups)} groups: each grid is chosen on one "
          "group by MRR over its splits, then scored on the other group)\n")
    print("| model (grid) | knobs | " + " | ".join(
        f"chosen on the other groups → {g}: configuration, MRR, R@50, median rank"
        for g in groups) + " | chosen-on MRR (mean) | held-out MRR (mean) | gap "
        "| held-out R@50 (mean) |")
    print("|---|---|" + "---|" * len(groups) + "---|---|---|---|")
    fixed = [Family(PRODUCT, 0, (PRODUCT,))]
    for family in [*families, *fixed]:
        cells, chosen_on, held, recall = [], [], [], []
        for g in groups:
            train = [h for h in groups if h != g]
            choice = max(family.configs, key=lambda c: statistics.fmean(
                results[c][h].mrr for h in train))
            r = results[choice][g]
            chosen_on.append(statistics.fmean(results[choice][h].mrr for h in train))
            held.append(r.mrr)
            recall.append(r.recall)
            label = "" if len(family.configs) == 1 else f"{choice}, "
            cells.append(f"{label}{r.mrr:.4f}, {r.recall:.3f}, {r.median_rank:,.0f}")
        tag = " (tuned on these groups: not held out)" if family.tuned_on_dev else ""
        print(f"| {family.name}{tag} | {family.knobs if family.name != PRODUCT else 'fixed'} | "
              + " | ".join(cells)
              + f" | {statistics.fmean(chosen_on):.4f} | {statistics.fmean(held):.4f} "
              f"| {statistics.fmean(held) - statistics.fmean(chosen_on):+.4f} "
              f"| {statistics.fmean(recall):.3f} |")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--evaluations", type=Path, required=True,
                        help="evaluations.tsv of the reviewer gold standard")
    parser.add_argument("--participants", type=Path, required=True,
                        help="participants.jsonl (each researcher's papers by paperId)")
    parser.add_argument("--papers", type=Path, required=True,
                        help="papers.jsonl (title, abstract, year per paperId)")
    parser.add_argument("--seeds", type=Path, nargs="*", default=[],
                        help="seed publication lists, one research group per file")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="paperfeed data directory with the indexed corpus (default: the "
                             "user's)")
    parser.add_argument("--profile-size", type=int, default=20)
    parser.add_argument("--draws", type=int, default=10, help="profile draws in task a")
    parser.add_argument("--background", type=int, default=2000,
                        help="corpus papers sampled as implicit negatives")
    parser.add_argument("--profile-papers", type=int, default=5, help="profile size in task b")
    parser.add_argument("--splits", type=int, default=20, help="random splits per seed group")
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-candidates", action="store_true",
                        help="only paperfeed and the baselines, no model-choice grid (faster)")
    parser.add_argument("--folds", type=Path,
                        default=ranker_cv.SPLITS_DIR / "reviewer-dev-folds.json",
                        help="folds over researchers; used when they cover exactly the "
                             "researchers of --evaluations, else folds are made with "
                             "--k and --fold-seeds")
    parser.add_argument("--k", type=int, default=5, help="outer folds over researchers")
    parser.add_argument("--fold-seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="one repetition of the k folds per seed")
    parser.add_argument("--inner-k", type=int, default=4,
                        help="inner folds of the choice rule (inside the training folds)")
    parser.add_argument("--write-folds", action="store_true",
                        help="write fresh folds to --folds when it does not match")
    parser.add_argument("--no-timing", action="store_true", help="skip the retraining speed")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    catalog = Catalog(args.data_dir)
    index = catalog.index
    model_id = index.manifest()["model_id"]
    if not model_id or len(index) == 0:
        parser.error(f"no indexed corpus in {catalog.store.data_dir}; ingest and index first")
    keys = sorted(index.keys())
    log(f"corpus: reading {len(keys):,} stored vectors and texts")
    corpus = np.stack([index.embedding(k) for k in keys]).astype(np.float32)
    texts_by_id = {s.id: paper_text(s.title, s.abstract) for s in catalog.store.iter_summaries()}
    corpus_texts = [texts_by_id.get(k, "") for k in keys]
    del texts_by_id
    embedder = beir.CachedEmbedder(lambda: catalog.embedder, model_id)
    t0 = time.perf_counter()
    vocabulary = Vocabulary.fit_sample(corpus_texts + task_texts(args))
    vocabulary_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    corpus_terms = vocabulary.transform(corpus_texts)
    log(f"corpus: vocabulary fitted in {vocabulary_s:.1f} s, tf-idf rows of the corpus in "
        f"{time.perf_counter() - t0:.0f} s")

    print("# Recommendation quality of paperfeed.rank.profile\n")
    settings = vocabulary.settings
    print(f"Corpus: {len(keys):,} papers in {catalog.store.data_dir} ({model_id}). paperfeed "
          f"runs with its defaults: {DEFAULT_PARAMS}. The lexical parts (previous ranker) use "
          f"the corpus vocabulary ({len(vocabulary):,} terms, 1-{settings.max_ngram}-grams, "
          f"min_df {settings.min_df}, fitted on {vocabulary.n_docs:,} of "
          f"{vocabulary.corpus_size:,} papers in {vocabulary_s:.0f} s); background "
          f"{args.background:,} corpus papers. paperfeed's configuration was chosen by "
          f"leave-researchers-out cross-validation on the 29 researchers of the dev "
          f"evaluations file (the rule below).")

    gold, families, dropped = run_gold(args, corpus, corpus_terms, vocabulary, embedder,
                                       not args.no_candidates)
    print_gold(gold, families, dropped, args)
    cross_validate_gold(gold, families, args)
    if args.seeds:
        seeds, seed_families, notes = run_seeds(args, corpus_texts, corpus, corpus_terms,
                                                vocabulary, embedder, not args.no_candidates)
        print_seeds(seeds, seed_families, notes, len(keys), args)
    if args.no_timing:
        print(f"\nTotal run time {time.perf_counter() - started:.0f} s.")
        catalog.close()
        return

    print(f"\n## Retraining speed (50 positives, {args.background:,} background papers, "
          f"{os.cpu_count()} cores)\n")
    print("| step | ms |")
    print("|---|---|")
    for step, ms in retrain_timing(corpus, corpus_texts, corpus_terms, vocabulary,
                                   args.background, args.seed):
        print(f"| {step} | {ms:.1f} |")
    print(f"\nTotal run time {time.perf_counter() - started:.0f} s.")
    catalog.close()


if __name__ == "__main__":
    main()
