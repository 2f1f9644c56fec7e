"""Server-side sessions over a real store (SQLite, PostgreSQL): hashed tokens, expiry,
last-seen, ends."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from paperfeed.accounts import Accounts
from paperfeed.accounts.sessions import SESSION_LIFETIME
from tests.pg import read_rows

PASSWORD = "correct horse battery"
NOW = datetime(2026, 12, 3, 12, 0)


def _rows(data_dir: Path) -> list[tuple[int, str]]:
    return read_rows(data_dir, "select user_id, token_hash from sessions order by id")


def test_a_session_is_found_by_its_token_and_only_its_hash_is_stored(
        accounts: Accounts, data_dir: Path) -> None:
    account = accounts.sign_up("a@example.org", PASSWORD, "Ada")
    token = accounts.sessions.start(account.id, now=NOW)
    assert len(token) == 43
    [(user_id, stored)] = _rows(data_dir)
    assert user_id == account.id and token not in stored and len(stored) == 64
    live = accounts.sessions.find(token, now=NOW + timedelta(seconds=5))
    assert live is not None and live.account == account and not live.stale
    assert accounts.sessions.find(token[:-1] + ("A" if token[-1] != "A" else "B"),
                                  now=NOW) is None
    assert accounts.sessions.find("", now=NOW) is None
    assert accounts.sessions.find("x" * 5000, now=NOW) is None


def test_a_session_expires_after_thirty_days(accounts: Accounts) -> None:
    account = accounts.sign_up("a@example.org", PASSWORD)
    token = accounts.sessions.start(account.id, now=NOW)
    assert accounts.sessions.find(token, now=NOW + SESSION_LIFETIME - timedelta(minutes=1))
    assert accounts.sessions.find(token, now=NOW + SESSION_LIFETIME) is None


def test_last_seen_is_due_once_a_minute(accounts: Accounts) -> None:
    account = accounts.sign_up("a@example.org", PASSWORD)
    token = accounts.sessions.start(account.id, now=NOW)
    later = NOW + timedelta(minutes=2)
    live = accounts.sessions.find(token, now=later)
    assert live is not None and live.stale
    accounts.sessions.touch(live.id, now=later)
    again = accounts.sessions.find(token, now=later + timedelta(seconds=30))
    assert again is not None and not again.stale
    [info] = accounts.sessions.of_user(account.id, now=later)
    assert info.last_seen_at == later and info.created_at == NOW


def test_log_out_ends_one_session_and_end_all_ends_every_one(accounts: Accounts) -> None:
    account = accounts.sign_up("a@example.org", PASSWORD)
    other = accounts.sign_up("b@example.org", PASSWORD)
    first, second = (accounts.sessions.start(account.id, now=NOW) for _ in range(2))
    theirs = accounts.sessions.start(other.id, now=NOW)
    assert accounts.sessions.end(first)
    assert not accounts.sessions.end(first)
    assert accounts.sessions.find(first, now=NOW) is None
    assert accounts.sessions.find(second, now=NOW) is not None
    assert accounts.sessions.end_all(account.id) == 1
    assert accounts.sessions.find(second, now=NOW) is None
    assert accounts.sessions.find(theirs, now=NOW) is not None  # not someone else's


def test_expired_sessions_are_pruned_when_someone_logs_in(accounts: Accounts,
                                                         data_dir: Path) -> None:
    account = accounts.sign_up("a@example.org", PASSWORD)
    accounts.sessions.start(account.id, now=NOW)
    accounts.sessions.start(account.id, now=NOW + timedelta(days=10))
    assert len(_rows(data_dir)) == 2
    accounts.sessions.start(account.id, now=NOW + SESSION_LIFETIME + timedelta(days=1))
    assert len(_rows(data_dir)) == 2  # the first one went, the new one came
    assert accounts.sessions.prune(now=NOW + timedelta(days=100)) == 2
    assert _rows(data_dir) == []


def test_a_reset_ends_every_session(accounts: Accounts) -> None:
    account = accounts.sign_up("a@example.org", PASSWORD)
    browser = accounts.sessions.start(account.id)
    issued = accounts.request_reset("a@example.org")
    assert issued is not None
    accounts.reset_password(issued[1], "brand new password")
    assert accounts.sessions.find(browser) is None
    assert accounts.sessions.of_user(account.id) == []
