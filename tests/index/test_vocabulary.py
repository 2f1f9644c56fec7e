"""The corpus vocabulary: fit, file round trip, tf-idf rows, hostile input, the catalog's copy."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from paperfeed.catalog import Catalog
from paperfeed.index.vocabulary import (
    VOCABULARY_FILE,
    TfidfSettings,
    Vocabulary,
    VocabularyError,
)
from paperfeed.records import PaperRecord

TEXTS = [
    "Energy-based out-of-distribution detection with an energy score.",
    "Out-of-distribution detection for deep classifiers using the energy score.",
    "Gaussian splatting for real-time radiance field rendering.",
    "Real-time rendering of radiance fields with 3D Gaussian splatting and lidar.",
    "Attention is all you need: the Transformer for machine translation.",
    "Machine translation with attention and the Transformer architecture.",
    "Lidar point clouds for autonomous driving perception.",
    "Lidar and camera fusion for 3D object detection in autonomous driving.",
]


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return Vocabulary.fit(TEXTS)


def norms(rows: sparse.csr_matrix) -> np.ndarray:
    return np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1)).ravel())


def test_rows_match_scikit_learn_with_the_same_settings(vocabulary: Vocabulary) -> None:
    reference = TfidfVectorizer(ngram_range=(1, 2), stop_words="english", min_df=2,
                                sublinear_tf=True)
    expected = reference.fit_transform(TEXTS)
    assert vocabulary.terms == reference.get_feature_names_out().tolist()
    np.testing.assert_allclose(vocabulary.idf, reference.idf_)
    np.testing.assert_allclose(vocabulary.transform(TEXTS).toarray(), expected.toarray(),
                               atol=1e-12)


def test_rows_are_unit_length_and_pairs_are_terms(vocabulary: Vocabulary) -> None:
    rows = vocabulary.transform(TEXTS)
    assert rows.shape == (len(TEXTS), len(vocabulary))
    np.testing.assert_allclose(norms(rows), 1.0)
    assert "gaussian splatting" in vocabulary
    assert "the" not in vocabulary  # stop word
    assert "transformer" in vocabulary


def test_rare_shared_words_make_the_nearest_row(vocabulary: Vocabulary) -> None:
    rows = vocabulary.transform(TEXTS)
    query = vocabulary.transform(["Lidar perception in autonomous driving"])
    assert int(np.argmax((rows @ query.T).toarray().ravel())) in (6, 7)


@pytest.mark.parametrize("text", ["", "   ", "the and of", "zzqx wibble frobnicate",
                                  "a", "\x00\x01", "日本語のテキスト"])
def test_empty_stop_word_and_unknown_texts_give_zero_rows(vocabulary: Vocabulary,
                                                           text: str) -> None:
    rows = vocabulary.transform([text])
    assert rows.shape == (1, len(vocabulary))
    assert rows.nnz == 0


def test_no_texts_give_no_rows(vocabulary: Vocabulary) -> None:
    assert vocabulary.transform([]).shape == (0, len(vocabulary))


def test_save_and_load_round_trip(vocabulary: Vocabulary, tmp_path: Path) -> None:
    path = tmp_path / VOCABULARY_FILE
    vocabulary.save(path)
    loaded = Vocabulary.load(path)
    assert loaded.terms == vocabulary.terms
    np.testing.assert_allclose(loaded.idf, vocabulary.idf, rtol=1e-6)  # stored as float32
    assert loaded.settings == vocabulary.settings
    assert (loaded.n_docs, loaded.corpus_size) == (len(TEXTS), len(TEXTS))
    np.testing.assert_allclose(loaded.transform(TEXTS).toarray(),
                               vocabulary.transform(TEXTS).toarray(), atol=1e-6)
    assert [p.name for p in tmp_path.iterdir()] == [VOCABULARY_FILE]  # no temp file left


def test_the_file_holds_no_pickles(vocabulary: Vocabulary, tmp_path: Path) -> None:
    path = tmp_path / VOCABULARY_FILE
    vocabulary.save(path)
    with np.load(path, allow_pickle=False) as data:
        assert sorted(data.files) == ["idf", "meta", "terms"]
        assert all(data[name].dtype != object for name in data.files)


def test_settings_travel_with_the_file(tmp_path: Path) -> None:
    unigrams = Vocabulary.fit(TEXTS, settings=TfidfSettings(max_ngram=1, min_df=1))
    unigrams.save(tmp_path / "v.npz")
    loaded = Vocabulary.load(tmp_path / "v.npz")
    assert loaded.settings == TfidfSettings(max_ngram=1, min_df=1)
    assert not any(" " in term for term in loaded.terms)
    assert "frobnicate" not in loaded


@pytest.mark.parametrize("content", [b"", b"not a zip file", pickle.dumps({"terms": ["a"]}),
                                     b"PK\x03\x04broken"])
def test_a_damaged_file_raises_vocabulary_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / VOCABULARY_FILE
    path.write_bytes(content)
    with pytest.raises(VocabularyError):
        Vocabulary.load(path)


def test_a_file_of_another_format_raises_vocabulary_error(tmp_path: Path) -> None:
    path = tmp_path / VOCABULARY_FILE
    np.savez(path, terms=np.frombuffer(b"a", dtype=np.uint8), idf=np.ones(1, np.float32),
             meta=np.frombuffer(b'{"format": 99}', dtype=np.uint8))
    with pytest.raises(VocabularyError, match="format"):
        Vocabulary.load(path)
    with pytest.raises(VocabularyError):
        Vocabulary.load(tmp_path / "missing.npz")


def test_an_empty_corpus_gives_an_empty_vocabulary_that_still_works(tmp_path: Path) -> None:
    for texts in ([], ["", "the of and"], ["one lonely paper"]):  # min_df 2 keeps nothing
        empty = Vocabulary.fit(texts)
        assert len(empty) == 0 and not empty
        assert empty.transform(["anything at all"]).shape == (1, 0)
        empty.save(tmp_path / "empty.npz")
        assert len(Vocabulary.load(tmp_path / "empty.npz")) == 0


def test_fit_sample_is_deterministic_and_counts_the_whole_corpus() -> None:
    texts = [f"paper {i} about topic{i % 7} and method{i % 5}" for i in range(500)]
    a = Vocabulary.fit_sample(iter(texts), sample=100, seed=3)
    b = Vocabulary.fit_sample(iter(texts), sample=100, seed=3)
    assert a.terms == b.terms
    assert (a.n_docs, a.corpus_size) == (100, 500)
    small = Vocabulary.fit_sample(texts[:10], sample=100)
    assert (small.n_docs, small.corpus_size) == (10, 10)
    with pytest.raises(ValueError):
        Vocabulary.fit_sample(texts, sample=0)


def test_invalid_construction_is_refused() -> None:
    with pytest.raises(ValueError):
        Vocabulary(["a", "b"], [1.0])
    with pytest.raises(ValueError):
        Vocabulary(["a"], [float("nan")])
    with pytest.raises(ValueError):
        Vocabulary(["a\nb"], [1.0])
    with pytest.raises(ValueError):
        TfidfSettings(max_ngram=0)
    with pytest.raises(ValueError):
        TfidfSettings(min_df=0)


HOSTILE = st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(
    ["\x00", "\ud800", "\u202e", "\ufeff", "\n", "-", "’", "ﬁ", "İ"]), max_size=300)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(HOSTILE, max_size=6))
def test_transform_never_raises_on_any_text(texts: list[str]) -> None:
    vocabulary = Vocabulary.fit(TEXTS)  # cheap; a module fixture cannot be used under @given
    rows = vocabulary.transform(texts)
    assert rows.shape == (len(texts), len(vocabulary))
    assert np.all(np.isfinite(rows.data))
    assert np.all((np.abs(norms(rows) - 1.0) < 1e-9) | (norms(rows) == 0))


@settings(max_examples=50, deadline=None)
@given(texts=st.lists(HOSTILE, max_size=8))
def test_fit_never_raises_on_any_corpus(texts: list[str]) -> None:
    vocabulary = Vocabulary.fit(texts, settings=TfidfSettings(min_df=1))
    assert len(vocabulary.terms) == len(vocabulary.idf)
    assert vocabulary.transform(texts).shape == (len(texts), len(vocabulary))


# --- Catalog.vocabulary: fitted on first use, kept, refitted as the store grows ------------


def add_papers(catalog: Catalog, start: int, n: int) -> None:
    catalog.ingest_records(
        PaperRecord(title=f"Paper {i} on lidar perception" if i % 2 else f"Paper {i} on splatting",
                    abstract=f"We study topic{i % 3} with gaussian splatting and lidar.",
                    arxiv_id=f"2401.{i:05d}")
        for i in range(start, start + n))


def test_catalog_fits_saves_reuses_and_refits_the_vocabulary(data_dir: Path) -> None:
    with Catalog(data_dir) as catalog:
        add_papers(catalog, 0, 20)
        first = catalog.vocabulary()
        path = data_dir / "index" / VOCABULARY_FILE
        assert path.exists() and first.corpus_size == 20 and "lidar" in first
        stamp = path.stat().st_mtime_ns
        add_papers(catalog, 20, 4)  # 20% more: kept
        assert catalog.vocabulary().corpus_size == 20
        assert path.stat().st_mtime_ns == stamp
        add_papers(catalog, 24, 10)  # well over 20% more: refitted
        assert catalog.vocabulary().corpus_size == 34
        path.write_bytes(b"damaged")
        assert catalog.vocabulary().corpus_size == 34  # a damaged file is fitted again
        assert Vocabulary.load(path).corpus_size == 34


def test_an_empty_catalog_has_an_empty_vocabulary(data_dir: Path) -> None:
    with Catalog(data_dir) as catalog:
        assert len(catalog.vocabulary()) == 0
