"""The FastAPI application: middleware, error handling, and the two routers (pages, API)."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import anyio.to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperfeed import __version__
from paperfeed.accounts import Accounts
from paperfeed.application.backfill import CATCH_UP, queue_catch_up, run_catch_up_job
from paperfeed.application.progress import Progress
from paperfeed.application.status import StatusCache
from paperfeed.catalog import Catalog, PaperNotFoundError
from paperfeed.errors import IndexStaleError
from paperfeed.jobs import IMPORT, JobRunner, run_import, scheduler_for
from paperfeed.jobs.runner import Handler
from paperfeed.mail import MailQueue
from paperfeed.rank.feed import Feed
from paperfeed.settings import Settings
from paperfeed.store.jobs import JobStore
from paperfeed.store.limits import RateLimits
from paperfeed.web.account_pages import router as account_router
from paperfeed.web.api import router as api_router
from paperfeed.web.api_docs import add_api_docs
from paperfeed.web.cookies import cookie_header
from paperfeed.web.deps import LoginRedirect, login_redirect
from paperfeed.web.digest_pages import router as digest_router
from paperfeed.web.feed_pages import router as feed_router
from paperfeed.web.feeds import router as feeds_router
from paperfeed.web.imports import api as imports_api
from paperfeed.web.imports import pages as imports_pages
from paperfeed.web.library import api as library_api
from paperfeed.web.library import pages as library_pages
from paperfeed.web.limits import BodyLimits
from paperfeed.web.metrics import Metrics, RequestMetrics
from paperfeed.web.metrics import router as metrics_router
from paperfeed.web.pages import router as pages_router
from paperfeed.web.readonly import ReadOnlyGuard
from paperfeed.web.responses import SafeJSONResponse
from paperfeed.web.security import (
    COOKIE_MAX_AGE,
    SECURITY_HEADERS,
    SESSION_COOKIE,
    VOTER_COOKIE,
    Guard,
)
from paperfeed.web.views import Views

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
T = TypeVar("T")
# Every router of the app, in the order they are matched (pages.py's catch-alls last).
ROUTERS: tuple[APIRouter, ...] = (
    api_router, library_api, imports_api, imports_pages, account_router, library_pages,
    feed_router, feeds_router, digest_router, pages_router)


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


class IdentityAndHeaders:
    """Pure ASGI middleware: who is asking, and the security headers on every response.

    Sets `request.state.browser` (the id in the signed pf_voter cookie; a new one for a
    browser without, on page views), `.user` (the account of a live session or an
    `Authorization: Bearer` API token), `.session_id` (the session's row, else None),
    `.via_token`, and `.voter` (the account when logged in, else the browser). CSRF
    tokens are bound to the browser id. A session costs one indexed read per request,
    and a write at most once a minute (its last-seen time), done in a worker thread so a
    busy store never holds up the event loop.

    Not `@app.middleware("http")`: Starlette's BaseHTTPMiddleware wraps each response in
    an extra task and stream, which cost more than the rest of a small request.
    """

    def __init__(self, app: ASGIApp, guard: Guard, accounts: Accounts) -> None:
        self.app = app
        self.guard = guard
        self.accounts = accounts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        conn = HTTPConnection(scope)
        browser = self.guard.voter(conn.cookies.get(VOTER_COOKIE))
        new_browser = None
        # No cookie on API, static or feed responses: shared caches may then keep them.
        if browser is None and scope["method"] == "GET" and not path.startswith(
                ("/api/", "/static/", "/feeds/")):
            browser = new_browser = self.guard.new_voter()
        user, via_token, session_id = None, False, None
        auth = conn.headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            user, via_token = await self._read(self.accounts.account_for_token,
                                               auth[7:].strip()), True
        elif (live := await self._read(self.accounts.sessions.find,
                                       conn.cookies.get(SESSION_COOKIE))) is not None:
            # No row, no session: log-out, a password change or a reset deleted it.
            user, session_id = live.account, live.id
            if live.stale and not self.accounts.store.read_only:  # nothing to record there
                await anyio.to_thread.run_sync(self.accounts.sessions.touch, live.id)
        state = scope.setdefault("state", {})
        state.update(browser=browser, user=user, via_token=via_token, session_id=session_id,
                     voter=f"user:{user.id}" if user else browser)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if new_browser is not None:
                    headers.append("set-cookie", cookie_header(
                        VOTER_COOKIE, self.guard.cookie(new_browser), COOKIE_MAX_AGE, scope))
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _read(self, lookup: Callable[[str], T | None], key: str | None) -> T | None:
        """One indexed read: inline on SQLite (cheaper than a thread hop), in a worker
        thread on a database server, whose round trip must not hold up the event loop."""
        if not key:
            return None
        if self.accounts.store.embedded:
            return lookup(key)
        return await anyio.to_thread.run_sync(lookup, key)


def create_app(catalog: Catalog, *, warm_up: bool = True, settings: Settings | None = None,
               run_jobs: bool = True, schedule: bool = False,
               progress: Progress | None = None) -> FastAPI:
    """The web app over an open catalog (the caller owns and closes it).

    `settings` default to the environment's (`Settings.from_env`); a server that starts
    without a configured base URL fills in its own address (`BackgroundServer`, `serve`).
    With `schedule` the app also runs the recurring jobs (`paperfeed serve` by default)
    and finishes a partial index in the background (`application.backfill`), its
    progress drawn on `progress` too (the server's terminal).
    """
    settings = settings if settings is not None else Settings.from_env()
    handlers: dict[str, Handler] = {IMPORT: lambda job, beat: run_import(catalog, job, beat)}
    if schedule:  # only a scheduling server finishes a partial index (not the quickstart's check)
        handlers[CATCH_UP] = lambda job, beat: run_catch_up_job(catalog, job.payload, beat,
                                                                progress)
    runner = JobRunner(JobStore(catalog.store), handlers)
    views = Views(catalog)
    guard = Guard(catalog.store.secret_key())
    accounts = Accounts(catalog.store)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["version"] = __version__
    templates.env.filters["http_url"] = http_url

    def warm(application: FastAPI) -> None:
        if warm_up and catalog.store.count():
            # Load the model and the vector index before the first visitor, not during.
            try:
                catalog.search("warm up", k=1)
                # The feed's background sample and tf-idf vocabulary (3.5 s on the 75k store
                # when left to the first feed request).
                application.state.feed.warm()
            except Exception:
                log.exception("warm-up failed")

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[None]:
        # Blocking work (model, index, store) runs in a thread, never on the event loop.
        await anyio.to_thread.run_sync(warm, application)
        # The model, index and caches loaded so far live as long as the server: take
        # them out of the garbage collector's full passes, which otherwise scan them
        # all every few thousand allocations and show up as latency spikes
        # (docs/decisions/web.md: daily page p95 at concurrency 1, 80 ms -> 23 ms).
        gc.collect()
        gc.freeze()
        # Sync endpoints run in anyio's thread pool (40 threads by default). The work is
        # CPU-bound and mostly holds the GIL, so 40 runnable threads only thrash: one
        # worker served search at concurrency 32 at 37 req/s against 52 at concurrency 1.
        anyio.to_thread.current_default_thread_limiter().total_tokens = 4
        if not catalog.store.read_only:
            # Every window is an hour at most: older counters only take room.
            await anyio.to_thread.run_sync(RateLimits(catalog.store).prune, timedelta(days=1))
            if run_jobs:  # a read-only store takes no uploads
                runner.start()
            if schedule and run_jobs:  # the rest of a partial index, as a job
                await anyio.to_thread.run_sync(queue_catch_up, catalog)
                runner.wake()
            if schedule:
                application.state.scheduler = views.scheduler = scheduler_for(catalog)
                application.state.scheduler.start()
        # Sign-up and reset mail goes out from the mail queue's own thread, never on a
        # request's path; what is queued at shutdown is still sent (for up to 10 s).
        application.state.mail_queue.start()
        try:
            yield
        finally:
            runner.stop()  # after the job in hand: an import is never cut off midway
            if getattr(application.state, "scheduler", None) is not None:
                application.state.scheduler.stop()  # after the run in hand
            application.state.mail_queue.stop()

    app = FastAPI(
        title="paperfeed", version=__version__, lifespan=lifespan,
        description="Daily papers, trending, search, paper and author pages of a paperfeed "
                    "store. Reads need nothing; a vote needs the pf_voter cookie and its "
                    "CSRF token from GET /api/v1/session.",
        # /api/docs is ours (web/api_docs.py): FastAPI's page needs a CDN and inline script.
        docs_url=None, redoc_url=None, openapi_url="/api/v1/openapi.json",
    )
    app.state.settings = settings
    app.state.jobs = runner
    app.state.views = views
    app.state.guard = guard
    app.state.accounts = accounts
    app.state.outbox = catalog.store.subdir("outbox")
    app.state.mail_queue = MailQueue(app.state.outbox)
    app.state.feed = Feed(catalog)
    app.state.picks = app.state.feed.picks  # the PickSource for digests and Atom feeds
    app.state.templates = templates
    app.state.metrics = Metrics(StatusCache(catalog))
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    add_api_docs(app)

    # Request body limits (web/limits.py): inside IdentityAndHeaders, so a 413 carries the
    # security headers, and outside every route, so no handler parses an oversized body.
    app.add_middleware(ReadOnlyGuard, store=catalog.store)  # 503 for writes to a read-only store
    app.add_middleware(BodyLimits, limits=settings.body_limits)
    app.add_middleware(IdentityAndHeaders, guard=guard, accounts=accounts)
    # Outermost but one: a request for a host this server is not (DNS rebinding, a forged Host
    # header) is refused before anything reads it. Links never use the Host header anyway.
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.hosts())
    # Outside even that: every answer is counted and logged, a refused Host included.
    app.add_middleware(RequestMetrics, metrics=app.state.metrics)

    def error(request: Request, status: int, code: str, message: str,
              errors: list[dict[str, str]] | None = None) -> Response:
        if _is_api(request):
            return SafeJSONResponse(
                {"error": code, "message": message, "errors": errors or []}, status_code=status)
        return templates.TemplateResponse(
            request, "error.html", {"status": status, "message": message, "errors": errors or []},
            status_code=status)

    app.add_exception_handler(LoginRedirect, login_redirect)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        details = [{"location": _location(e.get("loc", ())), "message": str(e.get("msg", ""))}
                   for e in exc.errors()]
        summary = "; ".join(f"{d['location']}: {d['message']}" for d in details[:3])
        return error(request, 422, "invalid_request", summary or "invalid request", details)

    @app.exception_handler(PaperNotFoundError)
    async def not_found(request: Request, exc: PaperNotFoundError) -> Response:
        return error(request, 404, "not_found", str(exc))

    @app.exception_handler(IndexStaleError)
    async def index_unusable(request: Request, exc: IndexStaleError) -> Response:
        # A damaged or outdated index: the operator's `paperfeed reindex` fixes it.
        return error(request, 503, "index_unavailable", str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 403: "forbidden", 405: "method_not_allowed",
                401: "unauthorized"}.get(
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

    app.include_router(metrics_router)
    for router in ROUTERS:
        app.include_router(router)
    return app


def app_from_env() -> FastAPI:
    """An app over `PAPERFEED_DATA` (or the default folder): the uvicorn factory for workers."""
    catalog = Catalog(os.environ.get("PAPERFEED_DATA") or None)
    return create_app(catalog, schedule=os.environ.get("PAPERFEED_SCHEDULE") == "1")
