"""`paperfeed serve --workers N` with the tests' instant embedder in every worker process.

Run as `python -m tests.web.fake_serve --data-dir D serve --workers 2`. The workers are
spawned processes (`web.server.serve_workers`), which import their target afresh: the
patch of `tests.index.fake_cli` in the parent would not reach them, so the target is
swapped for `worker` below, which patches the embedder in the child before serving.
"""

from __future__ import annotations

from typing import Any

from paperfeed.catalog import Catalog
from paperfeed.web import server
from tests.index import fake_cli
from tests.index.conftest import FakeEmbedder

_serve_one = server._worker


def worker(host: str, port: int, data_dir: str, *rest: Any) -> None:
    """One web worker process, embedding with the instant embedder."""
    Catalog._load_embedder = lambda self: FakeEmbedder()  # type: ignore[method-assign]
    _serve_one(host, port, data_dir, *rest)


def main() -> None:
    server._worker = worker
    fake_cli.main()


if __name__ == "__main__":
    main()
