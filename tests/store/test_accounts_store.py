"""The account repository over a real SQLite file: plain values out, atomic steps whole."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from paperfeed.store import Store
from paperfeed.store import models as m
from paperfeed.store.accounts import Account, AccountStore, Credentials

NOW = datetime(2026, 12, 3, 10, 0)
HOUR = timedelta(hours=1)


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    with Store(data_dir) as store:
        yield store


@pytest.fixture
def records(store: Store) -> AccountStore:
    return AccountStore(store)


def _count(store: Store, model: type[m.Base]) -> int:
    with Session(store.engine) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_users_come_back_as_frozen_values_not_rows(records: AccountStore) -> None:
    account = records.create_user("a@example.org", "Ann", "hash-1", now=NOW)
    assert account is not None and (account.email, account.name) == ("a@example.org", "Ann")
    assert records.create_user("a@example.org", "Other", "hash-2", now=NOW) is None
    found = records.credentials_by_email("a@example.org")
    assert found == Credentials(account, "hash-1")
    assert records.credentials(account.id) == found
    assert records.user(account.id) == account and records.user(account.id + 1) is None
    for value in (account, found):
        assert dataclasses.is_dataclass(value) and not isinstance(value, m.Base)
        with pytest.raises(dataclasses.FrozenInstanceError):
            value.id = 5  # type: ignore[misc, union-attr]


def test_replacing_a_password_ends_every_session_and_reset_link(
        store: Store, records: AccountStore) -> None:
    account = records.create_user("a@example.org", "", "old", now=NOW)
    assert account is not None
    for token in ("s1", "s2"):
        records.start_session(account.id, token, now=NOW, expires_at=NOW + HOUR)
    assert records.add_reset("a@example.org", "r1", now=NOW, expires_at=NOW + HOUR) == account
    records.set_password_hash(account.id, "rehashed")  # the same password: nothing ends
    assert len(records.sessions_of(account.id, now=NOW)) == 2
    records.replace_password(account.id, "new")
    creds = records.credentials(account.id)
    assert creds is not None and creds.password_hash == "new"
    assert records.sessions_of(account.id, now=NOW) == []
    assert _count(store, m.PasswordReset) == 0


def test_a_reset_token_is_claimed_once_even_by_racing_threads(
        store: Store, records: AccountStore) -> None:
    account = records.create_user("a@example.org", "", "old", now=NOW)
    assert account is not None
    records.add_reset("a@example.org", "r1", now=NOW, expires_at=NOW + HOUR)
    assert records.add_reset("nobody@example.org", "r2", now=NOW, expires_at=NOW + HOUR) is None
    assert records.reset_owner("r1", now=NOW) == account
    assert records.reset_owner("r1", now=NOW + 2 * HOUR) is None  # expired
    with ThreadPoolExecutor(4) as pool:
        claims = list(pool.map(lambda i: records.claim_reset("r1", f"new-{i}", now=NOW),
                               range(4)))
    winners = [i for i, c in enumerate(claims) if c is not None]
    assert claims.count(account.id) == 1 and len(winners) == 1
    creds = records.credentials(account.id)
    assert creds is not None and creds.password_hash == f"new-{winners[0]}"
    assert records.claim_reset("r1", "again", now=NOW) is None


def test_expired_reset_tokens_cannot_be_claimed_and_are_pruned(
        store: Store, records: AccountStore) -> None:
    records.create_user("a@example.org", "", "old", now=NOW)
    records.add_reset("a@example.org", "old-link", now=NOW, expires_at=NOW + HOUR)
    assert records.claim_reset("old-link", "new", now=NOW + 2 * HOUR) is None
    records.add_reset("a@example.org", "fresh", now=NOW + 2 * HOUR,
                      expires_at=NOW + 3 * HOUR)
    assert _count(store, m.PasswordReset) == 1  # the expired one went


def test_sessions_found_touched_ended_and_pruned(records: AccountStore) -> None:
    account = records.create_user("a@example.org", "Ann", "h", now=NOW)
    assert account is not None
    records.start_session(account.id, "tok", now=NOW, expires_at=NOW + HOUR)
    found = records.find_session("tok", now=NOW)
    assert found is not None and found.account == account and found.last_seen_at == NOW
    records.touch_session(found.id, now=NOW + timedelta(minutes=5))
    again = records.find_session("tok", now=NOW + timedelta(minutes=6))
    assert again is not None and again.last_seen_at == NOW + timedelta(minutes=5)
    assert records.find_session("tok", now=NOW + HOUR) is None  # expired
    assert records.prune_sessions(now=NOW + HOUR) == 1
    records.start_session(account.id, "tok2", now=NOW, expires_at=NOW + HOUR)
    assert records.end_session("tok2") and not records.end_session("tok2")
    records.start_session(account.id, "a", now=NOW, expires_at=NOW + HOUR)
    records.start_session(account.id, "b", now=NOW, expires_at=NOW + HOUR)
    assert records.end_sessions(account.id) == 2


def test_api_tokens_are_revoked_once_and_touched_at_most_once_a_minute(
        records: AccountStore) -> None:
    account = records.create_user("a@example.org", "", "h", now=NOW)
    assert account is not None
    records.add_api_token(account.id, "script", "t-hash", now=NOW)
    minute = timedelta(minutes=1)
    assert records.account_for_api_token("t-hash", now=NOW, touch_every=minute) == account
    assert records.api_tokens(account.id)[0].last_used_at == NOW
    records.account_for_api_token("t-hash", now=NOW + timedelta(seconds=30), touch_every=minute)
    assert records.api_tokens(account.id)[0].last_used_at == NOW
    token_id = records.api_tokens(account.id)[0].id
    assert not records.revoke_api_token(account.id + 1, token_id, now=NOW)  # not theirs
    assert records.revoke_api_token(account.id, token_id, now=NOW)
    assert not records.revoke_api_token(account.id, token_id, now=NOW)
    assert records.account_for_api_token("t-hash", now=NOW, touch_every=minute) is None


def test_a_sign_up_link_makes_one_account_and_ends_the_others(
        store: Store, records: AccountStore) -> None:
    assert records.add_pending_signup("b@example.org", "Bo", "h1", "link-1", now=NOW,
                                      expires_at=NOW + HOUR) is None
    records.add_pending_signup("b@example.org", "Bo", "h2", "link-2", now=NOW,
                               expires_at=NOW + HOUR)
    assert records.pending_signup_email("link-1", now=NOW) == "b@example.org"
    assert records.confirm_signup("nope", now=NOW) == "invalid"
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda t: records.confirm_signup(t, now=NOW),
                                ["link-1", "link-1"]))
    made = [r for r in results if isinstance(r, Account)]
    assert len(made) == 1 and made[0].email == "b@example.org" and made[0].name == "Bo"
    assert [r for r in results if not isinstance(r, Account)] == ["invalid"]
    assert records.confirm_signup("link-2", now=NOW) == "invalid"  # gone with the first
    assert _count(store, m.PendingSignup) == 0
    creds = records.credentials_by_email("b@example.org")
    assert creds is not None and creds.password_hash == "h1"


def test_a_sign_up_for_a_taken_address_keeps_nothing(
        store: Store, records: AccountStore) -> None:
    existing = records.create_user("c@example.org", "C", "h", now=NOW)
    assert records.add_pending_signup("c@example.org", "X", "h2", "l1", now=NOW,
                                      expires_at=NOW + HOUR) == existing
    assert _count(store, m.PendingSignup) == 0
    # Taken between the request and the click: the link is spent, no second account.
    with Session(store.engine) as s, s.begin():
        s.add(m.PendingSignup(email="d@example.org", name="", password_hash="h",
                              token_hash="l2", created_at=NOW, expires_at=NOW + HOUR))
    records.create_user("d@example.org", "D", "h", now=NOW)
    assert records.confirm_signup("l2", now=NOW) == "taken"
    assert _count(store, m.PendingSignup) == 0 and _count(store, m.User) == 2
    assert records.pending_signup_email("l1", now=NOW + 2 * HOUR) is None
