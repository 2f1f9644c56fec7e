"""Dedupe and merge rules: when two records are one paper, and what the merged paper says.

Pure functions over plain values, so the rules are testable without a database.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from paperfeed.records import PaperRecord, title_key
from paperfeed.text import ascii_fold


def name_key(name: str) -> str:
    """Lower-cased, accent-folded, space-normalised author name for look-ups."""
    # The ASCII fold, not text.fold: these keys are stored (paper_authors.name_key).
    return " ".join(ascii_fold(name).replace(".", " ").split())


def record_title_key(record: PaperRecord) -> str:
    family = record.authors[0].family if record.authors else None
    return title_key(record.title, family)


def ids_conflict(a_arxiv: str | None, a_doi: str | None, b_arxiv: str | None,
                 b_doi: str | None) -> bool:
    """Two records with different arXiv ids, or different DOIs, are never one paper."""
    arxiv_differs = a_arxiv and b_arxiv and a_arxiv != b_arxiv
    return bool(arxiv_differs or (a_doi and b_doi and a_doi != b_doi))


@dataclass
class PaperValues:
    """The stored fields of a paper, as plain values (a row of `papers` plus authors)."""

    arxiv_id: str | None
    arxiv_version: int | None
    doi: str | None
    title: str
    title_derived: bool
    abstract: str
    categories: list[str]
    submitted: date | None
    updated: date | None
    first_listed: date | None
    abs_url: str | None
    pdf_url: str | None
    code_urls: list[str]
    comment: str | None
    journal_ref: str | None
    authors: list[tuple[str, str, str]] = field(default_factory=list)  # (name, given, family)

    @classmethod
    def from_record(cls, record: PaperRecord) -> PaperValues:
        return cls(
            arxiv_id=record.arxiv_id,
            arxiv_version=record.arxiv_version,
            doi=record.doi,
            title=record.title,
            title_derived=record.title_derived,
            abstract=record.abstract,
            categories=list(record.categories),
            submitted=record.submitted,
            updated=record.updated,
            first_listed=record.first_listed,
            abs_url=record.abs_url,
            pdf_url=record.pdf_url,
            code_urls=list(record.code_urls),
            comment=record.comment,
            journal_ref=record.journal_ref,
            authors=[(a.name, a.given, a.family) for a in record.authors],
        )

    def title_key(self) -> str:
        family = self.authors[0][2] if self.authors else None
        return title_key(self.title, family)

    def columns(self) -> dict[str, Any]:
        """The values of the `papers` columns this object holds."""
        return {
            "arxiv_id": self.arxiv_id,
            "arxiv_version": self.arxiv_version,
            "doi": self.doi,
            "title": self.title,
            "title_derived": self.title_derived,
            "title_key": self.title_key(),
            "abstract": self.abstract,
            "categories": self.categories,
            "primary_category": self.categories[0][:CATEGORY_MAX] if self.categories else None,
            "submitted": self.submitted,
            "updated": self.updated,
            "first_listed": self.first_listed,
            "abs_url": self.abs_url,
            "pdf_url": self.pdf_url,
            "code_urls": self.code_urls,
            "comment": self.comment,
            "journal_ref": self.journal_ref,
        }


# The fields whose origin the store records (title_derived goes with title).
# The width of the category columns. A few sources put free text among the categories
# ("Information storage and retrieval of data, Natural language processing"): PostgreSQL
# refuses a longer value, so both databases keep its first 64 characters there (the
# paper's `categories` list keeps it whole).
CATEGORY_MAX = 64
FIELDS: tuple[str, ...] = tuple(f.name for f in fields(PaperValues) if f.name != "title_derived")
_EMPTY: dict[str, Any] = {"title": "", "abstract": "", "categories": [], "code_urls": [],
                          "authors": []}


def trusted(origin: str) -> bool:
    """Whether a record from this origin may change a shared paper (a user's upload may not)."""
    return not origin.startswith("user:")


def changed_fields(before: PaperValues | None, after: PaperValues) -> list[str]:
    """The fields `after` sets differently from `before` (every non-empty one when new)."""
    if before is None:
        return [f for f in FIELDS if getattr(after, f) not in (None, "", [])]
    return [f for f in FIELDS if getattr(before, f) != getattr(after, f)]


def _min_date(a: date | None, b: date | None) -> date | None:
    return min(a, b) if a and b else (a or b)


def _max_date(a: date | None, b: date | None) -> date | None:
    return max(a, b) if a and b else (a or b)


def merge(old: PaperValues, new: PaperRecord, *, replace: Collection[str] = ()) -> PaperValues:
    """The paper after `new` is merged into `old`.

    The newer arXiv version wins for the text (title, abstract, authors); otherwise
    the stored text stays and only missing fields are filled. Dates keep the
    earliest submission and listing and the latest update. Fields named in
    `replace` (those a user's upload set) count as unknown: `new` fills them where
    it has a value, and they keep their old value only where it has none.
    """
    if replace:
        cleared = _copy_values(old)
        for name in replace:
            setattr(cleared, name, _EMPTY.get(name))
        if "title" in replace:
            cleared.title_derived = True  # any real title beats the cleared one
        merged = merge(cleared, new)
        for name in replace:
            if getattr(merged, name) in (None, "", []):
                setattr(merged, name, getattr(old, name))
                if name == "title":
                    merged.title_derived = old.title_derived
        return merged
    newer = bool(new.arxiv_version and (old.arxiv_version or 0) < new.arxiv_version)
    take_text = newer or (old.title_derived and not new.title_derived)
    merged = _copy_values(old)
    if take_text:
        merged.title = new.title
        merged.title_derived = new.title_derived
        merged.abstract = new.abstract or old.abstract
        if new.authors:
            merged.authors = [(a.name, a.given, a.family) for a in new.authors]
    if newer:
        merged.arxiv_version = new.arxiv_version
        merged.categories = list(new.categories) or merged.categories
        merged.comment = new.comment or merged.comment
    if not merged.abstract and new.abstract:
        merged.abstract = new.abstract
    if not merged.authors and new.authors:
        merged.authors = [(a.name, a.given, a.family) for a in new.authors]
    if not merged.categories:
        merged.categories = list(new.categories)
    merged.arxiv_id = merged.arxiv_id or new.arxiv_id
    if merged.arxiv_version is None:
        merged.arxiv_version = new.arxiv_version
    merged.doi = merged.doi or new.doi
    merged.submitted = _min_date(merged.submitted, new.submitted)
    merged.first_listed = _min_date(merged.first_listed, new.first_listed)
    merged.updated = _max_date(merged.updated, new.updated)
    merged.abs_url = merged.abs_url or new.abs_url
    merged.pdf_url = merged.pdf_url or new.pdf_url
    merged.comment = merged.comment or new.comment
    merged.journal_ref = merged.journal_ref or new.journal_ref
    for url in new.code_urls:
        if url not in merged.code_urls:
            merged.code_urls.append(url)
    return merged


def _copy_values(values: PaperValues) -> PaperValues:
    return PaperValues(**{**values.__dict__, "categories": list(values.categories),
                          "code_urls": list(values.code_urls), "authors": list(values.authors)})
