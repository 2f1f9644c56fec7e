"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

import paperfeed.digest  # registers the digest models on Base
import paperfeed.feeds
import paperfeed.store.cards
import paperfeed.store.schedule  # noqa: F401 - registers the feed, card and job models on Base
from paperfeed.store import Store
from paperfeed.store.models import Base
from paperfeed.store.store import _MIGRATIONS, database_url


@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_migrated_store_matches_every_model(data_dir: Path) -> None:
    with Store(data_dir) as store, store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # SQLite reflects JSON as a generic type and expression indexes without their
    # expression; neither is a difference in the schema.
    real = [d for d in diff if not (isinstance(d, tuple) and d[0] in ("add_index", "remove_index")
                                    and getattr(d[1], "name", "") == "ix_papers_listed")]
    assert real == [], real


# Each migration's own tables: upgrading to it adds exactly these, downgrading removes them.
ADDED = {
    "0002": {"votes"},
    "0003": {"users", "api_tokens", "password_resets", "login_failures"},
    "0004": {"ratings", "library"},
    "0005": {"profile_papers", "follows", "seen_papers"},
    "0006": {"digest_settings", "digest_runs"},
    "0007": {"feed_tokens", "saved_searches"},
    "0008": {"cards", "card_facets"},
    "0009": {"rate_limits", "sessions", "pending_signups", "jobs", "field_origins"},
    "0010": {"job_leases", "job_runs"},
}


@pytest.mark.filterwarnings("ignore:.*expression-based index")
@pytest.mark.parametrize("revision", sorted(ADDED))
def test_each_migration_adds_its_tables_and_downgrades_cleanly(
        tmp_path: Path, revision: str, fresh_database: Callable[[], str | None]) -> None:
    engine = create_engine(database_url(fresh_database()) or
                           f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    previous = f"{int(revision) - 1:04d}"

    def migrate(step: Callable[[Config, str], None], target: str) -> set[str]:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            step(config, target)
        return set(inspect(engine).get_table_names())

    before = migrate(command.upgrade, previous)
    after = migrate(command.upgrade, revision)
    assert after - before == ADDED[revision]
    assert migrate(command.downgrade, previous) == before
    engine.dispose()
