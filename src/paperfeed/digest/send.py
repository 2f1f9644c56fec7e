"""Sending the email digest: each due user's picks in one message, at most once a period.

Who is due: "daily" users once per day (period key "2026-11-23"), "weekly" users
once per ISO week ("2026-W48"), "off" never; the day and week are the user's own, in
their time zone (UTC by default). A run with `at_hour` (the scheduler's) sends only to
users whose chosen local hour has come today; `paperfeed digest send` sends to all.
A user who never chose is on daily:
signing up is asking for the feed, and the unsubscribe link is in every message.
A digest holds the papers the pick source returns for papers listed since the day of
the user's previous digest (else the last 1 or 7 days), minus every paper already
in one of their digests (seen_papers); a user with no picks gets no email.

Idempotency, and why the claim comes before the message: the unique (user_id,
period_key) of digest_runs is the lock. One transaction inserts the run (status
"sending") and the papers' seen_papers rows; only then does the message go out, and
a second, small transaction marks it "sent". So:

- running twice sends nothing new: the second run finds the period's row and skips;
- two runs at once cannot both send: the loser's insert violates the unique
  constraint and it skips;
- a crash after the claim (before or after the SMTP server took the message) leaves
  the row in "sending": it is never sent again, and the report shows it as
  unconfirmed with its Message-ID to look up in the mail log. At most once: a
  missing digest costs less than a duplicate, and the next period's digest goes on
  from there;
- a send the SMTP server refused (MailError) is undone (row and seen papers
  deleted), so the next run retries it. The one residual double-send is a connection
  lost after the server accepted the message but before its reply arrived, which no
  SMTP client can tell from a refusal.

A dry run writes the messages as .eml files to a folder, sends nothing and marks
nothing seen, so it can be repeated; it records its run under "dry-run:<period>",
which never blocks the real run of that period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from paperfeed.digest.settings import (
    DEFAULT_FREQUENCY,
    DigestError,
    Subscription,
    delivery_time,
    time_zone,
    unsubscribe_token,
)
from paperfeed.mail import Mailer, OutboxMailer, message
from paperfeed.mail.mailer import MailError
from paperfeed.presentation import present
from paperfeed.rank.picks import Pick, PickSource
from paperfeed.store import Store, StoredPaper
from paperfeed.store.browse import Browse
from paperfeed.store.digests import DigestStore, RunInfo
from paperfeed.store.personal import Personal

LOOKBACK = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
MAX_AUTHORS = 6

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False,
                                 default=False),
    undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Outcome:
    """What a run did for one user: sent, dry-run, empty, skipped or failed, and why."""

    user_id: int
    email: str
    status: str
    period_key: str = ""
    paper_ids: tuple[int, ...] = ()
    detail: str = ""


@dataclass
class DigestReport:
    """Every user's outcome of one `send_digests` run, in user id order."""

    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def sent(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "sent"]

    def summary(self) -> str:
        parts = [f"{self.count(s)} {s}" for s in ("sent", "dry-run", "empty", "skipped", "failed")
                 if self.count(s) or s in ("sent", "skipped")]
        return ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {"outcomes": [{"user_id": o.user_id, "email": o.email, "status": o.status,
                              "period": o.period_key, "paper_ids": list(o.paper_ids),
                              "detail": o.detail} for o in self.outcomes],
                "counts": {s: self.count(s)
                           for s in ("sent", "dry-run", "empty", "skipped", "failed")}}


@dataclass(frozen=True)
class DigestItem:
    """One paper as the message shows it."""

    title: str
    authors: str
    url: str
    page_url: str
    reason: str
    listed: date | None


def period_key(frequency: str, now: datetime) -> str:
    """The period a digest of this frequency sent at `now` (UTC) belongs to."""
    day = now.date()
    if frequency == "weekly":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return day.isoformat()


def _utc(now: datetime) -> datetime:
    """`now` as naive UTC (the store's convention); a naive value is taken as UTC."""
    return now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo is not None else now


def _base_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise DigestError(f"base URL: expected http(s)://host[:port][/path], got {url!r}")
    return url.strip().rstrip("/")


def _http_url(url: str | None) -> str | None:
    """Only http(s) links go in a message: a stored `javascript:` URL must never be a href."""
    if not url:
        return None
    return url.strip() if urlsplit(url.strip()).scheme.lower() in ("http", "https") else None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _authors(names: Sequence[str]) -> str:
    if len(names) <= MAX_AUTHORS:
        return ", ".join(names)
    return f"{', '.join(names[:MAX_AUTHORS])} and {len(names) - MAX_AUTHORS} more"


def digest_items(papers: Sequence[StoredPaper], picks: Sequence[Pick], base_url: str
                 ) -> list[DigestItem]:
    """The papers of the picks, in pick order, ready to render."""
    by_id = {p.id: p for p in papers}
    items = []
    for pick in picks:
        paper = by_id.get(pick.paper_id)
        if paper is None:
            continue
        record, view = paper.record, present(paper)
        page_url = f"{base_url}{view.path}"
        items.append(DigestItem(
            title=_one_line(view.title) or record.title,
            authors=_one_line(_authors([a.name for a in record.authors])),
            url=_http_url(record.abs_url) or _http_url(record.pdf_url) or page_url,
            page_url=page_url, reason=_one_line(pick.reason),
            listed=record.first_listed or record.submitted))
    return items


def _label(frequency: str, now: datetime) -> str:
    day = now.date()
    if frequency == "weekly":
        monday = day - timedelta(days=day.weekday())
        return f"the week of {monday.day} {monday:%B %Y}"
    return f"{day:%A} {day.day} {day:%B %Y}"


def compose(*, sender: str, to: str, name: str, items: Sequence[DigestItem], frequency: str,
            now: datetime, base_url: str, unsubscribe_url: str,
            message_id: str | None = None) -> EmailMessage:
    """One multipart digest message (plain text, then HTML) with one-click unsubscribe."""
    count = len(items)
    label = _label(frequency, now)
    context = {
        "name": _one_line(name), "items": items, "count": count, "label": label,
        "frequency": frequency, "base_url": base_url, "unsubscribe_url": unsubscribe_url,
        "settings_url": f"{base_url}/account/digest",
    }
    text = _templates.get_template("digest_email.txt").render(context)
    html = _templates.get_template("digest_email.html").render(context)
    subject = f"paperfeed: {count} new paper{'s' if count != 1 else ''} for {label}"
    msg = message(sender=sender, to=to, subject=subject, text=text, html=html, headers={
        # RFC 2369 and RFC 8058: mail clients show an unsubscribe button that POSTs here.
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Auto-Submitted": "auto-generated",
    })
    if message_id is not None:
        msg.replace_header("Message-ID", message_id)
    # At the default 78 columns Python folds a header with one long word (the URL) by
    # RFC 2047-encoding it, which mail clients do not undo for List-Unsubscribe.
    msg.policy = msg.policy.clone(max_line_length=998)
    return msg


def _unique(picks: Sequence[Pick], k: int) -> list[Pick]:
    """The first pick of each paper, at most k (a source may repeat itself)."""
    out: dict[int, Pick] = {}
    for pick in picks:
        out.setdefault(pick.paper_id, pick)
    return list(out.values())[:k]


def _message_id(sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2]
    return make_msgid(idstring="digest", domain=domain or None)


@dataclass(frozen=True)
class _User:
    id: int
    email: str
    name: str
    subscription: Subscription


@dataclass
class _Run:
    store: Store
    picks: PickSource
    mailer: Mailer
    sender: str
    base_url: str
    now: datetime
    dry_run: bool
    k: int
    secret: bytes
    at_hour: bool = False

    @property
    def records(self) -> DigestStore:
        return DigestStore(self.store)

    def user(self, user: _User) -> Outcome:
        sub = user.subscription
        if sub.frequency == "off":
            why = (f"unsubscribed on {sub.unsubscribed_at:%Y-%m-%d}" if sub.unsubscribed_at
                   else "digest is off")
            return Outcome(user.id, user.email, "skipped", detail=why)
        hour, zone_name = delivery_time(sub)
        try:
            zone = time_zone(zone_name)
        except DigestError:  # written before validation existed: UTC rather than no digest
            zone, zone_name = time_zone("UTC"), "UTC"
        local = self.now.replace(tzinfo=UTC).astimezone(zone)
        key = period_key(sub.frequency, local)
        if self.at_hour and local.hour < hour:
            return Outcome(user.id, user.email, "skipped", key,
                           detail=f"waits for {hour:02d}:00 {zone_name}")
        done = self.records.run(user.id, key)
        if done is not None:
            return Outcome(user.id, user.email, "skipped", key, done.paper_ids, _why_done(done))
        last = self.records.last_real_run_at(user.id)
        # The previous digest's day, inclusive: papers listed that day may have been
        # harvested after it went out; seen_papers keeps the ones it had out.
        since = last.date() if last is not None else (self.now - LOOKBACK[sub.frequency]).date()
        chosen = _unique(self.picks(user.id, since, self.k, True), self.k)
        papers = self.store.get_many([p.paper_id for p in chosen], details=False)
        items = digest_items(papers, chosen, self.base_url)
        found = {p.id for p in papers}
        chosen = [p for p in chosen if p.paper_id in found]
        if self.dry_run:
            return self._dry_run(user, key, chosen, items)
        message_id = _message_id(self.sender)
        # Rendered before the claim: a template error must not leave a claimed, unsent run.
        msg = self._compose(user, items, message_id) if items else None
        claimed = self.records.claim(user.id, key, [p.paper_id for p in chosen], message_id,
                                     now=self.now)
        if claimed is None:
            return Outcome(user.id, user.email, "skipped", key, detail=self._lost_claim(
                user.id, key))
        run_id, kept = claimed
        if not kept:
            return Outcome(user.id, user.email, "empty", key, detail="no new papers")
        if msg is None or len(kept) != len(chosen):  # some were seen (feed page) meanwhile
            keep = set(kept)
            msg = self._compose(user, digest_items(
                papers, [p for p in chosen if p.paper_id in keep], self.base_url), message_id)
        try:
            self.mailer.send(msg)
        except MailError as exc:
            self.records.release(run_id, user.id, kept)
            return Outcome(user.id, user.email, "failed", key, tuple(kept),
                           f"{exc}; not recorded, the next run tries again")
        self.records.mark_sent(run_id)
        return Outcome(user.id, user.email, "sent", key, tuple(kept), message_id)

    def _compose(self, user: _User, items: Sequence[DigestItem], message_id: str
                 ) -> EmailMessage:
        token = unsubscribe_token(self.secret, user.id)
        return compose(
            sender=self.sender, to=user.email, name=user.name, items=items,
            frequency=user.subscription.frequency, now=self.now, base_url=self.base_url,
            unsubscribe_url=f"{self.base_url}/unsubscribe?{urlencode({'token': token})}",
            message_id=message_id)

    def _lost_claim(self, user_id: int, key: str) -> str:
        if self.records.run(user_id, key) is not None:
            return f"{key}: claimed by another run at the same time"
        # The unique (user, paper) of seen_papers: the feed marked a pick seen meanwhile.
        return f"{key}: papers were marked seen while picking; the next run tries again"

    def _dry_run(self, user: _User, key: str, chosen: list[Pick], items: list[DigestItem]
                 ) -> Outcome:
        if not items:
            return Outcome(user.id, user.email, "empty", key, detail="no new papers (dry run)")
        message_id = _message_id(self.sender)
        self.mailer.send(self._compose(user, items, message_id))
        ids = [p.paper_id for p in chosen]
        dry_key = f"dry-run:{key}"
        self.records.record_dry_run(user.id, dry_key, ids, message_id, now=self.now)
        return Outcome(user.id, user.email, "dry-run", key, tuple(ids), message_id)


def _why_done(run: RunInfo) -> str:
    if run.status == "sending":
        return (f"{run.period_key}: a send started at {run.created_at:%Y-%m-%d %H:%M} was "
                f"never confirmed (crash?); not sent again. Look for {run.message_id} in "
                "the mail log")
    if run.status == "empty":
        return f"{run.period_key}: already ran, nothing new then"
    return f"{run.period_key}: already sent"


def send_digests(store: Store, picks: PickSource, mailer: Mailer, sender: str, *,
                 base_url: str, now: datetime, dry_run_dir: Path | None = None,
                 k: int = 10, at_hour: bool = False) -> DigestReport:
    """Send every due user's digest (see the module docstring); one outcome per user.

    `now` is the current time (naive values are UTC); `base_url` is where the web app
    is reached, for the paper and unsubscribe links. With `dry_run_dir` the messages
    are written there as .eml files instead of sent, and no paper is marked seen.
    With `at_hour`, only users whose local send hour has come today are due.
    """
    run = _Run(store=store, picks=picks, base_url=_base_url(base_url), now=_utc(now),
               mailer=OutboxMailer(dry_run_dir) if dry_run_dir is not None else mailer,
               sender=sender, dry_run=dry_run_dir is not None, k=k,
               secret=store.secret_key(), at_hour=at_hour)
    default = Subscription(DEFAULT_FREQUENCY, None)
    users = [_User(account.id, account.email, account.name, sub or default)
             for account, sub in DigestStore(store).recipients()]
    return DigestReport([run.user(user) for user in users])


def newest_papers(store: Store) -> PickSource:
    """A pick source without a model: the newest papers in the user's followed categories
    (all categories when they follow none). For when the real ranker is unavailable."""

    def picks(user_id: int, since: date | None, k: int, exclude_seen: bool) -> list[Pick]:
        followed = [value for _, kind, value in Personal(store).follows(user_id)
                    if kind == "category"]
        rows = Browse(store).newest(categories=followed, since=since, k=k,
                                    unseen_by=user_id if exclude_seen else None)
        out = []
        for rank, paper in enumerate(rows):
            matched = next((c for c in paper.categories if c in followed), None)
            where = matched or paper.primary_category
            out.append(Pick(paper.id, float(len(rows) - rank),
                            f"new in {where}" if where else "new"))
        return out

    return picks

