"""The HTML pages over real HTTP: hostile and malformed input, CSRF, headers, errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.web.conftest import SCRIPT_TITLE

pytestmark = pytest.mark.slow

ESCAPED_TITLE = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture(scope="module")
def client(live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, timeout=60) as c:
        yield c


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([0-9a-f]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


@pytest.mark.parametrize("path", [
    "/daily?category=cs.CR", "/search?q=script+alert+entities", "/papers/2503.99991",
    "/trending?window=month", "/papers/2503.99992",
])
def test_hostile_titles_render_as_text(client: httpx.Client, path: str) -> None:
    if path.startswith("/trending"):
        page = client.get("/papers/2503.99991")
        client.post("/papers/2503.99991/vote", data={"csrf_token": _csrf(page.text)})
    html = client.get(path).text
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "<iframe" not in html and 'href="javascript:' not in html
    if "99992" not in path:
        assert ESCAPED_TITLE in html or "&lt;script&gt;" in html


def test_author_page_of_a_hostile_name(client: httpx.Client) -> None:
    paper = client.get("/api/v1/papers/2503.99991").json()
    html = client.get(paper["authors"][0]["url"]).text
    assert "<b>Mallory</b>" not in html and "&lt;b&gt;Mallory&lt;/b&gt;" in html
    assert ESCAPED_TITLE in html


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(params=st.dictionaries(
    st.sampled_from(["q", "from", "to", "category", "author", "sort", "mode", "page", "date",
                     "view", "window", "group"]),
    st.one_of(st.text(max_size=60), st.sampled_from(
        ["<script>alert(1)</script>", "2025-13-45", "-1", "0", "99999999999999999999", "",
         '"unclosed', "AND OR NOT", "*:*", "\x00", "a" * 600, "2025-03-19"])),
    max_size=6),
    path=st.sampled_from(["/daily", "/search", "/trending", "/authors",
                          "/authors/xianming%20zeng", "/"]))
def test_pages_never_fail_on_any_query(client: httpx.Client, params: dict[str, str],
                                       path: str) -> None:
    response = client.get(path, params=params)
    assert response.status_code in (200, 404, 422), (path, params, response.status_code)
    assert "<script>alert(1)</script>" not in response.text


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(ref=st.text(min_size=1, max_size=300))
def test_paper_pages_never_fail_on_any_reference(client: httpx.Client, ref: str) -> None:
    # "." and ".." are dot segments: the client resolves them (RFC 3986) before sending.
    assume(ref not in (".", ".."))
    response = client.get("/papers/" + quote(ref, safe=""))
    assert response.status_code in (200, 404), (ref, response.status_code)


def test_vote_form_needs_this_browsers_csrf_token(live_server: str) -> None:
    with httpx.Client(base_url=live_server, timeout=60) as mine, \
            httpx.Client(base_url=live_server, timeout=60) as other:
        token = _csrf(mine.get("/papers/2503.11731").text)
        other_token = _csrf(other.get("/papers/2503.11731").text)
        assert token != other_token
        missing = mine.post("/papers/2503.11731/vote", data={})
        assert missing.status_code == 403 and "expired" in missing.text
        assert mine.post("/papers/2503.11731/vote",
                         data={"csrf_token": other_token}).status_code == 403
        # A cookie whose signature does not match is no voter at all.
        with httpx.Client(base_url=live_server, timeout=60,
                          cookies={"pf_voter": "forged.id"}) as forger:
            assert forger.post("/papers/2503.11731/vote",
                               data={"csrf_token": token}).status_code == 403
        ok = mine.post("/papers/2503.11731/vote", data={"csrf_token": token, "next": "/daily"})
        assert ok.status_code == 303 and ok.headers["location"] == "/daily"
        # Redirects stay on this site.
        away = mine.post("/papers/2503.11731/vote", data={
            "csrf_token": token, "direction": "undo", "next": "//evil.example/x"})
        assert away.headers["location"] == "/papers/2503.11731"


def test_cookie_and_security_headers(live_server: str) -> None:
    response = httpx.get(f"{live_server}/daily")
    cookie = response.headers["set-cookie"].lower()
    assert "pf_voter=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    # No inline script or style anywhere, so the policy costs nothing.
    assert not re.search(r"<script(?![^>]*\bsrc=)", response.text)
    assert " style=" not in response.text and "<style" not in response.text


def test_errors_are_pages_with_a_message(client: httpx.Client) -> None:
    missing = client.get("/papers/0000.00000")
    assert missing.status_code == 404 and "no paper matches" in missing.text
    assert "<h1>Not found</h1>" in missing.text
    nobody = client.get("/authors/no%20such%20person")
    assert nobody.status_code == 404 and "no author named" in nobody.text
    bad = client.get("/daily", params={"view": "year"})
    assert bad.status_code == 422 and "query parameter &#39;view&#39;" in bad.text
    bad_day = client.get("/daily", params={"date": "2025-02-30"})
    assert bad_day.status_code == 200 and "is not a date" in bad_day.text


def test_search_page_keeps_the_query_escaped_in_the_form(client: httpx.Client) -> None:
    html = client.get("/search", params={"q": '"><script>alert(1)</script>'}).text
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert SCRIPT_TITLE not in html
