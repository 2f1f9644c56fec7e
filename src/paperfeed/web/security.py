"""Browser identity and request forgery protection for the web app.

Until accounts exist a voter is a browser: a random id in a signed, HttpOnly,
SameSite=Lax cookie. Every state-changing request must carry a CSRF token
derived from that id with the installation's secret key (a hidden form field,
or the X-CSRF-Token header for scripts), so another site cannot make a
visitor's browser vote.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from itsdangerous import BadSignature, Signer, URLSafeTimedSerializer

VOTER_COOKIE = "pf_voter"
SESSION_COOKIE = "pf_session"
SESSION_MAX_AGE = 30 * 24 * 3600
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
COOKIE_MAX_AGE = 2 * 365 * 24 * 3600

# No inline script or style anywhere, so the policy can forbid both: a title that
# slipped through escaping could still not run.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class Guard:
    """Signs voter cookies and makes and checks CSRF tokens with one secret key."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self._signer = Signer(secret, salt="paperfeed.voter")
        self._sessions = URLSafeTimedSerializer(secret, salt="paperfeed.session")

    @staticmethod
    def new_voter() -> str:
        return secrets.token_urlsafe(18)

    def cookie(self, voter: str) -> str:
        return self._signer.sign(voter).decode()

    def voter(self, cookie: str | None) -> str | None:
        """The voter id in a cookie, or None when it is missing or its signature is wrong."""
        if not cookie or len(cookie) > 200:
            return None
        try:
            return self._signer.unsign(cookie).decode()
        except (BadSignature, UnicodeDecodeError):
            return None

    def csrf_token(self, voter: str) -> str:
        return hmac.new(self._secret, b"csrf:" + voter.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, voter: str | None, token: str | None) -> bool:
        if not voter or not token:
            return False
        return hmac.compare_digest(self.csrf_token(voter), token)

    def client_key(self, address: str) -> str:
        """A keyed hash of a client's address: lets votes from one machine count once
        without keeping anyone's address in the store."""
        digest = hmac.new(self._secret, b"client:" + address.encode(), hashlib.sha256)
        return "ip:" + digest.hexdigest()[:24]

    def session_cookie(self, user_id: int, epoch: int) -> str:
        """A signed, timestamped session: the user and the password epoch it was made in."""
        return self._sessions.dumps({"u": user_id, "e": epoch})

    def session(self, cookie: str | None) -> tuple[int, int] | None:
        """(user id, epoch) from a session cookie younger than 30 days, else None."""
        if not cookie or len(cookie) > 500:
            return None
        try:
            data: Any = self._sessions.loads(cookie, max_age=SESSION_MAX_AGE)
        except BadSignature:  # SignatureExpired is a BadSignature
            return None
        if not isinstance(data, dict):
            return None
        user, epoch = data.get("u"), data.get("e")
        if not isinstance(user, int) or not isinstance(epoch, int):
            return None
        return user, epoch
