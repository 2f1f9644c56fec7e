"""Reset links and emailed sign-ups over a real SQLite store: one use, limits, no tells."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from paperfeed.accounts import AccountError, Accounts, TooManyAttemptsError
from paperfeed.accounts.service import MAX_RESETS_PER_CLIENT, MAX_RESETS_PER_EMAIL
from paperfeed.accounts.signups import (
    MAX_SIGNUPS_PER_CLIENT,
    MAX_SIGNUPS_PER_EMAIL,
    SIGNUP_LIFETIME,
)
from tests.pg import read_rows

PASSWORD = "correct horse battery"
NOW = datetime(2026, 12, 3, 12, 0)


def _count(data_dir: Path, table: str) -> int:
    return int(read_rows(data_dir, f"select count(*) from {table}")[0][0])


def _token(accounts: Accounts, email: str) -> str:
    issued = accounts.request_reset(email, now=NOW)
    assert issued is not None
    return issued[1]


# --- resets ---------------------------------------------------------------------------


def test_using_one_reset_link_spends_every_other(accounts: Accounts, data_dir: Path) -> None:
    accounts.sign_up("a@example.org", PASSWORD)
    first, second = _token(accounts, "a@example.org"), _token(accounts, "a@example.org")
    accounts.reset_password(second, "brand new password", now=NOW)
    with pytest.raises(AccountError, match="invalid, used or expired"):
        accounts.reset_password(first, "attacker's password", now=NOW)
    assert _count(data_dir, "password_resets") == 0
    assert accounts.log_in("a@example.org", "brand new password").email == "a@example.org"


def test_a_password_change_spends_outstanding_reset_links(accounts: Accounts) -> None:
    account = accounts.sign_up("a@example.org", PASSWORD)
    token = _token(accounts, "a@example.org")
    accounts.change_password(account.id, PASSWORD, "changed password here")
    with pytest.raises(AccountError, match="invalid, used or expired"):
        accounts.reset_password(token, "attacker's password", now=NOW)


def test_a_too_short_password_does_not_spend_the_link(accounts: Accounts) -> None:
    accounts.sign_up("a@example.org", PASSWORD)
    token = _token(accounts, "a@example.org")
    with pytest.raises(AccountError, match="at least 10"):
        accounts.reset_password(token, "short", now=NOW)
    assert accounts.reset_password(token, "long enough now", now=NOW).email == "a@example.org"


def test_a_reset_token_drawn_by_the_caller_is_the_one_stored(accounts: Accounts) -> None:
    accounts.sign_up("a@example.org", PASSWORD)
    assert accounts.request_reset("nobody@example.org", token="chosen-token") is None
    issued = accounts.request_reset("A@Example.org ", token="chosen-token", now=NOW)
    assert issued is not None and issued[1] == "chosen-token"
    assert accounts.reset_password("chosen-token", "brand new password", now=NOW)


def test_reset_requests_are_limited_per_address_and_per_client(accounts: Accounts) -> None:
    for i in range(MAX_RESETS_PER_EMAIL):
        accounts.count_reset_request("a@example.org", client=f"10.0.0.{i}", now=NOW)
    with pytest.raises(TooManyAttemptsError, match="at most 3 an hour for one address") as over:
        accounts.count_reset_request("A@example.org", client="10.0.1.1", now=NOW)
    assert 0 < over.value.retry_after <= 3600
    # An unknown address is limited the same way: the limit reads no accounts.
    for i in range(MAX_RESETS_PER_EMAIL):
        accounts.count_reset_request("nobody@example.org", client=f"10.0.2.{i}", now=NOW)
    with pytest.raises(TooManyAttemptsError):
        accounts.count_reset_request("nobody@example.org", client="10.0.3.1", now=NOW)
    for i in range(MAX_RESETS_PER_CLIENT):
        accounts.count_reset_request(f"u{i}@example.org", client="10.9.9.9", now=NOW)
    with pytest.raises(TooManyAttemptsError, match="from one network address"):
        accounts.count_reset_request("fresh@example.org", client="10.9.9.9", now=NOW)
    # The refused request did not use up the fresh address's own allowance.
    for i in range(MAX_RESETS_PER_EMAIL):
        accounts.count_reset_request("fresh@example.org", client=f"10.8.0.{i}", now=NOW)
    later = NOW + timedelta(hours=1, seconds=1)
    accounts.count_reset_request("a@example.org", client="10.9.9.9", now=later)


# --- sign-ups -------------------------------------------------------------------------


def test_a_signup_request_checks_the_form_and_stores_nothing(accounts: Accounts,
                                                            data_dir: Path) -> None:
    for email, password, message in (("not-an-email", PASSWORD, "email:"),
                                     ("a@example.org", "short", "at least 10")):
        with pytest.raises(AccountError, match=message):
            accounts.signups.request(email, password)
    request = accounts.signups.request(" Ada@Example.org", PASSWORD, " Ada ", now=NOW)
    assert (request.email, request.name) == ("ada@example.org", "Ada")
    assert request.password_hash.startswith("$argon2id$") and len(request.token) == 43
    assert _count(data_dir, "pending_signups") == 0 and _count(data_dir, "users") == 0


def test_a_confirmed_signup_makes_the_account_once(accounts: Accounts, data_dir: Path) -> None:
    request = accounts.signups.request("ada@example.org", PASSWORD, "Ada", now=NOW)
    assert accounts.signups.record(request, now=NOW) is None
    stored = read_rows(data_dir, "select token_hash, password_hash from pending_signups")[0]
    assert request.token not in stored[0] and PASSWORD not in stored[1]
    assert accounts.signups.pending(request.token, now=NOW) == "ada@example.org"
    account = accounts.signups.confirm(request.token, now=NOW + timedelta(hours=1))
    assert (account.email, account.name) == ("ada@example.org", "Ada")
    assert accounts.log_in("ada@example.org", PASSWORD).id == account.id
    with pytest.raises(AccountError, match="invalid, used or expired"):
        accounts.signups.confirm(request.token, now=NOW)
    assert accounts.signups.pending(request.token, now=NOW) is None


def test_a_taken_address_gets_its_account_back_and_nothing_is_kept(
        accounts: Accounts, data_dir: Path) -> None:
    existing = accounts.sign_up("ada@example.org", PASSWORD, "Ada")
    request = accounts.signups.request("ada@example.org", "another password", now=NOW)
    assert accounts.signups.record(request, now=NOW) == existing
    assert _count(data_dir, "pending_signups") == 0
    with pytest.raises(AccountError, match="invalid"):
        accounts.signups.confirm(request.token, now=NOW)
    assert accounts.log_in("ada@example.org", PASSWORD).id == existing.id


def test_links_expire_and_the_others_of_an_address_stop_on_confirmation(
        accounts: Accounts, data_dir: Path) -> None:
    first, second = (accounts.signups.request("ada@example.org", PASSWORD, now=NOW)
                     for _ in range(2))
    for request in (first, second):
        accounts.signups.record(request, now=NOW)
    with pytest.raises(AccountError, match="expired"):
        accounts.signups.confirm(first.token, now=NOW + SIGNUP_LIFETIME + timedelta(minutes=1))
    accounts.signups.confirm(second.token, now=NOW)
    assert _count(data_dir, "pending_signups") == 0
    with pytest.raises(AccountError, match="invalid"):
        accounts.signups.confirm(first.token, now=NOW)


def test_an_address_taken_before_confirmation_is_refused(accounts: Accounts,
                                                         data_dir: Path) -> None:
    request = accounts.signups.request("ada@example.org", PASSWORD, now=NOW)
    accounts.signups.record(request, now=NOW)
    accounts.sign_up("ada@example.org", "the operator's password")
    with pytest.raises(AccountError, match="exists"):
        accounts.signups.confirm(request.token, now=NOW)
    assert _count(data_dir, "pending_signups") == 0
    assert accounts.log_in("ada@example.org", "the operator's password")


def test_expired_pending_signups_are_pruned(accounts: Accounts, data_dir: Path) -> None:
    old = accounts.signups.request("old@example.org", PASSWORD, now=NOW)
    accounts.signups.record(old, now=NOW)
    new = accounts.signups.request("new@example.org", PASSWORD, now=NOW)
    accounts.signups.record(new, now=NOW + SIGNUP_LIFETIME + timedelta(hours=1))
    assert _count(data_dir, "pending_signups") == 1


def test_signup_requests_are_limited_per_address_and_per_client(accounts: Accounts) -> None:
    for i in range(MAX_SIGNUPS_PER_EMAIL):
        accounts.signups.request("ada@example.org", PASSWORD, client=f"10.0.0.{i}", now=NOW)
    with pytest.raises(TooManyAttemptsError, match="for one address"):
        accounts.signups.request("ADA@example.org", PASSWORD, client="10.0.1.1", now=NOW)
    for i in range(MAX_SIGNUPS_PER_CLIENT):
        accounts.signups.request(f"u{i}@example.org", PASSWORD, client="10.9.9.9", now=NOW)
    with pytest.raises(TooManyAttemptsError, match="from one network address"):
        accounts.signups.request("fresh@example.org", PASSWORD, client="10.9.9.9", now=NOW)
