"""Browser identity and request forgery protection for the web app.

A browser is a random id in a signed, HttpOnly, SameSite=Lax cookie (`pf_voter`).
Every state-changing request must carry a CSRF token derived from that id with the
installation's secret key (a hidden form field, or the X-CSRF-Token header for
scripts), so another site cannot make a visitor's browser vote. A logged-in browser
also holds `pf_session`: a random token whose session lives in the store
(`paperfeed.accounts.sessions`), so logging out really ends it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from itsdangerous import BadSignature, Signer

from paperfeed.accounts.sessions import SESSION_LIFETIME

VOTER_COOKIE = "pf_voter"
SESSION_COOKIE = "pf_session"
SESSION_MAX_AGE = int(SESSION_LIFETIME.total_seconds())
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
