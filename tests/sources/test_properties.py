"""Property tests: no input makes a source fail with anything but `SourceError`."""

from __future__ import annotations

import gzip
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperfeed.errors import SourceError
from paperfeed.records import PaperRecord
from paperfeed.sources import FORMATS, detect_format, read_records
from paperfeed.sources.arxiv_json import parse_arxiv_daily, parse_arxiv_snapshot
from paperfeed.sources.bibtex import parse_bibtex
from paperfeed.sources.reader import iter_lines_from_bytes
from paperfeed.sources.text import parse_abstracts, parse_listing

Lines = list[tuple[int, str]]
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def numbered(text: str) -> Lines:
    return list(enumerate(text.split("\n"), start=1))


def drain(records: Iterable[PaperRecord], n_lines: int | None = None) -> list[PaperRecord] | None:
    """All records, or None if the source raised its own error; checks each record."""
    try:
        out = list(records)
    except SourceError as exc:
        assert exc.message
        return None
    for record in out:
        assert isinstance(record, PaperRecord)
        assert isinstance(record.title, str) and record.title.strip()
        line = record.provenance[0].line
        assert line is not None and line >= 1
        if n_lines is not None:
            assert line <= n_lines
    return out


# --- strategies ----------------------------------------------------------------------
# Each mixes mostly well-formed input (so that records come out and their
# building is exercised) with junk in every position.


def mostly(valid: st.SearchStrategy[Any], junk: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`valid` seven times in eight, `junk` otherwise."""
    return st.sampled_from([True] * 7 + [False]).flatmap(lambda ok: valid if ok else junk)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
WORDS = st.sampled_from(["we", "propose", "a", "method.", "It", "works", "well", "Code:",
                         "https://github.com/x/y", "github.com/z/w.", "(see", "www.a.org)", "é"])
words = st.lists(WORDS, max_size=40).map(" ".join)
ids = st.sampled_from(["2503.11731", "0704.0001v2", "hep-th/9901001", "arXiv:1706.03762"])
bad_strings = st.sampled_from(["", " ", "x", "2025-13-45", "Mon, 99 Foo 2007", "v", "\n"])
created = st.sampled_from(["Mon, 2 Apr 2007 19:18:42 GMT", "Tue, 24 Jul 2007 20:10:27 GMT"])
version = st.fixed_dictionaries(
    {"version": mostly(st.sampled_from(["v1", "v2", "v10"]), json_values),
     "created": mostly(created, json_values)}
)
names = st.lists(st.text(max_size=15), max_size=4)
SNAPSHOT_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "authors": st.text(max_size=40),
    "authors_parsed": st.lists(names, max_size=3),
    "versions": st.lists(version, max_size=3),
    "doi": st.sampled_from(["10.1103/PhysRevD.76.013009", "none"]),
    "categories": st.sampled_from(["hep-ph", "cs.CL cs.LG", ""]),
    "comments": words,
    "journal-ref": st.text(max_size=20),
    "update_date": st.just("2008-11-26"),
    "abstract": words,
}
DAILY_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "authors": st.lists(st.text(max_size=25), max_size=4),
    "categories": st.lists(st.sampled_from(["cs.CV", "cs.AI"]), max_size=3),
    "comment": words,
    "abstract": words,
    "first_seen_listing_date": st.just("2025-03-18"),
    "pdf": st.just("https://arxiv.org/pdf/2503.11731"),
    "abs": st.just("https://arxiv.org/abs/2503.11731"),
}


def arxiv_objects(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    obj = st.fixed_dictionaries(
        {"id": mostly(ids, json_values),
         "title": mostly(words.map(lambda w: w or "T"), json_values)},
        optional={key: mostly(valid, json_values | bad_strings) for key, valid in fields.items()},
    )
    return mostly(obj, json_values)


def jsonl(objects: list[Any]) -> Lines:
    return [(n, json.dumps(obj)) for n, obj in enumerate(objects, start=1)]


prose = st.lists(st.lists(WORDS, min_size=16, max_size=30).map(" ".join), min_size=2,
                 max_size=3).map(lambda parts: ". ".join(parts) + ".")
chrome = st.sampled_from(["new", "Subscribe", "Mar 11", "byAK and the research community",
                          "Ends with a dot."])
title = mostly(st.sampled_from(["A Title: With Colon", "Deep Nets", "Ünïcode Títle?"]),
              st.text(max_size=60).filter(lambda t: "\n" not in t))
listing_text = st.lists(
    mostly(st.builds(lambda t, p: f"{t}\n\n{p}", title, prose),
           chrome | prose | st.text(max_size=200)),
    max_size=10,
).map("\n\n".join)
abstract_line = mostly(
    st.builds(lambda p, a: p + a, st.sampled_from(["Abstract:", "abstract - ", "ABSTRACT:"]),
              prose | st.text(max_size=50)),
    st.text(max_size=80) | st.just(""),
)
abstracts_text = st.builds(
    lambda first, rest: "\n".join([first, *rest]),
    mostly(st.sampled_from(["Helen", "J. van Dam", "", "Abstract: first."]), st.text(max_size=20)),
    st.lists(abstract_line, max_size=10),
)
text_lines = st.lists(st.text(max_size=200) | prose | abstract_line, max_size=20)

bib_field = mostly(
    st.sampled_from([
        "booktitle = {A {T}itle with {\\'e}}", 'note = "Quoted"',
        "author = {A and B, C and others}",
        "author = {, and {}}", "author = {von}", "year = 2020", "year = {99999}", "month = jul",
        "month = {13}", "doi = {10.1/X}", "eprint = {2101.00001}", "archivePrefix = {arXiv}",
        "journal = {CoRR}", "volume = {abs/x}", "url = {https://arxiv.org/abs/2101.00001v2}",
        "abstract = {$\\alpha$ \\url{x} 50\\%}", "primaryClass = {cs.CL}", "howpublished = {}",
        "date = {2021-03}", "journal = acl",
    ])
    | st.builds(lambda k, v: f"{k} = {{{v}}}", st.text("abcdefgh", min_size=1, max_size=6),
                st.text(max_size=20).filter(lambda v: v.count("{") == v.count("}"))),
    st.text(max_size=15),
)
bib_entry = st.tuples(
    st.sampled_from(["article", "misc", "InProceedings", "book", "comment"]),
    mostly(st.just(True), st.just(False)),  # a unique key, or junk that may repeat or break
    st.text(max_size=5),
    mostly(st.just(True), st.just(False)),  # with a title
    st.lists(bib_field, max_size=6, unique_by=lambda f: f.split("=")[0].strip().lower()),
    mostly(st.sampled_from(["", "% comment"]), st.sampled_from(["@", "{", "}"])
           | st.text(max_size=20)),
)


def _bib(entries: list[tuple[str, bool, str, bool, list[str], str]]) -> str:
    out = []
    for n, (kind, good_key, junk_key, titled, fields, between) in enumerate(entries):
        key = f"key{n}" if good_key else junk_key
        body = ["title = {Paper {N}umber " + str(n) + "}"] * titled + fields
        out.append(f"@{kind}{{{key},\n  " + ",\n  ".join(body) + "\n}\n" + between)
    return "\n".join(out)


bib_text = st.lists(bib_entry, max_size=5).map(_bib)


# --- the properties ---------------------------------------------------------------------


@SETTINGS
@given(st.binary(max_size=600), st.sampled_from(["plain", "gzip", "cut-gzip"]))
def test_reader_gives_lines_or_source_error(data: bytes, packing: str) -> None:
    if packing != "plain":
        data = gzip.compress(data)
        if packing == "cut-gzip":
            data = data[: max(2, len(data) // 2)]
    try:
        lines = list(iter_lines_from_bytes(data, file="x", max_line_bytes=200))
    except SourceError as exc:
        assert exc.file == "x"
        return
    assert [n for n, _ in lines] == list(range(1, len(lines) + 1))
    assert all("\n" not in text and len(text.encode()) <= 200 for _, text in lines)


@SETTINGS
@given(listing_text | text_lines.map("\n".join))
def test_listing_parser(text: str) -> None:
    drain(parse_listing(numbered(text), file="p.txt"), n_lines=text.count("\n") + 1)


@SETTINGS
@given(abstracts_text | text_lines.map("\n".join), st.none() | st.text(max_size=20))
def test_abstracts_parser(text: str, author: str | None) -> None:
    records = drain(parse_abstracts(numbered(text), file="a.txt", author=author))
    for record in records or []:
        assert record.title_derived and record.abstract


@SETTINGS
@given(st.lists(arxiv_objects(SNAPSHOT_FIELDS), max_size=4))
def test_snapshot_parser_on_json(objects: list[Any]) -> None:
    records = drain(parse_arxiv_snapshot(jsonl(objects), file="s.json"))
    for record in records or []:
        assert record.arxiv_id


@SETTINGS
@given(st.lists(arxiv_objects(DAILY_FIELDS), max_size=4))
def test_daily_parser_on_json(objects: list[Any]) -> None:
    records = drain(parse_arxiv_daily(jsonl(objects), file="d.jsonl"))
    for record in records or []:
        assert record.arxiv_id


@SETTINGS
@given(text_lines)
def test_json_parsers_on_text(lines: list[str]) -> None:
    drain(parse_arxiv_snapshot(numbered("\n".join(lines))))
    drain(parse_arxiv_daily(numbered("\n".join(lines))))


@SETTINGS
@given(bib_text)
def test_bibtex_parser(text: str) -> None:
    records = drain(parse_bibtex(text, file="r.bib"), n_lines=text.count("\n") + 1)
    for record in records or []:
        assert dict(record.source_ids).get("bibtex") is not None


@SETTINGS
@given(st.text(max_size=300))
def test_bibtex_parser_on_any_text(text: str) -> None:
    drain(parse_bibtex(text))


def _in_temp_file(data: bytes, use: Callable[[Path], object]) -> object:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "input"
        path.write_bytes(data)
        return use(path)


def _all_records(path: Path, fmt: str | None) -> Iterator[PaperRecord]:
    return read_records(path, format=fmt)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.binary(max_size=400)
    | listing_text.map(str.encode)
    | abstracts_text.map(str.encode)
    | bib_text.map(str.encode)
    | st.lists(arxiv_objects(DAILY_FIELDS), max_size=3).map(
        lambda objs: "\n".join(json.dumps(o) for o in objs).encode()
    ),
    st.booleans(),
)
def test_detection_and_every_format_on_any_file(data: bytes, packed: bool) -> None:
    if packed:
        data = gzip.compress(data)

    def check(path: Path) -> None:
        try:
            assert detect_format(path) in FORMATS
        except SourceError as exc:
            assert exc.file == str(path)
        for fmt in (None, *(f for f in FORMATS if f not in ("oai", "atom"))):
            drain(_all_records(path, fmt))

    _in_temp_file(data, check)
