"""The web deployment's settings, read once from the environment.

Owns what an operator configures for a served paperfeed: the public base URL that
every link in an email or feed is built from (never the request's Host header), the
host names the server answers to, who may vote, and the request body limits. It knows
nothing of the web framework; `paperfeed.web` applies these.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal
from urllib.parse import urlsplit

from paperfeed.errors import PaperfeedError

VotePolicy = Literal["anyone", "accounts"]
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

# Request bodies, by kind (docs/security.md lists them; tests/security checks each).
MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # a publication list: a file or pasted text
MAX_MULTIPART_BYTES = MAX_UPLOAD_BYTES + 64 * 1024  # the upload plus the form's other fields
# url-encoded forms: the longest field (onboarding's arXiv ids) takes 20,000 characters,
# and a character percent-encodes to up to 12 bytes (a 4-byte UTF-8 one): 240,000 bytes.
MAX_FORM_BYTES = 256 * 1024
MAX_JSON_BYTES = 64 * 1024  # API bodies: a rating, tags
MAX_OTHER_BYTES = 64 * 1024


class SettingsError(PaperfeedError):
    """A setting has a value paperfeed cannot use; the message names the variable."""


def check_base_url(url: str, name: str = "PAPERFEED_BASE_URL") -> str:
    """`url` without a trailing slash, if it is http(s)://host[:port][/path]."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query \
            or parts.fragment or parts.username or parts.password:
        raise SettingsError(f"{name}: expected http(s)://host[:port][/path], got {url!r}")
    return url.strip().rstrip("/")


@dataclass(frozen=True)
class Settings:
    """What a served paperfeed needs to know about where and how it is deployed.

    `base_url` None means "not configured": the server fills in its own listening
    address when it starts (`with_base_url`), so links are never taken from a request.
    `allowed_hosts` empty means the base URL's host plus the loopback names.
    """

    base_url: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    votes: VotePolicy = "anyone"
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    body_limits: Mapping[str, int] = field(default_factory=lambda: {
        "multipart/form-data": MAX_MULTIPART_BYTES,
        "application/x-www-form-urlencoded": MAX_FORM_BYTES,
        "application/json": MAX_JSON_BYTES,
        "other": MAX_OTHER_BYTES,
    })

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        base = env.get("PAPERFEED_BASE_URL", "").strip()
        hosts = tuple(h.strip().lower() for h in env.get("PAPERFEED_ALLOWED_HOSTS", "").split(",")
                      if h.strip())
        votes = env.get("PAPERFEED_VOTES", "anyone").strip().lower() or "anyone"
        if votes not in ("anyone", "accounts"):
            raise SettingsError(f"PAPERFEED_VOTES: expected 'anyone' or 'accounts', got {votes!r}")
        return cls(base_url=check_base_url(base) if base else None, allowed_hosts=hosts,
                   votes="accounts" if votes == "accounts" else "anyone")

    def with_base_url(self, url: str) -> Settings:
        """These settings with `url` as the base URL when none was configured."""
        return self if self.base_url else replace(self, base_url=check_base_url(url))

    @property
    def public_url(self) -> str:
        """The configured base URL (http://127.0.0.1:8000 until a server fills it in)."""
        return self.base_url or "http://127.0.0.1:8000"

    def hosts(self) -> list[str]:
        """The Host header values the server answers; '*' in the setting allows any."""
        if self.allowed_hosts:
            return list(self.allowed_hosts)
        own = urlsplit(self.base_url).hostname if self.base_url else None
        return sorted({*(h for h in (own,) if h), *LOOPBACK_HOSTS})
