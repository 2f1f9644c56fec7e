"""Several processes writing one store at once lose nothing and do not deadlock.

Real processes (spawned), on SQLite and on PostgreSQL (tests/store/conftest.py): each
ingests the same new papers (two forwards, two backwards), while voting, rating
and saving for its own account and for one account they all share. The final counts are
exact. The join timeout is a hang guard, not a speed claim.
"""

from __future__ import annotations

import multiprocessing
from datetime import date
from pathlib import Path
from typing import Any

from paperfeed.accounts import Accounts
from paperfeed.records import PaperRecord
from paperfeed.store import Store
from paperfeed.store.browse import Browse
from paperfeed.store.personal import Personal
from tests.pg import read_rows

PROCESSES = 4
BASE = 30  # papers stored before the race: ids 1..30
NEW = 120  # papers every process brings: two in this order, two backwards
CHUNK = 10
HANG_GUARD = 600  # seconds


def paper(i: int) -> PaperRecord:
    return PaperRecord(title=f"Paper {i}: sparse attention for lidar", abstract=f"Take {i}.",
                       arxiv_id=f"2601.{i:05d}", first_listed=date(2026, 1, 1 + i % 28))


def slice_of(k: int) -> list[int]:
    """Process k's papers: all the new ones, every other process backwards, so that two
    processes bring the same paper at the same moment."""
    ids = list(range(BASE + 1, BASE + NEW + 1))
    return ids[::-1] if k % 2 else ids


_start: Any = None


def _init(barrier: Any) -> None:
    global _start
    _start = barrier


def _work(args: tuple[str, int, int, int]) -> tuple[int, int, int]:
    folder, k, own_user, shared_user = args
    with Store(folder) as store:
        _start.wait(HANG_GUARD)  # all at once, not one after the other as they start up
        browse, personal = Browse(store), Personal(store)
        ingested = merged = votes = 0
        ids = slice_of(k)
        for chunk in range(0, len(ids), CHUNK):
            report = store.add_papers([paper(i) for i in ids[chunk:chunk + CHUNK]],
                                      batch_size=7)
            ingested += report.ingested
            merged += report.merged
            for paper_id in range(1, BASE + 1):  # interleaved with the ingest batches
                if chunk // CHUNK == paper_id % (NEW // CHUNK):
                    votes += browse.vote(paper_id, f"proc-{k}")
                    votes += browse.vote(paper_id, "everyone")  # one of the four wins
                    personal.rate(own_user, paper_id, 1)
                    personal.rate(shared_user, paper_id, 1 if k % 2 else -1)
                    personal.save(shared_user, paper_id, [f"from {k}"])
                    personal.follow(shared_user, "category", "cs.CV")
        return ingested, merged, votes


def test_processes_ingesting_voting_and_rating_at_once_lose_nothing(data_dir: Path) -> None:
    with Store(data_dir) as store:
        assert store.add_papers([paper(i) for i in range(1, BASE + 1)]).ingested == BASE
        accounts = Accounts(store)
        users = [accounts.sign_up(f"u{k}@example.org", "a long enough password").id
                 for k in range(PROCESSES + 1)]
    jobs = [(str(data_dir), k, users[k], users[-1]) for k in range(PROCESSES)]
    spawn = multiprocessing.get_context("spawn")
    with spawn.Pool(PROCESSES, initializer=_init, initargs=(spawn.Barrier(PROCESSES),)) as pool:
        results = pool.map_async(_work, jobs).get(timeout=HANG_GUARD)

    brought = {i for k in range(PROCESSES) for i in slice_of(k)}
    assert len(brought) == NEW
    assert sum(r[0] for r in results) == NEW  # each new paper ingested by exactly one
    assert sum(r[1] for r in results) == (PROCESSES - 1) * NEW  # the rest merged into it
    assert sum(r[2] for r in results) == PROCESSES * BASE + BASE  # own votes + one "everyone"
    with Store(data_dir) as store:
        assert store.count() == BASE + NEW
        stored = [p.record.arxiv_id for p in store.get_many(range(1, BASE + NEW + 1),
                                                            details=False)]
        assert sorted(stored) == sorted(paper(i).arxiv_id for i in range(1, BASE + NEW + 1))
        personal = Personal(store)
        for k in range(PROCESSES):
            assert personal.ratings(users[k]) == dict.fromkeys(range(1, BASE + 1), 1)
        assert set(personal.ratings(users[-1])) == set(range(1, BASE + 1))
        assert len(personal.library(users[-1])) == BASE
        assert len(personal.follows(users[-1])) == 1
        assert sum(Browse(store).vote_counts(list(range(1, BASE + 1))).values()) == (
            PROCESSES + 1) * BASE
    assert read_rows(data_dir, "select count(*) from votes") == [((PROCESSES + 1) * BASE,)]
