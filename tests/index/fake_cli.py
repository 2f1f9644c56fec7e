"""The real `paperfeed` command with the tests' instant embedder, killed on request.

Run as `python -m tests.index.fake_cli --data-dir D reindex`. With
`PAPERFEED_TEST_KILL_AT=<point>:<n>` the process SIGKILLs itself the n-th time it
reaches <point>: "encode" (before embedding a batch), "lexical_commit" (before a
tantivy commit), "manifest" (before a manifest write) or "after_manifest" (right
after one). With `PAPERFEED_TEST_HOLD=<folder>` the first batch writes
<folder>/started and waits until <folder>/release exists: a writer caught mid-run.
"""

from __future__ import annotations

import functools
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from paperfeed.catalog import Catalog
from paperfeed.cli.app import app
from paperfeed.index.lexical import LexicalIndex
from paperfeed.index.paper_index import PaperIndex
from tests.index.conftest import FakeEmbedder


def _wrap(owner: type, name: str, before: Callable[[], None] | None = None,
          after: Callable[[], None] | None = None) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if before:
            before()
        result = original(*args, **kwargs)
        if after:
            after()
        return result

    setattr(owner, name, wrapped)


def _arm_kill(spec: str) -> None:
    point, _, nth = spec.partition(":")
    seen = [0]

    def hit() -> None:
        seen[0] += 1
        if seen[0] == int(nth):
            os.kill(os.getpid(), signal.SIGKILL)

    places = {"encode": (FakeEmbedder, "encode", hit, None),
              "lexical_commit": (LexicalIndex, "commit", hit, None),
              "manifest": (PaperIndex, "_write_manifest", hit, None),
              "after_manifest": (PaperIndex, "_write_manifest", None, hit)}
    owner, name, before, after = places[point]
    _wrap(owner, name, before, after)


def _arm_hold(folder: Path) -> None:
    held = [False]

    def hold() -> None:
        if held[0]:
            return
        held[0] = True
        (folder / "started").touch()
        while not (folder / "release").exists():
            time.sleep(0.05)

    _wrap(FakeEmbedder, "encode", hold)


def main() -> None:
    Catalog._load_embedder = lambda self: FakeEmbedder()  # type: ignore[method-assign]
    if spec := os.environ.get("PAPERFEED_TEST_KILL_AT"):
        _arm_kill(spec)
    if hold := os.environ.get("PAPERFEED_TEST_HOLD"):
        _arm_hold(Path(hold))
    app()


if __name__ == "__main__":
    main()
