"""The tests' `paperfeed` (instant embedder, tests/index/fake_cli.py) whose index writes
can be held: with `PAPERFEED_TEST_HOLD_INDEX=<folder>` the first batch written writes
<folder>/started and waits until <folder>/release exists. A server's background
catch-up caught midway, while its search answers are partial."""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path
from typing import Any

from paperfeed.index.paper_index import PaperIndex
from tests.index import fake_cli


def _hold_first_batch(folder: Path) -> None:
    original = PaperIndex._add_batch
    held = [False]

    @functools.wraps(original)
    def held_batch(self: PaperIndex, *args: Any, **kwargs: Any) -> int:
        if not held[0]:
            held[0] = True
            (folder / "started").touch()
            while not (folder / "release").exists():
                time.sleep(0.05)
        return original(self, *args, **kwargs)

    PaperIndex._add_batch = held_batch  # type: ignore[method-assign]


def main() -> None:
    if hold := os.environ.get("PAPERFEED_TEST_HOLD_INDEX"):
        _hold_first_batch(Path(hold))
    fake_cli.main()


if __name__ == "__main__":
    main()
