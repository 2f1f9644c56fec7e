"""Accounts: sign-up, log-in with rate limits, password change and reset, API tokens.

Passwords are hashed with argon2id (argon2-cffi's defaults, rehashed when those
change). Reset and API tokens are random 256-bit strings of which only the
SHA-256 is stored, so a copy of the database gives no way in. Log-in failures
are kept in the store, not in memory, so the limits hold across server
workers and restarts.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from paperfeed.errors import PaperfeedError
from paperfeed.store import Store
from paperfeed.store import models as m
from paperfeed.store.limits import RateLimits
from paperfeed.store.store import _now

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 would hash a megabyte happily; nobody types one
RESET_LIFETIME = timedelta(hours=1)
# Failures counted over this window: 5 a account (a guessed password), 20 an address
# (one machine trying many accounts).
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
TOKEN_PREFIX = "pf_"


class AccountError(PaperfeedError):
    """A request about an account that cannot be done; the message says why."""


class InvalidCredentialsError(AccountError):
    pass


class TooManyAttemptsError(AccountError):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    name: str
    session_epoch: int


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _account(user: m.User) -> Account:
    return Account(id=user.id, email=user.email, name=user.name,
                   session_epoch=user.session_epoch)


def normalize_email(email: str) -> str:
    """The address as stored: validated syntax, lower-cased (no DNS look-up)."""
    try:
        checked = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise AccountError(f"email: {exc}") from None
    return checked.normalized.lower()


def check_password(password: str, email: str = "") -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password: use at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"password: at most {MAX_PASSWORD} characters")
    if email and password.strip().lower() == email.lower():
        raise AccountError("password: must not be your email address")


class Accounts:
    """Account operations over one store."""

    def __init__(self, store: Store, *, hasher: PasswordHasher | None = None) -> None:
        self.store = store
        self.hasher = hasher or PasswordHasher()

    def _session(self) -> Session:
        return Session(self.store.engine)

    # --- sign-up and log-in -----------------------------------------------------------

    def sign_up(self, email: str, password: str, name: str = "") -> Account:
        address = normalize_email(email)
        check_password(password, address)
        user = m.User(email=address, name=name.strip()[:200], session_epoch=0,
                      password_hash=self.hasher.hash(password), created_at=_now())
        try:
            with self._session() as s, s.begin():
                s.add(user)
                s.flush()
                return _account(user)
        except IntegrityError:
            raise AccountError("email: an account with this address exists; log in or "
                               "reset the password") from None

    def get(self, user_id: int) -> Account | None:
        with self._session() as s:
            user = s.get(m.User, user_id)
            return _account(user) if user else None

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
        counted: list[str] = []
        for name, limit in ((f"login:account:{key}", MAX_FAILURES_PER_ACCOUNT),
                            (f"login:address:{address[:64]}" if address else "",
                             MAX_FAILURES_PER_ADDRESS)):
            if not name:
                continue
            hit = limits.hit(name, limit=limit, window=FAILURE_WINDOW, now=now)
            counted.append(name)
            if not hit.allowed:
                for done in counted:  # a refused attempt is not a failure
                    limits.undo(done)
                raise TooManyAttemptsError(
                    f"too many failed log-ins; try again in {math.ceil(hit.retry_after / 60)} "
                    "minutes or reset your password", retry_after=hit.retry_after)
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
        for name in counted[1:]:
            limits.undo(name)
        if self.hasher.check_needs_rehash(user.password_hash):
            with self._session() as s, s.begin():
                stored = s.get(m.User, user.id)
                if stored is not None:
                    stored.password_hash = self.hasher.hash(password)
        return _account(user)

    # --- passwords --------------------------------------------------------------------

    def change_password(self, user_id: int, old: str, new: str) -> Account:
        """Set a new password; every other session ends (the epoch moves)."""
        with self._session() as s, s.begin():
            user = s.get(m.User, user_id)
            if user is None:
                raise AccountError("no such account")
            try:
                self.hasher.verify(user.password_hash, old)
            except (VerificationError, InvalidHashError):
                raise InvalidCredentialsError("current password: wrong password") from None
            check_password(new, user.email)
            user.password_hash = self.hasher.hash(new)
            user.session_epoch += 1
            return _account(user)

    def request_reset(self, email: str, *, now: datetime | None = None
                      ) -> tuple[Account, str] | None:
        """A reset token for the account (to email), or None when no account has the address.

        The caller shows the same message either way."""
        now = now or _now()
        key = email.strip().lower()
        token = secrets.token_urlsafe(32)
        with self._session() as s, s.begin():
            user = s.scalar(select(m.User).where(m.User.email == key))
            if user is None:
                return None
            s.add(m.PasswordReset(user_id=user.id, token_hash=_digest(token),
                                  expires_at=now + RESET_LIFETIME, used_at=None))
            return _account(user), token

    def reset_password(self, token: str, new: str, *, now: datetime | None = None) -> Account:
        """Use a reset token once, before it expires; every session ends."""
        now = now or _now()
        with self._session() as s, s.begin():
            reset = s.scalar(select(m.PasswordReset).where(
                m.PasswordReset.token_hash == _digest(token)).with_for_update())
            if reset is None or reset.used_at is not None or reset.expires_at < now:
                raise AccountError("this reset link is invalid, used or expired; ask for a "
                                   "new one")
            user = s.get(m.User, reset.user_id)
            if user is None:
                raise AccountError("no such account")
            check_password(new, user.email)
            reset.used_at = now
            user.password_hash = self.hasher.hash(new)
            user.session_epoch += 1
            account = _account(user)
        RateLimits(self.store).clear(f"login:account:{account.email}")
        return account

    # --- API tokens -------------------------------------------------------------------

    def create_token(self, user_id: int, name: str) -> str:
        """A new API token: returned once, only its hash is kept."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._session() as s, s.begin():
            s.add(m.ApiToken(user_id=user_id, name=(name.strip() or "token")[:100],
                             token_hash=_digest(token), created_at=_now()))
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
            row = s.scalar(select(m.ApiToken).where(m.ApiToken.token_hash == _digest(token)))
            if row is None or row.revoked_at is not None:
                return None
            now = _now()
            # One write a minute at most: a script making many calls is not a write storm.
            if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
                row.last_used_at = now
            user = s.get(m.User, row.user_id)
            return _account(user) if user else None
