"""The mail queue: jobs run in its one worker thread, in order; failures do not stop it."""

from __future__ import annotations

import logging
import threading
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path

import pytest

from paperfeed.mail import MailJob, MailQueue, message


def _job(to: str, ran: list[tuple[str, str]]) -> MailJob:
    def compose(sender: str) -> EmailMessage:
        ran.append((to, threading.current_thread().name))
        return message(sender=sender, to=to, subject="Hi", text="body")
    return compose


def test_jobs_run_in_the_worker_in_order_and_land_in_the_outbox(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAPERFEED_SMTP_URL", raising=False)
    mail = MailQueue(tmp_path / "outbox")
    mail.start()
    ran: list[tuple[str, str]] = []
    for i in range(5):
        assert mail.submit(_job(f"u{i}@example.org", ran))
    assert mail.submit(lambda sender: None)  # nothing to send is fine
    mail.join()
    assert [to for to, _ in ran] == [f"u{i}@example.org" for i in range(5)]
    assert {thread for _, thread in ran} == {"paperfeed-mail"}
    sent = {message_from_bytes(p.read_bytes())["To"] for p in (tmp_path / "outbox").iterdir()}
    assert sent == {f"u{i}@example.org" for i in range(5)}
    mail.stop()
    assert not mail.submit(_job("late@example.org", ran))


def test_a_failing_job_is_logged_and_the_next_one_still_goes(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    mail = MailQueue(tmp_path / "outbox")

    def broken(sender: str) -> EmailMessage:
        raise RuntimeError("the store is gone")

    ran: list[tuple[str, str]] = []
    with caplog.at_level(logging.ERROR, logger="paperfeed.mail.queue"):
        mail.submit(broken)  # started on first use, without start()
        mail.submit(_job("after@example.org", ran))
        mail.join()
    assert "could not send" in caplog.text and "the store is gone" in caplog.text
    assert [to for to, _ in ran] == ["after@example.org"]
    mail.stop()


def test_stop_sends_what_is_queued_and_a_full_queue_drops(tmp_path: Path) -> None:
    gate = threading.Event()
    mail = MailQueue(tmp_path / "outbox", max_pending=2)
    ran: list[tuple[str, str]] = []

    def held(sender: str) -> None:
        gate.wait(10)
        return None

    mail.submit(held)
    # The worker may or may not have taken `held` off the queue yet: fill what is left.
    while mail.submit(_job(f"q{len(ran)}@example.org", ran)):
        pass
    gate.set()
    mail.stop(timeout=10)
    assert 1 <= len(ran) <= 2
