"""Backup (and restore) time and size of a data folder.

What it measures
    `application.backup.back_up` of the store in --data-dir into a new folder under --tmp:
    the wall time of the whole backup and of its parts (index copy under the writer lock,
    database snapshot, key/outbox/model fingerprints, sha256 manifest), the backup's size
    and its largest parts. With --restore, also `restore` of that backup into a new data
    folder (sha256 check of every file, copy, count check). Both are deleted afterwards.

    The source store is opened read-only (`Store(read_only=True)`): a backup only reads,
    and a benchmark must not write to someone's store (not even a schema upgrade). SQLite
    still makes an empty -wal and a -shm file beside a WAL database it reads, and a
    read-only connection cannot remove them: the benchmark removes those it made. The
    index writer lock is taken as `paperfeed backup` takes it.

How to run
        PYTHONPATH=src .venv/bin/python benchmarks/bench_backup.py \
            --data-dir ~/.local/share/paperfeed --restore
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from paperfeed.application.backup import restore
from paperfeed.index.writer_lock import index_writer
from paperfeed.store import Store
from paperfeed.store.backup import new_backup


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


@contextmanager
def timed(label: str, times: dict[str, float]) -> Iterator[None]:
    start = time.perf_counter()
    yield
    times[label] = time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--tmp", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--restore", action="store_true", help="Also time a restore.")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-backup-", dir=args.tmp))
    times: dict[str, float] = {}
    sidecars = [args.data_dir / f"paperfeed.sqlite{end}" for end in ("-wal", "-shm")]
    made = [p for p in sidecars if not p.exists()]
    try:
        with Store(args.data_dir, read_only=True) as store:
            print(f"source {args.data_dir}: {store.count():,} papers, "
                  f"{_size(args.data_dir) / 1e6:,.0f} MB on disk")
            start = time.perf_counter()
            with new_backup(work / "backup") as folder:
                with timed("index copy (writer lock held)", times), index_writer(
                        store.data_dir, print):
                    folder.copy_index(store)
                with timed("database snapshot", times):
                    folder.snapshot_database(store)
                with timed("key, outbox, model fingerprints", times):
                    folder.copy_keys_and_mail(store)
                with timed("sha256 of every file + backup.json", times):
                    info = folder.finish()
            times["backup total"] = time.perf_counter() - start
        backup = work / "backup"
        parts = {"database": (backup / "paperfeed.sqlite").stat().st_size,
                 "index": _size(backup / "index"), "total": _size(backup)}
        if args.restore:
            with timed("restore total (verify + copy + count)", times):
                restore(backup, work / "restored")
        print(f"backup of {info['store']['papers']:,} papers, index generation "
              f"{info['index']['generation']}, {len(info['files'])} files")
        for label, value in times.items():
            print(f"  {label:<40} {value:8.2f} s")
        for label, size in parts.items():
            print(f"  size {label:<35} {size / 1e6:8.1f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        wal = sidecars[0]
        if made == sidecars and wal.exists() and wal.stat().st_size == 0:
            for path in made:
                path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
