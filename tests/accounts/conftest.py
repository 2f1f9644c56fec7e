"""The accounts of a fresh store, shared by the accounts tests: each test runs on SQLite
and on a real PostgreSQL server (tests/pg.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from paperfeed.accounts import Accounts
from paperfeed.store import Store


@pytest.fixture(autouse=True)
def _on_each_database(database: str) -> str:
    return database


@pytest.fixture
def accounts(data_dir: Path) -> Iterator[Accounts]:
    with Store(data_dir) as store:
        yield Accounts(store)
