"""SMTP and outbox mailers behind one small protocol (see the package docstring)."""

from __future__ import annotations

import os
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from paperfeed.errors import PaperfeedError
from paperfeed.store.files import atomic_write


class MailError(PaperfeedError):
    """A message could not be sent; the message names the server and the reason."""


class Mailer(Protocol):
    def send(self, msg: EmailMessage) -> None: ...


def message(*, sender: str, to: str, subject: str, text: str, html: str | None = None,
            headers: dict[str, str] | None = None) -> EmailMessage:
    """A multipart/alternative message (plain text first, HTML second when given)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip(">") or None)
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


class SmtpMailer:
    """Sends through an SMTP server; one connection a message (digests are few)."""

    def __init__(self, host: str, port: int, *, username: str = "", password: str = "",
                 tls: bool = False, starttls: bool = False, timeout: float = 30.0) -> None:
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.tls, self.starttls, self.timeout = tls, starttls, timeout

    def send(self, msg: EmailMessage) -> None:
        try:
            context = ssl.create_default_context()
            smtp: smtplib.SMTP = (
                smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
                if self.tls else smtplib.SMTP(self.host, self.port, timeout=self.timeout))
            with smtp:
                if self.starttls:
                    smtp.starttls(context=context)
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"cannot send mail through {self.host}:{self.port}: {exc}") from exc


class OutboxMailer:
    """Writes each message as an .eml file in a folder (dry run, or no server configured)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, msg: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", str(msg["Message-ID"] or "message"))[:120]
        path = self.folder / f"{stem.strip('_')}.eml"
        atomic_write(path, bytes(msg))


def smtp_configured() -> bool:
    """Whether PAPERFEED_SMTP_URL names a server (else mail goes to the outbox folder)."""
    return bool(os.environ.get("PAPERFEED_SMTP_URL", "").strip())


def mailer_from_env(outbox: Path) -> tuple[Mailer, str]:
    """The configured mailer and sender address; the outbox when no server is set."""
    sender = os.environ.get("PAPERFEED_MAIL_FROM", "paperfeed <paperfeed@localhost>")
    url = os.environ.get("PAPERFEED_SMTP_URL", "").strip()
    if not url:
        return OutboxMailer(outbox), sender
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailError(f"PAPERFEED_SMTP_URL: expected smtp://host:port or smtps://host:port, "
                        f"got scheme {parts.scheme!r}")
    options = parse_qs(parts.query)
    return SmtpMailer(
        parts.hostname, parts.port or (465 if parts.scheme == "smtps" else 25),
        username=unquote(parts.username or ""), password=unquote(parts.password or ""),
        tls=parts.scheme == "smtps", starttls=options.get("starttls", ["0"])[0] == "1",
    ), sender
