"""Server-side log-in sessions: one row a logged-in browser, found by its token's hash.

Owns the `sessions` table. The browser's `pf_session` cookie carries a random 256-bit
token; the store keeps only its SHA-256, so a copy of the database logs nobody in. A
session ends when its row goes: log-out deletes it (a saved cookie stops working at
once), a password change or reset deletes every one of the user's, and rows past their
expiry are pruned whenever someone logs in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from paperfeed.accounts.core import Account, digest, new_token
from paperfeed.store import Store
from paperfeed.store import models as m
from paperfeed.store.store import _now

SESSION_LIFETIME = timedelta(days=30)
# Last-seen is written at most this often: a browser loading many pages is not a write
# storm (the same rule as API tokens).
TOUCH_EVERY = timedelta(minutes=1)
MAX_TOKEN = 100  # a real token is 43 characters; anything longer is not one


_FIND = (select(m.UserSession.id, m.UserSession.last_seen_at, m.User.id, m.User.email,
                m.User.name)
         .join(m.User, m.User.id == m.UserSession.user_id)
         .where(m.UserSession.token_hash == bindparam("token_hash"),
                m.UserSession.expires_at > bindparam("now")))


@dataclass(frozen=True)
class LiveSession:
    """A valid session found from a cookie: its row id, account, and whether its
    last-seen time is due an update (`Sessions.touch`)."""

    id: int
    account: Account
    stale: bool


@dataclass(frozen=True)
class SessionInfo:
    """One of a user's sessions, for the account page."""

    id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


class Sessions:
    """Sessions over one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def start(self, user_id: int, *, now: datetime | None = None) -> str:
        """A new session for the user; returns the token for the cookie (never stored)."""
        now = now or _now()
        token = new_token()
        with Session(self.store.engine) as s, s.begin():
            # Pruned here, not per request: log-ins are rare, and the index on
            # expires_at makes this a range delete.
            s.execute(delete(m.UserSession).where(m.UserSession.expires_at <= now))
            s.add(m.UserSession(user_id=user_id, token_hash=digest(token), created_at=now,
                                last_seen_at=now, expires_at=now + SESSION_LIFETIME))
        return token

    def find(self, token: str | None, *, now: datetime | None = None) -> LiveSession | None:
        """The live session of a cookie's token, else None. One read by the unique index
        on token_hash (joined to the user by primary key); writes nothing."""
        if not token or len(token) > MAX_TOKEN:
            return None
        now = now or _now()
        # Plain columns on a connection, not ORM objects: this runs on every request.
        with self.store.engine.connect() as conn:
            row = conn.execute(_FIND, {"token_hash": digest(token), "now": now}).first()
        if row is None:
            return None
        session_id, last_seen, user_id, email, name = row
        return LiveSession(id=session_id, account=Account(id=user_id, email=email, name=name),
                           stale=now - last_seen >= TOUCH_EVERY)

    def touch(self, session_id: int, *, now: datetime | None = None) -> None:
        """Record that the session was just used."""
        with Session(self.store.engine) as s, s.begin():
            s.execute(update(m.UserSession).where(m.UserSession.id == session_id)
                      .values(last_seen_at=now or _now()))

    def end(self, token: str | None) -> bool:
        """Log-out: delete the session of this token. True when there was one."""
        if not token or len(token) > MAX_TOKEN:
            return False
        with Session(self.store.engine) as s, s.begin():
            result = s.execute(delete(m.UserSession)
                               .where(m.UserSession.token_hash == digest(token)))
        return bool(getattr(result, "rowcount", 0))

    def end_all(self, user_id: int, *, session: Session | None = None) -> int:
        """Delete every session of the user (in the caller's transaction when given)."""
        stmt = delete(m.UserSession).where(m.UserSession.user_id == user_id)
        if session is not None:
            result = session.execute(stmt)
        else:
            with Session(self.store.engine) as s, s.begin():
                result = s.execute(stmt)
        return int(getattr(result, "rowcount", 0) or 0)

    def of_user(self, user_id: int, *, now: datetime | None = None) -> list[SessionInfo]:
        """The user's live sessions, most recently used first."""
        now = now or _now()
        with Session(self.store.engine) as s:
            rows = s.scalars(select(m.UserSession)
                             .where(m.UserSession.user_id == user_id,
                                    m.UserSession.expires_at > now)
                             .order_by(m.UserSession.last_seen_at.desc(),
                                       m.UserSession.id.desc()))
            return [SessionInfo(r.id, r.created_at, r.last_seen_at, r.expires_at)
                    for r in rows]

    def prune(self, *, now: datetime | None = None) -> int:
        """Delete expired sessions; the number deleted."""
        with Session(self.store.engine) as s, s.begin():
            result = s.execute(delete(m.UserSession)
                               .where(m.UserSession.expires_at <= (now or _now())))
        return int(getattr(result, "rowcount", 0) or 0)
