"""The JSON response class of every API answer and error: `SafeJSONResponse`.

Its own module so that the app, the routers and the middleware's error answers
(`errors.py`) all import it from below, never from `app.py`.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import JSONResponse


class SafeJSONResponse(JSONResponse):
    """JSON with <, > and & escaped as \\u escapes: the same data, but a hostile title can
    never appear as markup in the bytes, whatever a client does with them."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return (text.replace("<", "\\u003c").replace(">", "\\u003e")
                .replace("&", "\\u0026").encode("utf-8"))
