"""User queries: parsing, and hostile input that must never crash the engine."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperfeed.errors import PaperfeedError
from paperfeed.index import PaperIndex
from paperfeed.index.query import MAX_DISTINCT_TERMS, parse_user_query

from .conftest import CORPUS, FakeEmbedder


def test_parse_words_and_phrases() -> None:
    parsed = parse_user_query('Graph "out-of-distribution detection" title:(GNN) graph*')
    assert parsed.phrases == (("out", "of", "distribution", "detection"),)
    assert dict(parsed.terms) == {"graph": 2, "title": 1, "gnn": 1}
    assert parsed.to_tantivy() == '"out of distribution detection" graph^2 title gnn'


def test_unclosed_quote_and_one_word_phrase_are_words() -> None:
    parsed = parse_user_query('"single" "open phrase')
    assert parsed.phrases == ()
    assert dict(parsed.terms) == {"single": 1, "open": 1, "phrase": 1}


def test_operators_lose_their_meaning() -> None:
    parsed = parse_user_query("cats AND OR NOT dogs IN [a TO b]")
    assert "AND" not in parsed.to_tantivy() and "[" not in parsed.to_tantivy()


def test_long_text_is_capped() -> None:
    text = " ".join(f"w{i}" for i in range(5_000))
    assert len(parse_user_query(text).terms) == MAX_DISTINCT_TERMS


@pytest.fixture(scope="module")
def shared_index(tmp_path_factory: pytest.TempPathFactory) -> PaperIndex:
    idx = PaperIndex.open(tmp_path_factory.mktemp("hostile"), FakeEmbedder(), exact_below=0)
    idx.add(CORPUS)
    return idx


HOSTILE = [
    '"', '""', '"""', "AND OR", "AND", "OR NOT", "title:(", "title:", ":", "*", "?", "~2",
    "^", "\\", "(", ")", "[", "]", "{", "}", "-", "+", "!", "/", "a:b:c", "key:1", "row:0",
    "day:>5", "🙂🚀", "🔥 detection 🔥", "\x00", "\u200b", "   ", "'", "title:(\"x", 'IN [a b]',
    "x" * 10_000, "detection " * 1_100, "é" * 3_000, "a\nb\tc", "<script>alert(1)</script>",
    "ǅ", "ﬁ", "İstanbul", "日本語の論文", "∀x∈ℝ", "1e10", "-1", "2023-01-01",
]


@pytest.mark.parametrize("query", HOSTILE)
@pytest.mark.parametrize("mode", ["lexical", "hybrid", "dense"])
def test_hostile_queries_do_not_crash(shared_index: PaperIndex, query: str, mode: str) -> None:
    hits = shared_index.search(query, mode=mode, k=5)  # type: ignore[arg-type]
    assert len(hits) <= 5
    assert all(h.key in {d.key for d in CORPUS} for h in hits)


def test_ten_kilobytes_of_real_words_still_rank(shared_index: PaperIndex) -> None:
    query = ("out-of-distribution detection energy score " * 250)[:10_240]
    assert shared_index.search(query, mode="lexical", k=1)[0].key == 1


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=300), mode=st.sampled_from(["lexical", "hybrid", "dense"]))
def test_arbitrary_text_raises_only_paperfeed_errors(shared_index: PaperIndex, query: str,
                                                     mode: str) -> None:
    try:
        hits = shared_index.search(query, mode=mode, k=3)  # type: ignore[arg-type]
    except PaperfeedError:
        return
    assert len(hits) <= 3


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.sampled_from(["energy", "detection", "attention", "image", "AND", "OR",
                                        '"', "(", ":", "*", "-", "title:", "^"]),
                      min_size=1, max_size=12))
def test_syntax_soup_around_real_words_returns_results(shared_index: PaperIndex,
                                                       words: list[str]) -> None:
    query = " ".join(words)
    hits = shared_index.search(query, mode="lexical", k=3)
    real = {"energy", "detection", "attention", "image"} & set(words)
    if real and query.count('"') == 0:
        assert hits  # every real word occurs in the corpus
