"""BibTeX files, read with bibtexparser v2.

Owns turning `.bib` entries into `PaperRecord`s: LaTeX in titles, abstracts and
names decoded to text, authors split, year and month made a date, DOIs and
arXiv ids found wherever bibliographies tend to put them (`doi`, `eprint` +
`archivePrefix`, arXiv URLs, "arXiv preprint arXiv:..." journals, arXiv DOIs).
Blocks bibtexparser cannot parse become a `SourceError` naming their line.

Files are read in chunks of whole blocks (cut only at lines that start a block,
where bibtexparser itself would end the block before), so memory holds one chunk
whatever the file's size; `@string` macros and citation keys carry across chunks.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from bibtexparser import middlewares
from bibtexparser.entrypoint import parse_string
from bibtexparser.library import Library
from bibtexparser.middlewares.enclosing import REMOVED_ENCLOSING_KEY
from bibtexparser.middlewares.middleware import LibraryMiddleware, Middleware
from bibtexparser.middlewares.names import NameParts
from bibtexparser.model import DuplicateBlockKeyBlock, Entry, ParsingFailedBlock, String
from pylatexenc import latexwalker
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from paperfeed.errors import SourceError
from paperfeed.records import (
    Author,
    PaperRecord,
    Provenance,
    derive_title,
    find_code_urls,
    normalize_doi,
    split_arxiv_id,
)
from paperfeed.sources.limits import Budget

__all__ = ["latex_to_text", "parse_bibtex", "parse_bibtex_lines"]

# bibtexparser logs every block it cannot parse; we raise those as SourceError,
# so keep its messages off stderr unless the application routes them somewhere.
logging.getLogger("bibtexparser").addHandler(logging.NullHandler())

_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def _decoder() -> LatexNodes2Text:
    # As bibtexparser's LatexDecodingMiddleware, but with math turned into text
    # ("$\alpha$" -> "α") since titles are read and searched, not typeset.
    context = get_default_latex_context_db()
    context.add_context_category(
        "paperfeed-bibtex", prepend=True, macros=[MacroTextSpec("url", simplify_repl="%s")]
    )
    return LatexNodes2Text(latex_context=context, math_mode="text")


_DECODER = _decoder()
# Built once: `LatexNodes2Text.latex_to_text` would rebuild it for every value (a third
# of the time of a small entry).
_WALKER_CONTEXT = latexwalker.get_default_latex_context_db()
# Characters pylatexenc may change (measured over all printable ASCII); text without
# them comes out as it went in, so it skips the parser.
_LATEX_CHARS = frozenset("\\{}$%&'-`~#^_")


def latex_to_text(value: str) -> str:
    """LaTeX markup to plain text on one line: accents, braces, `\\&`, math."""
    if _LATEX_CHARS.isdisjoint(value):
        return " ".join(value.split())
    try:
        nodes = latexwalker.LatexWalker(value, latex_context=_WALKER_CONTEXT).get_latex_nodes()[0]
        text = _DECODER.nodelist_to_text(nodes)
    except Exception:  # pylatexenc is tolerant; if it ever is not, keep a usable text
        text = value.replace("{", "").replace("}", "")
    return " ".join(str(text).split())


class _Macros(LibraryMiddleware):
    """bibtexparser's ResolveStringReferencesMiddleware, in BibTeX's order (a macro is
    known from its `@string` on) and with the macros of earlier chunks kept, so that a
    file read in chunks resolves exactly as read whole.

    (bibtexparser can resolve against an earlier library, but copies all its strings
    into every chunk, which a file of many macros turns quadratic.)
    """

    def __init__(self) -> None:
        super().__init__(allow_inplace_modification=True)
        self.values: dict[str, Any] = {}

    @classmethod
    def metadata_key(cls) -> str:
        return "ResolveStringReferences"

    def transform(self, library: Library) -> Library:
        known = library.strings_dict  # the first of duplicates (the others fail the file)
        for block in library.blocks:
            if isinstance(block, String) and known.get(block.key) is block:
                # As bibtexparser: looked up in lower case, a later definition wins.
                self.values[block.key.lower()] = block.value
            elif isinstance(block, Entry):
                self._resolve(block)
        return library

    def _resolve(self, entry: Entry) -> None:
        if REMOVED_ENCLOSING_KEY in entry.parser_metadata:  # pragma: no cover
            raise AssertionError("RemoveEnclosingMiddleware must run after _Macros")
        resolved = []
        for field in entry.fields:
            value = field.value
            if not isinstance(value, str) or value[:1] in ('"', "{"):
                continue  # a number or a delimited value, not a macro name
            found = self.values.get(value.lower())
            if found is not None:
                field.value = found
                resolved.append(field.key)
        if resolved:
            entry.parser_metadata[self.metadata_key()] = resolved


def _parse_stack(macros: _Macros | None = None) -> list[Middleware]:
    # Not bibtexparser's LatexDecodingMiddleware: it decodes every field, and a
    # `%` in a URL or DOI is a LaTeX comment that would cut the value short.
    return [
        macros or _Macros(),
        middlewares.RemoveEnclosingMiddleware(),
        middlewares.NormalizeFieldKeys(),
        middlewares.SeparateCoAuthors(name_fields=("author",)),
        middlewares.SplitNameParts(name_fields=("author",)),
        middlewares.MonthIntMiddleware(),
    ]


class _Fields:
    """An entry's fields as plain strings."""

    def __init__(self, entry: Entry) -> None:
        self.values: dict[str, Any] = {f.key: f.value for f in entry.fields}

    def raw(self, key: str) -> str | None:
        value = self.values.get(key)
        if value is None:
            return None
        text = " ".join(str(value).split())
        return text or None

    def text(self, key: str) -> str | None:
        value = self.raw(key)
        return (latex_to_text(value) or None) if value else None


def _authors(value: object) -> tuple[Author, ...]:
    if not isinstance(value, list):
        return ()
    authors: list[Author] = []
    for parts in value:
        if not isinstance(parts, NameParts):
            continue
        if not parts.first and not parts.von and parts.last == ["others"] and not parts.jr:
            continue  # "and others" is BibTeX for "et al."
        given = latex_to_text(" ".join(parts.first))
        family = latex_to_text(" ".join([*parts.von, *parts.last, *parts.jr]))
        name = " ".join(p for p in (given, family) if p)
        if name:
            authors.append(Author(name=name, given=given, family=family or name))
    return tuple(authors)


def _month(value: object) -> int:
    # MonthIntMiddleware already turned names ("jul", "July") into ints.
    if isinstance(value, int):
        return value if 1 <= value <= 12 else 1
    text = str(value).strip()
    if text.isdigit() and 1 <= int(text) <= 12:
        return int(text)
    return 1


def _submitted(fields: _Fields) -> date | None:
    year_text = fields.raw("year") or fields.raw("date") or ""
    match = _YEAR.search(year_text)
    if not match:
        return None
    month = _month(fields.values["month"]) if "month" in fields.values else 1
    try:
        return date(int(match.group(1)), month, 1)
    except ValueError:
        return None


def _arxiv(fields: _Fields, doi: str | None) -> tuple[str, int | None] | None:
    eprint = fields.raw("eprint")
    prefix = (fields.raw("archiveprefix") or fields.raw("eprinttype") or "arxiv").lower()
    if eprint and prefix == "arxiv":
        found = split_arxiv_id(eprint)
        if found:
            return found
    if doi:
        match = _ARXIV_DOI.match(doi)
        if match:
            found = split_arxiv_id(match.group(1))
            if found:
                return found
    for key in ("url", "journal", "note", "howpublished"):
        value = fields.raw(key)
        if value and "arxiv" in value.lower():
            found = split_arxiv_id(value)
            if found:
                return found
    if fields.raw("journal") == "CoRR":
        # DBLP writes arXiv papers as journal = {CoRR}, volume = {abs/2101.00001}.
        return split_arxiv_id(fields.raw("volume"))
    return None


def _urls(fields: _Fields, arxiv_id: str | None) -> tuple[str | None, str | None]:
    abs_url: str | None = None
    pdf_url: str | None = None
    url = fields.raw("url")
    if url and url.split()[0].lower().startswith(("http://", "https://")):
        url = url.split()[0]
        if url.lower().endswith(".pdf") or "arxiv.org/pdf/" in url.lower():
            pdf_url = url
        else:
            abs_url = url
    if arxiv_id:
        abs_url = abs_url or f"https://arxiv.org/abs/{arxiv_id}"
        pdf_url = pdf_url or f"https://arxiv.org/pdf/{arxiv_id}"
    return abs_url, pdf_url


def _venue(fields: _Fields) -> str | None:
    venue = fields.text("journal") or fields.text("booktitle")
    if venue and (venue == "CoRR" or venue.lower().startswith("arxiv")):
        return None  # the arXiv listing itself, not a publication
    return venue


def _record(entry: Entry, file: str | None, line: int) -> PaperRecord:
    fields = _Fields(entry)
    abstract = fields.text("abstract") or ""
    title = fields.text("title")
    title_derived = False
    if not title:
        if not abstract:
            raise SourceError(
                f"entry {entry.key!r} has no title", file=file, line=line, field="title"
            )
        title, title_derived = derive_title(abstract), True
    doi = normalize_doi(fields.raw("doi"))
    url = fields.raw("url")
    if doi is None and url and "doi.org/" in url.lower():
        doi = normalize_doi(url)
    arxiv = _arxiv(fields, doi)
    arxiv_id, arxiv_version = arxiv if arxiv else (None, None)
    abs_url, pdf_url = _urls(fields, arxiv_id)
    note = fields.text("note")
    code_urls: list[str] = []
    for text in (abstract, note, url, fields.raw("code")):
        for found in find_code_urls(text):
            if found not in code_urls:
                code_urls.append(found)
    primary = fields.raw("primaryclass")
    return PaperRecord(
        title=title,
        abstract=abstract,
        authors=_authors(fields.values.get("author")),
        arxiv_id=arxiv_id,
        arxiv_version=arxiv_version,
        doi=doi,
        source_ids=(("bibtex", entry.key),),
        categories=(primary,) if primary else (),
        submitted=_submitted(fields),
        abs_url=abs_url,
        pdf_url=pdf_url,
        code_urls=tuple(code_urls),
        comment=note,
        journal_ref=_venue(fields),
        title_derived=title_derived,
        provenance=(Provenance(source="bibtex", file=file, line=line, record_id=entry.key),),
    )


def _failure(block: ParsingFailedBlock, file: str | None, line: int) -> SourceError:
    if isinstance(block, DuplicateBlockKeyBlock):
        return SourceError(f"duplicate citation key {block.key!r}", file=file, line=line)
    error = block.error
    # BlockAbortedException keeps its reason in an attribute, not in its message.
    reason = getattr(error, "abort_reason", None) or str(error)
    detail = " ".join(str(reason).split()) or type(error).__name__
    return SourceError(f"cannot parse BibTeX block: {detail[:200]}", file=file, line=line)


# Where a chunk may end: a line that starts a block. bibtexparser ends any open block at
# such a line too, so cutting there changes nothing (its `_BLOCK_START`, at a line start).
_BLOCK_LINE = re.compile(r"\s*@\w*[ \t]*[{(]")
CHUNK_BYTES = 256 * 1024
CHUNK_LINES = 20_000


def _chunks(
    lines: Iterable[tuple[int, str]], budget: Budget, chunk_bytes: int
) -> Iterator[tuple[int, int, str]]:
    """`(first line, last line, text)` of runs of whole blocks, about `chunk_bytes` each.

    A run of more lines than the budget's cap without any block start (so without
    any paper) stops the file here, before it is parsed.
    """
    gap_cap = budget.limits.max_lines_between_records
    parts: list[str] = []
    size = 0
    first = last = last_block = 0
    for lineno, text in lines:
        if _BLOCK_LINE.match(text):
            if parts and (size >= chunk_bytes or len(parts) >= CHUNK_LINES):
                yield first, last, "\n".join(parts)
                parts, size = [], 0
            last_block = lineno
        elif lineno - last_block > gap_cap:
            budget.check_gap(last_block, lineno)
        if not parts:
            first = lineno
        parts.append(text)
        size += len(text) + 1
        last = lineno
    if parts:
        yield first, last, "\n".join(parts)


def parse_bibtex_lines(
    lines: Iterable[tuple[int, str]],
    *,
    file: str | None = None,
    budget: Budget | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> Iterator[PaperRecord]:
    """Records of the entries of numbered BibTeX lines, in file order, a chunk at a time.

    `@string` macros are resolved (from their definition on, in BibTeX's order);
    comments and `@preamble` are skipped. The first block bibtexparser fails on,
    or a citation key used twice, stops the file with a `SourceError`.
    `budget` checks the runs of lines without a paper (`max_lines_between_records`).
    """
    from paperfeed.sources.limits import InputLimits

    budget = budget or Budget(InputLimits(), file)
    budget.track_lines = False  # checked here, per block: records come a chunk at a time
    macros = _Macros()
    stack = _parse_stack(macros)
    entry_keys: set[str] = set()
    string_keys: set[str] = set()
    previous = 0  # the line of the last paper
    for first, last, text in _chunks(lines, budget, chunk_bytes):
        library = parse_string(text, parse_stack=stack)
        for block in library.blocks:
            line = first + (block.start_line or 0)
            if isinstance(block, ParsingFailedBlock):
                raise _failure(block, file, line)
            if isinstance(block, String):
                if block.key in string_keys:
                    raise SourceError(f"duplicate citation key {block.key!r}", file=file,
                                      line=line)
                string_keys.add(block.key)
            elif isinstance(block, Entry):
                if block.key in entry_keys:
                    raise SourceError(f"duplicate citation key {block.key!r}", file=file,
                                      line=line)
                entry_keys.add(block.key)
                budget.check_gap(previous, line)
                previous = line
                yield _record(block, file, line)
        budget.check_gap(previous, last)


def parse_bibtex(text: str, *, file: str | None = None) -> Iterator[PaperRecord]:
    """Records of the entries of a BibTeX text, in file order (see `parse_bibtex_lines`)."""
    return parse_bibtex_lines(enumerate(text.split("\n"), start=1), file=file)


_BARE_SPECIAL = re.compile(r"(?<!\\)([&%#])")


def _bib_value(text: str) -> str:
    """A field value for BibTeX: bare & % # escaped, braces kept only when balanced."""
    text = " ".join("".join(c for c in text if c.isprintable() or c.isspace()).split())
    depth = 0
    for ch in text:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            break
    if depth != 0:
        text = text.replace("{", "").replace("}", "")
    return _BARE_SPECIAL.sub(r"\\\1", text)


def _bib_name(name: str) -> str:
    """One author as BibTeX reads it: a name with a comma or " and " goes in braces."""
    value = _bib_value(name).replace("{", "").replace("}", "")
    return "{" + value + "}" if "," in value or " and " in value.lower() else value


def bibtex_key(record: PaperRecord, taken: set[str]) -> str:
    """surnameYEARfirstword, made unique with a, b, c ... (how citation managers do it)."""
    surname = record.authors[0].family or record.authors[0].name if record.authors else "anon"
    year = (record.submitted or record.first_listed)
    word = next((w for w in re.findall(r"[A-Za-z]+", record.title) if len(w) > 3), "paper")
    base = re.sub(r"[^a-z0-9]", "", f"{surname}{year.year if year else ''}{word}".lower())
    key, n = base or "paper", 0
    while key in taken:
        n += 1
        key = f"{base}{chr(ord('a') + (n - 1) % 26)}{(n - 1) // 26 or ''}"
    taken.add(key)
    return key


def write_bibtex(records: Iterable[PaperRecord]) -> str:
    """BibTeX for the records: @article with arXiv eprint fields, DOI and URL when known."""
    from bibtexparser.entrypoint import write_string
    from bibtexparser.library import Library
    from bibtexparser.model import Block, Field
    from bibtexparser.model import Entry as BibEntry

    taken: set[str] = set()
    entries: list[Block] = []
    for r in records:
        fields = [Field("title", "{" + _bib_value(r.title) + "}"),
                  Field("author", " and ".join(_bib_name(a.name) for a in r.authors))]
        day = r.submitted or r.first_listed
        if day:
            fields.append(Field("year", str(day.year)))
        if r.arxiv_id:
            fields += [Field("eprint", r.arxiv_id), Field("archivePrefix", "arXiv")]
            if r.categories:
                fields.append(Field("primaryClass", r.categories[0]))
        if r.doi:
            fields.append(Field("doi", r.doi))
        if r.journal_ref:
            fields.append(Field("journal", _bib_value(r.journal_ref)))
        url = r.abs_url or (f"https://arxiv.org/abs/{r.arxiv_id}" if r.arxiv_id else None)
        if url:
            fields.append(Field("url", url))
        entries.append(BibEntry("article", bibtex_key(r, taken), fields))
    return write_string(Library(entries)) if entries else ""
