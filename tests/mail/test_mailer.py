"""Mailer configuration and the outbox (dry-run) mailer."""

from __future__ import annotations

import email
from pathlib import Path

import pytest

from paperfeed.mail import OutboxMailer, SmtpMailer, mailer_from_env, message
from paperfeed.mail.mailer import MailError


def test_without_a_server_mail_goes_to_the_outbox(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAPERFEED_SMTP_URL", raising=False)
    mailer, sender = mailer_from_env(tmp_path / "outbox")
    assert isinstance(mailer, OutboxMailer) and "@" in sender
    mailer.send(message(sender=sender, to="a@example.org", subject="Hi", text="plain",
                        html="<p>html</p>", headers={"List-Unsubscribe": "<https://x/u>"}))
    [path] = (tmp_path / "outbox").glob("*.eml")
    parsed = email.message_from_bytes(path.read_bytes())
    assert parsed["To"] == "a@example.org" and parsed["List-Unsubscribe"] == "<https://x/u>"
    assert [p.get_content_type() for p in parsed.walk()][1:] == ["text/plain", "text/html"]


def test_smtp_url_is_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFEED_SMTP_URL", "smtp://me%40x.org:s%3Acret@mail.x.org:587"
                                             "?starttls=1")
    mailer, _ = mailer_from_env(tmp_path)
    assert isinstance(mailer, SmtpMailer)
    assert (mailer.host, mailer.port, mailer.username, mailer.password, mailer.starttls,
            mailer.tls) == ("mail.x.org", 587, "me@x.org", "s:cret", True, False)
    monkeypatch.setenv("PAPERFEED_SMTP_URL", "http://mail.x.org")
    with pytest.raises(MailError, match="PAPERFEED_SMTP_URL"):
        mailer_from_env(tmp_path)


def test_an_unreachable_server_names_itself() -> None:
    mailer = SmtpMailer("127.0.0.1", 9, timeout=2)  # the discard port: nothing listens
    with pytest.raises(MailError, match=r"127\.0\.0\.1:9"):
        mailer.send(message(sender="a@x.org", to="b@x.org", subject="s", text="t"))
