"""`paperfeed worker`, two real processes on one store: the lease keeps each job to one
runner at a time, every run is recorded, and SIGTERM stops a worker cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

from paperfeed.store import Store
from tests.pg import read_rows
from tests.sources.arxiv_standin import ArxivStandin, FakePaper, OaiRepository

SRC = Path(__file__).resolve().parents[2] / "src"


def test_two_workers_never_run_one_job_at_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    Store(data).close()
    today = date.today()
    corpus = [FakePaper(arxiv_id=f"2612.{i:05d}", title=f"Scheduled paper {i}",
                        datestamp=today - timedelta(days=i % 2)) for i in range(1, 7)]
    with ArxivStandin(OaiRepository(corpus, page_size=2)) as server:
        env = {**os.environ, "PYTHONPATH": str(SRC), "PAPERFEED_DATA": str(data),
               "PAPERFEED_OAI_URL": server.url, "PAPERFEED_HARVEST_WHEN": "every 1s",
               "PAPERFEED_HARVEST_JITTER": "0", "PAPERFEED_HARVEST_MIN_INTERVAL": "0.2",
               "PAPERFEED_HARVEST_CATCH_UP": "0", "PAPERFEED_DIGEST_WHEN": "every 1s",
               "PAPERFEED_SCHEDULE_POLL": "0.1", "HF_HUB_OFFLINE": "1"}
        env.pop("PAPERFEED_DATABASE_URL", None)
        workers = [subprocess.Popen([sys.executable, "-m", "paperfeed", "worker"], env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for _ in range(2)]
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                done = read_rows(data, "SELECT count(*) FROM job_runs WHERE name = 'harvest' "
                                       "AND finished_at IS NOT NULL")[0][0]
                if done >= 6:
                    break
                time.sleep(0.2)
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            outputs = [worker.communicate(timeout=120) for worker in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    runs = read_rows(data, "SELECT name, holder, started_at, finished_at, outcome "
                           "FROM job_runs ORDER BY name, started_at")
    for name in ("harvest", "digests"):
        mine = [r for r in runs if r[0] == name]
        assert len(mine) >= 2, runs
        # SIGTERM let the run in hand finish: no run is left open.
        assert all(r[3] is not None for r in mine), mine
        assert all(r[4] == "ok" for r in mine), mine
        # Never two at once: each run starts after the previous one finished.
        assert all(str(b[2]) >= str(a[3]) for a, b in pairwise(mine)), mine
    assert len({r[1] for r in runs}) <= 2
    with Store(data) as store:
        assert store.count() == len(corpus)  # the harvest stored the stand-in's papers
