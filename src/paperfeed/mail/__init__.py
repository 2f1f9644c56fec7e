"""Sending email: one SMTP client for sign-up and reset links and for digests.

`mailer_from_env()` reads PAPERFEED_SMTP_URL (smtp://user:password@host:port, or
smtps:// for TLS from the start; `?starttls=1` to upgrade a plain connection) and
PAPERFEED_MAIL_FROM. Without a server configured, messages go to an outbox folder
as .eml files (the dry run a person can open), never silently nowhere. `MailQueue`
sends from a background thread, off the web app's request path.
"""

from paperfeed.mail.mailer import (
    Mailer,
    OutboxMailer,
    SmtpMailer,
    mailer_from_env,
    message,
    smtp_configured,
)
from paperfeed.mail.queue import MailJob, MailQueue

__all__ = ["MailJob", "MailQueue", "Mailer", "OutboxMailer", "SmtpMailer", "mailer_from_env",
           "message", "smtp_configured"]
