"""The words behind a pick: terms a picked paper shares with the user's own papers.

Not part of the score (the ranker is embeddings only, docs/decisions/ranker.md),
but what arxiv-sanity showed and readers asked for: "shared terms: lidar,
gaussian splatting". A term weighs tf in the pick × how many of the user's
papers use it × idf over the papers being ranked, so words every candidate
uses ("model", "results") fall away without a stop list tuned by hand.

Words are the search index's (`paperfeed.text.terms`: "self-supervised" is
"self" and "supervised", named as the pair "self supervised"), so a term named
in a reason is a word BM25 and the vocabulary count.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence

from paperfeed.text import terms

# Shorter words ("3d", "gp") and numbers say little on their own in a reason.
MIN_CHARS = 3
# Function words and the boilerplate of abstracts; idf removes most of the rest.
_STOP_WORDS = """
the and for with that this from are our was were which their these those into than then
such can has have had not but also its been more most other over under using use used based
via both each between while where when what how who whom will would could should may might
propose proposed present presents paper approach method methods results show shows shown
new novel existing work works study task tasks problem problems performance state art
model models learning data training network networks deep machine framework system systems
across among within without through however further past first one two three well high low
"""
STOP = frozenset(_STOP_WORDS.split())


def words(text: str) -> list[str]:
    """Lower-cased words and their adjacent pairs ("gaussian splatting"), stop words out.

    Only words that start with a letter and have at least three characters count.
    """
    tokens = [w for w in terms(text) if len(w) >= MIN_CHARS and w[0].isalpha() and w not in STOP]
    return tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]


def document_frequencies(texts: Sequence[str]) -> tuple[Counter[str], int]:
    df: Counter[str] = Counter()
    for text in texts:
        df.update(set(words(text)))
    return df, len(texts)


def shared_terms(pick: str, positives: Sequence[str], df: Mapping[str, int], n_docs: int,
                 *, top: int = 3) -> list[str]:
    """Up to `top` terms of `pick` that the positives use most, weighted by idf.

    A pair ("gaussian splatting") hides its single words, so one idea is named once.
    """
    in_pick = Counter(words(pick))
    used: Counter[str] = Counter()
    for text in positives:
        used.update(set(words(text)))
    weights = {
        term: tf * used[term] * math.log((1 + n_docs) / (1 + df.get(term, 0)))
        for term, tf in in_pick.items() if used[term]
    }
    chosen: list[str] = []
    # Ties go to pairs: "gaussian splatting" says more than "gaussian".
    for term in sorted(weights, key=lambda t: (-weights[t], -t.count(" "), t)):
        if weights[term] <= 0 or any(set(term.split()) & set(c.split()) for c in chosen):
            continue
        chosen.append(term)
        if len(chosen) == top:
            break
    return chosen
