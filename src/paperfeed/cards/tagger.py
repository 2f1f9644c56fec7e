"""A CRF sequence tagger for TASK / DATASET / METHOD / METRIC phrases in sentences.

Owns the tokenizer (character offsets kept, so every span's text is a slice of
its sentence), the token features, training (`train_tagger`, `train_default`)
and tagging (`CrfTagger`, a `cards.model.Tagger`). A model is two files: the
crfsuite weights at `path` and a JSON sidecar at `path + ".json"` recording the
version, the training configuration and the gazetteer. It reads annotated
corpora through `cards.corpora` and writes nothing but the model files.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pycrfsuite

from paperfeed.card_types import SPAN_LABELS, Span
from paperfeed.cards.corpora import (
    LabelledSentence,
    bio_spans,
    read_pwc_names,
    read_scierc,
    read_tdms_kb,
    read_tdmsci,
)
from paperfeed.errors import PaperfeedError
from paperfeed.sources import read_records
from paperfeed.store.files import atomic_write, read_json, temp_path

__all__ = [
    "MODEL_VERSION",
    "CrfTagger",
    "TaggerConfig",
    "TaggerModelError",
    "build_gazetteer",
    "cross_label",
    "sentence_features",
    "tokenize",
    "train_default",
    "train_tagger",
    "word_clusters",
]

# Bump when the tokenizer, the features or the training data change: a model
# trained by another version is refused at load time.
MODEL_VERSION = 1

# Numbers with inner points stay whole ("95.3"); words split at hyphens and
# apostrophes, as TDMSci's tokens do; every other symbol is a token of its own.
_TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)+|\w+|[^\w\s]")
# Longer words are pasted code, URLs or noise: one shared feature value is enough.
_MAX_WORD = 40
# Bounded so tagging a whole corpus keeps memory flat.
_CACHE_SIZE = 200_000


class TaggerModelError(PaperfeedError):
    """A tagger model is missing, unreadable or from another MODEL_VERSION."""


@dataclass(frozen=True)
class TaggerConfig:
    """Training options; recorded in the model's sidecar."""

    # Picked on SciERC dev + a held-out fifth of TDMSci train (docs/decisions/card-tagger.md).
    c1: float = 0.02
    c2: float = 0.1
    max_iterations: int = 150
    # The KB gazetteer measured no better on the dev splits (docs/decisions/card-tagger.md).
    gazetteer: bool = False
    clusters: bool = True


def tokenize(sentence: str) -> list[tuple[str, int, int]]:
    """(token, start, end) for each token, offsets into `sentence`."""
    return [(m.group(), m.start(), m.end()) for m in _TOKEN_RE.finditer(sentence)]


def _shape(word: str) -> str:
    """Character classes with runs collapsed: "ImageNet" -> "XxXx", "F1" -> "Xd"."""
    out: list[str] = []
    for ch in word:
        c = "X" if ch.isupper() else "x" if ch.islower() else "d" if ch.isdigit() else ch
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out)[:8]


class _Features:
    """Per-word feature strings, computed once per distinct word and reused."""

    def __init__(self, gazetteer: dict[str, dict[str, str]] | None,
                 clusters: dict[str, list[int]] | None = None) -> None:
        # gazetteer: first lowercased token -> {"tok tok ...": label}
        self.gazetteer = gazetteer or {}
        self.clusters = clusters or {}
        self.max_gaz_len = max((len(k.split(" ")) for v in self.gazetteer.values()
                                for k in v), default=0)
        self.cache: dict[str, tuple[list[str], list[str], list[str], str, str]] = {}

    def word(self, word: str) -> tuple[list[str], list[str], list[str], str, str]:
        hit = self.cache.get(word)
        if hit is not None:
            return hit
        low = word.lower() if len(word) <= _MAX_WORD else "<long>"
        shape = _shape(word)
        # Fewer features tag faster; these are the ones whose removal cost
        # nothing on the dev splits (second-letter suffixes, neighbour shapes did not help).
        own = ["w=" + low, "sh=" + shape, "p3=" + low[:3], "s3=" + low[-3:], "s4=" + low[-4:]]
        if word[:1].isupper():
            own.append("cap")
        if word.isupper() and len(word) > 1:
            own.append("upper")
        if any(ch.isdigit() for ch in word):
            own.append("digit")
        if len(word) == 1 and not word.isalnum():
            own.append("punct")
        # What a neighbour contributes, under a position prefix.
        left = ["-1w=" + low]
        right = ["+1w=" + low]
        ids = self.clusters.get(low)
        if ids:
            # Coarse and fine cluster: rare words share what their cluster learned.
            own += [f"c{i}={c}" for i, c in enumerate(ids)]
            left.append(f"-1c0={ids[0]}")
            right.append(f"+1c0={ids[0]}")
        hit = (own, left, right, low, shape)
        if len(self.cache) >= _CACHE_SIZE:
            self.cache.clear()
        self.cache[word] = hit
        return hit

    def gazetteer_tags(self, lows: Sequence[str]) -> list[str | None]:
        """A "gz=B-LABEL" / "gz=I-LABEL" feature per token of the longest gazetteer match."""
        out: list[str | None] = [None] * len(lows)
        if not self.gazetteer:
            return out
        i = 0
        while i < len(lows):
            entries = self.gazetteer.get(lows[i])
            matched = 0
            if entries:
                for n in range(min(self.max_gaz_len, len(lows) - i), 0, -1):
                    label = entries.get(" ".join(lows[i:i + n]))
                    if label:
                        out[i] = "gz=B-" + label
                        for j in range(i + 1, i + n):
                            out[j] = "gz=I-" + label
                        matched = n
                        break
            i += matched or 1
        return out

    def sentence(self, words: Sequence[str]) -> list[list[str]]:
        infos = [self.word(w) for w in words]
        lows = [info[3] for info in infos]
        gaz = self.gazetteer_tags(lows)
        n = len(words)
        out = []
        for i, (own, _, _, low, _) in enumerate(infos):
            feats = own.copy()
            if i > 0:
                prev = infos[i - 1]
                feats += prev[1]
                feats.append("b-1=" + prev[3] + "|" + low)
                feats.append("-2w=" + lows[i - 2] if i > 1 else "-2w=<s>")
            else:
                feats.append("BOS")
            if i + 1 < n:
                nxt = infos[i + 1]
                feats += nxt[2]
                feats.append("b+1=" + low + "|" + nxt[3])
                feats.append("+2w=" + lows[i + 2] if i + 2 < n else "+2w=</s>")
            else:
                feats.append("EOS")
            g = gaz[i]
            if g:
                feats.append(g)
                if i > 0 and gaz[i - 1] is None:
                    feats.append("gz-start")
            out.append(feats)
        return out


def sentence_features(words: Sequence[str],
                      gazetteer: dict[str, dict[str, str]] | None = None,
                      clusters: dict[str, list[int]] | None = None) -> list[list[str]]:
    """The feature strings of each word, as the tagger sees them (for inspection and tests)."""
    return _Features(gazetteer, clusters).sentence(words)


def _retokenize(sentence: LabelledSentence) -> tuple[list[str], list[str]]:
    """The corpus tokens re-split by `tokenize`, so training sees what tagging will see."""
    words: list[str] = []
    labels: list[str] = []
    pending: str | None = None  # a B- whose token vanished (e.g. a lone control character)
    for token, label in zip(sentence.tokens, sentence.labels, strict=True):
        pieces = _TOKEN_RE.findall(token)
        if not pieces:
            if label.startswith("B-"):
                pending = label
            continue
        if pending and label == "I-" + pending[2:]:
            label = pending
        pending = None
        words.append(pieces[0])
        labels.append(label)
        inner = "O" if label == "O" else "I-" + label[2:]
        for piece in pieces[1:]:
            words.append(piece)
            labels.append(inner)
    return words, labels


def build_gazetteer(entries: Iterable[tuple[str, str]]) -> dict[str, dict[str, str]]:
    """Index (phrase, label) pairs by their first lowercased token; the first label wins."""
    out: dict[str, dict[str, str]] = {}
    for phrase, label in entries:
        toks = [t.lower() for t, _, _ in tokenize(phrase)]
        if not toks or len(toks) > 8:
            continue
        out.setdefault(toks[0], {}).setdefault(" ".join(toks), label)
    return out


def word_clusters(texts: Iterable[str], *, max_words: int = 50_000, min_count: int = 5,
                  sizes: Sequence[int] = (256, 1024), seed: int = 0
                  ) -> dict[str, list[int]]:
    """Cluster ids (one per size, coarse to fine) for the frequent lowercased words of `texts`.

    Words are described by their positive PMI with the 5,000 most frequent
    words at offsets -2..+2, reduced to 100 dimensions by SVD and clustered by
    k-means. Unsupervised: the raw arXiv abstracts are the texts, no labels.
    """
    # Imported here: only training needs them.
    import numpy as np
    import scipy.sparse as sp
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    docs = [[w.lower() for w in _TOKEN_RE.findall(text)] for text in texts]
    counts: dict[str, int] = {}
    for doc in docs:
        for w in doc:
            counts[w] = counts.get(w, 0) + 1
    ranked = sorted((w for w, c in counts.items() if c >= min_count),
                    key=lambda w: (-counts[w], w))[:max_words]
    index = {w: i for i, w in enumerate(ranked)}
    n_ctx = min(5000, len(ranked))
    if len(ranked) < max(sizes) or n_ctx < 200:
        raise ValueError(f"too few frequent words ({len(ranked)}) to cluster")
    rows, cols = [], []
    for doc in docs:
        ids = np.fromiter((index.get(w, -1) for w in doc), dtype=np.int64, count=len(doc))
        for k, off in enumerate((-2, -1, 1, 2)):
            x, y = (ids[:-off], ids[off:]) if off > 0 else (ids[-off:], ids[:off])
            keep = (x >= 0) & (y >= 0) & (y < n_ctx)
            rows.append(x[keep])
            cols.append(y[keep] + k * n_ctx)
    row, col = np.concatenate(rows), np.concatenate(cols)
    cooc = sp.coo_matrix((np.ones(len(row), dtype=np.float64), (row, col)),
                         shape=(len(ranked), 4 * n_ctx)).tocsr().tocoo()
    total = cooc.data.sum()
    row_sum = np.bincount(cooc.row, weights=cooc.data, minlength=cooc.shape[0])
    # Context counts smoothed by ^0.75, as in word2vec: rare contexts get less PMI.
    col_sum = np.bincount(cooc.col, weights=cooc.data, minlength=cooc.shape[1]) ** 0.75
    col_sum *= total / col_sum.sum()
    pmi = np.log(cooc.data * total / (row_sum[cooc.row] * col_sum[cooc.col]))
    pos = pmi > 0
    ppmi = sp.csr_matrix((pmi[pos], (cooc.row[pos], cooc.col[pos])), shape=cooc.shape)
    vectors = normalize(TruncatedSVD(100, random_state=seed).fit_transform(ppmi))
    labels = [MiniBatchKMeans(k, random_state=seed, batch_size=4096, n_init=1)
              .fit_predict(vectors) for k in sizes]
    return {w: [int(lab[i]) for lab in labels] for i, w in enumerate(ranked)}


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def train_tagger(sentences: Sequence[LabelledSentence], out_path: Path, *,
                 config: TaggerConfig = TaggerConfig(),
                 gazetteer: dict[str, dict[str, str]] | None = None,
                 clusters: dict[str, list[int]] | None = None,
                 meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train a CRF on `sentences` and write it to `out_path` (+ its ".json" sidecar).

    Both files are written to temporary names first and renamed into place, so
    a reader never sees half a model. Returns the sidecar's contents plus the
    training seconds.
    """
    if not sentences:
        raise ValueError("no training sentences")
    gaz = gazetteer if config.gazetteer else None
    clu = clusters if config.clusters else None
    feats = _Features(gaz, clu)
    start = time.perf_counter()
    trainer = pycrfsuite.Trainer(verbose=False)
    for sentence in sentences:
        words, labels = _retokenize(sentence)
        if words:
            trainer.append(feats.sentence(words), labels)
    trainer.set_params({
        "c1": config.c1, "c2": config.c2, "max_iterations": config.max_iterations,
        "feature.possible_transitions": True,
    })
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with temp_path(out_path) as tmp_model:
        trainer.train(str(tmp_model))
        seconds = time.perf_counter() - start
        info: dict[str, Any] = {
            "version": MODEL_VERSION, "labels": list(SPAN_LABELS), "config": asdict(config),
            "sentences": len(sentences), "train_seconds": round(seconds, 1),
            "meta": meta or {}, "gazetteer": gaz or {}, "clusters": clu or {},
        }
    atomic_write(_sidecar(out_path), json.dumps(info, ensure_ascii=False))
    return info


@dataclass
class CrfTagger:
    """Tags sentences with a trained CRF; `CrfTagger.load(path)` opens a model.

    Picklable (it reopens the model by path), so it can be handed to worker processes.
    """

    path: Path
    info: dict[str, Any]
    _features: _Features = field(repr=False)
    _tagger: pycrfsuite.Tagger = field(repr=False)

    @classmethod
    def load(cls, path: Path) -> CrfTagger:
        path = Path(path)
        meta = _sidecar(path)
        if not path.is_file() or not meta.is_file():
            raise TaggerModelError(f"{path}: tagger model not found (needs {path.name} and "
                                   f"{meta.name}); train one with cards.tagger.train_default")
        try:
            info = read_json(meta)
        except (OSError, ValueError) as exc:
            raise TaggerModelError(f"{meta}: unreadable tagger sidecar: {exc}") from exc
        if info.get("version") != MODEL_VERSION:
            raise TaggerModelError(f"{path}: model version {info.get('version')}, this code "
                                   f"needs {MODEL_VERSION}; retrain it")
        tagger = pycrfsuite.Tagger()
        try:
            tagger.open(str(path))
        except (OSError, ValueError) as exc:
            raise TaggerModelError(f"{path}: not a crfsuite model: {exc}") from exc
        features = _Features(info.get("gazetteer") or None, info.get("clusters") or None)
        return cls(path, info, features, tagger)

    def __reduce__(self) -> tuple[Any, tuple[Path]]:
        return (CrfTagger.load, (self.path,))

    def tag_words(self, words: Sequence[str]) -> list[str]:
        """BIO labels for already tokenized words."""
        if not words:
            return []
        return list(self._tagger.tag(self._features.sentence(words)))

    def tag(self, sentences: Sequence[str]) -> list[list[Span]]:
        out = []
        for sentence in sentences:
            toks = tokenize(sentence)
            labels = self.tag_words([t for t, _, _ in toks])
            spans = []
            for label, first, last in bio_spans(labels):
                start, end = toks[first][1], toks[last][2]
                spans.append(Span(label, start, end, sentence[start:end]))
            out.append(spans)
        return out


# The shipped configuration: what `train_default` trains, from these files under data_dir.
SCIERC_FILES = ("scierc/train.json", "scierc/dev.json")
TDMSCI_FILES = ("nlp-tdms-tdmsci/TDMSci/conllFormat/train_1500_v2.conll",)
ARXIV_FILE = "arxiv-daily-cs/arxiv_daily_cs_unique.jsonl.gz"
KB_FILES = {
    "nlp-tdms-tdmsci/NLP-TDMS/kb/taskKB.tsv": "TASK",
    "nlp-tdms-tdmsci/NLP-TDMS/kb/datasetKB.tsv": "DATASET",
    "nlp-tdms-tdmsci/NLP-TDMS/kb/evaMatrixKB.tsv": "METRIC",
}
PWC_TASKS = "pwc-sota-tables/tasks"
DEFAULT_CONFIG = TaggerConfig()


def _require(data_dir: Path, rel: str) -> Path:
    path = data_dir / rel
    if not path.exists():
        raise FileNotFoundError(f"{path}: training data not found (data_dir={data_dir}; "
                                "expected the ../shared/data folder)")
    return path


def cross_label(sentences: Sequence[LabelledSentence], tagger: CrfTagger,
                take: Sequence[str]) -> list[LabelledSentence]:
    """Add `tagger`'s spans of the `take` labels where a sentence's own annotation is all O.

    SciERC never marks TDMSci's benchmark-style datasets, and TDMSci never marks
    methods; without this, joint training learns "a method is O" from TDMSci.
    """
    out = []
    for sentence in sentences:
        words, labels = _retokenize(sentence)
        for label, first, last in bio_spans(tagger.tag_words(words)):
            if label in take and all(tag == "O" for tag in labels[first:last + 1]):
                labels[first:last + 1] = ["B-" + label] + ["I-" + label] * (last - first)
        out.append(LabelledSentence(tuple(words), tuple(labels)))
    return out


def train_default(data_dir: Path, out_path: Path, *, config: TaggerConfig = DEFAULT_CONFIG,
                  scierc: Sequence[str] = SCIERC_FILES, tdmsci: Sequence[str] = TDMSCI_FILES
                  ) -> dict[str, Any]:
    """Train the shipped configuration from `data_dir` (the ../shared/data folder).

    Two auxiliary CRFs, one per corpus, first fill in the label types the other
    corpus does not annotate (`cross_label`); the shipped CRF is trained on both
    corpora so completed. Returns figures: counts, seconds, the model path.
    """
    start = time.perf_counter()
    data_dir, out_path = Path(data_dir), Path(out_path)
    paths = [_require(data_dir, rel) for rel in (*scierc, *tdmsci)]
    sci = [s for p in paths[:len(scierc)] for s in read_scierc(p)]
    tdm = [s for p in paths[len(scierc):] for s in read_tdmsci(p)]
    gazetteer = None
    if config.gazetteer:
        entries: list[tuple[str, str]] = []
        for rel, label in KB_FILES.items():
            entries += read_tdms_kb(_require(data_dir, rel), label)
        entries += read_pwc_names(_require(data_dir, PWC_TASKS))
        gazetteer = build_gazetteer(entries)
    clusters = None
    cluster_seconds = 0.0
    if config.clusters:
        t = time.perf_counter()
        texts = (f"{r.title} . {r.abstract}" for r in read_records(_require(data_dir, ARXIV_FILE)))
        clusters = word_clusters(texts)
        cluster_seconds = time.perf_counter() - t
    with tempfile.TemporaryDirectory(dir=out_path.parent if out_path.parent.exists() else None
                                     ) as tmp:
        aux = {}
        for name, part in (("scierc", sci), ("tdmsci", tdm)):
            train_tagger(part, Path(tmp) / name, config=config, gazetteer=gazetteer,
                         clusters=clusters)
            aux[name] = CrfTagger.load(Path(tmp) / name)
        sentences = [*cross_label(sci, aux["tdmsci"], ("TASK", "DATASET", "METRIC")),
                     *cross_label(tdm, aux["scierc"], ("METHOD",))]
    info = train_tagger(sentences, out_path, config=config, gazetteer=gazetteer,
                        clusters=clusters, meta={"trained_on": [*scierc, *tdmsci]})
    return {
        "model": str(out_path), "sentences": len(sentences),
        "tokens": sum(len(s.tokens) for s in sentences),
        "gazetteer_entries": sum(len(v) for v in (gazetteer or {}).values()),
        "cluster_words": len(clusters or {}), "cluster_seconds": round(cluster_seconds, 1),
        "train_seconds": info["train_seconds"],
        "total_seconds": round(time.perf_counter() - start, 1), "version": MODEL_VERSION,
    }
