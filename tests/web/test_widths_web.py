"""Web inputs that reach a width-limited column, at and past every form's limit, over real
HTTP on SQLite and on PostgreSQL (which refuses a value wider than its column): never a
server error, and the pages that show the value still render."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.signup import csrf, request_signup, sign_up

pytestmark = pytest.mark.slow

WIDE = "😀" * 1999  # four UTF-8 bytes each, just under the forms' 2,000-character limit
OK = {200, 303}


@pytest.fixture
def member(live_server: str, outbox: Path, request: pytest.FixtureRequest
           ) -> Iterator[httpx.Client]:
    """A signed-in browser with a long name (the account page shows it)."""
    address = f"wide-{request.node.name.split('[')[-1].rstrip(']')}-{id(request)}@example.org"
    with httpx.Client(base_url=live_server, timeout=60) as client:
        assert sign_up(client, outbox, address, name=WIDE).status_code == 303
        yield client


def _post(client: httpx.Client, path: str, page: str, **data: str) -> httpx.Response:
    return client.post(path, data={**data, "csrf_token": csrf(client, page)})


def test_a_long_name_and_email_at_sign_up_are_never_a_server_error(live_server: str) -> None:
    with httpx.Client(base_url=live_server, timeout=60) as client:
        for address in ("a" * 64 + "@" + "b" * 250 + ".org", "ü" * 300 + "@example.org"):
            response = request_signup(client, address, name=WIDE)
            assert response.status_code in (200, 422), response.text[:300]


def test_api_token_names_saved_searches_and_follows_past_their_columns(
        member: httpx.Client) -> None:
    made = _post(member, "/account/tokens", "/account", name=WIDE)
    assert made.status_code == 200 and "pf_" in made.text
    account = member.get("/account")
    assert account.status_code == 200 and "😀" * 100 in account.text  # the clipped name

    saved = _post(member, "/account/feeds/searches", "/account/feeds", name=WIDE,
                  q="graph " * 40, category="c" * 1999)
    assert saved.status_code in (303, 422), saved.text[:300]
    saved = _post(member, "/account/feeds/searches", "/account/feeds", name=WIDE,
                  q="graph neural networks", category="")
    assert saved.status_code == 303
    assert member.get("/account/feeds").status_code == 200

    for kind, value in (("keyword", "😀" * 200), ("author", "Ann " + "é" * 196),
                        ("category", "c" * 200), ("k" * 1999, "x")):
        followed = _post(member, "/onboarding/follow", "/onboarding", kind=kind, value=value)
        assert followed.status_code in (303, 422), (kind, followed.text[:300])
    assert member.get("/onboarding").status_code == 200


def test_long_library_tags_and_votes(member: httpx.Client) -> None:
    saved = _post(member, "/papers/2503.11731/mine", "/papers/2503.11731", do="save",
                  tags=",".join(["😀" * 199] * 4))
    assert saved.status_code in OK
    assert member.get("/library").status_code == 200
    voted = _post(member, "/papers/2503.11731/vote", "/papers/2503.11731")
    assert voted.status_code in OK
