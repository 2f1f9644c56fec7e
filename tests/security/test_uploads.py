"""User uploads never rewrite shared records (defect 1), run off the event loop (defect 6),
take forged ids calmly (defect 12) and take the documented 2 MB (defect 16).

Every upload path (onboarding, library import) and every input format is tried with a
record that claims a stored paper's arXiv id (or its title and first author, for the
formats without ids) and carries a defaced title, authors and abstract.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.jobs import wait_for_job
from tests.security.conftest import KNOWN_ID, Served, csrf, log_in

DEFACED = "DEFACED by an upload"
FIRST_AUTHOR = "Moreno D'Incà"  # the known paper's first author


def _known(served: Served) -> dict[str, object]:
    paper: dict[str, object] = httpx.get(f"{served.url}/api/v1/papers/{KNOWN_ID}").json()
    return paper


def _bibtex(title: str) -> str:
    return (f"@article{{evil, title={{{DEFACED}}}, author={{Hacker, Mallory}},\n"
            f"  abstract={{{DEFACED} abstract}}, eprint={{{KNOWN_ID}v9}},\n"
            "  archivePrefix={arXiv},\n"
            f"  year={{2025}}, doi={{10.9999/evil}}, url={{https://evil.example/}}}}\n")


def _daily(title: str) -> str:
    return json.dumps({"id": KNOWN_ID, "title": DEFACED, "abstract": f"{DEFACED} abstract",
                       "authors": ["Mallory Hacker"], "categories": ["cs.CR"],
                       "first_seen_listing_date": "2026-01-01"}) + "\n"


def _snapshot(title: str) -> str:
    return json.dumps({"id": KNOWN_ID, "title": DEFACED, "abstract": f"{DEFACED} abstract",
                       "authors": "Mallory Hacker", "authors_parsed": [["Hacker", "Mallory", ""]],
                       "versions": [{"version": "v9", "created": "Mon, 5 Jan 2026 10:00:00 GMT"}],
                       "categories": "cs.CR", "update_date": "2026-01-05", "doi": None}) + "\n"


def _oai(title: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2026-01-05T00:00:00Z</responseDate>
<request verb="ListRecords" metadataPrefix="arXiv">http://oaipmh.arxiv.org/oai</request>
<ListRecords><record><header><identifier>oai:arXiv.org:{KNOWN_ID}</identifier>
<datestamp>2026-01-05</datestamp></header><metadata>
<arXiv xmlns="http://arxiv.org/OAI/arXiv/"><id>{KNOWN_ID}</id><created>2025-03-14</created>
<updated>2026-01-05</updated><authors><author><keyname>Hacker</keyname><forenames>Mallory</forenames>
</author></authors><title>{DEFACED}</title><categories>cs.CR</categories>
<abstract>{DEFACED} abstract</abstract></arXiv></metadata></record></ListRecords></OAI-PMH>
"""


def _atom(title: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>ArXiv Query</title>
<id>http://arxiv.org/api/x</id><updated>2026-01-05T00:00:00Z</updated>
<entry><id>http://arxiv.org/abs/{KNOWN_ID}v9</id><updated>2026-01-05T00:00:00Z</updated>
<published>2025-03-14T00:00:00Z</published><title>{DEFACED}</title>
<summary>{DEFACED} abstract</summary><author><name>Mallory Hacker</name></author>
<link href="http://arxiv.org/abs/{KNOWN_ID}v9" rel="alternate" type="text/html"/></entry></feed>
"""


def _abstracts(title: str) -> str:
    # No ids: the claim is by the known title, as the first author (the account's name).
    return (f"Abstract: {title}. {DEFACED} abstract, long enough to read as a paper's "
            "abstract about vision-language models and their safety.\n"
            "Abstract: Another paper entirely, on graph neural networks for molecules, "
            "with a second abstract of some length.\n")


def _listing(title: str) -> str:
    prose = ("We study the question at length, with experiments on several benchmarks and an "
             "analysis of what the models learn, and we report the results in detail here. ")
    return (f"{title}\n\n{DEFACED} abstract about vision-language models. {prose}\n\n"
            f"A Second Paper On Graph Networks\n\nGraph networks for molecules. {prose}\n")


FORMATS: dict[str, tuple[str, Callable[[str], str]]] = {
    "bibtex": ("claim.bib", _bibtex), "arxiv-daily": ("claim.jsonl", _daily),
    "arxiv-snapshot": ("claim.json", _snapshot), "oai": ("claim.xml", _oai),
    "atom": ("claim.atom", _atom), "abstracts": ("claim.txt", _abstracts),
    "listing": ("listing.txt", _listing),
}


@pytest.mark.parametrize("path", ["/onboarding/import", "/library/import"])
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_an_upload_claiming_a_stored_paper_never_rewrites_it(served: Served, fmt: str,
                                                             path: str) -> None:
    before = _known(served)
    name, make = FORMATS[fmt]
    email = f"{fmt}-{path.split('/')[1]}@example.org"
    served.account(email, name=FIRST_AUTHOR)
    with served.client() as browser:
        log_in(browser, email)
        page = "/library" if path.startswith("/library") else "/onboarding"
        job = wait_for_job(browser, browser.post(path, data={
            "csrf_token": csrf(browser, page), "tags": "claims"},
            files={"file": (name, make(str(before["title"])).encode())}))
        assert job["state"] == "done", job
        after = _known(served)
        for field in ("title", "abstract", "authors", "categories", "doi", "arxiv_version",
                      "code_urls", "listed"):
            assert after[field] == before[field], (fmt, field, after[field])
        assert DEFACED not in httpx.get(f"{served.url}/papers/{KNOWN_ID}").text
        # The upload did reach the user: the paper is now theirs (or in their library).
        if page == "/library":
            saved = browser.get("/api/v1/library").json()
            assert any(x["paper"]["arxiv_id"] == KNOWN_ID and "claims" in x["tags"]
                       for x in saved), saved
        else:
            assert str(before["title"]) in browser.get("/onboarding").text


def test_a_new_paper_from_an_upload_is_marked_and_yields_to_the_operator(
        served: Served) -> None:
    claimed = "2612.00042"
    served.account("newpaper@example.org")
    entry = (f"@article{{new, title={{A Claimed Paper Nobody Harvested Yet}}, "
             f"author={{Doe, Jane}}, eprint={{{claimed}v7}}, archivePrefix={{arXiv}},\n"
             "  abstract={Text a user wrote.}}\n")
    with served.client() as browser:
        log_in(browser, "newpaper@example.org")
        job = wait_for_job(browser, browser.post("/onboarding/import", data={
            "csrf_token": csrf(browser, "/onboarding")},
            files={"file": ("new.bib", entry.encode())}))
        assert job["state"] == "done" and "1 new to the store" in str(job["message"]), job
    paper = httpx.get(f"{served.url}/api/v1/papers/{claimed}").json()
    assert paper["unverified"] is True
    assert paper["field_origins"]["title"] == {"source": "bibtex", "origin": "upload"}
    assert "user:" not in json.dumps(paper)  # the uploader is never named publicly
    assert "Added from a user's upload" in httpx.get(f"{served.url}/papers/{claimed}").text
    # The operator's ingest of the real record replaces every field the user set.
    real = served.data_dir.parent / "real.jsonl"
    real.write_text(json.dumps({"id": claimed, "title": "The Real Title",
                                "abstract": "The real abstract.", "authors": ["Real Author"],
                                "categories": ["cs.CV"],
                                "first_seen_listing_date": "2026-12-01"}) + "\n")
    served.catalog.ingest_file(real)
    paper = httpx.get(f"{served.url}/api/v1/papers/{claimed}").json()
    assert (paper["title"], paper["abstract"], paper["unverified"]) == (
        "The Real Title", "The real abstract.", False)
    assert [a["name"] for a in paper["authors"]] == ["Real Author"]
    assert paper["field_origins"]["title"] == {"source": "arxiv-daily", "origin": "operator"}


def test_the_import_runs_off_the_event_loop(served: Served) -> None:
    """The POST answers at once with a job; the server answers health checks while the
    job parses, stores, embeds and extracts (before: the POST held the loop to the end)."""
    lines = "".join(
        f"Abstract: Paper {i} studies topic {i} with a method of its own and reports a "
        f"result on benchmark {i}, in an abstract of some length to embed. {'x ' * 40}\n"
        for i in range(300))
    served.account("busy@example.org")
    with served.client() as browser, served.client() as other:
        log_in(browser, "busy@example.org")
        response = browser.post("/onboarding/import", data={
            "csrf_token": csrf(browser, "/onboarding"), "text": lines})
        assert response.status_code == 303
        job_id = re.search(r"job=(\d+)", response.headers["location"]).group(1)  # type: ignore[union-attr]
        answered_while_running = 0
        while True:
            job = browser.get(f"/api/v1/jobs/{job_id}").json()
            if job["state"] in ("done", "failed"):
                break
            assert other.get("/api/v1/health").status_code == 200
            answered_while_running += job["state"] == "running"
        assert job["state"] == "done", job
        assert "300 new to the store" in job["message"]
        assert answered_while_running >= 3
        # Another user cannot read this user's job.
        served.account("nosy@example.org")
        log_in(other, "nosy@example.org")
        assert other.get(f"/api/v1/jobs/{job_id}").status_code == 404


@pytest.mark.parametrize("forged", ["999999", "0", "-1", "1e23", "99999999999999999999999", "x"])
def test_forged_paper_ids_on_onboarding_are_no_paper_not_a_crash(served: Served,
                                                                 forged: str) -> None:
    served.account(f"ids{len(forged)}{forged[:2]}@example.org")
    with served.client() as browser:
        log_in(browser, f"ids{len(forged)}{forged[:2]}@example.org")
        response = browser.post("/onboarding/papers", data={
            "paper": [forged], "csrf_token": csrf(browser, "/onboarding")})
        assert response.status_code in (200, 422), response.status_code
        assert response.status_code == 422 or "0 papers added" in response.text


def test_a_pasted_list_up_to_the_documented_2_mb_is_taken(served: Served) -> None:
    served.account("paste@example.org")
    big = ("Abstract: " + "word " * 300 + "\n") * 1300  # 1.96 MB of text
    assert 1_900_000 < len(big) < 2 * 1024 * 1024
    with served.client() as browser:
        log_in(browser, "paste@example.org")
        taken = browser.post("/onboarding/import", data={
            "csrf_token": csrf(browser, "/onboarding"), "text": big},
            files={"file": ("", b"")})  # multipart, as the page's form sends it
        assert taken.status_code == 303 and "job=" in taken.headers["location"], taken.text[:300]
        job = wait_for_job(browser, taken)
        # 1,300 papers is more than one upload may hold: refused by name, nothing stored.
        assert job["state"] == "failed" and "more than 500 papers" in str(job["message"])
        too_big = browser.post("/onboarding/import", data={
            "csrf_token": csrf(browser, "/onboarding"), "text": big + "x" * 200_000},
            files={"file": ("", b"")})
        assert too_big.status_code == 413
        assert "request body too large" in too_big.text


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(content=st.one_of(
    st.binary(max_size=3000),
    st.text(max_size=3000).map(str.encode),
    st.sampled_from([b"", b"\x1f\x8b", b"@article{", b"<?xml version='1.0'?><feed>",
                     b'{"id": "2503.11742"}\n', b"Abstract:\n" * 50, b"\xef\xbb\xbf\n\n\n"]),
))
def test_any_upload_ends_in_a_clear_outcome_never_a_crash(served: Served, content: bytes
                                                          ) -> None:
    served.clear_limits()
    served.account_once("fuzz@example.org")
    with served.client() as browser:
        log_in(browser, "fuzz@example.org")
        response = browser.post("/onboarding/import", data={
            "csrf_token": csrf(browser, "/onboarding")}, files={"file": ("x.txt", content)})
        assert response.status_code == 303, response.status_code
        if "import_error=" in response.headers["location"]:
            return  # refused before queueing (empty): said on the page
        job = wait_for_job(browser, response)
        assert job["state"] in ("done", "failed"), job
        assert "on our side" not in str(job["message"]), job
        if job["state"] == "failed":
            assert str(job["message"]).startswith("x.txt"), job  # names the user's file
