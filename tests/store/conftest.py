"""Every store test runs on SQLite and on a real PostgreSQL server (tests/pg.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _on_each_database(database: str) -> str:
    return database
