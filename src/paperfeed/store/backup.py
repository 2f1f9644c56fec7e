"""The store's part of a backup and a restore: the data folder's files, copied whole.

Owns the layout of a backup folder and everything that opens files or the database
for it: the database snapshot (SQLite's online backup API, or for PostgreSQL one
`copy_store` into a SQLite file, itself one repeatable-read snapshot:
docs/decisions/backup.md), copies of the index folder, the secret key and the outbox,
the models' fingerprints, the sha256 of every file, and `backup.json`, written last.
A backup is made in a hidden temporary folder beside its destination and renamed into
place, so a killed backup never looks whole; a restore works the same way into the
data folder. The caller (application/backup.py) decides when to copy the index: this
module knows nothing of its writer lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperfeed.clock import utc_stamp
from paperfeed.errors import StoreError
from paperfeed.store.copy import copy_store, row_counts
from paperfeed.store.files import atomic_write, read_json
from paperfeed.store.store import DB_FILE, Store, database_url

__all__ = [
    "BACKUP_FORMAT", "MANIFEST", "BackupError", "BackupFolder", "check_destination",
    "current_index_folder", "read_backup", "restore_files", "snapshot_database",
]

BACKUP_FORMAT = 1
MANIFEST = "backup.json"
INDEX = "index"
SECRET_KEY = "secret_key"
OUTBOX = "outbox"
MODELS = "models"
_CHUNK = 1 << 20
SMALL_MODEL = 16 << 20  # model files up to this size are copied, larger ones fingerprinted


class BackupError(StoreError):
    """A backup cannot be made there, or a backup folder is not a whole, unchanged backup."""


def current_index_folder(store: Store) -> Path:
    """The folder holding the index readers use now (`indexes/gen-<n>/` after a full
    rebuild, `index/` before one): the one place a backup resolves it."""
    return store.index_dir()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _is_empty_folder(path: Path) -> bool:
    return path.is_dir() and not any(path.iterdir())


def check_destination(dest: Path, what: str) -> None:
    """Refuse a destination that holds something, or whose parent folder is missing."""
    if dest.exists() and not _is_empty_folder(dest):
        kind = "folder" if dest.is_dir() else "file"
        raise BackupError(f"{dest} is a {kind} that is not empty: {what} goes only into a "
                          "new or empty folder")
    if not dest.parent.is_dir():
        raise BackupError(f"cannot write {what} to {dest}: its parent folder {dest.parent} "
                          "does not exist")


@contextlib.contextmanager
def _building(dest: Path, what: str, mode: int) -> Iterator[Path]:
    """A hidden temporary folder beside `dest`, renamed to `dest` (with `mode`) when the
    block ends normally and removed when it raises (a kill leaves only the hidden folder)."""
    check_destination(dest, what)
    try:
        tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".partial"))
    except OSError as exc:
        raise BackupError(f"cannot write {what} beside {dest}: {exc}") from exc
    try:
        yield tmp
        os.chmod(tmp, mode)
        if dest.exists():
            dest.rmdir()  # empty (checked): the rename takes its place
        os.replace(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class BackupFolder:
    """A backup being written: files go in, `finish` writes backup.json and renames it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.info: dict[str, Any] = {"format": BACKUP_FORMAT}

    def snapshot_database(self, store: Store) -> dict[str, Any]:
        """The database as of one moment, as `paperfeed.sqlite`; its revision and counts."""
        info = snapshot_database(store, self.root / DB_FILE)
        self.info["store"] = info
        return info

    def copy_index(self, store: Store) -> dict[str, Any]:
        """The current index folder as it is now; the caller holds the index writer lock.
        Returns the manifest copied (empty when there is no index yet)."""
        source = current_index_folder(store)
        if source.is_dir():
            shutil.copytree(source, self.root / INDEX, symlinks=True)
        manifest_path = self.root / INDEX / "manifest.json"
        try:
            manifest: dict[str, Any] = read_json(manifest_path) if manifest_path.exists() else {}
        except (OSError, ValueError):
            manifest = {}  # a damaged index is copied as it is; doctor says so
        self.info["index"] = {
            "generation": manifest.get("generation"), "source_version":
            manifest.get("source_version"), "model_id": manifest.get("model_id"),
            "papers": (manifest.get("counts") or {}).get("papers")}
        return manifest

    def copy_keys_and_mail(self, store: Store) -> None:
        """The secret key (owner-only) and the outbox folder, when there are any; the
        models' fingerprints (name, size, sha256), and the files of those under
        SMALL_MODEL bytes (a trained card tagger): the ONNX export (about 90 MB) is made
        again from the Hugging Face model, and its fingerprint says whether it matches."""
        key = store.data_dir / SECRET_KEY
        self.info["secret_key"] = ("environment" if os.environ.get("PAPERFEED_SECRET_KEY")
                                   else "file" if key.is_file() else "none")
        if key.is_file():
            shutil.copy2(key, self.root / SECRET_KEY)
            os.chmod(self.root / SECRET_KEY, 0o600)
        outbox = store.data_dir / OUTBOX
        if outbox.is_dir():
            shutil.copytree(outbox, self.root / OUTBOX)
        models = store.data_dir / MODELS
        self.info["models"] = []
        for path in sorted(models.rglob("*")) if models.is_dir() else []:
            if not path.is_file() or path.name.startswith("."):
                continue  # a temporary file of an export in progress
            name, size = path.relative_to(models).as_posix(), path.stat().st_size
            copied = size <= SMALL_MODEL
            if copied:  # hashed as copied: a re-export may replace the original meanwhile
                (self.root / MODELS / name).parent.mkdir(parents=True, exist_ok=True)
                path = Path(shutil.copy2(path, self.root / MODELS / name))
            self.info["models"].append({"file": name, "bytes": size, "copied": copied,
                                        "sha256": sha256_of(path)})

    def finish(self) -> dict[str, Any]:
        """Hash every file and write backup.json (the backup's commit point)."""
        files = sorted(p for p in self.root.rglob("*") if p.is_file() and p.name != MANIFEST)
        self.info["created_at"] = utc_stamp()
        self.info["files"] = {p.relative_to(self.root).as_posix(): sha256_of(p) for p in files}
        self.info["bytes"] = sum(p.stat().st_size for p in files)
        atomic_write(self.root / MANIFEST, json.dumps(self.info, indent=2, sort_keys=True))
        return self.info


@contextlib.contextmanager
def new_backup(dest: Path) -> Iterator[BackupFolder]:
    """A backup written into a hidden folder beside `dest` and renamed to `dest` at the end."""
    with _building(dest, "a backup", 0o700) as tmp:  # it holds the secret key
        folder = BackupFolder(tmp)
        yield folder
        if "files" not in folder.info:
            folder.finish()


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def snapshot_database(store: Store, target: Path) -> dict[str, Any]:
    """Copy the store's database into the SQLite file `target` as of one moment.

    SQLite: the online backup API in one step (one read transaction: writers go on in
    WAL mode, and the copy is the database as of its start). PostgreSQL: every table by
    `copy_store`, read in one repeatable-read snapshot. Returns the revision and the
    row counts of the copy (what it holds, not what the store holds by now)."""
    if store.embedded:
        raw = store.engine.raw_connection()
        try:
            source = raw.driver_connection
            assert isinstance(source, sqlite3.Connection)
            copy = sqlite3.connect(target)
            try:
                source.backup(copy)
            finally:
                copy.close()
        except sqlite3.Error as exc:
            raise BackupError(f"cannot copy the database {store.url} to {target}: {exc}") from exc
        finally:
            raw.close()
    else:
        with Store(target.parent, url=_sqlite_url(target)) as copy_target:
            copy_store(store, copy_target)
    with Store(target.parent, url=_sqlite_url(target)) as copied:
        with copied.engine.connect() as conn:
            tables = row_counts(conn)
        return {"database": DB_FILE, "source": store.engine.dialect.name,
                "revision": copied.revision(), "papers": copied.count(), "tables": tables}


@dataclass(frozen=True)
class Backup:
    """A verified backup folder and what its backup.json says."""

    root: Path
    info: dict[str, Any]

    @property
    def papers(self) -> int:
        return int(self.info["store"]["papers"])


def read_backup(src: Path) -> Backup:
    """The backup in `src`, every file checked against backup.json's sha256 (and no file
    it names missing); BackupError naming the first one that is not as written."""
    manifest = src / MANIFEST
    if not manifest.is_file():
        raise BackupError(f"{src} is not a paperfeed backup: {MANIFEST} is missing (a "
                          "backup that did not finish has none)")
    try:
        info = read_json(manifest)
        files = info["files"]
        int(info["store"]["papers"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{manifest}: not a readable backup manifest ({exc})") from exc
    if info.get("format") != BACKUP_FORMAT:
        raise BackupError(f"{manifest}: backup format {info.get('format')!r}, this paperfeed "
                          f"reads format {BACKUP_FORMAT}")
    for name, digest in sorted(files.items()):
        path = src / name
        if not path.is_file():
            raise BackupError(f"{path}: missing from the backup ({MANIFEST} lists it)")
        if sha256_of(path) != digest:
            raise BackupError(f"{path}: its sha256 differs from the one in {MANIFEST}; the "
                              "backup was changed or damaged after it was written")
    return Backup(root=src, info=info)


def restore_files(backup: Backup, data_dir: Path) -> None:
    """Put the backup's database, index, secret key and outbox into `data_dir`, which must
    be new or empty. With PAPERFEED_DATABASE_URL set, the rows go into that (empty)
    database by `copy_store` and no SQLite file is left in the data folder."""
    url = database_url()
    if not data_dir.exists():
        try:
            data_dir.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BackupError(f"cannot make the data folder {data_dir}: {exc}") from exc
    with _building(data_dir, "a restore", 0o755) as tmp:
        for name in sorted(backup.info["files"]):
            if url is not None and name == DB_FILE:
                continue
            target = tmp / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(backup.root / name, target)
        if (tmp / SECRET_KEY).exists():
            os.chmod(tmp / SECRET_KEY, 0o600)
        if url is not None:
            with Store(backup.root, url=_sqlite_url(backup.root / DB_FILE),
                       read_only=True) as source, Store(tmp, url=url) as target_store:
                copy_store(source, target_store)
