"""The BM25 side of the index, on tantivy.

Owns the tantivy schema (title, abstract and authors as BM25 text with field
boosts; key, row, generation, day, categories and author names as filter and
sort fields), turning `SearchFilters` into tantivy queries, and snippets with
the matched terms highlighted. Why tantivy: docs/decisions/lexical-engine.md.

Every document version carries the `row` it has in the vector store and the
`gen` (batch) that wrote it. The caller decides which rows are live; this
module only adds and deletes versions.

Read-only opening: tantivy takes a lock file in the index folder even to read, so a
folder this process cannot write is read through a private folder of symbolic links
to its files (docs/decisions/read-only-store.md). tantivy writes `meta.json` and
`.managed.json` owner-only; a writer makes them as readable as the segment files, so
other users can read the index too.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tantivy

from paperfeed.errors import PaperfeedError
from paperfeed.index.query import ParsedQuery
from paperfeed.index.types import IndexDoc, QueryError, SearchFilters, Segment
from paperfeed.text import ascii_words, index_analyzer, index_terms, name_analyzer

__all__ = ["LexHit", "LexicalIndex", "name_keys"]

# BM25 runs on `body` (title + abstract as one text) plus a bonus for title
# matches, so a title match outranks an abstract-only one. Scoring title and
# abstract as separate fields ranked worse on SciFact train (nDCG@10 0.672 at
# title 1.0 / abstract 1.0 against 0.701 for body + 0.3 title):
# docs/decisions/lexical-engine.md. The authors weight is not tuned (no data).
FIELD_BOOSTS = {"body": 1.0, "title": 0.3, "authors": 0.5}
TEXT_FIELDS = list(FIELD_BOOSTS)
SNIPPET_CHARS = 260
_TEXT_TOKENIZER = "en_text"
_NAME_TOKENIZER = "name_text"
_WORDY = re.compile(r"[^\W_]")


def name_keys(name: str) -> list[str]:
    """Filter keys of an author name: the folded full name and every trailing part of it.

    "Luc Van Gool" -> ["luc van gool", "van gool", "gool"], so a filter on the
    surname alone matches.
    """
    words = ascii_words(name)
    return [" ".join(words[i:]) for i in range(len(words))]


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("key", stored=True, indexed=True, fast=True)
    builder.add_integer_field("row", stored=True, indexed=True, fast=True)
    builder.add_integer_field("gen", indexed=True, fast=True)
    # Days since 0001-01-01; 0 when the paper has no date (sorts last).
    builder.add_integer_field("day", stored=True, indexed=True, fast=True)
    builder.add_text_field("body", tokenizer_name=_TEXT_TOKENIZER)
    builder.add_text_field("title", stored=True, tokenizer_name=_TEXT_TOKENIZER)
    # Stored for snippets; indexed without positions only so snippets can find terms.
    builder.add_text_field("abstract", stored=True, tokenizer_name=_TEXT_TOKENIZER,
                           index_option="basic")
    builder.add_text_field("authors", stored=True, tokenizer_name=_NAME_TOKENIZER)
    builder.add_text_field("author_key", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("category", tokenizer_name="raw", index_option="basic")
    return builder.build()


@dataclass(frozen=True)
class LexHit:
    """A tantivy hit: the doc version's key and row, its score (or day when sorted by date)."""

    key: int
    row: int
    score: float
    address: Any


# tantivy's own files that a read-only view must not share: its locks (taken in the
# view's folder instead) and the list of files it manages (only a writer needs it).
_PRIVATE_FILES = (".tantivy-meta.lock", ".tantivy-writer.lock", ".managed.json")
_OWNER_ONLY_FILES = ("meta.json", ".managed.json")


def _read_only_view(directory: Path) -> tuple[str, tempfile.TemporaryDirectory[str]]:
    """A private folder of symbolic links to the index's files, for tantivy to open.

    Links, not copies: opening costs one link per file whatever the index's size, and
    the segments are still read (mmapped) from where they are."""
    view = tempfile.TemporaryDirectory(prefix="paperfeed-index-")
    for entry in os.scandir(directory):
        if entry.name not in _PRIVATE_FILES:
            os.symlink(entry.path, os.path.join(view.name, entry.name))
    return view.name, view


def share_like_folder(*paths: Path) -> None:
    """Give files the folder's read permissions (its mode without execute bits): a file
    that a library wrote owner-only becomes as readable as its neighbours."""
    for path in paths:
        try:
            mode = path.parent.stat().st_mode & 0o666
            if path.exists() and path.stat().st_mode & 0o777 != mode:
                os.chmod(path, mode)
        except OSError:
            pass  # not ours to change: readers will say what they cannot read


class LexicalIndex:
    """A tantivy index in one directory; one writer at a time, reader reloaded on our commits."""

    def __init__(self, directory: Path, *, read_only: bool = False) -> None:
        self.directory = directory
        self.read_only = read_only
        if read_only and not directory.is_dir():
            self._index = tantivy.Index(_schema())  # nothing indexed yet: an empty one
        elif read_only:
            path, view = _read_only_view(directory)
            weakref.finalize(self, view.cleanup)  # tantivy keeps the files it opened
            try:
                self._index = tantivy.Index.open(path)
            except (OSError, ValueError) as exc:
                # Typically meta.json left owner-only by an older paperfeed.
                raise PaperfeedError(
                    f"cannot read the search index in {directory} ({exc}); the owner's "
                    "next writing command there (e.g. `paperfeed reindex`) makes it "
                    "readable to other users") from exc
        else:
            directory.mkdir(parents=True, exist_ok=True)
            path = str(directory)
            if tantivy.Index.exists(path):
                self._index = tantivy.Index.open(path)
            else:
                self._index = tantivy.Index(_schema(), path=path)
            self._share()
        self._schema = self._index.schema
        # The analyzers live in paperfeed.text, so the Python side splits words as they do.
        self._index.register_tokenizer(_TEXT_TOKENIZER, index_analyzer())
        self._index.register_tokenizer(_NAME_TOKENIZER, name_analyzer())
        # Manual reloads: a reader sees our own commits, never half of another process's.
        self._index.config_reader(reload_policy="manual")
        self._index.reload()
        self._writer: tantivy.IndexWriter | None = None

    # --- writing ---------------------------------------------------------------

    def _share(self) -> None:
        share_like_folder(*(self.directory / name for name in _OWNER_ONLY_FILES))

    def _get_writer(self) -> tantivy.IndexWriter:
        if self.read_only:
            raise PaperfeedError(f"the index in {self.directory} is open read-only")
        if self._writer is None:
            self._writer = self._index.writer(heap_size=64_000_000, num_threads=1)
        return self._writer

    def add(self, docs: Sequence[IndexDoc], rows: Sequence[int], gen: int) -> None:
        writer = self._get_writer()
        for doc, row in zip(docs, rows, strict=True):
            fields: dict[str, Any] = {
                "key": doc.key,
                "row": row,
                "gen": gen,
                "day": doc.date.toordinal() if doc.date else 0,
                "body": f"{doc.title}\n{doc.abstract}",
                "title": doc.title,
                "abstract": doc.abstract,
            }
            document = tantivy.Document(**fields)
            for name in doc.authors:
                document.add_text("authors", name)
                for key in name_keys(name):
                    document.add_text("author_key", key)
            for category in doc.categories:
                document.add_text("category", category.strip().lower())
            writer.add_document(document)

    def delete_rows(self, rows: Iterable[int]) -> None:
        writer = self._get_writer()
        for row in rows:
            writer.delete_documents_by_term("row", int(row))

    def delete_generations_after(self, gen: int) -> None:
        """Drop versions written by batches that never reached the manifest."""
        query = tantivy.Query.range_query(
            self._schema, "gen", tantivy.FieldType.Integer, lower_bound=gen + 1
        )
        self._get_writer().delete_documents_by_query(query)

    def commit(self) -> None:
        if self._writer is not None:
            self._writer.commit()
            self._index.reload()
            self._share()

    def release_writer(self) -> None:
        """Finish merges and free the writer lock so another process may write."""
        if self._writer is not None:
            self._writer.wait_merging_threads()
            self._writer = None
            self._index.reload()

    # --- reading ---------------------------------------------------------------

    @property
    def num_docs(self) -> int:
        return int(self._index.searcher().num_docs)

    def _text_query(self, parsed: ParsedQuery) -> tantivy.Query:
        try:
            return self._index.parse_query(
                parsed.to_tantivy(), TEXT_FIELDS, field_boosts=FIELD_BOOSTS
            )
        except ValueError as exc:  # sanitised input should never get here
            raise QueryError(f"cannot run query {parsed.to_tantivy()[:80]!r}: {exc}") from exc

    def filter_query(self, filters: SearchFilters | None) -> tantivy.Query | None:
        """The filters as one tantivy query, or None when there is nothing to filter."""
        if filters is None or filters.is_empty():
            return None
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        if filters.date_from or filters.date_to:
            clauses.append(
                (
                    tantivy.Occur.Must,
                    tantivy.Query.range_query(
                        self._schema,
                        "day",
                        tantivy.FieldType.Integer,
                        lower_bound=filters.date_from.toordinal() if filters.date_from else 1,
                        upper_bound=filters.date_to.toordinal() if filters.date_to else None,
                    ),
                )
            )
        if filters.categories:
            values = sorted({c.strip().lower() for c in filters.categories})
            clauses.append(
                (tantivy.Occur.Must, tantivy.Query.term_set_query(self._schema, "category", values))
            )
        if filters.authors:
            values = sorted({" ".join(ascii_words(a)) for a in filters.authors} - {""})
            # An author filter of only punctuation matches nobody rather than everybody.
            author_query = (
                tantivy.Query.term_set_query(self._schema, "author_key", values)
                if values
                else tantivy.Query.empty_query()
            )
            clauses.append((tantivy.Occur.Must, author_query))
        if filters.keys is not None:
            key_query = (tantivy.Query.term_set_query(self._schema, "key", sorted(filters.keys))
                         if filters.keys else tantivy.Query.empty_query())
            clauses.append((tantivy.Occur.Must, key_query))
        return tantivy.Query.boolean_query(clauses)

    def _combine(
        self, parsed: ParsedQuery | None, filter_query: tantivy.Query | None
    ) -> tantivy.Query:
        text = self._text_query(parsed) if parsed and not parsed.is_empty else None
        if text is None:
            return filter_query or tantivy.Query.all_query()
        if filter_query is None:
            return text
        # The filter must match but must not add to the BM25 score.
        return tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Must, text),
                (tantivy.Occur.Must, tantivy.Query.const_score_query(filter_query, 0.0)),
            ]
        )

    def search(
        self,
        parsed: ParsedQuery | None,
        limit: int,
        *,
        filter_query: tantivy.Query | None = None,
        by_date: bool = False,
        live: Callable[[int], bool] | None = None,
        stale: int = 0,
    ) -> list[LexHit]:
        """Best `limit` live versions (by BM25, or newest first when `by_date`).

        `stale` is how many dead versions may still be in tantivy; fetching that
        many more keeps `limit` live ones after `live` drops the dead.
        """
        if limit <= 0:
            return []
        if parsed is not None and parsed.is_empty and not by_date:
            return []
        query = self._combine(parsed, filter_query)
        searcher = self._index.searcher()
        fetch = limit + max(stale, 0)
        if by_date:
            result = searcher.search(
                query, fetch, count=False, order_by_field="day", order=tantivy.Order.Desc
            )
        else:
            result = searcher.search(query, fetch, count=False)
        if not result.hits:
            return []
        addresses = [address for _, address in result.hits]
        keys = searcher.fast_field_values("key", addresses)
        rows = searcher.fast_field_values("row", addresses)
        hits: list[LexHit] = []
        for (score, address), key, row in zip(result.hits, keys, rows, strict=True):
            if key is None or row is None or (live is not None and not live(int(row))):
                continue
            hits.append(LexHit(key=int(key), row=int(row), score=float(score), address=address))
            if len(hits) == limit:
                break
        return hits

    def count(self, filter_query: tantivy.Query | None) -> int:
        query = filter_query or tantivy.Query.all_query()
        result: Any = self._index.searcher().search(query, 1, count=True)
        return int(result.count)  # `count` is missing from tantivy's stubs

    def rows_matching(self, filter_query: tantivy.Query | None, limit: int) -> list[int]:
        """Rows of every version matching the filter (dead ones included), up to `limit`."""
        query = filter_query or tantivy.Query.all_query()
        searcher = self._index.searcher()
        result = searcher.search(query, max(limit, 1), count=False)
        addresses = [address for _, address in result.hits]
        if not addresses:
            return []
        return [int(r) for r in searcher.fast_field_values("row", addresses) if r is not None]

    def addresses_of_rows(self, rows: Sequence[int]) -> dict[int, Any]:
        """Doc addresses of the given rows (for snippets of hits the dense side found)."""
        if not rows:
            return {}
        searcher = self._index.searcher()
        query = tantivy.Query.term_set_query(self._schema, "row", [int(r) for r in rows])
        result = searcher.search(query, len(rows), count=False)
        addresses = [address for _, address in result.hits]
        found = searcher.fast_field_values("row", addresses) if addresses else []
        return {int(r): a for r, a in zip(found, addresses, strict=True) if r is not None}

    def stored_doc(self, address: Any) -> dict[str, list[Any]]:
        return dict(self._index.searcher().doc(address).to_dict())

    def stored_text(self, address: Any) -> str:
        """A stored paper's title and abstract as one text."""
        stored = self.stored_doc(address)
        return " ".join(str(v) for v in stored.get("title", []) + stored.get("abstract", []))

    def query_terms(self, parsed: ParsedQuery) -> dict[str, float]:
        """The query's analysed terms (stemmed, stop words out) with their BM25 IDF."""
        searcher = self._index.searcher()
        n = max(int(searcher.num_docs), 1)
        terms: dict[str, float] = {}
        for term in index_terms(" ".join(parsed.words())):
            if term not in terms:
                df = int(searcher.doc_freq("body", term))
                terms[term] = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
        return terms

    def coverage(self, terms: dict[str, float], address: Any) -> float:
        """The share of the query's IDF mass that one stored paper contains (0-1).

        How strong the lexical evidence is: a keyword query whose rare words all
        occur in its best BM25 hit scores near 1; a paraphrase that shares only
        common words with every paper scores low (docs/decisions/fusion.md).
        """
        total = sum(terms.values())
        if total <= 0:
            return 0.0
        present = set(index_terms(self.stored_text(address)))
        return sum(idf for term, idf in terms.items() if term in present) / total

    # --- display ---------------------------------------------------------------

    def highlighter(self, parsed: ParsedQuery | None) -> Highlighter:
        return Highlighter(self, parsed)


def _byte_to_char(text: str, ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    encoded = text.encode("utf-8")
    def chars(offset: int) -> int:
        return len(encoded[:offset].decode("utf-8", "ignore"))

    return [(chars(start), chars(end)) for start, end in ranges]


def _segments(text: str, spans: Sequence[tuple[int, int]]) -> list[Segment]:
    out: list[Segment] = []
    cursor = 0
    for start, end in sorted(spans):
        if start < cursor or end <= start:
            continue
        if start > cursor:
            out.append(Segment(text[cursor:start], False))
        out.append(Segment(text[start:end], True))
        cursor = end
    if cursor < len(text):
        out.append(Segment(text[cursor:], False))
    return out


def _lead(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


class Highlighter:
    """Title and snippet segments for one query, with tantivy's snippet generator."""

    def __init__(self, index: LexicalIndex, parsed: ParsedQuery | None) -> None:
        self._index = index
        self._generators: dict[str, tantivy.SnippetGenerator] = {}
        words = " ".join(dict.fromkeys(parsed.words())) if parsed is not None else ""
        if words:
            searcher = index._index.searcher()
            for name, chars in (("title", 2_000), ("abstract", SNIPPET_CHARS)):
                # Words only: highlighting marks the words of a phrase wherever they occur.
                try:
                    query = index._index.parse_query(words, [name])
                except ValueError:
                    continue
                generator = tantivy.SnippetGenerator.create(searcher, query, index._schema, name)
                generator.set_max_num_chars(chars)
                self._generators[name] = generator

    def _highlight(self, name: str, document: tantivy.Document, text: str) -> list[Segment] | None:
        generator = self._generators.get(name)
        if generator is None or not text:
            return None
        snippet = generator.snippet_from_doc(document)
        spans = [(h.start, h.end) for h in snippet.highlighted()]
        if not spans:
            return None
        fragment = snippet.fragment()
        frame = snippet.fragment_range()
        (start, end), = _byte_to_char(text, [(frame.start, frame.end)])
        segments = _segments(fragment, _byte_to_char(fragment, spans))
        if name == "title":  # the whole title, not just the fragment around the match
            prefix, suffix = text[:start], text[end:]
            return ([Segment(prefix, False)] if prefix else []) + segments + (
                [Segment(suffix, False)] if suffix else []
            )
        # Mark cut text with an ellipsis, but keep a cut-off bit of mere punctuation as is.
        head, tail = text[:start], text[end:]
        if head:
            segments.insert(0, Segment("…" if _WORDY.search(head) else head, False))
        if tail:
            segments.append(Segment("…" if _WORDY.search(tail) else tail, False))
        return segments

    def render(self, address: Any) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
        document = self._index._index.searcher().doc(address)
        title = str(document.get_first("title") or "")
        abstract = str(document.get_first("abstract") or "")
        title_segments = self._highlight("title", document, title) or [Segment(title, False)]
        snippet = self._highlight("abstract", document, abstract) or [
            Segment(_lead(abstract, SNIPPET_CHARS), False)
        ]
        return tuple(title_segments), tuple(snippet)
