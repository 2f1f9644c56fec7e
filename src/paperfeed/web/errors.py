"""The app's error shape for answers made outside the routes, by pure ASGI middleware.

The same shape as `create_app`'s handlers: JSON `{"error", "message", "errors"}` under
/api/, the HTML error page elsewhere. Middleware runs outside FastAPI's exception
handlers, so it answers through `send_error` instead of raising.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from paperfeed.web.responses import SafeJSONResponse


def error_response(scope: Scope, status: int, code: str, message: str,
                   headers: dict[str, str] | None = None) -> Response:
    """The error `status` with a machine `code` and a one-line human `message`."""
    request = Request(scope)
    if scope["path"].startswith("/api/"):
        response: Response = SafeJSONResponse(
            {"error": code, "message": message, "errors": []}, status_code=status)
    else:
        templates = scope["app"].state.templates
        response = templates.TemplateResponse(
            request, "error.html", {"status": status, "message": message, "errors": []},
            status_code=status)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


async def send_error(scope: Scope, receive: Receive, send: Send, status: int, code: str,
                     message: str, headers: dict[str, str] | None = None) -> None:
    await error_response(scope, status, code, message, headers)(scope, receive, send)
