"""Vote stuffing (defect 8): a loop minting browser cookies made a paper trending #1.

Now each client (an account, or an address) counts once per paper, anonymous votes are
limited per address and hour, and PAPERFEED_VOTES=accounts takes account votes only.
A second client is a second loopback source address (127.0.0.2), as a second machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from paperfeed.settings import Settings
from paperfeed.web.votes import ANONYMOUS_PER_HOUR
from tests.security.conftest import KNOWN_ID, Served, csrf, log_in, serve_copy


def _fresh_browser_vote(url: str, ref: str, source: str = "127.0.0.1") -> httpx.Response:
    """What the probe's loop did: a new cookie from GET /api/v1/session, then a vote."""
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(base_url=url, transport=transport, timeout=30) as client:
        token = client.get("/api/v1/session").json()["csrf_token"]
        return client.post(f"/api/v1/papers/{ref}/vote", headers={"X-CSRF-Token": token})


def _trending(url: str) -> list[tuple[str, int]]:
    items = httpx.get(f"{url}/api/v1/trending", params={"window": "month"}).json()["items"]
    return [(i["paper"]["arxiv_id"], i["votes"]) for i in items]


def test_a_cookie_minting_loop_counts_once_and_is_stopped(served: Served) -> None:
    stuffed = "2503.11731"
    answers = [_fresh_browser_vote(served.url, stuffed).status_code
               for _ in range(ANONYMOUS_PER_HOUR + 3)]
    assert answers[:ANONYMOUS_PER_HOUR] == [200] * ANONYMOUS_PER_HOUR
    assert answers[ANONYMOUS_PER_HOUR:] == [429] * 3
    refused = _fresh_browser_vote(served.url, stuffed)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "votes an hour" in refused.json()["message"]
    assert httpx.get(f"{served.url}/api/v1/papers/{stuffed}").json()["votes"] == 1
    # Two votes from two machines beat thirty from one.
    served.clear_limits()
    assert _fresh_browser_vote(served.url, KNOWN_ID, "127.0.0.2").status_code == 200
    assert _fresh_browser_vote(served.url, KNOWN_ID, "127.0.0.3").status_code == 200
    ranked = _trending(served.url)
    assert ranked[0] == (KNOWN_ID, 2) and (stuffed, 1) in ranked


def test_the_vote_form_is_limited_too(served: Served) -> None:
    with served.client() as browser:
        token = csrf(browser, f"/papers/{KNOWN_ID}")
        codes = {browser.post(f"/papers/{KNOWN_ID}/vote", data={
            "csrf_token": token, "direction": d}).status_code
            for _ in range(ANONYMOUS_PER_HOUR // 2 + 1) for d in ("up", "undo")}
        assert 429 in codes


@pytest.fixture(scope="module")
def accounts_only(security_store: Path, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[Served]:
    yield from serve_copy(security_store, tmp_path_factory.mktemp("votes") / "data",
                          Settings(votes="accounts"))


def test_votes_from_accounts_only_when_configured(accounts_only: Served) -> None:
    anonymous = _fresh_browser_vote(accounts_only.url, KNOWN_ID)
    assert anonymous.status_code == 401 and "log in to vote" in anonymous.json()["message"]
    accounts_only.account("voter@example.org")
    with accounts_only.client() as browser:
        log_in(browser, "voter@example.org")
        voted = browser.post(f"/api/v1/papers/{KNOWN_ID}/vote",
                             headers={"X-CSRF-Token": csrf(browser, "/")})
        assert voted.status_code == 200 and voted.json()["votes"] == 1
