"""The abuse suite's server: a small real store served over loopback, fresh per module.

Every test in tests/security replays an attack from the 2026-12-03 probe (issue 11) or
one like it against a real server: real HTTP, a real SQLite file, the real mail outbox.
The store is built once per run; each module serves its own copy, so one module's
accounts, votes, uploads and rate-limit counters never leak into another's.
"""

from __future__ import annotations

import contextlib
import gzip
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from itertools import islice
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from paperfeed.accounts import Account, Accounts
from paperfeed.catalog import Catalog
from paperfeed.settings import Settings
from paperfeed.store import models as m
from paperfeed.web import create_app
from paperfeed.web.server import BackgroundServer
from tests.conftest import shared_path
from tests.signup import PASSWORD, csrf

PAPERS = 60  # the first listing day's first papers: enough to search, vote and import over
KNOWN_ID = "2503.11742"  # one of them; hostile uploads try to rewrite it


@pytest.fixture(scope="session")
def security_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with 60 real arXiv papers, indexed, with their cards."""
    daily = shared_path("arxiv-daily-cs", "arxiv_daily_cs_unique.jsonl.gz")
    root = tmp_path_factory.mktemp("security")
    corpus = root / "daily.jsonl"
    with gzip.open(daily, "rt", encoding="utf-8") as src, corpus.open("w") as out:
        out.writelines(islice(src, PAPERS))
    data = root / "data"
    with Catalog(data) as catalog:
        report = catalog.ingest_file(corpus)
        assert report.error is None and report.report.ingested == PAPERS, report
        assert catalog.store.find(KNOWN_ID) is not None
        catalog.update_index()
        catalog.update_cards(workers=1)
    return data


@dataclass
class Served:
    """A running server over its own copy of the store."""

    url: str
    catalog: Catalog
    data_dir: Path

    @property
    def outbox(self) -> Path:
        return self.data_dir / "outbox"

    def client(self, **kwargs: object) -> httpx.Client:
        """A new 'browser': its own cookie jar."""
        return httpx.Client(base_url=self.url, timeout=60, **kwargs)  # type: ignore[arg-type]

    def account(self, email: str, password: str = PASSWORD, name: str = "Ada") -> Account:
        """An account made directly in the store (as the operator's CLI would)."""
        return Accounts(self.catalog.store).sign_up(email, password, name)

    def account_once(self, email: str, password: str = PASSWORD) -> None:
        """`account`, unless it exists already (for tests that run many examples)."""
        from paperfeed.accounts import AccountError

        with contextlib.suppress(AccountError):
            self.account(email, password)

    def clear_limits(self) -> None:
        with Session(self.catalog.store.engine) as s, s.begin():
            s.execute(delete(m.RateLimit))

    def mails(self, to: str, *, wait: float = 10.0, count: int = 1) -> list[EmailMessage]:
        """The messages to `to` in the outbox, oldest first, waiting up to `wait` seconds
        for at least `count` (mail may be sent after the response)."""
        deadline = time.monotonic() + wait
        while True:
            found = []
            for path in sorted(self.outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
                msg = message_from_bytes(path.read_bytes(), policy=policy.default)
                if to.lower() in str(msg["To"]).lower():
                    found.append(msg)
            if len(found) >= count or time.monotonic() > deadline:
                return found  # type: ignore[return-value]
            time.sleep(0.05)


def serve_copy(source: Path, target: Path, settings: Settings | None = None
               ) -> Iterator[Served]:
    shutil.copytree(source, target)
    with Catalog(target) as catalog, BackgroundServer(
            create_app(catalog, settings=settings or Settings())) as server:
        yield Served(url=server.url, catalog=catalog, data_dir=target)


@pytest.fixture(scope="module")
def served(security_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_copy(security_store, tmp_path_factory.mktemp("served") / "data")


@pytest.fixture(autouse=True)
def _fresh_limits(request: pytest.FixtureRequest) -> None:
    """Every test starts under every rate limit: all requests come from 127.0.0.1."""
    if "served" in request.fixturenames:
        request.getfixturevalue("served").clear_limits()


def log_in(client: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    response = client.post("/login", data={"email": email, "password": password,
                                           "csrf_token": csrf(client, "/login")})
    assert response.status_code == 303, response.text[:500]
    return response
