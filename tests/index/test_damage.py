"""A damaged index never gives a traceback: `stats` says so, search refuses in one line,
`reindex` (and `reindex --full`) rebuilds it. Real `paperfeed` processes (with the tests'
instant embedder) over a real store whose index files are damaged by hand, each way the
probe of issue 14 found."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from .test_kill_recovery import assert_all_findable, assert_ok, cli, stats, word, write_papers

PAPERS = 300


def _empty_manifest(index: Path) -> None:
    (index / "manifest.json").write_text("")


def _cut_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _garbage_in_segment(index: Path) -> None:
    segment = next((index / "lexical").glob("*.store"))
    data = bytearray(segment.read_bytes())
    data[16:-16] = b"\x5a" * (len(data) - 32)
    segment.write_bytes(bytes(data))


def _delete_positions(index: Path) -> None:  # tantivy notices only when it reads
    next((index / "lexical").glob("*.pos")).unlink()


DAMAGE: dict[str, Callable[[Path], None]] = {
    "emptied manifest": _empty_manifest,
    "truncated rows": lambda index: _cut_half(index / "rows.i64"),
    "truncated vectors": lambda index: _cut_half(index / "vectors.f16"),
    "corrupt tantivy segment": _garbage_in_segment,
    "deleted tantivy positions": _delete_positions,
    "deleted lexical meta.json": lambda index: (index / "lexical" / "meta.json").unlink(),
}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("damage-template")
    data_dir = folder / "data"
    data_dir.mkdir()
    assert_ok(cli(data_dir, "ingest", str(write_papers(folder / "p.jsonl", range(PAPERS)))))
    return data_dir


# Every damage with `reindex`; `reindex --full`, which also died on these, with two.
CASES = [(how, ["reindex"]) for how in sorted(DAMAGE)] + [
    (how, ["reindex", "--full"]) for how in ("emptied manifest", "truncated rows")]


@pytest.mark.parametrize(("how", "rebuild"), CASES)
def test_damaged_index_is_reported_then_rebuilt(indexed: Path, tmp_path: Path, how: str,
                                                rebuild: list[str]) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(indexed, data_dir)
    DAMAGE[how](data_dir / "index")

    facts = stats(data_dir)["index"]
    assert isinstance(facts, dict)
    assert facts["damaged"], facts
    assert facts["pending"] == PAPERS
    table = cli(data_dir, "stats")
    assert_ok(table)
    assert "index damaged" in table.stdout

    for mode in ("lexical", "hybrid"):
        search = cli(data_dir, "search", word(3), "--mode", mode)
        assert search.returncode == 8, search.stdout + search.stderr
        assert "Traceback" not in search.stderr
        lines = search.stderr.strip().splitlines()
        assert len(lines) == 1 and "damaged" in lines[0] and "reindex" in lines[0], lines

    again = cli(data_dir, *rebuild)
    assert_ok(again)
    if rebuild == ["reindex"]:
        assert "damaged" in again.stdout and "rebuilding" in again.stdout
    assert f"{PAPERS} papers indexed" in again.stdout
    assert_all_findable(data_dir, range(PAPERS))
    assert stats(data_dir)["index"]["damaged"] is None  # type: ignore[index]
