"""Each input cap on its own, the environment settings, and the streaming reader's edges."""

from __future__ import annotations

import gzip
import json
import random
import re
import zlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperfeed.errors import SourceError
from paperfeed.records import Author, PaperRecord
from paperfeed.settings import SettingsError
from paperfeed.sources import UPLOAD_LIMITS, InputLimits, read_records
from paperfeed.sources.bibtex import latex_to_text, parse_bibtex, parse_bibtex_lines
from paperfeed.sources.limits import RECORDS_GRACE, bounded_batches, record_weight
from paperfeed.sources.oai import parse_oai_xml
from paperfeed.sources.reader import iter_lines, read_bytes

WriteFile = Callable[..., Path]
MiB = 1 << 20
OAI_HEAD = (b'<?xml version="1.0"?>\n<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
            b"<ListRecords>\n")


def record(n: int, **extra: object) -> str:
    return json.dumps({"id": f"2401.{n + 1:05d}", "title": f"Paper {n}", "abstract": "A.",
                       **extra}) + "\n"


def records(n: int, start: int = 0) -> str:
    return "".join(record(i) for i in range(start, start + n))


def oai_record(n: int, deleted: bool = False) -> bytes:
    if deleted:
        return b'<record><header status="deleted"><identifier>x</identifier></header></record>\n'
    return (f"<record><header><identifier>oai:arXiv.org:{n}</identifier></header><metadata>"
            f"<dc><title>paper {n}</title></dc></metadata></record>\n").encode()


def read(path: Path, limits: InputLimits, fmt: str | None = None) -> list[PaperRecord]:
    return list(read_records(path, format=fmt, limits=limits))


def capped(path: Path, limits: InputLimits, fmt: str | None = None) -> SourceError:
    with pytest.raises(SourceError) as info:
        read(path, limits, fmt)
    assert info.value.file == str(path)
    assert "raises the cap" in info.value.message or "gzip inside gzip" in info.value.message
    return info.value


# --- InputLimits and the environment ------------------------------------------------------


def test_defaults_read_from_the_environment() -> None:
    limits = InputLimits.from_env({
        "PAPERFEED_INPUT_MAX_BYTES": "2GiB", "PAPERFEED_INPUT_MAX_RATIO": "12.5",
        "PAPERFEED_INPUT_RATIO_GRACE": "512k", "PAPERFEED_INPUT_MAX_RECORDS": "1_000",
        "PAPERFEED_INPUT_MAX_LINES_BETWEEN_RECORDS": "2,000",
        "PAPERFEED_INPUT_MAX_LINE_BYTES": "4096", "PAPERFEED_INPUT_MAX_AUTHORS": " ",
        "PAPERFEED_UPLOAD_MAX_RECORDS": "7",  # another prefix: not ours
    })
    assert limits == replace(InputLimits(), max_bytes=2 * 1024**3, max_ratio=12.5,
                             ratio_grace=512_000, max_records=1000,
                             max_lines_between_records=2000, max_line_bytes=4096)


def test_another_prefix_and_base_for_the_upload() -> None:
    limits = InputLimits.from_env({"PAPERFEED_UPLOAD_MAX_RECORDS": "50"}, base=UPLOAD_LIMITS,
                                  prefix="PAPERFEED_UPLOAD_")
    assert limits.max_records == 50 and limits.max_bytes == UPLOAD_LIMITS.max_bytes
    assert limits.setting("max_records") == "PAPERFEED_UPLOAD_MAX_RECORDS"


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("PAPERFEED_INPUT_MAX_BYTES", "lots", "expected a size such as 64MiB"),
    ("PAPERFEED_INPUT_MAX_BYTES", "0", "expected at least 1"),
    ("PAPERFEED_INPUT_MAX_RECORDS", "1e6", "expected a whole number"),
    ("PAPERFEED_INPUT_MAX_RECORDS", "-5", "expected a whole number"),
    ("PAPERFEED_INPUT_MAX_RATIO", "0.5", "at least 1"),
    ("PAPERFEED_INPUT_MAX_RATIO", "nan", "at least 1"),
    ("PAPERFEED_INPUT_MAX_RATIO", "x", "expected a number"),
])
def test_a_bad_setting_names_its_variable(name: str, value: str, expected: str) -> None:
    with pytest.raises(SettingsError, match=expected) as info:
        InputLimits.from_env({name: value})
    assert str(info.value).startswith(f"{name}: ")


def test_limits_below_one_are_refused() -> None:
    with pytest.raises(ValueError, match="max_records"):
        InputLimits(max_records=0)


# --- each cap --------------------------------------------------------------------------


def test_max_bytes_plain_and_gzip(write_file: WriteFile) -> None:
    text = records(200)
    limits = InputLimits(max_bytes=len(text) - 1)
    for path in (write_file("d.jsonl", text), write_file("d.jsonl.gz", text, gz=True)):
        error = capped(path, limits)
        assert "PAPERFEED_INPUT_MAX_BYTES" in error.message
        assert read(path, replace(limits, max_bytes=len(text)))[-1].arxiv_id == "2401.00200"


def _bomb(head: bytes, body: bytes, mib: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    data = packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)
    return data + (packer.compress(body * (MiB // len(body))) + packer.flush(
        zlib.Z_FULL_FLUSH)) * mib + packer.flush()


def test_ratio_cap_stops_a_bomb_after_the_grace(write_file: WriteFile) -> None:
    path = write_file("bomb.jsonl.gz", _bomb(record(0).encode(), b" " * 300 + b"\n", 64))
    limits = InputLimits(ratio_grace=MiB)
    error = capped(path, limits)
    assert "expands more than 20x" in error.message
    assert "PAPERFEED_INPUT_MAX_RATIO" in error.message
    # It stopped at the grace: about 1 MiB out, from a few KB in (GzipFile reads 8 KiB
    # at a time) of a 66 KB file.
    produced, consumed = _figures(error)
    assert MiB <= produced <= MiB + 128 * 1024 and consumed <= 16 * 1024
    assert path.stat().st_size > 60_000
    # With more grace it goes further.
    later = capped(path, replace(limits, ratio_grace=4 * MiB, max_lines_between_records=10**6))
    assert 4 * MiB <= _figures(later)[0] <= 4 * MiB + 128 * 1024


def _figures(error: SourceError) -> tuple[int, int]:
    """Bytes out and compressed bytes in, from a ratio cap's message."""
    produced, consumed = (int(n.replace(",", "")) for n in
                          re.findall(r"([\d,]+) (?:bytes|compressed)", error.message))
    return produced, consumed


def _tuned(ratio: float, n: int) -> bytes:
    """Distinct records whose stream gzips at just under `ratio`."""
    rng = random.Random(1)
    words = ["".join(rng.choice("abcdefghij") for _ in range(5)) for _ in range(3000)]
    for pad in range(0, 3000, 10):
        text = "".join(record(i, abstract=f"{words[i % 3000]} " + "x " * pad) for i in range(n))
        if len(text) / len(gzip.compress(text.encode(), 9)) > ratio:
            break
        best = text
    return best.encode()


def test_a_file_just_under_the_ratio_cap_is_read_whole(write_file: WriteFile) -> None:
    data = _tuned(8.0, 4000)
    packed = gzip.compress(data, 9)
    assert 6 < len(data) / len(packed) <= 8
    path = write_file("dense.jsonl.gz", packed)
    limits = InputLimits(max_ratio=8.0, ratio_grace=64 * 1024)
    assert len(read(path, limits)) == 4000
    error = capped(path, replace(limits, max_ratio=len(data) / len(packed) * 0.8))
    assert "PAPERFEED_INPUT_MAX_RATIO" in error.message


def test_real_gzip_files_are_far_under_the_ratio_cap(shared_file: Callable[..., Path]) -> None:
    limits = InputLimits(max_ratio=5.0, ratio_grace=64 * 1024)
    for path in sorted(shared_file("arxiv-quantph-oai").glob("*.xml.gz"))[-3:]:
        assert len(read(path, limits)) > 3000


def test_max_line_bytes_names_the_setting(write_file: WriteFile) -> None:
    path = write_file("long.jsonl", record(0) + record(1, comment="x" * 5000))
    error = capped(path, InputLimits(max_line_bytes=1000))
    assert error.line == 2
    assert error.message == ("line longer than 1000 bytes (PAPERFEED_INPUT_MAX_LINE_BYTES "
                             "raises the cap)")


def test_max_lines(write_file: WriteFile) -> None:
    path = write_file("d.jsonl", records(10))
    error = capped(path, InputLimits(max_lines=7))
    assert error.line == 8 and "more than 7 lines" in error.message


def test_max_records_counts_as_the_stream_goes(write_file: WriteFile) -> None:
    path = write_file("d.jsonl", records(30))
    seen: list[str | None] = []
    with pytest.raises(SourceError) as info:
        for paper in read_records(path, limits=InputLimits(max_records=20)):
            seen.append(paper.arxiv_id)
    assert len(seen) == 20 and info.value.line == 21
    assert "more than 20 papers (PAPERFEED_INPUT_MAX_RECORDS raises the cap)" in str(info.value)


def test_upload_limits_refuse_the_501st_paper(write_file: WriteFile) -> None:
    path = write_file("list.jsonl.gz", records(501), gz=True)
    error = capped(path, UPLOAD_LIMITS)
    assert error.line == 501 and "PAPERFEED_UPLOAD_MAX_RECORDS" in error.message
    assert len(read(path, replace(UPLOAD_LIMITS, max_records=501))) == 501


def test_papers_per_mb_after_the_grace(write_file: WriteFile) -> None:
    text = "".join(f'{{"id":"{2401 + i // 99999}.{i % 99999 + 1:05d}","title":"t","abstract":""}}\n'
                   for i in range(RECORDS_GRACE + 500))
    path = write_file("tiny.jsonl.gz", text, gz=True)
    error = capped(path, InputLimits())
    assert error.line == RECORDS_GRACE + 1
    assert "papers per MB of file" in error.message
    assert "PAPERFEED_INPUT_MAX_RECORDS_PER_MB" in error.message
    assert len(read(path, InputLimits(max_records_per_mb=10**7))) == RECORDS_GRACE + 500


def test_max_authors_names_the_paper_and_field(write_file: WriteFile) -> None:
    path = write_file("d.jsonl", record(0, authors=["A B"] * 5) + record(1, authors=["C"] * 6))
    error = capped(path, InputLimits(max_authors=5))
    assert (error.line, error.field) == (2, "authors")
    assert "6 authors, more than 5" in error.message


def test_lines_between_records(write_file: WriteFile) -> None:
    text = record(0) + "\n" * 50 + record(1) + "\n" * 101 + record(2)
    path = write_file("gaps.jsonl", text)
    error = capped(path, InputLimits(max_lines_between_records=100))
    assert error.line == 2 + 50 + 101
    assert "more than 100 lines without a paper" in error.message
    # The cap is on how far apart papers are: 102 lines from one to the next.
    assert len(read(path, InputLimits(max_lines_between_records=102))) == 3


def test_bytes_between_records(write_file: WriteFile) -> None:
    padding = (" " * 999 + "\n") * 300  # 300 KB of blank lines: under the lines cap
    path = write_file("gaps.jsonl", record(0) + padding + record(1))
    error = capped(path, InputLimits(max_bytes_between_records=200 * 1000))
    assert "without a paper" in error.message
    assert "PAPERFEED_INPUT_MAX_BYTES_BETWEEN_RECORDS" in error.message
    assert len(read(path, InputLimits(max_bytes_between_records=400_000))) == 2


def test_xml_deleted_records_count_as_bytes_without_a_paper(write_file: WriteFile) -> None:
    body = OAI_HEAD + oai_record(1) + oai_record(0, deleted=True) * 20_000 + oai_record(2)
    path = write_file("deleted.xml", body + b"</ListRecords></OAI-PMH>\n")
    error = capped(path, InputLimits(max_bytes_between_records=500_000))
    assert "PAPERFEED_INPUT_MAX_BYTES_BETWEEN_RECORDS" in error.message
    assert len(read(path, InputLimits(max_bytes_between_records=4 * MiB))) == 2


def test_xml_stops_at_the_cap_as_it_streams() -> None:
    head = OAI_HEAD + b"<record><header><identifier>x</identifier></header><metadata><dc><title>"
    data = _bomb(head, b"a", 200)
    with pytest.raises(SourceError, match="PAPERFEED_INPUT_MAX_RATIO"):
        list(parse_oai_xml(data, file="bomb.xml.gz", limits=InputLimits()))


# --- gzip framing -------------------------------------------------------------------------


def test_concatenated_members_and_zero_padding_are_read(write_file: WriteFile) -> None:
    data = b"".join(gzip.compress(records(3, start=3 * k).encode()) for k in range(4))
    path = write_file("members.jsonl.gz", data + b"\x00" * 100)
    assert [r.arxiv_id for r in read(path, InputLimits())][-1] == "2401.00012"
    assert read_bytes(path) == records(12).encode()


def test_junk_after_the_gzip_data(write_file: WriteFile) -> None:
    path = write_file("junk.jsonl.gz", gzip.compress(records(2).encode()) + b"junk")
    with pytest.raises(SourceError, match=r"corrupt gzip data: Not a gzipped file \(b'ju'\)"):
        read(path, InputLimits())


def test_gzip_inside_gzip_is_named(write_file: WriteFile) -> None:
    path = write_file("twice.jsonl.gz", gzip.compress(gzip.compress(records(2).encode())))
    with pytest.raises(SourceError, match="gzip inside gzip"):
        read(path, InputLimits())
    with pytest.raises(SourceError, match="gzip inside gzip"):
        read(path, InputLimits(), "arxiv-daily")


def test_truncated_and_corrupt_gzip_name_the_line(write_file: WriteFile) -> None:
    packed = gzip.compress(records(2000).encode())
    path = write_file("cut.jsonl.gz", packed[: len(packed) // 2])
    with pytest.raises(SourceError, match=r"truncated gzip data.*after line [\d,]+$"):
        read(path, InputLimits())
    flipped = bytearray(packed)
    flipped[-6] ^= 0xFF  # in the CRC: every byte decodes, the check at the end fails
    path = write_file("flipped.jsonl.gz", bytes(flipped))
    with pytest.raises(SourceError, match="corrupt gzip data: CRC check failed"):
        read(path, InputLimits())


def test_a_line_cap_override_still_works(write_file: WriteFile) -> None:
    path = write_file("t.txt", "a" * 50 + "\n" + "b" * 50)
    assert [n for n, _ in iter_lines(path, max_line_bytes=51)] == [1, 2]


# --- BibTeX in chunks ---------------------------------------------------------------------


def _entries(n: int) -> str:
    return "".join(f"@misc{{k{i},\n  title = {{Paper {{N}}umber {i}}},\n  year = 2020\n}}\n"
                   for i in range(n))


def test_bibtex_chunks_keep_lines_macros_and_keys() -> None:
    text = "@string{venue = {The Venue}}\n" + _entries(300) + \
        "@misc{last, title = {Last}, journal = venue}\n"
    whole = list(parse_bibtex(text))
    lines = list(enumerate(text.split("\n"), start=1))
    chunked = list(parse_bibtex_lines(lines, chunk_bytes=200))
    assert whole == chunked and len(chunked) == 301
    assert chunked[-1].journal_ref == "The Venue"
    assert chunked[150].provenance[0].line == 2 + 4 * 150
    duplicate = text + "@misc{k3, title = {Again}}\n"
    with pytest.raises(SourceError, match="duplicate citation key 'k3'") as info:
        list(parse_bibtex_lines(enumerate(duplicate.split("\n"), start=1), chunk_bytes=200))
    assert info.value.line == text.count("\n") + 1


def test_bibtex_runs_without_entries_are_capped(write_file: WriteFile) -> None:
    text = _entries(2) + "@comment{x}\n" * 300 + _entries(1).replace("k0", "k9")
    path = write_file("refs.bib", text)
    error = capped(path, InputLimits(max_lines_between_records=200))
    assert "more than 200 lines without a paper" in error.message
    assert error.line == 5 + 200 + 1
    assert len(read(path, InputLimits(max_lines_between_records=400))) == 3
    prose = write_file("prose.bib", _entries(1) + "just text\n" * 500)
    assert capped(prose, InputLimits(max_lines_between_records=200)).line == 202


bib_blocks = st.lists(st.one_of(
    st.builds(lambda k, t: f"@misc{{{k},\n  title = {{{t}}}\n}}", st.sampled_from("abcdefgh"),
              st.text("ab {}\\$", max_size=12)),
    st.sampled_from(["@string{s = {Macro}}", "@comment{c}", "% note", "", "@misc{x, title = s}",
                     "@article{broken, title = {open", "@book{z title}", "plain text"]),
), max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bib_blocks, st.integers(min_value=1, max_value=80))
def test_bibtex_in_chunks_reads_as_a_whole_parse(blocks: list[str], chunk: int) -> None:
    """Cut at block starts, any chunk size gives the records (and the first error's line)
    of one chunk holding everything."""
    text = "\n".join(blocks)
    lines = list(enumerate(text.split("\n"), start=1))

    def outcome(size: int) -> tuple[list[PaperRecord], int | None]:
        out: list[PaperRecord] = []
        try:
            for paper in parse_bibtex_lines(lines, chunk_bytes=size):
                out.append(paper)
        except SourceError as exc:
            return out, exc.line
        return out, None

    assert outcome(chunk) == outcome(10**9)


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(blacklist_characters="\\{}$%&'-`~#^_",
                             blacklist_categories=("Cs",)), max_size=40))
def test_latex_fast_path_matches_the_parser(text: str) -> None:
    from pylatexenc import latexwalker

    from paperfeed.sources.bibtex import _DECODER, _WALKER_CONTEXT

    nodes = latexwalker.LatexWalker(text, latex_context=_WALKER_CONTEXT).get_latex_nodes()[0]
    assert latex_to_text(text) == " ".join(str(_DECODER.nodelist_to_text(nodes)).split())


# --- batches for the store ---------------------------------------------------------------


def _paper(n: int, authors: int = 1) -> PaperRecord:
    return PaperRecord(title=f"T{n}", abstract="a" * 100,
                       authors=tuple(Author(name="A B", given="A", family="B")
                                     for _ in range(authors)))


def test_batches_are_bounded_in_count_and_weight() -> None:
    small = [_paper(n) for n in range(25)]
    assert [len(b) for b in bounded_batches(iter(small), size=10)] == [10, 10, 5]
    heavy = [_paper(n, authors=3000) for n in range(10)]
    weight = record_weight(heavy[0])
    assert weight > 3_000_000
    sizes = [len(b) for b in bounded_batches(iter(heavy), size=1000, weight=3 * weight)]
    assert sizes == [3, 3, 3, 1]


# --- any input: records or a SourceError --------------------------------------------------


TIGHT = InputLimits(max_bytes=64 * 1024, ratio_grace=4096, max_ratio=5.0, max_line_bytes=512,
                    max_lines=400, max_records=5, max_lines_between_records=20,
                    max_bytes_between_records=8192, max_authors=3)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from([
    record(0).encode(), record(1, authors=["A", "B", "C", "D"]).encode(), b"\n" * 30,
    b" " * 600 + b"\n", b"Abstract: a finding.\n", b"@misc{k, title={T}}\n", OAI_HEAD,
    oai_record(3), b"\x00", b"\xff\xfe", b"\x1f\x8b",
]) | st.binary(max_size=200), max_size=30),
    st.sampled_from(["plain", "gzip", "bomb", "cut"]),
    st.sampled_from([None, "arxiv-daily", "bibtex", "abstracts", "oai", "listing"]))
def test_any_bytes_give_records_or_a_source_error(tmp_path_factory: pytest.TempPathFactory,
                                                  parts: list[bytes], packing: str,
                                                  fmt: str | None) -> None:
    data = b"".join(parts)
    if packing == "gzip":
        data = gzip.compress(data)
    elif packing == "bomb":
        data = _bomb(data, b"\n", 1)
    elif packing == "cut":
        data = gzip.compress(data)[: max(2, len(data) // 2)]
    path = tmp_path_factory.mktemp("any") / "input"
    path.write_bytes(data)
    try:
        papers = read(path, TIGHT, fmt)
    except SourceError as exc:
        assert exc.file == str(path) and exc.message
        return
    assert len(papers) <= TIGHT.max_records
    assert all(len(p.authors) <= TIGHT.max_authors for p in papers)
