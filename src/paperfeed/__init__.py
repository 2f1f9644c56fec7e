"""paperfeed: a self-hosted research-paper feed.

The public surface is small on purpose: the paper record that every source
yields, and the error type every parser raises. Everything else lives in one
package per capability (sources, store, index, embed, cli).
"""

from paperfeed.errors import PaperfeedError, SourceError
from paperfeed.records import Author, PaperRecord, Provenance

__all__ = ["Author", "PaperRecord", "PaperfeedError", "Provenance", "SourceError"]
__version__ = "0.1.0"
