"""The main pages in headless Chromium (Debian's package, driven by Playwright).

Each test saves screenshots in test-artifacts/screenshots/ (or
$PAPERFEED_SCREENSHOTS) for a person to look at. No page may open a dialog
(a hostile title that ran as script would) or log a console error (a CSP
violation would).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import SCRIPT_TITLE, SHOTS

pytestmark = pytest.mark.slow

playwright_api = pytest.importorskip("playwright.sync_api")


class Watched:
    """A page with the dialogs and console errors it produced."""

    def __init__(self, page: Any, base: str) -> None:
        self.page, self.base = page, base
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def goto(self, path: str) -> Any:
        response = self.page.goto(self.base + path)
        assert response is not None and response.status == 200, path
        return response

    def shot(self, name: str, *, full_page: bool = True) -> None:
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


@pytest.fixture
def web(browser: Any, live_server: str) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    watched = Watched(context.new_page(), live_server)
    yield watched
    context.close()
    assert watched.dialogs == [], "a page ran script from data"
    assert watched.errors == [], watched.errors


def unlabelled_controls(page: Any) -> list[str]:
    """Visible form controls without a <label>, aria-label or aria-labelledby."""
    result: list[str] = page.evaluate("""() => Array.from(
        document.querySelectorAll('input:not([type=hidden]), select, textarea'))
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                      && !el.getAttribute('aria-labelledby'))
        .map(el => el.outerHTML)""")
    return result


def test_daily_papers_and_moving_between_days(web: Watched) -> None:
    page = web.page
    web.goto("/")
    assert "Daily papers" in page.locator("h1").inner_text()
    assert "2025-03-20" in page.locator("h1").inner_text()
    assert page.locator("article.paper").count() == 50
    assert "213 papers" in page.locator(".count-line").inner_text()
    web.shot("daily")
    page.get_by_role("link", name=re.compile("2025-03-19")).first.click()
    page.wait_for_url(re.compile(r"date=2025-03-19"))
    assert "172 papers" in page.locator(".count-line").inner_text()
    page.get_by_role("link", name="Week").click()
    page.wait_for_url(re.compile(r"view=week"))
    assert page.locator(".day-counts li").count() == 3
    web.shot("daily-week")
    # The category filter applies on change (script) and keeps the day and view.
    page.get_by_label("Category").select_option("cs.CR")
    page.wait_for_url(re.compile(r"category=cs.CR"))
    assert "view=week" in page.url
    assert page.get_by_text(SCRIPT_TITLE, exact=True).is_visible()
    assert unlabelled_controls(page) == []


def test_search_with_filters_and_shareable_url(web: Watched) -> None:
    page = web.page
    web.goto("/search")
    page.get_by_label("Search words").fill("gaussian splatting")
    page.get_by_label("Category").fill("cs.CV")
    page.get_by_label("Sort by").select_option("relevance")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"q=gaussian\+splatting"))
    assert "category=cs.CV" in page.url
    assert page.locator("article.paper").count() == 20
    assert page.locator("article.paper mark").count() > 0
    web.shot("search")
    page.get_by_role("link", name=re.compile("Next page")).click()
    page.wait_for_url(re.compile(r"page=2"))
    assert page.locator("article.paper").count() > 0
    # The URL alone brings the same search back.
    shared = page.url
    page.goto(shared)
    assert page.get_by_label("Search words").input_value() == "gaussian splatting"
    assert unlabelled_controls(page) == []


def test_open_a_paper_then_follow_an_author(web: Watched) -> None:
    page = web.page
    web.goto("/search?q=sensor+simulation+gaussian+splatting")
    page.locator("a.paper-link").first.click()
    page.wait_for_url(re.compile(r"/papers/"))
    assert page.locator("h1").inner_text().startswith("Industrial-Grade Sensor Simulation")
    assert page.get_by_role("heading", name="Related papers").is_visible()
    assert page.locator(".related article.paper").count() == 8
    assert page.get_by_role("link", name="PDF").get_attribute("href") == \
        "https://arxiv.org/pdf/2503.11731"
    web.shot("paper")
    page.locator(".paper-page .authors a", has_text="Xianming Zeng").click()
    page.wait_for_url(re.compile(r"/authors/xianming%20zeng"))
    assert page.locator("h1").inner_text() == "Xianming Zeng"
    assert page.locator(".coauthors li").count() == 12
    assert page.get_by_role("heading", name="Active").is_visible()
    web.shot("author")
    page.locator(".coauthors a").first.click()
    page.wait_for_url(re.compile(r"/authors/"))
    assert page.locator("article.paper").count() >= 1


def test_vote_in_place_then_see_it_trending(web: Watched) -> None:
    page = web.page
    web.goto("/papers/2503.11731")
    button = page.locator(".paper-head .vote-button")
    before = int(button.locator(".count").inner_text())
    button.click()
    page.wait_for_function(
        "() => document.querySelector('.paper-head .vote-button')"
        ".getAttribute('aria-pressed') === 'true'")
    assert int(button.locator(".count").inner_text()) == before + 1
    page.reload()
    assert page.locator(".paper-head .vote-button").get_attribute("aria-pressed") == "true"
    web.goto("/trending?window=month")
    assert page.locator("article.paper", has_text="Industrial-Grade Sensor").count() == 1
    web.shot("trending")
    # Voting again takes the vote back.
    web.goto("/papers/2503.11731")
    page.locator(".paper-head .vote-button").click()
    page.wait_for_function(
        "() => document.querySelector('.paper-head .vote-button')"
        ".getAttribute('aria-pressed') === 'false'")


def test_vote_works_without_javascript(browser: Any, live_server: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/daily?date=2025-03-18")
    card = page.locator("article.paper").nth(7)
    paper_id = card.get_attribute("data-paper-id")
    before = int(card.locator(".vote-button .count").inner_text())
    card.locator(".vote-button").click()
    page.wait_for_load_state()
    # The form posted, redirected back to the same day, and the paper shows the vote.
    assert "date=2025-03-18" in page.url
    voted = page.locator(f"article.paper[data-paper-id='{paper_id}'] .vote-button")
    assert voted.get_attribute("aria-pressed") == "true"
    assert int(voted.locator(".count").inner_text()) == before + 1
    # Most voted first: nothing above it has fewer votes.
    counts = [int(c) for c in page.locator("article.paper .vote-button .count").all_inner_texts()]
    assert counts == sorted(counts, reverse=True)
    context.close()


def test_store_page_and_hostile_paper(web: Watched) -> None:
    page = web.page
    web.goto("/stats")
    assert page.locator(".health strong").inner_text() == "ok"
    assert "741" in page.locator(".facts").inner_text()
    web.shot("store")
    web.goto("/papers/2503.99991")
    assert page.locator("h1").inner_text() == SCRIPT_TITLE
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.locator("script").count() == 1  # only /static/app.js
    abstract = page.locator(".abstract-text").inner_text()
    assert "<img src=x onerror=alert(2)>" in abstract and "95%" in abstract
    web.shot("hostile-paper")


def test_dataset_leaderboard_links_each_figure_to_its_sentence(web: Watched) -> None:
    page = web.page
    web.goto("/datasets")
    page.get_by_role("link", name="LaSOT", exact=True).click()
    page.wait_for_url(re.compile(r"/datasets/LaSOT$"))
    assert page.locator("h1").inner_text().startswith("LaSOT")
    row = page.locator("tr", has_text="CompressTracker")
    figure = row.locator(".figures a", has_text="66.1%")
    assert figure.is_visible()
    # The figure's source sentence is on the leaderboard itself, quoted under the figure.
    assert "66.1%" in row.locator(".figures q").first.inner_text()
    web.shot("dataset")
    figure.click()
    page.wait_for_url(re.compile(r"/papers/.+#result-\d+$"))
    target = page.locator("tr:target")
    assert target.count() == 1 and "66.1%" in target.inner_text()
    assert page.get_by_role("heading", name="System card").is_visible()
    web.shot("paper-card")
    # From the card, a task link opens that task's page.
    page.locator(".system-card a.tag").first.click()
    page.wait_for_url(re.compile(r"/(tasks|datasets)/"))
    assert page.locator("table.leaderboard tbody tr").count() >= 1


def test_search_with_card_facets(web: Watched) -> None:
    page = web.page
    web.goto("/search?q=" + "detection has:code")
    cards = page.locator("article.paper")
    assert cards.count() >= 1
    for i in range(cards.count()):
        assert cards.nth(i).locator(".badge", has_text="code").count() == 1
    assert page.locator(".card-line").count() >= 1
    web.shot("search-facets")


def test_keyboard_only_navigation(web: Watched) -> None:
    page = web.page
    web.goto("/daily")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    page.keyboard.press("j")
    first = page.evaluate("document.activeElement.className")
    assert first == "paper-link"
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert page.evaluate("document.activeElement.getAttribute('href')") == \
        page.locator("a.paper-link").first.get_attribute("href")
    # The paper's vote button comes just before its title; Space votes, like a click.
    page.keyboard.press("Shift+Tab")
    focused = page.evaluate("document.activeElement.className")
    assert focused == "vote-button"
    page.keyboard.press("Space")
    page.wait_for_function("() => document.activeElement.getAttribute('aria-pressed') === 'true'")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "quick-q"
    page.keyboard.type("token pruning")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=token\+pruning"))
    for path in ("/daily", "/search?q=x", "/trending", "/authors?q=liu", "/stats",
                 "/papers/2503.11731", "/authors/xianming%20zeng", "/datasets",
                 "/datasets/LaSOT", "/tasks"):
        web.goto(path)
        assert unlabelled_controls(page) == [], path
        # Every page has one h1 and a visible focus target for the skip link.
        assert page.locator("h1").count() == 1, path


def test_readable_on_a_phone(browser: Any, live_server: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    for path, name in (("/daily", "phone-daily"), ("/papers/2503.11731", "phone-paper"),
                       ("/datasets/LaSOT", "phone-dataset")):
        page.goto(live_server + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)
        # Nothing sticks out of the screen, even where overflow is clipped.
        wide = page.evaluate("""() => Array.from(document.querySelectorAll('body *'))
            .filter(el => el.getBoundingClientRect().width > 0
                          && el.getBoundingClientRect().right > window.innerWidth + 1)
            .map(el => el.tagName + '.' + el.className)""")
        assert wide == [], (path, wide)
        page.screenshot(path=str(SHOTS / f"{name}.png"))
    context.close()


def test_sign_up_onboard_rate_and_see_the_feed_change(web: Watched, outbox: Path) -> None:
    from tests.conftest import shared_path
    from tests.signup import link_path, outbox_mails

    listing = next(shared_path("seeds").glob("000_*.txt")).read_text()
    page = web.page
    web.goto("/signup")
    page.get_by_label("Email").fill("browser-user@example.org")
    page.get_by_label("Name (shown on your account page)").fill("Helen")
    page.get_by_label("Password (at least 10 characters)").fill("a long enough password")
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    web.shot("signup-sent")
    # No SMTP server here: the link is in the outbox, as the page says.
    [mail] = outbox_mails(outbox, "browser-user@example.org")
    web.goto(link_path(mail, "/signup/confirm/"))
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url(re.compile(r"/onboarding"))
    assert unlabelled_controls(page) == []
    page.get_by_label("Paste your publication list").fill(listing)
    page.get_by_role("button", name="Import and add").click()
    page.wait_for_url(re.compile(r"/onboarding\?job=\d+"))
    # The import runs as a background job; the page reloads itself until it is done.
    playwright_api.expect(page.locator("#imports .notice")).to_contain_text(
        "added to your profile", timeout=120_000)
    assert page.locator(".own li").count() == 10
    web.shot("onboarding")
    page.get_by_role("link", name="See your feed →").click()
    page.wait_for_url(re.compile(r"/feed"))
    reasons = page.locator(".reason").all_inner_texts()
    assert len(reasons) == 20 and all("close to your paper" in r for r in reasons)
    first = page.locator(".pick article.paper").first.get_attribute("data-paper-id")
    web.shot("feed-before")
    page.locator(".pick").first.get_by_role("button", name=re.compile("Less like this")).click()
    page.wait_for_url(re.compile(r"/feed"))
    after = page.locator(".pick article.paper").first.get_attribute("data-paper-id")
    assert after != first
    assert page.locator(f".pick article.paper[data-paper-id='{first}']").count() == 0
    web.shot("feed-after")


def test_import_a_bibtex_file_into_the_library_with_tags(web: Watched, web_catalog: Any,
                                                         tmp_path: Path) -> None:
    from paperfeed.accounts import Accounts

    Accounts(web_catalog.store).sign_up("librarian@example.org", "a long enough password")
    bib = tmp_path / "reading.bib"
    bib.write_text(
        "@article{a, title={Whatever the upload says}, author={Nobody, A.},\n"
        "  eprint={2503.11731}, archivePrefix={arXiv}}\n"
        "@article{b, title={Another claim}, author={Nobody, B.},\n"
        "  eprint={2503.99992}, archivePrefix={arXiv}}\n")
    page = web.page
    web.goto("/login")
    page.get_by_label("Email").fill("librarian@example.org")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    web.goto("/library")
    assert page.title().startswith("Library")
    assert page.locator("form[action='/library/import']").count() == 1
    assert unlabelled_controls(page) == []
    page.get_by_label("or choose a file").set_input_files(str(bib))
    page.get_by_label("Tags for them").fill("journal club")
    page.get_by_role("button", name="Import").click()
    page.wait_for_url(re.compile(r"/library\?job=\d+"))
    playwright_api.expect(page.locator("#imports .notice")).to_contain_text(
        "2 saved to your library", timeout=120_000)
    # The papers are listed as the store has them, not as the upload claimed.
    assert page.locator("article.paper").count() == 2
    assert page.get_by_text("Whatever the upload says").count() == 0
    assert page.get_by_role("link", name="journal club").count() == 1
    web.shot("library-import")
