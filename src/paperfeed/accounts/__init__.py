"""Accounts: who a user is (argon2 passwords, resets, API tokens, log-in limits).

Owns the users, api_tokens and password_resets tables through the store's engine, and
counts log-in attempts with the store's rate limits; the web layer owns cookies and
forms, this package only decides.
"""

from paperfeed.accounts.service import (
    Account,
    AccountError,
    Accounts,
    InvalidCredentialsError,
    TokenInfo,
    TooManyAttemptsError,
)

__all__ = ["Account", "AccountError", "Accounts", "InvalidCredentialsError", "TokenInfo",
           "TooManyAttemptsError"]
