"""The Set-Cookie values the app sends: the voter cookie (middleware) and the session
cookie (account pages), with the same flags."""

from __future__ import annotations

from http.cookies import SimpleCookie

from starlette.types import Scope


def cookie_header(name: str, value: str, max_age: int, scope: Scope) -> str:
    """A Set-Cookie value: HttpOnly, SameSite=Lax, Secure over https; max_age 0 deletes."""
    cookie: SimpleCookie = SimpleCookie()
    cookie[name] = value
    morsel = cookie[name]
    morsel["max-age"] = max_age
    morsel["path"] = "/"
    morsel["httponly"] = True
    morsel["samesite"] = "Lax"
    if scope.get("scheme") == "https":
        morsel["secure"] = True
    return morsel.OutputString()
