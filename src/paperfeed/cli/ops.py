"""`paperfeed backup`, `restore` and `doctor`: a thin layer over application.backup and
application.doctor. Registered as top-level commands by app.py."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from paperfeed.cli.common import (
    ExitCode,
    console,
    emit_json,
    err_console,
    handle_errors,
    open_catalog,
    state,
)
from paperfeed.store import Store, default_data_dir
from paperfeed.store.backup import BackupError
from paperfeed.store.store import DB_FILE, database_url

if TYPE_CHECKING:
    from paperfeed.application.doctor import Check

__all__ = ["backup", "doctor", "restore"]


def _say(message: str) -> None:
    err_console.print(f"[yellow]{escape(message)}[/yellow]", soft_wrap=True)


@handle_errors
def backup(
    dest: Annotated[Path, typer.Argument(
        help="A new or empty folder for the backup (its parent must exist).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print backup.json.")] = False,
) -> None:
    """Back up the store while it runs: the database (one snapshot), the search index (at
    one generation), the secret key, the outbox and the models' fingerprints, with the
    sha256 of every file in backup.json. Written beside DEST and renamed into place."""
    from paperfeed.application.backup import back_up

    data_dir = state.data_dir or default_data_dir()
    if database_url() is None and not (data_dir / DB_FILE).is_file():
        raise BackupError(f"there is no store in {data_dir} to back up")
    with Store(data_dir) as store:
        info = back_up(store, dest.absolute(), _say)
    if as_json:
        emit_json(info)
        return
    index = info["index"]
    console.print(
        f"backed up {info['store']['papers']:,} papers (store revision "
        f"{info['store']['revision']}, index generation {index['generation']}) and "
        f"{len(info['files'])} files, {info['bytes'] / 1e6:,.1f} MB, to {escape(str(dest))}",
        highlight=False, soft_wrap=True)


@handle_errors
def restore(
    src: Annotated[Path, typer.Argument(help="A folder written by `paperfeed backup`.")],
) -> None:
    """Restore a backup into an empty data folder (--data-dir / PAPERFEED_DATA): every
    file is checked against its sha256 first. With PAPERFEED_DATABASE_URL set the rows go
    into that empty database. The next catch-up (`paperfeed reindex`, or the server's
    jobs) indexes any paper the backup's index did not hold yet."""
    from paperfeed.application.backup import restore as restore_backup

    data_dir = (state.data_dir or default_data_dir()).absolute()
    report = restore_backup(src, data_dir)
    console.print(f"restored {report.papers:,} papers (store revision {report.revision}, "
                  f"index generation {report.index_generation}) into {escape(str(data_dir))}",
                  highlight=False, soft_wrap=True)
    if report.pending:
        console.print(f"{report.pending:,} papers are not in the restored index yet: "
                      "`paperfeed reindex` (or the server's next catch-up) indexes them",
                      highlight=False, soft_wrap=True)


@handle_errors
def doctor(
    repair: Annotated[bool, typer.Option(
        "--repair", help="Rebuild what can be rebuilt from the store (index, cards, "
                         "vocabulary, a missing secret key), then check again.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
) -> None:
    """Check that the store, the search index and the cards agree; print a table of checks.
    Reads only, unless --repair. Exits 1 while a problem remains."""
    from paperfeed.application.doctor import diagnose
    from paperfeed.application.doctor import repair as repair_catalog
    from paperfeed.cli.render import RichProgress

    out = err_console if as_json else console
    with open_catalog(writing="doctor --repair" if repair else None) as catalog:
        checks = diagnose(catalog)
        if repair and not all(c.ok for c in checks):
            _show(checks, out, "found")
            repair_catalog(catalog, RichProgress(out), _say)
            checks = diagnose(catalog)
    if as_json:
        emit_json([{"check": c.name, "ok": c.ok, "problem": c.problem, "detail": c.detail}
                   for c in checks])
    else:
        _show(checks, console, "after repair" if repair else "")
    problems = [c for c in checks if not c.ok]
    if problems:
        err_console.print(f"[red]{len(problems)} problem(s)[/red]: "
                          + ", ".join(c.name for c in problems)
                          + ("" if repair else "; `paperfeed doctor --repair` rebuilds what "
                             "can be rebuilt"), soft_wrap=True)
        raise typer.Exit(int(ExitCode.ERROR))


def _show(checks: Sequence[Check], out: Console, title: str) -> None:
    table = Table("check", "status", "detail", title=title or None)
    for c in checks:
        table.add_row(c.name, "[green]ok[/green]" if c.ok else "[red]problem[/red]",
                      escape(c.problem or c.detail))
    out.print(table)
