"""Accounts in the store: users, password resets, API tokens, log-in sessions, pending sign-ups.

Owns the SQL over the users, password_resets, api_tokens, sessions and
pending_signups tables (`store/models.py`). Deciding is `paperfeed.accounts`'s job
(hashing, token making, limits, what to tell whom); this module only reads and
writes, by token hashes and ids, and hands back plain values. Each step that must be
atomic is one transaction in one method: claiming a reset link with the new
password, confirming a sign-up link, a password replacement with the end of every
session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from paperfeed.store import models as m
from paperfeed.store.store import Store, revoke_owned

__all__ = ["Account", "AccountStore", "Credentials", "FoundSession", "SessionInfo",
           "TokenInfo"]


@dataclass(frozen=True)
class Account:
    """Who a user is: id, email address (lower-cased) and display name."""

    id: int
    email: str
    name: str


@dataclass(frozen=True)
class Credentials:
    """An account with its argon2 password hash, for checking a password."""

    account: Account
    password_hash: str


@dataclass(frozen=True)
class TokenInfo:
    """One of a user's API tokens (never the token: only its hash is kept)."""

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class SessionInfo:
    """One of a user's sessions, for the account page."""

    id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class FoundSession:
    """A live session found by its token's hash, with its account."""

    id: int
    account: Account
    last_seen_at: datetime


def _account(user: m.User) -> Account:
    return Account(id=user.id, email=user.email, name=user.name)


_FIND_SESSION = (
    select(m.UserSession.id, m.UserSession.last_seen_at, m.User.id, m.User.email, m.User.name)
    .join(m.User, m.User.id == m.UserSession.user_id)
    .where(m.UserSession.token_hash == bindparam("token_hash"),
           m.UserSession.expires_at > bindparam("now")))


class AccountStore:
    """The account tables of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _session(self) -> Session:
        return Session(self.store.engine)

    # --- users ------------------------------------------------------------------------

    def create_user(self, email: str, name: str, password_hash: str, *, now: datetime
                    ) -> Account | None:
        """The new account; None when an account has this address already."""
        user = m.User(email=email, name=name, session_epoch=0, password_hash=password_hash,
                      created_at=now)
        try:
            with self._session() as s, s.begin():
                s.add(user)
                s.flush()
                return _account(user)
        except IntegrityError:
            return None

    def user(self, user_id: int) -> Account | None:
        with self._session() as s:
            user = s.get(m.User, user_id)
            return _account(user) if user else None

    def credentials(self, user_id: int) -> Credentials | None:
        with self._session() as s:
            user = s.get(m.User, user_id)
            return Credentials(_account(user), user.password_hash) if user else None

    def credentials_by_email(self, email: str) -> Credentials | None:
        """By the stored (lower-cased) address."""
        with self._session() as s:
            user = s.scalar(select(m.User).where(m.User.email == email))
            return Credentials(_account(user), user.password_hash) if user else None

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        """The same password, hashed anew (argon2 parameters changed); nothing else ends."""
        with self._session() as s, s.begin():
            s.execute(update(m.User).where(m.User.id == user_id)
                      .values(password_hash=password_hash))

    def replace_password(self, user_id: int, password_hash: str) -> None:
        """A new password, and in the same transaction nothing the old one let anyone do
        survives: every session and every outstanding reset link of the user goes."""
        with self._session() as s, s.begin():
            self._replace_password(s, user_id, password_hash)

    @staticmethod
    def _replace_password(s: Session, user_id: int, password_hash: str) -> None:
        s.execute(update(m.User).where(m.User.id == user_id)
                  .values(password_hash=password_hash))
        s.execute(delete(m.PasswordReset).where(m.PasswordReset.user_id == user_id))
        s.execute(delete(m.UserSession).where(m.UserSession.user_id == user_id))

    # --- password resets --------------------------------------------------------------

    def add_reset(self, email: str, token_hash: str, *, now: datetime, expires_at: datetime
                  ) -> Account | None:
        """Keep a reset token for the account of `email`, pruning expired ones; None (and
        nothing kept) when no account has the address."""
        with self._session() as s, s.begin():
            s.execute(delete(m.PasswordReset).where(m.PasswordReset.expires_at < now))
            user = s.scalar(select(m.User).where(m.User.email == email))
            if user is None:
                return None
            s.add(m.PasswordReset(user_id=user.id, token_hash=token_hash,
                                  expires_at=expires_at, used_at=None))
            return _account(user)

    def reset_owner(self, token_hash: str, *, now: datetime) -> Account | None:
        """The account of an unexpired reset token; reads only."""
        with self._session() as s:
            reset = s.scalar(select(m.PasswordReset).where(
                m.PasswordReset.token_hash == token_hash))
            if reset is None or reset.expires_at < now:
                return None
            user = s.get(m.User, reset.user_id)
            return _account(user) if user else None

    def claim_reset(self, token_hash: str, password_hash: str, *, now: datetime) -> int | None:
        """Use an unexpired reset token once: in one transaction it is deleted and its
        user's password replaced (`replace_password`). The user id; None when the token
        is unknown, expired or used (of two uses racing, only one finds the row)."""
        with self._session() as s, s.begin():
            claimed = s.execute(delete(m.PasswordReset).where(
                m.PasswordReset.token_hash == token_hash,
                m.PasswordReset.expires_at >= now).returning(m.PasswordReset.user_id)).first()
            if claimed is None:
                return None
            self._replace_password(s, claimed[0], password_hash)
            return int(claimed[0])

    # --- API tokens -------------------------------------------------------------------

    def add_api_token(self, user_id: int, name: str, token_hash: str, *, now: datetime
                      ) -> None:
        with self._session() as s, s.begin():
            s.add(m.ApiToken(user_id=user_id, name=name, token_hash=token_hash,
                             created_at=now))

    def api_tokens(self, user_id: int) -> list[TokenInfo]:
        with self._session() as s:
            return [TokenInfo(t.id, t.name, t.created_at, t.last_used_at, t.revoked_at)
                    for t in s.scalars(select(m.ApiToken).where(m.ApiToken.user_id == user_id)
                                       .order_by(m.ApiToken.id))]

    def revoke_api_token(self, user_id: int, token_id: int, *, now: datetime) -> bool:
        """False when the token is not the user's or is revoked already."""
        with self._session() as s, s.begin():
            return revoke_owned(s, m.ApiToken, token_id, user_id, now)

    def account_for_api_token(self, token_hash: str, *, now: datetime,
                              touch_every: timedelta) -> Account | None:
        """The account of an unrevoked API token, recording its use when the last one is
        older than `touch_every` (never in a read-only store)."""
        with self._session() as s, s.begin():
            row = s.scalar(select(m.ApiToken).where(m.ApiToken.token_hash == token_hash))
            if row is None or row.revoked_at is not None:
                return None
            stale = row.last_used_at is None or now - row.last_used_at > touch_every
            if stale and not self.store.read_only:
                row.last_used_at = now
            user = s.get(m.User, row.user_id)
            return _account(user) if user else None

    # --- log-in sessions --------------------------------------------------------------

    def start_session(self, user_id: int, token_hash: str, *, now: datetime,
                      expires_at: datetime) -> None:
        """A new session row; expired ones are pruned in the same transaction (log-ins
        are rare, and the index on expires_at makes it a range delete)."""
        with self._session() as s, s.begin():
            s.execute(delete(m.UserSession).where(m.UserSession.expires_at <= now))
            s.add(m.UserSession(user_id=user_id, token_hash=token_hash, created_at=now,
                                last_seen_at=now, expires_at=expires_at))

    def find_session(self, token_hash: str, *, now: datetime) -> FoundSession | None:
        """The unexpired session of a token hash: one read by the unique index (joined to
        the user by primary key), plain columns on a connection, as it runs on every
        request; writes nothing."""
        with self.store.engine.connect() as conn:
            row = conn.execute(_FIND_SESSION, {"token_hash": token_hash, "now": now}).first()
        if row is None:
            return None
        session_id, last_seen, user_id, email, name = row
        return FoundSession(session_id, Account(id=user_id, email=email, name=name), last_seen)

    def touch_session(self, session_id: int, *, now: datetime) -> None:
        with self._session() as s, s.begin():
            s.execute(update(m.UserSession).where(m.UserSession.id == session_id)
                      .values(last_seen_at=now))

    def end_session(self, token_hash: str) -> bool:
        """Delete the session of a token hash; True when there was one."""
        with self._session() as s, s.begin():
            result = s.execute(delete(m.UserSession)
                               .where(m.UserSession.token_hash == token_hash))
        return bool(getattr(result, "rowcount", 0))

    def end_sessions(self, user_id: int) -> int:
        """Delete every session of the user; how many there were."""
        with self._session() as s, s.begin():
            result = s.execute(delete(m.UserSession).where(m.UserSession.user_id == user_id))
        return int(getattr(result, "rowcount", 0) or 0)

    def sessions_of(self, user_id: int, *, now: datetime) -> list[SessionInfo]:
        """The user's unexpired sessions, most recently used first."""
        with self._session() as s:
            rows = s.scalars(select(m.UserSession)
                             .where(m.UserSession.user_id == user_id,
                                    m.UserSession.expires_at > now)
                             .order_by(m.UserSession.last_seen_at.desc(),
                                       m.UserSession.id.desc()))
            return [SessionInfo(r.id, r.created_at, r.last_seen_at, r.expires_at)
                    for r in rows]

    def prune_sessions(self, *, now: datetime) -> int:
        """Delete sessions expired at `now`; how many."""
        with self._session() as s, s.begin():
            result = s.execute(delete(m.UserSession).where(m.UserSession.expires_at <= now))
        return int(getattr(result, "rowcount", 0) or 0)

    # --- pending sign-ups -------------------------------------------------------------

    def add_pending_signup(self, email: str, name: str, password_hash: str, token_hash: str,
                           *, now: datetime, expires_at: datetime) -> Account | None:
        """Keep a sign-up waiting for its link (expired ones pruned) and return None; or,
        when the address has an account already, keep nothing and return that account."""
        with self._session() as s, s.begin():
            s.execute(delete(m.PendingSignup).where(m.PendingSignup.expires_at <= now))
            user = s.scalar(select(m.User).where(m.User.email == email))
            if user is not None:
                return _account(user)
            s.add(m.PendingSignup(email=email, name=name, password_hash=password_hash,
                                  token_hash=token_hash, created_at=now, expires_at=expires_at))
            return None

    def pending_signup_email(self, token_hash: str, *, now: datetime) -> str | None:
        """The address of an unexpired pending sign-up."""
        with self._session() as s:
            return s.scalar(select(m.PendingSignup.email).where(
                m.PendingSignup.token_hash == token_hash, m.PendingSignup.expires_at > now))

    def confirm_signup(self, token_hash: str, *, now: datetime
                       ) -> Account | Literal["invalid", "taken"]:
        """Turn an unexpired pending sign-up into its account, once; every other pending
        sign-up of the address goes too. "invalid" when the token is unknown, expired or
        used (nothing changes); "taken" when the address got an account meanwhile (the
        pending sign-ups are still deleted)."""
        try:
            with self._session() as s, s.begin():
                # Claimed by deleting it: two clicks on one link cannot both get past here.
                row = s.execute(delete(m.PendingSignup).where(
                    m.PendingSignup.token_hash == token_hash,
                    m.PendingSignup.expires_at > now).returning(
                    m.PendingSignup.email, m.PendingSignup.name,
                    m.PendingSignup.password_hash)).first()
                if row is None:
                    return "invalid"
                address, name, password_hash = row
                s.execute(delete(m.PendingSignup).where(m.PendingSignup.email == address))
                if s.scalar(select(m.User.id).where(m.User.email == address)) is not None:
                    return "taken"  # the deletions commit
                user = m.User(email=address, name=name, session_epoch=0,
                              password_hash=password_hash, created_at=now)
                s.add(user)
                s.flush()
                return _account(user)
        except IntegrityError:  # created by another link at the same moment
            return "taken"
