"""The email digest in the store: each user's setting, and every digest run with its claim.

Owns the SQL over digest_settings and digest_runs (`store/models_digest.py`) and the
digest's rows of seen_papers (channel "digest"). `paperfeed.digest` decides who is due,
composes and sends; this module reads and writes. The claim that makes sending
idempotent is one transaction here (`claim`): the run row, whose unique (user, period)
is the lock, and the seen papers together, or neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from paperfeed.store import models as m
from paperfeed.store.accounts import Account
from paperfeed.store.models_digest import DigestRun, DigestSetting
from paperfeed.store.store import Store

__all__ = ["REAL_RUNS", "DigestStore", "Frequency", "RunInfo", "Subscription"]

Frequency = Literal["daily", "weekly", "off"]
# Runs that count as a digest of their period (a dry run does not).
REAL_RUNS = ("sending", "sent", "empty")


@dataclass(frozen=True)
class Subscription:
    """How often a user wants the digest, when they unsubscribed by the link, and the
    local hour and IANA time zone the scheduler sends at (None: the defaults)."""

    frequency: Frequency
    unsubscribed_at: datetime | None
    hour: int | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class RunInfo:
    """One digest run: its period, status (sending, sent, empty, dry-run) and papers."""

    id: int
    period_key: str
    status: str
    paper_ids: tuple[int, ...]
    message_id: str | None
    created_at: datetime


def _subscription(row: DigestSetting) -> Subscription:
    return Subscription(cast(Frequency, row.frequency), row.unsubscribed_at, row.hour,
                        row.timezone)


class DigestStore:
    """The digest tables of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _session(self) -> Session:
        return Session(self.store.engine)

    # --- settings ---------------------------------------------------------------------

    def subscription(self, user_id: int) -> Subscription | None:
        """The user's setting; None when they never chose."""
        with self._session() as s:
            row = s.get(DigestSetting, user_id)
            return _subscription(row) if row is not None else None

    def set_subscription(self, user_id: int, frequency: Frequency,
                         unsubscribed_at: datetime | None, *, now: datetime) -> bool:
        """Write the user's setting; False when the account does not exist."""
        return self._write(user_id, now, frequency, frequency=frequency,
                           unsubscribed_at=unsubscribed_at)

    def set_delivery(self, user_id: int, hour: int | None, timezone: str | None, *,
                     now: datetime, default: Frequency) -> bool:
        """Write the user's send hour and time zone (a user without a setting gets one
        with `default` frequency); False when the account does not exist."""
        return self._write(user_id, now, default, hour=hour, timezone=timezone)

    def _write(self, user_id: int, now: datetime, made_with: Frequency, **values: Any) -> bool:
        """Set `values` on the user's setting row, made with frequency `made_with` when
        missing."""
        # Two tries: a concurrent first write of the same user's row wins the insert, and
        # this one then updates it.
        for _ in range(2):
            try:
                with self._session() as s, s.begin():
                    if s.get(m.User, user_id) is None:
                        return False
                    row = s.get(DigestSetting, user_id)
                    if row is None:
                        row = DigestSetting(user_id=user_id, frequency=made_with)
                        s.add(row)
                    for name, value in values.items():
                        setattr(row, name, value)
                    row.updated_at = now
                return True
            except IntegrityError:
                continue
        return False

    def recipients(self) -> list[tuple[Account, Subscription | None]]:
        """Every account, by id, with its setting (None: never chose)."""
        with self._session() as s:
            settings = {row.user_id: _subscription(row)
                        for row in s.scalars(select(DigestSetting))}
            return [(Account(u.id, u.email, u.name), settings.get(u.id))
                    for u in s.scalars(select(m.User).order_by(m.User.id))]

    # --- runs -------------------------------------------------------------------------

    def run(self, user_id: int, period_key: str) -> RunInfo | None:
        """The user's run of a period, if there is one."""
        with self._session() as s:
            row = s.scalar(select(DigestRun).where(DigestRun.user_id == user_id,
                                                   DigestRun.period_key == period_key))
            if row is None:
                return None
            return RunInfo(row.id, row.period_key, row.status, tuple(row.paper_ids or ()),
                           row.message_id, row.created_at)

    def last_real_run_at(self, user_id: int) -> datetime | None:
        """When the user's latest real digest (not a dry run) was made."""
        with self._session() as s:
            return s.scalar(select(DigestRun.created_at).where(
                DigestRun.user_id == user_id, DigestRun.status.in_(REAL_RUNS))
                .order_by(DigestRun.created_at.desc()).limit(1))

    def claim(self, user_id: int, period_key: str, paper_ids: Sequence[int],
              message_id: str, *, now: datetime) -> tuple[int, list[int]] | None:
        """Decide to send, in one transaction: the run row (status "sending", or "empty"
        when every paper was seen meanwhile) and the unseen papers' seen_papers rows.
        (run id, the papers kept); None when the period is claimed already or a paper
        was marked seen concurrently (nothing written then)."""
        try:
            with self._session() as s, s.begin():
                if s.scalar(select(DigestRun.id).where(
                        DigestRun.user_id == user_id,
                        DigestRun.period_key == period_key)) is not None:
                    return None
                seen = set(s.scalars(select(m.SeenPaper.paper_id).where(
                    m.SeenPaper.user_id == user_id, m.SeenPaper.paper_id.in_(paper_ids))))
                kept = [pid for pid in paper_ids if pid not in seen]
                run = DigestRun(user_id=user_id, period_key=period_key,
                                status="sending" if kept else "empty", paper_ids=kept,
                                message_id=message_id if kept else None, created_at=now)
                s.add(run)
                s.add_all(m.SeenPaper(user_id=user_id, paper_id=pid, channel="digest",
                                      seen_at=now) for pid in kept)
                s.flush()
                return run.id, kept
        except IntegrityError:  # the unique (user, period) or (user, paper): lost a race
            return None

    def run_counts(self) -> dict[str, int]:
        """How many digest runs there are by status (sending, sent, empty, dry-run)."""
        with self._session() as s:
            rows = s.execute(select(DigestRun.status, func.count()).group_by(DigestRun.status))
            return {status: n for status, n in rows}

    def mark_sent(self, run_id: int) -> None:
        with self._session() as s, s.begin():
            s.execute(update(DigestRun).where(DigestRun.id == run_id).values(status="sent"))

    def release(self, run_id: int, user_id: int, paper_ids: Sequence[int]) -> None:
        """Undo a claim (the run and its seen papers), so the next run tries again."""
        with self._session() as s, s.begin():
            s.execute(delete(DigestRun).where(DigestRun.id == run_id))
            s.execute(delete(m.SeenPaper).where(
                m.SeenPaper.user_id == user_id, m.SeenPaper.channel == "digest",
                m.SeenPaper.paper_id.in_(paper_ids)))

    def record_dry_run(self, user_id: int, period_key: str, paper_ids: Sequence[int],
                       message_id: str, *, now: datetime) -> None:
        """Keep the latest dry run of a period (under its own key), replacing an earlier one."""
        with self._session() as s, s.begin():
            s.execute(delete(DigestRun).where(DigestRun.user_id == user_id,
                                              DigestRun.period_key == period_key))
            s.add(DigestRun(user_id=user_id, period_key=period_key, status="dry-run",
                            paper_ids=list(paper_ids), message_id=message_id, created_at=now))
