"""Per-request cost of a server-side session, against the signed cookie it replaced.

What it measures
    Every request with a `pf_session` cookie looks its session up: one read by the unique
    index on sessions.token_hash, joined to the user by primary key
    (`paperfeed.accounts.Sessions.find`). The baseline, timed in the same run on the same
    store, is what each request cost before: verifying an itsdangerous signed, timestamped
    cookie and reading the user by primary key. Both are timed over the same number of
    look-ups of random live sessions among --sessions rows (default 20,000, the sessions
    of a large installation), after a warm-up; the output gives the median and p95 in
    microseconds and the ratio new / baseline.

How to run
        PYTHONPATH=src .venv/bin/python benchmarks/bench_sessions.py
        PYTHONPATH=src .venv/bin/python benchmarks/bench_sessions.py --sessions 100000

    It builds a throw-away store in a temporary folder; no real data is needed.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from argon2 import PasswordHasher
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import insert
from sqlalchemy.orm import Session

from paperfeed.accounts import Accounts
from paperfeed.accounts.core import digest, new_token
from paperfeed.clock import utc_now
from paperfeed.store import Store
from paperfeed.store import models as m


def _time(calls: list[Callable[[], object]]) -> list[float]:
    """Microseconds per call."""
    out = []
    for call in calls:
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1e6)
    return out


def _summary(name: str, micros: list[float]) -> float:
    median = statistics.median(micros)
    p95 = statistics.quantiles(micros, n=20)[-1]
    print(f"{name:<34} median {median:8.1f} us   p95 {p95:8.1f} us")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--lookups", type=int, default=5_000)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp)) as store:
        # A cheap hasher for the set-up only: what is timed never hashes a password.
        accounts = Accounts(store, hasher=PasswordHasher(time_cost=1, memory_cost=8,
                                                         parallelism=1))
        users = [accounts.sign_up(f"user{i}@example.org", "a long enough password").id
                 for i in range(args.users)]
        now = utc_now()
        tokens = [new_token() for _ in range(args.sessions)]
        owners = [random.Random(i).choice(users) for i in range(args.sessions)]
        with Session(store.engine) as s, s.begin():
            s.execute(insert(m.UserSession), [
                {"user_id": u, "token_hash": digest(t), "created_at": now,
                 "last_seen_at": now, "expires_at": now + timedelta(days=30)}
                for t, u in zip(tokens, owners, strict=True)])
        rng = random.Random(7)
        picks = [rng.randrange(args.sessions) for _ in range(args.lookups)]
        signer = URLSafeTimedSerializer(b"x" * 32, salt="paperfeed.session")
        cookies = [signer.dumps({"u": owners[i], "e": 0}) for i in picks]

        def old(cookie: str) -> object:
            data = signer.loads(cookie, max_age=30 * 24 * 3600)
            return accounts.get(data["u"])

        new_calls: list[Callable[[], object]] = [
            (lambda t=tokens[i]: accounts.sessions.find(t)) for i in picks]
        old_calls: list[Callable[[], object]] = [(lambda c=c: old(c)) for c in cookies]
        _time(new_calls[:500])  # warm-up: connection pool, statement cache
        _time(old_calls[:500])
        assert all(call() is not None for call in new_calls[:100])
        print(f"{args.sessions} sessions of {args.users} users, {args.lookups} look-ups each")
        baseline = _summary("signed cookie + user by id (before)", _time(old_calls))
        current = _summary("session row by token hash (now)", _time(new_calls))
        print(f"ratio now / before: {current / baseline:.2f}")


if __name__ == "__main__":
    main()
