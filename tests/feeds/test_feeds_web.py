"""The feeds over real HTTP: what each shows, escaping, secret and public tokens, CSRF."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import quote

import feedparser
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from paperfeed.catalog import Catalog
from paperfeed.feeds.atom import PAPERFEED_NS
from paperfeed.index import SearchFilters
from tests.feeds.conftest import PICKS, REASON, SCRIPT_TITLE, StandInPicks, corpus_records
from tests.signup import sign_up

ATOM = "{http://www.w3.org/2005/Atom}"
PASSWORD = "a long enough password"


@pytest.fixture
def client(feed_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=feed_server, timeout=60) as c:
        yield c


def _csrf(client: httpx.Client, path: str = "/signup") -> str:
    found = re.search(r'name="csrf-token" content="([0-9a-f]+)"', client.get(path).text)
    assert found
    return found.group(1)


@pytest.fixture
def outbox(feed_catalog: Catalog) -> Path:
    """Where the feed server writes its mail (no SMTP server is configured for it)."""
    return feed_catalog.store.data_dir / "outbox"


def _user(client: httpx.Client, outbox: Path) -> httpx.Client:
    """`client`, signed up (through the emailed link) and logged in as a new account."""
    address = f"reader-{secrets.token_hex(4)}@example.org"
    done = sign_up(client, outbox, address, PASSWORD, "Reader")
    assert done.status_code == 303, done.text
    return client


def _entry_refs(xml: bytes) -> list[str]:
    """The paper refs of the entries, in document order, from their alternate links."""
    parsed = feedparser.parse(xml)
    assert not parsed.bozo, parsed.bozo_exception
    return [e.link.rsplit("/papers/", 1)[1] for e in parsed.entries]


def _newest(catalog: Catalog, category: str, k: int = 50) -> list[str]:
    """The arXiv ids of the k newest papers of a category, computed from the corpus."""
    rows = []
    for record in corpus_records():
        if category in record["categories"]:  # type: ignore[operator]
            paper = catalog.store.find(str(record["id"]))
            assert paper is not None
            rows.append((date.fromisoformat(str(record["first_seen_listing_date"])),
                         paper.id, str(record["id"])))
    rows.sort(reverse=True)
    return [arxiv_id for _, _, arxiv_id in rows[:k]]


def test_category_feeds_list_the_newest_papers_of_the_category(
        client: httpx.Client, feed_catalog: Catalog) -> None:
    expected = _newest(feed_catalog, "cs.CV")
    for fmt, media in (("atom", "application/atom+xml"), ("rss", "application/rss+xml")):
        response = client.get(f"/feeds/category/cs.CV.{fmt}")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == f"{media}; charset=utf-8"
        assert response.headers["cache-control"] == "public, max-age=300"
        assert _entry_refs(response.content) == expected
        parsed = feedparser.parse(response.content)
        assert parsed.version == ("atom10" if fmt == "atom" else "rss20")
        days = [e.updated_parsed[:3] if fmt == "atom" else e.published_parsed[:3]
                for e in parsed.entries]
        assert days == sorted(days, reverse=True) and days[0] == (2025, 3, 20)
        assert all("cs.CV" in [t.term for t in e.tags] for e in parsed.entries)
        assert parsed.feed.link.endswith("/daily?category=cs.CV")  # the page, not the feed
        first = parsed.entries[0]
        assert first.title and first.summary and first.author
        assert first.id.startswith("https://arxiv.org/abs/")
        # A stable ETag: the same bytes again, and 304 for a reader that has them.
        etag = response.headers["etag"]
        again = client.get(f"/feeds/category/cs.CV.{fmt}", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.headers["etag"] == etag


def test_atom_entries_are_valid_for_feed_readers(client: httpx.Client) -> None:
    root = etree.fromstring(client.get("/feeds/category/cs.CV.atom").content)
    assert root.tag == f"{ATOM}feed"
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links["self"].endswith("/feeds/category/cs.CV.atom")
    assert "/daily?category=cs.CV" in links["alternate"]
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 50
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == len(ids)
    for entry in entries:
        for required in ("id", "title", "updated", "summary"):
            assert entry.findtext(f"{ATOM}{required}"), required
        rels = [link.get("rel", "alternate") for link in entry.findall(f"{ATOM}link")]
        # RFC 4287: at most one alternate link per type and language.
        assert rels.count("alternate") == 1
        related = {link.get("type"): link.get("href") for link in entry.findall(f"{ATOM}link")
                   if link.get("rel") == "related"}
        assert related["text/html"].startswith("https://arxiv.org/abs/")
        assert related["application/pdf"].startswith("https://arxiv.org/pdf/")


def test_a_hostile_title_is_escaped_text_in_both_formats(client: httpx.Client) -> None:
    for fmt in ("atom", "rss"):
        response = client.get(f"/feeds/category/cs.CR.{fmt}")
        assert response.status_code == 200
        body = response.content
        assert b"<script" not in body and b"<img" not in body and b"<b>" not in body
        assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in body
        # The stored `javascript:` abstract link is left out, never made a href.
        assert b"javascript:" not in body
        root = etree.fromstring(body)
        titles = [t.text for t in root.iter(f"{ATOM}title", "title")]
        assert SCRIPT_TITLE in titles


def test_an_unknown_or_malformed_category_or_format_is_404(client: httpx.Client) -> None:
    assert client.get("/feeds/category/cs.NOPE.atom").status_code == 404
    assert client.get("/feeds/category/cs.CV.json").status_code == 404
    assert client.get("/feeds/category/cs.CV").status_code == 404
    assert client.get("/feeds/category/" + quote("<x>", safe="") + ".atom").status_code == 422


def test_search_feed_lists_the_search_sorted_by_date(client: httpx.Client,
                                                     feed_catalog: Catalog) -> None:
    response = client.get("/feeds/search.atom", params={"q": "gaussian splatting"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert "etag" in response.headers
    assert response.headers["cache-control"] == "public, max-age=300"
    results = feed_catalog.search("gaussian splatting", k=50, sort="date")
    refs = _entry_refs(response.content)
    assert refs and refs == [r.paper.record.arxiv_id for r in results]
    parsed = feedparser.parse(response.content)
    days = [e.updated_parsed[:3] for e in parsed.entries]
    assert days == sorted(days, reverse=True)
    assert "gaussian splatting" in parsed.feed.title

    in_ro = client.get("/feeds/search.rss", params={"q": "robot", "category": "cs.RO"})
    assert in_ro.status_code == 200
    expected = feed_catalog.search("robot", k=50, sort="date",
                                   filters=SearchFilters(categories=("cs.RO",)))
    assert _entry_refs(in_ro.content) == [r.paper.record.arxiv_id for r in expected]
    assert all("cs.RO" in [t.term for t in e.tags]
               for e in feedparser.parse(in_ro.content).entries)


def test_search_feed_limits_the_query(client: httpx.Client) -> None:
    assert client.get("/feeds/search.atom", params={"q": "x" * 301}).status_code == 422
    assert client.get("/feeds/search.atom", params={"q": "   "}).status_code == 422
    assert client.get("/feeds/search.atom").status_code == 422


def test_personal_feed_works_with_a_fresh_token_until_revoked(
        client: httpx.Client, picks: StandInPicks, outbox: Path) -> None:
    _user(client, outbox)
    assert client.get("/account/feeds").status_code == 200
    page = client.post("/account/feeds/token", data={"csrf_token": _csrf(client, "/account")})
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    found = re.search(r'<code class="token">(http://[^<]+/feeds/me/(pff_[^<]+)\.atom)</code>',
                      page.text)
    assert found, page.text
    url, token = found.group(1), found.group(2)
    assert len(token) >= 4 + 43  # "pff_" and 256 bits in base64
    # Shown once: the page does not show it again.
    assert token not in client.get("/account/feeds").text

    with httpx.Client(timeout=60) as reader:  # a feed reader: no cookies at all
        feed = reader.get(url)
        assert feed.status_code == 200
        assert feed.headers["content-type"] == "application/atom+xml; charset=utf-8"
        assert feed.headers["x-robots-tag"] == "noindex"
        assert feed.headers["cache-control"].startswith("private")
        user_id, since, k, exclude_seen = picks.calls[-1]
        assert user_id == client.get("/api/v1/me").json()["id"]
        # Recent papers only (two weeks before the newest listing day), seen ones included.
        assert since == date(2025, 3, 6) and k == 50 and exclude_seen is False
        root = etree.fromstring(feed.content)
        entries = root.findall(f"{ATOM}entry")
        assert len(entries) == PICKS
        reasons = [e.findtext(f"{{{PAPERFEED_NS}}}reason") for e in entries]
        assert reasons == [f"{REASON} #{i}" for i in range(PICKS)]
        summaries = [e.findtext(f"{ATOM}summary") or "" for e in entries]
        assert all(s.startswith(f"Why this paper: {REASON} #") for s in summaries)
        assert b"<b>Token</b>" not in feed.content
        rss = reader.get(url.replace(".atom", ".rss"))
        assert rss.status_code == 200 and len(feedparser.parse(rss.content).entries) == PICKS

        token_id = re.search(r'action="/account/feeds/token/(\d+)/revoke"',
                             client.get("/account/feeds").text)
        assert token_id
        revoked = client.post(f"/account/feeds/token/{token_id.group(1)}/revoke",
                              data={"csrf_token": _csrf(client, "/account")})
        assert revoked.status_code == 303
        gone = reader.get(url)
        forged = reader.get(url.replace(token, "pff_" + secrets.token_urlsafe(32)))
        assert gone.status_code == forged.status_code == 404
        # The same answer for both: nothing tells a revoked token from a made-up one.
        assert gone.text == forged.text
        assert reader.get(url.replace(token, "x")).status_code == 404
    assert "revoked" in client.get("/account/feeds").text


def test_saved_search_feed_works_by_its_public_token(client: httpx.Client,
                                                     feed_server: str, outbox: Path) -> None:
    _user(client, outbox)
    saved = client.post("/account/feeds/searches", data={
        "name": "Splats <i>", "q": "gaussian splatting", "category": "cs.CV",
        "csrf_token": _csrf(client, "/account")})
    assert saved.status_code == 303
    page = client.get("/account/feeds").text
    assert "Splats &lt;i&gt;" in page
    found = re.search(r'<code>(http://[^<]+/feeds/saved/([A-Za-z0-9_-]+)\.atom)</code>', page)
    assert found, page
    url = found.group(1)
    with httpx.Client(timeout=60) as reader:
        feed = reader.get(url)
        assert feed.status_code == 200 and feed.headers["x-robots-tag"] == "noindex"
        direct = reader.get(f"{feed_server}/feeds/search.atom",
                            params={"q": "gaussian splatting", "category": "cs.CV"})
        assert _entry_refs(feed.content) == _entry_refs(direct.content) != []
        assert feedparser.parse(feed.content).feed.title == "paperfeed: Splats <i>"
        assert reader.get(url.replace(found.group(2), "not-a-saved-search")).status_code == 404

        search_id = re.search(r'action="/account/feeds/searches/(\d+)/delete"', page)
        assert search_id
        deleted = client.post(f"/account/feeds/searches/{search_id.group(1)}/delete",
                              data={"csrf_token": _csrf(client, "/account")})
        assert deleted.status_code == 303
        assert reader.get(url).status_code == 404

    bad = client.post("/account/feeds/searches", data={
        "name": "x", "q": " ", "category": "cs.CV", "csrf_token": _csrf(client, "/account")})
    assert bad.status_code == 422 and "query" in bad.text
    bad = client.post("/account/feeds/searches", data={
        "name": "x", "q": "ok", "category": "cs CV", "csrf_token": _csrf(client, "/account")})
    assert bad.status_code == 422 and "category" in bad.text


def test_one_users_feeds_cannot_be_managed_by_another(feed_server: str, outbox: Path
                                                      ) -> None:
    with httpx.Client(base_url=feed_server, timeout=60) as one, \
            httpx.Client(base_url=feed_server, timeout=60) as two:
        _user(one, outbox)
        _user(two, outbox)
        one.post("/account/feeds/token", data={"csrf_token": _csrf(one, "/account")})
        one.post("/account/feeds/searches", data={"q": "robot",
                                                  "csrf_token": _csrf(one, "/account")})
        page = one.get("/account/feeds").text
        token_id = re.search(r'/account/feeds/token/(\d+)/revoke', page)
        search_id = re.search(r'/account/feeds/searches/(\d+)/delete', page)
        assert token_id and search_id
        csrf = _csrf(two, "/account")
        assert two.post(f"/account/feeds/token/{token_id.group(1)}/revoke",
                        data={"csrf_token": csrf}).status_code == 404
        assert two.post(f"/account/feeds/searches/{search_id.group(1)}/delete",
                        data={"csrf_token": csrf}).status_code == 404
        assert "revoked" not in one.get("/account/feeds").text


def test_account_forms_refuse_posts_without_this_browsers_csrf_token(
        client: httpx.Client, feed_server: str, outbox: Path) -> None:
    _user(client, outbox)
    with httpx.Client(base_url=feed_server, timeout=60) as other:
        foreign = _csrf(other)
    for path, data in (("/account/feeds/token", {}),
                       ("/account/feeds/token/1/revoke", {}),
                       ("/account/feeds/searches", {"name": "n", "q": "robot"}),
                       ("/account/feeds/searches/1/delete", {})):
        assert client.post(path, data=data).status_code == 403, path
        assert client.post(path, data={**data, "csrf_token": foreign}).status_code == 403, path
    assert "pff_" not in client.get("/account/feeds").text
    assert "No saved searches yet" in client.get("/account/feeds").text


def test_account_feeds_page_needs_a_log_in(feed_server: str) -> None:
    with httpx.Client(base_url=feed_server, timeout=60) as anon:
        page = anon.get("/account/feeds")
        assert page.status_code == 303
        assert page.headers["location"] == "/login?next=/account/feeds"
        assert anon.post("/account/feeds/token",
                         data={"csrf_token": _csrf(anon, "/login")}).status_code == 401


TEXT = st.one_of(st.text(max_size=80), st.sampled_from(
    ["cs.CV", "<script>", "\x00\x01", "\ud800", "a/b", "..", "%", "x" * 400, "\"", "'",
     "pff_" + "A" * 43, "cs.CV\n"]))


def _enc(value: str) -> str:
    """Percent-encoded as UTF-8, lone surrogates too: the server gets the bytes as they are."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(kind=st.sampled_from(["category", "search", "saved", "me"]), value=TEXT,
       category=TEXT, fmt=st.sampled_from(["atom", "rss", "xml", ""]))
def test_feed_endpoints_never_fail_on_any_input(client: httpx.Client, kind: str, value: str,
                                                category: str, fmt: str) -> None:
    if kind == "search":
        response = client.get(f"/feeds/search.{fmt}?q={_enc(value)}&category={_enc(category)}")
    else:
        response = client.get(f"/feeds/{kind}/{_enc(value)}.{fmt}")
    assert response.status_code in (200, 404, 422), (kind, value, response.status_code)
    if response.status_code == 200:
        assert not feedparser.parse(response.content).bozo
