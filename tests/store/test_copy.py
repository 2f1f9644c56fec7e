"""`paperfeed store copy`: a whole store, every table non-empty, into a real other database.

Each test runs twice (tests/store/conftest.py): SQLite -> PostgreSQL, and PostgreSQL ->
SQLite. The copy keeps ids, so what points at what still does, and new rows in the copy
get new ids.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from paperfeed.accounts import Accounts
from paperfeed.catalog import Catalog
from paperfeed.cli.app import app
from paperfeed.feeds import Feeds
from paperfeed.records import PaperRecord, Provenance, parse_author
from paperfeed.store import Store
from paperfeed.store import models as m
from paperfeed.store.browse import Browse
from paperfeed.store.copy import CopyError, copy_store, tables
from paperfeed.store.jobs import JobStore
from paperfeed.store.models_digest import DigestRun, DigestSetting
from paperfeed.store.personal import Personal
from paperfeed.store.schedule import OK, Schedule
from tests.pg import PgServer

PASSWORD = "a long enough password"
NOW = datetime(2026, 12, 3, 12, 0)


def fill(data_dir: Path) -> None:
    """A store in which every table has rows, made through the public APIs where one
    exists (the digest's and seen-papers' rows directly)."""
    records = [
        PaperRecord(title=f"Paper {i} on lidar segmentation",
                    abstract=f"We segment lidar point clouds, take {i}. A 12.5 mIoU gain.",
                    authors=(parse_author("Ada Lovelace"), parse_author(f"Author {i}")),
                    arxiv_id=f"2503.{i:05d}", doi=f"10.1234/p{i}", categories=("cs.CV",),
                    first_listed=date(2025, 3, 18), source_ids=(("seed", f"key{i}"),),
                    provenance=(Provenance(source="seed", file="seed.txt", line=i + 1),))
        for i in range(12)
    ]
    with Catalog(data_dir) as catalog:
        store = catalog.store
        assert store.add_papers(records).ingested == 12
        catalog.update_cards(workers=1)
        store.save("arxiv:cs", {"until": "2025-03-18"})
        accounts = Accounts(store)
        user = accounts.sign_up("ada@example.org", PASSWORD, "Ada")
        accounts.create_token(user.id, "laptop")
        accounts.request_reset("ada@example.org", now=NOW)
        accounts.sessions.start(user.id, now=NOW)
        signup = accounts.signups.request("bob@example.org", PASSWORD, now=NOW)
        accounts.signups.record(signup, now=NOW)
        accounts.log_in("ada@example.org", PASSWORD, address="10.0.0.1", now=NOW)
        personal = Personal(store)
        personal.rate(user.id, 1, 1)
        personal.save(user.id, 2, ["to read"])
        personal.add_own(user.id, [3])
        personal.follow(user.id, "category", "cs.CV")
        Browse(store).vote(4, "cookie-1")
        feeds = Feeds(catalog)
        feeds.create_token(user.id)
        feeds.save_search(user.id, "lidar", "lidar segmentation")
        JobStore(store).create("import", user_id=user.id, payload={"kind": "bibtex"})
        Schedule(store).acquire("harvest", "host:1", timedelta(minutes=5), now=NOW)
        Schedule(store).record_run("harvest", "host:1", NOW, NOW, OK, {"ingested": 12})
        with Session(store.engine) as s, s.begin():
            s.add(DigestSetting(user_id=user.id, frequency="daily", updated_at=NOW))
            s.add(DigestRun(user_id=user.id, period_key="2025-03-18", status="sent",
                            paper_ids=[5, 6], created_at=NOW))
            s.add(m.SeenPaper(user_id=user.id, paper_id=5, channel="digest", seen_at=NOW))


def other_url(database: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database of the other kind than the test's: where the copy goes."""
    if database == "postgresql":
        return f"sqlite:///{tmp_path / 'copy.sqlite'}"
    server: PgServer = request.getfixturevalue("pg_server")
    return server.create_database()


def counts(store: Store) -> dict[str, int]:
    with Session(store.engine) as s:
        return {t.name: s.scalar(select(func.count()).select_from(t)) or 0 for t in tables()}


def test_every_table_is_copied_with_equal_counts_and_ids_go_on(
        data_dir: Path, database: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    fill(data_dir)
    to = other_url(database, request, tmp_path)
    with Store(data_dir) as source, Store(data_dir, url=to) as target:
        empty = [name for name, n in counts(source).items() if n == 0]
        assert empty == [], f"fill() leaves these tables empty: {empty}"
        copied = copy_store(source, target, batch_size=5)  # several batches a table
        assert {c.table: c.target for c in copied} == counts(source) == counts(target)
        assert target.get(7) == source.get(7)  # authors, provenance, source ids, revision
        assert target.field_origins(7) == source.field_origins(7)
        assert target.revision() == source.revision() > 0
        # The sequences went on past the copied ids: a new account and paper get new ones.
        ada = Accounts(target).log_in("ada@example.org", PASSWORD, now=NOW)
        assert Personal(target).ratings(ada.id) == {1: 1}
        assert Accounts(target).sign_up("cy@example.org", PASSWORD).id == ada.id + 1
        target.add_papers([PaperRecord(title="A new paper", abstract="New.")])
        assert target.find("13") is not None and target.count() == 13


def test_a_target_with_rows_is_refused_unless_replace(
        data_dir: Path, database: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    fill(data_dir)
    to = other_url(database, request, tmp_path)
    with Store(data_dir) as source, Store(data_dir, url=to) as target:
        target.add_papers([PaperRecord(title="Already here", abstract="x",
                                       first_listed=date(2020, 1, 1))])
        with pytest.raises(CopyError, match=r"not empty \(.*papers: 1.*--replace"):
            copy_store(source, target)
        assert target.count() == 1  # refused: nothing written
        copy_store(source, target, replace=True)
        assert counts(target) == counts(source)
        assert target.count() == 12 and target.lookup(
            [PaperRecord(title="Already here", abstract="x")]) == [None]


def test_the_cli_prints_every_table_and_exits_4_on_a_non_empty_target(
        data_dir: Path, database: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    fill(data_dir)
    to = other_url(database, request, tmp_path)
    runner = CliRunner()
    done = runner.invoke(app, ["--data-dir", str(data_dir), "store", "copy", "--to", to])
    assert done.exit_code == 0, done.output
    for table in tables():
        assert table.name in done.output
    assert "every count equal" in done.output
    again = runner.invoke(app, ["--data-dir", str(data_dir), "store", "copy", "--to", to])
    assert again.exit_code == 4  # a store error (docs/guide.md, exit codes)
    assert "is not empty" in again.output and "--replace" in again.output
    with Store(data_dir) as source, Store(data_dir, url=to) as target:
        assert counts(target) == counts(source)


def test_copying_a_store_onto_itself_is_refused(data_dir: Path, database: str) -> None:
    with Store(data_dir) as source, Store(data_dir, url=source.url) as same, \
            pytest.raises(CopyError, match="same database"):
        copy_store(source, same)

