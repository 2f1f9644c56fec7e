"""What every form post checks: this browser's CSRF token; and where a form may send the
browser next.

One place for the check (and its message) that the account, library, feed, digest and
Atom-feed pages all make, so none of them can forget it; the routes take it as a
dependency (`web/deps.py`).
"""

from __future__ import annotations

from fastapi import HTTPException, Request

from paperfeed.web.security import Guard

FORM_EXPIRED = ("this form has expired or did not come from paperfeed: reload the page and "
                "try again")


def check_csrf(request: Request, token: str | None) -> None:
    """403 unless `token` is the CSRF token of the browser that sent the request."""
    guard: Guard = request.app.state.guard
    if not guard.csrf_ok(request.state.browser, token):
        raise HTTPException(403, FORM_EXPIRED)


def local_path(target: str, default: str = "/") -> str:
    """Only same-site paths: an open redirect would lend our address to phishing."""
    return target if target.startswith("/") and not target.startswith("//") else default
