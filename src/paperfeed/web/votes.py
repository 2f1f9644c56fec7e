"""Casting a vote from a page or the API: who may vote, how often, and who it counts for.

Anonymous votes come from browsers, and a loop can mint browser cookies at will, so
every vote also names its client: the account, or a keyed hash of the address. Votes
are limited per client and hour, counts and trending count each client once per paper,
and `PAPERFEED_VOTES=accounts` takes votes from signed-in users only.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import HTTPException, Request

from paperfeed.accounts import Account
from paperfeed.settings import Settings
from paperfeed.store.limits import RateLimits
from paperfeed.web import schemas as s
from paperfeed.web.deps import views_of
from paperfeed.web.security import Guard

WINDOW = timedelta(hours=1)
ANONYMOUS_PER_HOUR = 30  # votes (and take-backs) from one address: more than a reader casts
ACCOUNT_PER_HOUR = 300


def vote_client(request: Request, user: Account | None) -> str:
    """Who a vote counts for: the account, else the client's address (hashed)."""
    if user is not None:
        return f"user:{user.id}"
    guard: Guard = request.app.state.guard
    return guard.client_key(request.client.host if request.client else "unknown")


def cast_vote(request: Request, ref: str, voter: str | None, user: Account | None, *,
              up: bool) -> s.VoteOut:
    """`user` (None when logged out) votes as `voter`, or takes the vote back, after the
    policy and rate checks; raises 401, 403 or 429 (with Retry-After) saying why."""
    settings: Settings = request.app.state.settings
    if settings.votes == "accounts" and user is None:
        raise HTTPException(401, "log in to vote: this paperfeed counts the votes of accounts "
                                 "only", headers={"WWW-Authenticate": "Bearer"})
    if voter is None:
        raise HTTPException(403, "voting needs the pf_voter cookie (GET /api/v1/session)")
    client = vote_client(request, user)
    views = views_of(request)
    limit = ACCOUNT_PER_HOUR if user is not None else ANONYMOUS_PER_HOUR
    hit = RateLimits(views.catalog.store).hit(f"vote:{client}", limit=limit, window=WINDOW)
    if not hit.allowed:
        raise HTTPException(429, f"at most {limit} votes an hour from one "
                                 f"{'account' if user else 'address'}; try again in "
                                 f"{-(-hit.retry_after // 60)} minutes",
                            headers={"Retry-After": str(hit.retry_after)})
    return views.vote(ref, voter, up=up, client=client)
