"""Format detection, the reader's input checks, and the package entry points."""

from __future__ import annotations

import gzip
import itertools
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from paperfeed.errors import SourceError
from paperfeed.sources import FORMATS, detect_format, iter_input_files, read_records
from paperfeed.sources.reader import iter_lines, read_bytes, read_head, read_text

WriteFile = Callable[..., Path]

PROSE = (
    "We study a problem that matters. Our method improves the state of the art by a wide "
    "margin on three benchmarks, while using fewer parameters than previous approaches and "
    "training in a fraction of the time. Extensive experiments confirm the gains hold."
)

SAMPLES: dict[str, str] = {
    "arxiv-snapshot": json.dumps({"id": "0704.0001", "title": "T", "abstract": "A",
                                  "versions": [], "authors_parsed": []}) + "\n",
    "arxiv-daily": json.dumps({"id": "2503.11731", "title": "T", "abstract": "A",
                               "authors": [], "first_seen_listing_date": "2025-03-18"}) + "\n",
    "oai": '<?xml version="1.0"?>\n<!-- harvested -->\n<OAI-PMH xmlns="http://www.openarchives.'
           'org/OAI/2.0/"><ListRecords></ListRecords></OAI-PMH>\n',
    "atom": '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            "<title>arXiv</title></feed>\n",
    "bibtex": "% refs\n\n@InProceedings{k, title={T}}\n",
    "abstracts": f"Jane Doe\n\nAbstract: {PROSE}\nAbstract - {PROSE}\n",
    "listing": f"Menu\n\nFirst Title\n\n{PROSE}\n\nSecond Title\n\n{PROSE}\n",
}


# --- detection ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", sorted(SAMPLES))
def test_each_format_is_detected(fmt: str, write_file: WriteFile) -> None:
    assert fmt in FORMATS
    assert detect_format(write_file("plain.dat", SAMPLES[fmt])) == fmt
    assert detect_format(write_file("packed.gz", SAMPLES[fmt], gz=True)) == fmt


def test_real_files_are_detected(shared_file: Callable[..., Path]) -> None:
    seeds = shared_file("seeds")
    expected = {"000": "abstracts", "001": "listing", "003": "abstracts"}
    for prefix, fmt in expected.items():
        (path,) = seeds.glob(f"{prefix}_*.txt")
        assert detect_format(path) == fmt
    assert detect_format(shared_file("arxiv-kaggle-sample",
                                     "arxiv-metadata-oai-snapshot.head200.json")) == (
        "arxiv-snapshot"
    )
    assert detect_format(shared_file("arxiv-daily-cs", "arxiv_daily_cs_unique.jsonl.gz")) == (
        "arxiv-daily"
    )
    assert detect_format(shared_file("arxiv-quantph-oai", "arXiv-meta-1995.xml.gz")) == "oai"


@pytest.mark.parametrize(
    "parts",
    [("seeds", "cards-dev.jsonl"), ("arxiv-daily-cs", "SOURCE.txt"), ("README.md",),
     ("s2orc-sample", "metadata_sample.jsonl"), ("csfcube", "queries-release.csv")],
)
def test_real_non_paper_files_are_rejected(
    parts: tuple[str, ...], shared_file: Callable[..., Path]
) -> None:
    path = shared_file(*parts)
    with pytest.raises(SourceError, match="not a recognised paper format") as info:
        detect_format(path)
    assert info.value.file == str(path)


@pytest.mark.parametrize(
    "content",
    [
        '{"id": "x", "name": "Y", "kind": "method"}\n',  # JSON lines of something else
        "[1, 2, 3]\n",
        "{not json\n",
        "<html><body>hi</body></html>\n",
        "# A README\n\n" + PROSE + "\n\nAnother paragraph follows here.\n",
        "name: x\nrepo: y\nrows: 3\n",
        f"Introduction\n\n{PROSE}\n\n{PROSE}\n\n{PROSE}\n\nMethod\n\n{PROSE}\n\n{PROSE}\n",
    ],
)
def test_other_text_is_not_recognised(content: str, write_file: WriteFile) -> None:
    with pytest.raises(SourceError, match="not a recognised paper format"):
        detect_format(write_file("other.txt", content))


def test_read_records_format_override_wins(write_file: WriteFile) -> None:
    # Detected as a listing, but the caller knows better.
    path = write_file("page.txt", SAMPLES["listing"])
    assert detect_format(path) == "listing"
    assert [r.title for r in read_records(path)] == ["First Title", "Second Title"]
    assert list(read_records(path, format="bibtex")) == []
    with pytest.raises(SourceError):
        list(read_records(path, format="arxiv-daily"))


def test_read_records_rejects_an_unknown_format_name(write_file: WriteFile) -> None:
    with pytest.raises(ValueError, match="unknown format"):
        read_records(write_file("a.txt", "x"), format="csv")


def test_read_records_dispatches_oai(shared_file: Callable[..., Path]) -> None:
    pytest.importorskip("paperfeed.sources.oai")
    path = shared_file("arxiv-quantph-oai", "arXiv-meta-1992.xml.gz")
    records = list(read_records(path))
    assert len(records) == 3  # SOURCE.txt: 1992 holds 3 records
    assert all(r.provenance[0].file == str(path) for r in records)


# --- the reader rejects bad input before parsing --------------------------------------


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"\xef\xbb\xbf"])
def test_empty_file(content: bytes, write_file: WriteFile) -> None:
    for path in (write_file("e.txt", content), write_file("e.txt.gz", content, gz=True)):
        with pytest.raises(SourceError, match="file is empty") as info:
            detect_format(path)
        assert info.value.file == str(path)
        with pytest.raises(SourceError, match="file is empty"):
            list(iter_lines(path))


def test_binary_file(write_file: WriteFile) -> None:
    path = write_file("b.bin", b"SQLite format 3\x00\x10\x00" + bytes(range(256)) * 4)
    for read in (detect_format, lambda p: list(iter_lines(p)), read_bytes, read_head):
        with pytest.raises(SourceError, match="binary file"):
            read(path)


def test_pdf_file(write_file: WriteFile) -> None:
    path = write_file("paper.pdf", b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    with pytest.raises(SourceError, match="PDF"):
        detect_format(path)


def test_utf16_file(write_file: WriteFile) -> None:
    path = write_file("u16.txt", "Abstract: hello".encode("utf-16"))
    with pytest.raises(SourceError, match="UTF-16"):
        detect_format(path)
    with pytest.raises(SourceError, match="UTF-16"):
        list(iter_lines(path))


def test_invalid_utf8_names_its_line(write_file: WriteFile) -> None:
    content = f"Abstract: {PROSE}\nAbstract: caf\xe9 ok\n".encode() + b"Abstract: caf\xe9 bad\n"
    for path in (write_file("u.txt", content), write_file("u.txt.gz", content, gz=True)):
        assert detect_format(path) == "abstracts"
        assert [text for _, text in itertools.islice(iter_lines(path), 2)] == [
            f"Abstract: {PROSE}", "Abstract: café ok"
        ]
        with pytest.raises(SourceError, match="invalid UTF-8 at byte 14") as info:
            list(read_records(path))
        assert (info.value.file, info.value.line) == (str(path), 3)


def test_a_bom_is_dropped(write_file: WriteFile) -> None:
    path = write_file("bom.txt", "\ufeffAbstract: " + PROSE)
    assert detect_format(path) == "abstracts"
    assert next(iter_lines(path)) == (1, "Abstract: " + PROSE)
    assert [r.abstract for r in read_records(path)] == [PROSE]


def test_truncated_gzip(write_file: WriteFile) -> None:
    data = gzip.compress((SAMPLES["arxiv-daily"] * 2000).encode())
    path = write_file("cut.jsonl.gz", data[: len(data) // 2])
    assert detect_format(path) == "arxiv-daily"  # the head is still readable
    with pytest.raises(SourceError, match="truncated gzip") as info:
        sum(1 for _ in read_records(path))
    assert info.value.file == str(path)
    with pytest.raises(SourceError, match="truncated gzip"):
        read_bytes(path)


def test_garbage_after_gzip_magic(write_file: WriteFile) -> None:
    path = write_file("fake.gz", b"\x1f\x8bthis is not gzip data at all")
    with pytest.raises(SourceError, match="gzip"):
        detect_format(path)


def test_huge_line_names_its_line(write_file: WriteFile) -> None:
    path = write_file("huge.txt", "Abstract: short\n" + "Abstract: " + "x" * 5000 + "\nok\n")
    lines = iter_lines(path, max_line_bytes=1000)
    assert next(lines) == (1, "Abstract: short")
    with pytest.raises(SourceError, match="line longer than 1000 bytes") as info:
        next(lines)
    assert info.value.line == 2


def test_huge_line_at_the_default_limit(write_file: WriteFile) -> None:
    path = write_file("huge.jsonl", '{"id": "' + "1" * (1024 * 1024 + 10) + '"}\n')
    with pytest.raises(SourceError, match="line longer than") as info:
        list(read_records(path, format="arxiv-daily"))
    assert info.value.line == 1


def test_line_of_exactly_the_limit_is_fine(write_file: WriteFile) -> None:
    path = write_file("edge.txt", "a" * 100 + "\n" + "b" * 100)
    assert [len(t) for _, t in iter_lines(path, max_line_bytes=101)] == [100, 100]


def test_crlf_line_endings(write_file: WriteFile) -> None:
    path = write_file("crlf.txt", "Abstract: one.\r\nAbstract: two.\r\n")
    assert list(iter_lines(path)) == [(1, "Abstract: one."), (2, "Abstract: two.")]
    assert read_text(path) == "Abstract: one.\nAbstract: two."


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        list(read_records(tmp_path / "absent.txt"))
    with pytest.raises(SourceError, match="directory"):
        detect_format(tmp_path)


# --- iter_input_files -------------------------------------------------------------------


def test_iter_input_files_walks_sorted_and_skips_hidden(
    tmp_path: Path, write_file: WriteFile
) -> None:
    for name in ["b.txt", "a.txt", "sub/z.txt", "sub/c.txt", ".hidden.txt", ".git/config",
                 "sub/.cache/x.txt", "aa/d.txt"]:
        write_file(name, "x")
    single = write_file("elsewhere/.explicit.txt", "x")
    missing = tmp_path / "missing.txt"
    found = list(iter_input_files([tmp_path / "sub", single, missing, tmp_path]))
    names = [p.relative_to(tmp_path).as_posix() if p.is_relative_to(tmp_path) else str(p)
             for p in found]
    assert names == [
        "sub/c.txt", "sub/z.txt",  # the first argument, expanded
        "elsewhere/.explicit.txt",  # named explicitly: kept although hidden
        "missing.txt",  # left for read_records to reject
        "a.txt", "aa/d.txt", "b.txt", "sub/c.txt", "sub/z.txt",  # hidden ones skipped
    ]
