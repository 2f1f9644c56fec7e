"""Choosing a backend: `load_embedder`.

Picks the backend (by default the int8 ONNX one, see docs/decisions/embedding.md) and
gives each backend/precision/length its own model id, so an index built with one is
detected stale with another. Above both backends: model.py and onnx_backend.py never
import this module.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Literal

from paperfeed.embed.cache import model_fingerprint
from paperfeed.embed.model import (
    BACKENDS,
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_SEQ_LENGTH,
    DIMENSION,
    ONNX_BATCH_SIZE,
    Backend,
    SentenceTransformerEmbedder,
    default_cache_dir,
    local_model_dir,
    model_label,
    resolve_model_path,
)
from paperfeed.embed.onnx_backend import OnnxEmbedder, onnx_model_file, read_max_positions
from paperfeed.embed.types import Embedder


def _onnx_available() -> bool:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def load_embedder(
    model_path: str | os.PathLike[str] | None = None,
    *,
    backend: Backend = "auto",
    cache_dir: str | os.PathLike[str] | None = None,
    max_seq_length: int = DEFAULT_MAX_SEQ_LENGTH,
    batch_size: int | None = None,
    threads: int | None = None,
    workers: int | None = None,
) -> Embedder:
    """The embedder for `backend`, model resolved as `resolve_model_path` says.

    "auto" is "onnx-int8" (falling back to "torch" with a warning when onnx or
    onnxruntime is not installed). The ONNX backends export the model once into
    `cache_dir` (default: the user cache folder) and reuse it while the model's
    files stay the same. `batch_size` defaults to 32 texts for PyTorch and 1
    for ONNX; `threads` to the usable cores; the ONNX backends run `workers`
    batches at once (default: one per thread).
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if max_seq_length < 1:
        raise ValueError(f"max_seq_length must be positive, not {max_seq_length}")
    model_dir = local_model_dir(resolve_model_path(model_path))
    if backend == "auto":
        if _onnx_available():
            backend = "onnx-int8"
        else:
            logging.getLogger(__name__).warning(
                "onnx/onnxruntime not installed: embedding with PyTorch, several times slower"
            )
            backend = "torch"

    max_seq_length = min(max_seq_length, read_max_positions(model_dir))
    label = model_label(model_dir)
    if backend == "torch":
        fingerprint = model_fingerprint(model_dir)
        model_id = f"{label}@torch-fp32-s{max_seq_length}-{fingerprint[:10]}"
        return SentenceTransformerEmbedder(
            model_dir,
            max_seq_length=max_seq_length,
            batch_size=batch_size or DEFAULT_BATCH_SIZE,
            model_id=model_id,
        )
    precision: Literal["fp32", "int8"] = "int8" if backend == "onnx-int8" else "fp32"
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    onnx_file, fingerprint = onnx_model_file(model_dir, folder, precision, label=label)
    return OnnxEmbedder(
        model_dir,
        onnx_file,
        model_id=f"{label}@{backend}-s{max_seq_length}-{fingerprint[:10]}",
        dimension=DIMENSION,
        max_seq_length=max_seq_length,
        batch_size=batch_size or ONNX_BATCH_SIZE,
        threads=threads,
        workers=workers,
    )
