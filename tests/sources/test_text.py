"""The plain-text formats: copied listing pages and `Abstract:` lists."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from paperfeed.errors import SourceError
from paperfeed.records import PaperRecord, derive_title, find_code_urls
from paperfeed.sources import read_records
from paperfeed.sources.text import (
    POSITION_SCHEME,
    file_stem,
    looks_like_name,
    parse_abstracts,
    parse_listing,
)

PROSE = (
    "We study a problem that matters. Our method improves the state of the art by a wide "
    "margin on three benchmarks, while using fewer parameters than previous approaches and "
    "training in a fraction of the time. Extensive experiments confirm the gains hold across "
    "settings."
)


def numbered(text: str) -> list[tuple[int, str]]:
    return list(enumerate(text.split("\n"), start=1))


def seed_file(seeds_dir: Path, prefix: str) -> Path:
    matches = sorted(seeds_dir.glob(f"{prefix}_*.txt"))
    assert len(matches) == 1, f"expected one seeds/{prefix}_*.txt, found {matches}"
    return matches[0]


# --- the real seed files -------------------------------------------------------


def test_seed_files_give_the_28_carded_papers(seeds_dir: Path) -> None:
    cards = [json.loads(line) for line in (seeds_dir / "cards-dev.jsonl").read_text().splitlines()]
    records: list[PaperRecord] = []
    for prefix in ("000", "001", "003"):
        records.extend(read_records(seed_file(seeds_dir, prefix)))
    ids = [dict(r.source_ids)[POSITION_SCHEME] for r in records]
    assert len(records) == len(cards) == 28
    assert ids == [card["id"] for card in cards]
    # The gold cards list each paper's code links: the position ids join them to the text.
    by_id = {card["id"]: card for card in cards}
    for record, record_id in zip(records, ids, strict=True):
        assert list(record.code_urls) == by_id[record_id]["code_urls"], record_id


def test_abstract_lists_derive_titles_and_keep_lines(seeds_dir: Path) -> None:
    path = seed_file(seeds_dir, "000")
    lines = path.read_text(encoding="utf-8").splitlines()
    records = list(read_records(path))
    assert len(records) == sum(1 for line in lines if line.startswith("Abstract:")) == 10
    for record in records:
        source_line = lines[record.provenance[0].line - 1]  # type: ignore[operator]
        assert source_line.startswith("Abstract:")
        assert record.abstract == " ".join(source_line[len("Abstract:") :].split())
        assert record.title == derive_title(record.abstract)
        assert record.title_derived
        assert record.provenance[0].source == "abstracts"
        assert record.provenance[0].file == str(path)
        assert record.authors == ()


def test_name_line_becomes_the_author_of_every_paper(seeds_dir: Path) -> None:
    path = seed_file(seeds_dir, "003")
    records = list(read_records(path))
    assert len(records) == 10
    assert all([a.name for a in r.authors] == ["Helen"] for r in records)
    assert records[0].provenance[0].line == 2  # line 1 is the name


def test_author_argument_overrides_the_name_line(seeds_dir: Path) -> None:
    records = list(read_records(seed_file(seeds_dir, "003"), author="Smith, Jane"))
    assert {r.authors[0].name for r in records} == {"Jane Smith"}
    assert {r.authors[0].family for r in records} == {"Smith"}


def test_listing_page_skips_chrome(seeds_dir: Path) -> None:
    path = seed_file(seeds_dir, "001")
    records = list(read_records(path))
    assert len(records) == 8
    first = records[0]
    assert first.title == (
        "Not All Patches are What You Need: "
        "Expediting Vision Transformers via Token Reorganizations"
    )
    assert first.code_urls == ("https://github.com/youweiliang/evit",)
    assert not first.title_derived and first.authors == ()
    lines = path.read_text(encoding="utf-8").splitlines()
    chrome = {"new", "Subscribe", "Mar 11", "Get trending papers in your email inbox!"}
    assert not chrome & {r.title for r in records}
    for record in records:
        line = record.provenance[0].line
        assert line is not None and lines[line - 1] == record.title
        assert lines[line + 1].startswith(record.abstract[:40])


# --- synthetic listings --------------------------------------------------------


def test_listing_pairs_titles_with_following_prose() -> None:
    text = "\n".join(
        ["Menu", "", "Log in", "", "First Paper Title", "", PROSE, "", "Second: A Title", "",
         "Code at https://github.com/a/b. " + PROSE, "", "Footer text"]
    )
    records = list(parse_listing(numbered(text), file="/x/page.txt"))
    assert [r.title for r in records] == ["First Paper Title", "Second: A Title"]
    assert [r.provenance[0].line for r in records] == [5, 9]
    assert records[1].code_urls == ("https://github.com/a/b",)
    assert [dict(r.source_ids)["seed"] for r in records] == ["page#1", "page#2"]


def test_listing_joins_a_second_abstract_paragraph() -> None:
    text = f"Title One\n\n{PROSE}\n\n{PROSE.upper()}\n\nTitle Two\n\n{PROSE}"
    records = list(parse_listing(numbered(text)))
    assert [r.title for r in records] == ["Title One", "Title Two"]
    assert records[0].abstract == f"{PROSE} {PROSE.upper()}"
    assert records[1].abstract == PROSE
    assert records[0].source_ids == ()  # no file, no position id


def test_listing_ignores_prose_without_a_title_and_wrapped_titles() -> None:
    text = f"{PROSE}\n\nA title that\nwraps over two lines\n\n{PROSE}"
    assert list(parse_listing(numbered(text))) == []


# --- synthetic abstract lists --------------------------------------------------


@pytest.mark.parametrize("prefix", ["Abstract:", "Abstract: ", "abstract -", "ABSTRACT : ",
                                    "  Abstract—"])
def test_abstract_prefix_variants(prefix: str) -> None:
    records = list(parse_abstracts([(1, prefix + PROSE)]))
    assert len(records) == 1
    assert records[0].abstract == PROSE


def test_abstract_list_continuation_lines_and_blank_lines() -> None:
    text = f"Abstract: {PROSE}\nwrapped on.\n\nAbstract:Second one. See github.com/x/y"
    records = list(parse_abstracts(numbered(text), file="list.txt.gz"))
    assert [r.abstract for r in records] == [f"{PROSE} wrapped on.",
                                             "Second one. See github.com/x/y"]
    assert records[1].code_urls == find_code_urls("github.com/x/y")
    assert [r.provenance[0].line for r in records] == [1, 4]
    assert [dict(r.source_ids)["seed"] for r in records] == ["list#1", "list#2"]


def test_abstract_list_rejects_a_first_line_that_is_no_name() -> None:
    text = f"This file lists our papers.\nAbstract: {PROSE}"
    with pytest.raises(SourceError) as info:
        list(parse_abstracts(numbered(text), file="f.txt"))
    assert info.value.line == 1 and info.value.file == "f.txt"


def test_abstract_list_rejects_an_empty_abstract() -> None:
    with pytest.raises(SourceError) as info:
        list(parse_abstracts(numbered(f"Abstract: {PROSE}\nAbstract:   "), file="f.txt"))
    assert (info.value.line, info.value.field) == (2, "abstract")


@pytest.mark.parametrize(
    ("line", "expected"),
    [("Helen", True), ("J. van Dam", True), ("Anne-Marie O'Neil", True), ("José Núñez", True),
     ("Abstract: Helen", False), ("helen", False), ("Our 2024 papers", False),
     ("The list of all papers we wrote this year", False), ("", False)],
)
def test_looks_like_name(line: str, expected: bool) -> None:
    assert looks_like_name(line) is expected


@pytest.mark.parametrize(
    ("file", "stem"),
    [("a/b/000_x.txt", "000_x"), ("000_x.txt.gz", "000_x"), ("plain", "plain"), (None, None)],
)
def test_file_stem(file: str | None, stem: str | None) -> None:
    assert file_stem(file) == stem


def test_read_records_with_a_forced_text_format(
    write_file: Callable[..., Path],
) -> None:
    path = write_file("papers.txt.gz", f"Ada Lovelace\nAbstract: {PROSE}\n", gz=True)
    records = list(read_records(path, format="abstracts"))
    assert len(records) == 1
    assert records[0].authors[0].family == "Lovelace"
    assert dict(records[0].source_ids)["seed"] == "papers#1"
