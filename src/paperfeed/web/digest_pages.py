"""Digest pages: the one-click unsubscribe link of every digest, and the digest setting.

`/unsubscribe` needs no log-in and no CSRF token: the signed token in the link is
the authority, and all it can do is stop emails. `/account/digest` is an ordinary
logged-in form with the browser's CSRF token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from paperfeed.accounts import Account
from paperfeed.digest import (
    FREQUENCIES,
    DigestError,
    delivery_time,
    set_delivery_time,
    set_frequency,
    subscription,
    unsubscribe,
    verify_unsubscribe,
)
from paperfeed.store import Store
from paperfeed.web.deps import CSRF_FORM, AccountsDep, LoggedIn, PageUser, StoreDep
from paperfeed.web.pages import render

router = APIRouter(include_in_schema=False)
DigestUser = Annotated[Account, Depends(LoggedIn("to change your digest"))]
BAD_LINK = ("this unsubscribe link is not valid: it may have been cut short by your mail "
            "program. Log in and choose “off” under Account → Email digest instead.")


def _bad_link(request: Request) -> Response:
    return render(request, "digest_unsubscribe.html",
                  {"nav": "", "state": "invalid", "token": "", "error": BAD_LINK}, 400)


@router.get("/unsubscribe")
def unsubscribe_page(request: Request, accounts: AccountsDep, token: str = "") -> Response:
    # A page with a button, not the unsubscribe itself: link scanners and prefetchers
    # GET every link in a message, and must not unsubscribe anyone by doing so.
    user_id = verify_unsubscribe(accounts.store.secret_key(), token)
    if user_id is None or accounts.get(user_id) is None:
        return _bad_link(request)
    return render(request, "digest_unsubscribe.html",
                  {"nav": "", "state": "confirm", "token": token, "error": None})


@router.post("/unsubscribe")
def unsubscribe_now(request: Request, store: StoreDep, token: str = "",
                    form_token: Annotated[str, Form(alias="token")] = "") -> Response:
    """RFC 8058 one-click: the mail client POSTs `List-Unsubscribe=One-Click` to the URL
    in the header (token in the query); the confirm page posts the token as a field."""
    # No CSRF check, on purpose: the signed token is the authority (a forged request
    # needs the token, and then could only do what the link itself does).
    user_id = verify_unsubscribe(store.secret_key(), token or form_token)
    if user_id is None or not unsubscribe(store, user_id):
        return _bad_link(request)
    return render(request, "digest_unsubscribe.html",
                  {"nav": "", "state": "done", "token": "", "error": None})


def _settings_page(request: Request, store: Store, user: Account, *, status: int = 200,
                   notice: str | None = None, error: str | None = None) -> Response:
    current = subscription(store, user.id)
    hour, timezone = delivery_time(current)
    return render(request, "digest_settings.html", {
        "nav": "account", "account": user, "frequency": current.frequency,
        "hour": hour, "timezone": timezone,
        "unsubscribed_at": current.unsubscribed_at, "choices": FREQUENCIES,
        "notice": notice, "error": error}, status)


@router.get("/account/digest")
def digest_settings_page(request: Request, store: StoreDep, user: PageUser) -> Response:
    return _settings_page(request, store, user)


@router.post("/account/digest", dependencies=[CSRF_FORM])
def digest_settings(request: Request, store: StoreDep, user: DigestUser,
                    frequency: Annotated[str, Form(max_length=20)] = "",
                    hour: Annotated[str, Form(max_length=4)] = "",
                    timezone: Annotated[str, Form(max_length=64)] = "") -> Response:
    try:
        set_frequency(store, user.id, frequency)
        if hour.strip() or timezone.strip():  # a form without them leaves them as they are
            current = delivery_time(subscription(store, user.id))
            try:
                when = int(hour) if hour.strip() else current[0]
            except ValueError:
                raise DigestError(f"hour: expected a whole hour from 0 to 23, "
                                  f"got {hour!r}") from None
            set_delivery_time(store, user.id, when, timezone.strip() or current[1])
    except DigestError as exc:
        return _settings_page(request, store, user, status=422, error=str(exc))
    notice = {"daily": "You will get a digest every day.",
              "weekly": "You will get a digest every week.",
              "off": "You will get no digest."}[frequency]
    return _settings_page(request, store, user, notice=notice)
