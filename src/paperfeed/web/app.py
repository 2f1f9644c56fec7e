"""The FastAPI application: middleware, error handling, and the two routers (pages, API)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from paperfeed import __version__
from paperfeed.catalog import Catalog, PaperNotFoundError
from paperfeed.web.security import COOKIE_MAX_AGE, SECURITY_HEADERS, VOTER_COOKIE, Guard
from paperfeed.web.views import Views

log = logging.getLogger(__name__)
HERE = Path(__file__).parent


class SafeJSONResponse(JSONResponse):
    """JSON with <, > and & escaped as \\u escapes: the same data, but a hostile title can
    never appear as markup in the bytes, whatever a client does with them."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return (text.replace("<", "\\u003c").replace(">", "\\u003e")
                .replace("&", "\\u0026").encode("utf-8"))


def http_url(url: str | None) -> str | None:
    """The URL if it is http(s), else None: a stored `javascript:` link must never be a href."""
    if not url:
        return None
    scheme = urlsplit(url.strip()).scheme.lower()
    return url.strip() if scheme in ("http", "https") else None


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    where = {"query": "query parameter", "path": "path parameter", "body": "body field",
             "header": "header", "cookie": "cookie"}
    parts = [str(p) for p in loc]
    if parts and parts[0] in where:
        return f"{where[parts[0]]} '{'.'.join(parts[1:])}'" if parts[1:] else where[parts[0]]
    return ".".join(parts)


def create_app(catalog: Catalog, *, warm_up: bool = True) -> FastAPI:
    """The web app over an open catalog (the caller owns and closes it)."""
    views = Views(catalog)
    guard = Guard(catalog.store.secret_key())
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["version"] = __version__
    templates.env.filters["http_url"] = http_url

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if warm_up and catalog.store.count():
            # Load the model and the vector index before the first visitor, not during.
            try:
                catalog.search("warm up", k=1)
            except Exception:
                log.exception("warm-up search failed")
        yield

    app = FastAPI(
        title="paperfeed", version=__version__, lifespan=lifespan,
        description="Daily papers, trending, search, paper and author pages of a paperfeed "
                    "store. Reads need nothing; a vote needs the pf_voter cookie and its "
                    "CSRF token from GET /api/v1/session.",
        docs_url="/api/docs", redoc_url=None, openapi_url="/api/v1/openapi.json",
    )
    app.state.views = views
    app.state.guard = guard
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def identity_and_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        voter = guard.voter(request.cookies.get(VOTER_COOKIE))
        new_voter = None
        if voter is None and not _is_api(request) and request.method == "GET" \
                and not request.url.path.startswith("/static/"):
            voter = new_voter = guard.new_voter()
        request.state.voter = voter
        response = await call_next(request)
        if new_voter is not None:
            response.set_cookie(VOTER_COOKIE, guard.cookie(new_voter), max_age=COOKIE_MAX_AGE,
                                httponly=True, samesite="lax",
                                secure=request.url.scheme == "https")
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def error(request: Request, status: int, code: str, message: str,
              errors: list[dict[str, str]] | None = None) -> Response:
        if _is_api(request):
            return SafeJSONResponse(
                {"error": code, "message": message, "errors": errors or []}, status_code=status)
        return templates.TemplateResponse(
            request, "error.html", {"status": status, "message": message, "errors": errors or []},
            status_code=status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        details = [{"location": _location(e.get("loc", ())), "message": str(e.get("msg", ""))}
                   for e in exc.errors()]
        summary = "; ".join(f"{d['location']}: {d['message']}" for d in details[:3])
        return error(request, 422, "invalid_request", summary or "invalid request", details)

    @app.exception_handler(PaperNotFoundError)
    async def not_found(request: Request, exc: PaperNotFoundError) -> Response:
        return error(request, 404, "not_found", str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 403: "forbidden", 405: "method_not_allowed"}.get(
            exc.status_code, "error")
        response = error(request, exc.status_code, code, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        return error(request, 500, "internal_error",
                     "something went wrong on our side; the server log has the details")

    from paperfeed.web.api import router as api_router
    from paperfeed.web.pages import router as pages_router

    app.include_router(api_router)
    app.include_router(pages_router)
    return app


def app_from_env() -> FastAPI:
    """An app over `PAPERFEED_DATA` (or the default folder): the uvicorn factory for workers."""
    catalog = Catalog(os.environ.get("PAPERFEED_DATA") or None)
    return create_app(catalog)
