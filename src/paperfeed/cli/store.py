"""`paperfeed store ...`: the database itself; `copy` moves a whole store into another one.

A thin layer over `paperfeed.store.copy`. The source is the store every command uses (the
data folder's SQLite file, or PAPERFEED_DATABASE_URL); the target is `--to`.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from paperfeed.cli.common import console, handle_errors, state
from paperfeed.store import Store
from paperfeed.store.copy import copy_store

store_app = typer.Typer(help="The database: copy a whole store into another one.",
                        no_args_is_help=True)


@store_app.command("copy")
@handle_errors
def copy(
    to: Annotated[str, typer.Option(
        "--to", help="The target database, e.g. postgresql://user@host/paperfeed (made "
                     "current by its migrations first).")],
    replace: Annotated[bool, typer.Option(
        "--replace", help="Delete what the target holds first (refused otherwise).")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, max=100_000,
                                            help="Rows per insert.")] = 5000,
) -> None:
    """Copy every table of this store (papers, accounts, ratings, cards, votes, digests...)
    into the database at --to, in one transaction, then compare the row counts of every
    table. Exits 4 when they differ or the target is not empty."""
    with Store(state.data_dir) as source, Store(source.data_dir, url=to) as target:
        console.print(f"copying {escape(source.url)} -> {escape(target.url)}",
                      highlight=False, soft_wrap=True)
        counts = copy_store(source, target, replace=replace, batch_size=batch_size)
    table = Table("table", "source", "target")
    for count in counts:
        table.add_row(count.table, f"{count.source:,}", f"{count.target:,}")
    console.print(table)
    console.print(f"copied {sum(c.target for c in counts):,} rows in {len(counts)} "
                  "tables; every count equal")
