"""Serving a read-only store: pages and search work, every write answers 503.

A data folder the server may only read (an archive on a read-only mount, another user's
folder) opens read-only (`Store.read_only`). This pure ASGI middleware then refuses
every request that could change something (any method but GET, HEAD and OPTIONS) before
a handler runs, and turns a write that a GET attempted anyway (`ReadOnlyStoreError`)
into the same 503, in the app's error shape.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperfeed.store import ReadOnlyStoreError, Store
from paperfeed.web.errors import send_error

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CODE = "read_only"


def message(store: Store) -> str:
    return ("this paperfeed serves a read-only copy of its data: reading and searching "
            "work, but votes, sign-ups, log-ins and other changes cannot be saved "
            f"({store.data_dir} is read-only for the server)")


class ReadOnlyGuard:
    """503 for writes when the store is read-only; a no-op otherwise."""

    def __init__(self, app: ASGIApp, store: Store) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.store.read_only:
            await self.app(scope, receive, send)
            return
        if scope["method"] not in SAFE_METHODS:
            await send_error(scope, receive, send, 503, CODE, message(self.store))
            return
        started = False

        async def watched_send(msg: Message) -> None:
            nonlocal started
            started = started or msg["type"] == "http.response.start"
            await send(msg)

        try:
            await self.app(scope, receive, watched_send)
        except ReadOnlyStoreError:
            if started:
                raise
            await send_error(scope, receive, send, 503, CODE, message(self.store))
