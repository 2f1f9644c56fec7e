"""Accounts: direct sign-up, log-in with rate limits, password change and reset, API tokens.

Passwords are hashed with argon2id (argon2-cffi's defaults, rehashed when those
change). Reset and API tokens are random 256-bit strings of which only the
SHA-256 is stored, so a copy of the database gives no way in. Log-in failures and
reset requests are counted in the store, not in memory, so the limits hold across
server workers and restarts. Sessions live in `sessions.py`, emailed sign-ups in
`signups.py`.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from paperfeed.accounts.core import (
    MAX_PASSWORD,
    Account,
    AccountError,
    InvalidCredentialsError,
    TooManyAttemptsError,
    check_password,
    count_request,
    digest,
    email_key,
    new_token,
    normalize_email,
)
from paperfeed.accounts.sessions import Sessions
from paperfeed.accounts.signups import Signups
from paperfeed.clock import utc_now
from paperfeed.store import Store
from paperfeed.store.accounts import AccountStore
from paperfeed.store.accounts import TokenInfo as TokenInfo  # the value lives in the store
from paperfeed.store.limits import RateLimits

RESET_LIFETIME = timedelta(hours=1)
# Reset requests: one address is not mailed more than 3 an hour; one client may ask for
# 10 addresses an hour.
RESET_WINDOW = timedelta(hours=1)
MAX_RESETS_PER_EMAIL = 3
MAX_RESETS_PER_CLIENT = 10
RESET_INVALID = "this reset link is invalid, used or expired; ask for a new one"
# Failures counted over this window: 5 a account (a guessed password), 20 an address
# (one machine trying many accounts).
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
TOKEN_PREFIX = "pf_"


class Accounts:
    """Account operations over one store; `.sessions` and `.signups` for those tables."""

    def __init__(self, store: Store, *, hasher: PasswordHasher | None = None) -> None:
        self.store = store
        self.hasher = hasher or PasswordHasher()
        self.records = AccountStore(store)
        self.sessions = Sessions(store)
        self.signups = Signups(store, self.hasher)

    # --- sign-up and log-in -----------------------------------------------------------

    def sign_up(self, email: str, password: str, name: str = "") -> Account:
        """Create an account at once (the operator's CLI, tests); the web form goes
        through `signups` and an emailed link instead."""
        address = normalize_email(email)
        check_password(password, address)
        account = self.records.create_user(address, name.strip()[:200],
                                           self.hasher.hash(password), now=utc_now())
        if account is None:
            raise AccountError("email: an account with this address exists; log in or "
                               "reset the password")
        return account

    def get(self, user_id: int) -> Account | None:
        return self.records.user(user_id)

    def log_in(self, email: str, password: str, *, address: str = "",
               now: datetime | None = None) -> Account:
        """The account, or InvalidCredentialsError / TooManyAttemptsError.

        Each attempt is counted before the password is checked, in one atomic step
        per key (store/limits.py), so concurrent guesses cannot pass the limit
        between a check and its count; a right password takes its count back. The
        same message for an unknown address and a wrong password.
        """
        now = now or utc_now()
        key = email.strip().lower()[:320]
        limits = RateLimits(self.store)
        keys = [(f"login:account:{key}", MAX_FAILURES_PER_ACCOUNT)]
        if address:
            keys.append((f"login:address:{address[:64]}", MAX_FAILURES_PER_ADDRESS))
        # A refused attempt is not counted as a failure (hit_all takes it back).
        refused = limits.hit_all(keys, window=FAILURE_WINDOW, now=now)
        if refused is not None:
            raise TooManyAttemptsError(
                f"too many failed log-ins; try again in {math.ceil(refused.retry_after / 60)} "
                "minutes or reset your password", retry_after=refused.retry_after)
        user = self.records.credentials_by_email(key)
        ok = False
        if user is not None:
            try:
                ok = self.hasher.verify(user.password_hash, password)
            except (VerificationError, InvalidHashError):
                ok = False
        else:
            # Spend the same time as a real check, so timing does not tell who has an account.
            self.hasher.hash(password[:MAX_PASSWORD] or "x")
        if not ok or user is None:
            raise InvalidCredentialsError("wrong email or password")
        limits.clear(f"login:account:{key}")
        for name, _ in keys[1:]:
            limits.undo(name)
        if self.hasher.check_needs_rehash(user.password_hash):
            self.records.set_password_hash(user.account.id, self.hasher.hash(password))
        return user.account

    # --- passwords --------------------------------------------------------------------

    def change_password(self, user_id: int, old: str, new: str) -> Account:
        """Set a new password. Every session of the user ends and every reset link stops
        working; the caller starts a fresh session for the browser that asked."""
        user = self.records.credentials(user_id)
        if user is None:
            raise AccountError("no such account")
        try:
            self.hasher.verify(user.password_hash, old)
        except (VerificationError, InvalidHashError):
            raise InvalidCredentialsError("current password: wrong password") from None
        check_password(new, user.account.email)
        self.records.replace_password(user_id, self.hasher.hash(new))
        return user.account

    def count_reset_request(self, email: str, *, client: str = "",
                            now: datetime | None = None) -> None:
        """Count a reset request for `email` from `client` (an IP address), or raise
        TooManyAttemptsError. Reads nothing about accounts: the answer is the same for
        every address."""
        keys = [(f"reset:email:{email_key(email)}", MAX_RESETS_PER_EMAIL, "for one address")]
        if client:
            keys.append((f"reset:client:{client[:64]}", MAX_RESETS_PER_CLIENT,
                         "from one network address"))
        count_request(RateLimits(self.store), keys, window=RESET_WINDOW, now=now or utc_now(),
                      what="reset requests")

    def request_reset(self, email: str, *, token: str | None = None,
                      now: datetime | None = None) -> tuple[Account, str] | None:
        """A reset token for the account (to email), or None when no account has the address.

        `token` is the one to store (drawn by the caller, so its link exists before
        anyone knows whether the address has an account); a new one when not given."""
        now = now or utc_now()
        token = token or new_token()
        account = self.records.add_reset(email_key(email), digest(token), now=now,
                                         expires_at=now + RESET_LIFETIME)
        return (account, token) if account is not None else None

    def reset_password(self, token: str, new: str, *, now: datetime | None = None) -> Account:
        """Use a reset link once, before it expires. Every other link of the user stops
        working and every session ends; the caller logs the browser in afresh."""
        now = now or utc_now()
        if len(token) > 100:  # a real one is 43 characters
            raise AccountError(RESET_INVALID)
        account = self.records.reset_owner(digest(token), now=now)
        if account is None:
            raise AccountError(RESET_INVALID)
        # Checked before the link is used up: a too-short password does not spend it.
        check_password(new, account.email)
        if self.records.claim_reset(digest(token), self.hasher.hash(new), now=now) is None:
            raise AccountError(RESET_INVALID)
        RateLimits(self.store).clear(f"login:account:{account.email}")
        return account

    # --- API tokens -------------------------------------------------------------------

    def create_token(self, user_id: int, name: str) -> str:
        """A new API token: returned once, only its hash is kept."""
        token = TOKEN_PREFIX + new_token()
        self.records.add_api_token(user_id, (name.strip() or "token")[:100], digest(token),
                                   now=utc_now())
        return token

    def tokens(self, user_id: int) -> list[TokenInfo]:
        return self.records.api_tokens(user_id)

    def revoke_token(self, user_id: int, token_id: int) -> bool:
        return self.records.revoke_api_token(user_id, token_id, now=utc_now())

    def account_for_token(self, token: str) -> Account | None:
        """The account an API token belongs to, unless it is unknown or revoked."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        # One write a minute at most: a script making many calls is not a write storm.
        return self.records.account_for_api_token(digest(token), now=utc_now(),
                                                  touch_every=timedelta(minutes=1))
