"""PaperIndex behaviour with the fake embedder: ranking, filters, sort, paging, updates."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperfeed.errors import IndexStaleError
from paperfeed.index import IndexDoc, PaperIndex, SearchFilters, SearchHit
from paperfeed.index import paper_index as paper_index_module
from paperfeed.index.vectors import VectorStore

from .conftest import CORPUS, FakeEmbedder


def keys(hits: list[SearchHit]) -> list[int]:
    return [h.key for h in hits]


def text(segments: tuple[object, ...]) -> str:
    return "".join(s.text for s in segments)  # type: ignore[attr-defined]


# --- lexical ranking and display -------------------------------------------------


def test_title_match_outranks_abstract_only_match(index: PaperIndex) -> None:
    hits = index.search("residual", mode="lexical")
    assert keys(hits)[0] == 2
    # "recognition" is in doc 2's title and abstract, and in doc 6's abstract only.
    hits = index.search("recognition", mode="lexical")
    assert keys(hits) == [2, 6]
    assert hits[0].lexical_score is not None and hits[1].lexical_score is not None
    assert hits[0].lexical_score > hits[1].lexical_score


def test_title_boost_beats_equal_abstract_frequency(tmp_path: Path) -> None:
    docs = [
        IndexDoc(1, "Filler words here", "Graph neural networks for molecules."),
        IndexDoc(2, "Graph neural networks", "Filler words for molecules."),
    ]
    idx = PaperIndex.open(tmp_path, FakeEmbedder())
    idx.add(docs)
    assert keys(idx.search("graph", mode="lexical")) == [2, 1]


def test_phrase_query_requires_adjacent_words(index: PaperIndex) -> None:
    loose = keys(index.search("distribution detection", mode="lexical", k=20))
    phrase = keys(index.search('"out-of-distribution detection"', mode="lexical", k=20))
    assert 5 in loose  # has "detection" and "distribution", not as a phrase
    assert 5 not in phrase
    assert set(phrase) == {1, 2, 6}


def test_snippet_and_title_highlight_matched_terms(index: PaperIndex) -> None:
    hit = index.search("transformer translation", mode="lexical")[0]
    assert hit.key == 3
    marked = [s.text.lower() for s in hit.snippet if s.highlighted]
    assert "transformer" in marked and "translation" in marked
    assert text(hit.title) == "Attention is all you need"
    assert not any(s.highlighted for s in hit.title)
    title_hit = index.search("attention", mode="lexical")[0]
    assert [s.text for s in title_hit.title if s.highlighted] == ["Attention"]
    assert text(title_hit.title) == "Attention is all you need"


def test_snippet_highlights_stemmed_and_accented_matches(index: PaperIndex) -> None:
    hit = index.search("zürich cafe", mode="lexical")[0]
    assert hit.key == 8
    assert "Zürich" in [s.text for s in hit.snippet if s.highlighted]
    assert text(hit.title) == CORPUS[7].title


def test_snippet_is_bounded_and_marks_cuts(tmp_path: Path) -> None:
    long_abstract = " ".join(["padding words"] * 80) + " the quasar sentence " + " ".join(
        ["more padding"] * 80
    )
    idx = PaperIndex.open(tmp_path, FakeEmbedder())
    idx.add([IndexDoc(1, "Long", long_abstract)])
    hit = idx.search("quasar", mode="lexical")[0]
    snippet = text(hit.snippet)
    assert len(snippet) <= 300
    assert snippet.startswith("…") and snippet.endswith("…")
    assert [s.text for s in hit.snippet if s.highlighted] == ["quasar"]


def test_dense_only_hit_gets_leading_snippet(index: PaperIndex) -> None:
    hits = index.search("qqqzzz", mode="dense", k=3)
    assert len(hits) == 3
    assert all(not s.highlighted for h in hits for s in h.snippet)
    assert all(text(h.snippet) for h in hits)


def test_authors_are_searchable(index: PaperIndex) -> None:
    assert keys(index.search("vaswani", mode="lexical")) == [3]
    assert 8 in keys(index.search("emile zola", mode="lexical"))


# --- filters -----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["lexical", "dense", "hybrid"])
@pytest.mark.parametrize(
    ("filters", "allowed"),
    [
        (SearchFilters(date_from=datetime.date(2020, 6, 1)), {1, 5, 6, 8}),
        (SearchFilters(date_to=datetime.date(2017, 12, 31)), {2, 3}),
        (SearchFilters(date_from=datetime.date(2017, 1, 1), date_to=datetime.date(2020, 12, 31)),
         {1, 3, 4}),
        (SearchFilters(categories=("cs.cv",)), {2, 5, 6}),
        (SearchFilters(categories=("cs.CL", "cs.CV")), {2, 3, 4, 5, 6, 8}),
        (SearchFilters(authors=("van gool",)), {5}),
        (SearchFilters(authors=("LIU",)), {1, 6}),
        (SearchFilters(authors=("Kaiming He", "Noam Shazeer")), {2, 3}),
        (SearchFilters(authors=("Emile Zola-Dupont",)), {8}),
        (SearchFilters(authors=("he",), categories=("cs.LG",)), set()),
        (SearchFilters(authors=("!!!",)), set()),
    ],
)
def test_every_filter(
    tmp_path: Path, mode: str, filters: SearchFilters, allowed: set[int]
) -> None:
    idx = PaperIndex.open(tmp_path, FakeEmbedder(), exact_below=0)
    idx.add(CORPUS)
    query = "detection learning models image"
    hits = idx.search(query, k=20, filters=filters, mode=mode)  # type: ignore[arg-type]
    assert set(keys(hits)) <= allowed
    if mode != "lexical":
        # The dense side ranks every paper, so it finds every paper the filter allows.
        assert set(keys(hits)) == allowed
    browse = idx.search("", k=20, filters=filters)
    assert set(keys(browse)) == allowed


def test_broad_filter_on_ann_path_never_loses_hits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Force the over-fetch path (no exact search for filtered sets) on a bigger corpus.
    monkeypatch.setattr(paper_index_module, "EXACT_FILTER_MAX", 0)
    docs = [
        IndexDoc(i, f"paper {i} topic{i % 7}", f"abstract words w{i % 11} w{i % 13}",
                 categories=("cs.CV",) if i % 10 == 0 else ("cs.CL",))
        for i in range(400)
    ]
    idx = PaperIndex.open(tmp_path, FakeEmbedder(), exact_below=0)
    idx.add(docs, batch_size=128)
    only_cv = SearchFilters(categories=("cs.cv",))
    hits = idx.search("topic3 w5", k=100, mode="dense", filters=only_cv)
    assert set(keys(hits)) == {i for i in range(400) if i % 10 == 0}


def test_filter_falls_back_to_exact_when_the_graph_comes_up_short(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paper_index_module, "EXACT_FILTER_MAX", 0)
    idx = PaperIndex.open(tmp_path, FakeEmbedder(), exact_below=0)
    idx.add(CORPUS)
    original = VectorStore.search_ann

    def stingy(self: VectorStore, query: Any, count: int) -> Any:
        rows, sims = original(self, query, count)
        return rows[:, :1], sims[:, :1]  # a graph that finds only one neighbour

    monkeypatch.setattr(VectorStore, "search_ann", stingy)
    hits = idx.search("models", mode="dense", k=20, filters=SearchFilters(categories=("cs.CL",)))
    assert set(keys(hits)) == {3, 4, 8}


# --- sort and paging -------------------------------------------------------------


@pytest.mark.parametrize("mode", ["lexical", "hybrid", "dense"])
def test_sort_by_date_newest_first(index: PaperIndex, mode: str) -> None:
    hits = index.search("detection", sort="date", mode=mode, k=20)  # type: ignore[arg-type]
    dates = {d.key: d.date or datetime.date.min for d in CORPUS}
    got = [dates[h.key] for h in hits]
    assert got == sorted(got, reverse=True)
    assert len(hits) >= 3


def test_empty_query_lists_newest_first(index: PaperIndex) -> None:
    hits = index.search("   ", k=20)
    assert keys(hits) == [8, 5, 6, 1, 4, 3, 2, 7]  # undated paper last


@pytest.mark.parametrize("mode", ["lexical", "hybrid", "dense"])
@pytest.mark.parametrize("sort", ["relevance", "date"])
def test_pagination_is_a_window_on_one_ranking(index: PaperIndex, mode: str, sort: str) -> None:
    full = keys(index.search("detection models learning", k=8, mode=mode, sort=sort))  # type: ignore[arg-type]
    pages = [
        keys(index.search("detection models learning", k=3, offset=o, mode=mode, sort=sort))  # type: ignore[arg-type]
        for o in (0, 3, 6)
    ]
    assert [k for page in pages for k in page] == full
    assert index.search("detection", k=5, offset=100) == []


def test_search_many_matches_search_and_embeds_once(index: PaperIndex,
                                                    embedder: FakeEmbedder) -> None:
    queries = ["detection", '"few-shot"', "", "image synthesis"]
    embedder.calls.clear()
    batched = index.search_many(queries, k=4)
    # one call, and the empty query is not embedded
    assert len(embedder.calls) == 1 and len(embedder.calls[0]) == 3
    singles = [index.search(q, k=4) for q in queries]
    assert [keys(b) for b in batched] == [keys(s) for s in singles]


# --- updates ---------------------------------------------------------------------


def test_incremental_add_embeds_only_new_papers_and_keeps_old_rows(
    tmp_path: Path, embedder: FakeEmbedder
) -> None:
    idx = PaperIndex.open(tmp_path, embedder, exact_below=0)
    idx.add(CORPUS[:5])
    vectors_before = (tmp_path / "vectors.f16").read_bytes()
    embedder.calls.clear()
    new = [IndexDoc(100, "Quantum annealing schedules", "We tune annealing schedules.")]
    assert idx.add(new) == 1
    assert [t for call in embedder.calls for t in call] == ["Quantum annealing schedules. "
                                                             "We tune annealing schedules."]
    assert (tmp_path / "vectors.f16").read_bytes().startswith(vectors_before)
    assert (tmp_path / "ann.usearch").exists()  # the graph is kept current by add()
    assert keys(idx.search("annealing", mode="lexical")) == [100]
    assert keys(idx.search("annealing schedules", mode="dense", k=1)) == [100]
    assert idx.keys() == {d.key for d in CORPUS[:5]} | {100}
    # and it survives reopening
    idx.close()
    reopened = PaperIndex.open(tmp_path, FakeEmbedder(), exact_below=0)
    assert keys(reopened.search("annealing", mode="hybrid", k=1)) == [100]


def test_upsert_replaces_old_version(index: PaperIndex) -> None:
    index.add([IndexDoc(3, "Convolutional sequence to sequence learning",
                        "Convolutions instead of recurrence.", date=datetime.date(2017, 5, 8))])
    assert 3 not in keys(index.search("transformer", mode="lexical"))
    assert keys(index.search("convolutions", mode="lexical")) == [3]
    assert len(index.keys()) == len(CORPUS)
    assert len(index.search("", k=50)) == len(CORPUS)
    dense = index.search("convolutional sequence learning recurrence", mode="dense", k=50)
    assert keys(dense).count(3) == 1


def test_add_reports_progress_per_committed_batch(tmp_path: Path) -> None:
    steps: list[int] = []
    idx = PaperIndex.open(tmp_path, FakeEmbedder())
    assert idx.add(CORPUS, batch_size=3, progress=steps.append) == len(CORPUS)
    assert steps == [3, 3, 2]
    assert idx.manifest()["generation"] == 3


def test_duplicate_keys_in_one_add_keep_the_last(index: PaperIndex) -> None:
    index.add([IndexDoc(50, "first", "alpha"), IndexDoc(50, "second", "beta")])
    assert keys(index.search("beta", mode="lexical")) == [50]
    assert index.search("alpha", mode="lexical") == []


def test_remove(index: PaperIndex) -> None:
    index.remove([1, 6, 12345])
    assert index.keys() == {d.key for d in CORPUS} - {1, 6}
    for mode in ("lexical", "dense", "hybrid"):
        assert not {1, 6} & set(keys(index.search("out-of-distribution detection", k=20,
                                                  mode=mode)))  # type: ignore[arg-type]
    assert index.embedding(1) is None
    index.add([CORPUS[0]])  # re-adding a removed key brings it back
    assert 1 in keys(index.search("energy", mode="lexical"))


def test_remove_survives_reopen(tmp_path: Path) -> None:
    idx = PaperIndex.open(tmp_path, FakeEmbedder())
    idx.add(CORPUS)
    idx.remove([4])
    idx.close()
    again = PaperIndex.open(tmp_path, FakeEmbedder())
    assert 4 not in again
    assert again.search("few-shot", mode="lexical") == []
    assert again.manifest()["counts"]["papers"] == len(CORPUS) - 1


def test_manifest_and_embedding(index: PaperIndex, embedder: FakeEmbedder) -> None:
    index.add([IndexDoc(99, "x", "y")], source_version="store@42")
    manifest = index.manifest()
    assert manifest["model_id"] == embedder.model_id
    assert manifest["counts"]["papers"] == len(CORPUS) + 1
    assert manifest["source_version"] == "store@42"
    assert manifest["built_at"] and manifest["built_at"] <= manifest["updated_at"]
    vector = index.embedding(3)
    expected = embedder.encode(["Attention is all you need. " + CORPUS[2].abstract])[0]
    assert vector is not None and vector.dtype == np.float32
    assert np.allclose(vector, expected, atol=1e-3)
    assert index.embedding(424242) is None


# --- related ---------------------------------------------------------------------


@pytest.mark.parametrize("exact_below", [0, 10_000])
def test_related_excludes_itself_and_finds_near_duplicate(tmp_path: Path,
                                                          exact_below: int) -> None:
    twin = IndexDoc(9, "Energy based out of distribution detection (extended)",
                    "We propose an energy score for detecting inputs unlike the training data, "
                    "extended.")
    idx = PaperIndex.open(tmp_path, FakeEmbedder(), exact_below=exact_below)
    idx.add([*CORPUS, twin])
    hits = idx.related(1, k=5)
    assert 1 not in keys(hits)
    assert keys(hits)[0] == 9
    assert hits[0].dense_score is not None and hits[0].dense_score > 0.8
    assert idx.related(777) == []
    only_cv = idx.related(1, k=5, filters=SearchFilters(categories=("cs.CV",)))
    assert set(keys(only_cv)) == {2, 5, 6}


# --- model staleness and laziness --------------------------------------------------


def test_other_model_id_raises_stale_on_dense_search(index: PaperIndex, tmp_path: Path) -> None:
    index.close()
    other = PaperIndex.open(tmp_path / "idx", FakeEmbedder(model_id="another-model"))
    with pytest.raises(IndexStaleError, match="paperfeed reindex"):
        other.search("detection", mode="dense")
    with pytest.raises(IndexStaleError):
        other.search("detection")
    with pytest.raises(IndexStaleError):
        other.add([IndexDoc(77, "t", "a")])
    assert keys(other.search("residual", mode="lexical")) == [2]  # lexical still answers


def test_lexical_use_never_loads_the_embedder(index: PaperIndex, tmp_path: Path) -> None:
    index.close()
    loads: list[int] = []

    def factory() -> FakeEmbedder:
        loads.append(1)
        return FakeEmbedder()

    idx = PaperIndex.open(tmp_path / "idx", factory)
    assert keys(idx.search("residual", mode="lexical")) == [2]
    assert idx.search("", k=3)
    assert idx.related(1, k=2)  # stored vectors: no model needed either
    assert loads == []
    idx.search("residual")
    assert loads == [1]


def test_empty_index_answers_nothing(tmp_path: Path) -> None:
    idx = PaperIndex.open(tmp_path, FakeEmbedder())
    assert idx.search("anything") == []
    assert idx.related(1) == []
    assert idx.keys() == set()
    assert idx.manifest()["counts"]["papers"] == 0


def test_embeddings_read_many_in_the_order_asked(index: PaperIndex) -> None:
    keys_found, matrix = index.embeddings([3, 100, 1])
    assert keys_found == [3, 1] and matrix.shape[0] == 2
    assert (matrix[0] == index.embedding(3)).all() and (matrix[1] == index.embedding(1)).all()
    assert index.embeddings([])[0] == []


# --- lexical evidence for the adaptive fusion -----------------------------------------


def test_coverage_is_the_share_of_query_idf_held_by_the_best_hit(index: PaperIndex) -> None:
    full, partial, none, empty = index.coverages([
        "energy out-of-distribution detection",  # every word in paper 1
        "energy score for protein folding",  # 'energy', 'score' only
        "quantum chromodynamics lattice",  # no paper has these words
        "the of and",  # stop words only
    ])
    assert full == pytest.approx(1.0)
    assert 0.0 < partial < 0.7
    assert none == 0.0
    assert empty == 0.0


def test_rare_words_weigh_more_in_the_coverage(index: PaperIndex) -> None:
    # 'detection' is in four papers, 'diffusion' in one: the query whose rare word
    # is matched (by the best hit) has the larger coverage.
    rare_matched, common_matched = index.coverages(
        ["diffusion zebrafish", "detection zebrafish"])
    assert rare_matched > common_matched > 0.0


def test_hybrid_weight_follows_the_evidence(index: PaperIndex) -> None:
    """The fused score of the best hit moves with the adaptive weight, not with the mode."""
    fixed = paper_index_module.FusionParams(method="convex", norm="minmax", alpha=0.8)
    adaptive = paper_index_module.FusionParams(method="convex", norm="minmax", alpha=0.8,
                                               alpha_low=0.0)
    index._search_fusion = fixed
    strong_fixed = index.search("energy out-of-distribution detection", k=3)
    weak_fixed = index.search("energy score for protein folding", k=3)
    index._search_fusion = adaptive
    strong = index.search("energy out-of-distribution detection", k=3)
    weak = index.search("energy score for protein folding", k=3)
    # Full coverage: the adaptive weight is alpha, so nothing changes.
    assert [(h.key, round(h.score, 9)) for h in strong] == [
        (h.key, round(h.score, 9)) for h in strong_fixed]
    # Partial coverage: less lexical weight, so the scores of papers the two sides
    # disagree on change.
    assert [round(h.score, 6) for h in weak] != [round(h.score, 6) for h in weak_fixed]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=400))
def test_coverage_of_any_text_is_a_share(index: PaperIndex, text: str) -> None:
    """Hostile or empty queries (control characters, emoji, quotes, huge words) give a
    coverage in [0, 1] and a hybrid search that answers."""
    (coverage,) = index.coverages([text])
    assert 0.0 <= coverage <= 1.0 + 1e-9
    index.search(text, k=3)
