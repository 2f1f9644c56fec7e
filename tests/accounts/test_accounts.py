"""Accounts over a real SQLite store: hashing, limits, resets, tokens."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperfeed.accounts import (
    AccountError,
    Accounts,
    InvalidCredentialsError,
    TooManyAttemptsError,
)
from paperfeed.accounts.service import MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS
from tests.pg import read_rows

PASSWORD = "correct horse battery"


def test_sign_up_stores_an_argon2_hash_never_the_password(accounts: Accounts,
                                                          data_dir: Path) -> None:
    account = accounts.sign_up("Ada@Example.org ", PASSWORD, "Ada")
    assert account.email == "ada@example.org"
    row = read_rows(data_dir, "select password_hash from users")[0][0]
    assert row.startswith("$argon2id$") and PASSWORD not in row
    assert accounts.log_in("ADA@example.org", PASSWORD).id == account.id


@pytest.mark.parametrize(("email", "password", "message"), [
    ("not-an-email", PASSWORD, "email:"),
    ("a@example.org", "short", "at least 10"),
    ("a@example.org", "a@example.org", "must not be your email"),
    ("a@example.org", "x" * 2000, "at most"),
])
def test_sign_up_refuses_bad_input_with_the_field_named(accounts: Accounts, email: str,
                                                        password: str, message: str) -> None:
    with pytest.raises(AccountError, match=message):
        accounts.sign_up(email, password)


def test_the_same_address_cannot_sign_up_twice(accounts: Accounts) -> None:
    accounts.sign_up("a@example.org", PASSWORD)
    with pytest.raises(AccountError, match="exists"):
        accounts.sign_up("A@EXAMPLE.ORG", PASSWORD)


def test_wrong_passwords_lock_the_account_for_a_while(accounts: Accounts) -> None:
    accounts.sign_up("a@example.org", PASSWORD)
    now = datetime(2026, 11, 23, 12, 0)
    for i in range(MAX_FAILURES_PER_ACCOUNT):
        with pytest.raises(InvalidCredentialsError, match="wrong email or password"):
            accounts.log_in("a@example.org", f"guess {i}", address=f"10.0.0.{i}", now=now)
    # Locked: even the right password is refused, from any address, until the window passes.
    with pytest.raises(TooManyAttemptsError) as locked:
        accounts.log_in("a@example.org", PASSWORD, address="10.9.9.9", now=now)
    assert 0 < locked.value.retry_after <= 15 * 60
    later = now + timedelta(minutes=16)
    assert accounts.log_in("a@example.org", PASSWORD, now=later).email == "a@example.org"


def test_one_address_trying_many_accounts_is_stopped(accounts: Accounts) -> None:
    now = datetime(2026, 11, 23, 12, 0)
    for i in range(MAX_FAILURES_PER_ADDRESS):
        with pytest.raises(InvalidCredentialsError):
            accounts.log_in(f"user{i}@example.org", "whatever123", address="10.0.0.1", now=now)
    with pytest.raises(TooManyAttemptsError):
        accounts.log_in("someone@example.org", "whatever123", address="10.0.0.1", now=now)
    with pytest.raises(InvalidCredentialsError):  # another address is not affected
        accounts.log_in("someone@example.org", "whatever123", address="10.0.0.2", now=now)


def test_changing_the_password_ends_every_session(accounts: Accounts) -> None:
    account = accounts.sign_up("a@example.org", PASSWORD)
    browsers = [accounts.sessions.start(account.id) for _ in range(2)]
    with pytest.raises(InvalidCredentialsError, match="current password"):
        accounts.change_password(account.id, "not it at all", "new password here")
    assert all(accounts.sessions.find(b) is not None for b in browsers)
    changed = accounts.change_password(account.id, PASSWORD, "new password here")
    assert changed.id == account.id
    assert [accounts.sessions.find(b) for b in browsers] == [None, None]
    with pytest.raises(InvalidCredentialsError):
        accounts.log_in("a@example.org", PASSWORD)
    assert accounts.log_in("a@example.org", "new password here").id == account.id


def test_reset_tokens_are_single_use_and_expire(accounts: Accounts) -> None:
    account = accounts.sign_up("a@example.org", PASSWORD)
    assert accounts.request_reset("nobody@example.org") is None
    now = datetime(2026, 11, 23, 12, 0)
    issued = accounts.request_reset("a@example.org", now=now)
    assert issued is not None
    _, token = issued
    reset = accounts.reset_password(token, "brand new password", now=now + timedelta(minutes=5))
    assert reset.id == account.id
    with pytest.raises(AccountError, match="invalid, used or expired"):
        accounts.reset_password(token, "another new password", now=now)
    _, late = accounts.request_reset("a@example.org", now=now) or (None, "")
    with pytest.raises(AccountError, match="expired"):
        accounts.reset_password(late, "another new password", now=now + timedelta(hours=2))
    with pytest.raises(AccountError, match="invalid"):
        accounts.reset_password(late[:-1] + ("A" if late[-1] != "A" else "B"),
                                "another new password", now=now)
    assert accounts.log_in("a@example.org", "brand new password").id == account.id


def test_api_tokens_work_until_revoked(accounts: Accounts, data_dir: Path) -> None:
    account = accounts.sign_up("a@example.org", PASSWORD)
    other = accounts.sign_up("b@example.org", PASSWORD)
    token = accounts.create_token(account.id, "laptop")
    assert token.startswith("pf_") and len(token) > 40
    stored = read_rows(data_dir, "select token_hash from api_tokens")[0][0]
    assert token not in stored
    found = accounts.account_for_token(token)
    assert found is not None and found.id == account.id
    [info] = accounts.tokens(account.id)
    assert info.name == "laptop" and info.last_used_at is not None
    assert not accounts.revoke_token(other.id, info.id)  # not theirs
    assert accounts.revoke_token(account.id, info.id)
    assert accounts.account_for_token(token) is None
    assert accounts.account_for_token("pf_forged") is None


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(email=st.text(max_size=400), password=st.text(max_size=50))
def test_log_in_never_fails_unexpectedly(accounts: Accounts, email: str, password: str) -> None:
    with contextlib.suppress(InvalidCredentialsError, TooManyAttemptsError):
        accounts.log_in(email, password, address="10.1.1.1",
                        now=datetime(2026, 1, 1) + timedelta(hours=len(email)))
