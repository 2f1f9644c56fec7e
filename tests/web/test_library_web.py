"""Ratings and library over real HTTP: API with tokens and CSRF, page, BibTeX export."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.web.test_accounts_web import _csrf, _new_browser, _signup

pytestmark = pytest.mark.slow


def test_rate_save_and_export_through_the_api(live_server: str, outbox: Path) -> None:
    with _new_browser(live_server) as browser:
        _signup(browser, outbox, "library@example.org")
        assert browser.put("/api/v1/papers/2503.11731/rating",
                           json={"value": 1}).status_code == 403  # no CSRF token
        token = _csrf(browser, "/account")
        headers = {"X-CSRF-Token": token}
        up = browser.put("/api/v1/papers/2503.11731/rating", json={"value": 1}, headers=headers)
        assert up.json() == {"paper_id": up.json()["paper_id"], "rating": 1, "saved": False,
                             "tags": []}
        bad = browser.put("/api/v1/papers/2503.11731/rating", json={"value": 7},
                          headers=headers)
        assert bad.status_code == 422 and "value" in bad.json()["message"]
        saved = browser.post("/api/v1/library/2503.11731", json={"tags": ["To Read", "GS"]},
                             headers=headers).json()
        assert saved["saved"] and saved["tags"] == ["to read", "gs"]
        browser.post("/api/v1/library/2503.99991", json={"tags": ["hostile"]}, headers=headers)
        items = browser.get("/api/v1/library").json()
        assert [i["paper"]["arxiv_id"] for i in items] == ["2503.99991", "2503.11731"]
        assert [i["paper"]["arxiv_id"] for i in
                browser.get("/api/v1/library", params={"tag": "gs"}).json()] == ["2503.11731"]
        bib = browser.get("/library.bib")
        assert bib.headers["content-type"].startswith("application/x-bibtex")
        assert "eprint = {2503.11731}" in bib.text and bib.text.count("@article{") == 2
        page = browser.get("/library")
        assert page.status_code == 200 and "&lt;script&gt;" in page.text
        assert "<script>alert" not in page.text
        browser.delete("/api/v1/library/2503.99991", headers=headers)
        assert len(browser.get("/api/v1/library").json()) == 1


def test_paper_page_buttons_work_without_javascript(live_server: str, outbox: Path
                                                    ) -> None:
    with _new_browser(live_server) as browser:
        _signup(browser, outbox, "buttons@example.org")
        page = browser.get("/papers/2503.11731").text
        assert "More like this" in page and "Save to library" in page
        token = _csrf(browser, "/papers/2503.11731")
        done = browser.post("/papers/2503.11731/mine", data={"csrf_token": token, "do": "down"})
        assert done.status_code == 303
        page = browser.get("/papers/2503.11731").text
        assert re.search(r'class="rate rate-down" aria-pressed="true"', page)
        browser.post("/papers/2503.11731/mine", data={"csrf_token": token, "do": "save",
                                                      "tags": "a, b"})
        assert "Update tags" in browser.get("/papers/2503.11731").text
        assert browser.post("/papers/2503.11731/mine",
                            data={"csrf_token": token, "do": "explode"}).status_code == 422


def test_library_needs_an_account(live_server: str) -> None:
    assert httpx.get(f"{live_server}/api/v1/library").status_code == 401
    assert httpx.get(f"{live_server}/library.bib").status_code == 401
    anonymous = httpx.get(f"{live_server}/library")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert httpx.put(f"{live_server}/api/v1/papers/2503.11731/rating",
                     json={"value": 1}).status_code == 401
