"""A failure at any step of add/remove leaves an index that opens and answers as before."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from paperfeed.index import IndexDoc, PaperIndex, SearchFilters
from paperfeed.index.lexical import LexicalIndex

from .conftest import CORPUS, FakeEmbedder


class Boom(RuntimeError):
    """The simulated crash."""


def keys_for(idx: PaperIndex, query: str, mode: str) -> set[int]:
    return {h.key for h in idx.search(query, k=50, mode=mode)}  # type: ignore[arg-type]


def keys_for_filtered(idx: PaperIndex, query: str, mode: str,
                      filters: SearchFilters) -> set[int]:
    return {h.key for h in idx.search(query, k=50, mode=mode,  # type: ignore[arg-type]
                                      filters=filters)}


def assert_answers_like_corpus(idx: PaperIndex) -> None:
    assert idx.keys() == {d.key for d in CORPUS}
    assert keys_for(idx, "transformer", "lexical") == {3}  # doc 3's original text
    assert keys_for(idx, "kangaroo", "lexical") == set()
    dense_top = idx.search("attention transformer translation sequences", mode="dense", k=1)
    assert dense_top[0].key == 3
    assert len(idx.search("", k=50)) == len(CORPUS)
    assert idx.manifest()["counts"]["papers"] == len(CORPUS)
    cv_only = SearchFilters(categories=("cs.CV",))
    for mode in ("dense", "hybrid", "lexical"):
        found = keys_for_filtered(idx, "kangaroo detection segmentation", mode, cv_only)
        assert found <= {2, 5, 6}
        if mode != "lexical":
            assert found == {2, 5, 6}


UPDATE = [
    IndexDoc(3, "Kangaroo locomotion", "Replaced text about kangaroo hopping."),
    IndexDoc(200, "Kangaroo ecology", "A new paper about kangaroo ecology."),
]


@pytest.fixture(params=[0, 10_000], ids=["ann", "exact"])
def built(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], PaperIndex]:
    exact_below = int(request.param)
    PaperIndex.open(tmp_path, FakeEmbedder(), exact_below=exact_below).add(CORPUS)

    def reopen() -> PaperIndex:
        return PaperIndex.open(tmp_path, FakeEmbedder(), exact_below=exact_below)

    return reopen


def test_embedder_failure_mid_add_keeps_earlier_batches(tmp_path: Path) -> None:
    class FailsOnSecondBatch(FakeEmbedder):
        def encode(self, texts: Sequence[str], *, progress: Callable[[int], None] | None = None
                   ) -> npt.NDArray[np.float32]:
            if len(self.calls) == 1:
                raise Boom("model died")
            return super().encode(texts, progress=progress)

    idx = PaperIndex.open(tmp_path, FailsOnSecondBatch())
    with pytest.raises(Boom):
        idx.add(CORPUS, batch_size=3)
    reopened = PaperIndex.open(tmp_path, FakeEmbedder())
    assert reopened.keys() == {1, 2, 3}
    assert keys_for(reopened, "", "hybrid") == {1, 2, 3}
    reopened.add(CORPUS)  # finishing the job later works
    assert reopened.keys() == {d.key for d in CORPUS}


@pytest.mark.parametrize("failing_step", ["lexical_commit", "manifest", "after_manifest"])
def test_crash_during_upsert_batch_leaves_previous_content(
    built: Callable[[], PaperIndex], monkeypatch: pytest.MonkeyPatch, failing_step: str
) -> None:
    idx = built()
    if failing_step == "lexical_commit":
        original_commit = LexicalIndex.commit
        commits: list[int] = []

        def commit(self: LexicalIndex) -> None:
            commits.append(1)
            if len(commits) == 2:  # the first commit is recovery at the start of add()
                raise Boom("crash before the batch's tantivy commit")
            original_commit(self)
        monkeypatch.setattr(LexicalIndex, "commit", commit)
    elif failing_step == "manifest":
        def write(self: PaperIndex, **changes: Any) -> None:
            raise Boom("crash after tantivy commit, before the manifest")
        monkeypatch.setattr(PaperIndex, "_write_manifest", write)
    with pytest.raises(Boom):
        if failing_step == "after_manifest":
            # The manifest names the new batch; the crash hits before old versions are
            # deleted from tantivy: the new content must win, nothing doubled.
            original = LexicalIndex.delete_rows
            calls: list[int] = []

            def delete_rows(self: LexicalIndex, rows: Any) -> None:
                calls.append(1)
                if len(calls) > 1:  # the first call is recovery at the start of add()
                    raise Boom("crash before cleanup")
                original(self, rows)
            monkeypatch.setattr(LexicalIndex, "delete_rows", delete_rows)
        idx.add(UPDATE)
    monkeypatch.undo()
    for answering in (idx, built()):  # the same object and a fresh process
        if failing_step == "after_manifest":
            assert keys_for(answering, "kangaroo", "lexical") == {3, 200}
            assert keys_for(answering, "transformer", "lexical") == set()
            assert len(answering.search("", k=50)) == len(CORPUS) + 1
        else:
            assert_answers_like_corpus(answering)
    # The next write clears the leftovers and works normally.
    fresh = built()
    fresh.add([IndexDoc(300, "Wombat burrows", "Wombats dig burrows.")])
    assert keys_for(fresh, "wombat", "lexical") == {300}
    kangaroo = {3, 200} if failing_step == "after_manifest" else set()
    assert keys_for(fresh, "kangaroo", "lexical") == kangaroo
    assert len(fresh.search("", k=50)) == len(fresh.keys())


def test_continuing_after_a_failed_batch_does_not_resurrect_it(
    built: Callable[[], PaperIndex], monkeypatch: pytest.MonkeyPatch
) -> None:
    idx = built()
    def write(self: PaperIndex, **changes: Any) -> None:
        raise Boom("manifest write failed")
    with monkeypatch.context() as patch:
        patch.setattr(PaperIndex, "_write_manifest", write)
        with pytest.raises(Boom):
            idx.add(UPDATE)
    # The same object writes again: the failed batch's rows are reused, its docs must not be.
    idx.add([IndexDoc(400, "Platypus venom", "Venomous spurs of the platypus.")])
    assert keys_for(idx, "kangaroo", "lexical") == set()
    assert keys_for(idx, "platypus", "lexical") == {400}
    assert len(idx.search("", k=50)) == len(CORPUS) + 1


def test_crash_during_remove_keeps_the_paper(
    built: Callable[[], PaperIndex], monkeypatch: pytest.MonkeyPatch
) -> None:
    idx = built()
    def write(self: PaperIndex, **changes: Any) -> None:
        raise Boom("crash before the manifest")
    monkeypatch.setattr(PaperIndex, "_write_manifest", write)
    with pytest.raises(Boom):
        idx.remove([3])
    monkeypatch.undo()
    assert_answers_like_corpus(built())
    assert_answers_like_corpus(idx)


def test_torn_appends_and_damaged_ann_are_ignored(
    built: Callable[[], PaperIndex], tmp_path: Path
) -> None:
    built().search("warm up the ann", mode="dense")
    with (tmp_path / "vectors.f16").open("ab") as handle:
        handle.write(b"\x01" * 333)  # half-written rows of a batch that never committed
    with (tmp_path / "rows.i64").open("ab") as handle:
        handle.write(b"\x02" * 21)
    if (tmp_path / "ann.usearch").exists():
        (tmp_path / "ann.usearch").write_bytes(b"garbage")
    idx = built()
    assert_answers_like_corpus(idx)
    idx.add([IndexDoc(500, "Echidna", "Echidnas lay eggs.")])
    assert keys_for(idx, "echidna", "lexical") == {500}
    assert idx.search("echidnas lay eggs", mode="dense", k=1)[0].key == 500


def test_onnxruntime_after_the_ann_does_not_segfault(tmp_path: Path) -> None:
    # onnxruntime 1.32 crashes the process when imported after usearch's extension.
    pytest.importorskip("onnxruntime")
    here, where = str(Path(__file__).parent), str(tmp_path)
    code = (
        f"import sys; from pathlib import Path; sys.path.insert(0, {here!r})\n"
        "from conftest import CORPUS, FakeEmbedder\n"
        "from paperfeed.index import PaperIndex\n"
        f"idx = PaperIndex.open(Path({where!r}), FakeEmbedder(), exact_below=0)\n"
        "idx.add(CORPUS); idx.search('detection', mode='dense')\n"
        "import onnxruntime\n"
        "print('alive')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "alive" in result.stdout
