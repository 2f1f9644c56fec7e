"""`paperfeed cards ...`: build, train and browse system cards from the command line.

A thin layer over `paperfeed.cards` and `Catalog`: `build` brings every card up
to date (ingest and reindex also do it), `train` fits the task/dataset tagger on
annotated data, `datasets` / `tasks` list the most named ones. The papers naming
one, with their figures, are a search away: `paperfeed search 'dataset:LaSOT'`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from paperfeed.catalog import Catalog
from paperfeed.cli.common import console, handle_errors, open_catalog

cards_app = typer.Typer(
    help="System cards: what each paper proposes, its tasks, datasets, results and code.",
    no_args_is_help=True,
)


@cards_app.command("build")
@handle_errors
def build(
    workers: Annotated[int | None, typer.Option("--workers", min=1, max=64,
                                                help="Processes (default: up to 2).")] = None,
) -> None:
    """Extract the card of every paper that has none or an outdated one (resumable)."""
    with open_catalog(writing="cards build") as catalog:
        n = update_cards(catalog, console, workers=workers)
        console.print(f"{n} cards extracted; {catalog.cards.count()} papers have a card "
                      f"(version {catalog.card_maker.version}, tagger: "
                      f"{escape(str(catalog.card_maker.path or 'none, rules only'))}).")


def update_cards(catalog: Catalog, out: Console, *, workers: int | None = None) -> int:
    """Bring cards up to date with a progress bar; returns how many were extracted."""
    from paperfeed.application import update_cards as catch_up_cards
    from paperfeed.cli.render import RichProgress

    return catch_up_cards(catalog, RichProgress(out), workers=workers)


@cards_app.command("train")
@handle_errors
def train(
    data: Annotated[Path | None, typer.Option(
        "--data", file_okay=False,
        help="Folder with scierc/ and nlp-tdms-tdmsci/ (default: ../shared/data).")] = None,
) -> None:
    """Train the task/dataset tagger on annotated abstracts; cards are then rebuilt with it."""
    from paperfeed.cards.build import default_tagger_path
    from paperfeed.cards.tagger import train_default

    folder = data or shared_data()
    if folder is None:
        raise typer.BadParameter("no ../shared/data found; give --data DIR",
                                 param_hint="--data")
    with open_catalog(writing="cards train") as catalog:
        out = default_tagger_path(catalog.store)
        out.parent.mkdir(parents=True, exist_ok=True)
        with console.status("training the tagger"):
            figures = train_default(folder, out)
        catalog.reset_card_maker()
        console.print(f"tagger written to {escape(str(out))}: "
                      + ", ".join(f"{k} {v}" for k, v in figures.items()))
        console.print("Run `paperfeed cards build` to refresh the cards with it.")


def shared_data(part: str = "scierc") -> Path | None:
    """../shared/data beside the working directory or the checkout, if it holds `part`."""
    here = Path(__file__).resolve()
    for base in (Path.cwd(), *here.parents):
        candidate = base.parent / "shared" / "data"
        if (candidate / part).is_dir():
            return candidate
    return None


@handle_errors
def _facet_table(facet: str, prefix: str, limit: int) -> None:
    with open_catalog() as catalog:
        rows = catalog.cards.top(facet, limit=limit, prefix=prefix)
    table = Table(facet, "papers")
    for row in rows:
        table.add_row(escape(row.value), str(row.papers))
    console.print(table)


@cards_app.command("datasets")
def datasets(
    prefix: Annotated[str, typer.Argument(help="Only names starting with this.")] = "",
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 40,
) -> None:
    """The datasets and benchmarks named by most papers."""
    _facet_table("dataset", prefix, limit)


@cards_app.command("tasks")
def tasks(
    prefix: Annotated[str, typer.Argument(help="Only tasks starting with this.")] = "",
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 40,
) -> None:
    """The tasks named by most papers."""
    _facet_table("task", prefix, limit)
