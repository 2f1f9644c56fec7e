"""The JSON API over real HTTP on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.web.conftest import SCRIPT_TITLE

pytestmark = pytest.mark.slow


@pytest.fixture
def client(live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, timeout=60) as c:
        yield c


@contextmanager
def voting_client(live_server: str) -> Iterator[tuple[httpx.Client, str]]:
    """A client holding a voter cookie, and the CSRF token that goes with it."""
    with httpx.Client(base_url=live_server, timeout=60) as c:
        yield c, c.get("/api/v1/session").json()["csrf_token"]


def test_health_and_stats(client: httpx.Client) -> None:
    assert client.get("/api/v1/health").json()["status"] == "ok"
    stats = client.get("/api/v1/stats").json()
    assert stats["papers"] == 711 + 2 + 28  # listings + hostile + seed papers
    assert (stats["first_date"], stats["last_date"]) == ("2025-03-18", "2025-03-20")
    assert stats["health"] == "ok" and stats["index"]["pending"] == 0


def test_daily_defaults_to_the_newest_day_and_links_its_neighbours(client: httpx.Client) -> None:
    day = client.get("/api/v1/daily").json()
    assert day["date"] == "2025-03-20" and day["previous"] == "2025-03-19"
    assert day["next"] is None
    assert {p["listed"] for p in day["papers"]} == {"2025-03-20"}
    before = client.get("/api/v1/daily", params={"date": "2025-03-19"}).json()
    assert before["paging"]["total"] == 172 and before["next"] == "2025-03-20"
    week = client.get("/api/v1/daily", params={"date": "2025-03-19", "view": "week"}).json()
    assert (week["start"], week["end"]) == ("2025-03-17", "2025-03-23")
    assert sum(c["count"] for c in week["counts"]) == week["paging"]["total"]
    assert [c["date"] for c in week["counts"]] == ["2025-03-18", "2025-03-19", "2025-03-20"]


def test_daily_category_filter_and_pages(client: httpx.Client) -> None:
    cr = client.get("/api/v1/daily", params={"category": "cs.CR", "per_page": 100}).json()
    assert cr["paging"]["total"] >= 2
    assert all("cs.CR" in p["categories"] for p in cr["papers"])
    first = client.get("/api/v1/daily", params={"per_page": 10}).json()
    second = client.get("/api/v1/daily", params={"per_page": 10, "page": 2}).json()
    assert first["paging"]["has_more"] and second["paging"]["page"] == 2
    assert not {p["id"] for p in first["papers"]} & {p["id"] for p in second["papers"]}


def test_search_with_filters_and_highlights(client: httpx.Client) -> None:
    out = client.get("/api/v1/search", params={"q": "gaussian splatting"}).json()
    assert out["results"], out
    top = out["results"][0]
    assert any(s["highlighted"] for s in top["title"] + top["snippet"])
    cv = client.get("/api/v1/search", params={"q": "gaussian splatting", "category": "cs.CV",
                                              "from": "2025-03-19", "to": "2025-03-19"}).json()
    assert cv["results"]
    for r in cv["results"]:
        assert "cs.CV" in r["paper"]["categories"] and r["paper"]["listed"] == "2025-03-19"
    by_author = client.get("/api/v1/search", params={"q": "sensor simulation",
                                                     "author": "Xianming Zeng"}).json()
    assert [r["paper"]["arxiv_id"] for r in by_author["results"]] == ["2503.11731"]
    page2 = client.get("/api/v1/search", params={"q": "learning", "per_page": 5,
                                                 "page": 2}).json()
    page1 = client.get("/api/v1/search", params={"q": "learning", "per_page": 5}).json()
    assert page1["paging"]["has_more"]
    assert not {r["paper"]["id"] for r in page1["results"]} & {
        r["paper"]["id"] for r in page2["results"]}


def test_paper_related_and_not_found(client: httpx.Client) -> None:
    paper = client.get("/api/v1/papers/2503.11731v1").json()
    assert paper["arxiv_id"] == "2503.11731" and paper["ref"] == "2503.11731"
    assert paper["authors"][0] == {"name": "Xianming Zeng", "key": "xianming zeng",
                                   "url": "/authors/xianming%20zeng"}
    related = client.get("/api/v1/papers/2503.11731/related", params={"k": 5}).json()
    assert len(related) == 5 and paper["id"] not in {p["id"] for p in related}
    missing = client.get("/api/v1/papers/9999.99999")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found" and "9999.99999" in missing.json()["message"]


def test_authors_search_and_page(client: httpx.Client) -> None:
    found = client.get("/api/v1/authors", params={"q": "xianming ze"}).json()
    assert found[0]["author"]["key"] == "xianming zeng"
    page = client.get("/api/v1/authors/xianming%20zeng").json()
    assert page["name"] == "Xianming Zeng" and page["total"] >= 1
    paper = client.get("/api/v1/papers/2503.11731").json()
    coauthors = {c["author"]["key"] for c in page["coauthors"]}
    assert len(coauthors) == 12  # the 15 co-authors of this paper, top 12 shown
    assert coauthors <= {a["key"] for a in paper["authors"]} - {"xianming zeng"}
    assert page["periods"][0]["start"] == "2025-03"
    assert client.get("/api/v1/authors/nobody%20at%20all").status_code == 404


@pytest.mark.parametrize(("path", "params", "where"), [
    ("/api/v1/daily", {"date": "yesterday"}, "query parameter 'date'"),
    ("/api/v1/daily", {"per_page": 1000}, "query parameter 'per_page'"),
    ("/api/v1/search", {"q": "x" * 501}, "query parameter 'q'"),
    ("/api/v1/search", {"dataset": "d" * 201}, "query parameter 'dataset.0'"),
    ("/api/v1/search", {"q": "x", "sort": "random"}, "query parameter 'sort'"),
    ("/api/v1/trending", {"window": "year"}, "query parameter 'window'"),
])
def test_validation_errors_are_json_and_name_the_parameter(
    client: httpx.Client, path: str, params: dict[str, object], where: str
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_request" and where in body["message"], body


def test_etag_revalidation(client: httpx.Client) -> None:
    first = client.get("/api/v1/papers/2503.11731")
    etag = first.headers["etag"]
    again = client.get("/api/v1/papers/2503.11731", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    other = client.get("/api/v1/papers/2503.11731", headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200 and other.json() == first.json()


def test_votes_need_the_cookie_and_token_and_count_once(live_server: str) -> None:
    anonymous = httpx.post(f"{live_server}/api/v1/papers/2503.11731/vote")
    assert anonymous.status_code == 403 and "X-CSRF-Token" in anonymous.json()["message"]
    with voting_client(live_server) as (c, token):
        forged = c.post("/api/v1/papers/2503.11731/vote", headers={"X-CSRF-Token": "0" * 64})
        assert forged.status_code == 403
        before = c.get("/api/v1/papers/2503.11731")
        first = c.post("/api/v1/papers/2503.11731/vote", headers={"X-CSRF-Token": token}).json()
        second = c.post("/api/v1/papers/2503.11731/vote", headers={"X-CSRF-Token": token}).json()
        assert first["voted"] and second["votes"] == first["votes"]
        # The vote changed the paper, so the old ETag no longer matches.
        after = c.get("/api/v1/papers/2503.11731",
                      headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200 and after.json()["voted"] is True
        undone = c.delete("/api/v1/papers/2503.11731/vote", headers={"X-CSRF-Token": token})
        assert undone.json() == {**first, "votes": first["votes"] - 1, "voted": False}


def test_a_vote_lifts_a_paper_to_trending_and_the_top_of_its_day(live_server: str) -> None:
    with voting_client(live_server) as (c, token):
        day = c.get("/api/v1/daily", params={"date": "2025-03-19", "per_page": 100}).json()
        last = day["papers"][-1]
        c.post(f"/api/v1/papers/{last['ref']}/vote", headers={"X-CSRF-Token": token})
        day = c.get("/api/v1/daily", params={"date": "2025-03-19"}).json()
        assert day["papers"][0]["id"] == last["id"] and day["papers"][0]["voted"]
        trending = c.get("/api/v1/trending", params={"window": "month"}).json()
        assert last["id"] in {i["paper"]["id"] for i in trending["items"]}
        assert trending["half_life_hours"] == 36


def test_hostile_paper_is_text_in_every_response(live_server: str) -> None:
    with voting_client(live_server) as (c, token):
        c.post("/api/v1/papers/2503.99991/vote", headers={"X-CSRF-Token": token})
        responses = {
            "paper": c.get("/api/v1/papers/2503.99991"),
            "daily": c.get("/api/v1/daily", params={"category": "cs.CR"}),
            "search": c.get("/api/v1/search", params={"q": "script alert entities"}),
            "trending": c.get("/api/v1/trending", params={"window": "month"}),
            "related": c.get("/api/v1/papers/2503.99992/related"),
        }
        author_url = responses["paper"].json()["authors"][0]["url"]
        responses["author"] = c.get(f"/api/v1{author_url}")
    for name, response in responses.items():
        assert response.status_code == 200, (name, response.text)
        raw = response.text
        assert "<script" not in raw and "<img" not in raw and "<iframe" not in raw, name
        if name != "related":
            assert SCRIPT_TITLE in json.dumps(response.json(), ensure_ascii=False), name
    paper = responses["paper"].json()
    assert paper["title"] == SCRIPT_TITLE
    assert "<img src=x onerror=alert(2)>" in paper["abstract"]  # kept as text, not dropped
    assert "·" in paper["abstract"] and "95%" in paper["abstract"]
    assert "\\textbf" not in paper["abstract"] and "$" not in paper["abstract"]
    assert responses["paper"].headers["x-content-type-options"] == "nosniff"


def test_openapi_document_lists_every_endpoint(client: httpx.Client) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    paths = set(doc["paths"])
    for expected in ("/api/v1/daily", "/api/v1/trending", "/api/v1/search",
                     "/api/v1/papers/{ref}", "/api/v1/papers/{ref}/related",
                     "/api/v1/authors", "/api/v1/authors/{key}", "/api/v1/stats",
                     "/api/v1/papers/{ref}/vote", "/api/v1/session"):
        assert expected in paths, expected
    assert not any(p.startswith("/daily") or p == "/" for p in paths)  # pages stay out
