"""Accounts: who a user is (argon2 passwords, sessions, emailed sign-ups and resets, API
tokens, request limits).

Decides over the users, sessions, pending_signups, api_tokens and password_resets tables,
which the store reads and writes (`paperfeed.store.accounts`), and counts log-ins,
sign-ups and reset requests with the store's rate limits; the web layer owns cookies, forms and
sending mail, this package only decides.
"""

from paperfeed.accounts.core import (
    Account,
    AccountError,
    InvalidCredentialsError,
    TooManyAttemptsError,
    new_token,
)
from paperfeed.accounts.service import Accounts, TokenInfo
from paperfeed.accounts.sessions import LiveSession, SessionInfo, Sessions
from paperfeed.accounts.signups import SignupRequest, Signups

__all__ = ["Account", "AccountError", "Accounts", "InvalidCredentialsError", "LiveSession",
           "SessionInfo", "Sessions", "SignupRequest", "Signups", "TokenInfo",
           "TooManyAttemptsError", "new_token"]
