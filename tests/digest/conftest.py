"""A real store of a few hundred arXiv papers, three accounts, and a loopback SMTP server.

Each test runs on SQLite and on a real PostgreSQL server (tests/pg.py).

Day one is the first 300 papers of the arXiv cs daily listings (all listed on
2025-03-18) plus one hostile paper; day two is 120 papers listed on 2025-03-19,
ingested by the tests that need a second day.
"""

from __future__ import annotations

import email
import email.policy
import gzip
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.message import EmailMessage, Message
from itertools import islice
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from paperfeed.accounts import Account, Accounts
from paperfeed.catalog import Catalog
from paperfeed.mail import SmtpMailer
from paperfeed.rank.picks import Pick
from paperfeed.store import Store
from paperfeed.store import models as m
from tests.conftest import shared_path
from tests.pg import new_database, use_database
from tests.smtp import loopback_smtp

DAY1 = date(2025, 3, 18)  # a Tuesday
DAY2 = date(2025, 3, 19)
SENDER = "paperfeed <feed@example.org>"
BASE_URL = "http://paperfeed.test"
HOSTILE_ID = "2503.99991"
HOSTILE = {
    "id": HOSTILE_ID, "title": "<script>alert(1)</script> $\\alpha$-Net: \\textbf{bold} claims",
    "abstract": "An abstract.", "authors": ["<b>Mallory</b> Hacker"], "categories": ["cs.CV"],
    "comment": None, "first_seen_listing_date": "2025-03-18", "abs": "javascript:alert(3)",
    "pdf": "https://arxiv.org/pdf/2503.99991"}
K = 5
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing here needs a model; never download one


def at(day: date, hour: int = 7) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@dataclass(frozen=True)
class Corpus:
    day1: Path
    day2: Path


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    daily = shared_path("arxiv-daily-cs", "arxiv_daily_cs_unique.jsonl.gz")
    root = tmp_path_factory.mktemp("digest-corpus")
    day1, day2 = root / "day1.jsonl", root / "day2.jsonl"
    with gzip.open(daily, "rt", encoding="utf-8") as src:
        first = list(islice(src, 300))
        later = [line for line in islice(src, 600)
                 if json.loads(line).get("first_seen_listing_date") == DAY2.isoformat()]
    assert all(json.loads(line)["first_seen_listing_date"] == DAY1.isoformat()
               for line in first)
    assert len(later) >= 120
    day1.write_text("".join(first) + json.dumps(HOSTILE) + "\n")
    day2.write_text("".join(later[:120]))
    return Corpus(day1, day2)


@dataclass
class Users:
    alice: Account  # follows cs.CV: many papers a day
    bob: Account  # cs.RO: a few a day
    carol: Account  # math.AT: none in the corpus, so never an email
    category: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Template:
    data: Path
    url: str | None  # its PostgreSQL database; None: SQLite, in the folder


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory, corpus: Corpus, db_kind: str,
             request: pytest.FixtureRequest) -> Template:
    """A data directory with day one and the three accounts, copied for each test; on
    PostgreSQL with its database, which each test gets a copy of too."""
    data = tmp_path_factory.mktemp("digest-template") / "data"
    url = new_database(db_kind, request)
    with Catalog(data, url=url) as catalog:
        report = catalog.ingest_file(corpus.day1)
        assert report.error is None and report.report is not None
        assert report.report.ingested == 301
        # Cheap hashes: these passwords are never typed, and argon2's defaults cost 50 ms.
        accounts = Accounts(catalog.store, hasher=PasswordHasher(time_cost=1, memory_cost=1024))
        for address, name in (("alice@example.org", "Alice"), ("bob@example.org", "Bob"),
                              ("carol@example.org", "")):
            accounts.sign_up(address, "a long enough password", name)
    return Template(data, url)


@pytest.fixture
def catalog(tmp_path: Path, template: Template, db_kind: str, request: pytest.FixtureRequest,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Catalog]:
    shutil.copytree(template.data, tmp_path / "data")
    # Every store the test opens (its CLI runs too) uses the copy of the template's database.
    use_database(monkeypatch, template.url and new_database(db_kind, request, template.url))
    with Catalog(tmp_path / "data") as catalog:
        yield catalog


@pytest.fixture
def store(catalog: Catalog) -> Store:
    return catalog.store


@pytest.fixture
def users(store: Store) -> Users:
    accounts = Accounts(store)
    alice, bob, carol = (accounts.get(i) for i in (1, 2, 3))
    assert alice and bob and carol and alice.email == "alice@example.org"
    made = Users(alice, bob, carol)
    made.category = {alice.id: "cs.CV", bob.id: "cs.RO", carol.id: "math.AT"}
    return made


class CategorySource:
    """A simple pick source: the newest papers in the user's one category, not yet seen."""

    def __init__(self, store: Store, category: dict[int, str]) -> None:
        self.store = store
        self.category = category
        self.calls: list[tuple[int, date | None, list[Pick]]] = []

    def __call__(self, user_id: int, since: date | None, k: int, exclude_seen: bool
                 ) -> list[Pick]:
        category = self.category[user_id]
        query = (select(m.Paper.id).join(m.PaperCategory)
                 .where(m.PaperCategory.category == category))
        if since is not None:
            query = query.where(m.LISTED >= since)  # noqa: SIM300
        if exclude_seen:
            query = query.where(m.Paper.id.not_in(
                select(m.SeenPaper.paper_id).where(m.SeenPaper.user_id == user_id)))
        with Session(self.store.engine) as s:
            ids = list(s.scalars(query.order_by(m.LISTED.desc().nulls_last(), m.Paper.id.desc())
                                 .limit(k)))
        picks = [Pick(pid, 1.0 / (i + 1), f"new in {category}") for i, pid in enumerate(ids)]
        self.calls.append((user_id, since, picks))
        return picks

    def picked(self, user_id: int) -> list[int]:
        """The paper ids of the latest call for this user, best first."""
        return next([p.paper_id for p in picks]
                    for uid, _, picks in reversed(self.calls) if uid == user_id)


@pytest.fixture
def source(store: Store, users: Users) -> CategorySource:
    return CategorySource(store, users.category)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(email.message_from_bytes(
            envelope.content, policy=email.policy.default))  # type: ignore[attr-defined]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [msg for msg in self.messages if msg["To"] == address]  # type: ignore[misc]


@dataclass
class Smtp:
    inbox: Inbox
    mailer: SmtpMailer
    port: int


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    inbox = Inbox()
    with loopback_smtp(inbox) as port:
        yield Smtp(inbox, SmtpMailer("127.0.0.1", port, timeout=10), port)
