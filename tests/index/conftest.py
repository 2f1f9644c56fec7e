"""Fixtures for the index tests: a tiny deterministic embedder and a small corpus."""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from paperfeed.index import IndexDoc, PaperIndex

DIM = 64


class FakeEmbedder:
    """Hashed bag of words, L2-normalised: similar texts get similar vectors, instantly."""

    dimension = DIM

    def __init__(self, model_id: str = "fake-bow-1") -> None:
        self.model_id = model_id
        self.calls: list[list[str]] = []

    def encode(
        self, texts: Sequence[str], *, progress: Callable[[int], None] | None = None
    ) -> npt.NDArray[np.float32]:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % DIM] += 1.0
            norm = np.linalg.norm(out[i])
            if norm:
                out[i] /= norm
        if progress:
            progress(len(texts))
        return out


D = datetime.date

CORPUS = [
    IndexDoc(1, "Energy-based out-of-distribution detection",
             "We propose an energy score for detecting inputs unlike the training data.",
             ("Weitang Liu", "Sharon Li"), ("cs.LG",), D(2020, 10, 8)),
    IndexDoc(2, "Deep residual learning for image recognition",
             "Residual networks ease the training of very deep networks for image recognition; "
             "we also discuss out-of-distribution detection briefly.",
             ("Kaiming He", "Xiangyu Zhang", "Jian Sun"), ("cs.CV",), D(2015, 12, 10)),
    IndexDoc(3, "Attention is all you need",
             "The Transformer relies entirely on attention to draw global dependencies between "
             "input and output sequences for machine translation.",
             ("Ashish Vaswani", "Noam Shazeer"), ("cs.CL", "cs.LG"), D(2017, 6, 12)),
    IndexDoc(4, "Language models are few-shot learners",
             "Scaling up language models greatly improves task-agnostic few-shot performance.",
             ("Tom B. Brown", "Benjamin Mann"), ("cs.CL",), D(2020, 5, 28)),
    IndexDoc(5, "Segment anything",
             "A promptable segmentation model trained on a dataset of one billion masks; "
             "detection of distribution shift is not studied.",
             ("Alexander Kirillov", "Luc Van Gool"), ("cs.CV",), D(2023, 4, 5)),
    IndexDoc(6, "Generalized out-of-distribution detection: a survey",
             "Out-of-distribution detection is critical for safe machine learning; we unify "
             "anomaly detection, novelty detection and open set recognition.",
             ("Jingkang Yang", "Kaiyang Zhou", "Ziwei Liu"), ("cs.CV", "cs.LG"), D(2021, 10, 21)),
    IndexDoc(7, "Denoising diffusion probabilistic models",
             "High quality image synthesis with diffusion probabilistic models.",
             ("Jonathan Ho", "Ajay Jain"), ("cs.LG",), None),
    IndexDoc(8, "Émile's café: naïve Bayes for Zürich menus",
             "We classify menus from Zürich cafés with naïve Bayes and report accuracy.",
             ("Émile Zola-Dupont",), ("cs.CL",), D(2024, 1, 2)),
]


@pytest.fixture
def embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def index(tmp_path: Path, embedder: FakeEmbedder) -> PaperIndex:
    idx = PaperIndex.open(tmp_path / "idx", embedder)
    idx.add(CORPUS, batch_size=3)
    return idx
