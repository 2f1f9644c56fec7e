"""`paperfeed digest ...`: the email digest from the command line (cron runs `send`).

A thin layer over `paperfeed.application.digests` (which picks the pick source and
the mailer): it parses the options and prints the warnings and the report.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from paperfeed.application.digests import send_due_digests
from paperfeed.cli.common import console, emit_json, err_console, handle_errors, open_catalog

digest_app = typer.Typer(
    help="Email digests: send each user the papers picked for them, daily or weekly.",
    no_args_is_help=True,
)

_STYLE = {"sent": "green", "dry-run": "cyan", "empty": "dim", "skipped": "dim",
          "failed": "red"}


def _parse_now(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO date or time "
                                 "(2026-11-23 or 2026-11-23T07:00)", param_hint="--now") from None
    # A time without a zone is UTC, like the periods.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@digest_app.command("send")
@handle_errors
def send(
    dry_run: Annotated[Path | None, typer.Option(
        "--dry-run", metavar="DIR", file_okay=False,
        help="Write the messages as .eml files to DIR; send nothing, mark nothing seen.")] = None,
    base_url: Annotated[str, typer.Option(
        "--base-url", envvar="PAPERFEED_BASE_URL", metavar="URL",
        help="Where readers reach the web app, for the links in the message.")]
    = "http://127.0.0.1:8000",
    now: Annotated[str | None, typer.Option(
        "--now", metavar="ISO", help="Act as if it were this time (UTC unless it says).")]
    = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100,
                                       help="At most this many papers a digest.")] = 10,
    at_hour: Annotated[bool, typer.Option(
        "--at-hour", help="Only to users whose chosen local send hour has come today.")]
    = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Send the digests that are due: daily once a day, weekly once an ISO week (the
    user's own day and week, in their time zone; UTC by default).

    Safe to run often (from cron): a user gets one digest a period, a paper at most one
    digest. SMTP comes from PAPERFEED_SMTP_URL and PAPERFEED_MAIL_FROM; without a
    server the messages go to the outbox folder of the data directory.
    """
    when = _parse_now(now)
    with open_catalog(writing=None if dry_run else "digest send") as catalog:
        done = send_due_digests(catalog, base_url=base_url, now=when, dry_run_dir=dry_run,
                                limit=limit, at_hour=at_hour)
    for warning in done.warnings:
        err_console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    report = done.report
    if as_json:
        emit_json(report.as_dict())
    else:
        for o in report.outcomes:
            style = _STYLE.get(o.status, "")
            papers = f"{len(o.paper_ids)} papers" if o.status in ("sent", "dry-run") else ""
            line = "  ".join(x for x in (o.period_key, papers, o.detail) if x)
            console.print(f"[{style}]{o.status:<8}[/{style}] {escape(o.email)}  "
                          f"{escape(line)}", highlight=False, soft_wrap=True)
        where = f" (written to {dry_run})" if dry_run is not None else ""
        console.print(f"{report.summary()}{escape(where)}", highlight=False, soft_wrap=True)
    if report.count("failed"):
        raise typer.Exit(1)
