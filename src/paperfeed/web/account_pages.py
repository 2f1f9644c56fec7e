"""Account pages: sign-up, log-in, log-out, password change and reset, API tokens.

Every form posts a CSRF token bound to the browser cookie; a session is a
signed, timestamped, HttpOnly, SameSite=Lax cookie holding the user id and the
password epoch, so a password change or reset ends every other session.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from paperfeed.accounts import (
    Account,
    AccountError,
    Accounts,
    InvalidCredentialsError,
    TooManyAttemptsError,
)
from paperfeed.mail import mailer_from_env, message
from paperfeed.settings import Settings
from paperfeed.web.app import cookie_header
from paperfeed.web.forms import check_csrf, local_path, require_user
from paperfeed.web.pages import render
from paperfeed.web.security import SESSION_COOKIE, SESSION_MAX_AGE, Guard

router = APIRouter(include_in_schema=False)
Field = Annotated[str, Form(max_length=2000)]


def _accounts(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


def _logged_in(request: Request, account: Account, target: str) -> Response:
    guard: Guard = request.app.state.guard
    response = RedirectResponse(local_path(target, "/account"), status_code=303)
    response.headers.append("set-cookie", cookie_header(
        SESSION_COOKIE, guard.session_cookie(account.id, account.session_epoch),
        SESSION_MAX_AGE, request.scope))
    return response


def _form(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    return render(request, template, {"nav": "account", **context}, status)


@router.get("/signup")
def signup_page(request: Request) -> Response:
    return _form(request, "signup.html", email="", name="", error=None)


@router.post("/signup")
def signup(request: Request, email: Field = "", name: Field = "", password: Field = "",
           csrf_token: Field = "") -> Response:
    check_csrf(request, csrf_token)
    try:
        account = _accounts(request).sign_up(email, password, name)
    except AccountError as exc:
        return _form(request, "signup.html", 422, email=email, name=name, error=str(exc))
    return _logged_in(request, account, "/onboarding")


@router.get("/login")
def login_page(request: Request, next: str = "") -> Response:
    return _form(request, "login.html", email="", next=local_path(next, ""), error=None)


@router.post("/login")
def login(request: Request, email: Field = "", password: Field = "", next: Field = "",
          csrf_token: Field = "") -> Response:
    check_csrf(request, csrf_token)
    address = request.client.host if request.client else ""
    try:
        account = _accounts(request).log_in(email, password, address=address)
    except TooManyAttemptsError as exc:
        response = _form(request, "login.html", 429, email=email, next=next, error=str(exc))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except InvalidCredentialsError as exc:
        return _form(request, "login.html", 401, email=email, next=next, error=str(exc))
    return _logged_in(request, account, next or "/")


@router.post("/logout")
def logout(request: Request, csrf_token: Field = "") -> Response:
    check_csrf(request, csrf_token)
    response = RedirectResponse("/", status_code=303)
    response.headers.append("set-cookie", cookie_header(SESSION_COOKIE, "", 0, request.scope))
    return response


@router.get("/account")
def account_page(request: Request) -> Response:
    user: Account | None = request.state.user
    if user is None:
        return RedirectResponse("/login?next=/account", status_code=303)
    return _form(request, "account.html", account=user, tokens=_accounts(request).tokens(user.id),
                 new_token=None, error=None, notice=None)


@router.post("/account/password")
def change_password(request: Request, current: Field = "", new: Field = "",
                    csrf_token: Field = "") -> Response:
    check_csrf(request, csrf_token)
    user = require_user(request)
    accounts = _accounts(request)
    try:
        account = accounts.change_password(user.id, current, new)
    except AccountError as exc:
        return _form(request, "account.html", 422, account=user, tokens=accounts.tokens(user.id),
                     new_token=None, error=str(exc), notice=None)
    # This browser stays logged in with the new epoch; every other session has ended.
    return _logged_in(request, account, "/account")


@router.post("/account/tokens")
def create_token(request: Request, name: Field = "", csrf_token: Field = "") -> Response:
    check_csrf(request, csrf_token)
    user = require_user(request)
    accounts = _accounts(request)
    token = accounts.create_token(user.id, name)
    # Shown once, on this response only: it is never stored in clear.
    response = _form(request, "account.html", account=user, tokens=accounts.tokens(user.id),
                     new_token=token, error=None, notice=None)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: int, csrf_token: Field = "") -> Response:
    check_csrf(request, csrf_token)
    user = require_user(request)
    if not _accounts(request).revoke_token(user.id, token_id):
        raise HTTPException(404, "no such token of yours")
    return RedirectResponse("/account", status_code=303)


@router.get("/reset")
def reset_request_page(request: Request) -> Response:
    return _form(request, "reset_request.html", sent=False, email="")


@router.post("/reset")
def reset_request(request: Request, email: Field = "", csrf_token: Field = "") -> Response:
    check_csrf(request, csrf_token)
    issued = _accounts(request).request_reset(email)
    if issued is not None:
        account, token = issued
        # The configured public address, never the request's Host header: a forged Host
        # would otherwise mail the victim a link to the attacker's server.
        settings: Settings = request.app.state.settings
        link = settings.public_url + str(request.app.url_path_for("reset_page", token=token))
        mailer, sender = mailer_from_env(request.app.state.outbox)
        mailer.send(message(
            sender=sender, to=account.email, subject="Reset your paperfeed password",
            text=(f"Someone asked to reset the password of {account.email} on paperfeed.\n\n"
                  f"To choose a new one, open this link within an hour:\n{link}\n\n"
                  "It works once. If you did not ask, ignore this message: your password "
                  "stays as it is.\n")))
    # The same answer either way: the form must not tell who has an account.
    return _form(request, "reset_request.html", sent=True, email=email)


@router.get("/reset/{token}", name="reset_page")
def reset_page(request: Request, token: str) -> Response:
    return _form(request, "reset.html", token=token, error=None)


@router.post("/reset/{token}")
def reset(request: Request, token: str, new: Field = "", csrf_token: Field = "") -> Response:
    check_csrf(request, csrf_token)
    try:
        account = _accounts(request).reset_password(token, new)
    except AccountError as exc:
        return _form(request, "reset.html", 422, token=token, error=str(exc))
    return _logged_in(request, account, "/account")
