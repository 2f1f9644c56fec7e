"""Onboarding and the personal feed over real HTTP, with the real model's embeddings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from paperfeed.catalog import Catalog
from paperfeed.rank.feed import Feed
from tests.conftest import shared_path
from tests.jobs import wait_for_job
from tests.web.test_accounts_web import _csrf, _new_browser, _signup

pytestmark = pytest.mark.slow


def _picks(html: str) -> list[tuple[str, str]]:
    """(paper id, reason) of each pick on the feed page, in order."""
    return re.findall(r'data-paper-id="(\d+)".*?<p class="reason">Why: ([^<]*)</p>', html,
                      re.S)


def test_onboard_from_a_pasted_list_then_rate_and_see_the_feed_change(live_server: str,
                                                                      outbox: Path) -> None:
    listing = shared_path("seeds").glob("003_*.txt").__next__().read_text()
    with _new_browser(live_server) as browser:
        _signup(browser, outbox, "speech@example.org")
        empty = browser.get("/feed")
        assert "does not know your work yet" in empty.text
        imported = browser.post("/onboarding/import", data={
            "text": listing, "csrf_token": _csrf(browser, "/onboarding")})
        job = wait_for_job(browser, imported)
        assert job["state"] == "done" and "10 added to your profile" in str(job["message"])
        assert "10 added to your profile" in browser.get("/onboarding").text
        first = _picks(browser.get("/feed").text)
        assert len(first) == 20
        assert all(reason.startswith("close to your paper “") for _, reason in first)
        # And the words behind it (arxiv-sanity style), for most picks.
        with_terms = [r for _, r in first if "; shared terms: " in r]
        assert len(with_terms) >= 10, first
        # The list's topics (OOD detection, federated and continual learning, unlearning,
        # model merging, robustness, LLM data detection) are those of the top picks.
        # ("incremental" learning is continual learning's other name.)
        topics = ("out-of-distribution", "ood", "federated", "continual", "incremental",
                  "unlearning", "merging", "adversarial", "robust", "language model", "llm",
                  "open-world", "segmentation")
        top_titles = [browser.get(f"/api/v1/papers/{pid}").json()["title"].lower()
                      for pid, _ in first[:5]]
        assert sum(any(w in t for w in topics) for t in top_titles) >= 4, top_titles
        # Thumbs down on the top pick: it leaves the feed, and the feed changes.
        token = _csrf(browser, "/feed")
        browser.post(f"/papers/{first[0][0]}/mine", data={"csrf_token": token, "do": "down",
                                                         "next": "/feed"})
        second = _picks(browser.get("/feed").text)
        assert first[0][0] not in {pid for pid, _ in second}
        assert [p for p, _ in second] != [p for p, _ in first]


def test_follows_alone_make_a_feed_with_their_reason(live_server: str, outbox: Path
                                                     ) -> None:
    with _new_browser(live_server) as browser:
        _signup(browser, outbox, "follower@example.org")
        token = _csrf(browser, "/onboarding")
        browser.post("/onboarding/follow", data={"kind": "category", "value": "cs.CR",
                                                 "csrf_token": token})
        bad = browser.post("/onboarding/follow", data={"kind": "planet", "value": "x",
                                                       "csrf_token": token})
        assert bad.status_code == 422 and "kind must be one of" in bad.text
        picks = _picks(browser.get("/feed").text)
        assert picks and all(r == "in cs.CR, which you follow" for _, r in picks)
        html = browser.get("/feed").text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html


def test_onboard_by_author_name_and_arxiv_ids(live_server: str, outbox: Path) -> None:
    with _new_browser(live_server) as browser:
        _signup(browser, outbox, "zeng@example.org")
        page = browser.get("/onboarding", params={"author": "Xianming Zeng"})
        assert "Xianming Zeng: 1 paper (tick yours)" in page.text
        paper_ids = re.findall(r'name="paper" value="(\d+)"', page.text)
        token = _csrf(browser, "/onboarding")
        added = browser.post("/onboarding/papers", data={"paper": paper_ids,
                                                         "csrf_token": token})
        assert "1 papers added" in added.text
        more = browser.post("/onboarding/arxiv", data={
            "ids": "https://arxiv.org/abs/2503.11731v2, 2503.99992 and 9999.99999",
            "csrf_token": token})
        assert "1 papers added" in more.text and "not in this store: 9999.99999" in more.text
        broken = wait_for_job(browser, browser.post(
            "/onboarding/import", data={"text": "\x00\x01 not a list", "csrf_token": token}))
        assert broken["state"] == "failed"
        assert str(broken["message"]).startswith("pasted list: "), broken
        assert browser.post("/onboarding/arxiv", data={"ids": "2503.11731"}).status_code == 403


def test_feed_excludes_rated_and_seen_and_has_no_duplicates(web_catalog: Catalog) -> None:
    from paperfeed.accounts import Accounts
    from paperfeed.store.personal import Personal

    user = Accounts(web_catalog.store).sign_up("unit@example.org", "long enough password").id
    own = web_catalog.store.find("2503.11731")
    assert own is not None
    Personal(web_catalog.store).add_own(user, [own.id])
    feed = Feed(web_catalog)
    picks = feed.picks(user, None, 15, True)
    ids = [p.paper_id for p in picks]
    assert len(ids) == 15 == len(set(ids)) and own.id not in ids
    assert all("Industrial-Grade Sensor Simulation" in p.reason for p in picks)
    feed.mark_seen(user, ids[:5], "digest")
    later = [p.paper_id for p in feed.picks(user, None, 15, True)]
    assert not set(later) & set(ids[:5])
    assert [p.paper_id for p in feed.picks(user, None, 15, False)][:5] == ids[:5]
