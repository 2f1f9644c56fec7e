"""The JSON API under /api/v1: what the pages show, as data, with ETags on every read."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from paperfeed.cards.facets import CardFilter
from paperfeed.cards.model import Kind
from paperfeed.web import schemas as s
from paperfeed.web.deps import OptionalUser, views_of
from paperfeed.web.responses import SafeJSONResponse
from paperfeed.web.security import CSRF_HEADER, VOTER_COOKIE, Guard
from paperfeed.web.votes import cast_vote

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": s.ErrorOut, "description": "No such paper or author"},
    422: {"model": s.ErrorOut, "description": "A parameter is invalid; the message names it"},
}
READ: dict[int | str, dict[str, Any]] = {
    **ERRORS, 304: {"description": "Not modified (the If-None-Match ETag still holds)"}}

router = APIRouter(prefix="/api/v1", tags=["api"], default_response_class=SafeJSONResponse)

Page = Annotated[int, Query(ge=1, le=10_000, description="1-based page number")]
FacetValue = Annotated[str, Field(max_length=200)]
Category = Annotated[str | None, Query(max_length=64, description="e.g. cs.CV")]
# No min_length: Starlette's path converter stops at a newline, so "/papers/%0A" arrives
# as "" and must be the 404 of an unknown paper, not a 422 for a valid-looking id.
Ref = Annotated[str, Path(max_length=200,
                          description="arXiv id (any version), store id or DOI")]



def _voter(request: Request) -> str | None:
    voter: str | None = request.state.voter
    return voter


def cached(request: Request, payload: BaseModel | Sequence[BaseModel]) -> Response:
    """The payload as JSON with a strong ETag; 304 when the client already has it.

    `no-cache` rather than a max-age: vote counts change any minute, and a
    revalidation that ends in 304 costs the client nothing but a round trip.
    """
    if not isinstance(payload, BaseModel):
        data: object = [item.model_dump(mode="json") for item in payload]
    else:
        data = payload.model_dump(mode="json")
    body = SafeJSONResponse(data).body
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache", "Vary": "Cookie"}
    wanted = request.headers.get("if-none-match", "")
    if wanted.strip() == "*" or etag in [t.strip().removeprefix("W/") for t in wanted.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@router.get("/health", response_model=s.HealthOut)
def health(request: Request) -> Response:
    return SafeJSONResponse({"status": "ok", "papers": views_of(request).catalog.store.count()},
                            headers={"Cache-Control": "no-store"})


@router.get("/stats", response_model=s.StatsOut, responses=READ)
def stats(request: Request) -> Response:
    """Counts, date range, index state and harvester checkpoints."""
    return cached(request, views_of(request).stats())


@router.get("/categories", response_model=list[s.CategoryCount], responses=READ)
def categories(request: Request) -> Response:
    return cached(request, views_of(request).categories())


@router.get("/daily", response_model=s.DailyOut, responses=READ)
def daily(
    request: Request,
    day: Annotated[date | None, Query(alias="date",
                                      description="YYYY-MM-DD; default the newest day")] = None,
    view: s.View = "day",
    category: Category = None,
    page: Page = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Response:
    """Papers by listing day (or the week or month around it), most voted first."""
    return cached(request, views_of(request).daily(
        day, view=view, category=category, page=page, per_page=per_page,
        voter=_voter(request)))


@router.get("/trending", response_model=s.TrendingOut, responses=READ)
def trending(
    request: Request, window: s.View = "week", page: Page = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 30,
) -> Response:
    """Papers listed in the window, by votes that halve in weight every 36 hours."""
    return cached(request, views_of(request).trending(
        window, page=page, per_page=per_page, voter=_voter(request)))


@router.get("/search", response_model=s.SearchOut, responses=READ)
def search(
    request: Request,
    q: Annotated[str, Query(max_length=500, description=(
        'Words, "phrases", and card facets: dataset:LaSOT task:"object tracking" '
        "kind:benchmark has:code -has:code"))] = "",
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    category: Category = None,
    author: Annotated[str | None, Query(max_length=200)] = None,
    dataset: Annotated[list[FacetValue] | None, Query(
        max_length=8,
        description="Papers whose card names this dataset (repeatable: all of them)")] = None,
    task: Annotated[list[FacetValue] | None, Query(
        max_length=8,
        description="Papers whose card names this task (repeatable: all of them)")] = None,
    kind: Annotated[list[Kind] | None, Query(description="Card kind (repeatable: any of them)")]
    = None,
    has_code: Annotated[bool | None, Query(description="Only papers with (or without) code")]
    = None,
    sort: s.Sort = "relevance",
    mode: s.Mode = "hybrid",
    page: Annotated[int, Query(ge=1, le=50)] = 1,
    per_page: Annotated[int, Query(ge=1, le=50)] = 20,
) -> Response:
    """Hybrid (BM25 + embeddings) search with filters, card facets and highlighted snippets.

    With facets and no words, the papers whose cards match, newest first; with neither,
    no results."""
    facets = CardFilter(datasets=_values(dataset), tasks=_values(task), kinds=tuple(kind or ()),
                        has={} if has_code is None else {"code": has_code})
    # No words and no facet: no results (like the search page before anything is typed).
    query = " ".join(x for x in (q.strip(), facets.describe()) if x)
    return cached(request, views_of(request).search(
        query, date_from=date_from, date_to=date_to, category=category, author=author,
        sort=sort, mode=mode, page=page, per_page=per_page, voter=_voter(request)))


def _values(values: list[str] | None) -> tuple[str, ...]:
    """Each value as one facet: quotes would end it early in the query syntax."""
    cleaned = (" ".join(v.replace('"', " ").replace("“", " ").replace("”", " ").split())
               for v in values or [])
    return tuple(v for v in cleaned if v)


@router.get("/datasets", response_model=list[s.FacetRef], responses=READ)
def datasets(request: Request, prefix: Annotated[str, Query(max_length=200)] = "",
             limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Response:
    """Datasets and benchmarks named by most papers' cards."""
    return cached(request, views_of(request).facets("dataset", prefix=prefix, limit=limit))


@router.get("/datasets/{name:path}", response_model=s.FacetOut, responses=READ)
def dataset_page(request: Request, name: Annotated[str, Path(max_length=200)], page: Page = 1,
                 per_page: Annotated[int, Query(ge=1, le=100)] = 50) -> Response:
    """The papers naming a dataset, newest first, with the figures they report on it and the
    sentence each figure came from: an extracted leaderboard."""
    return cached(request, views_of(request).facet("dataset", name, page=page, per_page=per_page,
                                                 voter=_voter(request)))


@router.get("/tasks", response_model=list[s.FacetRef], responses=READ)
def tasks(request: Request, prefix: Annotated[str, Query(max_length=200)] = "",
          limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Response:
    """Tasks named by most papers' cards."""
    return cached(request, views_of(request).facets("task", prefix=prefix, limit=limit))


@router.get("/tasks/{name:path}", response_model=s.FacetOut, responses=READ)
def task_page(request: Request, name: Annotated[str, Path(max_length=200)], page: Page = 1,
              per_page: Annotated[int, Query(ge=1, le=100)] = 50) -> Response:
    """The papers naming a task, newest first, with their headline figures."""
    return cached(request, views_of(request).facet("task", name, page=page, per_page=per_page,
                                                 voter=_voter(request)))


@router.get("/papers/{ref:path}/related", response_model=list[s.PaperBrief], responses=READ)
def related(request: Request, ref: Ref,
            k: Annotated[int, Query(ge=1, le=50)] = 10) -> Response:
    return cached(request, views_of(request).related(ref, k, _voter(request)))


@router.get("/papers/{ref:path}", response_model=s.PaperDetail, responses=READ)
def paper(request: Request, ref: Ref) -> Response:
    return cached(request, views_of(request).paper(ref, _voter(request)))


@router.get("/authors", response_model=list[s.AuthorMatch], responses=READ)
def find_authors(request: Request,
                 q: Annotated[str, Query(min_length=1, max_length=200)]) -> Response:
    """Authors whose name has every word of `q` as a word prefix, most papers first."""
    return cached(request, views_of(request).find_authors(q))


@router.get("/authors/{key:path}", response_model=s.AuthorOut, responses=READ)
def author(
    request: Request,
    key: Annotated[str, Path(max_length=200)],
    group: Annotated[int | None, Query(ge=0, le=100)] = None,
    page: Page = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Response:
    """One exact author name: papers, co-authors, active periods, co-author groups."""
    return cached(request, views_of(request).author(
        key, group=group, page=page, per_page=per_page, voter=_voter(request)))


@router.get("/session", response_model=s.SessionOut)
def session(request: Request) -> Response:
    """A voter cookie (new unless one is sent) and the CSRF token that goes with it."""
    guard: Guard = request.app.state.guard
    browser = request.state.browser or guard.new_voter()
    response = SafeJSONResponse({"csrf_token": guard.csrf_token(browser)},
                                headers={"Cache-Control": "no-store"})
    response.set_cookie(VOTER_COOKIE, guard.cookie(browser), httponly=True, samesite="lax",
                        max_age=2 * 365 * 24 * 3600, secure=request.url.scheme == "https")
    return response


@router.get("/me", response_model=s.MeOut,
            responses={401: {"model": s.ErrorOut, "description": "Not logged in"}})
def me(user: OptionalUser) -> s.MeOut:
    """The account of the session cookie or the `Authorization: Bearer pf_...` token."""
    if user is None:
        raise HTTPException(401, "not logged in: send a session cookie or "
                                 "'Authorization: Bearer <API token>'",
                            headers={"WWW-Authenticate": "Bearer"})
    return s.MeOut(id=user.id, email=user.email, name=user.name)


VOTE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    401: {"model": s.ErrorOut, "description": "Votes are for accounts only here (PAPERFEED_VOTES)"},
    403: {"model": s.ErrorOut, "description": "No voter cookie or a wrong CSRF token, "
                                              "or a revoked API token"},
    429: {"model": s.ErrorOut, "description": "Too many votes from this client this hour"}}


CsrfHeader = Annotated[str | None, Header(alias=CSRF_HEADER,
                                           description="The token from GET /api/v1/session")]


async def checked_voter(request: Request, user: OptionalUser, token: CsrfHeader = None) -> str:
    """Who a vote from the API counts as: the API token's account, or the browser whose
    CSRF token came in the header; 403 otherwise."""
    guard: Guard = request.app.state.guard
    voter = _voter(request)
    if request.state.via_token:
        # A bearer token is never sent by a browser on its own, so no forgery to stop.
        if user is None:
            raise HTTPException(403, "unknown or revoked API token")
        return f"user:{user.id}"
    if not guard.csrf_ok(request.state.browser, token):
        raise HTTPException(403, "voting needs the pf_voter cookie and its X-CSRF-Token header "
                                 "(GET /api/v1/session gives both)")
    assert voter is not None
    return voter


Voter = Annotated[str, Depends(checked_voter)]


@router.post("/papers/{ref:path}/vote", response_model=s.VoteOut, responses=VOTE_ERRORS)
def vote(request: Request, voter: Voter, user: OptionalUser, ref: Ref) -> s.VoteOut:
    """Upvote a paper, once per voter (voting again changes nothing)."""
    return cast_vote(request, ref, voter, user, up=True)


@router.delete("/papers/{ref:path}/vote", response_model=s.VoteOut, responses=VOTE_ERRORS)
def unvote(request: Request, voter: Voter, user: OptionalUser, ref: Ref) -> s.VoteOut:
    """Take one's vote back."""
    return cast_vote(request, ref, voter, user, up=False)
