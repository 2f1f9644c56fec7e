"""Sending the email digests that are due, with the real ranker's picks.

Chooses the pick source (the personal ranker, else the newest papers in each user's
followed categories, with a warning why) and the mailer (SMTP from the environment,
else the data folder's outbox, with a warning), then runs `digest.send_digests`,
which owns who is due and the at-most-once bookkeeping. `paperfeed digest send`
(cron) calls this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from paperfeed.catalog import Catalog
from paperfeed.digest import DigestReport, newest_papers, send_digests
from paperfeed.mail import OutboxMailer, mailer_from_env
from paperfeed.rank.picks import PickSource


@dataclass
class DigestRun:
    """A run's report and the warnings a person should read (each one line)."""

    report: DigestReport
    warnings: list[str] = field(default_factory=list)


def pick_source(catalog: Catalog) -> tuple[PickSource, str | None]:
    """The real ranker's pick source, else the newest papers and a warning why."""
    try:
        from paperfeed.rank.feed import default_pick_source
    except ImportError as exc:  # the ranker's numeric stack is missing or broken
        return newest_papers(catalog.store), (
            f"the personal ranker is unavailable ({exc}); sending the newest papers in "
            "each user's followed categories instead")
    return default_pick_source(catalog), None


def send_due_digests(catalog: Catalog, *, base_url: str, now: datetime,
                     dry_run_dir: Path | None = None, limit: int = 10,
                     at_hour: bool = False) -> DigestRun:
    """Send every due user's digest (`limit` papers at most); with `dry_run_dir`, write
    the messages there instead and mark nothing seen; with `at_hour` (the scheduler),
    only to users whose local send hour has come."""
    if dry_run_dir is None:
        catalog.store.require_writable("digest send")
    warnings: list[str] = []
    picks, warning = pick_source(catalog)
    if warning:
        warnings.append(warning)
    outbox = catalog.store.subdir("outbox")
    mailer, sender = mailer_from_env(outbox)
    if dry_run_dir is None and isinstance(mailer, OutboxMailer):
        warnings.append(f"PAPERFEED_SMTP_URL is not set: the digests go to {outbox} as "
                        ".eml files")
    report = send_digests(catalog.store, picks, mailer, sender, base_url=base_url, now=now,
                          dry_run_dir=dry_run_dir, k=limit, at_hour=at_hour)
    return DigestRun(report, warnings)
