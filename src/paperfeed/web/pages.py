"""The HTML pages: server-rendered Jinja2 templates over the same views as the API.

Every query lives in the URL (a search or a day can be shared); forms work
without JavaScript, which only makes voting happen in place.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from paperfeed.store.personal import Personal
from paperfeed.web import schemas as s
from paperfeed.web.deps import CSRF_FORM, OptionalUser, user_of, views_of
from paperfeed.web.forms import local_path
from paperfeed.web.responses import SafeJSONResponse
from paperfeed.web.security import CSRF_FIELD, Guard
from paperfeed.web.votes import cast_vote

router = APIRouter(include_in_schema=False)

Page = Annotated[int, Query(ge=1, le=10_000)]
Text = Annotated[str, Query(max_length=500)]


def render(request: Request, template: str, context: dict[str, Any], status: int = 200
            ) -> Response:
    templates: Jinja2Templates = request.app.state.templates
    guard: Guard = request.app.state.guard
    browser = request.state.browser
    base = {"csrf_token": guard.csrf_token(browser) if browser else "", "csrf_field": CSRF_FIELD,
            "user": user_of(request),
            "path": request.url.path, "full_path": _full_path(request)}
    return templates.TemplateResponse(request, template, {**base, **context}, status_code=status)


def _full_path(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")



def _day(value: str, field: str, errors: list[str]) -> date | None:
    """A form's date field: empty is no date, a bad one is reported on the page."""
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        errors.append(f"{field}: {value!r} is not a date (YYYY-MM-DD)")
        return None


def url_with(path: str, params: dict[str, object]) -> str:
    """A page URL with the non-empty parameters, in a stable order (shareable links)."""
    kept = {k: v for k, v in params.items()
            if v is not None and v != "" and not (k == "page" and v == 1)}
    return f"{path}?{urlencode(kept)}" if kept else path


@router.get("/")
@router.get("/daily")
def daily(request: Request, day: Annotated[str, Query(alias="date", max_length=20)] = "",
          view: s.View = "day", category: Text = "", page: Page = 1) -> Response:
    errors: list[str] = []
    chosen = _day(day, "date", errors)
    out = views_of(request).daily(chosen, view=view, category=category or None, page=page,
                                voter=request.state.voter)
    categories = views_of(request).categories()[:40]
    params = {"view": view, "category": category}
    return render(request, "daily.html", {
        "daily": out, "errors": errors, "categories": categories, "nav": "daily",
        "link": lambda **kw: url_with("/daily", {**params, "date": out.date, **kw}),
    })


@router.get("/trending")
def trending(request: Request, window: s.View = "week", page: Page = 1) -> Response:
    out = views_of(request).trending(window, page=page, voter=request.state.voter)
    return render(request, "trending.html", {
        "trending": out, "nav": "trending",
        "link": lambda **kw: url_with("/trending", {"window": window, **kw}),
    })


@router.get("/search")
def search(
    request: Request, q: Text = "", date_from: Annotated[str, Query(alias="from",
                                                                     max_length=20)] = "",
    date_to: Annotated[str, Query(alias="to", max_length=20)] = "", category: Text = "",
    author: Text = "", sort: s.Sort = "relevance", mode: s.Mode = "hybrid",
    page: Annotated[int, Query(ge=1, le=50)] = 1,
) -> Response:
    errors: list[str] = []
    start, end = _day(date_from, "from", errors), _day(date_to, "to", errors)
    out = None
    if q.strip() and not errors:
        out = views_of(request).search(
            q, date_from=start, date_to=end, category=category.strip() or None,
            author=author.strip() or None, sort=sort, mode=mode, page=page,
            voter=request.state.voter)
    params = {"q": q, "from": date_from, "to": date_to, "category": category,
              "author": author, "sort": sort if sort != "relevance" else "",
              "mode": mode if mode != "hybrid" else ""}
    return render(request, "search.html", {
        "q": q, "form": params, "sort": sort, "mode": mode, "result": out, "errors": errors,
        "nav": "search", "categories": views_of(request).categories()[:60],
        "link": lambda **kw: url_with("/search", {**params, **kw}),
    })


@router.get("/papers/{ref:path}")
def paper(request: Request, ref: str, user: OptionalUser) -> Response:
    views = views_of(request)
    detail = views.paper(ref, request.state.voter)
    related = views.related(ref, 8, request.state.voter)
    mine = None
    if user is not None:
        personal = Personal(views.catalog.store)
        rating, saved = personal.states(user.id, [detail.id]).get(detail.id, (0, False))
        tags = next((x.tags for x in personal.library(user.id)
                     if x.paper_id == detail.id), ())
        mine = {"rating": rating, "saved": saved, "tags": ", ".join(tags)}
    return render(request, "paper.html", {"paper": detail, "related": related, "nav": "",
                                          "mine": mine})


@router.post("/papers/{ref:path}/vote", dependencies=[CSRF_FORM])
def vote(request: Request, ref: str, user: OptionalUser,
         direction: Annotated[str, Form()] = "up", next: Annotated[str, Form()] = "") -> Response:
    result = cast_vote(request, ref, request.state.voter, user, up=direction != "undo")
    if "application/json" in request.headers.get("accept", ""):
        return SafeJSONResponse(result.model_dump(mode="json"))
    # Only local paths: an open redirect would let another site borrow our address.
    target = local_path(next, f"/papers/{ref}")
    return RedirectResponse(target, status_code=303)


@router.get("/authors")
def authors(request: Request, q: Text = "") -> Response:
    matches = views_of(request).find_authors(q, limit=50) if q.strip() else []
    return render(request, "authors.html", {"q": q, "matches": matches, "nav": "authors"})


@router.get("/authors/{key:path}")
def author(request: Request, key: str, group: Annotated[int | None, Query(ge=0, le=100)] = None,
           page: Page = 1) -> Response:
    out = views_of(request).author(key, group=group, page=page, voter=request.state.voter)
    return render(request, "author.html", {
        "author": out, "group": group, "nav": "authors",
        "link": lambda **kw: url_with(f"/authors/{quote(out.key, safe='')}",
                                      {"group": group, **kw}),
    })


@router.get("/datasets")
@router.get("/tasks")
def facet_list(request: Request, prefix: Text = "") -> Response:
    facet: s.Facet = "dataset" if request.url.path.startswith("/datasets") else "task"
    items = views_of(request).facets(facet, prefix=prefix.strip(), limit=300)
    return render(request, "facets.html", {
        "facet": facet, "title": "Datasets and benchmarks" if facet == "dataset" else "Tasks",
        "items": items, "prefix": prefix, "nav": f"{facet}s"})


@router.get("/datasets/{name:path}")
@router.get("/tasks/{name:path}")
def facet_page(request: Request, name: str, page: Page = 1) -> Response:
    facet: s.Facet = "dataset" if request.url.path.startswith("/datasets/") else "task"
    out = views_of(request).facet(facet, name[:200], page=page, voter=request.state.voter)
    return render(request, "facet.html", {
        "out": out, "nav": f"{facet}s",
        "link": lambda **kw: url_with(f"/{facet}s/{quote(out.name, safe='')}", kw),
    })


@router.get("/stats")
def stats(request: Request) -> Response:
    return render(request, "stats.html", {"stats": views_of(request).stats(), "nav": "stats"})
