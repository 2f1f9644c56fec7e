"""A user's ratings and library: the JSON endpoints and the /library page.

Writes need an account: a session cookie with the form's CSRF token, or an API
token (`Authorization: Bearer`), which needs none.
"""

from __future__ import annotations

import re
from email.utils import encode_rfc2231
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Header, HTTPException, Path, Query, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from paperfeed.accounts import Account
from paperfeed.application.library import LibraryError, Mine
from paperfeed.sources.bibtex import write_bibtex
from paperfeed.store.personal import clean_tags
from paperfeed.web import schemas as s
from paperfeed.web.deps import (
    LoggedIn,
    PageUser,
    check_csrf_unless_token,
    library_of,
    views_of,
)
from paperfeed.web.forms import local_path
from paperfeed.web.imports import import_context
from paperfeed.web.pages import render
from paperfeed.web.responses import SafeJSONResponse
from paperfeed.web.security import CSRF_HEADER

api = APIRouter(prefix="/api/v1", tags=["library"], default_response_class=SafeJSONResponse)
pages = APIRouter(include_in_schema=False)
Ref = Annotated[str, Path(max_length=200)]
AUTH: dict[int | str, dict[str, Any]] = {
    401: {"model": s.ErrorOut, "description": "Not logged in"},
    403: {"model": s.ErrorOut, "description": "Missing or wrong CSRF token"},
    404: {"model": s.ErrorOut, "description": "No such paper"},
    422: {"model": s.ErrorOut, "description": "Invalid body"},
}



def _mine(mine: Mine) -> s.MineOut:
    return s.MineOut(paper_id=mine.paper_id, rating=mine.rating, saved=mine.saved,
                     tags=list(mine.tags))


CsrfHeader = Annotated[str | None, Header(alias=CSRF_HEADER)]
Reader = Annotated[Account, Depends(LoggedIn("to see your library", api=True))]
_Rater = Annotated[Account, Depends(LoggedIn("to rate and save papers", api=True))]


async def api_writer(request: Request, user: _Rater, token: CsrfHeader = None) -> Account:
    """The account making a write: bearer token, or session plus the X-CSRF-Token header."""
    check_csrf_unless_token(request, token)
    return user


async def form_writer(request: Request, user: _Rater,
                      csrf_token: Annotated[str, Form()] = "") -> Account:
    """The account making a write from a page's form: session plus the form's CSRF token."""
    check_csrf_unless_token(request, csrf_token)
    return user


Writer = Annotated[Account, Depends(api_writer)]
FormWriter = Annotated[Account, Depends(form_writer)]


@api.put("/papers/{ref:path}/rating", response_model=s.MineOut, responses=AUTH)
def rate(request: Request, user: Writer, ref: Ref, body: s.RatingIn) -> s.MineOut:
    """Thumbs up (1) or down (-1) on a paper, or 0 to clear; the feed learns from it."""
    paper = views_of(request).find(ref)
    return _mine(library_of(request).rate(user.id, paper.id, body.value))


@api.post("/library/{ref:path}", response_model=s.MineOut, responses=AUTH)
def save(request: Request, user: Writer, ref: Ref, body: s.LibraryIn) -> s.MineOut:
    """Save a paper to the library with tags (replaces the tags if already saved)."""
    paper = views_of(request).find(ref)
    return _mine(library_of(request).save(user.id, paper.id, body.tags))


@api.delete("/library/{ref:path}", response_model=s.MineOut, responses=AUTH)
def unsave(request: Request, user: Writer, ref: Ref) -> s.MineOut:
    paper = views_of(request).find(ref)
    return _mine(library_of(request).unsave(user.id, paper.id))


def _library(request: Request, user: Account, tag: str | None) -> list[s.LibraryItem]:
    saved = library_of(request).saved(user.id, tag)
    briefs = {b.id: b for b in views_of(request).papers([x.paper_id for x in saved],
                                                      request.state.voter)}
    return [s.LibraryItem(paper=briefs[x.paper_id], tags=list(x.tags), saved_at=x.saved_at)
            for x in saved if x.paper_id in briefs]


@api.get("/library", response_model=list[s.LibraryItem], responses=AUTH)
def library(request: Request, user: Reader,
            tag: Annotated[str | None, Query(max_length=40)] = None) -> list[s.LibraryItem]:
    """Your saved papers, newest first, optionally only those with a tag."""
    return _library(request, user, tag)


@pages.get("/library.bib")
def library_bibtex(request: Request, user: Reader,
                   tag: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    """The library (or one tag of it) as a BibTeX file."""
    saved = library_of(request).saved(user.id, tag)
    papers = views_of(request).catalog.store.get_many([x.paper_id for x in saved])
    name = f"paperfeed-{clean_tags([tag])[0] if tag and clean_tags([tag]) else 'library'}"
    return PlainTextResponse(write_bibtex([p.record for p in papers]),
                             media_type="application/x-bibtex",
                             headers={"Content-Disposition": attachment(f"{name}.bib")})


_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def attachment(filename: str) -> str:
    """A Content-Disposition value for a download named `filename`, whatever it holds.

    The tag in the name comes from the query string: a quote or semicolon in it must
    never become a header parameter of its own. `filename` is a strict ASCII fallback
    (anything else becomes "_"); RFC 6266's `filename*` (RFC 5987 percent-encoding)
    carries the exact name for browsers that read it.
    """
    fallback = _UNSAFE_FILENAME.sub("_", filename).strip("._") or "download"
    value = f'attachment; filename="{fallback}"'
    if fallback != filename:
        value += f"; filename*={encode_rfc2231(filename, 'utf-8')}"
    return value


@pages.get("/library")
def library_page(request: Request, user: PageUser,
                 tag: Annotated[str, Query(max_length=40)] = "") -> Response:
    items = _library(request, user, tag or None)
    all_tags = library_of(request).tags(user.id)
    return render(request, "library.html", {
        "items": items, "tag": tag, "tags": all_tags, "nav": "library",
        **import_context(request, user)})


@pages.post("/papers/{ref:path}/mine")
def mine_form(request: Request, user: FormWriter, ref: str, do: Annotated[str, Form()] = "",
              tags: Annotated[str, Form(max_length=800)] = "",
              next: Annotated[str, Form()] = "") -> Response:
    """The paper page's rate / save / unsave buttons, without JavaScript."""
    paper = views_of(request).find(ref)
    try:
        library_of(request).act(user.id, paper.id, do, tags.split(","))
    except LibraryError as exc:
        raise HTTPException(422, str(exc)) from None
    target = local_path(next, paper_url(ref))
    return RedirectResponse(target, status_code=303)


def paper_url(ref: str) -> str:
    return f"/papers/{ref}"
