"""Atom and RSS feeds over HTTP, and the account page that manages personal feeds.

Public feeds (a category, a search, a saved search by its public id) carry an ETag
and may be cached for five minutes. The personal feed lives at a secret URL: an
unknown and a revoked token get the same 404, so the answer tells nothing. The
forms under /account/feeds need a session and this browser's CSRF token.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from paperfeed.accounts import Account
from paperfeed.feeds import (
    MAX_QUERY,
    MEDIA_TYPES,
    FeedError,
    FeedInfo,
    FeedItem,
    Feeds,
    Format,
    build_feed,
    check_category,
    newest_picks,
)
from paperfeed.rank.picks import PickSource
from paperfeed.settings import Settings
from paperfeed.web.deps import CSRF_FORM, LoggedIn, PageUser, views_of
from paperfeed.web.pages import render, url_with

router = APIRouter(include_in_schema=False)

Field = Annotated[str, Form(max_length=2000)]
CategoryPath = Annotated[str, Path(max_length=64)]
TokenPath = Annotated[str, Path(max_length=200)]
PUBLIC_CACHE = "public, max-age=300"
# A personal feed is the user's alone; a revocation should not wait on a shared cache.
PRIVATE_CACHE = "private, max-age=300"
NOT_FOUND = "no such feed"
FeedsUser = Annotated[Account, Depends(LoggedIn("to manage your feeds"))]


def _feeds(request: Request) -> Feeds:
    return Feeds(views_of(request).catalog)


def _picks(request: Request) -> PickSource:
    """The app's ranker, or the newest papers until one is installed."""
    picks: PickSource | None = getattr(request.app.state, "picks", None)
    return picks if picks is not None else newest_picks(_feeds(request).store)


def _format(fmt: str) -> Format:
    if fmt == "atom":
        return "atom"
    if fmt == "rss":
        return "rss"
    raise HTTPException(404, "feeds end in .atom or .rss")


def _base(request: Request) -> str:
    """The configured public base URL: a feed cached for five minutes must never carry
    links made from one request's Host header."""
    settings: Settings = request.app.state.settings
    return settings.public_url


def _link(request: Request, name: str, **params: str) -> str:
    """A route's URL on the public base."""
    return _base(request) + str(request.app.url_path_for(name, **params))


def _self(request: Request) -> str:
    """This feed's own URL on the public base."""
    query = request.url.query
    return _base(request) + request.url.path + (f"?{query}" if query else "")


def _respond(request: Request, info: FeedInfo, items: list[FeedItem], fmt: Format, *,
             cache: str = PUBLIC_CACHE, index: bool = True) -> Response:
    """The feed with a strong ETag over its bytes; 304 when the reader has it already."""
    body = build_feed(info, items, base_url=_base(request), format=fmt)
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Cache-Control": cache}
    if not index:
        # Secret and unlisted URLs must not end up in a search engine.
        headers["X-Robots-Tag"] = "noindex"
    wanted = request.headers.get("if-none-match", "")
    if wanted.strip() == "*" or etag in [t.strip().removeprefix("W/") for t in wanted.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=MEDIA_TYPES[fmt], headers=headers)


def _category(value: str | None) -> str | None:
    try:
        return check_category(value)
    except FeedError as exc:
        raise HTTPException(422, str(exc)) from None


def _search_items(request: Request, query: str, category: str | None) -> list[FeedItem]:
    try:
        papers = _feeds(request).search_papers(query, category)
    except FeedError as exc:
        raise HTTPException(422, str(exc)) from None
    return [FeedItem(p) for p in papers]


def _search_page(request: Request, query: str, category: str | None) -> str:
    return _base(request) + url_with("/search", {"q": query, "category": category,
                                                 "sort": "date"})


# --- public feeds ---------------------------------------------------------------------


@router.get("/feeds/category/{category}.{fmt}", name="category_feed")
def category_feed(request: Request, category: CategoryPath, fmt: str) -> Response:
    """The newest papers of one category; 404 for a category without papers (a typo)."""
    chosen = _format(fmt)
    name = _category(category)
    feeds = _feeds(request)
    if name is None or not feeds.has_category(name):
        raise HTTPException(404, f"no papers in category {category!r}")
    info = FeedInfo(title=f"paperfeed: newest in {name}",
                    subtitle=f"The newest papers listed in {name}.",
                    self_url=_self(request),
                    home_url=_base(request) + url_with("/daily", {"category": name}))
    return _respond(request, info, [FeedItem(p) for p in feeds.category_papers(name)], chosen)


@router.get("/feeds/search.{fmt}", name="search_feed")
def search_feed(request: Request, fmt: str,
                q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY)],
                category: Annotated[str, Query(max_length=64)] = "") -> Response:
    """The best matches of a search, newest first (the search page sorted by date)."""
    chosen = _format(fmt)
    name = _category(category)
    items = _search_items(request, q, name)
    where = f" in {name}" if name else ""
    info = FeedInfo(title=f"paperfeed: “{' '.join(q.split())}”{where}",
                    subtitle=f"Papers matching “{q}”{where}, newest first.",
                    self_url=_self(request), home_url=_search_page(request, q, name))
    return _respond(request, info, items, chosen)


@router.get("/feeds/saved/{public_token}.{fmt}", name="saved_feed")
def saved_feed(request: Request, public_token: TokenPath, fmt: str) -> Response:
    chosen = _format(fmt)
    saved = _feeds(request).saved_search(public_token)
    if saved is None:
        raise HTTPException(404, NOT_FOUND)
    items = _search_items(request, saved.query, saved.category)
    where = f" in {saved.category}" if saved.category else ""
    info = FeedInfo(title=f"paperfeed: {saved.name}",
                    subtitle=f"Papers matching “{saved.query}”{where}, newest first.",
                    self_url=_self(request),
                    home_url=_search_page(request, saved.query, saved.category))
    return _respond(request, info, items, chosen, index=False)


@router.get("/feeds/me/{token}.{fmt}", name="personal_feed")
def personal_feed(request: Request, token: TokenPath, fmt: str) -> Response:
    chosen = _format(fmt)
    feeds = _feeds(request)
    user_id = feeds.user_for_token(token)
    if user_id is None:
        raise HTTPException(404, NOT_FOUND)
    items = feeds.picked_items(_picks(request), user_id)
    info = FeedInfo(title="paperfeed: your picks",
                    subtitle="Recent papers picked for you, each with the reason why.",
                    self_url=_self(request), home_url=_base(request) + "/")
    return _respond(request, info, items, chosen, cache=PRIVATE_CACHE, index=False)


# --- managing feeds on the account page ----------------------------------------------


def _page(request: Request, user: Account, status: int = 200, **context: Any) -> Response:
    feeds = _feeds(request)
    searches = [(s, _link(request, "saved_feed", public_token=s.public_token, fmt="atom"))
                for s in feeds.saved_searches(user.id)]
    values = {"nav": "account", "account": user, "tokens": feeds.tokens(user.id),
              "searches": searches, "new_feed_url": None, "error": None,
              "form": {"name": "", "q": "", "category": ""},
              "category_feed_example": _link(request, "category_feed", category="cs.CV",
                                                fmt="atom")}
    return render(request, "feeds.html", {**values, **context}, status)


@router.get("/account/feeds")
def feeds_page(request: Request, user: PageUser) -> Response:
    return _page(request, user)


@router.post("/account/feeds/token", dependencies=[CSRF_FORM])
def create_feed_token(request: Request, user: FeedsUser) -> Response:
    try:
        token = _feeds(request).create_token(user.id)
    except FeedError as exc:
        return _page(request, user, 422, error=str(exc))
    url = _link(request, "personal_feed", token=token, fmt="atom")
    # Shown once, on this response only: the token is never stored in clear.
    response = _page(request, user, new_feed_url=url)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/account/feeds/token/{token_id}/revoke", dependencies=[CSRF_FORM])
def revoke_feed_token(request: Request, token_id: int, user: FeedsUser) -> Response:
    if not _feeds(request).revoke_token(user.id, token_id):
        raise HTTPException(404, "no such personal feed of yours")
    return RedirectResponse("/account/feeds", status_code=303)


@router.post("/account/feeds/searches", dependencies=[CSRF_FORM])
def save_search(request: Request, user: FeedsUser, name: Field = "", q: Field = "",
                category: Field = "") -> Response:
    try:
        _feeds(request).save_search(user.id, name, q, category)
    except FeedError as exc:
        return _page(request, user, 422, error=str(exc),
                     form={"name": name, "q": q, "category": category})
    return RedirectResponse("/account/feeds", status_code=303)


@router.post("/account/feeds/searches/{search_id}/delete", dependencies=[CSRF_FORM])
def delete_search(request: Request, search_id: int, user: FeedsUser) -> Response:
    if not _feeds(request).delete_search(user.id, search_id):
        raise HTTPException(404, "no such saved search of yours")
    return RedirectResponse("/account/feeds", status_code=303)
