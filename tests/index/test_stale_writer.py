"""A writer never appends at a row count another writer has moved on from.

Rows are numbered by the count a `PaperIndex` read when it opened; an object opened
before another one committed would give its papers rows already taken, so a search for
one paper's words returned another paper (issue 14, probe (d)). Two objects on one real
folder stand for two processes; the real processes are in
tests/web/test_rebuild_while_serving.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from paperfeed.errors import IndexStaleError
from paperfeed.index import IndexDoc, PaperIndex

from .conftest import CORPUS, FakeEmbedder

NEW = IndexDoc(101, "Zqalpha", "zqalpha zqalpha", (), ("cs.LG",), None)
OTHER = IndexDoc(102, "Zqbeta", "zqbeta zqbeta", (), ("cs.LG",), None)


def test_a_stale_writer_refuses_and_a_reopened_one_writes_after_the_others(
        tmp_path: Path) -> None:
    folder = tmp_path / "idx"
    PaperIndex.open(folder, FakeEmbedder()).add(CORPUS[:4])
    stale = PaperIndex.open(folder, FakeEmbedder())
    stale.add([CORPUS[4]])  # its own commits keep it current
    PaperIndex.open(folder, FakeEmbedder()).add([NEW])  # "another process"
    rows_before = (folder / "rows.i64").read_bytes()
    with pytest.raises(IndexStaleError, match="changed by another process"):
        stale.add([OTHER])
    with pytest.raises(IndexStaleError, match="changed by another process"):
        stale.remove([1])
    assert (folder / "rows.i64").read_bytes() == rows_before  # nothing written
    reopened = PaperIndex.open(folder, FakeEmbedder())
    reopened.add([OTHER])
    for word, key in (("zqalpha", 101), ("zqbeta", 102)):
        hits = reopened.search(word, mode="lexical", highlight=False)
        assert [h.key for h in hits] == [key]
    assert len(reopened) == 7
