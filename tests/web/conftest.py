"""A small real corpus served over loopback HTTP once per test session.

The first 711 papers of the arXiv cs daily listings (three listing days), the
seed publication lists, and hostile papers whose titles and abstracts carry
markup, entities, broken LaTeX and a `javascript:` link. Built, and every test run, once
on SQLite and once on a real PostgreSQL server (tests/pg.py).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import pytest

from paperfeed.catalog import Catalog
from paperfeed.web import create_app
from paperfeed.web.server import BackgroundServer
from tests.conftest import ROOT, shared_path
from tests.pg import new_database, use_database

SCRIPT_TITLE = "<script>alert(1)</script>"
HOSTILE = [
    {"id": "2503.99991", "title": SCRIPT_TITLE,
     "abstract": "We show <img src=x onerror=alert(2)> and &amp; entities, "
                 "$\\boldsymbol{\\cdot}$ products, 95\\% gains, \\textbf{bold} and {\\em broken",
     "authors": ["<b>Mallory</b> Hacker", "Eve O'Brien"], "categories": ["cs.CR"],
     "comment": "<iframe src=//evil>", "first_seen_listing_date": "2025-03-20",
     "abs": "javascript:alert(3)", "pdf": "https://arxiv.org/pdf/2503.99991"},
    {"id": "2503.99992", "title": "Entities &lt;b&gt; and \"quotes\" ' in a title {\\bf x",
     "abstract": "An abstract with </textarea><script>alert(4)</script> inside.",
     "authors": ["Alice Example"], "categories": ["cs.CR"], "comment": None,
     "first_seen_listing_date": "2025-03-20", "abs": "https://arxiv.org/abs/2503.99992",
     "pdf": "https://arxiv.org/pdf/2503.99992"},
]
CORPUS_PAPERS = 711  # exactly the listing days 2025-03-18, 19 and 20


@pytest.fixture(scope="session")
def web_db(db_kind: str, request: pytest.FixtureRequest) -> str | None:
    """The database of the served corpus: None on SQLite (the file in `web_data`)."""
    return new_database(db_kind, request)


@pytest.fixture(autouse=True)
def _on_each_database(web_db: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs on SQLite and on PostgreSQL: a store or `paperfeed serve` it opens on
    `web_data` finds the served corpus's database."""
    use_database(monkeypatch, web_db)


@pytest.fixture(scope="session")
def web_data(tmp_path_factory: pytest.TempPathFactory, card_tagger: Path,
             web_db: str | None) -> Path:
    daily = shared_path("arxiv-daily-cs", "arxiv_daily_cs_unique.jsonl.gz")
    seeds = shared_path("seeds")
    root = tmp_path_factory.mktemp("web")
    corpus = root / "daily.jsonl"
    with gzip.open(daily, "rt", encoding="utf-8") as src, corpus.open("w") as out:
        out.writelines(islice(src, CORPUS_PAPERS))
        for record in HOSTILE:
            out.write(json.dumps(record) + "\n")
    data = root / "data"
    # The cards are made with the trained tagger, as after `paperfeed quickstart`.
    (data / "models").mkdir(parents=True)
    for made in card_tagger.parent.iterdir():
        shutil.copy(made, data / "models" / made.name)
    with Catalog(data, url=web_db) as catalog:
        for path in [corpus, *sorted(seeds.glob("*.txt"))]:
            report = catalog.ingest_file(path)
            assert report.error is None, report.error
        catalog.update_index()
        catalog.update_cards(workers=1)
    return data


@pytest.fixture(scope="session")
def web_catalog(web_data: Path, web_db: str | None) -> Iterator[Catalog]:
    with Catalog(web_data, url=web_db) as catalog:
        yield catalog


@pytest.fixture(scope="session")
def live_server(web_catalog: Catalog) -> Iterator[str]:
    """The web app on a free loopback port; its base URL."""
    with BackgroundServer(create_app(web_catalog)) as server:
        yield server.url


@pytest.fixture(scope="session")
def outbox(web_catalog: Catalog) -> Path:
    """Where the live server writes its mail (no SMTP server is configured for it)."""
    return web_catalog.store.data_dir / "outbox"


CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(os.environ.get("PAPERFEED_SCREENSHOTS", ROOT / "test-artifacts" / "screenshots"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright, one for the whole run (Playwright's sync API
    allows one loop at a time); never a downloaded browser."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium); "
                    ".ci/run installs it")
    sync_api = pytest.importorskip("playwright.sync_api")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu",
                  "--no-first-run", "--disable-component-update", "--disable-sync"])
        yield launched
        launched.close()
    print(f"\nscreenshots: {SHOTS}")
