"""Host header poisoning (defect 2): links in emails and feeds come from the configured
base URL, never from the request's Host header, and a foreign Host is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from paperfeed.settings import Settings
from tests.security.conftest import Served, csrf, serve_copy

EVIL = "attacker.example"


def test_a_foreign_host_header_is_refused_everywhere(served: Served) -> None:
    for path in ("/reset", "/feeds/category/cs.CV.atom", "/api/v1/health", "/"):
        response = httpx.get(served.url + path, headers={"Host": EVIL})
        assert response.status_code == 400, path
    with served.client() as browser:
        token = csrf(browser, "/reset")
        served.account("victim@example.org")
        poisoned = browser.post("/reset", data={"email": "victim@example.org",
                                                "csrf_token": token},
                                headers={"Host": EVIL})
        assert poisoned.status_code == 400
    assert not any(EVIL in m.get_body().get_content()  # type: ignore[union-attr]
                   for m in served.mails("victim@example.org", wait=1.0))


@pytest.fixture(scope="module")
def public(security_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A server behind a proxy at https://papers.example.org, also reachable on loopback."""
    settings = Settings(base_url="https://papers.example.org",
                        allowed_hosts=("papers.example.org", "127.0.0.1"))
    yield from serve_copy(security_store, tmp_path_factory.mktemp("public") / "data", settings)


def test_reset_links_and_feed_links_use_the_base_url(public: Served) -> None:
    public.account("reader@example.org")
    with public.client() as browser:
        token = csrf(browser, "/reset")
        # An allowed host that is not the public one (loopback, a proxy's upstream name).
        asked = browser.post("/reset", data={"email": "reader@example.org", "csrf_token": token})
        assert asked.status_code == 200
    [mail] = public.mails("reader@example.org")
    text = str(mail.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert "https://papers.example.org/reset/" in text and "127.0.0.1" not in text
    feed = httpx.get(f"{public.url}/feeds/category/cs.CV.atom")
    assert feed.status_code == 200
    assert 'href="https://papers.example.org/feeds/category/cs.CV.atom"' in feed.text
    assert "127.0.0.1" not in feed.text
