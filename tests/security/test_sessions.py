"""Defect 3 (issue 11): log-out did not end the session; sessions now live in the store.

The probe saved a session cookie, logged out, and replayed the cookie: /api/v1/me still
answered 200, for 30 days. Each test replays that, or the same with a password change,
a reset, or "log out everywhere", against the real server, and looks at the sessions
table itself.
"""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from paperfeed.store import models as m
from tests.security.conftest import PASSWORD, Served, csrf, log_in
from tests.signup import link_path, outbox_mails


def _cookie(client: httpx.Client) -> str:
    value = client.cookies.get("pf_session")
    assert value, "no session cookie"
    return value


def _me(served: Served, cookie: str) -> int:
    """The status of /api/v1/me for a bare replay of a session cookie."""
    with served.client(cookies={"pf_session": cookie}) as replay:
        return replay.get("/api/v1/me").status_code


def _sessions(served: Served, email: str) -> int:
    with Session(served.catalog.store.engine) as s:
        return int(s.scalar(select(func.count()).select_from(m.UserSession)
                            .join(m.User, m.User.id == m.UserSession.user_id)
                            .where(m.User.email == email)) or 0)


def test_a_saved_cookie_is_refused_after_log_out(served: Served) -> None:
    served.account("logout@example.org")
    with served.client() as browser:
        log_in(browser, "logout@example.org")
        saved = _cookie(browser)
        assert _me(served, saved) == 200
        out = browser.post("/logout", data={"csrf_token": csrf(browser, "/account")})
        assert out.status_code == 303
        assert browser.get("/api/v1/me").status_code == 401
    assert _me(served, saved) == 401  # the attack: the copied cookie is worth nothing now
    assert _sessions(served, "logout@example.org") == 0
    # And a new log-in is one row again.
    with served.client() as browser:
        log_in(browser, "logout@example.org")
        assert _sessions(served, "logout@example.org") == 1


def test_the_cookie_is_a_random_token_the_store_keeps_only_hashed(served: Served) -> None:
    served.account("hashed@example.org")
    with served.client() as browser:
        log_in(browser, "hashed@example.org")
        token = _cookie(browser)
    with Session(served.catalog.store.engine) as s:
        stored = list(s.scalars(select(m.UserSession.token_hash)))
    assert len(token) == 43 and stored and all(token not in h for h in stored)
    # A signed cookie of the old kind, or any guess, opens nothing.
    assert _me(served, "eyJ1IjoxLCJlIjowfQ.forged.sig") == 401
    assert _me(served, token[:-2] + "AA") == 401


def test_a_password_change_ends_every_other_session_server_side(served: Served) -> None:
    served.account("change@example.org")
    with served.client() as first, served.client() as second:
        log_in(first, "change@example.org")
        log_in(second, "change@example.org")
        before = _cookie(first)
        assert _sessions(served, "change@example.org") == 2
        changed = first.post("/account/password", data={
            "current": PASSWORD, "new": "another long password",
            "csrf_token": csrf(first, "/account")})
        assert changed.status_code == 303
        assert first.get("/api/v1/me").status_code == 200  # a fresh session for this one
        assert _cookie(first) != before
        assert second.get("/api/v1/me").status_code == 401
    assert _me(served, before) == 401
    assert _sessions(served, "change@example.org") == 1


def test_a_reset_ends_every_session_server_side(served: Served) -> None:
    served.account("resetme@example.org")
    with served.client() as first, served.client() as second, served.client() as anon:
        log_in(first, "resetme@example.org")
        log_in(second, "resetme@example.org")
        kept = [_cookie(first), _cookie(second)]
        asked = anon.post("/reset", data={"email": "resetme@example.org",
                                          "csrf_token": csrf(anon, "/reset")})
        assert asked.status_code == 200
        [mail] = outbox_mails(served.outbox, "resetme@example.org")
        path = link_path(mail, "/reset/")
        done = anon.post(path, data={"new": "a fresh new password",
                                     "csrf_token": csrf(anon, path)})
        assert done.status_code == 303
        assert anon.get("/api/v1/me").json()["email"] == "resetme@example.org"
    assert [_me(served, c) for c in kept] == [401, 401]
    assert _sessions(served, "resetme@example.org") == 1  # the browser that reset it


def test_log_out_everywhere_ends_every_session(served: Served) -> None:
    served.account("everywhere@example.org")
    with served.client() as first, served.client() as second:
        log_in(first, "everywhere@example.org")
        log_in(second, "everywhere@example.org")
        page = first.get("/account")
        assert page.text.count("this browser") == 1 and "Log out everywhere" in page.text
        ended = first.post("/account/sessions/end", data={"csrf_token": csrf(first, "/account")})
        assert ended.status_code == 303
        assert first.get("/api/v1/me").status_code == 401
        assert second.get("/api/v1/me").status_code == 401
    assert _sessions(served, "everywhere@example.org") == 0


def test_logging_in_again_replaces_the_browsers_session(served: Served) -> None:
    served.account("again@example.org")
    with served.client() as browser:
        log_in(browser, "again@example.org")
        first = _cookie(browser)
        log_in(browser, "again@example.org")
        assert _cookie(browser) != first
    assert _me(served, first) == 401
    assert _sessions(served, "again@example.org") == 1
