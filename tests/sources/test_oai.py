"""OAI-PMH parsing: arXiv and oai_dc formats, the real quant-ph harvest, hostile input."""

from __future__ import annotations

import gzip
import re
from collections import defaultdict
from datetime import date
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperfeed.errors import SourceError
from paperfeed.records import PaperRecord
from paperfeed.sources import InputLimits
from paperfeed.sources.oai import parse_oai_page, parse_oai_xml

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "arxiv-quantph-oai"

ARXIV_PAGE = b"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
 xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">
<responseDate>2025-03-04T12:00:00Z</responseDate>
<request verb="ListRecords" metadataPrefix="arXiv" set="physics:hep-ph">http://oaipmh.arxiv.org/oai</request>
<ListRecords>
<record>
<header>
 <identifier>oai:arXiv.org:0704.0001</identifier>
 <datestamp>2008-11-13</datestamp>
 <setSpec>physics:hep-ph</setSpec>
</header>
<metadata>
 <arXiv xmlns="http://arxiv.org/OAI/arXiv/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://arxiv.org/OAI/arXiv/ http://arxiv.org/OAI/arXiv.xsd">
 <id>0704.0001</id><created>2007-04-02</created><updated>2008-11-13</updated>
 <authors><author><keyname>Bal\xc3\xa1zs</keyname><forenames>C.</forenames></author>
 <author><keyname>Berger</keyname><forenames>E. L.</forenames></author>
 <author><keyname>Nadolsky</keyname><forenames>P. M.</forenames><suffix>Jr</suffix></author>
 <author><keyname>D0 Collaboration</keyname></author></authors>
 <title>Calculation of prompt diphoton production cross sections at Tevatron and
  LHC energies</title>
 <categories>hep-ph hep-ex</categories>
 <comments>37 pages, 15 figures; code at https://github.com/example/diphox</comments>
 <report-no>ANL-HEP-PR-07-12</report-no>
 <journal-ref>Phys.Rev.D76:013009,2007</journal-ref>
 <doi>10.1103/PhysRevD.76.013009</doi>
 <license>http://arxiv.org/licenses/nonexclusive-distrib/1.0/</license>
 <abstract>  A fully differential calculation in perturbative quantum chromodynamics is
presented for the production of massive photon pairs at hadron colliders.
</abstract>
 </arXiv>
</metadata>
</record>
<record>
<header status="deleted">
 <identifier>oai:arXiv.org:0704.0002</identifier>
 <datestamp>2008-12-01</datestamp>
</header>
</record>
<record>
<header>
 <identifier>oai:arXiv.org:hep-th/9901001</identifier>
 <datestamp>2008-11-13</datestamp>
 <setSpec>physics:hep-th</setSpec>
</header>
<metadata>
 <arXiv xmlns="http://arxiv.org/OAI/arXiv/">
 <id>hep-th/9901001</id><created>1999-01-04</created>
 <authors><author><keyname>Maldacena</keyname><forenames>Juan</forenames></author></authors>
 <title>Strings &amp; things</title>
 <categories>hep-th</categories>
 <abstract>We consider strings.</abstract>
 </arXiv>
</metadata>
</record>
<resumptionToken cursor="0" completeListSize="2814">6960524|1001</resumptionToken>
</ListRecords>
</OAI-PMH>
"""

DC_PAGE = b"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
<responseDate>2025-03-04T12:00:00Z</responseDate>
<request verb="GetRecord" identifier="oai:arXiv.org:0804.2273" metadataPrefix="oai_dc">http://oaipmh.arxiv.org/oai</request>
<GetRecord>
<record>
<header>
 <identifier>oai:arXiv.org:0804.2273</identifier>
 <datestamp>2009-01-12</datestamp>
 <setSpec>physics:quant-ph</setSpec>
</header>
<metadata>
<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
 <dc:title>Entanglement   in
   many-body systems</dc:title>
 <dc:creator>Amico, Luigi</dc:creator>
 <dc:creator>Fazio, Rosario</dc:creator>
 <dc:subject>Quantum Physics</dc:subject>
 <dc:subject>quant-ph</dc:subject>
 <dc:description>  The recent interest in aspects common to quantum information and
condensed matter has prompted a flurry of activity.</dc:description>
 <dc:description>Comment: 73 pages, 14 figures</dc:description>
 <dc:date>2008-04-14</dc:date>
 <dc:date>2008-10-14</dc:date>
 <dc:type>text</dc:type>
 <dc:identifier>http://arxiv.org/abs/0804.2273</dc:identifier>
 <dc:identifier>Rev. Mod. Phys. 80, 517 (2008)</dc:identifier>
 <dc:identifier>doi:10.1103/RevModPhys.80.517</dc:identifier>
</oai_dc:dc>
</metadata>
</record>
</GetRecord>
</OAI-PMH>
"""


def line_of(document: bytes, needle: bytes) -> int:
    """1-based line of the first occurrence of `needle` (so no line number is hard-coded)."""
    return document[: document.index(needle)].count(b"\n") + 1


def test_arxiv_format_fields() -> None:
    records = list(parse_oai_xml(ARXIV_PAGE, file="page.xml"))
    assert [r.arxiv_id for r in records] == ["0704.0001", "hep-th/9901001"]
    first, second = records
    assert first.title == (
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert first.abstract.startswith("A fully differential calculation in perturbative")
    assert "\n" not in first.abstract and "  " not in first.abstract
    assert [a.family for a in first.authors] == [
        "Balázs", "Berger", "Nadolsky Jr", "D0 Collaboration"
    ]
    assert first.authors[1].given == "E. L." and first.authors[1].name == "E. L. Berger"
    assert first.authors[3].name == "D0 Collaboration"
    assert first.categories == ("hep-ph", "hep-ex")
    assert first.doi == "10.1103/physrevd.76.013009"
    assert first.journal_ref == "Phys.Rev.D76:013009,2007"
    assert first.comment is not None and first.comment.startswith("37 pages")
    assert first.code_urls == ("https://github.com/example/diphox",)
    assert (first.submitted, first.updated) == (date(2007, 4, 2), date(2008, 11, 13))
    assert first.source_ids == (("oai", "oai:arXiv.org:0704.0001"),)
    assert first.abs_url == "https://arxiv.org/abs/0704.0001"
    (prov,) = first.provenance
    assert (prov.source, prov.file) == ("oai", "page.xml")
    assert prov.record_id == "oai:arXiv.org:0704.0001"
    assert prov.line == line_of(ARXIV_PAGE, b"<record>")
    assert second.title == "Strings & things"
    assert second.updated is None
    assert second.provenance[0].line == line_of(
        ARXIV_PAGE, b"<record>\n<header>\n <identifier>oai:arXiv.org:hep-th")


def test_page_reports_token_size_and_deleted() -> None:
    page = parse_oai_page(ARXIV_PAGE)
    assert len(page.records) == 2
    assert page.deleted == 1
    assert page.resumption_token == "6960524|1001"
    assert (page.complete_list_size, page.cursor) == (2814, 0)
    assert page.error_code is None


def test_oai_dc_get_record() -> None:
    (record,) = parse_oai_xml(DC_PAGE, file="dc.xml")
    assert record.title == "Entanglement in many-body systems"
    assert [a.family for a in record.authors] == ["Amico", "Fazio"]
    assert record.authors[0].given == "Luigi"
    assert record.arxiv_id == "0804.2273"
    assert record.abstract.startswith("The recent interest")
    assert record.comment == "73 pages, 14 figures"
    assert (record.submitted, record.updated) == (date(2008, 4, 14), date(2008, 10, 14))
    assert record.doi == "10.1103/revmodphys.80.517"
    assert record.journal_ref == "Rev. Mod. Phys. 80, 517 (2008)"
    assert record.categories == ("quant-ph",)
    assert record.provenance[0].line == line_of(DC_PAGE, b"<record>")


def test_oai_dc_categories_fall_back_to_set_spec() -> None:
    doc = DC_PAGE.replace(b"<dc:subject>quant-ph</dc:subject>", b"").replace(
        b"physics:quant-ph", b"cs:cs:CV")
    (record,) = parse_oai_xml(doc)
    assert record.categories == ("cs.CV",)


def test_missing_title_is_derived_from_abstract() -> None:
    doc = DC_PAGE.replace(b"<dc:title>", b"<dc:type>").replace(b"</dc:title>", b"</dc:type>")
    (record,) = parse_oai_xml(doc)
    assert record.title_derived
    assert record.title.startswith("The recent interest in aspects common")


def test_gzip_input_is_accepted() -> None:
    assert [r.arxiv_id for r in parse_oai_xml(gzip.compress(ARXIV_PAGE))] == [
        r.arxiv_id for r in parse_oai_xml(ARXIV_PAGE)
    ]


def test_broken_gzip_is_a_source_error() -> None:
    packed = gzip.compress(ARXIV_PAGE)
    with pytest.raises(SourceError, match="truncated gzip"):
        list(parse_oai_xml(packed[: len(packed) // 2], file="cut.xml.gz"))
    # A gzip bomb stops at the expansion cap instead of filling memory.
    with pytest.raises(SourceError, match="PAPERFEED_INPUT_MAX_BYTES"):
        list(parse_oai_xml(packed, limits=InputLimits(max_bytes=len(ARXIV_PAGE) // 2)))


@pytest.mark.parametrize(
    ("code", "raises"), [("badResumptionToken", True), ("noRecordsMatch", False)]
)
def test_oai_errors(code: str, raises: bool) -> None:
    doc = (b'<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
           b'<error code="' + code.encode() + b'">the reason</error></OAI-PMH>')
    page = parse_oai_page(doc)
    assert (page.error_code, page.error_message, page.records) == (code, "the reason", [])
    if raises:
        with pytest.raises(SourceError, match=code):
            list(parse_oai_xml(doc, file="err.xml"))
    else:
        assert list(parse_oai_xml(doc)) == []


def test_truncated_document_names_file_and_line() -> None:
    cut = ARXIV_PAGE[: ARXIV_PAGE.index(b"<title>Strings")]
    with pytest.raises(SourceError) as info:
        list(parse_oai_xml(cut, file="cut.xml"))
    assert info.value.file == "cut.xml"
    assert info.value.line is not None and info.value.line >= cut.count(b"\n")
    assert "cut.xml:" in str(info.value)


def test_not_oai_is_refused() -> None:
    with pytest.raises(SourceError, match="not an OAI-PMH document"):
        list(parse_oai_xml(b"<feed xmlns='http://www.w3.org/2005/Atom'/>"))


def test_unsupported_metadata_format_is_refused() -> None:
    doc = ARXIV_PAGE.replace(b"<arXiv xmlns=", b"<marc xmlns=").replace(b"</arXiv>", b"</marc>")
    with pytest.raises(SourceError, match="unsupported metadata format"):
        list(parse_oai_xml(doc))


def test_bad_date_names_the_field() -> None:
    doc = ARXIV_PAGE.replace(b"<created>2007-04-02</created>", b"<created>April 2</created>")
    with pytest.raises(SourceError) as info:
        list(parse_oai_xml(doc))
    assert info.value.field == "created"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<ListRecords><record><header><identifier>oai:arXiv.org:1601.00001</identifier></header>
<metadata><title>&lol9;</title><description>&lol9;</description><date>2016-01-01</date>
</metadata></record></ListRecords>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ListRecords><record><header><identifier>oai:arXiv.org:1601.00001</identifier></header>
<metadata><title>Leak &xxe; here</title><description>x</description></metadata></record>
</ListRecords>
"""

# An undeclared entity with an external DTD is not an error for libxml2: it must stay unexpanded.
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE ListRecords SYSTEM "http://127.0.0.1:9/evil.dtd">
<ListRecords><record><header><identifier>oai:arXiv.org:1601.00001</identifier></header>
<metadata><title>Leak &xxe; here</title><description>x</description></metadata></record>
</ListRecords>
"""


@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_entity_declarations_are_refused(document: bytes) -> None:
    with pytest.raises(SourceError, match="entity"):
        list(parse_oai_xml(document, file="evil.xml"))


def test_external_dtd_is_not_fetched_nor_expanded() -> None:
    (record,) = parse_oai_xml(EXTERNAL_DTD)
    assert record.title == "Leak here"
    assert "root:" not in record.title


def _outcome(data: bytes) -> list[PaperRecord] | SourceError:
    try:
        return list(parse_oai_xml(data, file="fuzz.xml"))
    except SourceError as exc:
        return exc


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_give_records_or_source_error(data: bytes) -> None:
    result = _outcome(data)
    assert isinstance(result, list | SourceError)


XMLISH = st.lists(
    st.sampled_from([
        "<ListRecords>", "</ListRecords>", "<OAI-PMH>", "</OAI-PMH>", "<record>", "</record>",
        "<header>", '<header status="deleted">', "</header>", "<identifier>", "</identifier>",
        "oai:arXiv.org:2501.00001", "oai:arXiv.org:quant-ph/9501001", "<metadata>", "</metadata>",
        "<title>", "</title>", "<description>", "</description>", "<date>", "</date>",
        "2016-01-01", "20xx", "<error code='badVerb'>", "</error>", "<resumptionToken>",
        "</resumptionToken>", "&amp;", "&bogus;", "<!--", "-->", "<![CDATA[", "]]>", "text ",
        "\n", "<", ">", "&", "\x00", "é", '<!DOCTYPE x [<!ENTITY a "b">]>',
        '<arXiv xmlns="http://arxiv.org/OAI/arXiv/">', "</arXiv>", "<created>", "</created>",
    ]),
    max_size=40,
).map("".join)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(XMLISH, st.sampled_from(["utf-8", "utf-16", "latin-1"]))
def test_xmlish_text_gives_records_or_source_error(text: str, encoding: str) -> None:
    result = _outcome(text.encode(encoding, errors="replace"))
    if isinstance(result, list):
        assert all(r.title and r.provenance[0].source == "oai" for r in result)


@given(st.integers(min_value=0, max_value=len(ARXIV_PAGE)), st.binary(max_size=8))
def test_damaged_real_page_gives_records_or_source_error(cut: int, junk: bytes) -> None:
    result = _outcome(ARXIV_PAGE[:cut] + junk + ARXIV_PAGE[cut + len(junk):])
    assert isinstance(result, list | SourceError)


# --- the real quant-ph harvest (../shared/data/arxiv-quantph-oai) -------------------------


@cache
def _real_records() -> dict[int, list[PaperRecord]]:
    by_year: dict[int, list[PaperRecord]] = {}
    for path in sorted(DATA.glob("arXiv-meta-*.xml.gz")):
        year = int(path.name.split("-")[2].split(".")[0])
        by_year[year] = list(parse_oai_xml(path.read_bytes(), file=str(path)))
    return by_year


@pytest.fixture
def real() -> dict[int, list[PaperRecord]]:
    if not DATA.is_dir():
        pytest.skip(f"../shared/data/arxiv-quantph-oai not found: {DATA}")
    return _real_records()


def test_real_files_counts_match_source_txt(real: dict[int, list[PaperRecord]]) -> None:
    source = (DATA / "SOURCE.txt").read_text()
    stated = {int(y): int(n) for y, n in re.findall(r"\b(\d{4}):(\d+)\b", source)}
    assert {year: len(records) for year, records in real.items()} == stated
    total = sum(len(records) for records in real.values())
    assert total == 38_858
    ids = {r.arxiv_id for records in real.values() for r in records}
    assert len(ids) == total


def test_real_files_every_record_is_complete(real: dict[int, list[PaperRecord]]) -> None:
    for year, records in real.items():
        for record in records:
            assert record.arxiv_id and record.title and record.abstract
            assert not record.title_derived
            assert record.submitted is not None and record.submitted.year == year
            assert "\n" not in record.abstract and "  " not in record.title


def test_real_quantum_cryptography_papers_are_four(real: dict[int, list[PaperRecord]]) -> None:
    titled = [r for records in real.values() for r in records
              if r.title.lower() == "quantum cryptography"]
    assert len(titled) == 4
    assert len({r.arxiv_id for r in titled}) == 4
    assert len({r.provenance[0].record_id for r in titled}) == 4


def test_real_old_style_ids(real: dict[int, list[PaperRecord]]) -> None:
    by_id = {r.arxiv_id: r for records in real.values() for r in records}
    assert "quant-ph/9501001" in by_id
    assert by_id["quant-ph/9501001"].source_ids == (("oai", "oai:arXiv.org:quant-ph/9501001"),)
    # Before April 2007 every id is old-style (cross-lists keep their own archive: hep-ph/...).
    old_style = re.compile(r"^[a-z]+(-[a-z]+)?(\.[A-Z]{2})?/\d{7}$")
    pre_2007 = [r for year, records in real.items() if year < 2007 for r in records]
    assert pre_2007 and all(old_style.match(r.arxiv_id or "") for r in pre_2007)
    assert all(
        (r.provenance[0].record_id or "").removeprefix("oai:arXiv.org:") == r.arxiv_id
        for records in real.values() for r in records
    )


def test_real_provenance_lines_point_at_the_record(real: dict[int, list[PaperRecord]]) -> None:
    per_file: dict[str, list[PaperRecord]] = defaultdict(list)
    for records in real.values():
        for record in records[:: max(1, len(records) // 50)]:
            per_file[record.provenance[0].file or ""].append(record)
    for file, sample in per_file.items():
        lines = gzip.decompress(Path(file).read_bytes()).decode().split("\n")
        for record in sample:
            prov = record.provenance[0]
            assert prov.line is not None
            assert f"<identifier>{prov.record_id}</identifier>" in lines[prov.line - 1]
