"""Request body limits: a pure ASGI middleware that refuses oversized bodies with 413.

Owns the one place that decides how many bytes a request may send, by its content
type (`Settings.body_limits`: multipart uploads, url-encoded forms, JSON, anything
else). A declared Content-Length over the limit is refused before the app runs; a
chunked (or under-declared) body is counted as it streams and refused as soon as it
passes the limit, so no handler or parser ever holds more than the limit plus one chunk.

Pure ASGI rather than BaseHTTPMiddleware, like `IdentityAndHeaders`: no extra task and
stream per request.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperfeed.web.errors import send_error

OTHER = "other"
SETTING = "Settings.body_limits"


class BodyTooLarge(Exception):
    """Raised into the app from `receive` when a streamed body passes its limit."""


def _size(n: int) -> str:
    if n >= 1024 * 1024 and n % 1024 == 0:
        return f"{n / (1024 * 1024):g} MiB"
    return f"{n / 1024:g} KiB" if n >= 1024 else f"{n} bytes"


def body_kind(content_type: str | None, limits: Mapping[str, int]) -> str:
    """The key of `limits` for a Content-Type header: its media type, else "other"."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media if media in limits and media != OTHER else OTHER


class BodyLimits:
    """Answer 413 (the app's error shape) for a request body over its content type's limit."""

    def __init__(self, app: ASGIApp, limits: Mapping[str, int]) -> None:
        if OTHER not in limits:
            raise ValueError(f"{SETTING} needs an {OTHER!r} limit")
        self.app = app
        self.limits = dict(limits)

    def _message(self, kind: str, limit: int, declared: int | None) -> str:
        what = "bodies of other types" if kind == OTHER else f"{kind} bodies"
        size = f" ({declared:,} bytes)" if declared is not None else ""
        return (f"request body too large{size}: the limit for {what} is {limit:,} bytes "
                f"({_size(limit)}; {SETTING}[{kind!r}])")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        kind = body_kind(headers.get("content-type"), self.limits)
        limit = self.limits[kind]
        declared = headers.get("content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            # Refused before anything reads a byte of it.
            await send_error(scope, receive, send, 413, "payload_too_large",
                             self._message(kind, limit, int(declared)))
            return

        received = 0
        too_large = False
        app_started = False

        async def counted_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise BodyTooLarge(self._message(kind, limit, None))
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal app_started
            # Whatever the app made of the interrupted body (a 400 from a parser that
            # caught the error) is dropped: the answer is our 413.
            if too_large and not app_started:
                return
            if message["type"] == "http.response.start":
                app_started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            # BodyTooLarge, or whatever a handler turned it into. Once a (streaming)
            # response has begun there is nothing better to do than fail it.
            if not too_large or app_started:
                raise
        if too_large and not app_started:
            await send_error(scope, receive, send, 413, "payload_too_large",
                             self._message(kind, limit, None))
