"""The arXiv API's Atom feed (`export.arxiv.org/api/query`) as paper records.

Owns `parse_atom_xml` (records, for file ingestion) and `parse_atom_feed`
(records plus the OpenSearch totals a search client pages with). XML is read
through the same hardened reader as OAI-PMH (`oai.safe_iterparse`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from paperfeed.errors import SourceError
from paperfeed.records import (
    PaperRecord,
    Provenance,
    derive_title,
    find_code_urls,
    normalize_doi,
    parse_author,
    split_arxiv_id,
)
from paperfeed.sources.limits import InputLimits
from paperfeed.sources.oai import (
    XmlSource,
    collapse,
    local_name,
    parse_iso_date,
    safe_iterparse,
    text_of,
)

__all__ = ["ARXIV_ATOM_NS", "ATOM_NS", "AtomFeed", "parse_atom_feed", "parse_atom_xml"]

ATOM_NS = "http://www.w3.org/2005/Atom"
ARXIV_ATOM_NS = "http://arxiv.org/schemas/atom"


@dataclass(frozen=True, slots=True)
class AtomFeed:
    """One API response: its records and the OpenSearch paging figures."""

    records: list[PaperRecord]
    total_results: int | None = None
    start_index: int | None = None
    items_per_page: int | None = None


@dataclass(slots=True)
class _FeedInfo:
    totals: dict[str, int] = field(default_factory=dict)


def _iter_atom(data: XmlSource, file: str | None, info: _FeedInfo,
               limits: InputLimits | None) -> Iterator[PaperRecord]:
    for event, element in safe_iterparse(data, file=file, limits=limits):
        name = local_name(element)
        parent = element.getparent()
        if event == "start":
            if parent is None and name != "feed":
                raise SourceError(f"not an Atom feed (root element <{name}>)", file=file,
                                  line=element.sourceline)
            continue
        if parent is None:
            continue
        if name == "entry" and local_name(parent) == "feed":
            yield _entry(element, file)
            element.clear()
            while element.getprevious() is not None:
                del parent[0]
        elif name in {"totalResults", "startIndex", "itemsPerPage"} and parent.getparent() is None:
            try:
                info.totals[name] = int(collapse(element.text))
            except ValueError:
                raise SourceError(f"unreadable {name} {element.text!r}", file=file,
                                  line=element.sourceline, field=name) from None


def parse_atom_xml(
    data: XmlSource, *, file: str | None = None, limits: InputLimits | None = None
) -> Iterator[PaperRecord]:
    """Paper records of an arXiv API Atom feed (gzip accepted; see `oai.safe_iterparse`).

    An API error entry, a non-Atom document and malformed or truncated XML
    raise `SourceError`.
    """
    yield from _iter_atom(data, file, _FeedInfo(), limits)


def parse_atom_feed(
    data: bytes, *, file: str | None = None, limits: InputLimits | None = None
) -> AtomFeed:
    """All records of one feed page plus totalResults, startIndex and itemsPerPage."""
    info = _FeedInfo()
    records = list(_iter_atom(data, file, info, limits))
    return AtomFeed(
        records=records,
        total_results=info.totals.get("totalResults"),
        start_index=info.totals.get("startIndex"),
        items_per_page=info.totals.get("itemsPerPage"),
    )


def _entry(element: Any, file: str | None) -> PaperRecord:
    line = element.sourceline
    values: dict[str, str] = {}
    authors = []
    categories: list[str] = []
    primary: str | None = None
    abs_url: str | None = None
    pdf_url: str | None = None
    doi: str | None = None
    for child in element:
        name = local_name(child)
        if name in {"id", "title", "summary", "published", "updated", "comment", "journal_ref"}:
            values.setdefault(name, collapse(text_of(child)))
        elif name == "doi":
            doi = doi or normalize_doi(text_of(child))
        elif name == "author":
            author_name = next(
                (collapse(text_of(c)) for c in child if local_name(c) == "name"), ""
            )
            if author_name:
                authors.append(parse_author(author_name))
        elif name == "primary_category":
            primary = child.get("term") or primary
        elif name == "category":
            term = child.get("term")
            if term:
                categories.append(term.strip())
        elif name == "link":
            href = (child.get("href") or "").strip()
            rel, title = child.get("rel"), child.get("title")
            if not href:
                continue
            if title == "pdf":
                pdf_url = href
            elif title == "doi":
                doi = doi or normalize_doi(href)
            elif rel == "alternate":
                abs_url = href

    entry_id = values.get("id", "")
    if not entry_id:
        raise SourceError("entry without an id", file=file, line=line, field="id")
    if "/api/errors" in entry_id:
        # The API reports bad queries as a feed with one entry titled "Error".
        message = values.get("summary") or values.get("title") or entry_id
        raise SourceError(f"arXiv API error: {message}", file=file, line=line)
    split = split_arxiv_id(entry_id)
    arxiv_id, version = split if split else (None, None)
    abstract = values.get("summary", "")
    title, derived = values.get("title", ""), False
    if not title:
        if not abstract:
            raise SourceError("entry has neither title nor summary", file=file, line=line,
                              field="title")
        title, derived = derive_title(abstract), True
    comment = values.get("comment") or None
    if primary:
        categories.insert(0, primary.strip())
    return PaperRecord(
        title=title,
        abstract=abstract,
        authors=tuple(authors),
        arxiv_id=arxiv_id,
        arxiv_version=version,
        doi=doi,
        source_ids=(("atom", entry_id),),
        categories=tuple(dict.fromkeys(c for c in categories if c)),
        submitted=parse_iso_date(values.get("published"), file=file, line=line,
                                 field_name="published"),
        updated=parse_iso_date(values.get("updated"), file=file, line=line,
                               field_name="updated"),
        abs_url=abs_url or (entry_id if "://" in entry_id else None),
        pdf_url=pdf_url,
        code_urls=tuple(dict.fromkeys(find_code_urls(comment) + find_code_urls(abstract))),
        comment=comment,
        journal_ref=values.get("journal_ref") or None,
        title_derived=derived,
        provenance=(Provenance(source="atom", file=file, line=line, record_id=entry_id),),
    )
