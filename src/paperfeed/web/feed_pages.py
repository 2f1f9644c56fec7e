"""The personal feed page and onboarding: tell paperfeed who you are, then read your picks.

Onboarding takes any of: an author name (choose among the exact names and tick
your papers: names are never merged, docs/decisions/authors.md), arXiv ids, a
BibTeX file or a pasted publication list in any format the ingester reads
(imported by a background job, `web/imports.py`), and follows of categories,
authors and keywords.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from paperfeed.accounts import Account
from paperfeed.application import onboarding as profile
from paperfeed.rank.feed import Feed
from paperfeed.web.deps import CSRF_FORM, LoggedIn, PageUser, library_of, views_of
from paperfeed.web.imports import import_context
from paperfeed.web.pages import render

router = APIRouter(include_in_schema=False)
FeedUser = Annotated[Account, Depends(LoggedIn("to build your feed"))]



def _onboarding(request: Request, user: Account, status: int = 200, **extra: Any) -> Response:
    views = views_of(request)
    own = views.papers(profile.own_papers(views.catalog.store, user.id), request.state.voter)
    context = {"nav": "feed", "own": own, "follows": library_of(request).follows(user.id),
               "author_query": "", "candidates": [], "message": None, "error": None,
               "categories": views.categories()[:80], **import_context(request, user),
               **extra}
    return render(request, "onboarding.html", context, status)


@router.get("/onboarding")
def onboarding(request: Request, user: PageUser, author: str = "") -> Response:
    candidates = []
    if author.strip():
        # Each exact name with its papers: the user ticks the ones that are theirs.
        views = views_of(request)
        for match in views.find_authors(author[:200], limit=8):
            papers = views.browse.author_papers(match.author.key, limit=30)
            candidates.append({"author": match.author, "count": match.papers,
                               "papers": views.papers([p.paper_id for p in papers], None)})
    return _onboarding(request, user, author_query=author, candidates=candidates)


@router.post("/onboarding/papers", dependencies=[CSRF_FORM])
def add_papers(request: Request, user: FeedUser,
               paper: Annotated[list[str] | None, Form()] = None) -> Response:
    # Ticked boxes carry store ids; anything else (a forged 0, -1 or 1e23) is no paper.
    ids = [int(p) for p in paper or [] if p.isascii() and p.isdigit() and len(p) < 19]
    added = profile.add_papers(views_of(request).catalog.store, user.id, ids)
    return _onboarding(request, user, message=f"{added} papers added to your profile")


@router.post("/onboarding/arxiv", dependencies=[CSRF_FORM])
def add_arxiv(request: Request, user: FeedUser,
              ids: Annotated[str, Form(max_length=20_000)] = "") -> Response:
    added = profile.add_arxiv_ids(views_of(request).catalog.store, user.id, ids)
    return _onboarding(request, user, message=added.message())


@router.post("/onboarding/follow", dependencies=[CSRF_FORM])
def follow(request: Request, user: FeedUser, kind: Annotated[str, Form()] = "",
           value: Annotated[str, Form(max_length=200)] = "") -> Response:
    try:
        library_of(request).follow(user.id, kind, value)
    except ValueError as exc:
        return _onboarding(request, user, 422, error=str(exc))
    return RedirectResponse("/onboarding", status_code=303)


@router.post("/onboarding/unfollow/{follow_id}", dependencies=[CSRF_FORM])
def unfollow(request: Request, user: FeedUser, follow_id: int) -> Response:
    library_of(request).unfollow(user.id, follow_id)
    return RedirectResponse("/onboarding", status_code=303)


@router.post("/onboarding/own/{paper_id}/remove", dependencies=[CSRF_FORM])
def remove_own(request: Request, user: FeedUser, paper_id: int) -> Response:
    profile.remove_paper(views_of(request).catalog.store, user.id, paper_id)
    return RedirectResponse("/onboarding", status_code=303)


@router.get("/feed")
def feed(request: Request, user: PageUser) -> Response:
    engine: Feed = request.app.state.feed
    picks = engine.picks(user.id, None, 20, False)
    briefs = {b.id: b for b in views_of(request).papers([p.paper_id for p in picks],
                                                      request.state.voter)}
    states = library_of(request).states(user.id, list(briefs))
    items = [{"paper": briefs[p.paper_id], "reason": p.reason, "score": p.score,
              "rating": states.get(p.paper_id, (0, False))[0]}
             for p in picks if p.paper_id in briefs]
    has_profile = bool(engine.rated(user.id)) or bool(engine.follows(user.id))
    return render(request, "feed.html", {"nav": "feed", "items": items,
                                         "has_profile": has_profile})
