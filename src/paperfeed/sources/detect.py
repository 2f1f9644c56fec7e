"""Which paper format a file holds, judged from its first few KiB.

Owns `detect_format`: JSON lines by their keys, XML by its root element,
BibTeX by its entry openers, text by its `Abstract:` lines or its
title/abstract paragraphs. Anything else is a `SourceError` ("not a recognised
paper format"), which callers report as a skipped file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from paperfeed.errors import SourceError
from paperfeed.sources.limits import InputLimits
from paperfeed.sources.reader import iter_lines, read_head
from paperfeed.sources.text import (
    is_abstract_line,
    looks_like_name,
    looks_like_prose,
    looks_like_title,
    paragraphs,
)

__all__ = ["DETECT_BYTES", "FORMATS", "detect_format", "detect_format_of_text"]

FORMATS: tuple[str, ...] = (
    "listing",
    "abstracts",
    "arxiv-snapshot",
    "arxiv-daily",
    "bibtex",
    "oai",
    "atom",
)

DETECT_BYTES = 16 * 1024

_BIBTEX_ENTRY = re.compile(
    r"^[ \t]*@(article|inproceedings|conference|misc|book|incollection|inbook|phdthesis|"
    r"mastersthesis|techreport|unpublished|online|preprint|proceedings|manual|booklet|report|"
    r"thesis|software|dataset|electronic|string|preamble)\s*[{(]",
    re.IGNORECASE | re.MULTILINE,
)
_XML_COMMENTS = re.compile(r"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", re.DOTALL)
_ROOT = re.compile(r"<\s*(?:[\w.-]+:)?([\w.-]+)")
# A listing page needs this many title/abstract pairs before we call it one:
# a README or a letter has a heading and a paragraph, a listing has many papers.
_LISTING_MIN_PAPERS = 2
# Full-text papers also have "heading, paragraph" pairs; these headings are theirs.
_SECTION_HEADING = re.compile(
    r"^(?:[\dIVX]+\.?\s+)?(?:abstract|introduction|background|related work|preliminaries|"
    r"methods?|methodology|approach|experiments?|experimental setup|evaluation|results?|"
    r"discussion|conclusions?|acknowledg(?:e)?ments?|references|appendix|definition\b.*|"
    r"theorem\b.*|lemma\b.*|proof)\s*$",
    re.IGNORECASE,
)


def _not_recognised(file: str, why: str) -> SourceError:
    return SourceError(f"not a recognised paper format ({why})", file=file)


def _json_format(first: dict[str, object]) -> str | None:
    keys = set(first)
    if "authors_parsed" in keys or "versions" in keys:
        return "arxiv-snapshot"
    if "first_seen_listing_date" in keys or {"id", "title", "abstract"} <= keys:
        return "arxiv-daily"
    return None


def _xml_format(head: str) -> str | None:
    body = _XML_COMMENTS.sub("", head)
    root = _ROOT.search(body)
    name = root.group(1) if root else ""
    if name in ("OAI-PMH", "ListRecords") or "<OAI-PMH" in head or "<ListRecords" in head:
        return "oai"
    if name == "feed":
        return "atom"
    return None


def _looks_like_listing(text: str) -> bool:
    """Several title/abstract pairs, and most prose paragraphs are such abstracts.

    A full-text paper also pairs headings with paragraphs, but most of its
    paragraphs follow other paragraphs.
    """
    numbered = list(enumerate(text.split("\n"), start=1))
    pairs = prose = 0
    previous = None
    for paragraph in paragraphs(numbered):
        if looks_like_prose(paragraph):
            prose += 1
            if (
                previous is not None
                and looks_like_title(previous)
                and not _SECTION_HEADING.match(previous.text)
            ):
                pairs += 1
        previous = paragraph
    return pairs >= _LISTING_MIN_PAPERS and 2 * pairs >= prose


def detect_format_of_text(head: str) -> str | None:
    """The format of a text's beginning, or None (JSON is judged by `detect_format`)."""
    head = head.removeprefix("\ufeff")
    stripped = head.lstrip()
    if stripped.startswith("<"):
        return _xml_format(stripped)
    if _BIBTEX_ENTRY.search(head):
        return "bibtex"
    lines = [line for line in head.split("\n") if line.strip()]
    if lines and (
        is_abstract_line(lines[0])
        or (len(lines) > 1 and looks_like_name(lines[0]) and is_abstract_line(lines[1]))
    ):
        return "abstracts"
    if _looks_like_listing(head):
        return "listing"
    return None


def detect_format(path: Path | str, *, limits: InputLimits | None = None) -> str:
    """One of `FORMATS` for the file at `path`, or `SourceError` if it is none of them.

    Also raises the reader's errors (empty, binary, truncated gzip, a passed cap
    of `limits`) for bad files.
    """
    name = str(path)
    head_bytes = read_head(path, DETECT_BYTES, limits=limits)
    # Lenient here: a multi-byte character cut at the end of the head, or a bad
    # byte further on, is for the strict reader to report with its line.
    head = head_bytes.decode("utf-8", errors="replace").removeprefix("\ufeff")
    if head.lstrip().startswith(("{", "[")):
        first = next((text for _, text in iter_lines(path, limits=limits) if text.strip()), "")
        try:
            data = json.loads(first)
        except (json.JSONDecodeError, RecursionError):
            raise _not_recognised(name, "the first line is not valid JSON") from None
        if not isinstance(data, dict):
            raise _not_recognised(name, "JSON, but not one paper object per line")
        found = _json_format(data)
        if found is None:
            keys = ", ".join(sorted(data)[:8])
            raise _not_recognised(name, f"JSON lines without arXiv fields; keys: {keys}")
        return found
    found = detect_format_of_text(head)
    if found is None:
        raise _not_recognised(
            name,
            "expected arXiv JSON lines, OAI-PMH or Atom XML, BibTeX, 'Abstract:' lines "
            "or a listing of titles and abstracts",
        )
    return found
