"""Defect 11 (issue 11): sign-up and reset told who has an account.

The probe saw sign-up answer "an account with this address exists", and reset answer an
existing address in 6.6 ms against 3.9 ms for an unknown one (the mail was sent while the
browser waited). Now both forms answer the same page, with the same status, in the same
time, and every mail is sent by the app's mail queue after the answer. The tests replay
the probe over real HTTP, with a real SMTP server on loopback where timing matters.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import httpx
import pytest

from tests.security.conftest import PASSWORD, Served, csrf
from tests.signup import link_path, outbox_mails, request_signup
from tests.smtp import loopback_smtp

CSRF_VALUE = re.compile(r'(name="csrf_token" value="|name="csrf-token" content=")[0-9a-f]+"')


def _page(response: httpx.Response) -> tuple[int, str]:
    """Status and body, the browser's own CSRF token blanked out."""
    return response.status_code, CSRF_VALUE.sub(r'\1"', response.text)


def _reset(client: httpx.Client, email: str, ip: str) -> httpx.Response:
    return client.post("/reset", data={"email": email, "csrf_token": csrf(client, "/reset")},
                       headers={"X-Forwarded-For": ip})


class _Smtp:
    """An SMTP server that keeps what it receives; `gate` cleared holds every message
    before it is accepted, `delay` makes each one take that long (a real server's
    TLS handshake and checks take 50-500 ms)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.gate = threading.Event()
        self.gate.set()
        self.delay = 0.0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        while not self.gate.is_set():
            await asyncio.sleep(0.01)
        await asyncio.sleep(self.delay)
        content: bytes = envelope.content  # type: ignore[attr-defined]
        self.messages.append(message_from_bytes(content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"

    def wait_for(self, count: int, wait: float = 60.0) -> list[EmailMessage]:
        deadline = time.monotonic() + wait
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Smtp]:
    server = _Smtp()
    with loopback_smtp(server) as port:
        # The served app reads the mail settings for each message it sends.
        monkeypatch.setenv("PAPERFEED_SMTP_URL", f"smtp://127.0.0.1:{port}")
        monkeypatch.setenv("PAPERFEED_MAIL_FROM", "paperfeed <feed@example.org>")
        try:
            yield server
        finally:
            server.gate.set()


def test_sign_up_answers_the_same_page_for_a_taken_and_a_free_address(served: Served) -> None:
    served.account("taken@example.org")
    with served.client() as one, served.client() as two:
        taken = request_signup(one, "taken@example.org", "a brand new password")
        free = request_signup(two, "free@example.org", "a brand new password")
    assert _page(taken) == _page(free)
    assert taken.status_code == 200 and "Check your email" in taken.text
    assert "exists" not in taken.text
    # The difference is in the mail, which only the address's owner reads.
    [already] = outbox_mails(served.outbox, "taken@example.org")
    body = already.get_body(("plain",))
    assert body is not None and "you already have one" in body.get_content()
    assert link_path(already, "/login") and link_path(already, "/reset")
    [confirm] = outbox_mails(served.outbox, "free@example.org")
    assert link_path(confirm, "/signup/confirm/")


def test_reset_answers_the_same_page_for_a_known_and_an_unknown_address(
        served: Served) -> None:
    served.account("known@example.org")
    with served.client() as one, served.client() as two:
        known = _reset(one, "known@example.org", "10.30.0.1")
        unknown = _reset(two, "unknown@example.org", "10.30.0.2")
    assert _page(known) == _page(unknown)
    assert known.status_code == 200 and "known@" not in known.text


def test_over_the_limit_the_answer_is_the_same_for_every_address(served: Served) -> None:
    served.account("limited@example.org")
    pages = []
    for address in ("limited@example.org", "nobody-limited@example.org"):
        with served.client() as client:
            for i in range(3):
                assert _reset(client, address, f"10.31.{len(pages)}.{i}").status_code == 200
                assert request_signup(client, address).status_code == 200
            pages.append((_page(_reset(client, address, "10.31.9.9")),
                          _page(request_signup(client, address))))
    assert pages[0] == pages[1]
    (reset_status, _), (signup_status, _) = pages[0]
    assert reset_status == signup_status == 429


def test_no_mail_is_sent_while_the_browser_waits(served: Served, smtp: _Smtp) -> None:
    """Structural: with the mail server holding every message, the answers still come
    (so no request waits for mail); the mail follows once the server lets it through."""
    served.account("held@example.org")
    smtp.gate.clear()
    with httpx.Client(base_url=served.url, timeout=10) as client:
        answers = [request_signup(client, "held@example.org"),
                   request_signup(client, "held-free@example.org"),
                   _reset(client, "held@example.org", "10.32.0.1"),
                   _reset(client, "held-nobody@example.org", "10.32.0.2")]
    assert [a.status_code for a in answers] == [200] * 4
    assert smtp.messages == []  # answered while every message was still held
    smtp.gate.set()
    received = smtp.wait_for(3)
    assert sorted(str(m["To"]) for m in received) == [
        "held-free@example.org", "held@example.org", "held@example.org"]


def test_answers_take_the_same_time_for_taken_and_free_addresses(
        served: Served, smtp: _Smtp) -> None:
    """Interleaved requests, 30 each: the medians differ by less than a generous 40 ms
    (a sign-up's argon2 hash alone varies that much on a busy machine), while every mail
    takes the SMTP server 100 ms, which the old reset spent in the request for existing
    addresses only."""
    n = 30
    smtp.delay = 0.1
    for i in range(n):
        served.account(f"timed-{i}@example.org")
    times: dict[str, list[float]] = {"signup-taken": [], "signup-free": [],
                                     "reset-known": [], "reset-unknown": []}
    statuses: dict[str, set[int]] = {k: set() for k in times}
    with served.client() as client:
        token = csrf(client, "/signup")

        def timed(kind: str, path: str, data: dict[str, str], ip: str) -> None:
            start = time.perf_counter()
            response = client.post(path, data={**data, "csrf_token": token},
                                   headers={"X-Forwarded-For": ip})
            times[kind].append(time.perf_counter() - start)
            statuses[kind].add(response.status_code)

        for i in range(n):
            pairs = [("signup-taken", f"timed-{i}@example.org"),
                     ("signup-free", f"timed-free-{i}@example.org")]
            for kind, address in pairs if i % 2 else pairs[::-1]:
                timed(kind, "/signup", {"email": address, "name": "T", "password": PASSWORD},
                      f"10.40.{i}.{len(times[kind])}")
            pairs = [("reset-known", f"timed-{i}@example.org"),
                     ("reset-unknown", f"timed-nobody-{i}@example.org")]
            for kind, address in pairs if i % 2 else pairs[::-1]:
                timed(kind, "/reset", {"email": address}, f"10.41.{i}.{len(times[kind])}")
    medians = {k: statistics.median(v) * 1000 for k, v in times.items()}
    print("median ms:", {k: round(v, 2) for k, v in medians.items()})
    assert abs(medians["reset-known"] - medians["reset-unknown"]) < 40, medians
    assert all(s == {200} for s in statuses.values()), statuses
    assert abs(medians["signup-taken"] - medians["signup-free"]) < 40, medians
    # Every mail still went out: 2n sign-up mails, n reset mails (none for unknown ones).
    assert len(smtp.wait_for(3 * n)) == 3 * n
