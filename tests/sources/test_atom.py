"""The arXiv API's Atom feed: fields, paging totals, API errors and hostile input."""

# ruff: noqa: E501  (the fixture feeds keep arXiv's own long lines)

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperfeed.errors import SourceError
from paperfeed.records import PaperRecord
from paperfeed.sources.atom import parse_atom_feed, parse_atom_xml

FEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <link href="http://arxiv.org/api/query?search_query%3Dcat%3Acs.CV%26id_list%3D%26start%3D0%26max_results%3D3" rel="self" type="application/atom+xml"/>
  <title type="html">ArXiv Query: search_query=cat:cs.CV&amp;id_list=&amp;start=0&amp;max_results=3</title>
  <id>http://arxiv.org/api/cHxbiOdZaP56ODnBPIenZhzg5f8</id>
  <updated>2025-03-14T00:00:00-04:00</updated>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">152734</opensearch:totalResults>
  <opensearch:startIndex xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">0</opensearch:startIndex>
  <opensearch:itemsPerPage xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">3</opensearch:itemsPerPage>
  <entry>
    <id>http://arxiv.org/abs/2503.11731v2</id>
    <updated>2025-03-18T09:12:44Z</updated>
    <published>2025-03-14T17:59:58Z</published>
    <title>Segment Anything, Faster: Token Pruning for
  Promptable Segmentation</title>
    <summary>  We prune tokens in promptable segmentation models and obtain a 2.17x
speed-up with no loss in mIoU on COCO and LVIS. Code is available at
https://github.com/example/fast-sam.
</summary>
    <author>
      <name>Ana Mar\xc3\xadn</name>
      <arxiv:affiliation xmlns:arxiv="http://arxiv.org/schemas/atom">ETH Z\xc3\xbcrich</arxiv:affiliation>
    </author>
    <author>
      <name>Wei Zhang</name>
    </author>
    <arxiv:doi xmlns:arxiv="http://arxiv.org/schemas/atom">10.1109/CVPR.2025.01234</arxiv:doi>
    <link title="doi" href="http://dx.doi.org/10.1109/CVPR.2025.01234" rel="related"/>
    <arxiv:comment xmlns:arxiv="http://arxiv.org/schemas/atom">CVPR 2025; project page https://example.github.io/fast-sam</arxiv:comment>
    <arxiv:journal_ref xmlns:arxiv="http://arxiv.org/schemas/atom">CVPR 2025, pp. 1-10</arxiv:journal_ref>
    <link href="http://arxiv.org/abs/2503.11731v2" rel="alternate" type="text/html"/>
    <link title="pdf" href="http://arxiv.org/pdf/2503.11731v2" rel="related" type="application/pdf"/>
    <arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="cs.CV" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.CV" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>
  </entry>
  <entry>
    <id>http://arxiv.org/abs/hep-ex/0307015v1</id>
    <updated>2003-07-07T13:46:39-04:00</updated>
    <published>2003-07-07T13:46:39-04:00</published>
    <title>Multi-Electron Production at High Transverse Momenta in ep Collisions at
  HERA</title>
    <summary>  Multi-electron production is studied at high electron transverse momentum
in positron- and electron-proton collisions using the H1 detector at HERA.
</summary>
    <author>
      <name>H1 Collaboration</name>
    </author>
    <arxiv:comment xmlns:arxiv="http://arxiv.org/schemas/atom">23 pages, 8 figures and 4 tables</arxiv:comment>
    <arxiv:journal_ref xmlns:arxiv="http://arxiv.org/schemas/atom">Eur.Phys.J. C31 (2003) 17-29</arxiv:journal_ref>
    <link href="http://arxiv.org/abs/hep-ex/0307015v1" rel="alternate" type="text/html"/>
    <link title="pdf" href="http://arxiv.org/pdf/hep-ex/0307015v1" rel="related" type="application/pdf"/>
    <arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="hep-ex" scheme="http://arxiv.org/schemas/atom"/>
    <category term="hep-ex" scheme="http://arxiv.org/schemas/atom"/>
  </entry>
  <entry>
    <id>http://arxiv.org/abs/2501.00042v1</id>
    <updated>2025-01-01T00:00:01Z</updated>
    <published>2025-01-01T00:00:01Z</published>
    <title>A Benchmark for Grounded Captioning</title>
    <summary>We release a benchmark.</summary>
    <author><name>Li, Mei</name></author>
    <link href="http://arxiv.org/abs/2501.00042v1" rel="alternate" type="text/html"/>
    <arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.CV" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
  </entry>
</feed>
"""

ERROR_FEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title xmlns="http://www.w3.org/2005/Atom">ArXiv Query: search_query=&amp;id_list=1234.12345</title>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">1</opensearch:totalResults>
  <entry xmlns="http://www.w3.org/2005/Atom">
    <id>http://arxiv.org/api/errors#incorrect_id_format_for_1234.12345</id>
    <title>Error</title>
    <summary>incorrect id format for 1234.12345</summary>
    <updated>2025-03-14T00:00:00-04:00</updated>
    <link href="http://arxiv.org/api/errors#incorrect_id_format_for_1234.12345" rel="alternate" type="text/html"/>
    <author><name>arXiv api core</name></author>
  </entry>
</feed>
"""


def line_of(document: bytes, needle: bytes) -> int:
    return document[: document.index(needle)].count(b"\n") + 1


def test_entries_and_fields() -> None:
    records = list(parse_atom_xml(FEED, file="query.atom"))
    assert [(r.arxiv_id, r.arxiv_version) for r in records] == [
        ("2503.11731", 2), ("hep-ex/0307015", 1), ("2501.00042", 1)
    ]
    sam, h1, bench = records
    assert sam.title == "Segment Anything, Faster: Token Pruning for Promptable Segmentation"
    assert sam.abstract.startswith("We prune tokens") and "\n" not in sam.abstract
    assert [a.name for a in sam.authors] == ["Ana Marín", "Wei Zhang"]
    assert sam.authors[1].family == "Zhang"
    assert sam.doi == "10.1109/cvpr.2025.01234"
    assert sam.categories == ("cs.CV", "cs.LG")
    assert (sam.submitted, sam.updated) == (date(2025, 3, 14), date(2025, 3, 18))
    assert sam.abs_url == "http://arxiv.org/abs/2503.11731v2"
    assert sam.pdf_url == "http://arxiv.org/pdf/2503.11731v2"
    assert sam.comment is not None and sam.comment.startswith("CVPR 2025")
    assert sam.journal_ref == "CVPR 2025, pp. 1-10"
    assert "https://github.com/example/fast-sam" in sam.code_urls
    assert sam.source_ids == (("atom", "http://arxiv.org/abs/2503.11731v2"),)
    prov = sam.provenance[0]
    assert (prov.source, prov.file) == ("atom", "query.atom")
    assert prov.line == line_of(FEED, b"<entry>")
    assert h1.doi is None and h1.journal_ref == "Eur.Phys.J. C31 (2003) 17-29"
    assert h1.title.endswith("ep Collisions at HERA")
    # The primary category comes first even when listed second.
    assert bench.categories == ("cs.CL", "cs.CV")
    assert bench.authors[0].family == "Li" and bench.authors[0].given == "Mei"
    assert bench.pdf_url is None and bench.comment is None


def test_feed_totals() -> None:
    feed = parse_atom_feed(FEED)
    assert (feed.total_results, feed.start_index, feed.items_per_page) == (152734, 0, 3)
    assert len(feed.records) == 3


def test_api_error_entry_raises() -> None:
    with pytest.raises(SourceError, match="incorrect id format"):
        list(parse_atom_xml(ERROR_FEED, file="err.atom"))


def test_empty_feed_has_no_records() -> None:
    head = FEED[: FEED.index(b"<entry>")] + b"</feed>"
    assert parse_atom_feed(head).records == []


def test_truncated_feed_names_file_and_line() -> None:
    cut = FEED[: FEED.index(b"<title>A Benchmark")]
    with pytest.raises(SourceError) as info:
        list(parse_atom_xml(cut, file="cut.atom"))
    assert info.value.file == "cut.atom" and info.value.line is not None


def test_not_atom_is_refused() -> None:
    with pytest.raises(SourceError, match="not an Atom feed"):
        list(parse_atom_xml(b"<ListRecords/>"))


def test_entry_without_id_is_refused() -> None:
    doc = FEED.replace(b"<id>http://arxiv.org/abs/2501.00042v1</id>", b"")
    with pytest.raises(SourceError) as info:
        list(parse_atom_xml(doc))
    assert info.value.field == "id"


@pytest.mark.parametrize(
    "document",
    [
        b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/abs/2501.00001v1'
        b"</id><title>&c;</title></entry></feed>",
        b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/abs/2501.00001v1'
        b"</id><title>&x;</title></entry></feed>",
    ],
)
def test_entities_never_expand(document: bytes) -> None:
    with pytest.raises(SourceError, match="entity"):
        list(parse_atom_xml(document))


def _outcome(data: bytes) -> list[PaperRecord] | SourceError:
    try:
        return list(parse_atom_xml(data, file="fuzz.atom"))
    except SourceError as exc:
        return exc


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_give_records_or_source_error(data: bytes) -> None:
    assert isinstance(_outcome(data), list | SourceError)


ATOMISH = st.lists(
    st.sampled_from([
        '<feed xmlns="http://www.w3.org/2005/Atom">', "</feed>", "<entry>", "</entry>",
        "<id>", "</id>", "http://arxiv.org/abs/2501.00001v3", "http://arxiv.org/api/errors#x",
        "<title>", "</title>", "<summary>", "</summary>", "<published>", "</published>",
        "2025-01-01T00:00:00Z", "yesterday", "<author><name>", "</name></author>",
        '<link rel="alternate" href="x"/>', '<link title="pdf"/>', '<category term="cs.CV"/>',
        "<opensearch:totalResults xmlns:opensearch='http://a9.com/-/spec/opensearch/1.1/'>",
        "</opensearch:totalResults>", "12", "&amp;", "&nope;", "<", ">", "\n", "x", "\x01",
    ]),
    max_size=40,
).map("".join)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(ATOMISH)
def test_atomish_text_gives_records_or_source_error(text: str) -> None:
    result = _outcome(text.encode())
    if isinstance(result, list):
        assert all(r.title and r.provenance[0].source == "atom" for r in result)


@given(st.integers(min_value=0, max_value=len(FEED)), st.binary(max_size=8))
def test_damaged_feed_gives_records_or_source_error(cut: int, junk: bytes) -> None:
    assert isinstance(_outcome(FEED[:cut] + junk + FEED[cut + len(junk):]), list | SourceError)
