"""`send_due_digests`: the real ranker's picks, the mailer from the environment, and the
warnings a cron log should carry."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes
from pathlib import Path

import pytest

from paperfeed.accounts import Accounts
from paperfeed.application import catch_up
from paperfeed.application.digests import send_due_digests
from paperfeed.catalog import Catalog
from paperfeed.errors import StoreError
from paperfeed.store.personal import Personal
from tests.application.conftest import DAY

NOW = datetime(DAY.year, DAY.month, DAY.day, 9, tzinfo=UTC)


@pytest.fixture
def reader(catalog: Catalog) -> int:
    catch_up(catalog, card_workers=1)
    user = Accounts(catalog.store).sign_up("reader@example.org", "long enough password").id
    own = [p.id for p in (catalog.store.find(f"2503.{i:05d}") for i in (4, 8)) if p]
    Personal(catalog.store).add_own(user, own)
    return user


def test_a_dry_run_writes_the_digest_and_marks_nothing(catalog: Catalog, reader: int,
                                                       tmp_path: Path) -> None:
    folder = tmp_path / "dry"
    done = send_due_digests(catalog, base_url="http://feed.test", now=NOW, dry_run_dir=folder,
                            limit=3)
    assert done.warnings == []
    [outcome] = done.report.outcomes
    assert (outcome.user_id, outcome.status, len(outcome.paper_ids)) == (reader, "dry-run", 3)
    [eml] = folder.glob("*.eml")
    assert "reader@example.org" in message_from_bytes(eml.read_bytes())["To"]
    # Nothing seen: the real run of the period still sends.
    again = send_due_digests(catalog, base_url="http://feed.test", now=NOW,
                             dry_run_dir=tmp_path / "dry2")
    assert again.report.count("dry-run") == 1


def test_without_smtp_the_digests_go_to_the_outbox_with_a_warning(
        catalog: Catalog, reader: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAPERFEED_SMTP_URL", raising=False)
    done = send_due_digests(catalog, base_url="http://feed.test", now=NOW)
    outbox = catalog.store.data_dir / "outbox"
    assert done.warnings == [f"PAPERFEED_SMTP_URL is not set: the digests go to {outbox} as "
                             ".eml files"]
    assert done.report.count("sent") == 1 and len(list(outbox.glob("*.eml"))) == 1
    # Once a period: a second run skips the user.
    assert send_due_digests(catalog, base_url="http://feed.test", now=NOW).report.count(
        "skipped") == 1


def test_a_read_only_store_refuses_a_real_send(data_dir: Path, catalog: Catalog) -> None:
    catalog.close()
    with Catalog(data_dir, read_only=True) as readonly, pytest.raises(StoreError):
        send_due_digests(readonly, base_url="http://feed.test", now=NOW)
