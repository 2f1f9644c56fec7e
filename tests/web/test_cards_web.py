"""System cards in the web app and the API over real HTTP: paper card, facets, dataset pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperfeed.catalog import Catalog

pytestmark = pytest.mark.slow


@pytest.fixture
def client(live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, timeout=60) as c:
        yield c


def _tracker(client: httpx.Client) -> dict[str, Any]:
    hits = client.get("/api/v1/search", params={"dataset": "LaSOT"}).json()["results"]
    return next(h["paper"] for h in hits if h["paper"]["card"]["name"] == "CompressTracker")


def test_every_paper_has_a_card(web_catalog: Catalog) -> None:
    # Other tests add papers (onboarding imports them, with their cards): compare counts.
    assert web_catalog.cards.count() == web_catalog.store.count() >= 711 + 2 + 28
    assert web_catalog.cards_pending() == 0


def test_paper_api_returns_the_card_with_anchored_figures(client: httpx.Client) -> None:
    brief = _tracker(client)
    card = client.get(f"/api/v1/papers/{brief['ref']}").json()["card"]
    assert card["name"] == "CompressTracker" and "LaSOT" in card["datasets"]
    auc = next(r for r in card["results"] if r["value"] == "66.1%")
    assert "66.1%" in auc["sentence"] and auc["anchor"].startswith("result-")
    # The paper page gives that anchor to the row showing the sentence.
    page = client.get(brief["url"]).text
    row = re.search(rf'<tr id="{auc["anchor"]}">(.*?)</tr>', page, re.S)
    assert row and "66.1%" in unescape(row.group(1))
    assert "System card" in page


def test_search_facets_in_the_query_and_as_parameters(client: httpx.Client) -> None:
    by_syntax = client.get("/api/v1/search", params={"q": "dataset:lasot"}).json()
    by_param = client.get("/api/v1/search", params={"dataset": "LaSOT"}).json()
    ids = [r["paper"]["id"] for r in by_syntax["results"]]
    assert ids and ids == [r["paper"]["id"] for r in by_param["results"]]
    assert all("lasot" in [d.lower() for d in r["paper"]["card"]["datasets"]]
               for r in by_syntax["results"])
    with_code = client.get("/api/v1/search", params={"q": "detection has:code"}).json()
    assert with_code["results"] and all(r["paper"]["card"]["code_urls"]
                                        for r in with_code["results"])
    without = client.get("/api/v1/search", params={"q": "detection", "has_code": "false"}).json()
    assert without["results"] and not any(r["paper"]["card"]["code_urls"]
                                          for r in without["results"])
    surveys = client.get("/api/v1/search", params={"kind": "survey"}).json()
    assert surveys["results"] and {r["paper"]["card"]["kind"] for r in surveys["results"]} == {
        "survey"}
    nothing = client.get("/api/v1/search")
    assert nothing.status_code == 200 and nothing.json()["results"] == []
    assert client.get("/api/v1/search", params={"kind": "poem"}).status_code == 422


def test_dataset_page_is_a_leaderboard_linking_each_figure_to_its_sentence(
        client: httpx.Client) -> None:
    listed = client.get("/api/v1/datasets", params={"limit": 500}).json()
    lasot = next(f for f in listed if f["key"] == "lasot")
    assert lasot["url"] == "/datasets/LaSOT" and lasot["papers"] >= 1
    out = client.get("/api/v1/datasets/lasot").json()  # any spelling finds it
    assert out["name"] == "LaSOT" and out["search"] == "dataset:LaSOT"
    row = next(r for r in out["rows"] if r["paper"]["card"]["name"] == "CompressTracker")
    assert "66.1%" in [r["value"] for r in row["results"]]
    html = client.get("/datasets/LaSOT").text
    links = re.findall(r'<a href="(/papers/[^"#]+#result-\d+)"><b>([^<]+)</b>', html)
    assert ("66.1%" in [unescape(v) for _, v in links])
    target = next(href for href, v in links if unescape(v) == "66.1%")
    path, anchor = target.split("#")
    assert f'<tr id="{anchor}">' in client.get(path).text
    assert client.get("/api/v1/datasets/NoSuchSet42").status_code == 404
    assert client.get("/datasets/NoSuchSet42").status_code == 404


def test_task_pages_and_lists(client: httpx.Client) -> None:
    tasks = client.get("/api/v1/tasks", params={"limit": 1000}).json()
    assert tasks and all(t["papers"] >= 1 for t in tasks)
    first = tasks[0]
    out = client.get(f"/api/v1/tasks/{first['name']}").json()
    assert out["facet"] == "task" and out["papers"] == first["papers"]
    assert len(out["rows"]) == first["papers"] or out["paging"]["has_more"]
    html = client.get("/tasks").text
    assert first["url"] in html.replace("&amp;", "&")
    prefixed = client.get("/api/v1/datasets", params={"prefix": "ImageNet"}).json()
    assert all(f["key"].startswith("imagenet") for f in prefixed)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=st.text(min_size=1, max_size=60))
def test_any_dataset_name_is_a_page_or_a_clean_404(live_server: str, name: str) -> None:
    from urllib.parse import quote

    with httpx.Client(base_url=live_server, timeout=60) as c:
        for path in (f"/datasets/{quote(name, safe='')}", f"/api/v1/tasks/{quote(name, safe='')}",
                     f"/search?q={quote('dataset:' + name)}"):
            response = c.get(path)
            assert response.status_code in (200, 404), (path, response.status_code)
            assert "<script>" not in response.text.replace("<script src=", "")
