"""A throwaway PostgreSQL server for tests and benchmarks, and the fixtures that use it.

`PgServer` runs Debian's PostgreSQL binaries (initdb, pg_ctl) on a temporary folder that
it owns: a unix socket in that folder (no TCP port to collide on), fsync off (a test
server has nothing to keep after a crash). initdb and postgres refuse to run as root, so
when this process is root they run as the unprivileged `postgres` user (Debian's package
makes it) on a folder chowned to it.

Fixtures (loaded as a plugin by tests/conftest.py):
  `pg_server`  the session's server, started on first use and stopped at the end;
  `pg_url`     a fresh, empty database on it for one test;
  `db_kind`    "sqlite" or "postgresql", session-scoped: a suite's session fixtures depend
               on it to build their corpus once per database (`new_database`);
  `database`   sets PAPERFEED_DATABASE_URL to a fresh database of the test's kind, so every
               Store it opens uses it. A suite's conftest makes it autouse to run the whole
               suite on both;
  `fresh_database`  a new empty database per call, for tests that make many stores.
Tests marked `sqlite_only` get no PostgreSQL run (deselected, never skipped).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The lowest version first would be a surprise: the newest installed one is what runs.
PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
PG_USER = "postgres"
_names = itertools.count()


def pg_bin_dir() -> Path | None:
    """The folder holding initdb and pg_ctl, or None when PostgreSQL is not installed."""
    for folder in PG_BIN_DIRS:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


class PgServer:
    """A PostgreSQL server in a temporary folder, reached over a unix socket in it."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        # Not under pytest's tmp folders: those are root-only, and the server may run as
        # `postgres`, which must reach its folder.
        self.root = Path(tempfile.mkdtemp(prefix="paperfeed-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root
        self.as_user: list[str] = []
        if os.getuid() == 0:
            try:
                pwd.getpwnam(PG_USER)
            except KeyError as exc:
                raise RuntimeError(f"running as root, and there is no `{PG_USER}` user to "
                                   "run PostgreSQL as (initdb refuses root)") from exc
            shutil.chown(self.root, PG_USER, PG_USER)
            self.as_user = ["runuser", "-u", PG_USER, "--"]

    def _run(self, tool: str, *args: str) -> None:
        cmd = [*self.as_user, str(self.bin_dir / tool), *args]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): "
                               f"{done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> PgServer:
        self._run("initdb", "-D", str(self.data), "-U", PG_USER, "--auth=trust",
                  "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync")
        options = (f"-k {self.socket_dir} -c listen_addresses='' -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"),
                  "-o", options, "-w", "-t", "60", "start")
        return self

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PgServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def url(self, database: str = "postgres") -> str:
        """A `postgresql://` URL, as a user would write it (the store picks psycopg)."""
        return f"postgresql://{PG_USER}@/{database}?host={self.socket_dir}"

    def create_database(self, template: str | None = None) -> str:
        """A new database, empty or a copy of the database `template` names (which nobody
        may be connected to); its URL."""
        import psycopg
        from sqlalchemy.engine import make_url

        name = f"t{os.getpid()}_{next(_names)}"
        source = make_url(template).database if template else "template0"
        with psycopg.connect(host=str(self.socket_dir), user=PG_USER, dbname="postgres",
                             autocommit=True) as conn:
            # FILE_COPY: copying the template's files beats WAL-logging them, fsync being off.
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}" STRATEGY FILE_COPY')
        return self.url(name)


def read_rows(data_dir: Path, sql: str) -> list[tuple[Any, ...]]:
    """The rows of `sql` read straight from the database a store in `data_dir` uses now
    (PAPERFEED_DATABASE_URL, else the SQLite file), on a connection of its own."""
    from sqlalchemy import create_engine, text

    from paperfeed.store.store import DB_FILE, database_url

    engine = create_engine(database_url() or f"sqlite:///{data_dir / DB_FILE}")
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (no initdb/pg_ctl; scripts/setup.sh installs "
                    "Debian's `postgresql` package as root): the PostgreSQL runs are skipped")
    with PgServer(bin_dir) as server:
        yield server


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    return pg_server.create_database()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_kind(request: pytest.FixtureRequest) -> str:
    """The database a test runs on. Session-scoped, so that a suite's session fixtures (a
    corpus built once) are built once per database, and the tests grouped by it."""
    if request.param == "postgresql":
        request.getfixturevalue("pg_server")  # skips, saying why, when not installed
    return str(request.param)


def new_database(db_kind: str, request: pytest.FixtureRequest,
                 template: str | None = None) -> str | None:
    """A new database of `db_kind` (a copy of the database `template` names when given):
    its URL, or None for SQLite, whose database is the file in the data folder."""
    if db_kind == "sqlite":
        return None
    server: PgServer = request.getfixturevalue("pg_server")
    return server.create_database(template=template)


def use_database(monkeypatch: pytest.MonkeyPatch, url: str | None) -> None:
    """Every Store the test opens without a URL uses `url` (None: SQLite in its folder)."""
    if url is None:
        monkeypatch.delenv("PAPERFEED_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("PAPERFEED_DATABASE_URL", url)


@pytest.fixture
def database(db_kind: str, request: pytest.FixtureRequest,
             monkeypatch: pytest.MonkeyPatch) -> str:
    """Which database the test's stores use; for PostgreSQL, a fresh one for this test."""
    use_database(monkeypatch, new_database(db_kind, request))
    return db_kind


@pytest.fixture
def fresh_database(db_kind: str, request: pytest.FixtureRequest) -> Callable[[], str | None]:
    """For a test that makes many stores (hypothesis examples): each call gives the URL of
    a new empty database on the test's kind, None for SQLite (a new folder is new)."""
    return lambda: new_database(db_kind, request)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `sqlite_only` (about the SQLite file itself) get no PostgreSQL run:
    deselected, not skipped, since a skip fails CI."""
    dropped = [item for item in items if item.get_closest_marker("sqlite_only")
               and getattr(item, "callspec", None) is not None
               and item.callspec.params.get("db_kind") == "postgresql"]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in set(dropped)]
