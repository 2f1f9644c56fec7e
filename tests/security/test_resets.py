"""Defects 4 and 7 (issue 11): old reset links stayed valid; reset requests had no limit.

The probe used one reset link and then an earlier one, which still worked, even after a
password change; and it sent 15 reset emails to one address in under a second. Every
test here goes through the real pages and reads the real outbox.
"""

from __future__ import annotations

import threading

import httpx

from tests.security.conftest import PASSWORD, Served, csrf, log_in
from tests.signup import link_path, outbox_mails


def _ask(client: httpx.Client, email: str, ip: str = "10.20.0.1") -> httpx.Response:
    return client.post("/reset", data={"email": email, "csrf_token": csrf(client, "/reset")},
                       headers={"X-Forwarded-For": ip})


def _links(served: Served, email: str, count: int) -> list[str]:
    mails = outbox_mails(served.outbox, email, count=count)
    assert len(mails) == count, f"{len(mails)} mails to {email}, expected {count}"
    return [link_path(m, "/reset/") for m in mails]


def _use(client: httpx.Client, path: str, new: str) -> httpx.Response:
    return client.post(path, data={"new": new, "csrf_token": csrf(client, path)})


def _settle(served: Served, client: httpx.Client) -> None:
    """Wait until every mail asked for so far has been dealt with: the queue is first in,
    first out, so once a marker asked for last has arrived, nothing earlier is pending."""
    marker = f"marker-{len(list(served.outbox.glob('*.eml')))}@example.org"
    served.account(marker)
    assert _ask(client, marker, ip="10.99.99.99").status_code == 200
    assert len(outbox_mails(served.outbox, marker)) == 1


def test_using_one_reset_link_kills_the_earlier_one(served: Served) -> None:
    served.account("two-links@example.org")
    with served.client() as anon:
        for _ in range(2):
            assert _ask(anon, "two-links@example.org").status_code == 200
        first, second = _links(served, "two-links@example.org", 2)
        assert first != second
        assert _use(anon, second, "the owner's new password").status_code == 303
        replay = _use(anon, first, "the attacker's password")
        assert replay.status_code == 422 and "invalid, used or expired" in replay.text
    with served.client() as other:
        log_in(other, "two-links@example.org", "the owner's new password")


def test_a_password_change_kills_outstanding_reset_links(served: Served) -> None:
    served.account("changed@example.org")
    with served.client() as anon, served.client() as owner:
        assert _ask(anon, "changed@example.org").status_code == 200
        [link] = _links(served, "changed@example.org", 1)
        log_in(owner, "changed@example.org")
        changed = owner.post("/account/password", data={
            "current": PASSWORD, "new": "changed after the leak",
            "csrf_token": csrf(owner, "/account")})
        assert changed.status_code == 303
        replay = _use(anon, link, "the attacker's password")
        assert replay.status_code == 422 and "invalid, used or expired" in replay.text
        assert anon.get("/api/v1/me").status_code == 401


def test_two_uses_of_one_link_at_once_succeed_once(served: Served) -> None:
    served.account("race@example.org")
    with served.client() as anon:
        assert _ask(anon, "race@example.org").status_code == 200
        [link] = _links(served, "race@example.org", 1)
    clients = [served.client() for _ in range(6)]
    tokens = [csrf(c, link) for c in clients]
    start = threading.Barrier(len(clients))
    statuses: list[int] = []

    def use(i: int) -> None:
        start.wait()
        statuses.append(clients[i].post(link, data={
            "new": f"racing password {i}", "csrf_token": tokens[i]}).status_code)

    threads = [threading.Thread(target=use, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in clients:
        c.close()
    assert sorted(statuses) == [303] + [422] * (len(clients) - 1)


def test_the_fourth_request_for_one_address_in_an_hour_is_refused(served: Served) -> None:
    served.account("flooded@example.org")
    with served.client() as anon:
        for i in range(3):
            assert _ask(anon, "flooded@example.org", ip=f"10.21.0.{i}").status_code == 200
        refused = _ask(anon, "flooded@example.org", ip="10.21.1.1")
        assert refused.status_code == 429 and "too many reset requests" in refused.text
        assert 0 < int(refused.headers["retry-after"]) <= 3600
        _settle(served, anon)
    assert len(outbox_mails(served.outbox, "flooded@example.org", count=4, wait=0)) == 3


def test_the_eleventh_request_from_one_client_in_an_hour_is_refused(served: Served) -> None:
    addresses = [f"client-{i}@example.org" for i in range(11)]
    for address in addresses:
        served.account(address)
    with served.client() as anon:
        for address in addresses[:10]:
            assert _ask(anon, address, ip="10.22.0.1").status_code == 200
        refused = _ask(anon, addresses[10], ip="10.22.0.1")
        assert refused.status_code == 429 and "from one network address" in refused.text
        assert _ask(anon, addresses[10], ip="10.22.0.2").status_code == 200  # another client
        _settle(served, anon)
    assert all(len(outbox_mails(served.outbox, a, wait=0)) == 1 for a in addresses)
