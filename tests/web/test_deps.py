"""The web dependencies (web/deps.py) over every route the app has, through real HTTP: each
form post refuses a forged CSRF token, and each page that needs an account sends a
logged-out browser to log in and back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from paperfeed.web.app import ROUTERS
from paperfeed.web.deps import page_user
from paperfeed.web.forms import FORM_EXPIRED
from tests.signup import sign_up

pytestmark = pytest.mark.slow

PAPER = "2503.99992"  # one of the corpus's papers (tests/web/conftest.py)
# The pages of one's own things: without an account they are a log-in away.
ACCOUNT_PAGES = {"/account", "/account/digest", "/account/feeds", "/feed", "/library",
                 "/onboarding"}


@pytest.fixture(scope="module")
def page_routes() -> list[APIRoute]:
    """The app's HTML routes (everything outside /api/)."""
    return [r for router in ROUTERS for r in router.routes
            if isinstance(r, APIRoute) and not r.path.startswith("/api/")]


@pytest.fixture(scope="module")
def member(live_server: str, outbox: Path) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, timeout=60) as client:
        sign_up(client, outbox, "deps@example.org")
        yield client


def _calls(dependant: Dependant) -> Iterator[object]:
    """Every dependency a route runs, however deep."""
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def _url(path: str) -> str:
    """A route's path with its parameters filled in: a paper id for {ref}, else 1."""
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: PAPER if m[1] == "ref" else "1", path)


def test_every_form_post_refuses_a_forged_csrf_token(page_routes: list[APIRoute],
                                                     member: httpx.Client) -> None:
    posts = sorted({r.path for r in page_routes if "POST" in r.methods})
    assert len(posts) > 20  # the account, feed, library, digest, vote and import forms
    for path in posts:
        response = member.post(_url(path), data={"csrf_token": "forged"})
        if path == "/unsubscribe":
            # No CSRF token there on purpose: the signed token in the link is the authority.
            assert response.status_code == 400, response.text[:300]
            continue
        assert response.status_code == 403, (path, response.status_code, response.text[:300])
        if not path.endswith("/vote"):
            assert FORM_EXPIRED.split(":")[0] in response.text, path
    # The session survived every one of them: nothing was logged out or changed.
    assert member.get("/api/v1/me").json()["email"] == "deps@example.org"


def test_account_pages_send_a_logged_out_browser_to_log_in_and_back(
        page_routes: list[APIRoute], live_server: str, member: httpx.Client) -> None:
    needing = {r.path for r in page_routes
               if page_user in _calls(r.dependant)}
    assert needing == ACCOUNT_PAGES
    with httpx.Client(base_url=live_server, timeout=60) as anonymous:
        for path in sorted(needing):
            response = anonymous.get(path)
            assert response.status_code == 303, (path, response.status_code)
            assert response.headers["location"] == f"/login?next={path}"
            assert response.content == b""
            assert member.get(path).status_code == 200, path


def test_logged_out_writes_are_401_saying_what_for(live_server: str) -> None:
    with httpx.Client(base_url=live_server, timeout=60) as anonymous:
        rating = anonymous.put(f"/api/v1/papers/{PAPER}/rating", json={"value": 1})
        assert rating.status_code == 401
        assert rating.headers["www-authenticate"] == "Bearer"
        assert rating.json()["message"] == "log in (or send an API token) to rate and save papers"
        jobs = anonymous.get("/api/v1/jobs")
        assert jobs.status_code == 401
        assert jobs.json()["message"] == "log in (or send an API token) to see your imports"
