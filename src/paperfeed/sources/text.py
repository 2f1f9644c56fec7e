"""Plain-text paper lists that people paste or scrape.

Owns two formats: `listing`, a web page of papers copied as text (site chrome,
then a title line, a blank line and an abstract paragraph per paper), and
`abstracts`, one `Abstract:` line per paper, optionally after a line naming the
author of them all. Both take numbered lines (see `reader.iter_lines`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePath

from paperfeed.errors import SourceError
from paperfeed.records import (
    Author,
    PaperRecord,
    Provenance,
    derive_title,
    find_code_urls,
    parse_author,
)

__all__ = [
    "POSITION_SCHEME",
    "Paragraph",
    "file_stem",
    "is_abstract_line",
    "looks_like_name",
    "looks_like_prose",
    "looks_like_title",
    "paragraphs",
    "parse_abstracts",
    "parse_listing",
]

# The source-id scheme for "<file stem>#<1-based position>", which the system-card
# gold data (seeds/cards-dev.jsonl) uses to name papers in text files.
POSITION_SCHEME = "seed"

_ABSTRACT_PREFIX = re.compile(r"^\s*abstract\s*[:\-–—]\s*", re.IGNORECASE)
_NAME_TOKEN = re.compile(r"^(?:[^\W\d_][\w'’.\-]*|[a-z]{1,3})$")
_NAME_PARTICLES = frozenset(
    {"van", "von", "de", "der", "den", "da", "di", "del", "della", "dos", "du", "la", "le"}
)
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")

# A prose paragraph has at least this many words (abstracts have 100-300; page
# chrome and titles far fewer).
PROSE_MIN_WORDS = 30
PROSE_MIN_LINE_CHARS = 40
TITLE_MAX_WORDS = 40
TITLE_MAX_CHARS = 300


@dataclass(frozen=True, slots=True)
class Paragraph:
    """Consecutive non-blank lines, joined with single spaces."""

    line: int
    text: str
    n_lines: int


def paragraphs(lines: Iterable[tuple[int, str]]) -> Iterator[Paragraph]:
    """Group numbered lines into blank-line separated paragraphs."""
    start: int | None = None
    parts: list[str] = []
    for lineno, text in lines:
        if text.strip():
            if start is None:
                start = lineno
            parts.append(text.strip())
        elif start is not None:
            yield Paragraph(start, " ".join(" ".join(parts).split()), len(parts))
            start, parts = None, []
    if start is not None:
        yield Paragraph(start, " ".join(" ".join(parts).split()), len(parts))


def looks_like_title(paragraph: Paragraph) -> bool:
    """A single short line with letters in it that is not itself a sentence of prose."""
    text = paragraph.text
    return (
        paragraph.n_lines == 1
        and 0 < len(text) <= TITLE_MAX_CHARS
        and len(text.split()) <= TITLE_MAX_WORDS
        and any(ch.isalpha() for ch in text)
        and not text.endswith(".")
    )


def looks_like_prose(paragraph: Paragraph) -> bool:
    """Long enough and made of sentences: an abstract rather than page chrome.

    Its lines must be long too (prose is wrapped at 60+ columns or not at all),
    which keeps out one-token-a-line tables such as CoNLL files.
    """
    text = paragraph.text
    return (
        len(text) >= PROSE_MIN_LINE_CHARS * paragraph.n_lines
        and len(text.split()) >= PROSE_MIN_WORDS
        and bool(_SENTENCE_END.search(text))
    )


def looks_like_name(line: str) -> bool:
    """A short line that reads as a person's name ("Helen", "J. van Dam")."""
    text = line.strip()
    tokens = text.split()
    if not 1 <= len(tokens) <= 5 or len(text) > 60:
        return False
    if not all(_NAME_TOKEN.match(token) for token in tokens):
        return False
    # Every word but a particle is capitalised, as names are and sentences are not.
    return tokens[0][0].isupper() and all(
        t[0].isupper() or t.lower() in _NAME_PARTICLES for t in tokens
    )


def is_abstract_line(line: str) -> bool:
    """Starts with `Abstract:` (or `Abstract -`, any case)."""
    return bool(_ABSTRACT_PREFIX.match(line))


def file_stem(file: str | None) -> str | None:
    """The file name without directories and extensions (`.txt`, `.txt.gz`)."""
    if not file:
        return None
    path = PurePath(file)
    if path.suffix.lower() == ".gz":
        path = path.with_suffix("")
    return path.stem or None


def _position_ids(stem: str | None, position: int) -> tuple[tuple[str, str], ...]:
    return ((POSITION_SCHEME, f"{stem}#{position}"),) if stem else ()


def _provenance(
    source: str, file: str | None, line: int, stem: str | None, position: int
) -> tuple[Provenance, ...]:
    record_id = f"{stem}#{position}" if stem else None
    return (Provenance(source=source, file=file, line=line, record_id=record_id),)


def _author_tuple(author: str | None) -> tuple[Author, ...]:
    if author is None or not author.strip():
        return ()
    return (parse_author(author),)


def parse_listing(
    lines: Iterable[tuple[int, str]], *, file: str | None = None, author: str | None = None
) -> Iterator[PaperRecord]:
    """Papers on a copied listing page: a one-line title paragraph, then a prose paragraph.

    Everything else (menus, dates, "Subscribe") is page chrome and skipped. A
    further prose paragraph right after an abstract continues that abstract.
    """
    stem = file_stem(file)
    authors = _author_tuple(author)
    pending: Paragraph | None = None  # a title candidate waiting for its abstract
    current: tuple[Paragraph, list[str]] | None = None  # the paper being collected
    position = 0

    def finish(title: Paragraph, parts: list[str], position: int) -> PaperRecord:
        abstract = " ".join(parts)
        return PaperRecord(
            title=title.text,
            abstract=abstract,
            authors=authors,
            code_urls=find_code_urls(abstract),
            source_ids=_position_ids(stem, position),
            provenance=_provenance("listing", file, title.line, stem, position),
        )

    for paragraph in paragraphs(lines):
        if looks_like_prose(paragraph):
            if pending is not None:
                if current is not None:
                    yield finish(current[0], current[1], position)
                position += 1
                current = (pending, [paragraph.text])
            elif current is not None:
                current[1].append(paragraph.text)
            pending = None
        else:
            if current is not None:
                yield finish(current[0], current[1], position)
                current = None
            pending = paragraph if looks_like_title(paragraph) else None
    if current is not None:
        yield finish(current[0], current[1], position)


def parse_abstracts(
    lines: Iterable[tuple[int, str]], *, file: str | None = None, author: str | None = None
) -> Iterator[PaperRecord]:
    """One paper per `Abstract:` line; titles are derived from the abstracts.

    A first line that looks like a person's name (and is no abstract) is the
    author of every paper in the file; `author` overrides it. A later line
    without the prefix continues the previous abstract (a wrapped paste).
    """
    stem = file_stem(file)
    authors = _author_tuple(author)
    current: tuple[int, list[str]] | None = None
    position = 0
    seen_content = False

    def finish(line: int, parts: list[str], position: int) -> PaperRecord:
        abstract = " ".join(" ".join(parts).split())
        if not abstract:
            raise SourceError("empty abstract", file=file, line=line, field="abstract")
        return PaperRecord(
            title=derive_title(abstract),
            abstract=abstract,
            authors=authors,
            code_urls=find_code_urls(abstract),
            title_derived=True,
            source_ids=_position_ids(stem, position),
            provenance=_provenance("abstracts", file, line, stem, position),
        )

    for lineno, text in lines:
        if not text.strip():
            continue
        match = _ABSTRACT_PREFIX.match(text)
        if match:
            if current is not None:
                yield finish(current[0], current[1], position)
            position += 1
            current = (lineno, [text[match.end() :]])
        elif current is not None:
            current[1].append(text)
        elif not seen_content and looks_like_name(text):
            if author is None:
                authors = _author_tuple(text)
        else:
            raise SourceError("expected a line starting 'Abstract:'", file=file, line=lineno)
        seen_content = True
    if current is not None:
        yield finish(current[0], current[1], position)
