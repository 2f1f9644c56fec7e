"""paperfeed.text: the Python side splits words exactly as the search index does.

The reference is a real tantivy index (`LexicalIndex` in a temporary folder): a
word the Python side names or counts must be a term the index holds for that paper,
and a word it does not produce must not be.
"""

from __future__ import annotations

import ast
import itertools
import re
import sys
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import tantivy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperfeed import text
from paperfeed.index.lexical import LexicalIndex, name_keys
from paperfeed.index.query import parse_user_query
from paperfeed.index.types import IndexDoc
from paperfeed.index.vocabulary import TfidfSettings, Vocabulary
from paperfeed.rank.terms import words as shared_words
from paperfeed.records import title_key
from paperfeed.store.cards import facet_key
from paperfeed.store.merge import name_key

# Pieces that split differently under the old rules: hyphens, apostrophes, underscores,
# accents (composed and combining), final sigma, Indic vowel signs, LaTeX, digits,
# ligatures, circled letters, long words (the index drops 40 bytes or more).
FRAGMENTS = [
    "self-supervised", "pre–training", "don't", "Schrödinger’s", "e\u0301te\u0301", "café",
    "ΟΔΟΣ", "हिन्दी", "தமிழ்", "$\\alpha$-divergence", "\\emph{LaSOT}", "ImageNet-1k", "3.5%",
    "10,000", "x_y", "GPT-4o", "İstanbul", "ﬁne-tuning", "x²", "ⓐⓑ", "Straße", "Łukasz",
    "a" * 39, "a" * 40, "é" * 19, "é" * 20, "—", "\n", "The", "of", "AND", "\"quoted words\"",
]
# tantivy's English stop words (Lucene's list); checked against the index below.
_STOP_LIST = """a an and are as at be but by for if in into is it no not of on or such that
the their then there these they this to was will with"""
INDEX_STOP_WORDS = frozenset(_STOP_LIST.split())
TEXTS = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=10
).flatmap(lambda parts: st.sampled_from([" ", "", "-", "'"]).map(lambda sep: sep.join(parts)))


class IndexProbe:
    """One real index for a test; each example adds its text as a new paper."""

    def __init__(self, folder: Path) -> None:
        self.index = LexicalIndex(folder)
        self.keys = itertools.count()

    def add(self, body: str) -> int:
        key = next(self.keys)
        self.index.add([IndexDoc(key=key, title="", abstract=body)], [key], gen=1)
        self.index.commit()
        return key

    def holds(self, key: int, field: str, term: str) -> bool:
        # Private on purpose: tantivy-py has no public way to read a document's terms.
        index = self.index._index
        schema = index.schema
        query = tantivy.Query.boolean_query([
            (tantivy.Occur.Must, tantivy.Query.term_query(schema, field, term)),
            (tantivy.Occur.Must, tantivy.Query.term_query(schema, "key", key)),
        ])
        return bool(index.searcher().search(query, 1).hits)


@pytest.fixture(scope="module")
def probe() -> Iterator[IndexProbe]:
    with tempfile.TemporaryDirectory() as folder:
        yield IndexProbe(Path(folder))


def _old_splits(body: str) -> set[str]:
    """What the replaced rules produced: rank/terms.py's hyphenated words, query.py's
    `[^\\W_]+` words, scikit-learn's default pattern."""
    lowered = body.lower()
    return (set(re.findall(r"[a-z][a-z0-9-]{2,}", lowered)) | set(re.findall(r"[^\W_]+", lowered))
            | set(re.findall(r"(?u)\b\w\w+\b", lowered)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=TEXTS)
def test_index_terms_are_exactly_what_the_index_holds(probe: IndexProbe, body: str) -> None:
    key = probe.add(body)
    scored = set(text.index_terms(body))
    for term in scored:
        assert probe.holds(key, "body", term), term
    # The other way round, over candidates the old rules made: absent unless scored.
    for word in _old_splits(body) | set(text.tokenize(body)):
        for candidate in {word, *text.index_terms(word)}:
            assert probe.holds(key, "body", candidate) == (candidate in scored), candidate


@settings(max_examples=300, deadline=None)
@given(body=TEXTS)
def test_every_caller_splits_as_the_index_does(body: str) -> None:
    tokens = text.tokenize(body)
    # Stop words are a filter over the same words, in the same order.
    assert text.terms(body) == [t for t in tokens if t not in INDEX_STOP_WORDS]
    # Query words: the same words, so each is one term of the index.
    unquoted = re.sub(r"[\"“”„«»]", " ", body)
    parsed = parse_user_query(unquoted)
    assert Counter(dict(parsed.terms)) == Counter(text.tokenize(unquoted))
    # The vocabulary (unigrams, no stop list) holds exactly the words.
    vocabulary = Vocabulary.fit([body], settings=TfidfSettings(max_ngram=1, min_df=1,
                                                               stop_words=False))
    assert sorted(vocabulary.terms) == sorted(set(tokens))
    # Shared terms in a feed reason: words and pairs of words of the index.
    for term in shared_words(body):
        assert set(term.split()) <= set(tokens)


def test_a_hyphenated_term_now_agrees_with_the_index(probe: IndexProbe) -> None:
    body = "Self-supervised pre-training of LiDAR detectors"
    key = probe.add(body)
    # Before: rank/terms.py named "self-supervised", a term no index holds.
    assert "self-supervised" in re.findall(r"[a-z][a-z0-9-]{2,}", body.lower())
    assert not probe.holds(key, "body", "self-supervised")
    # After: the reason names the pair of two words the index scored.
    assert "self supervised" in shared_words(body)
    assert "self-supervised" not in shared_words(body)
    assert all(probe.holds(key, "body", t) for t in text.index_terms("self supervised"))
    # Before: query.py split Tamil at its vowel signs ("தம", "ழ"), which the index counts
    # as letters, so a Tamil query never met the paper's word; now it is one term.
    tamil = "தமிழ்"
    assert re.findall(r"[^\W_]+", tamil) == ["தம", "ழ"]
    key = probe.add(f"{tamil} text")
    assert [w for w, _ in parse_user_query(tamil).terms] == ["தமிழ"]
    assert probe.holds(key, "body", "தமிழ")
    assert not probe.holds(key, "body", "தம")


def test_words_split_on_hyphens_and_apostrophes_and_drop_long_ones() -> None:
    assert text.tokenize("Self-supervised don't ΟΔΟΣ x_y 3.5") == [
        "self", "supervised", "don", "t", "οδοσ", "x", "y", "3", "5"]
    assert text.tokenize("a" * 39) == ["a" * 39] and text.tokenize("a" * 40) == []
    assert text.tokenize("é" * 20) == []  # 40 bytes in UTF-8
    assert text.terms("the state of the art") == ["state", "art"]
    assert text.index_terms("Gaussian splatting") == ["gaussian", "splat"]
    assert text.tokenize("") == text.terms("") == text.index_terms("") == []


def test_the_stop_words_are_the_index_s(probe: IndexProbe) -> None:
    body = " ".join(sorted(INDEX_STOP_WORDS)) + " there's more"
    key = probe.add(body)
    assert text.terms(body) == ["s", "more"]
    assert not any(probe.holds(key, "body", w) for w in INDEX_STOP_WORDS)
    assert probe.holds(key, "body", "more")


def test_fold_unifies_case_accents_and_compatibility_forms() -> None:
    assert text.fold("Café") == text.fold("CAFE\u0301") == "cafe"
    assert text.fold("Straße") == "strasse"
    assert text.fold("ﬁne x²") == "fine x2"
    assert text.fold("Łukasz Søren") == "łukasz søren"  # no ASCII form: kept
    # Facet keys are stored in this form: unchanged by the move into text.fold.
    assert facet_key("LaSOT Benchmark") == facet_key("lasot") == "lasot"
    assert facet_key("Vidéo–Object_Segmentation") == "video object segmentation"


def test_the_stored_keys_keep_their_ascii_fold() -> None:
    assert title_key("Schrödinger's Ça-va, Straße!", "Müller") == "schrodinger s ca va strae|muller"
    assert name_key("Łukasz  J. Kaiser") == "ukasz j kaiser"
    assert name_keys("Luc Van Gööl") == ["luc van gool", "van gool", "gool"]
    assert text.ascii_words("x" * 50) == ["x" * 50]  # no length limit in a stored key


def test_the_ascii_fold_is_fold_without_non_ascii_except_for_sharp_s() -> None:
    differ = []
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if unicodedata.category(char) in ("Cs", "Cn"):
            continue
        if text.ascii_fold(char) != text.fold(char).encode("ascii", "ignore").decode("ascii"):
            differ.append(char)
    assert differ == ["ß", "ẞ"]


def test_the_text_module_imports_nothing_from_paperfeed() -> None:
    tree = ast.parse(Path(text.__file__).read_text(encoding="utf-8"))
    imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    imported += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [name for name in imported if name.split(".")[0] == "paperfeed"]
