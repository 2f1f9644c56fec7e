"""One writer of the search index at a time, across processes.

Owns the lock a catch-up holds while it writes the index (`paperfeed ingest`, `harvest`,
`reindex`, the server's import job): an OS file lock (filelock), so a killed holder
frees it at once. A second writer says once that it waits, then waits up to
`PAPERFEED_INDEX_WAIT` seconds (default an hour) and refuses with one line after that.
The lock file lives beside the index folder, not in it: a rebuild empties that folder.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from paperfeed.errors import PaperfeedError

__all__ = ["LOCK_FILE", "IndexBusyError", "index_writer", "wait_seconds"]

LOCK_FILE = "index.writer.lock"
DEFAULT_WAIT = 3600.0


class IndexBusyError(PaperfeedError):
    """Another process kept the index's writer lock for longer than this one waits."""


def wait_seconds() -> float:
    """`PAPERFEED_INDEX_WAIT` (seconds) or the default; a bad value is an error."""
    raw = os.environ.get("PAPERFEED_INDEX_WAIT", "").strip()
    if not raw:
        return DEFAULT_WAIT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        raise PaperfeedError(f"PAPERFEED_INDEX_WAIT={raw!r}: expected a number of seconds >= 0")
    return value


@contextlib.contextmanager
def index_writer(data_dir: Path, on_wait: Callable[[str], None]) -> Iterator[None]:
    """Hold the data folder's index writer lock for the block; `on_wait` hears, once,
    that another process has it and this one waits."""
    path = data_dir / LOCK_FILE
    lock = FileLock(path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        wait = wait_seconds()
        on_wait(f"another paperfeed process is writing the search index; waiting for it "
                f"(up to {wait:g} s, PAPERFEED_INDEX_WAIT)")
        try:
            lock.acquire(timeout=wait)
        except Timeout:
            raise IndexBusyError(
                f"another paperfeed process kept the search index busy for {wait:g} s "
                f"({path}); run this again when it has finished") from None
    try:
        yield
    finally:
        lock.release()
