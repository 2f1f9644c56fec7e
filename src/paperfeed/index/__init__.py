"""Search over the papers: BM25 (tantivy), embeddings (usearch) and their fusion.

Owns everything under one index directory. Takes plain `IndexDoc`s from the
caller (it never imports the store) and answers `search`, `search_many` and
`related` with `SearchHit`s. Decisions and measurements: docs/decisions/
lexical-engine.md, vector-engine.md and fusion.md.
"""

from paperfeed.index.fusion import FusionParams
from paperfeed.index.paper_index import PaperIndex
from paperfeed.index.types import IndexDoc, QueryError, SearchFilters, SearchHit, Segment

__all__ = [
    "FusionParams",
    "IndexDoc",
    "PaperIndex",
    "QueryError",
    "SearchFilters",
    "SearchHit",
    "Segment",
]
