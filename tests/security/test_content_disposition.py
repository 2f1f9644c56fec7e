"""Defect 13: a tag in /library.bib's query string must not add Content-Disposition parameters.

The probe sent `?tag=";filename=evil.html;x="` and got a header with two filenames, the
second one `evil.html`: a browser could save the BibTeX as an HTML page. Each test asks
the real server and reads the header with the standard library's MIME parser.
"""

from __future__ import annotations

from email.message import EmailMessage
from urllib.parse import unquote

import httpx
import pytest

from tests.security.conftest import Served, log_in


def _params(header: str) -> list[tuple[str, str]]:
    """The header's parameters as a MIME parser reads them (RFC 2231 decoded)."""
    msg = EmailMessage()
    msg["Content-Disposition"] = header
    return [(k.lower(), v) for k, v in msg.get_params(header="content-disposition")[1:]]


@pytest.fixture(scope="module")
def reader(served: Served) -> httpx.Client:
    served.account("bib-reader@example.org")
    client = served.client()
    log_in(client, "bib-reader@example.org")
    return client


@pytest.mark.parametrize("tag", [
    '";filename=evil.html;x="',
    "';filename=evil.html;x='",
    "x\";filename*=utf-8''evil.html;y=\"",
    "x; filename=evil.html",
    "x\\\";filename=evil.html",
])
def test_a_hostile_tag_cannot_add_a_filename(served: Served, reader: httpx.Client,
                                            tag: str) -> None:
    response = reader.get("/library.bib", params={"tag": tag})
    assert response.status_code == 200, response.text[:300]
    header = response.headers["content-disposition"]
    params = _params(header)
    names = [k for k, _ in params]
    # Exactly one plain filename (and at most one filename*), nothing else.
    assert names.count("filename") == 1, header
    assert set(names) <= {"filename", "filename*"}, header
    assert header.lower().count("filename=") == 1, header
    fallback = dict(params)["filename"]
    assert fallback.endswith(".bib"), header
    assert all(c.isalnum() or c in "._-" for c in fallback), header
    assert header.startswith("attachment;"), header


def test_the_exact_name_travels_as_rfc5987_filename_star(served: Served,
                                                        reader: httpx.Client) -> None:
    response = reader.get("/library.bib", params={"tag": "Résumé Ü"})
    header = response.headers["content-disposition"]
    star = header.split("filename*=", 1)[1]
    assert star.startswith("utf-8''"), header
    assert unquote(star[len("utf-8''"):], encoding="utf-8") == "paperfeed-résumé ü.bib"
    assert header.isascii()
    assert header.startswith('attachment; filename="paperfeed-r_sum_.bib"; '), header


def test_a_plain_tag_keeps_a_plain_header(served: Served, reader: httpx.Client) -> None:
    response = reader.get("/library.bib", params={"tag": "to-read"})
    assert response.headers["content-disposition"] == \
        'attachment; filename="paperfeed-to-read.bib"'
    assert reader.get("/library.bib").headers["content-disposition"] == \
        'attachment; filename="paperfeed-library.bib"'
