"""Sign-up by emailed link over real HTTP: the link's page only shows a button (mail
scanners open links), the button makes the account once and logs the browser in, and
sign-up requests are limited per address and per client (issue 11, defects 7 and 11)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from paperfeed.store import models as m
from tests.security.conftest import PASSWORD, Served, csrf, log_in
from tests.signup import confirm_signup, link_path, outbox_mails, request_signup


def _users(served: Served, email: str) -> int:
    with Session(served.catalog.store.engine) as s:
        return int(s.scalar(select(func.count()).select_from(m.User)
                            .where(m.User.email == email)) or 0)


def test_the_emailed_link_makes_the_account_only_when_its_button_is_pressed(
        served: Served) -> None:
    with served.client() as browser, served.client() as scanner:
        sent = request_signup(browser, "Linked@Example.org", name="Lin")
        assert sent.status_code == 200 and "Check your email" in sent.text
        assert browser.get("/api/v1/me").status_code == 401
        [mail] = outbox_mails(served.outbox, "linked@example.org")
        path = link_path(mail, "/signup/confirm/")
        assert mail.get_body(("plain",)) is not None
        # A mail scanner follows the link: a page with a button, no account.
        page = scanner.get(path)
        assert page.status_code == 200 and "Create my account" in page.text
        assert "linked@example.org" in page.text
        assert _users(served, "linked@example.org") == 0
        assert scanner.post(path, data={}).status_code == 403  # no CSRF token, no account
        assert _users(served, "linked@example.org") == 0
        done = confirm_signup(browser, served.outbox, "linked@example.org")
        assert done.status_code == 303 and done.headers["location"] == "/onboarding"
        cookie = next(c for c in done.headers.get_list("set-cookie") if "pf_session=" in c)
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        me = browser.get("/api/v1/me").json()
        assert (me["email"], me["name"]) == ("linked@example.org", "Lin")
        again = browser.post(path, data={"csrf_token": csrf(browser, "/signup")})
        assert again.status_code == 422 and "invalid, used or expired" in again.text
        assert scanner.get(path).status_code == 404
    assert _users(served, "linked@example.org") == 1
    with served.client() as other:
        log_in(other, "linked@example.org", PASSWORD)


def test_bad_input_is_named_and_nothing_is_mailed(served: Served) -> None:
    with served.client() as browser:
        short = request_signup(browser, "short@example.org", "short")
        assert short.status_code == 422 and "at least 10 characters" in short.text
        bad = request_signup(browser, "not-an-address")
        assert bad.status_code == 422 and "email:" in bad.text
    assert outbox_mails(served.outbox, "short@example.org", wait=0.5) == []


def test_the_fourth_signup_for_an_address_and_the_eleventh_from_a_client_are_refused(
        served: Served) -> None:
    with served.client() as browser:
        for i in range(3):
            assert request_signup(browser, "many@example.org",
                                  client_ip=f"10.50.0.{i}").status_code == 200
        refused = request_signup(browser, "many@example.org", client_ip="10.50.1.1")
        assert refused.status_code == 429 and "for one address" in refused.text
        assert 0 < int(refused.headers["retry-after"]) <= 3600
        for i in range(10):
            assert request_signup(browser, f"many-{i}@example.org",
                                  client_ip="10.51.0.1").status_code == 200
        eleventh = request_signup(browser, "many-10@example.org", client_ip="10.51.0.1")
        assert eleventh.status_code == 429 and "from one network address" in eleventh.text
        # The queue is first in, first out: once this last one is mailed, all are.
        assert request_signup(browser, "many-last@example.org",
                              client_ip="10.52.0.1").status_code == 200
        assert len(outbox_mails(served.outbox, "many-last@example.org")) == 1
    assert len(outbox_mails(served.outbox, "many@example.org", count=4, wait=0)) == 3
    assert outbox_mails(served.outbox, "many-10@example.org", wait=0) == []


def test_without_smtp_the_pages_say_where_the_mail_is(served: Served) -> None:
    with served.client() as browser:
        assert "outbox" in browser.get("/signup").text
        sent = request_signup(browser, "where@example.org")
        assert "outbox" in sent.text and "paperfeed account add" in sent.text
