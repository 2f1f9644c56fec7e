"""FastAPI dependencies of the route modules: who is asking, and the CSRF check of a post.

`IdentityAndHeaders` (app.py) puts the request's account on `request.state`; the routes
take it from here instead, with the answers of a logged-out request in one place:

- `OptionalUser`: the account or None;
- `LoggedIn(why, api=...)`: the account, else 401 "log in {why}" (with `api`, the
  message also offers an API token and the answer carries WWW-Authenticate: Bearer);
  `CurrentUser` is `LoggedIn()` for "to see this page";
- `PageUser`: the account, else a 303 to /login that comes back to this page
  (`LoginRedirect`, answered by `login_redirect`, which `create_app` installs);
- `CSRF_FORM`: in a route's `dependencies`, 403 unless the form's `csrf_token` field
  is this browser's token. Route dependencies run before the parameters' own, so a
  forged post is refused before anything else is looked at (`check_csrf_unless_token`
  for writes that also take an API token);
- `AccountsDep`, `StoreDep`: the app's accounts service and its store.

The dependencies are `async def` although they never wait: FastAPI runs a plain `def`
dependency in the thread pool, whose four tokens (app.py) belong to the endpoints.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from paperfeed.accounts import Account, Accounts
from paperfeed.application.library import Library
from paperfeed.store import Store
from paperfeed.web.forms import check_csrf
from paperfeed.web.views import Views


def user_of(request: Request) -> Account | None:
    """The account of the session cookie or API token, None when logged out (for helpers
    that are not dependencies themselves, such as the templates' base context)."""
    user: Account | None = request.state.user
    return user


async def optional_user(request: Request) -> Account | None:
    return user_of(request)


OptionalUser = Annotated[Account | None, Depends(optional_user)]


def require_user(user: Account | None, why: str = "to see this page", *, api: bool = False
                 ) -> Account:
    """`user`, or 401 saying what logging in is needed for. `api`: the endpoint also takes
    an API token, and the 401 says so (WWW-Authenticate: Bearer)."""
    if user is None:
        if api:
            raise HTTPException(401, f"log in (or send an API token) {why}",
                                headers={"WWW-Authenticate": "Bearer"})
        raise HTTPException(401, f"log in {why}")
    return user


class LoggedIn:
    """A dependency: the logged-in account, or 401 saying what logging in is needed for."""

    def __init__(self, why: str = "to see this page", *, api: bool = False) -> None:
        self.why = why
        self.api = api

    async def __call__(self, user: OptionalUser) -> Account:
        return require_user(user, self.why, api=self.api)


CurrentUser = Annotated[Account, Depends(LoggedIn())]


class LoginRedirect(Exception):
    """A page that needs an account was asked for without one: send the browser to log in."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


async def page_user(request: Request, user: OptionalUser) -> Account:
    """The logged-in account, or off to /login, which comes back to this page's path."""
    if user is None:
        raise LoginRedirect(request.url.path)
    return user


PageUser = Annotated[Account, Depends(page_user)]


async def login_redirect(request: Request, exc: Exception) -> Response:
    """The answer to `LoginRedirect`: 303 to the log-in page with `next` set."""
    assert isinstance(exc, LoginRedirect)
    return RedirectResponse(f"/login?next={quote(exc.path)}", status_code=303)


async def csrf_form(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    """403 unless the form's csrf_token field is this browser's token."""
    check_csrf(request, csrf_token)


CSRF_FORM = Depends(csrf_form)


def check_csrf_unless_token(request: Request, token: str | None) -> None:
    """`check_csrf`, except for a request with an API token: a bearer token is never sent
    by a browser on its own, so there is no forgery to stop."""
    if not request.state.via_token:
        check_csrf(request, token)


def accounts_of(request: Request) -> Accounts:
    """The app's accounts service (for helpers that are not dependencies themselves)."""
    accounts: Accounts = request.app.state.accounts
    return accounts


async def app_accounts(request: Request) -> Accounts:
    return accounts_of(request)


AccountsDep = Annotated[Accounts, Depends(app_accounts)]


async def app_store(accounts: AccountsDep) -> Store:
    return accounts.store


StoreDep = Annotated[Store, Depends(app_store)]


def views_of(request: Request) -> Views:
    """The app's read side (search, pages, papers), made once at start-up."""
    views: Views = request.app.state.views
    return views


def library_of(request: Request) -> Library:
    """The library use cases (rate, save, follow) over the app's store."""
    return Library(views_of(request).catalog.store)
