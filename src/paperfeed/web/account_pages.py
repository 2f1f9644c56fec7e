"""Account pages: sign-up by emailed link, log-in, log-out, sessions, password change and
reset, API tokens.

Every form posts a CSRF token bound to the browser cookie. A session is a random token in
an HttpOnly, SameSite=Lax cookie whose row lives in the store (paperfeed.accounts.sessions).
Sign-up and reset requests answer the same page, in the same time, for every address:
what differs (which mail, if any) happens in the app's mail queue after the response.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from paperfeed.accounts import (
    Account,
    AccountError,
    InvalidCredentialsError,
    TooManyAttemptsError,
    new_token,
)
from paperfeed.accounts.mails import reset_job, signup_job
from paperfeed.mail import MailQueue, smtp_configured
from paperfeed.settings import Settings
from paperfeed.web.cookies import cookie_header
from paperfeed.web.deps import CSRF_FORM, CurrentUser, PageUser, accounts_of
from paperfeed.web.forms import local_path
from paperfeed.web.pages import render
from paperfeed.web.security import SESSION_COOKIE, SESSION_MAX_AGE

router = APIRouter(include_in_schema=False)
Field = Annotated[str, Form(max_length=2000)]


def _client(request: Request) -> str:
    """The client's address (uvicorn takes it from X-Forwarded-For behind a local proxy)."""
    return request.client.host if request.client else ""


def _link(request: Request, route: str, **params: str) -> str:
    """An absolute link for an email: the configured public URL, never the request's Host
    header (a forged Host would mail the victim a link to the attacker's server)."""
    settings: Settings = request.app.state.settings
    return settings.public_url + str(request.app.url_path_for(route, **params))


def _queue(request: Request) -> MailQueue:
    mail_queue: MailQueue = request.app.state.mail_queue
    return mail_queue


def _logged_in(request: Request, account: Account, target: str) -> Response:
    """Redirect with a fresh session cookie; the browser's previous session, if any, ends."""
    sessions = accounts_of(request).sessions
    sessions.end(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse(local_path(target, "/account"), status_code=303)
    response.headers.append("set-cookie", cookie_header(
        SESSION_COOKIE, sessions.start(account.id), SESSION_MAX_AGE, request.scope))
    return response


def _logged_out(target: str, request: Request) -> Response:
    response = RedirectResponse(target, status_code=303)
    response.headers.append("set-cookie", cookie_header(SESSION_COOKIE, "", 0, request.scope))
    return response


def _form(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    # Without a mail server the links land in the outbox folder: the pages say so, the
    # same words for every address.
    return render(request, template, {"nav": "account", "outbox_notice": not smtp_configured(),
                                      **context}, status)


def _too_many(request: Request, template: str, exc: TooManyAttemptsError,
              **context: Any) -> Response:
    response = _form(request, template, 429, error=str(exc), **context)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


# --- sign-up --------------------------------------------------------------------------


@router.get("/signup", name="signup_page")
def signup_page(request: Request) -> Response:
    return _form(request, "signup.html", email="", name="", error=None)


@router.post("/signup", dependencies=[CSRF_FORM])
def signup(request: Request, email: Field = "", name: Field = "", password: Field = ""
           ) -> Response:
    accounts = accounts_of(request)
    try:
        pending = accounts.signups.request(email, password, name, client=_client(request))
    except TooManyAttemptsError as exc:
        return _too_many(request, "signup.html", exc, email="", name="")
    except AccountError as exc:  # the form's own mistakes: the same for every address
        return _form(request, "signup.html", 422, email=email, name=name, error=str(exc))
    _queue(request).submit(signup_job(
        accounts, pending,
        confirm_link=_link(request, "signup_confirm_page", token=pending.token),
        login_link=_link(request, "login_page"), reset_link=_link(request, "reset_request_page")))
    return _form(request, "signup_sent.html")


@router.get("/signup/confirm/{token}", name="signup_confirm_page")
def signup_confirm_page(request: Request, token: str) -> Response:
    # Only a page with a button: mail scanners open links, and a GET must not make accounts.
    email = accounts_of(request).signups.pending(token)
    if email is None:
        return _form(request, "signup_confirm.html", 404, token=token, email=None,
                     error="this sign-up link is invalid, used or expired; sign up again")
    return _form(request, "signup_confirm.html", token=token, email=email, error=None)


@router.post("/signup/confirm/{token}", dependencies=[CSRF_FORM])
def signup_confirm(request: Request, token: str) -> Response:
    try:
        account = accounts_of(request).signups.confirm(token)
    except AccountError as exc:
        return _form(request, "signup_confirm.html", 422, token=token, email=None,
                     error=str(exc))
    return _logged_in(request, account, "/onboarding")


# --- log-in and sessions --------------------------------------------------------------


@router.get("/login", name="login_page")
def login_page(request: Request, next: str = "") -> Response:
    return _form(request, "login.html", email="", next=local_path(next, ""), error=None)


@router.post("/login", dependencies=[CSRF_FORM])
def login(request: Request, email: Field = "", password: Field = "", next: Field = ""
          ) -> Response:
    try:
        account = accounts_of(request).log_in(email, password, address=_client(request))
    except TooManyAttemptsError as exc:
        return _too_many(request, "login.html", exc, email=email, next=next)
    except InvalidCredentialsError as exc:
        return _form(request, "login.html", 401, email=email, next=next, error=str(exc))
    return _logged_in(request, account, next or "/")


@router.post("/logout", dependencies=[CSRF_FORM])
def logout(request: Request) -> Response:
    # The row goes, so a copy of the cookie is worth nothing from now on.
    accounts_of(request).sessions.end(request.cookies.get(SESSION_COOKIE))
    return _logged_out("/", request)


@router.post("/account/sessions/end", dependencies=[CSRF_FORM])
def log_out_everywhere(request: Request, user: CurrentUser) -> Response:
    accounts_of(request).sessions.end_all(user.id)
    return _logged_out("/login", request)


# --- the account page -----------------------------------------------------------------


def _account_page(request: Request, user: Account, status: int = 200, *,
                  new_token: str | None = None, error: str | None = None) -> Response:
    accounts = accounts_of(request)
    return _form(request, "account.html", status, account=user, tokens=accounts.tokens(user.id),
                 sessions=accounts.sessions.of_user(user.id),
                 current_session=request.state.session_id, new_token=new_token, error=error,
                 notice=None)


@router.get("/account")
def account_page(request: Request, user: PageUser) -> Response:
    return _account_page(request, user)


@router.post("/account/password", dependencies=[CSRF_FORM])
def change_password(request: Request, user: CurrentUser, current: Field = "",
                    new: Field = "") -> Response:
    try:
        account = accounts_of(request).change_password(user.id, current, new)
    except AccountError as exc:
        return _account_page(request, user, 422, error=str(exc))
    # Every session of the account has ended; this browser gets a fresh one.
    return _logged_in(request, account, "/account")


@router.post("/account/tokens", dependencies=[CSRF_FORM])
def create_token(request: Request, user: CurrentUser, name: Field = "") -> Response:
    token = accounts_of(request).create_token(user.id, name)
    # Shown once, on this response only: it is never stored in clear.
    response = _account_page(request, user, new_token=token)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/account/tokens/{token_id}/revoke", dependencies=[CSRF_FORM])
def revoke_token(request: Request, token_id: int, user: CurrentUser) -> Response:
    if not accounts_of(request).revoke_token(user.id, token_id):
        raise HTTPException(404, "no such token of yours")
    return RedirectResponse("/account", status_code=303)


# --- password reset -------------------------------------------------------------------


@router.get("/reset", name="reset_request_page")
def reset_request_page(request: Request) -> Response:
    return _form(request, "reset_request.html", sent=False, error=None)


@router.post("/reset", dependencies=[CSRF_FORM])
def reset_request(request: Request, email: Field = "") -> Response:
    accounts = accounts_of(request)
    try:
        accounts.count_reset_request(email, client=_client(request))
    except TooManyAttemptsError as exc:
        return _too_many(request, "reset_request.html", exc, sent=False)
    # The token and its link exist before anyone looks the address up; the look-up, the
    # stored token and the mail all happen in the queue, after this answer.
    token = new_token()
    _queue(request).submit(reset_job(accounts, email, token=token,
                                     link=_link(request, "reset_page", token=token)))
    return _form(request, "reset_request.html", sent=True, error=None)


@router.get("/reset/{token}", name="reset_page")
def reset_page(request: Request, token: str) -> Response:
    return _form(request, "reset.html", token=token, error=None)


@router.post("/reset/{token}", dependencies=[CSRF_FORM])
def reset(request: Request, token: str, new: Field = "") -> Response:
    try:
        account = accounts_of(request).reset_password(token, new)
    except AccountError as exc:
        return _form(request, "reset.html", 422, token=token, error=str(exc))
    return _logged_in(request, account, "/account")
