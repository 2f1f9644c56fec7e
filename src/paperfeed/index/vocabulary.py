"""The corpus vocabulary: each term's idf over the stored papers, and tf-idf rows for texts.

Owns fitting scikit-learn's tf-idf settings on the papers' titles and
abstracts (a sample when there are very many; words split by
`paperfeed.text.tokenize`, as the search index splits them), the vocabulary file in the
index folder (terms and idf in a compressed npz, no pickled objects), and
turning any texts into L2-normalised tf-idf rows over that vocabulary. It
never reads the store: the caller passes the texts (`Catalog.vocabulary` fits
and saves it). Used by the personal ranker's lexical part
(docs/decisions/ranker.md).
"""

from __future__ import annotations

import io
import json
import random
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from paperfeed.errors import PaperfeedError
from paperfeed.store.files import atomic_write
from paperfeed.text import tokenize

if TYPE_CHECKING:
    from scipy import sparse

__all__ = ["SAMPLE_SIZE", "VOCABULARY_FILE", "TfidfSettings", "Vocabulary", "VocabularyError"]

VOCABULARY_FILE = "vocabulary.npz"
# Papers the vocabulary is fitted on, at most: all of a store this size, so the rare
# words a user's papers share with a candidate are in it (a 30k sample of 75k papers
# measured worse on both benchmarks, docs/decisions/ranker.md). The cap bounds the
# fit's time and memory.
SAMPLE_SIZE = 200_000
# 2: words split as the search index splits them (paperfeed.text); a format-1 file was
# split by scikit-learn's pattern, so loading one fails and the catalog fits anew.
_FORMAT = 2


class VocabularyError(PaperfeedError):
    """A vocabulary file that cannot be read (damaged, or written by another format)."""


@dataclass(frozen=True)
class TfidfSettings:
    """How texts become terms; stored with the vocabulary so transform matches the fit."""

    # Unigrams and adjacent pairs: "gaussian splatting" is rarer than either word.
    max_ngram: int = 2
    # A term must occur in this many sampled papers (typos and one-off ids stay out).
    min_df: int = 2
    # 1 + log(tf): a word said ten times is not ten times the evidence.
    sublinear_tf: bool = True
    stop_words: bool = True  # scikit-learn's English list

    def __post_init__(self) -> None:
        if self.max_ngram not in (1, 2, 3):
            raise ValueError("max_ngram must be 1, 2 or 3")
        if self.min_df < 1:
            raise ValueError("min_df must be at least 1")


DEFAULT_SETTINGS = TfidfSettings()


def _counter(settings: TfidfSettings, vocabulary: dict[str, int] | None = None) -> Any:
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(
        # The index's split ("self-supervised" is two words): a term the lexical part
        # counts is a word BM25 scores. Lower-casing is the tokenizer's.
        tokenizer=tokenize,
        token_pattern=None,
        lowercase=False,
        ngram_range=(1, settings.max_ngram),
        stop_words="english" if settings.stop_words else None,
        vocabulary=vocabulary,
        min_df=1 if vocabulary is not None else settings.min_df,
        dtype=np.float64,
    )


class Vocabulary:
    """Terms with their idf; `transform` gives tf-idf rows of unit length (or zero)."""

    def __init__(
        self,
        terms: Sequence[str],
        idf: npt.ArrayLike,
        *,
        settings: TfidfSettings = DEFAULT_SETTINGS,
        n_docs: int = 0,
        corpus_size: int = 0,
    ) -> None:
        self.terms = list(terms)
        self.idf = np.asarray(idf, dtype=np.float64).ravel()
        if len(self.terms) != len(self.idf):
            raise ValueError("terms and idf differ in length")
        if not np.all(np.isfinite(self.idf)):
            raise ValueError("idf contains NaN or infinite values")
        if any("\n" in term for term in self.terms):
            raise ValueError("a term contains a newline")  # the file joins terms with them
        self.settings = settings
        self.n_docs = n_docs  # papers it was fitted on
        self.corpus_size = corpus_size  # papers in the corpus the sample came from
        self._vectorizer: Any = None

    def __len__(self) -> int:
        return len(self.terms)

    def __contains__(self, term: object) -> bool:
        return term in self._index()

    def _index(self) -> dict[str, int]:
        # Built on first use: loading the file stays cheap for callers that only check its age.
        if self._vectorizer is None:
            self._vectorizer = _counter(self.settings, {t: i for i, t in enumerate(self.terms)})
        mapping: dict[str, int] = self._vectorizer.vocabulary
        return mapping

    # --- fitting ------------------------------------------------------------------

    @classmethod
    def fit(
        cls, texts: Iterable[str], *, settings: TfidfSettings = DEFAULT_SETTINGS,
        corpus_size: int | None = None,
    ) -> Vocabulary:
        """Fit on `texts` (all of them); an empty or stop-words-only corpus gives no terms."""
        from scipy import sparse

        docs = [text if isinstance(text, str) else "" for text in texts]
        counter = _counter(settings)
        try:
            counts = counter.fit_transform(docs)
        except ValueError:  # scikit-learn's "empty vocabulary" / "no terms remain"
            return cls([], [], settings=settings, n_docs=len(docs),
                       corpus_size=corpus_size if corpus_size is not None else len(docs))
        df = np.bincount(sparse.csr_matrix(counts).indices, minlength=counts.shape[1])
        # scikit-learn's smooth idf: ln((1 + n) / (1 + df)) + 1.
        idf = np.log((1.0 + len(docs)) / (1.0 + df)) + 1.0
        terms = counter.get_feature_names_out().tolist()
        return cls(terms, idf, settings=settings, n_docs=len(docs),
                   corpus_size=corpus_size if corpus_size is not None else len(docs))

    @classmethod
    def fit_sample(
        cls, texts: Iterable[str], *, sample: int = SAMPLE_SIZE, seed: int = 0,
        settings: TfidfSettings = DEFAULT_SETTINGS,
    ) -> Vocabulary:
        """Fit on a uniform sample of at most `sample` texts (one pass, reservoir sampling)."""
        if sample < 1:
            raise ValueError("sample must be at least 1")
        rng = random.Random(seed)
        chosen: list[str] = []
        seen = 0
        for seen, text in enumerate(texts, start=1):
            if len(chosen) < sample:
                chosen.append(text)
            else:
                slot = rng.randrange(seen)
                if slot < sample:
                    chosen[slot] = text
        return cls.fit(chosen, settings=settings, corpus_size=seen)

    # --- use ----------------------------------------------------------------------

    def transform(self, texts: Iterable[str]) -> sparse.csr_matrix:
        """One L2-normalised tf-idf row per text; unknown words count for nothing.

        A text with no known term (empty, all stop words, another language) is
        a zero row, so its cosine to anything is 0.
        """
        # scipy and scikit-learn load here, not when the catalog imports this module.
        from scipy import sparse

        docs = [text if isinstance(text, str) else "" for text in texts]
        if not self.terms:
            return sparse.csr_matrix((len(docs), 0), dtype=np.float64)
        self._index()
        counts = sparse.csr_matrix(self._vectorizer.transform(docs), dtype=np.float64)
        if self.settings.sublinear_tf:
            np.log(counts.data, out=counts.data)
            counts.data += 1.0
        weighted = sparse.csr_matrix(counts @ sparse.diags(self.idf))
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
        scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        return sparse.csr_matrix(sparse.diags(scale) @ weighted)

    # --- the file -----------------------------------------------------------------

    def save(self, path: Path | str) -> None:
        """Write the vocabulary atomically (a temp file renamed over `path`)."""
        path = Path(path)
        meta = {"format": _FORMAT, "settings": asdict(self.settings), "n_docs": self.n_docs,
                "corpus_size": self.corpus_size}
        # Terms never hold a newline (the tokenizer splits on it), so one joined blob is safe
        # and far smaller than a fixed-width string array.
        blob = "\n".join(self.terms).encode("utf-8")
        content = io.BytesIO()
        np.savez_compressed(
            content,
            terms=np.frombuffer(blob, dtype=np.uint8),
            idf=self.idf.astype(np.float32),
            meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8),
        )
        # As readable as the rest of the index.
        atomic_write(path, content.getvalue(), mode=path.parent.stat().st_mode & 0o666)

    @classmethod
    def load(cls, path: Path | str) -> Vocabulary:
        """Read a file written by `save`. Raises VocabularyError if it is damaged or foreign."""
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(bytes(data["meta"]).decode("utf-8"))
                blob = bytes(data["terms"]).decode("utf-8")
                idf = np.asarray(data["idf"], dtype=np.float64)
            if meta.get("format") != _FORMAT:
                raise VocabularyError(f"{path}: unknown vocabulary format {meta.get('format')!r}")
            terms = blob.split("\n") if blob else []
            return cls(terms, idf, settings=TfidfSettings(**meta["settings"]),
                       n_docs=int(meta["n_docs"]), corpus_size=int(meta["corpus_size"]))
        except VocabularyError:
            raise
        except (OSError, ValueError, KeyError, TypeError, AttributeError, EOFError,
                zipfile.BadZipFile) as exc:
            raise VocabularyError(f"cannot read the vocabulary {path}: {exc}") from exc
