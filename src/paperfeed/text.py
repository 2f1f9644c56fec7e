"""How text becomes words and how words are compared: the one tokeniser and the folds.

Owns the analyzers the search index is built with (registered by
`index/lexical.py`) and the Python side's view of the same split: `tokenize`
(the words the index sees, before stop words and stemming), `terms` (without
its stop words), `index_terms` (what BM25 scores: stemmed), and `fold`, the
one folding for matching words and names. Everything that names, counts or
matches words (query parsing, coverage, the vocabulary, the ranker's shared
terms, card facets) goes through here, so a word named in a reason is a word
the index scored. Imports nothing from paperfeed. Why this way:
docs/decisions/text.md.

The split rule is tantivy's simple tokenizer: a word is a run of characters
that Rust calls alphanumeric (Unicode Alphabetic or a number); everything else,
hyphens and apostrophes included, separates words ("self-supervised" is two
words, "don't" is "don" and "t"). Words of 40 bytes or more (UTF-8, before
lower-casing) are dropped; the rest are lower-cased character by character
(no final-sigma rule). The Python side calls tantivy's own analyzer instead of
a regular expression: no Python character class matches Rust's on every code
point (the decision page has the counts).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import tantivy

__all__ = [
    "MAX_TOKEN_BYTES",
    "ascii_fold",
    "ascii_words",
    "fold",
    "index_analyzer",
    "index_terms",
    "name_analyzer",
    "terms",
    "tokenize",
]

# Words this long (UTF-8 bytes) are ids, hashes or glued formulas, not words.
MAX_TOKEN_BYTES = 40


def _words_analyzer(*, stop_words: bool = False, stem: bool = False) -> tantivy.TextAnalyzer:
    # The order is the index's: a word's length counts before lower-casing changes it.
    builder = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(MAX_TOKEN_BYTES))
        .filter(tantivy.Filter.lowercase())
    )
    if stop_words:
        builder = builder.filter(tantivy.Filter.stopword("english"))
    if stem:
        builder = builder.filter(tantivy.Filter.stemmer("english"))
    return builder.build()


def index_analyzer() -> tantivy.TextAnalyzer:
    """A new analyzer for the index's text fields (title, abstract, body).

    English stopwords and Snowball stemming: measured better than tantivy's
    default on SciFact (docs/decisions/lexical-engine.md). Changing it changes
    every search figure and needs a reindex.
    """
    return _words_analyzer(stop_words=True, stem=True)


def name_analyzer() -> tantivy.TextAnalyzer:
    """A new analyzer for author names: the same split, never stemmed or stopped
    ("May" and "An" are surnames), accents folded to ASCII by tantivy."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


@cache
def _shared(stop_words: bool, stem: bool) -> tantivy.TextAnalyzer:
    # One instance per kind for the whole process; analyze() is safe across threads.
    return _words_analyzer(stop_words=stop_words, stem=stem)


def tokenize(text: str) -> list[str]:
    """The lower-cased words of `text`, split exactly as the index splits them."""
    return list(_shared(False, False).analyze(text)) if text else []


def terms(text: str) -> list[str]:
    """`tokenize` without the index's English stop words ("the", "of", "with", ...)."""
    return list(_shared(True, False).analyze(text)) if text else []


def index_terms(text: str) -> list[str]:
    """The terms BM25 scores for `text` in the title, abstract and body fields: stemmed."""
    return list(_shared(True, True).analyze(text)) if text else []


def fold(text: str) -> str:
    """`text` for matching: compatibility forms unified (NFKC: "ﬁ" is "fi", "²" is "2"),
    case-folded ("ß" is "ss") and accents stripped ("é" is "e"); letters without an
    ASCII decomposition stay as they are ("ø", "ł", "α").

    Card facet keys are stored in this form (`store/cards.py facet_key`), so changing
    it re-keys stored facets.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in unicodedata.normalize("NFKD", folded)
                   if not unicodedata.combining(c))


def ascii_fold(text: str) -> str:
    """The older fold the stored dedupe and author keys use: NFKD, every character
    that is not ASCII dropped ("Łukasz" is "ukasz", "Straße" is "strae"), lower case.

    Kept, not replaced by `fold`: it is frozen into `papers.title_key`,
    `paper_authors.name_key` and the index's `author_key` terms, so a change would
    need a migration and a reindex. It equals `fold` with non-ASCII characters
    dropped except on "ß" and "ẞ" (checked over every code point in tests/test_text.py).
    """
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()


_ASCII_WORD = re.compile(r"[a-z0-9]+")


def ascii_words(text: str) -> list[str]:
    """The words of `ascii_fold(text)`, for the stored keys (title, author name).

    On ASCII text this is `tokenize` without its length limit: kept separate because
    the keys are stored (see `ascii_fold`) and a long name part must still count.
    """
    return _ASCII_WORD.findall(ascii_fold(text))
