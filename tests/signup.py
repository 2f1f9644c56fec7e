"""Signing up through the real pages, as a person would: the form, the emailed link, the
confirm button. For tests whose server writes mail to its outbox folder (no SMTP)."""

from __future__ import annotations

import re
import secrets
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import httpx

PASSWORD = "a long enough password"


def csrf(client: httpx.Client, path: str = "/signup") -> str:
    """This browser's CSRF token, from a page's meta tag."""
    found = re.search(r'name="csrf-token" content="([0-9a-f]+)"', client.get(path).text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def outbox_mails(outbox: Path, to: str, *, count: int = 1, wait: float = 10.0
                 ) -> list[EmailMessage]:
    """The messages to `to` in an outbox folder, oldest first, waiting up to `wait` s for
    at least `count` of them (the app sends mail after it answers)."""
    deadline = time.monotonic() + wait
    while True:
        found = []
        paths = sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns) \
            if outbox.exists() else []
        for path in paths:
            msg = message_from_bytes(path.read_bytes(), policy=policy.default)
            if to.lower() == str(msg["To"]).lower():
                found.append(msg)
        if len(found) >= count or time.monotonic() > deadline:
            return found  # type: ignore[return-value]
        time.sleep(0.05)


def link_path(msg: EmailMessage, route: str) -> str:
    """The path of the link in a message whose path starts with `route` (/reset/ ...)."""
    body = msg.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    paths = [httpx.URL(url).path for url in re.findall(r"https?://\S+", text)]
    found = [p for p in paths if p.startswith(route)]
    assert found, f"no {route} link in {text!r}"
    return found[0]


def request_signup(client: httpx.Client, address: str, password: str = PASSWORD,
                   name: str = "Ada", *, client_ip: str | None = None) -> httpx.Response:
    """POST the sign-up form. Each request comes from its own client address unless one
    is given (X-Forwarded-For, which the server trusts from loopback), so a suite's many
    sign-ups stay under the per-client limit."""
    ip = client_ip or f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}." \
                      f"{secrets.randbelow(250) + 1}"
    return client.post("/signup", data={"email": address, "name": name, "password": password,
                                        "csrf_token": csrf(client, "/signup")},
                       headers={"X-Forwarded-For": ip})


def confirm_signup(client: httpx.Client, outbox: Path, address: str) -> httpx.Response:
    """Open the newest sign-up link mailed to `address` and press its button."""
    mails = [m for m in outbox_mails(outbox, address)
             if "Confirm your paperfeed account" in str(m["Subject"])]
    assert mails, f"no sign-up link was mailed to {address}"
    path = link_path(mails[-1], "/signup/confirm/")
    return client.post(path, data={"csrf_token": csrf(client, path)})


def sign_up(client: httpx.Client, outbox: Path, address: str, password: str = PASSWORD,
            name: str = "Ada") -> httpx.Response:
    """Sign `client` up and in through the form and the emailed link; the confirm
    response (303 to /onboarding, with the session cookie)."""
    sent = request_signup(client, address, password, name)
    assert sent.status_code == 200 and "Check your email" in sent.text, sent.text[:500]
    done = confirm_signup(client, outbox, address)
    assert done.status_code == 303, done.text[:500]
    return done
