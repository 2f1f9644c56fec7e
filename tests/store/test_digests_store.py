"""The digest repository over a real SQLite file: settings, runs, and the claim as one step."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from paperfeed.records import PaperRecord, Provenance
from paperfeed.store import Store
from paperfeed.store.accounts import AccountStore
from paperfeed.store.digests import DigestStore, Subscription
from paperfeed.store.personal import Personal

NOW = datetime(2026, 12, 3, 10, 0)


@pytest.fixture
def setup(data_dir: Path) -> Iterator[tuple[Store, DigestStore, int, list[int]]]:
    with Store(data_dir) as store:
        store.add_papers([PaperRecord(title=f"Paper {i}", abstract="a", arxiv_id=f"2501.0000{i}",
                                      first_listed=date(2026, 12, 1),
                                      provenance=(Provenance("t", "f", i),)) for i in range(3)])
        user = AccountStore(store).create_user("a@example.org", "Ann", "h", now=NOW)
        assert user is not None
        yield store, DigestStore(store), user.id, sorted(p.id for p in store.get_many(range(9)))


def test_settings_written_twice_and_read_with_every_recipient(
        setup: tuple[Store, DigestStore, int, list[int]]) -> None:
    _, digests, user, _ = setup
    assert digests.subscription(user) is None
    (account, sub), = digests.recipients()
    assert (account.id, account.email, sub) == (user, "a@example.org", None)
    assert digests.set_subscription(user, "weekly", None, now=NOW)
    assert digests.set_subscription(user, "off", NOW, now=NOW)
    assert digests.subscription(user) == Subscription("off", NOW)
    assert digests.recipients()[0][1] == Subscription("off", NOW)
    assert not digests.set_subscription(user + 1, "daily", None, now=NOW)  # no such account


def test_a_period_is_claimed_once_and_seen_papers_are_kept_out(
        setup: tuple[Store, DigestStore, int, list[int]]) -> None:
    store, digests, user, (p1, p2, p3) = setup
    Personal(store).mark_seen(user, [p2], "feed")
    claimed = digests.claim(user, "2026-12-03", [p1, p2, p3], "<m1@x>", now=NOW)
    assert claimed is not None
    run_id, kept = claimed
    assert kept == [p1, p3]
    assert digests.claim(user, "2026-12-03", [p1], "<m2@x>", now=NOW) is None
    run = digests.run(user, "2026-12-03")
    assert run is not None and (run.id, run.status, run.paper_ids, run.message_id) == (
        run_id, "sending", (p1, p3), "<m1@x>")
    digests.mark_sent(run_id)
    assert digests.run(user, "2026-12-03").status == "sent"  # type: ignore[union-attr]
    assert digests.last_real_run_at(user) == NOW
    assert Personal(store).seen(user) == {p1, p2, p3}


def test_a_failed_claim_writes_nothing(
        setup: tuple[Store, DigestStore, int, list[int]]) -> None:
    """The run row and the seen papers go in together: a paper id the store does not have
    (a foreign key violation on seen_papers) leaves no run behind to block the period."""
    store, digests, user, (p1, _, _) = setup
    assert digests.claim(user, "2026-12-03", [p1, 999_999], "<m@x>", now=NOW) is None
    assert digests.run(user, "2026-12-03") is None
    assert Personal(store).seen(user) == set()
    assert digests.claim(user, "2026-12-03", [p1], "<m@x>", now=NOW) is not None


def test_release_undoes_a_claim_and_dry_runs_never_block(
        setup: tuple[Store, DigestStore, int, list[int]]) -> None:
    store, digests, user, (p1, p2, _) = setup
    digests.record_dry_run(user, "dry-run:2026-12-03", [p1], "<d1@x>", now=NOW)
    digests.record_dry_run(user, "dry-run:2026-12-03", [p1, p2], "<d2@x>", now=NOW)
    dry = digests.run(user, "dry-run:2026-12-03")
    assert dry is not None and (dry.status, dry.paper_ids) == ("dry-run", (p1, p2))
    assert digests.last_real_run_at(user) is None
    claimed = digests.claim(user, "2026-12-03", [p1, p2], "<m@x>", now=NOW)
    assert claimed is not None
    digests.release(claimed[0], user, claimed[1])
    assert digests.run(user, "2026-12-03") is None and Personal(store).seen(user) == set()
    empty = digests.claim(user, "2026-12-04", [], "<e@x>", now=NOW)
    assert empty is not None and empty[1] == []
    run = digests.run(user, "2026-12-04")
    assert run is not None and (run.status, run.message_id) == ("empty", None)
