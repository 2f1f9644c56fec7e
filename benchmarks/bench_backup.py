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


def measure_backup(data_dir: Path, tmp: Path, *, restore_too: bool = False
                   ) -> dict[str, object]:
    """Back up `data_dir` (opened read-only) into a new folder under `tmp`, time each part
    (and a restore with `restore_too`), measure the sizes, delete it all; the figures."""
    work = Path(tempfile.mkdtemp(prefix="bench-backup-", dir=tmp))
    times: dict[str, float] = {}
    sidecars = [data_dir / f"paperfeed.sqlite{end}" for end in ("-wal", "-shm")]
    made = [p for p in sidecars if not p.exists()]
    try:
        with Store(data_dir, read_only=True) as store:
            papers, on_disk = store.count(), _size(data_dir)
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
        sizes = {"database": (backup / "paperfeed.sqlite").stat().st_size,
                 "index": _size(backup / "index"), "total": _size(backup)}
        if restore_too:
            with timed("restore total (verify + copy + count)", times):
                restore(backup, work / "restored")
        return {"papers": papers, "source_bytes": on_disk, "backed_up": info["store"]["papers"],
                "generation": info["index"]["generation"], "files": len(info["files"]),
                "seconds": times, "bytes": sizes}
    finally:
        shutil.rmtree(work, ignore_errors=True)
        wal = sidecars[0]
        if made == sidecars and wal.exists() and wal.stat().st_size == 0:
            for path in made:
                path.unlink(missing_ok=True)


def report(figures: dict[str, object]) -> None:
    seconds = figures["seconds"]
    sizes = figures["bytes"]
    assert isinstance(seconds, dict) and isinstance(sizes, dict)
    print(f"backup of {figures['backed_up']:,} papers ({figures['source_bytes'] / 1e6:,.0f} MB "
          f"on disk), index generation {figures['generation']}, {figures['files']} files")
    for label, value in seconds.items():
        print(f"  {label:<40} {value:8.2f} s")
    for label, size in sizes.items():
        print(f"  size {label:<35} {size / 1e6:8.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--tmp", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--restore", action="store_true", help="Also time a restore.")
    args = parser.parse_args()
    report(measure_backup(args.data_dir, args.tmp, restore_too=args.restore))


if __name__ == "__main__":
    main()
