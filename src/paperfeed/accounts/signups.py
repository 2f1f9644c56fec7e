"""Sign-up by emailed link: the request says nothing about who has an account.

Decides over the `pending_signups` table, which `paperfeed.store.accounts` keeps.
`request` validates the form, counts the rate limits, hashes the password and draws the
link's token: the same work for every address, and none of it reads the users table, so
neither the answer nor its time tells whether the address is taken. `record` runs later,
off the request path (in the mail queue): it keeps a pending sign-up for a free address,
or returns the account that already has it (which is then mailed "you already have an
account"). `confirm` turns a link into the account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher

from paperfeed.accounts.core import (
    Account,
    AccountError,
    check_password,
    count_request,
    digest,
    new_token,
    normalize_email,
)
from paperfeed.clock import utc_now
from paperfeed.store import Store
from paperfeed.store.accounts import AccountStore
from paperfeed.store.limits import RateLimits

SIGNUP_LIFETIME = timedelta(hours=24)
SIGNUP_WINDOW = timedelta(hours=1)
MAX_SIGNUPS_PER_EMAIL = 3  # one address is not mailed more than this an hour
MAX_SIGNUPS_PER_CLIENT = 10
LINK_INVALID = "this sign-up link is invalid, used or expired; sign up again"


@dataclass(frozen=True)
class SignupRequest:
    """A checked sign-up form: what `record` keeps, and the token for the emailed link
    (only its SHA-256 is ever stored)."""

    email: str
    name: str
    password_hash: str
    token: str


class Signups:
    """Pending sign-ups over one store."""

    def __init__(self, store: Store, hasher: PasswordHasher) -> None:
        self.store = store
        self.hasher = hasher
        self.records = AccountStore(store)

    def request(self, email: str, password: str, name: str = "", *, client: str = "",
                now: datetime | None = None) -> SignupRequest:
        """A checked, counted, hashed sign-up, or AccountError (bad email or password) /
        TooManyAttemptsError (over a limit). Reads nothing about existing accounts."""
        now = now or utc_now()
        address = normalize_email(email)
        check_password(password, address)
        keys = [(f"signup:email:{address}", MAX_SIGNUPS_PER_EMAIL, "for one address")]
        if client:
            keys.append((f"signup:client:{client[:64]}", MAX_SIGNUPS_PER_CLIENT,
                         "from one network address"))
        count_request(RateLimits(self.store), keys, window=SIGNUP_WINDOW, now=now,
                      what="sign-up requests")
        # The expensive part, done whatever the address: an argon2 hash.
        return SignupRequest(email=address, name=name.strip()[:200],
                             password_hash=self.hasher.hash(password), token=new_token())

    def record(self, request: SignupRequest, *, now: datetime | None = None
               ) -> Account | None:
        """Keep the pending sign-up and return None; or, when the address already has an
        account, keep nothing and return that account."""
        now = now or utc_now()
        return self.records.add_pending_signup(
            request.email, request.name, request.password_hash, digest(request.token),
            now=now, expires_at=now + SIGNUP_LIFETIME)

    def pending(self, token: str, *, now: datetime | None = None) -> str | None:
        """The address a valid sign-up link is for, else None (the confirm page)."""
        if len(token) > 100:
            return None
        return self.records.pending_signup_email(digest(token), now=now or utc_now())

    def confirm(self, token: str, *, now: datetime | None = None) -> Account:
        """Create the account of a sign-up link, once; its other links for the address
        stop working. AccountError when the link is not valid or the address was taken
        in the meantime."""
        if len(token) > 100:
            raise AccountError(LINK_INVALID)
        confirmed = self.records.confirm_signup(digest(token), now=now or utc_now())
        if confirmed == "invalid":
            raise AccountError(LINK_INVALID)
        if confirmed == "taken":
            raise AccountError("email: an account with this address exists; log in or "
                               "reset the password")
        return confirmed
