"""What every `paperfeed` command runs with: the consoles, the global options, errors
turned into one line and an exit code (`handle_errors`, `ExitCode`), the catalog of the
data folder (`open_catalog`) and JSON output (`emit_json`).

Its own module so that app.py and the sub-command modules (account, cards, digest) all
import it at their top, and none of them imports another's.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import IntEnum
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from paperfeed.catalog import Catalog, PaperNotFoundError
from paperfeed.cli.terminal import SafeConsole, json_text
from paperfeed.errors import (
    HarvestError,
    IndexStaleError,
    ModelUnavailableError,
    PaperfeedError,
    SourceError,
    StoreError,
)


class ExitCode(IntEnum):
    """The exit status of each kind of failure: scripts tell them apart."""

    OK = 0
    ERROR = 1
    USAGE = 2
    BAD_INPUT = 3
    STORE = 4
    HARVEST = 5
    MODEL = 6
    NOT_FOUND = 7
    STALE_INDEX = 8


_EXIT_FOR: list[tuple[type[PaperfeedError], ExitCode]] = [
    (SourceError, ExitCode.BAD_INPUT),
    (StoreError, ExitCode.STORE),
    (HarvestError, ExitCode.HARVEST),
    (ModelUnavailableError, ExitCode.MODEL),
    (PaperNotFoundError, ExitCode.NOT_FOUND),
    (IndexStaleError, ExitCode.STALE_INDEX),
]

# Everything printed goes through SafeConsole: stored text never reaches the terminal with
# its control characters (cli/terminal.py).
console: Console = SafeConsole()
err_console: Console = SafeConsole(stderr=True)


class _State:
    """The global options (`--data-dir`, `--debug`), set by app.py's callback."""

    data_dir: Path | None = None
    debug: bool = False


state = _State()

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(func: F) -> F:
    """Turn paperfeed's errors into one readable line and a distinct exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PaperfeedError as exc:
            if state.debug:
                raise
            code = next((c for t, c in _EXIT_FOR if isinstance(exc, t)), ExitCode.ERROR)
            # soft_wrap: one line, however wide the terminal, for scripts and logs.
            err_console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(int(code)) from None
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted[/yellow]: what was committed stays stored; "
                              "run the command again to continue")
            raise typer.Exit(130) from None
        except OSError as exc:
            if state.debug:
                raise
            err_console.print(f"[red]error:[/red] {escape(str(exc))}")
            raise typer.Exit(int(ExitCode.ERROR)) from None

    return wrapper  # type: ignore[return-value]


def open_catalog(writing: str | None = None) -> Catalog:
    """The catalog of the data folder. A command that writes names itself in `writing`:
    on a folder this process may only read, it then stops here with one clear line."""
    catalog = Catalog(state.data_dir)
    if writing and catalog.store.read_only:
        catalog.close()
        raise catalog.store.read_only_error(writing)
    return catalog


def emit_json(value: Any) -> None:
    """`value` as one JSON document on standard output (`--json`)."""
    sys.stdout.write(json_text(value) + "\n")


