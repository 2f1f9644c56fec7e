"""Defect 14: request bodies have limits, by content type, enforced before any handler.

The probe posted a 50 MB JSON body and the server parsed all of it. Now a declared
Content-Length over the limit is answered 413 before a byte of the body is read, and a
chunked body is counted as it streams. Each test speaks real HTTP to the real server
(http.client, so the test controls exactly what goes on the wire).
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit

import httpx
import pytest

from paperfeed.accounts import Accounts
from paperfeed.settings import (
    MAX_FORM_BYTES,
    MAX_JSON_BYTES,
    MAX_MULTIPART_BYTES,
    MAX_OTHER_BYTES,
    Settings,
)
from tests.security.conftest import KNOWN_ID, Served, csrf

KIB = 1024


def connection(served: Served) -> http.client.HTTPConnection:
    parts = urlsplit(served.url)
    return http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)


def send(served: Served, method: str, path: str, body: bytes | Iterator[bytes] | None,
         headers: dict[str, str], *, chunked: bool = False) -> tuple[int, dict[str, str], bytes]:
    conn = connection(served)
    try:
        conn.request(method, path, body=body, headers=headers, encode_chunked=chunked)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def token(served: Served) -> str:
    user = served.account("limits@example.org")
    return Accounts(served.catalog.store).create_token(user.id, "limits test")


def saved_tags(served: Served, token: str) -> list[list[str]]:
    response = httpx.get(f"{served.url}/api/v1/library",
                         headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return [item["tags"] for item in response.json()]


def test_the_limits_are_the_documented_ones() -> None:
    assert Settings().body_limits == {
        "multipart/form-data": 2 * 1024 * KIB + 64 * KIB,
        "application/x-www-form-urlencoded": 256 * KIB,
        "application/json": 64 * KIB,
        "other": 64 * KIB,
    }


def test_a_declared_50_mb_json_body_is_refused_before_it_is_sent(served: Served,
                                                                 token: str) -> None:
    # The headers promise 50 MB; not one byte of body follows. A server that waited
    # for the body would time out; this one answers at once.
    conn = connection(served)
    try:
        conn.putrequest("POST", f"/api/v1/library/{KNOWN_ID}")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(50 * 1024 * 1024))
        conn.putheader("Authorization", f"Bearer {token}")
        conn.endheaders()
        conn.sock.settimeout(20)
        response = conn.getresponse()
        status, body = response.status, json.loads(response.read())
        headers = {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()
    assert status == 413
    assert body["error"] == "payload_too_large"
    assert "65,536 bytes" in body["message"] and "Settings.body_limits" in body["message"]
    assert "content-security-policy" in headers  # the app's headers, as on every answer
    assert saved_tags(served, token) == []


def test_a_json_body_just_over_the_limit_is_refused_and_not_acted_on(served: Served,
                                                                     token: str) -> None:
    tags = ["x" * 30] * 5
    padding = MAX_JSON_BYTES + 1 - len(json.dumps({"tags": tags, "pad": ""}))
    body = json.dumps({"tags": tags, "pad": " " * padding}).encode()
    assert len(body) == MAX_JSON_BYTES + 1
    status, _, raw = send(served, "POST", f"/api/v1/library/{KNOWN_ID}", body,
                          {"Content-Type": "application/json",
                           "Authorization": f"Bearer {token}"})
    assert status == 413, raw[:300]
    assert json.loads(raw)["error"] == "payload_too_large"
    assert saved_tags(served, token) == []
    # At the limit it goes through to the handler, which saves the paper.
    body = json.dumps({"tags": tags, "pad": " " * (padding - 1)}).encode()
    assert len(body) == MAX_JSON_BYTES
    status, _, raw = send(served, "POST", f"/api/v1/library/{KNOWN_ID}", body,
                          {"Content-Type": "application/json",
                           "Authorization": f"Bearer {token}"})
    assert status == 200, raw[:300]
    assert saved_tags(served, token) == [["x" * 30]]
    httpx.delete(f"{served.url}/api/v1/library/{KNOWN_ID}",
                 headers={"Authorization": f"Bearer {token}"})


def test_a_chunked_body_is_counted_as_it_streams(served: Served, token: str) -> None:
    # No Content-Length: only counting the chunks can stop this one.
    chunk = b" " * (16 * KIB)
    chunks = [b'{"tags": ["chunked"], "pad": "', *[chunk] * 5, b'"}']
    assert sum(map(len, chunks)) > MAX_JSON_BYTES
    status, _, raw = send(served, "POST", f"/api/v1/library/{KNOWN_ID}", iter(chunks),
                                {"Content-Type": "application/json",
                                 "Authorization": f"Bearer {token}"}, chunked=True)
    assert status == 413, raw[:300]
    assert json.loads(raw)["error"] == "payload_too_large"
    assert saved_tags(served, token) == []


def test_a_chunked_body_under_the_limit_is_served(served: Served, token: str) -> None:
    chunks = [b'{"tags": ', b'["streamed"]}']
    status, _, raw = send(served, "POST", f"/api/v1/library/{KNOWN_ID}", iter(chunks),
                          {"Content-Type": "application/json",
                           "Authorization": f"Bearer {token}"}, chunked=True)
    assert status == 200, raw[:300]
    assert saved_tags(served, token) == [["streamed"]]
    httpx.delete(f"{served.url}/api/v1/library/{KNOWN_ID}",
                 headers={"Authorization": f"Bearer {token}"})


def test_a_form_over_the_limit_gets_the_html_error_page(served: Served) -> None:
    with served.client() as client:
        token = csrf(client, "/login")
        body = f"csrf_token={token}&email=a%40b.org&password=".encode()
        body += b"p" * (MAX_FORM_BYTES + 1 - len(body))
        response = client.post("/login", content=body,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "request body too large" in response.text
    assert "262,144 bytes" in response.text


def test_twenty_thousand_wide_characters_of_arxiv_ids_fit_the_form_limit(served: Served) -> None:
    # Onboarding's arXiv box takes 20,000 characters; in the worst case each one
    # percent-encodes to 12 bytes. The form must reach the handler, not the limit.
    with served.client() as client:
        token = csrf(client, "/login")
        ids = "\U0001d7d0" * 20_000  # MATHEMATICAL BOLD DIGIT TWO: 4 bytes in UTF-8
        response = client.post("/onboarding/arxiv", data={"csrf_token": token, "ids": ids})
    assert len(urlencode({"ids": ids})) == 240_004
    assert response.status_code != 413, response.text[:300]


def multipart(total: int, boundary: str = "paperfeedlimits") -> bytes:
    """A multipart body of exactly `total` bytes: a CSRF field and a file part."""
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"wrong\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"list.txt\"\r\nContent-Type: text/plain\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head + b"a" * (total - len(head) - len(tail)) + tail


def test_a_two_megabyte_upload_passes_and_one_over_the_limit_does_not(served: Served) -> None:
    headers = {"Content-Type": "multipart/form-data; boundary=paperfeedlimits"}
    at_limit = multipart(MAX_MULTIPART_BYTES)
    status, _, raw = send(served, "POST", "/onboarding/import", at_limit, headers)
    # The handler answered (no account, wrong token): the body was let through.
    assert status != 413, raw[:300]
    assert b"request body too large" not in raw
    over = multipart(2 * 1024 * KIB + 65 * KIB)
    status, _, raw = send(served, "POST", "/onboarding/import", over, headers)
    assert status == 413
    assert b"request body too large" in raw


def test_other_bodies_have_a_limit_too(served: Served) -> None:
    status, _, raw = send(served, "POST", "/api/v1/search", b"q" * (MAX_OTHER_BYTES + 1),
                          {"Content-Type": "text/plain"})
    assert status == 413
    assert json.loads(raw)["error"] == "payload_too_large"
    # No Content-Type at all is "other" as well.
    status, _, raw = send(served, "PUT", f"/api/v1/papers/{KNOWN_ID}/rating",
                          b"{" * (MAX_OTHER_BYTES + 1), {})
    assert status == 413
