"""arXiv metadata as JSON lines: the bulk snapshot and the daily listing crawl.

Owns two formats. `arxiv-snapshot` is the schema of arXiv's bulk metadata
snapshot (Kaggle `arxiv-metadata-oai-snapshot.json`: `authors_parsed`,
`versions`, `doi`, ...). `arxiv-daily` is the daily listing crawl (`authors`
as a list of names, `categories` as a list, `first_seen_listing_date`). Both
take numbered lines (see `reader.iter_lines`), parse one line at a time and so
stream files of any size.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from email.utils import parsedate_to_datetime
from typing import Any

from paperfeed.errors import SourceError
from paperfeed.records import (
    Author,
    PaperRecord,
    Provenance,
    find_code_urls,
    normalize_doi,
    parse_author,
    split_arxiv_id,
)

__all__ = [
    "abs_url",
    "code_urls_in",
    "parse_arxiv_daily",
    "parse_arxiv_snapshot",
    "pdf_url",
    "split_given_family",
]

_PARTICLES = frozenset(
    {"van", "von", "de", "der", "den", "da", "di", "del", "della", "dos", "das", "du", "la",
     "le", "ter", "ten", "bin", "ibn", "al", "el", "y"}
)
_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})


def abs_url(arxiv_id: str) -> str:
    """The arXiv abstract page of an id (latest version)."""
    return f"https://arxiv.org/abs/{arxiv_id}"


def pdf_url(arxiv_id: str) -> str:
    """The arXiv PDF of an id (latest version)."""
    return f"https://arxiv.org/pdf/{arxiv_id}"


def split_given_family(name: str) -> Author:
    """Split a "Given [particles] Family [Jr.]" name, as arXiv listings write them.

    `records.parse_author` (nameparser) takes about 200 µs a name, which would
    cap the daily listing (430k names) at a few thousand records a second; this
    covers the given-name-first form arXiv uses and hands anything else (a
    comma, i.e. "Family, Given") to `parse_author`.
    """
    tokens = name.split()
    text = " ".join(tokens)
    if "," in text:
        return parse_author(text)
    if len(tokens) == 2:
        return Author(name=text, given=tokens[0], family=tokens[1])
    if len(tokens) < 2:
        return Author(name=text, given="", family=text)
    suffix: list[str] = []
    while len(tokens) > 2 and tokens[-1].lower() in _SUFFIXES:
        suffix.insert(0, tokens.pop())
    # The family name starts at the first lower-case particle ("de la Torre"),
    # otherwise it is the last word.
    start = len(tokens) - 1
    for i in range(1, len(tokens) - 1):
        if tokens[i] in _PARTICLES:
            start = i
            break
    return Author(
        name=text, given=" ".join(tokens[:start]), family=" ".join(tokens[start:] + suffix)
    )


def _clean(text: str) -> str:
    """Collapse hard line breaks and indentation into single spaces."""
    flat = text.replace("\n", " ")
    # Most abstracts are plain ASCII hard-wrapped with single newlines: skip the split.
    if (
        flat.isascii()
        and "  " not in flat
        and "\t" not in flat
        and "\r" not in flat
        and flat[:1] != " "
        and flat[-1:] != " "
        and "\x0b" not in flat
        and "\x0c" not in flat
    ):
        return flat
    return " ".join(flat.split())


class _Line:
    """One JSON line being read, with typed accessors that fail as `SourceError`."""

    __slots__ = ("data", "file", "lineno")

    def __init__(self, data: dict[str, Any], file: str | None, lineno: int) -> None:
        self.data = data
        self.file = file
        self.lineno = lineno

    def error(self, message: str, field: str | None = None) -> SourceError:
        return SourceError(message, file=self.file, line=self.lineno, field=field)

    def opt_str(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(f"expected a string, got {type(value).__name__}", key)
        return value

    def req_str(self, key: str) -> str:
        value = self.opt_str(key)
        if value is None or not value.strip():
            raise self.error(f"missing {key}", key)
        return value

    def str_list(self, key: str) -> list[str]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error("expected a list of strings", key)
        return value

    def arxiv_id(self) -> tuple[str, int | None]:
        raw = self.req_str("id")
        found = split_arxiv_id(raw)
        if found is None:
            raise self.error(f"not an arXiv id: {raw[:40]!r}", "id")
        return found

    def iso_date(self, key: str) -> date | None:
        raw = self.opt_str(key)
        if raw is None or not raw.strip():
            return None
        try:
            return date.fromisoformat(raw.strip()[:10])
        except ValueError:
            raise self.error(f"not a date: {raw[:40]!r}", key) from None


def _json_lines(
    lines: Iterable[tuple[int, str]], file: str | None
) -> Iterator[_Line]:
    for lineno, text in lines:
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(
                f"malformed JSON: {exc.msg} (column {exc.colno})", file=file, line=lineno
            ) from None
        except RecursionError:
            raise SourceError("malformed JSON: nested too deeply", file=file, line=lineno) from None
        if not isinstance(data, dict):
            raise SourceError(
                f"expected a JSON object, got {type(data).__name__}", file=file, line=lineno
            )
        yield _Line(data, file, lineno)


# Every link `find_code_urls` can match contains one of these.
_LINK_HINTS = ("http", "www.", "github.com", "gitlab.com", "bitbucket.org", "huggingface.co",
               "codeberg.org")
_CONTEXT_CHARS = 60  # how far back `find_code_urls` looks for "code is available at"


def _link_windows(text: str) -> list[tuple[int, int]]:
    """Disjoint spans of `text` (single-spaced) around each word holding a link hint.

    Each span starts on a word boundary at least `_CONTEXT_CHARS` before its
    word, so `find_code_urls` sees the same words and context as in the whole text.
    """
    lowered = text.lower()
    spans: list[tuple[int, int]] = []
    # Every code host holds ".co" or ".org": one quick test for the ~80% of texts without links.
    if not ("http" in lowered or "www." in lowered or ".co" in lowered or ".org" in lowered):
        return spans
    for hint in _LINK_HINTS:
        at = lowered.find(hint)
        while at != -1:
            word_start = text.rfind(" ", 0, at) + 1
            start = 0 if word_start <= _CONTEXT_CHARS else (
                text.rfind(" ", 0, word_start - _CONTEXT_CHARS) + 1
            )
            end = text.find(" ", at)
            end = len(text) if end == -1 else end
            spans.append((start, end))
            at = lowered.find(hint, end)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def code_urls_in(*texts: str | None) -> tuple[str, ...]:
    """`find_code_urls` over several single-spaced texts (see `_clean`), without repeats.

    `find_code_urls` runs a slow regex over every character (about 0.2 ms an
    abstract); running it only on the few spans around link-like words gives
    the same links at a fraction of the cost, which the 75k-paper daily listing needs.
    """
    found: list[str] = []
    for text in texts:
        if not text:
            continue
        for start, end in _link_windows(text):
            for url in find_code_urls(text[start:end]):
                if url not in found:
                    found.append(url)
    return tuple(found)


def _version_date(line: _Line, raw: object) -> date:
    if not isinstance(raw, str):
        raise line.error("version without a created date", "versions")
    try:
        return parsedate_to_datetime(raw).date()
    except (TypeError, ValueError, IndexError):
        raise line.error(f"not a date: {raw[:40]!r}", "versions") from None


def _versions(line: _Line) -> tuple[date | None, date | None, int | None]:
    """Submitted (v1) date, last version's date and last version number."""
    value = line.data.get("versions")
    if value is None or value == []:
        return None, None, None
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise line.error("expected a list of {version, created} objects", "versions")
    submitted = _version_date(line, value[0].get("created"))
    updated = _version_date(line, value[-1].get("created"))
    label = value[-1].get("version")
    number = (
        int(label[1:])
        if isinstance(label, str) and label[:1] in ("v", "V") and label[1:].isdigit()
        else None
    )
    return submitted, updated, number


def _snapshot_authors(line: _Line) -> tuple[Author, ...]:
    parsed = line.data.get("authors_parsed")
    if parsed is None:
        raw = line.opt_str("authors") or ""
        names = [n for part in raw.replace(" and ", ",").split(",") if (n := part.strip())]
        return tuple(parse_author(name) for name in names)
    if not isinstance(parsed, list):
        raise line.error("expected a list of [last, first, suffix]", "authors_parsed")
    authors: list[Author] = []
    for item in parsed:
        if (
            not isinstance(item, list)
            or not item
            or not all(isinstance(part, str) for part in item)
        ):
            raise line.error("expected a list of [last, first, suffix]", "authors_parsed")
        last, first, suffix = (_clean(p) for p in [*item, "", ""][:3])
        family = " ".join(p for p in (last, suffix) if p)
        name = " ".join(p for p in (first, last, suffix) if p)
        if name:
            authors.append(Author(name=name, given=first, family=family))
    return tuple(authors)


def _snapshot_record(line: _Line) -> PaperRecord:
    arxiv_id, id_version = line.arxiv_id()
    title = _clean(line.req_str("title"))
    abstract = _clean(line.opt_str("abstract") or "")
    comment = _clean(line.opt_str("comments") or "") or None
    submitted, updated, version = _versions(line)
    if updated is None:
        updated = line.iso_date("update_date")
    categories = line.opt_str("categories") or ""
    journal_ref = line.opt_str("journal-ref")
    return PaperRecord(
        title=title,
        abstract=abstract,
        authors=_snapshot_authors(line),
        arxiv_id=arxiv_id,
        arxiv_version=version or id_version,
        doi=normalize_doi(line.opt_str("doi")),
        categories=tuple(categories.split()),
        submitted=submitted,
        updated=updated,
        abs_url=abs_url(arxiv_id),
        pdf_url=pdf_url(arxiv_id),
        code_urls=code_urls_in(abstract, comment),
        comment=comment,
        journal_ref=_clean(journal_ref) if journal_ref else None,
        provenance=(
            Provenance(source="arxiv-snapshot", file=line.file, line=line.lineno,
                       record_id=arxiv_id),
        ),
    )


def _daily_record(line: _Line) -> PaperRecord:
    arxiv_id, id_version = line.arxiv_id()
    title = _clean(line.req_str("title"))
    abstract = _clean(line.opt_str("abstract") or "")
    comment = _clean(line.opt_str("comment") or "") or None
    return PaperRecord(
        title=title,
        abstract=abstract,
        authors=tuple(split_given_family(n) for n in line.str_list("authors") if n.strip()),
        arxiv_id=arxiv_id,
        arxiv_version=id_version,
        categories=tuple(line.str_list("categories")),
        first_listed=line.iso_date("first_seen_listing_date"),
        abs_url=line.opt_str("abs") or abs_url(arxiv_id),
        pdf_url=line.opt_str("pdf") or pdf_url(arxiv_id),
        code_urls=code_urls_in(abstract, comment),
        comment=comment,
        provenance=(
            Provenance(source="arxiv-daily", file=line.file, line=line.lineno,
                       record_id=arxiv_id),
        ),
    )


def _parse(
    lines: Iterable[tuple[int, str]], file: str | None, build: Callable[[_Line], PaperRecord]
) -> Iterator[PaperRecord]:
    for line in _json_lines(lines, file):
        yield build(line)


def parse_arxiv_snapshot(
    lines: Iterable[tuple[int, str]], *, file: str | None = None
) -> Iterator[PaperRecord]:
    """Records of arXiv's bulk metadata snapshot, one JSON object a line."""
    return _parse(lines, file, _snapshot_record)


def parse_arxiv_daily(
    lines: Iterable[tuple[int, str]], *, file: str | None = None
) -> Iterator[PaperRecord]:
    """Records of the arXiv daily listing crawl, one JSON object a line."""
    return _parse(lines, file, _daily_record)
