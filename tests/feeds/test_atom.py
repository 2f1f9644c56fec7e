"""The feed documents alone: valid, escaped, deterministic, for papers made in the test."""

from __future__ import annotations

from datetime import date

import feedparser
from lxml import etree

from paperfeed.feeds.atom import PAPERFEED_NS, FeedInfo, FeedItem, build_feed
from paperfeed.records import Author, PaperRecord
from paperfeed.store import StoredPaper

ATOM = "{http://www.w3.org/2005/Atom}"
INFO = FeedInfo(title="t", subtitle="s", self_url="https://pf.example/feeds/x.atom",
                home_url="https://pf.example/daily")


def _paper(pid: int, title: str, **fields: object) -> StoredPaper:
    record = PaperRecord(title=title, **fields)  # type: ignore[arg-type]
    return StoredPaper(id=pid, record=record, revision=1)


def test_the_same_papers_make_the_same_bytes() -> None:
    items = [FeedItem(_paper(1, "A", first_listed=date(2025, 3, 20)))]
    first = build_feed(INFO, items, base_url="https://pf.example")
    assert first == build_feed(INFO, items, base_url="https://pf.example")
    rss = build_feed(INFO, items, base_url="https://pf.example", format="rss")
    assert rss == build_feed(INFO, items, base_url="https://pf.example", format="rss")
    assert b"2025-03-20T00:00:00+00:00" in first and b"Thu, 20 Mar 2025" in rss


def test_an_empty_feed_is_valid() -> None:
    for fmt in ("atom", "rss"):
        parsed = feedparser.parse(build_feed(INFO, [], base_url="https://pf.example",
                                             format=fmt))  # type: ignore[arg-type]
        assert not parsed.bozo and parsed.entries == []


def test_text_xml_cannot_hold_is_dropped_and_markup_is_text() -> None:
    paper = _paper(7, "Bad\x00 \x1b<i>title</i> $\\alpha$ \ud800",
                   abstract="\x0cAbstract <b>bold</b>",
                   authors=(Author("Eve\x07"),), categories=("cs.CR\x01",),
                   abs_url="javascript:alert(1)", pdf_url="data:text/html,x",
                   submitted=date(2025, 1, 2))
    for fmt in ("atom", "rss"):
        body = build_feed(INFO, [FeedItem(paper, "because\x00 <u>")], base_url="https://pf.example",
                          format=fmt)  # type: ignore[arg-type]
        root = etree.fromstring(body)  # well-formed
        parsed = feedparser.parse(body)
        assert not parsed.bozo
        assert b"javascript:" not in body and b"data:text" not in body and b"<i>" not in body
        titles = [t.text for t in root.iter(f"{ATOM}title", "title")]
        assert "Bad <i>title</i> α" in titles
        assert [r.text for r in root.iter(f"{{{PAPERFEED_NS}}}reason")] == ["because <u>"]


def test_a_paper_without_arxiv_id_or_authors_still_makes_a_valid_entry() -> None:
    paper = _paper(42, "Untitled work")
    body = build_feed(INFO, [FeedItem(paper)], base_url="https://pf.example/")
    root = etree.fromstring(body)
    [entry] = root.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}id") == "https://pf.example/papers/42"
    assert [link.get("href") for link in entry.findall(f"{ATOM}link")] == [
        "https://pf.example/papers/42"]
    # No entry author: the feed's author stands in, as Atom requires.
    assert root.find(f"{ATOM}author/{ATOM}name").text == "paperfeed"
    assert entry.findtext(f"{ATOM}updated") == "1970-01-01T00:00:00+00:00"
