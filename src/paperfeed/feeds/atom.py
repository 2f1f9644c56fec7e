"""Atom 1.0 and RSS 2.0 documents from stored papers, built with feedgen.

Owns only the XML: which papers go in, and in what order, is decided by the
caller. Every text is set as an element's text, so lxml escapes it; a hostile
title is never markup in the bytes. The output depends only on the papers
given (no clock), so an ETag over it is stable between requests.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from paperfeed import __version__
from paperfeed.presentation import present
from paperfeed.store import StoredPaper

Format = Literal["atom", "rss"]
MEDIA_TYPES: dict[Format, str] = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
}
# Our own element for the reason a paper was picked, for programs; people read it in the
# summary, which every feed reader shows.
PAPERFEED_NS = "urn:x-paperfeed:feed:1"
DC_NS = "http://purl.org/dc/elements/1.1/"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Characters XML 1.0 cannot carry at all (lxml refuses them): control characters,
# surrogates and the two non-characters U+FFFE and U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class FeedItem:
    """A paper in a feed, with the reason it was picked (personal feeds only)."""

    paper: StoredPaper
    reason: str | None = None


@dataclass(frozen=True)
class FeedInfo:
    """What a feed is: its title, a line about it, its own URL and the page it mirrors."""

    title: str
    subtitle: str
    self_url: str  # absolute
    home_url: str  # absolute


def xml_text(text: str) -> str:
    """`text` without the characters XML cannot hold."""
    return _NOT_XML.sub("", text)


def http_url(url: str | None) -> str | None:
    """The URL if it is absolute http(s), else None: a stored `javascript:` is never a link."""
    if not url:
        return None
    url = xml_text(url.strip())
    parts = urlsplit(url)
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def paper_url(base_url: str, paper: StoredPaper) -> str:
    """The paper's page on this server (the same path the web pages link to)."""
    return f"{base_url.rstrip('/')}{present(paper).path}"


def entry_id(base_url: str, paper: StoredPaper) -> str:
    """A permanent entry id: the versionless arXiv URL when there is one, so a paper keeps
    its id if this server moves and is one entry across feeds; else its page here."""
    arxiv_id = paper.record.arxiv_id
    if arxiv_id:
        return f"https://arxiv.org/abs/{quote(arxiv_id, safe='/')}"
    return paper_url(base_url, paper)


def listing_day(paper: StoredPaper) -> date | None:
    return present(paper).listed


def _moment(day: date | None, default: datetime) -> datetime:
    return datetime.combine(day, time(), UTC) if day is not None else default


class _PaperFeedExtension(BaseExtension):  # type: ignore[misc]
    """Declares the namespaces the entry extension writes in."""

    def extend_ns(self) -> dict[str, str]:
        return {"pf": PAPERFEED_NS, "dc": DC_NS}


class _PaperEntryExtension(BaseEntryExtension):  # type: ignore[misc]
    """Typed links, creators and the pick reason, which feedgen cannot write itself.

    feedgen 1.0 drops `rel`, `type` and `title` from entry links, so a second link
    (arXiv, PDF) would become a second `alternate`, which Atom forbids; RSS items have no
    author without an email address, so authors go in as dc:creator.
    """

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []
        self.creators: list[str] = []
        self.reason: str | None = None

    def extend_atom(self, entry: Any) -> Any:
        # feedgen writes Atom elements unqualified under a default-namespace root.
        for link in self.links:
            etree.SubElement(entry, "link", **link)
        self._reason(entry)
        return entry

    def extend_rss(self, item: Any) -> Any:
        for name in self.creators:
            etree.SubElement(item, f"{{{DC_NS}}}creator").text = name
        self._reason(item)
        return item

    def _reason(self, parent: Any) -> None:
        if self.reason:
            etree.SubElement(parent, f"{{{PAPERFEED_NS}}}reason").text = self.reason


def _summary(paper: StoredPaper, reason: str | None) -> str:
    abstract = xml_text(present(paper).abstract).strip()
    if reason:
        return f"Why this paper: {reason}\n\n{abstract}".strip()
    return abstract


def build_feed(info: FeedInfo, items: Sequence[FeedItem], *, base_url: str,
               format: Format = "atom") -> bytes:
    """The feed document as UTF-8 bytes, entries in the order given.

    `updated` of the feed is the newest listing day among the entries (the epoch for an
    empty feed): a fixed value, so the same papers always make the same bytes.
    """
    days = [d for d in (listing_day(item.paper) for item in items) if d is not None]
    updated = _moment(max(days), EPOCH) if days else EPOCH
    fg = FeedGenerator()
    fg.register_extension("paperfeed", _PaperFeedExtension, _PaperEntryExtension)
    fg.id(xml_text(info.self_url))
    fg.title(xml_text(info.title) or "paperfeed")
    fg.subtitle(xml_text(info.subtitle) or "papers from paperfeed")
    fg.link(href=xml_text(info.self_url), rel="self", type=MEDIA_TYPES[format].split(";")[0])
    # Last: feedgen makes the last link added the RSS channel's <link>, the home page.
    fg.link(href=xml_text(info.home_url), rel="alternate", type="text/html")
    # Atom needs an author on the feed when an entry has none (a paper without authors).
    fg.author({"name": "paperfeed"})
    fg.generator("paperfeed", version=__version__)
    fg.language("en")
    fg.updated(updated)
    fg.lastBuildDate(updated)
    for item in items:
        _add_entry(fg, item, base_url, updated, format)
    out: bytes = fg.rss_str(pretty=True) if format == "rss" else fg.atom_str(pretty=True)
    return out


def _add_entry(fg: Any, item: FeedItem, base_url: str, fallback: datetime, format: Format
               ) -> None:
    paper, record = item.paper, item.paper.record
    reason = xml_text(item.reason).strip() if item.reason else None
    fe = fg.add_entry(order="append")
    fe.id(xml_text(entry_id(base_url, paper)))  # also the RSS guid, isPermaLink="false"
    fe.title(xml_text(present(paper).title).strip() or "(untitled)")
    # The one alternate link: feedgen writes it without attributes, and Atom reads a link
    # without `rel` as alternate. RSS takes it as the item's link.
    fe.link(href=xml_text(paper_url(base_url, paper)))
    summary = _summary(paper, reason)
    if summary:
        fe.summary(summary)
    names = [xml_text(a.name).strip() for a in record.authors]
    for name in names:
        if name:
            fe.author({"name": name})
    listed = _moment(listing_day(paper), fallback)
    fe.updated(listed)
    # One setter for both: Atom's `published` is the submission, RSS's `pubDate` the day
    # the paper appeared in the listing (what a reader sorts by).
    if format == "rss":
        fe.published(listed)
    elif record.submitted is not None:
        fe.published(_moment(record.submitted, fallback))
    categories = [xml_text(c).strip() for c in record.categories]
    if categories := [c for c in categories if c]:
        fe.category([{"term": c} for c in categories])
    ext: _PaperEntryExtension = fe.paperfeed
    ext.creators = [n for n in names if n]
    ext.reason = reason
    if abs_url := http_url(record.abs_url):
        ext.links.append({"href": abs_url, "rel": "related", "type": "text/html",
                          "title": "arXiv abstract" if record.arxiv_id else "source"})
    if pdf_url := http_url(record.pdf_url):
        ext.links.append({"href": pdf_url, "rel": "related", "type": "application/pdf",
                          "title": "PDF"})
