"""Defect 10 (issue 11): concurrent wrong passwords got past the log-in limit.

Fixed on main before this slice (each attempt is counted atomically before its password
is checked); replayed here over real HTTP so it stays fixed: 16 wrong passwords sent at
once, and at most 5 of them are checked, the rest refused with 429.
"""

from __future__ import annotations

import threading

from tests.security.conftest import PASSWORD, Served, csrf


def test_sixteen_concurrent_wrong_passwords_get_five_checks(served: Served) -> None:
    served.account("raced@example.org")
    clients = [served.client() for _ in range(16)]
    tokens = [csrf(c, "/login") for c in clients]
    start = threading.Barrier(len(clients))
    statuses: list[int] = []

    def guess(i: int) -> None:
        start.wait()
        statuses.append(clients[i].post("/login", data={
            "email": "raced@example.org", "password": f"guess number {i}",
            "csrf_token": tokens[i]}).status_code)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [401] * 5 + [429] * 11, sorted(statuses)
    # Locked now: even the right password waits for the window to pass.
    locked = clients[0].post("/login", data={"email": "raced@example.org",
                                             "password": PASSWORD, "csrf_token": tokens[0]})
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    for c in clients:
        c.close()
