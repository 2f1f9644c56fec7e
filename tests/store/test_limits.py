"""Rate limits: fixed windows, and atomic under concurrent hits from threads and processes."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

from paperfeed.store import Store
from paperfeed.store.limits import RateLimits

WINDOW = timedelta(minutes=15)
T0 = datetime(2026, 12, 3, 10, 0, 0)


def test_a_window_counts_up_then_starts_again(data_dir: Path) -> None:
    with Store(data_dir) as store:
        limits = RateLimits(store)
        counts = [limits.hit("k", limit=3, window=WINDOW, now=T0 + timedelta(seconds=i)).count
                  for i in range(4)]
        assert counts == [1, 2, 3, 4]
        late = limits.hit("k", limit=3, window=WINDOW, now=T0 + WINDOW + timedelta(seconds=1))
        assert (late.count, late.allowed) == (1, True)
        blocked = limits.hit("other", limit=0, window=WINDOW, now=T0)
        assert not blocked.allowed and blocked.retry_after == 15 * 60
        limits.undo("k")
        assert limits.peek("k", window=WINDOW, now=T0 + WINDOW + timedelta(seconds=2)) == 0


def test_concurrent_threads_never_pass_the_limit_together(data_dir: Path) -> None:
    with Store(data_dir) as store:
        limits = RateLimits(store)
        with ThreadPoolExecutor(16) as pool:
            hits = list(pool.map(lambda _: limits.hit("race", limit=5, window=WINDOW),
                                 range(64)))
        assert sorted(h.count for h in hits) == list(range(1, 65))
        assert sum(h.allowed for h in hits) == 5


def _hammer(args: tuple[str, int]) -> int:
    folder, n = args
    store = Store(folder)
    try:
        limits = RateLimits(store)
        return sum(limits.hit("procs", limit=10, window=WINDOW).allowed for _ in range(n))
    finally:
        store.close()


def test_concurrent_processes_never_pass_the_limit_together(data_dir: Path) -> None:
    Store(data_dir).close()  # migrate once, before the processes race
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        allowed = pool.map(_hammer, [(str(data_dir), 20)] * 4)
    assert sum(allowed) == 10
    with Store(data_dir) as store:
        assert RateLimits(store).peek("procs", window=WINDOW) == 80
