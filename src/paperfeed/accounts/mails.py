"""The account emails as mail-queue jobs: the sign-up link, "you already have an
account", and the reset link.

Each job looks the address up when it runs, in the mail queue's worker: the request that
queued it has answered already, the same way and in the same time for every address.
The links are built by the caller from the configured public URL, never from a request.
"""

from __future__ import annotations

from email.message import EmailMessage

from paperfeed.accounts.service import Accounts
from paperfeed.accounts.signups import SIGNUP_LIFETIME, SignupRequest
from paperfeed.mail import MailJob, message


def signup_job(accounts: Accounts, request: SignupRequest, *, confirm_link: str,
               login_link: str, reset_link: str) -> MailJob:
    """Keep the pending sign-up and mail its link; or, when the address has an account
    already, keep nothing and tell its owner how to log in or reset."""
    hours = int(SIGNUP_LIFETIME.total_seconds() // 3600)

    def compose(sender: str) -> EmailMessage:
        existing = accounts.signups.record(request)
        if existing is None:
            return message(
                sender=sender, to=request.email, subject="Confirm your paperfeed account",
                text=(f"Someone asked to make a paperfeed account for {request.email}.\n\n"
                      f"To create it, open this link within {hours} hours and press the "
                      f"button:\n{confirm_link}\n\n"
                      "If it was not you, ignore this message: no account is made.\n"))
        return message(
            sender=sender, to=existing.email, subject="Your paperfeed account",
            text=(f"Someone asked to make a paperfeed account for {existing.email}, but "
                  "you already have one.\n\n"
                  f"Log in here:\n{login_link}\n\n"
                  f"Forgot your password? Choose a new one here:\n{reset_link}\n\n"
                  "If it was not you, ignore this message: nothing has changed.\n"))

    return compose


def reset_job(accounts: Accounts, email: str, *, token: str, link: str) -> MailJob:
    """Store the reset token and mail its link, if an account has the address."""

    def compose(sender: str) -> EmailMessage | None:
        issued = accounts.request_reset(email, token=token)
        if issued is None:
            return None  # nobody to tell: mailing strangers would make this a spam relay
        account, _ = issued
        return message(
            sender=sender, to=account.email, subject="Reset your paperfeed password",
            text=(f"Someone asked to reset the password of {account.email} on paperfeed.\n\n"
                  f"To choose a new one, open this link within an hour:\n{link}\n\n"
                  "It works once. If you did not ask, ignore this message: your password "
                  "stays as it is.\n"))

    return compose
