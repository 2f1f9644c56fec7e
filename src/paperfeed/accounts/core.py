"""What every part of the accounts package shares: the account value, the errors, the
checks on an email address and a password, and the random tokens kept only as hashes.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email

from paperfeed.errors import PaperfeedError
from paperfeed.store.accounts import Account as Account  # the value lives in the store
from paperfeed.store.limits import RateLimits

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 would hash a megabyte happily; nobody types one


class AccountError(PaperfeedError):
    """A request about an account that cannot be done; the message says why."""


class InvalidCredentialsError(AccountError):
    pass


class TooManyAttemptsError(AccountError):
    """Over a rate limit; `retry_after` is the whole seconds until the window ends."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def new_token() -> str:
    """A random 256-bit URL-safe token (43 characters)."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """What the store keeps of a token: its SHA-256, so a copy of the database gives no
    way in. A plain hash is enough for 256 random bits (nothing to brute-force)."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_email(email: str) -> str:
    """The address as stored: validated syntax, lower-cased (no DNS look-up)."""
    try:
        checked = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise AccountError(f"email: {exc}") from None
    return checked.normalized.lower()


def email_key(email: str) -> str:
    """The address for look-ups and rate-limit keys: normalized when valid, else as typed
    (lower-cased), so an invalid address never raises where the answer must not differ."""
    try:
        return normalize_email(email)
    except AccountError:
        return email.strip().lower()[:320]


def check_password(password: str, email: str = "") -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password: use at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"password: at most {MAX_PASSWORD} characters")
    if email and password.strip().lower() == email.lower():
        raise AccountError("password: must not be your email address")


def count_request(limits: RateLimits, keys: Sequence[tuple[str, int, str]], *,
                  window: timedelta, now: datetime, what: str) -> None:
    """Count one request under each (key, limit, scope), in order; over any limit, take
    the counts back (a refused request spends nothing) and raise TooManyAttemptsError
    naming the limit. Each count is one atomic upsert (store/limits.py), so concurrent
    requests cannot slip past a limit between a check and its count."""
    refused = limits.hit_all([(key, limit) for key, limit, _ in keys], window=window, now=now)
    if refused is not None:
        scope = next(s for key, _, s in keys if key[:255] == refused.key)
        hours = window.total_seconds() / 3600
        per = "an hour" if hours == 1 else f"in {hours:g} hours"
        raise TooManyAttemptsError(
            f"too many {what}: at most {refused.limit} {per} {scope}; try again in "
            f"{math.ceil(refused.retry_after / 60)} minutes", retry_after=refused.retry_after)
