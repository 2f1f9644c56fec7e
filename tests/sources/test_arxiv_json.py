"""arXiv JSON lines: the bulk metadata snapshot and the daily listing crawl."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paperfeed.errors import SourceError
from paperfeed.records import find_code_urls, parse_author
from paperfeed.sources import read_records
from paperfeed.sources.arxiv_json import (
    code_urls_in,
    parse_arxiv_daily,
    parse_arxiv_snapshot,
    split_given_family,
)


def json_lines(*objects: object) -> list[tuple[int, str]]:
    return [(n, json.dumps(obj)) for n, obj in enumerate(objects, start=1)]


def raw_lines(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


SNAPSHOT_LINE: dict[str, Any] = {
    "id": "2101.00001",
    "authors": "A. One and B. Two",
    "title": "A\n  Title",
    "comments": "Code: https://github.com/x/y",
    "journal-ref": None,
    "doi": "10.1000/ABC",
    "categories": "cs.CL cs.LG",
    "abstract": "  An abstract\nwith breaks.\n",
    "versions": [{"version": "v1", "created": "Fri, 1 Jan 2021 00:00:01 GMT"},
                 {"version": "v3", "created": "Mon, 1 Mar 2021 10:00:00 GMT"}],
    "update_date": "2021-03-02",
    "authors_parsed": [["One", "A.", ""], ["Two", "B.", "Jr"]],
}

DAILY_LINE: dict[str, Any] = {
    "id": "2503.11731",
    "title": "Daily\n title",
    "authors": ["Ada Lovelace", "Juan Carlos de la Torre"],
    "categories": ["cs.CV", "cs.RO"],
    "comment": "Project page: https://example.org/p",
    "abstract": "Text\nwrapped.",
    "first_seen_listing_date": "2025-03-18",
    "pdf": "https://arxiv.org/pdf/2503.11731",
    "abs": "https://arxiv.org/abs/2503.11731",
}


# --- the bulk snapshot -----------------------------------------------------------


def test_snapshot_sample_reads_all_200(snapshot_file: Path) -> None:
    raw = raw_lines(snapshot_file)
    records = list(read_records(snapshot_file))
    assert len(records) == len(raw) == 200
    assert len({r.arxiv_id for r in records}) == 200
    for record, source in zip(records, raw, strict=True):
        assert record.arxiv_id == source["id"]
        assert record.arxiv_version == len(source["versions"])
        assert len(record.authors) == len(source["authors_parsed"])
        assert record.categories == tuple(source["categories"].split())
        assert "\n" not in record.title and "\n" not in record.abstract
        assert record.abstract == record.abstract.strip()
        assert record.abs_url == f"https://arxiv.org/abs/{source['id']}"
        assert (record.doi is None) == (source["doi"] is None)
        assert record.provenance[0].source == "arxiv-snapshot"


def test_snapshot_first_record_fields(snapshot_file: Path) -> None:
    first = next(iter(read_records(snapshot_file)))
    assert first.arxiv_id == "0704.0001"
    assert first.title == (
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert [(a.family, a.given) for a in first.authors] == [
        ("Balázs", "C."), ("Berger", "E. L."), ("Nadolsky", "P. M."), ("Yuan", "C. -P.")
    ]
    assert first.doi == "10.1103/physrevd.76.013009"
    assert first.arxiv_version == 2
    assert (first.submitted, first.updated) == (date(2007, 4, 2), date(2007, 7, 24))
    assert first.journal_ref == "Phys.Rev.D76:013009,2007"
    assert first.comment == "37 pages, 15 figures; published version"
    assert first.abstract.startswith("A fully differential calculation")
    assert first.provenance[0].line == 1


def test_snapshot_synthetic_line() -> None:
    (record,) = parse_arxiv_snapshot(json_lines(SNAPSHOT_LINE), file="s.json")
    assert record.title == "A Title"
    assert record.abstract == "An abstract with breaks."
    assert record.arxiv_version == 3
    assert record.updated == date(2021, 3, 1)
    assert record.authors[1].name == "B. Two Jr" and record.authors[1].family == "Two Jr"
    assert record.code_urls == ("https://github.com/x/y",)
    assert record.categories == ("cs.CL", "cs.LG")
    assert record.doi == "10.1000/abc"


def test_snapshot_without_versions_or_parsed_authors() -> None:
    line = {k: v for k, v in SNAPSHOT_LINE.items() if k not in ("versions", "authors_parsed")}
    (record,) = parse_arxiv_snapshot(json_lines(line))
    assert record.arxiv_version is None and record.submitted is None
    assert record.updated == date(2021, 3, 2)  # update_date stands in
    assert [a.family for a in record.authors] == ["One", "Two"]


# --- the daily listing -------------------------------------------------------------


@pytest.mark.slow
def test_daily_listing_streams_all_records(daily_file: Path) -> None:
    count = 0
    first = None
    for record in read_records(daily_file):
        if first is None:
            first = record
        count += 1
    assert count == 74_728
    with gzip.open(daily_file, "rt", encoding="utf-8") as handle:
        source = json.loads(handle.readline())
    assert first is not None
    assert first.arxiv_id == source["id"]
    assert first.title == " ".join(source["title"].split())
    assert [a.name for a in first.authors] == source["authors"]
    assert first.categories == tuple(source["categories"])
    assert first.first_listed == date.fromisoformat(source["first_seen_listing_date"])
    assert (first.abs_url, first.pdf_url) == (source["abs"], source["pdf"])


def test_daily_synthetic_line() -> None:
    (record,) = parse_arxiv_daily(json_lines(DAILY_LINE), file="d.jsonl")
    assert record.title == "Daily title"
    assert record.abstract == "Text wrapped."
    assert [(a.given, a.family) for a in record.authors] == [
        ("Ada", "Lovelace"), ("Juan Carlos", "de la Torre")
    ]
    assert record.first_listed == date(2025, 3, 18)
    assert record.categories == ("cs.CV", "cs.RO")
    assert record.code_urls == find_code_urls(DAILY_LINE["comment"])
    assert record.provenance[0].record_id == "2503.11731"


def test_daily_derives_urls_when_missing() -> None:
    line = {k: v for k, v in DAILY_LINE.items() if k not in ("pdf", "abs")}
    (record,) = parse_arxiv_daily(json_lines(line))
    assert record.abs_url == "https://arxiv.org/abs/2503.11731"
    assert record.pdf_url == "https://arxiv.org/pdf/2503.11731"


# --- errors name the line and the field -----------------------------------------------


@pytest.mark.parametrize(
    ("parse", "good"), [(parse_arxiv_daily, DAILY_LINE), (parse_arxiv_snapshot, SNAPSHOT_LINE)]
)
def test_malformed_json_names_its_line(parse: Callable[..., Any], good: dict[str, Any]) -> None:
    lines = [(1, json.dumps(good)), (2, ""), (3, '{"id": "2503.1"')]
    with pytest.raises(SourceError) as info:
        list(parse(lines, file="x.jsonl"))
    assert (info.value.file, info.value.line) == ("x.jsonl", 3)
    assert "malformed JSON" in info.value.message


@pytest.mark.parametrize(
    ("change", "field"),
    [({"title": None}, "title"), ({"title": "  "}, "title"), ({"id": "not-an-id"}, "id"),
     ({"authors": "Ada Lovelace"}, "authors"), ({"categories": [1, 2]}, "categories"),
     ({"first_seen_listing_date": "yesterday"}, "first_seen_listing_date"),
     ({"abstract": 42}, "abstract")],
)
def test_daily_bad_field_is_named(change: dict[str, Any], field: str) -> None:
    line = {**DAILY_LINE, **change}
    with pytest.raises(SourceError) as info:
        list(parse_arxiv_daily([(7, json.dumps(line))], file="d.jsonl"))
    assert (info.value.line, info.value.field) == (7, field)


@pytest.mark.parametrize(
    ("change", "field"),
    [({"title": None}, "title"), ({"versions": [{"created": "someday"}]}, "versions"),
     ({"versions": "v1"}, "versions"), ({"authors_parsed": [["One", 1]]}, "authors_parsed"),
     ({"doi": ["10.1/x"]}, "doi")],
)
def test_snapshot_bad_field_is_named(change: dict[str, Any], field: str) -> None:
    line = {**SNAPSHOT_LINE, **change}
    with pytest.raises(SourceError) as info:
        list(parse_arxiv_snapshot([(2, json.dumps(line))]))
    assert (info.value.line, info.value.field) == (2, field)


def test_a_json_line_that_is_no_object_is_rejected() -> None:
    with pytest.raises(SourceError) as info:
        list(parse_arxiv_daily([(1, "[1, 2]")]))
    assert info.value.line == 1 and "JSON object" in info.value.message


def test_missing_title_read_from_a_file(write_file: Callable[..., Path]) -> None:
    bad = {k: v for k, v in DAILY_LINE.items() if k != "title"}
    path = write_file("d.jsonl", f"{json.dumps(DAILY_LINE)}\n{json.dumps(bad)}\n")
    records = read_records(path)
    assert next(records).arxiv_id == "2503.11731"
    with pytest.raises(SourceError) as info:
        next(records)
    assert (info.value.file, info.value.line, info.value.field) == (str(path), 2, "title")


# --- helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "given", "family"),
    [("Ada Lovelace", "Ada", "Lovelace"), ("  Vishal  M. Patel ", "Vishal M.", "Patel"),
     ("Ludwig van Beethoven", "Ludwig", "van Beethoven"),
     ("Martin Luther King Jr.", "Martin Luther", "King Jr."),
     ("Iuliia", "", "Iuliia"), ("Gabriel de Olim Gaul", "Gabriel", "de Olim Gaul")],
)
def test_split_given_family(name: str, given: str, family: str) -> None:
    author = split_given_family(name)
    assert (author.given, author.family) == (given, family)
    assert author.name == " ".join(name.split())


def test_split_given_family_hands_commas_to_parse_author() -> None:
    assert split_given_family("Lovelace, Ada") == parse_author("Lovelace, Ada")


_WORDS = st.sampled_from(
    ["code", "is", "available", "at", "our", "see", "the", "results.", "(", ")", "project",
     "page:", "https://github.com/a/b", "github.com/c/d.", "www.example.org/x", "http://e.f/g",
     "HTTPS://GitLab.com/h/i", "huggingface.co/j", "\\url{https://k.org/l}", "x.com", "and"]
)


@given(st.lists(_WORDS, max_size=60), st.lists(_WORDS, max_size=20))
def test_code_urls_in_matches_find_code_urls(abstract: list[str], comment: list[str]) -> None:
    texts = [" ".join(abstract), " ".join(comment)]
    expected: list[str] = []
    for text in texts:
        for url in find_code_urls(text):
            if url not in expected:
                expected.append(url)
    assert code_urls_in(*texts) == tuple(expected)
