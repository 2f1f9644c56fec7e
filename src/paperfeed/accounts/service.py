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
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from paperfeed.accounts.core import (
    MAX_PASSWORD,
    Account,
    AccountError,
    InvalidCredentialsError,
    TooManyAttemptsError,
    account_of,
    check_password,
    count_request,
    digest,
    email_key,
    new_token,
    normalize_email,
)
from paperfeed.accounts.sessions import Sessions
from paperfeed.accounts.signups import Signups
from paperfeed.store import Store
from paperfeed.store import models as m
from paperfeed.store.limits import RateLimits
from paperfeed.store.store import _now

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


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class Accounts:
    """Account operations over one store; `.sessions` and `.signups` for those tables."""

    def __init__(self, store: Store, *, hasher: PasswordHasher | None = None) -> None:
        self.store = store
        self.hasher = hasher or PasswordHasher()
        self.sessions = Sessions(store)
        self.signups = Signups(store, self.hasher)

    def _session(self) -> Session:
        return Session(self.store.engine)

    # --- sign-up and log-in -----------------------------------------------------------

    def sign_up(self, email: str, password: str, name: str = "") -> Account:
        """Create an account at once (the operator's CLI, tests); the web form goes
        through `signups` and an emailed link instead."""
        address = normalize_email(email)
        check_password(password, address)
        user = m.User(email=address, name=name.strip()[:200], session_epoch=0,
                      password_hash=self.hasher.hash(password), created_at=_now())
        try:
            with self._session() as s, s.begin():
                s.add(user)
                s.flush()
                return account_of(user)
        except IntegrityError:
            raise AccountError("email: an account with this address exists; log in or "
                               "reset the password") from None

    def get(self, user_id: int) -> Account | None:
        with self._session() as s:
            user = s.get(m.User, user_id)
            return account_of(user) if user else None

    def log_in(self, email: str, password: str, *, address: str = "",
               now: datetime | None = None) -> Account:
        """The account, or InvalidCredentialsError / TooManyAttemptsError.

        Each attempt is counted before the password is checked, in one atomic step
        per key (store/limits.py), so concurrent guesses cannot pass the limit
        between a check and its count; a right password takes its count back. The
        same message for an unknown address and a wrong password.
        """
        now = now or _now()
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
        with self._session() as s:
            user = s.scalar(select(m.User).where(m.User.email == key))
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
            with self._session() as s, s.begin():
                stored = s.get(m.User, user.id)
                if stored is not None:
                    stored.password_hash = self.hasher.hash(password)
        return account_of(user)

    # --- passwords --------------------------------------------------------------------

    def _new_password(self, s: Session, user_id: int, password_hash: str) -> None:
        """In the caller's transaction: the new hash, and nothing the old password let
        anyone do survives it: every session and every outstanding reset link goes."""
        s.execute(update(m.User).where(m.User.id == user_id)
                  .values(password_hash=password_hash))
        s.execute(delete(m.PasswordReset).where(m.PasswordReset.user_id == user_id))
        self.sessions.end_all(user_id, session=s)

    def change_password(self, user_id: int, old: str, new: str) -> Account:
        """Set a new password. Every session of the user ends and every reset link stops
        working; the caller starts a fresh session for the browser that asked."""
        with self._session() as s:
            user = s.get(m.User, user_id)
            if user is None:
                raise AccountError("no such account")
            try:
                self.hasher.verify(user.password_hash, old)
            except (VerificationError, InvalidHashError):
                raise InvalidCredentialsError("current password: wrong password") from None
            check_password(new, user.email)
            hashed = self.hasher.hash(new)  # before the transaction: no lock held meanwhile
            account = account_of(user)
        with self._session() as s, s.begin():
            self._new_password(s, user_id, hashed)
        return account

    def count_reset_request(self, email: str, *, client: str = "",
                            now: datetime | None = None) -> None:
        """Count a reset request for `email` from `client` (an IP address), or raise
        TooManyAttemptsError. Reads nothing about accounts: the answer is the same for
        every address."""
        keys = [(f"reset:email:{email_key(email)}", MAX_RESETS_PER_EMAIL, "for one address")]
        if client:
            keys.append((f"reset:client:{client[:64]}", MAX_RESETS_PER_CLIENT,
                         "from one network address"))
        count_request(RateLimits(self.store), keys, window=RESET_WINDOW, now=now or _now(),
                      what="reset requests")

    def request_reset(self, email: str, *, token: str | None = None,
                      now: datetime | None = None) -> tuple[Account, str] | None:
        """A reset token for the account (to email), or None when no account has the address.

        `token` is the one to store (drawn by the caller, so its link exists before
        anyone knows whether the address has an account); a new one when not given."""
        now = now or _now()
        key = email_key(email)
        token = token or new_token()
        with self._session() as s, s.begin():
            s.execute(delete(m.PasswordReset).where(m.PasswordReset.expires_at < now))
            user = s.scalar(select(m.User).where(m.User.email == key))
            if user is None:
                return None
            s.add(m.PasswordReset(user_id=user.id, token_hash=digest(token),
                                  expires_at=now + RESET_LIFETIME, used_at=None))
            return account_of(user), token

    def reset_password(self, token: str, new: str, *, now: datetime | None = None) -> Account:
        """Use a reset link once, before it expires. Every other link of the user stops
        working and every session ends; the caller logs the browser in afresh."""
        now = now or _now()
        if len(token) > 100:  # a real one is 43 characters
            raise AccountError(RESET_INVALID)
        with self._session() as s:
            reset = s.scalar(select(m.PasswordReset).where(
                m.PasswordReset.token_hash == digest(token)))
            if reset is None or reset.expires_at < now:
                raise AccountError(RESET_INVALID)
            user = s.get(m.User, reset.user_id)
            if user is None:
                raise AccountError(RESET_INVALID)
            # Checked before the link is used up: a too-short password does not spend it.
            check_password(new, user.email)
            account = account_of(user)
        hashed = self.hasher.hash(new)
        with self._session() as s, s.begin():
            # Claimed by deleting it: of two uses racing, only one finds the row.
            claimed = s.execute(delete(m.PasswordReset).where(
                m.PasswordReset.token_hash == digest(token),
                m.PasswordReset.expires_at >= now).returning(m.PasswordReset.user_id)).first()
            if claimed is None:
                raise AccountError(RESET_INVALID)
            self._new_password(s, account.id, hashed)
        RateLimits(self.store).clear(f"login:account:{account.email}")
        return account

    # --- API tokens -------------------------------------------------------------------

    def create_token(self, user_id: int, name: str) -> str:
        """A new API token: returned once, only its hash is kept."""
        token = TOKEN_PREFIX + new_token()
        with self._session() as s, s.begin():
            s.add(m.ApiToken(user_id=user_id, name=(name.strip() or "token")[:100],
                             token_hash=digest(token), created_at=_now()))
        return token

    def tokens(self, user_id: int) -> list[TokenInfo]:
        with self._session() as s:
            return [TokenInfo(t.id, t.name, t.created_at, t.last_used_at, t.revoked_at)
                    for t in s.scalars(select(m.ApiToken).where(m.ApiToken.user_id == user_id)
                                       .order_by(m.ApiToken.id))]

    def revoke_token(self, user_id: int, token_id: int) -> bool:
        with self._session() as s, s.begin():
            token = s.get(m.ApiToken, token_id)
            if token is None or token.user_id != user_id or token.revoked_at is not None:
                return False
            token.revoked_at = _now()
            return True

    def account_for_token(self, token: str) -> Account | None:
        """The account an API token belongs to, unless it is unknown or revoked."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        with self._session() as s, s.begin():
            row = s.scalar(select(m.ApiToken).where(m.ApiToken.token_hash == digest(token)))
            if row is None or row.revoked_at is not None:
                return None
            now = _now()
            # One write a minute at most: a script making many calls is not a write storm.
            stale = row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1)
            if stale and not self.store.read_only:  # a read-only store records nothing
                row.last_used_at = now
            user = s.get(m.User, row.user_id)
            return account_of(user) if user else None
