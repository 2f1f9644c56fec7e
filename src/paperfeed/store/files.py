"""Writing the data folder's files whole or not at all: the one atomic write.

Owns how a file in the data folder (a manifest, an index part, the secret key, a
model) is replaced: the new content goes to a temporary file in the same folder, is
flushed to disk, renamed over the old file, and the folder itself is flushed so the
rename survives a power cut. A reader sees the old file or the new one, never a
mixture; a failure leaves the old file and no temporary file behind.

`atomic_write` takes the bytes; where a library writes the file itself (usearch's
`save`, crfsuite's `train`), `temp_path` gives it a temporary name to write and
`atomic_replace` puts the result in place. An append-only file (the index's row map)
grows by `append_durably`, and a small JSON file (a manifest, a sidecar) is read by
`read_json`. Formats that a library reads itself (tantivy's folder, usearch's graph,
numpy's arrays, the ONNX model) are opened by that library at a path the store gives
(`Store.subdir`). Imports nothing of paperfeed.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_MODE", "append_durably", "atomic_replace", "atomic_write", "read_json", "temp_path",
]

# What the other files of the data folder get: readable by other users (a server
# running as another account), writable by the owner. The secret key asks for 0o600.
DEFAULT_MODE = 0o644


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_replace(tmp: Path | str, path: Path | str) -> None:
    """Put the finished file `tmp` in place of `path` (same folder), durably: `tmp` is
    flushed to disk before the rename, the folder after it."""
    tmp, path = Path(tmp), Path(path)
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_folder(path.parent)


@contextlib.contextmanager
def temp_path(path: Path | str, *, mode: int | None = None) -> Iterator[Path]:
    """A fresh temporary file beside `path` for a library to write; put in place of
    `path` (with `mode`, DEFAULT_MODE when None) when the block ends normally, removed
    when it raises."""
    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, DEFAULT_MODE if mode is None else mode)
        atomic_replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(path: Path | str, data: bytes | str, *, mode: int | None = None,
                 overwrite: bool = True) -> bool:
    """Write `data` (str as UTF-8) as the whole content of `path`, atomically.

    `mode` is the file's permission bits (DEFAULT_MODE when None; 0o600 for a secret:
    the temporary file is owner-only from its creation, so the secret is never readable
    by others even for a moment). With `overwrite=False` an existing file is kept and
    False returned: of two processes making the same file at once, the first wins and
    both then read the same content."""
    path = Path(path)
    content = data.encode("utf-8") if isinstance(data, str) else data
    # mkstemp: a unique name per call (threads and processes too), created 0o600.
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fchmod(handle.fileno(), DEFAULT_MODE if mode is None else mode)
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails when the file exists: never replaced
            except FileExistsError:
                return False
        _fsync_folder(path.parent)
        return True
    finally:
        tmp.unlink(missing_ok=True)


def append_durably(path: Path | str, data: bytes, *, keep: int) -> None:
    """Cut `path` to its first `keep` bytes (a torn earlier append), add `data`, and flush
    it to disk before returning: the file only ever grows by whole, durable records."""
    with Path(path).open("ab") as handle:
        handle.truncate(keep)
        handle.seek(keep)
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def read_json(path: Path | str) -> Any:
    """The JSON value in `path` (UTF-8); OSError or ValueError as `json` raises them."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
