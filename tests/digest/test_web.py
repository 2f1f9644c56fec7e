"""The unsubscribe link of a received digest, and the digest setting, over real HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

import httpx
import pytest

from paperfeed.catalog import Catalog
from paperfeed.digest import send_digests, subscription, unsubscribe_token
from paperfeed.store import Store
from paperfeed.web import create_app
from paperfeed.web.digest_pages import router
from paperfeed.web.server import BackgroundServer
from tests.digest.conftest import DAY1, DAY2, SENDER, CategorySource, Smtp, Users, at
from tests.signup import sign_up


@pytest.fixture
def server(catalog: Catalog) -> Iterator[str]:
    app = create_app(catalog, warm_up=False)
    app.include_router(router)
    with BackgroundServer(app) as running:
        yield running.url


@pytest.fixture
def client(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=30) as client:
        yield client


def _send(store: Store, source: CategorySource, smtp: Smtp, server: str, day: object = DAY1
          ) -> None:
    send_digests(store, source, smtp.mailer, SENDER, base_url=server, now=at(day), k=5)


def _csrf(client: httpx.Client, path: str) -> str:
    found = re.search(r'name="csrf-token" content="([0-9a-f]+)"', client.get(path).text)
    assert found
    return found.group(1)


class _Forms(HTMLParser):
    """The forms of a page: action, method and hidden fields; and any inline script/style."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, object]] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action"), "method": a.get("method"),
                               "fields": {}})
        elif tag == "input" and a.get("type") == "hidden" and self.forms:
            fields = self.forms[-1]["fields"]
            assert isinstance(fields, dict)
            fields[a.get("name")] = a.get("value")
        if tag == "style" or (tag == "script" and "src" not in a) or "style" in a or any(
                k.startswith("on") for k in a):
            self.inline.append(tag)


def _forms(html: str) -> _Forms:
    parser = _Forms()
    parser.feed(html)
    return parser


def test_the_unsubscribe_link_in_the_email_works(store: Store, users: Users,
                                                 source: CategorySource, smtp: Smtp,
                                                 server: str, client: httpx.Client) -> None:
    _send(store, source, smtp, server)
    [mail] = smtp.inbox.to(users.bob.email)
    body = mail.get_body(("plain",))
    assert body is not None
    link = re.search(r"(http://\S+/unsubscribe\?token=\S+)", body.get_content())
    assert link
    # Opening the link only asks: a link scanner's GET must not unsubscribe anyone.
    page = client.get(link.group(1))
    assert page.status_code == 200 and "Stop the paperfeed digest" in page.text
    assert subscription(store, users.bob.id).frequency == "daily"
    parsed = _forms(page.text)
    assert not parsed.inline
    [form] = [f for f in parsed.forms if f["action"] == "/unsubscribe"]
    assert form["method"] == "post"
    fields = form["fields"]
    assert isinstance(fields, dict)
    done = client.post("/unsubscribe", data=fields)
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    assert subscription(store, users.bob.id).frequency == "off"
    # The next day's run sends bob nothing; alice still gets hers.
    _send(store, source, smtp, server, DAY2)
    assert len(smtp.inbox.to(users.bob.email)) == 1
    assert len(smtp.inbox.to(users.alice.email)) == 2


def test_one_click_post_to_the_list_unsubscribe_header(store: Store, users: Users,
                                                       source: CategorySource, smtp: Smtp,
                                                       server: str) -> None:
    _send(store, source, smtp, server)
    [mail] = smtp.inbox.to(users.alice.email)
    url = mail["List-Unsubscribe"].strip("<>")
    # What a mail client does (RFC 8058): a POST with no cookies and no CSRF token.
    with httpx.Client(timeout=30) as mail_client:
        response = mail_client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and "unsubscribed" in response.text
    assert subscription(store, users.alice.id).frequency == "off"
    assert subscription(store, users.alice.id).unsubscribed_at is not None


def test_tampered_tokens_are_refused(store: Store, users: Users, client: httpx.Client) -> None:
    token = unsubscribe_token(store.secret_key(), users.bob.id)
    payload, signature = token.split(".")
    other = unsubscribe_token(b"not this installation's key", users.bob.id)
    flipped = signature[:-3] + ("A" if signature[-3] != "A" else "B") + signature[-2:]
    for bad in (payload + "." + flipped, other, token[:20], "", "x" * 5000,
                unsubscribe_token(store.secret_key(), 999)):  # no such account
        page = client.get("/unsubscribe", params={"token": bad})
        assert page.status_code == 400 and "not valid" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert client.post("/unsubscribe", params={"token": bad}).status_code == 400
        assert client.post("/unsubscribe", data={"token": bad}).status_code == 400
    assert client.post("/unsubscribe").status_code == 400
    assert subscription(store, users.bob.id).frequency == "daily"


def test_the_digest_setting_form(store: Store, server: str, client: httpx.Client) -> None:
    anonymous = client.get("/account/digest")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    signup = sign_up(client, store.data_dir / "outbox", "dana@example.org",
                     "a long enough password", "Dana")
    assert signup.status_code == 303
    page = client.get("/account/digest")
    assert page.status_code == 200 and 'value="daily" checked' in page.text
    assert not _forms(page.text).inline
    user_id = int(client.get("/api/v1/me").json()["id"])
    assert client.post("/account/digest", data={"frequency": "weekly"}).status_code == 403
    with httpx.Client(base_url=server, timeout=30) as stranger:
        refused = stranger.post("/account/digest", data={
            "frequency": "off", "csrf_token": _csrf(stranger, "/login")})
    assert refused.status_code == 401
    token = _csrf(client, "/account/digest")
    saved = client.post("/account/digest", data={"frequency": "weekly", "csrf_token": token})
    assert saved.status_code == 200 and 'value="weekly" checked' in saved.text
    assert subscription(store, user_id).frequency == "weekly"
    wrong = client.post("/account/digest", data={"frequency": "hourly", "csrf_token": token})
    assert wrong.status_code == 422 and "frequency" in wrong.text
    assert subscription(store, user_id).frequency == "weekly"



def test_the_send_hour_and_time_zone_are_set_on_the_form(store: Store, server: str,
                                                         client: httpx.Client) -> None:
    sign_up(client, store.data_dir / "outbox", "erin@example.org", "a long enough password",
            "Erin")
    user_id = int(client.get("/api/v1/me").json()["id"])
    page = client.get("/account/digest")
    assert '<option value="7" selected>' in page.text and 'value="UTC"' in page.text
    token = _csrf(client, "/account/digest")
    saved = client.post("/account/digest", data={
        "frequency": "daily", "hour": "18", "timezone": "Asia/Tokyo", "csrf_token": token})
    assert saved.status_code == 200 and '<option value="18" selected>' in saved.text
    current = subscription(store, user_id)
    assert (current.hour, current.timezone) == (18, "Asia/Tokyo")
    for bad in ({"hour": "24"}, {"hour": "x"}, {"timezone": "Mars/Olympus"},
                {"timezone": "../../etc/passwd"}):
        wrong = client.post("/account/digest", data={"frequency": "daily", **bad,
                                                      "csrf_token": token})
        assert wrong.status_code == 422 and ("hour" in wrong.text or "time zone" in wrong.text)
    current = subscription(store, user_id)
    assert (current.hour, current.timezone) == (18, "Asia/Tokyo")
