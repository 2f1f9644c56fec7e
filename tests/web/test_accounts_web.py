"""Accounts over real HTTP: sessions, CSRF, log-in limits, tokens, reset by real SMTP."""

from __future__ import annotations

import email
import re
import time
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperfeed.accounts import Accounts
from paperfeed.catalog import Catalog
from tests.signup import PASSWORD, outbox_mails, request_signup, sign_up
from tests.signup import csrf as _csrf
from tests.smtp import loopback_smtp

pytestmark = pytest.mark.slow


def _signup(client: httpx.Client, outbox: Path, address: str, password: str = PASSWORD
            ) -> httpx.Response:
    """Sign up and in through the form and the emailed link (the confirm response)."""
    return sign_up(client, outbox, address, password)


@pytest.fixture
def browser(live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, timeout=60) as client:
        yield client


def _new_browser(live_server: str) -> httpx.Client:
    return httpx.Client(base_url=live_server, timeout=60)


def test_sign_up_logs_in_with_a_safe_session_cookie(browser: httpx.Client,
                                                   outbox: Path) -> None:
    response = _signup(browser, outbox, "ada@example.org")
    assert response.status_code == 303 and response.headers["location"] == "/onboarding"
    cookie = next(c for c in response.headers.get_list("set-cookie") if "pf_session=" in c)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert browser.get("/api/v1/me").json()["email"] == "ada@example.org"
    page = browser.get("/account")
    assert page.status_code == 200 and "ada@example.org" in page.text
    # Again for a taken address: the same page as ever, and its owner is told by mail.
    again = request_signup(browser, "ADA@example.org")
    assert again.status_code == 200 and "Check your email" in again.text
    mails = outbox_mails(outbox, "ada@example.org", count=2)
    assert "Your paperfeed account" in str(mails[-1]["Subject"])


def test_forms_without_this_browsers_csrf_token_are_refused(browser: httpx.Client,
                                                            live_server: str) -> None:
    no_token = browser.post("/signup", data={"email": "x@example.org", "password": PASSWORD})
    assert no_token.status_code == 403
    with _new_browser(live_server) as other:
        foreign = browser.post("/login", data={"email": "x@example.org", "password": PASSWORD,
                                               "csrf_token": _csrf(other)})
    assert foreign.status_code == 403
    assert browser.post("/logout", data={}).status_code == 403


def test_wrong_passwords_past_the_limit_are_refused_with_retry_after(
        browser: httpx.Client, outbox: Path) -> None:
    _signup(browser, outbox, "limit@example.org")
    token = _csrf(browser, "/login")
    for _ in range(5):
        wrong = browser.post("/login", data={"email": "limit@example.org",
                                             "password": "not the password", "csrf_token": token})
        assert wrong.status_code == 401 and "wrong email or password" in wrong.text
    locked = browser.post("/login", data={"email": "limit@example.org", "password": PASSWORD,
                                          "csrf_token": token})
    assert locked.status_code == 429 and "too many failed log-ins" in locked.text
    assert 0 < int(locked.headers["retry-after"]) <= 900


def test_log_out_and_password_change_end_sessions(live_server: str, outbox: Path) -> None:
    with _new_browser(live_server) as first, _new_browser(live_server) as second:
        _signup(first, outbox, "multi@example.org")
        token = _csrf(second, "/login")
        second.post("/login", data={"email": "multi@example.org", "password": PASSWORD,
                                    "csrf_token": token})
        assert second.get("/api/v1/me").status_code == 200
        changed = first.post("/account/password", data={
            "current": PASSWORD, "new": "another long password", "csrf_token": _csrf(first)})
        assert changed.status_code == 303
        assert first.get("/api/v1/me").status_code == 200   # this browser stays in
        assert second.get("/api/v1/me").status_code == 401  # the other one is out
        first.post("/logout", data={"csrf_token": _csrf(first)})
        assert first.get("/api/v1/me").status_code == 401
        forged = httpx.get(f"{live_server}/api/v1/me",
                           cookies={"pf_session": "eyJ1IjoxLCJlIjowfQ.forged.sig"})
        assert forged.status_code == 401


def test_api_tokens_authenticate_and_stop_when_revoked(browser: httpx.Client,
                                                       live_server: str, outbox: Path) -> None:
    _signup(browser, outbox, "tokens@example.org")
    page = browser.post("/account/tokens", data={"name": "script", "csrf_token":
                                                 _csrf(browser, "/account")})
    token = re.search(r'<code class="token">(pf_[^<]+)</code>', page.text)
    assert token, page.text
    bearer = {"Authorization": f"Bearer {token.group(1)}"}
    assert httpx.get(f"{live_server}/api/v1/me", headers=bearer).json()[
        "email"] == "tokens@example.org"
    voted = httpx.post(f"{live_server}/api/v1/papers/2503.11731/vote", headers=bearer)
    assert voted.status_code == 200 and voted.json()["voted"]
    token_id = re.search(r'action="/account/tokens/(\d+)/revoke"', page.text)
    assert token_id
    browser.post(f"/account/tokens/{token_id.group(1)}/revoke",
                 data={"csrf_token": _csrf(browser, "/account")})
    assert httpx.get(f"{live_server}/api/v1/me", headers=bearer).status_code == 401
    assert httpx.post(f"{live_server}/api/v1/papers/2503.11731/vote",
                      headers=bearer).status_code == 403
    assert httpx.get(f"{live_server}/api/v1/me",
                     headers={"Authorization": "Bearer pf_forged"}).status_code == 401


def test_an_account_votes_once_whatever_the_browser(live_server: str, outbox: Path) -> None:
    with _new_browser(live_server) as one, _new_browser(live_server) as two:
        _signup(one, outbox, "voter@example.org")
        two.post("/login", data={"email": "voter@example.org", "password": PASSWORD,
                                 "csrf_token": _csrf(two, "/login")})
        before = one.get("/api/v1/papers/2503.99992").json()["votes"]
        for client in (one, two):
            client.post("/papers/2503.99992/vote", data={"csrf_token": _csrf(client, "/")})
        after = two.get("/api/v1/papers/2503.99992").json()
        assert after["votes"] == before + 1 and after["voted"]


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Inbox]:
    inbox = _Inbox()
    with loopback_smtp(inbox) as port:
        monkeypatch.setenv("PAPERFEED_SMTP_URL", f"smtp://127.0.0.1:{port}")
        monkeypatch.setenv("PAPERFEED_MAIL_FROM", "paperfeed <feed@example.org>")
        yield inbox


def test_password_reset_by_email_works_once(browser: httpx.Client, live_server: str,
                                            web_catalog: Catalog, smtp: _Inbox) -> None:
    # Made directly: with SMTP configured, a sign-up link would land in this inbox too.
    Accounts(web_catalog.store).sign_up("reset@example.org", PASSWORD, "Ada")
    browser.post("/login", data={"email": "reset@example.org", "password": PASSWORD,
                                 "csrf_token": _csrf(browser, "/login")})
    assert browser.get("/api/v1/me").status_code == 200
    with _new_browser(live_server) as anon:
        unknown = anon.post("/reset", data={"email": "nobody@example.org",
                                            "csrf_token": _csrf(anon, "/reset")})
        known = anon.post("/reset", data={"email": "reset@example.org",
                                          "csrf_token": _csrf(anon, "/reset")})
        # The same answer for both: the form does not tell who has an account.
        assert unknown.text == known.text
        deadline = time.monotonic() + 10
        while not smtp.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        [mail] = smtp.messages
        assert mail["To"] == "reset@example.org" and "Reset" in mail["Subject"]
        link = re.search(r"(http://\S+/reset/\S+)", mail.get_payload(decode=True).decode())
        assert link
        path = httpx.URL(link.group(1)).path
        assert anon.get(path).status_code == 200
        done = anon.post(path, data={"new": "a fresh new password",
                                     "csrf_token": _csrf(anon, path)})
        assert done.status_code == 303
        assert anon.get("/api/v1/me").json()["email"] == "reset@example.org"
        reused = anon.post(path, data={"new": "yet another password",
                                       "csrf_token": _csrf(anon, path)})
        assert reused.status_code == 422 and "invalid, used or expired" in reused.text
    # The old session of the first browser ended with the reset.
    assert browser.get("/api/v1/me").status_code == 401


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from(["/signup", "/login", "/reset", "/reset/not-a-token"]),
       fields=st.dictionaries(st.sampled_from(["email", "password", "name", "new", "next"]),
                              st.one_of(st.text(max_size=80), st.just("x" * 3000),
                                        st.just("<script>alert(1)</script>@example.org")),
                              max_size=4),
       last_octet=st.integers(1, 254))
def test_account_forms_never_fail_on_any_input(live_server: str, path: str,
                                               fields: dict[str, str], last_octet: int) -> None:
    with _new_browser(live_server) as client:
        data = {**fields, "csrf_token": _csrf(client, "/login")}
        # A different client address each time, so this test does not trip the
        # per-address log-in limit for the others (uvicorn trusts loopback proxies).
        response = client.post(path, data=data,
                               headers={"X-Forwarded-For": f"10.7.0.{last_octet}"})
    assert response.status_code in (200, 303, 401, 422, 429), (path, fields,
                                                               response.status_code)
    assert "<script>alert(1)</script>" not in response.text
