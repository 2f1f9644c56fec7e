"""Defect 15: /api/docs renders the API in headless Chromium under the app's strict CSP.

FastAPI's page loaded Swagger UI from a CDN and started it with an inline script; the
app's Content-Security-Policy blocks both, so the page was blank. Now Swagger UI is
served by the app from the swagger-ui-bundle-v2 package and started by a script file.
The page must show the operations, log no console error (a CSP violation is one), and
request nothing from another host. A screenshot is saved like the other browser tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from paperfeed.catalog import Catalog
from paperfeed.web import create_app
from paperfeed.web.security import CONTENT_SECURITY_POLICY
from paperfeed.web.server import BackgroundServer
from tests.web.conftest import SHOTS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over an empty store: the API docs need no papers."""
    with Catalog(tmp_path_factory.mktemp("docs") / "data") as catalog, \
            BackgroundServer(create_app(catalog, warm_up=False)) as server:
        yield server.url


def test_api_docs_page_keeps_the_strict_policy(docs_server: str) -> None:
    response = httpx.get(f"{docs_server}/api/docs")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    html = response.text
    assert "<script>" not in html and "cdn" not in html.lower()
    for src in ("/api/docs/assets/swagger-ui-bundle.js", "/static/api-docs.js",
                "/api/docs/assets/swagger-ui.css"):
        assert src in html
        assert httpx.get(f"{docs_server}{src}").status_code == 200, src


def test_api_docs_show_the_operations_in_chromium(browser: Any, docs_server: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    foreign: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    own = urlsplit(docs_server).netloc

    def request(r: Any) -> None:
        if urlsplit(r.url).netloc not in (own, ""):
            foreign.append(r.url)

    page.on("request", request)
    response = page.goto(f"{docs_server}/api/docs")
    assert response is not None and response.status == 200
    page.wait_for_selector(".opblock", timeout=30_000)
    body = page.locator("#swagger-ui").inner_text()
    assert "/api/v1/search" in body
    assert "/api/v1/papers/{ref}" in body
    assert page.locator(".opblock").count() >= 10
    # Open one operation: Swagger UI's own rendering works, not just the first paint.
    page.locator(".opblock-summary", has_text="/api/v1/search").first.click()
    page.wait_for_selector(".opblock.is-open .parameters", timeout=10_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "api-docs.png"), full_page=False)
    context.close()
    assert errors == [], errors
    assert foreign == [], foreign
