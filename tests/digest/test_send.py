"""Sending digests through a real SMTP server on loopback, over a real SQLite store."""

from __future__ import annotations

import re
import threading
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from paperfeed.catalog import Catalog
from paperfeed.digest import (
    DigestError,
    DigestReport,
    newest_papers,
    send_digests,
    set_delivery_time,
    set_frequency,
    subscription,
    unsubscribe,
    unsubscribe_token,
    verify_unsubscribe,
)
from paperfeed.digest.send import period_key
from paperfeed.mail import Mailer
from paperfeed.mail.mailer import MailError
from paperfeed.rank.picks import PickSource
from paperfeed.store import Store
from paperfeed.store import models as m
from paperfeed.store.models_digest import DigestRun
from tests.digest.conftest import (
    BASE_URL,
    DAY1,
    DAY2,
    HOSTILE_ID,
    SENDER,
    CategorySource,
    Corpus,
    Smtp,
    Users,
    at,
)


def run(store: Store, source: PickSource, mailer: Mailer, day: date, hour: int = 7, *,
        dry_run_dir: Path | None = None) -> DigestReport:
    return send_digests(store, source, mailer, SENDER, base_url=BASE_URL, now=at(day, hour),
                        dry_run_dir=dry_run_dir, k=5)


def parts(msg: EmailMessage) -> tuple[str, str]:
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def arxiv_ids(text: str) -> list[str]:
    return re.findall(r"https://arxiv\.org/(?:abs|pdf)/(\d{4}\.\d{4,5})", text)


def paper_ids(store: Store, arxiv: list[str]) -> list[int]:
    with Session(store.engine) as s:
        by_arxiv = {a: i for a, i in s.execute(
            select(m.Paper.arxiv_id, m.Paper.id).where(m.Paper.arxiv_id.in_(arxiv)))}
    return [by_arxiv[a] for a in arxiv]


def seen(store: Store, user_id: int) -> dict[int, str]:
    with Session(store.engine) as s:
        return {p: c for p, c in s.execute(select(m.SeenPaper.paper_id, m.SeenPaper.channel)
                                           .where(m.SeenPaper.user_id == user_id))}


def runs(store: Store, user_id: int) -> list[tuple[str, str, list[int]]]:
    with Session(store.engine) as s:
        return [(r.period_key, r.status, list(r.paper_ids)) for r in s.scalars(
            select(DigestRun).where(DigestRun.user_id == user_id).order_by(DigestRun.id))]


def ingest_day2(store: Store, corpus: Corpus) -> None:
    with Catalog(store.data_dir) as catalog:
        report = catalog.ingest_file(corpus.day2)
        assert report.error is None and report.report.ingested == 120


def test_each_user_gets_one_email_with_their_picks(store: Store, users: Users,
                                                   source: CategorySource, smtp: Smtp) -> None:
    report = run(store, source, smtp.mailer, DAY1)
    assert {o.email: o.status for o in report.outcomes} == {
        "alice@example.org": "sent", "bob@example.org": "sent", "carol@example.org": "empty"}
    assert len(smtp.inbox.messages) == 2 and not smtp.inbox.to("carol@example.org")
    for user, category in ((users.alice, "cs.CV"), (users.bob, "cs.RO")):
        [msg] = smtp.inbox.to(user.email)
        picked = source.picked(user.id)
        assert len(picked) == 5
        assert msg.get_content_type() == "multipart/alternative"
        text, html = parts(msg)
        # The right papers, in the pick order, in both parts; each with its reason.
        assert paper_ids(store, arxiv_ids(text)) == picked
        assert paper_ids(store, arxiv_ids(html)) == picked
        assert text.count(f"Why: new in {category}") == 5
        assert html.count(f"Why: new in {category}") == 5
        for paper in store.get_many(picked):
            assert paper.record.authors[0].name.split()[-1] in text
        # One-click unsubscribe (RFC 8058): the header and a link in the body.
        link = re.fullmatch(rf"<({re.escape(BASE_URL)}/unsubscribe\?token=([\w.-]+))>",
                            msg["List-Unsubscribe"])
        assert link, msg["List-Unsubscribe"]
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert link.group(1) in text and link.group(1) in html
        assert verify_unsubscribe(store.secret_key(), link.group(2)) == user.id
        assert msg["From"] == SENDER and "5 new papers" in msg["Subject"]
        # Recorded as seen by the digest, and the run as sent, with its Message-ID.
        assert seen(store, user.id) == dict.fromkeys(picked, "digest")
        assert runs(store, user.id) == [("2025-03-18", "sent", picked)]
    assert runs(store, users.carol.id) == [("2025-03-18", "empty", [])]
    # The first call of each user looks back one day from the run (no previous digest).
    assert {since for _, since, _ in source.calls} == {DAY1 - timedelta(days=1)}


def test_titles_are_cleaned_and_escaped_and_links_only_http(store: Store, users: Users,
                                                            source: CategorySource,
                                                            smtp: Smtp) -> None:
    run(store, source, smtp.mailer, DAY1)
    [msg] = smtp.inbox.to(users.alice.email)
    text, html = parts(msg)
    # The hostile paper is the newest cs.CV one, so alice's first pick.
    assert arxiv_ids(text)[0] == HOSTILE_ID
    assert "α-Net" in text and "\\alpha" not in text and "\\textbf" not in text
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>Mallory</b>" not in html and "&lt;b&gt;Mallory&lt;/b&gt;" in html
    assert "javascript:" not in html and "javascript:" not in text
    assert 'href="https://arxiv.org/pdf/2503.99991"' in html


def test_running_again_sends_nothing(store: Store, users: Users, source: CategorySource,
                                     smtp: Smtp) -> None:
    run(store, source, smtp.mailer, DAY1, hour=7)
    again = run(store, source, smtp.mailer, DAY1, hour=19)
    assert [o.status for o in again.outcomes] == ["skipped"] * 3
    assert "already sent" in again.outcomes[0].detail
    assert len(smtp.inbox.messages) == 2
    assert len(runs(store, users.alice.id)) == 1


def test_next_day_sends_only_new_papers_and_never_one_twice(
        store: Store, users: Users, source: CategorySource, smtp: Smtp,
        corpus: Corpus) -> None:
    run(store, source, smtp.mailer, DAY1)
    ingest_day2(store, corpus)
    second = run(store, source, smtp.mailer, DAY2)
    assert [o.status for o in second.outcomes] == ["sent", "sent", "empty"]
    # Since the previous digest's day, inclusive.
    assert [since for uid, since, _ in source.calls[-3:]] == [DAY1, DAY1, DAY1]
    # Day three brings no new papers: the rest of alice's day two, and nothing for bob
    # once his few robotics papers of day two have all been sent.
    with Session(store.engine) as s:
        robotics_day2 = len(list(s.scalars(select(m.Paper.id).join(m.PaperCategory).where(
            m.PaperCategory.category == "cs.RO", m.LISTED == DAY2))))
    third = run(store, source, smtp.mailer, DAY2 + timedelta(days=1))
    bob_third = "sent" if robotics_day2 > 5 else "empty"
    assert [o.status for o in third.outcomes] == ["sent", bob_third, "empty"]
    for user in (users.alice, users.bob):
        digests = [paper_ids(store, arxiv_ids(parts(msg)[0])) for msg in smtp.inbox.to(user.email)]
        assert len(digests) == (2 if user == users.bob and bob_third == "empty" else 3)
        every = [pid for digest in digests for pid in digest]
        assert len(every) == len(set(every)), "a paper was in two digests"
        assert sorted(seen(store, user.id)) == sorted(every)
    # alice's category has dozens of new papers on day two: her second digest is all new.
    day2 = paper_ids(store, arxiv_ids(parts(smtp.inbox.to(users.alice.email)[1])[0]))
    assert {p.record.first_listed for p in store.get_many(day2)} == {DAY2}


def test_weekly_is_once_an_iso_week(store: Store, users: Users, source: CategorySource,
                                    smtp: Smtp) -> None:
    set_frequency(store, users.bob.id, "weekly")
    assert period_key("weekly", at(DAY1)) == "2025-W12"
    for day in (DAY1, DAY2, date(2025, 3, 23)):  # Tuesday, Wednesday, Sunday of week 12
        run(store, source, smtp.mailer, day)
    assert len(smtp.inbox.to(users.bob.email)) == 1
    # alice (daily) got Tuesday's and Wednesday's; by Sunday nothing was listed since.
    assert [status for _, status, _ in runs(store, users.alice.id)] == ["sent", "sent", "empty"]
    assert "the week of 17 March 2025" in smtp.inbox.to(users.bob.email)[0]["Subject"]
    run(store, source, smtp.mailer, date(2025, 3, 24))  # Monday of week 13
    assert len(smtp.inbox.to(users.bob.email)) == 2
    assert [key for key, _, _ in runs(store, users.bob.id)] == ["2025-W12", "2025-W13"]


def test_dry_run_writes_eml_files_sends_nothing_and_can_be_repeated(
        store: Store, users: Users, source: CategorySource, smtp: Smtp, tmp_path: Path) -> None:
    first = run(store, source, smtp.mailer, DAY1, dry_run_dir=tmp_path / "dry")
    assert [o.status for o in first.outcomes] == ["dry-run", "dry-run", "empty"]
    assert not smtp.inbox.messages
    files = sorted((tmp_path / "dry").glob("*.eml"))
    assert len(files) == 2
    assert not seen(store, users.alice.id) and not seen(store, users.bob.id)
    again = run(store, source, smtp.mailer, DAY1, dry_run_dir=tmp_path / "dry")
    assert [o.paper_ids for o in again.outcomes] == [o.paper_ids for o in first.outcomes]
    assert runs(store, users.alice.id) == [
        ("dry-run:2025-03-18", "dry-run", list(first.outcomes[0].paper_ids))]
    # The dry run neither marked papers seen nor took the period: the real run sends them.
    real = run(store, source, smtp.mailer, DAY1)
    assert [o.status for o in real.outcomes] == ["sent", "sent", "empty"]
    assert [o.paper_ids for o in real.outcomes] == [o.paper_ids for o in first.outcomes]
    assert len(smtp.inbox.messages) == 2


def test_unsubscribed_and_off_users_get_nothing(store: Store, users: Users,
                                                source: CategorySource, smtp: Smtp) -> None:
    assert unsubscribe(store, users.bob.id)
    set_frequency(store, users.alice.id, "off")
    report = run(store, source, smtp.mailer, DAY1)
    assert [o.status for o in report.outcomes] == ["skipped", "skipped", "empty"]
    assert "unsubscribed on" in report.outcomes[1].detail
    assert not smtp.inbox.messages
    assert subscription(store, users.bob.id).unsubscribed_at is not None
    set_frequency(store, users.bob.id, "daily")  # choosing again undoes the unsubscribe
    assert subscription(store, users.bob.id).unsubscribed_at is None
    with pytest.raises(DigestError):
        set_frequency(store, users.bob.id, "hourly")
    assert not unsubscribe(store, 9999)


class RefusingMailer:
    def send(self, msg: EmailMessage) -> None:
        raise MailError("cannot send mail through 127.0.0.1:1: connection refused")


class CrashingMailer:
    """The process dies after the SMTP server took the message, before it was recorded."""

    def __init__(self, inner: Mailer) -> None:
        self.inner = inner

    def send(self, msg: EmailMessage) -> None:
        self.inner.send(msg)
        raise KeyboardInterrupt


def test_a_refused_send_is_undone_and_retried(store: Store, users: Users,
                                              source: CategorySource, smtp: Smtp) -> None:
    failed = run(store, source, RefusingMailer(), DAY1)
    assert [o.status for o in failed.outcomes] == ["failed", "failed", "empty"]
    assert "connection refused" in failed.outcomes[0].detail
    assert not seen(store, users.alice.id) and not runs(store, users.alice.id)
    retried = run(store, source, smtp.mailer, DAY1, hour=8)
    assert [o.status for o in retried.outcomes] == ["sent", "sent", "skipped"]
    assert retried.outcomes[0].paper_ids == failed.outcomes[0].paper_ids


def test_a_crash_after_sending_never_sends_twice(store: Store, users: Users,
                                                 source: CategorySource, smtp: Smtp) -> None:
    with pytest.raises(KeyboardInterrupt):
        run(store, source, CrashingMailer(smtp.mailer), DAY1)
    assert len(smtp.inbox.to(users.alice.email)) == 1
    [(_, status, ids)] = runs(store, users.alice.id)
    assert status == "sending" and sorted(ids) == sorted(seen(store, users.alice.id))
    after = run(store, source, smtp.mailer, DAY1, hour=8)
    alice = after.outcomes[0]
    assert alice.status == "skipped" and "never confirmed" in alice.detail
    assert len(smtp.inbox.to(users.alice.email)) == 1
    # bob's turn had not come when the process died: he gets his digest now.
    assert after.outcomes[1].status == "sent" and len(smtp.inbox.to(users.bob.email)) == 1


def test_two_runs_at_once_send_each_digest_once(store: Store, users: Users, smtp: Smtp) -> None:
    store.secret_key()  # made once up front: Store.secret_key is not thread-safe on first use
    start = threading.Barrier(2)
    reports: list[DigestReport] = []

    def one() -> None:
        source = CategorySource(store, users.category)
        start.wait()
        reports.append(run(store, source, smtp.mailer, DAY1))

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(reports) == 2
    assert len(smtp.inbox.to(users.alice.email)) == 1
    assert len(smtp.inbox.to(users.bob.email)) == 1
    statuses = sorted(o.status for r in reports for o in r.outcomes if o.user_id == users.alice.id)
    assert statuses == ["sent", "skipped"]


def test_newest_papers_follows_categories_and_skips_seen(store: Store, users: Users) -> None:
    source = newest_papers(store)
    anything = source(users.alice.id, DAY1, 3, True)
    assert len(anything) == 3 and anything[0].score > anything[-1].score
    with Session(store.engine) as s, s.begin():
        s.add(m.Follow(user_id=users.bob.id, kind="category", value="cs.RO"))
    robotics = source(users.bob.id, DAY1, 100, True)
    assert len(robotics) >= 15 and {p.reason for p in robotics} == {"new in cs.RO"}
    assert all("cs.RO" in p.record.categories
               for p in store.get_many([p.paper_id for p in robotics]))
    with Session(store.engine) as s, s.begin():
        s.add(m.SeenPaper(user_id=users.bob.id, paper_id=robotics[0].paper_id,
                          channel="feed", seen_at=at(DAY1).replace(tzinfo=None)))
    assert [p.paper_id for p in source(users.bob.id, DAY1, 100, True)] == [
        p.paper_id for p in robotics[1:]]
    assert source(users.bob.id, DAY1, 100, False)[0].paper_id == robotics[0].paper_id
    assert source(users.bob.id, DAY2, 100, True) == []


def test_a_bad_base_url_is_refused(store: Store, users: Users, source: CategorySource,
                                   smtp: Smtp) -> None:
    for url in ("javascript:alert(1)", "paperfeed.test", "http://x/?a=1"):
        with pytest.raises(DigestError, match="base URL"):
            send_digests(store, source, smtp.mailer, SENDER, base_url=url, now=at(DAY1))


# --- unsubscribe tokens ------------------------------------------------------------------

SECRET = b"0123456789abcdef" * 4


def test_tokens_round_trip_and_tampered_ones_are_refused() -> None:
    token = unsubscribe_token(SECRET, 42)
    assert verify_unsubscribe(SECRET, token) == 42
    payload, signature = token.split(".")
    other = unsubscribe_token(SECRET, 43)
    assert verify_unsubscribe(SECRET, payload + "." + other.split(".")[1]) is None
    assert verify_unsubscribe(SECRET, other.split(".")[0] + "." + signature) is None
    assert verify_unsubscribe(b"another installation's key", token) is None
    assert verify_unsubscribe(SECRET, token[:-2]) is None
    assert verify_unsubscribe(SECRET, "") is None
    # Signed, but not a user id.
    from itsdangerous import URLSafeSerializer

    forged = URLSafeSerializer(SECRET, salt="paperfeed.unsubscribe")
    for value in ({"u": True}, {"u": "1"}, {"u": -1}, [1], {"v": 1}):
        assert verify_unsubscribe(SECRET, forged.dumps(value)) is None
    # A token for something else signed with the same key (another salt) is refused.
    assert verify_unsubscribe(SECRET, URLSafeSerializer(SECRET, salt="x").dumps({"u": 1})) is None


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEF0123456789._-"),
                 st.binary().map(lambda b: b.decode("utf-8", "surrogateescape")),
                 st.integers(1, 10**6).map(lambda u: unsubscribe_token(SECRET, u) + "x"),
                 st.tuples(st.integers(1, 10**6), st.integers(0, 60), st.characters()).map(
                     lambda t: (lambda tok: tok[:t[1]] + t[2] + tok[t[1] + 1:])(
                         unsubscribe_token(SECRET, t[0])))))
def test_verify_unsubscribe_never_raises(token: str) -> None:
    result = verify_unsubscribe(SECRET, token)
    assert result is None or (isinstance(result, int) and result > 0)


def test_the_scheduler_sends_at_each_users_local_hour_and_day(
        store: Store, users: Users, source: CategorySource, smtp: Smtp) -> None:
    # Alice wants it at 09:00 in Tokyo (UTC+9); Bob keeps the default, 07:00 UTC.
    set_delivery_time(store, users.alice.id, 9, "Asia/Tokyo")
    with pytest.raises(DigestError, match="time zone"):
        set_delivery_time(store, users.bob.id, 9, "Not/AZone")
    with pytest.raises(DigestError, match="hour"):
        set_delivery_time(store, users.bob.id, 24, "UTC")

    def scheduled(when: datetime) -> DigestReport:
        return send_digests(store, source, smtp.mailer, SENDER, base_url=BASE_URL, now=when,
                            k=5, at_hour=True)

    # 23:00 UTC on DAY1 is 08:00 on DAY2 in Tokyo: not yet Alice's hour, past Bob's.
    early = scheduled(at(DAY1, 23))
    by_user = {o.user_id: o for o in early.outcomes}
    assert by_user[users.alice.id].status == "skipped"
    assert "09:00 Asia/Tokyo" in by_user[users.alice.id].detail
    assert by_user[users.bob.id].status == "sent"
    assert not smtp.inbox.to(users.alice.email) and len(smtp.inbox.to(users.bob.email)) == 1
    # An hour later it is 09:00 in Tokyo: her digest of her day (DAY2) goes out, once.
    late = scheduled(at(DAY1, 23) + timedelta(hours=1))
    alice = {o.user_id: o for o in late.outcomes}[users.alice.id]
    assert (alice.status, alice.period_key) == ("sent", DAY2.isoformat())
    assert len(smtp.inbox.to(users.alice.email)) == 1
    again = scheduled(at(DAY1, 23) + timedelta(hours=2))
    assert {o.user_id: o for o in again.outcomes}[users.alice.id].status == "skipped"
    assert len(smtp.inbox.to(users.alice.email)) == 1
    assert subscription(store, users.alice.id).frequency == "daily"  # untouched
