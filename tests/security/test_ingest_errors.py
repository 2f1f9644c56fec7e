"""Defect 18: the guide says "everything before the error is stored"; a bad line 7 used to
leave nothing stored (the batch in flight was dropped). Now the papers of lines 1-6 stay."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from itertools import islice
from pathlib import Path

from paperfeed.store import Store
from tests.conftest import shared_path


def test_a_bad_line_7_keeps_the_six_papers_before_it(tmp_path: Path) -> None:
    daily = shared_path("arxiv-daily-cs", "arxiv_daily_cs_unique.jsonl.gz")
    with gzip.open(daily, "rt", encoding="utf-8") as src:
        lines = list(islice(src, 10))
    lines[6] = '{"id": "2503.00007", "title": broken json\n'
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(lines))
    data = tmp_path / "data"
    run = subprocess.run(
        [sys.executable, "-m", "paperfeed", "--data-dir", str(data), "ingest", "--no-index",
         str(bad)], capture_output=True, text=True, timeout=300,
        env={**os.environ, "COLUMNS": "250"})
    assert run.returncode == 3, run.stdout + run.stderr
    assert "bad.jsonl:7: malformed JSON" in run.stdout
    assert "(6 papers before it stay stored)" in run.stdout
    with Store(data) as store:
        assert store.count() == 6
        first_six = [json.loads(line)["id"] for line in lines[:6]]
        assert all(store.find(i) is not None for i in first_six)
