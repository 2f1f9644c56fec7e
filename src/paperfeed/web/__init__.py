"""The web app and JSON API: daily papers, trending, search, paper, author and store pages.

Owns HTTP only: FastAPI routes (`api.py` under /api/v1, `pages.py` for HTML),
Jinja2 templates and static assets served by paperfeed itself (no CDN), the
voter cookie and CSRF tokens (`security.py`). What a page shows is built in
`views.py` from the catalog, once for both the page and its API endpoint.
"""

from paperfeed.web.app import app_from_env, create_app

__all__ = ["app_from_env", "create_app"]
