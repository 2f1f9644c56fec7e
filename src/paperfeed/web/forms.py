"""What every form post checks: this browser's CSRF token and, where needed, an account.

One place for the checks (and their messages) that the account, library, feed,
digest and Atom-feed pages all make, so none of them can forget one.
"""

from __future__ import annotations

from fastapi import HTTPException, Request

from paperfeed.accounts import Account
from paperfeed.web.security import Guard

FORM_EXPIRED = ("this form has expired or did not come from paperfeed: reload the page and "
                "try again")


def check_csrf(request: Request, token: str | None) -> None:
    """403 unless `token` is the CSRF token of the browser that sent the request."""
    guard: Guard = request.app.state.guard
    if not guard.csrf_ok(request.state.browser, token):
        raise HTTPException(403, FORM_EXPIRED)


def require_user(request: Request, why: str = "to see this page", *, api: bool = False
                 ) -> Account:
    """The logged-in account, or 401 saying what logging in is needed for. `api`: the
    endpoint also takes an API token, and the 401 says so (WWW-Authenticate: Bearer)."""
    user: Account | None = request.state.user
    if user is None:
        if api:
            raise HTTPException(401, f"log in (or send an API token) {why}",
                                headers={"WWW-Authenticate": "Bearer"})
        raise HTTPException(401, f"log in {why}")
    return user


def local_path(target: str, default: str = "/") -> str:
    """Only same-site paths: an open redirect would lend our address to phishing."""
    return target if target.startswith("/") and not target.startswith("//") else default
