"""Server-side log-in sessions: one row a logged-in browser, found by its token's hash.

Decides over the `sessions` table, which `paperfeed.store.accounts` keeps. The browser's
`pf_session` cookie carries a random 256-bit token; the store keeps only its SHA-256, so
a copy of the database logs nobody in. A
session ends when its row goes: log-out deletes it (a saved cookie stops working at
once), a password change or reset deletes every one of the user's, and rows past their
expiry are pruned whenever someone logs in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from paperfeed.accounts.core import Account, digest, new_token
from paperfeed.clock import utc_now
from paperfeed.store import Store
from paperfeed.store.accounts import AccountStore
from paperfeed.store.accounts import SessionInfo as SessionInfo  # the value lives in the store

SESSION_LIFETIME = timedelta(days=30)
# Last-seen is written at most this often: a browser loading many pages is not a write
# storm (the same rule as API tokens).
TOUCH_EVERY = timedelta(minutes=1)
MAX_TOKEN = 100  # a real token is 43 characters; anything longer is not one


@dataclass(frozen=True)
class LiveSession:
    """A valid session found from a cookie: its row id, account, and whether its
    last-seen time is due an update (`Sessions.touch`)."""

    id: int
    account: Account
    stale: bool


class Sessions:
    """Sessions over one store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.records = AccountStore(store)

    def start(self, user_id: int, *, now: datetime | None = None) -> str:
        """A new session for the user; returns the token for the cookie (never stored).
        Expired sessions are pruned here, not per request: log-ins are rare."""
        now = now or utc_now()
        token = new_token()
        self.records.start_session(user_id, digest(token), now=now,
                                   expires_at=now + SESSION_LIFETIME)
        return token

    def find(self, token: str | None, *, now: datetime | None = None) -> LiveSession | None:
        """The live session of a cookie's token, else None. One read by the unique index
        on token_hash; writes nothing."""
        if not token or len(token) > MAX_TOKEN:
            return None
        now = now or utc_now()
        found = self.records.find_session(digest(token), now=now)
        if found is None:
            return None
        return LiveSession(id=found.id, account=found.account,
                           stale=now - found.last_seen_at >= TOUCH_EVERY)

    def touch(self, session_id: int, *, now: datetime | None = None) -> None:
        """Record that the session was just used."""
        self.records.touch_session(session_id, now=now or utc_now())

    def end(self, token: str | None) -> bool:
        """Log-out: delete the session of this token. True when there was one."""
        if not token or len(token) > MAX_TOKEN:
            return False
        return self.records.end_session(digest(token))

    def end_all(self, user_id: int) -> int:
        """Delete every session of the user; how many there were."""
        return self.records.end_sessions(user_id)

    def of_user(self, user_id: int, *, now: datetime | None = None) -> list[SessionInfo]:
        """The user's live sessions, most recently used first."""
        return self.records.sessions_of(user_id, now=now or utc_now())

    def prune(self, *, now: datetime | None = None) -> int:
        """Delete expired sessions; the number deleted."""
        return self.records.prune_sessions(now=now or utc_now())
