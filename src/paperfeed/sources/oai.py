"""OAI-PMH responses from arXiv (`arXiv` and `oai_dc` metadata) as paper records.

Owns `parse_oai_xml` (records of a ListRecords/GetRecord document, for file
ingestion), `parse_oai_page` (records plus the resumption token and OAI error of
one harvested page) and `safe_iterparse`, the hardened lxml reader the Atom
parser shares: no entity expansion, no network, no huge trees, and every XML
problem becomes a `SourceError` naming the file and line.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lxml import etree

from paperfeed.errors import SourceError
from paperfeed.records import (
    Author,
    PaperRecord,
    Provenance,
    derive_title,
    find_code_urls,
    normalize_doi,
    parse_author,
    split_arxiv_id,
)
from paperfeed.sources.limits import Budget, InputLimits, default_limits

__all__ = [
    "ARXIV_NS",
    "DC_NS",
    "OAI_NS",
    "OaiPage",
    "XmlSource",
    "collapse",
    "local_name",
    "parse_iso_date",
    "parse_oai_page",
    "parse_oai_xml",
    "safe_iterparse",
    "text_of",
]

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
ARXIV_NS = "http://arxiv.org/OAI/arXiv/"
DC_NS = "http://purl.org/dc/elements/1.1/"

XmlSource = bytes | io.BufferedIOBase


def _events(
    stream: io.BufferedIOBase, file: str | None, events: tuple[str, ...]
) -> Iterator[tuple[str, Any]]:
    context = etree.iterparse(
        stream,
        events=events,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    iterator = iter(context)
    checked = False
    while True:
        try:
            event, element = next(iterator)
        except StopIteration:
            return
        except etree.XMLSyntaxError as exc:
            line = exc.lineno if isinstance(exc.lineno, int) and exc.lineno > 0 else None
            raise SourceError(f"malformed XML: {exc.msg}", file=file, line=line) from None
        except (etree.LxmlError, ValueError, LookupError, UnicodeError) as exc:
            raise SourceError(f"unreadable XML: {exc}", file=file) from None
        if not checked:
            checked = True
            dtd = element.getroottree().docinfo.internalDTD
            if dtd is not None and any(True for _ in dtd.iterentities()):
                raise SourceError(
                    "XML entity declarations are refused (entity expansion attack?)",
                    file=file,
                    line=element.sourceline,
                )
        yield event, element


def safe_iterparse(
    data: XmlSource,
    *,
    file: str | None = None,
    events: tuple[str, ...] = ("start", "end"),
    limits: InputLimits | None = None,
) -> Iterator[tuple[str, Any]]:
    """`(event, element)` pairs of an XML document (gzip accepted), read defensively.

    `data` is the document's bytes (plain or gzip, inflated within `limits` as it
    is parsed) or an already decompressed stream, which is read as parsing goes.
    Entities are never expanded and a document that declares any is refused
    (billion laughs, external entities), the network is never touched, and
    syntax errors, truncation and bad encodings raise `SourceError` with the line.
    """
    if not isinstance(data, bytes):
        yield from _events(data, file, events)
        return
    if not data.strip():
        raise SourceError("empty document", file=file, line=1)
    from paperfeed.sources.reader import open_input

    with open_input(data, Budget(limits or default_limits(), file)) as stream:
        yield from _events(stream, file, events)


def local_name(element: Any) -> str:
    """The tag without its namespace ('' for comments and entity nodes)."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def text_of(element: Any) -> str:
    """All text inside `element`, skipping unexpanded entity references."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if node.text and isinstance(node.tag, str):
            parts.append(node.text)
        for child in node:
            if isinstance(child.tag, str):
                walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(element)
    return "".join(parts)


def collapse(text: str | None) -> str:
    """Whitespace runs (newlines, indentation) collapsed to single spaces."""
    return " ".join(text.split()) if text else ""


def parse_iso_date(
    text: str | None, *, file: str | None, line: int | None, field_name: str
) -> date | None:
    """The date of '2007-04-02' or '2007-04-02T13:46:39Z'; SourceError if unreadable."""
    value = collapse(text)
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise SourceError(f"unreadable date {value!r}", file=file, line=line,
                          field=field_name) from None


def _children(element: Any, name: str) -> list[Any]:
    return [child for child in element if local_name(child) == name]


def _child_text(element: Any, name: str) -> str:
    for child in element:
        if local_name(child) == name:
            return collapse(text_of(child))
    return ""


# --- OAI-PMH ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OaiPage:
    """One OAI-PMH response: its records and what the harvester needs to go on."""

    records: list[PaperRecord]
    resumption_token: str | None = None
    complete_list_size: int | None = None
    cursor: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    deleted: int = 0


@dataclass(slots=True)
class _PageInfo:
    resumption_token: str | None = None
    complete_list_size: int | None = None
    cursor: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    deleted: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)


_ROOTS = {"OAI-PMH", "ListRecords", "GetRecord"}
_LISTS = {"ListRecords", "GetRecord"}
_CATEGORY_CODE = re.compile(r"^[a-z][a-z-]*(?:\.[A-Za-z][A-Za-z-]*)?$")


def _int_attr(element: Any, name: str) -> int | None:
    value = element.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _iter_oai(data: XmlSource, file: str | None, info: _PageInfo,
              limits: InputLimits | None) -> Iterator[PaperRecord]:
    for event, element in safe_iterparse(data, file=file, limits=limits):
        name = local_name(element)
        parent = element.getparent()
        if event == "start":
            if parent is None and name not in _ROOTS:
                raise SourceError(f"not an OAI-PMH document (root element <{name}>)",
                                  file=file, line=element.sourceline)
            continue
        parent_name = local_name(parent) if parent is not None else ""
        if name == "record" and parent_name in _LISTS:
            record = _record(element, file)
            if record is None:
                info.deleted += 1
            else:
                yield record
            # Free what has been read so a 4 MB file does not stay in memory twice.
            element.clear()
            while element.getprevious() is not None:
                del parent[0]
        elif name == "resumptionToken" and parent_name == "ListRecords":
            token = collapse(element.text)
            info.resumption_token = token or None
            info.complete_list_size = _int_attr(element, "completeListSize")
            info.cursor = _int_attr(element, "cursor")
        elif name == "error" and parent_name == "OAI-PMH":
            info.errors.append((element.get("code") or "unknown", collapse(text_of(element))))
    if info.errors:
        info.error_code, info.error_message = info.errors[0]


def parse_oai_xml(
    data: XmlSource, *, file: str | None = None, limits: InputLimits | None = None
) -> Iterator[PaperRecord]:
    """Paper records of an OAI-PMH ListRecords/GetRecord document (gzip accepted).

    `data` and `limits` are as for `safe_iterparse`. Deleted records are skipped.
    An OAI error other than `noRecordsMatch`, a non-OAI document and malformed or
    truncated XML raise `SourceError`.
    """
    info = _PageInfo()
    yield from _iter_oai(data, file, info, limits)
    if info.error_code and info.error_code != "noRecordsMatch":
        raise SourceError(f"OAI-PMH error {info.error_code}: {info.error_message}", file=file)


def parse_oai_page(
    data: bytes, *, file: str | None = None, limits: InputLimits | None = None
) -> OaiPage:
    """One harvested page: its records, resumption token, list size and OAI error, if any.

    OAI errors are returned, not raised (the harvester decides); malformed XML
    raises `SourceError`.
    """
    info = _PageInfo()
    records = list(_iter_oai(data, file, info, limits))
    return OaiPage(
        records=records,
        resumption_token=info.resumption_token,
        complete_list_size=info.complete_list_size,
        cursor=info.cursor,
        error_code=info.error_code,
        error_message=info.error_message,
        deleted=info.deleted,
    )


# --- one record ---------------------------------------------------------------


@dataclass(slots=True)
class _Fields:
    title: str = ""
    abstract: str = ""
    authors: list[Author] = field(default_factory=list)
    arxiv_id: str | None = None
    arxiv_version: int | None = None
    doi: str | None = None
    categories: list[str] = field(default_factory=list)
    submitted: date | None = None
    updated: date | None = None
    comment: str | None = None
    journal_ref: str | None = None
    abs_url: str | None = None


def _record(element: Any, file: str | None) -> PaperRecord | None:
    line = element.sourceline
    header = next(iter(_children(element, "header")), None)
    if header is None:
        raise SourceError("record without a header", file=file, line=line, field="header")
    if header.get("status") == "deleted":
        return None
    identifier = _child_text(header, "identifier")
    if not identifier:
        raise SourceError("record without an identifier", file=file, line=line,
                          field="identifier")
    metadata = next(iter(_children(element, "metadata")), None)
    if metadata is None:
        raise SourceError("record without metadata", file=file, line=line, field="metadata")
    payload = next((child for child in metadata if local_name(child)), None)
    if payload is None:
        raise SourceError("empty metadata", file=file, line=line, field="metadata")
    kind = local_name(payload)
    fields = _Fields()
    if kind == "arXiv":
        _read_arxiv(payload, fields, file, line)
    elif kind == "dc":
        _read_dc(payload, fields, file, line)
    elif kind in {"title", "description", "date", "creator", "identifier", "subject"}:
        # The post-processed yearly quant-ph files put bare dc fields under <metadata>.
        _read_dc(metadata, fields, file, line)
    else:
        raise SourceError(f"unsupported metadata format <{kind}>", file=file, line=line,
                          field="metadata")
    if not fields.categories:
        fields.categories = _categories_from_sets(
            [collapse(text_of(s)) for s in _children(header, "setSpec")]
        )

    split = split_arxiv_id(fields.arxiv_id) or split_arxiv_id(identifier)
    arxiv_id, version = split if split else (None, None)
    title, derived = fields.title, False
    if not title:
        if not fields.abstract:
            raise SourceError("record has neither title nor abstract", file=file, line=line,
                              field="title")
        title, derived = derive_title(fields.abstract), True
    abs_url = fields.abs_url or (f"https://arxiv.org/abs/{arxiv_id}" if arxiv_id else None)
    return PaperRecord(
        title=title,
        abstract=fields.abstract,
        authors=tuple(fields.authors),
        arxiv_id=arxiv_id,
        arxiv_version=fields.arxiv_version or version,
        doi=fields.doi,
        source_ids=(("oai", identifier),),
        categories=tuple(dict.fromkeys(fields.categories)),
        submitted=fields.submitted,
        updated=fields.updated,
        abs_url=abs_url,
        pdf_url=f"https://arxiv.org/pdf/{arxiv_id}" if arxiv_id else None,
        code_urls=tuple(dict.fromkeys(find_code_urls(fields.comment)
                                      + find_code_urls(fields.abstract))),
        comment=fields.comment,
        journal_ref=fields.journal_ref,
        title_derived=derived,
        provenance=(Provenance(source="oai", file=file, line=line, record_id=identifier),),
    )


def _read_arxiv(payload: Any, fields: _Fields, file: str | None, line: int | None) -> None:
    fields.arxiv_id = _child_text(payload, "id") or None
    fields.title = _child_text(payload, "title")
    fields.abstract = _child_text(payload, "abstract")
    fields.categories = _child_text(payload, "categories").split()
    fields.comment = _child_text(payload, "comments") or None
    fields.journal_ref = _child_text(payload, "journal-ref") or None
    fields.doi = normalize_doi(_child_text(payload, "doi"))
    fields.submitted = parse_iso_date(_child_text(payload, "created"), file=file, line=line,
                                      field_name="created")
    fields.updated = parse_iso_date(_child_text(payload, "updated"), file=file, line=line,
                                    field_name="updated")
    for authors in _children(payload, "authors"):
        for author in _children(authors, "author"):
            family = _child_text(author, "keyname")
            given = _child_text(author, "forenames")
            suffix = _child_text(author, "suffix")
            name = " ".join(part for part in (given, family, suffix) if part)
            if name:
                # Same convention as parse_author: the suffix belongs to the family name.
                full_family = " ".join(part for part in (family, suffix) if part)
                fields.authors.append(Author(name=name, given=given, family=full_family))


def _read_dc(payload: Any, fields: _Fields, file: str | None, line: int | None) -> None:
    fields.title = _child_text(payload, "title")
    for creator in _children(payload, "creator"):
        raw = collapse(text_of(creator))
        if raw:
            fields.authors.append(parse_author(raw))
    for description in _children(payload, "description"):
        text = collapse(text_of(description))
        if text.startswith("Comment:"):
            fields.comment = text.removeprefix("Comment:").strip() or None
        elif text and not fields.abstract:
            fields.abstract = text
    dates = sorted(
        d for d in (
            parse_iso_date(text_of(item), file=file, line=line, field_name="date")
            for item in _children(payload, "date")
        ) if d is not None
    )
    if dates:
        fields.submitted = dates[0]
        fields.updated = dates[-1] if dates[-1] != dates[0] else None
    for item in _children(payload, "identifier"):
        value = collapse(text_of(item))
        if not value:
            continue
        if "arxiv.org/abs/" in value.lower():
            fields.abs_url = value
            found = split_arxiv_id(value)
            if found:
                fields.arxiv_id = found[0]
                fields.arxiv_version = found[1]
        elif value.lower().startswith(("doi:", "10.", "https://doi.org/", "http://dx.doi.org/")):
            fields.doi = fields.doi or normalize_doi(value)
        elif "://" not in value:
            # arXiv's oai_dc puts the journal reference among the identifiers.
            fields.journal_ref = fields.journal_ref or value
    fields.categories = [
        code for code in (collapse(text_of(s)) for s in _children(payload, "subject"))
        if _CATEGORY_CODE.match(code)
    ]


def _categories_from_sets(set_specs: list[str]) -> list[str]:
    """arXiv set specs as category codes: 'physics:quant-ph' -> 'quant-ph', 'cs:cs:CV' -> 'cs.CV'.

    A bare archive group ('cs', 'math') is not a category and is left out.
    """
    codes: list[str] = []
    for spec in set_specs:
        parts = spec.split(":")
        if len(parts) == 2:
            codes.append(parts[1])
        elif len(parts) == 3:
            codes.append(f"{parts[1]}.{parts[2]}")
    return [code for code in codes if _CATEGORY_CODE.match(code)]
