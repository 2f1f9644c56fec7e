"""The browsable API documentation at /api/docs: Swagger UI under the app's own strict CSP.

FastAPI's built-in page loads Swagger UI from a CDN and starts it with an inline script,
both of which the app's Content-Security-Policy forbids (the page stayed blank). Here
Swagger UI comes from the `swagger-ui-bundle-v2` package, served by the app itself, and
`static/api-docs.js` starts it: no CDN, no inline script, no CSP exception.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

DOCS_PATH = "/api/docs"
ASSETS_PATH = "/api/docs/assets"


def add_api_docs(app: FastAPI) -> None:
    """Serve Swagger UI's files and the page that shows the app's OpenAPI document."""
    app.mount(ASSETS_PATH, StaticFiles(directory=str(swagger_ui_path)), name="api-docs-assets")

    @app.get(DOCS_PATH, include_in_schema=False)
    def api_docs(request: Request) -> Response:
        return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
            request, "api_docs.html",
            {"openapi_url": app.openapi_url, "assets": ASSETS_PATH, "title": app.title})
