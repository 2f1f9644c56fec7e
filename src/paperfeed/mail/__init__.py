"""Sending email: one SMTP client for password resets now and digests later.

`mailer_from_env()` reads PAPERFEED_SMTP_URL (smtp://user:password@host:port, or
smtps:// for TLS from the start; `?starttls=1` to upgrade a plain connection) and
PAPERFEED_MAIL_FROM. Without a server configured, messages go to an outbox folder
as .eml files (the dry run a person can open), never silently nowhere.
"""

from paperfeed.mail.mailer import Mailer, OutboxMailer, SmtpMailer, mailer_from_env, message

__all__ = ["Mailer", "OutboxMailer", "SmtpMailer", "mailer_from_env", "message"]
