"""Onboarding: a user's profile (the papers that are theirs, the feed's seed) from what
they give us.

Three ways in, each adding to the profile or, for an import, to the library:
store ids ticked on an author's papers, arXiv ids pasted in any text, and a
publication list (BibTeX or any format the ingester reads) imported as a background
job. An import stores the papers as the user's claims (`origin="user:<id>"`: a paper
already stored is linked, never rewritten), catches up the derived data so they are
searchable and carded, then adds them. Running an import twice is harmless.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from paperfeed.application.catchup import catch_up
from paperfeed.application.progress import Progress, QuietProgress
from paperfeed.catalog import Catalog
from paperfeed.errors import PaperfeedError, SourceError
from paperfeed.records import PaperRecord
from paperfeed.sources import detect_format, read_records
from paperfeed.sources.limits import InputLimits
from paperfeed.store import Store
from paperfeed.store.personal import Personal

TARGETS = ("profile", "library")
# arXiv ids, new style (2503.01234v2) and old (hep-th/9901001, math.AG/0601001).
ARXIV_ID = re.compile(r"(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?", re.I)
IMPORT_INDEX_BATCH = 64  # papers embedded per index commit: searches wait at most one commit
MAX_MISSING_SHOWN = 20


class UploadError(PaperfeedError):
    """A publication list that cannot be imported; the message says why, naming the file."""


@dataclass(frozen=True)
class ArxivAdded:
    """The outcome of adding pasted arXiv ids to a profile."""

    added: int
    missing: list[str] = field(default_factory=list)  # ids not in this store

    def message(self) -> str:
        text = f"{self.added} papers added to your profile"
        if self.missing:
            text += (f"; not in this store: {', '.join(self.missing[:MAX_MISSING_SHOWN])} "
                     "(harvest or ingest them first, or paste their abstracts)")
        return text


@dataclass(frozen=True)
class ImportOutcome:
    """What importing a publication list did."""

    name: str
    target: str
    read: int  # papers in the list
    new: int  # new to the store
    known: int  # already stored (linked or merged)
    paper_ids: list[int]  # the store ids of the list's papers, in list order
    added: int  # newly added to the profile (a library import saves every one)

    def message(self) -> str:
        """The line the user sees when the job is done."""
        summary = (f"read {self.read} papers from {self.name}: {self.new} new to the store, "
                   f"{self.known} already in it")
        if self.target == "library":
            return f"{summary}; {len(self.paper_ids)} saved to your library"
        return f"{summary}; {self.added} added to your profile"


def own_papers(store: Store, user_id: int) -> list[int]:
    """The ids of the papers in the user's profile."""
    return Personal(store).own(user_id)


def add_papers(store: Store, user_id: int, paper_ids: Sequence[int]) -> int:
    """Add stored papers to the user's profile; returns how many were new to it."""
    return Personal(store).add_own(user_id, paper_ids)


def remove_paper(store: Store, user_id: int, paper_id: int) -> bool:
    return Personal(store).remove_own(user_id, paper_id)


def add_arxiv_ids(store: Store, user_id: int, text: str) -> ArxivAdded:
    """Add the stored papers of the arXiv ids found anywhere in `text` to the profile."""
    found: list[int] = []
    missing: list[str] = []
    for match in ARXIV_ID.finditer(text):
        paper = store.find(match.group(1))
        if paper is None:
            missing.append(match.group(1))
        else:
            found.append(paper.id)
    return ArxivAdded(add_papers(store, user_id, found), missing)


def read_publication_list(path: Path, limits: InputLimits, *, name: str | None = None,
                          author: str | None = None) -> list[PaperRecord]:
    """The papers of an uploaded list, read within `limits`; errors name the file as
    `name` (the user's own name for it, not the server's copy)."""
    name = name or path.name
    try:
        # The caps are checked as the file streams: a bomb stops within its first KiB.
        records = list(read_records(path, format=detect_format(path, limits=limits),
                                    author=author, limits=limits))
    except SourceError as exc:
        raise UploadError(str(exc).replace(str(path), name)) from None
    if not records:
        raise UploadError(f"{name}: no paper found in it")
    return records


def import_papers(catalog: Catalog, user_id: int, records: Sequence[PaperRecord], *,
                  target: str = "profile", tags: Sequence[str] = (), name: str = "the upload",
                  progress: Progress | None = None,
                  index_batch: int = IMPORT_INDEX_BATCH) -> ImportOutcome:
    """Store a user's publication list, catch up, and add it to their profile or library."""
    if target not in TARGETS:
        raise UploadError(f"target: expected one of {', '.join(TARGETS)}, got {target!r}")
    progress = progress or QuietProgress()
    report = catalog.ingest_records(records, origin=f"user:{user_id}")
    catch_up(catalog, progress, index_batch=index_batch, card_workers=1)
    ids = list(dict.fromkeys(i for i in catalog.store.lookup(records) if i is not None))
    personal = Personal(catalog.store)
    added = 0
    if target == "library":
        saved = {x.paper_id: x.tags for x in personal.library(user_id)}
        for paper_id in ids:
            personal.save(user_id, paper_id, [*saved.get(paper_id, ()), *tags])
    else:
        added = personal.add_own(user_id, ids)
    return ImportOutcome(name=name, target=target, read=len(records), new=report.ingested,
                         known=report.linked + report.merged, paper_ids=ids, added=added)
