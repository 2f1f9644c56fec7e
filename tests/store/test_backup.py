"""The store's part of a backup (store/backup.py), in process, on SQLite and PostgreSQL.

Every table's rows come back after a backup and a restore (into a new database of the
same kind: PostgreSQL's rows travel as a SQLite file); the snapshot is of one moment even
when a write commits right after it; a backup that fails midway leaves nothing that
looks like a backup.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from paperfeed.application.backup import back_up, restore
from paperfeed.records import PaperRecord
from paperfeed.store import Store
from paperfeed.store.backup import BackupError, BackupFolder, read_backup
from paperfeed.store.copy import row_counts
from paperfeed.store.store import DB_FILE
from tests.pg import new_database, use_database


def papers(n: int, start: int = 0) -> list[PaperRecord]:
    return [PaperRecord(title=f"Paper number {i} on backups", abstract=f"About {i} things.",
                        arxiv_id=f"2401.{i:05d}") for i in range(start, start + n)]


def counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return row_counts(conn)


def test_backup_then_restore_brings_back_every_row(
        tmp_path: Path, db_kind: str, request: pytest.FixtureRequest,
        monkeypatch: pytest.MonkeyPatch) -> None:
    with Store(tmp_path / "source") as store:
        store.add_papers(papers(50))
        key = store.secret_key()
        expected = counts(store)
        info = back_up(store, tmp_path / "backup", lambda message: None)
        store.add_papers(papers(5, start=50))  # after the snapshot: not in the backup
        assert info["store"]["source"] == store.engine.dialect.name
    assert info["store"]["papers"] == 50 and info["store"]["revision"] == 1
    assert info["store"]["tables"] == expected
    assert {DB_FILE, "secret_key"} <= set(info["files"])
    use_database(monkeypatch, new_database(db_kind, request))  # an empty one to restore into
    report = restore(tmp_path / "backup", tmp_path / "restored")
    assert report.papers == 50 and report.revision == 1
    with Store(tmp_path / "restored") as restored:
        got = counts(restored)
        assert restored.secret_key() == key
        assert restored.find("2401.00049") is not None and restored.find("2401.00050") is None
    assert got == expected and got["papers"] == 50
    # PostgreSQL's rows went into its database, not into a file in the folder.
    assert (tmp_path / "restored" / DB_FILE).exists() == (db_kind == "sqlite")


def test_a_backup_that_fails_midway_leaves_nothing(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(self: BackupFolder, store: Store) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(BackupFolder, "copy_keys_and_mail", fail)
    with Store(tmp_path / "source") as store:
        store.add_papers(papers(3))
        with pytest.raises(OSError, match="disk full"):
            back_up(store, tmp_path / "backup", lambda message: None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source"]


def test_a_backup_without_its_manifest_is_not_a_backup(tmp_path: Path) -> None:
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / DB_FILE).write_bytes(b"")
    with pytest.raises(BackupError, match=r"backup\.json is missing"):
        read_backup(tmp_path / "half")


@pytest.mark.sqlite_only  # about index folders; the database part is tested above on both
def test_a_backup_copies_the_index_generation_in_use(tmp_path: Path) -> None:
    """After a full rebuild the index lives in `indexes/gen-<n>/`: the backup copies that
    folder (not an old or missing `index/`), and the restored store searches it."""
    from paperfeed.application import catch_up
    from paperfeed.catalog import Catalog
    from tests.index.conftest import FakeEmbedder

    with Catalog(tmp_path / "source", embedder=FakeEmbedder()) as catalog:
        catalog.ingest_records(papers(30))
        catch_up(catalog, card_workers=1)
        catch_up(catalog, full=True, card_workers=1)
        in_use = catalog.store.index_dir()
        assert in_use.parent.name == "indexes"  # the rebuild switched generations
        expected = [r.paper.record.arxiv_id for r in catalog.search("number 17", k=3)]
        info = back_up(catalog.store, tmp_path / "backup", lambda message: None)
    assert info["index"]["papers"] == 30
    restore(tmp_path / "backup", tmp_path / "restored")
    with Catalog(tmp_path / "restored", embedder=FakeEmbedder()) as restored:
        assert restored.pending() == 0 and len(restored.index) == 30
        assert [r.paper.record.arxiv_id for r in restored.search("number 17", k=3)] == expected
