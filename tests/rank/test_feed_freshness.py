"""The feed's cached vocabulary follows a refit written by another process.

A catch-up (`application.catchup`) commits the index, then refits the vocabulary: a
serving process that followed the commit in between must not keep the old vocabulary
until the next commit. Real processes: `paperfeed ingest` (the tests' instant embedder)
and a separate Python process that refits, as the catch-up's last step does.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from paperfeed.catalog import Catalog
from paperfeed.rank.feed import Feed
from paperfeed.rank.profile import RankerParams
from tests.index.conftest import FakeEmbedder
from tests.index.test_kill_recovery import ROOT, assert_ok, cli, word
from tests.web.test_freshness import OLD_DAY, listing, write

REFIT = ("import sys; from paperfeed.catalog import Catalog\n"
         "with Catalog(sys.argv[1]) as c: c.vocabulary()")  # refits: the store grew by > 1/5


@pytest.mark.parametrize("rebuilt", [False, True], ids=["index", "rebuilt-generation"])
def test_a_vocabulary_refit_by_another_process_reaches_the_feed(tmp_path: Path,
                                                                 rebuilt: bool) -> None:
    data = tmp_path / "data"
    data.mkdir()
    assert_ok(cli(data, "ingest", str(write(tmp_path / "old.jsonl", [
        listing(i, word(i), OLD_DAY, "cs.LG") for i in range(60)]))))
    if rebuilt:  # the index and its vocabulary now live in indexes/gen-1, not index/
        assert_ok(cli(data, "reindex", "--full"))
        assert not (data / "index").exists()
    with Catalog(data, embedder=FakeEmbedder()) as catalog:
        feed = Feed(catalog, params=RankerParams(method="blend", lexical=0.3))
        before = feed._model()[1]
        assert before is not None and before.corpus_size == 60
        # 20 papers with new words stored but not indexed (no index commit), then a refit.
        assert_ok(cli(data, "ingest", "--no-index", str(write(tmp_path / "new.jsonl", [
            listing(100 + i, "zqnewterm", OLD_DAY, "cs.LG") for i in range(20)]))))
        version = catalog.index.version()
        done = subprocess.run([sys.executable, "-c", REFIT, str(data)], cwd=ROOT,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert catalog.index.version() == version  # the refit alone, no index commit
        after = feed._model()[1]
        assert after is not None and after.corpus_size == 80
        assert "zqnewterm" in after and "zqnewterm" not in before
        assert feed._model()[1] is after  # unchanged file: the cache holds
