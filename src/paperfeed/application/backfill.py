"""Finishing the index in the background, and telling searchers while it is partial.

A first page in minutes (docs/decisions/first-page.md): the quickstart indexes only the
newest papers (`catch_up(newest=...)`, `first_papers()`) and serves; the server then
queues one `catch-up` job in the store's job queue (`queue_catch_up`), which its job
runner works through like an upload (`run_catch_up_job`): the rest of the index
(resumed, not restarted: `PaperIndex.resumable`), every card, the vocabulary. The job
records its step and counts as it goes, for the store page and for any process.

`coverage` says how much of the store search sees, cheaply enough for every search
(the index's live rows against the stored papers), and the line shown while it is
partial ("searching 8,210 of 74,728 papers; the rest are being indexed").
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperfeed.application.catchup import catch_up
from paperfeed.application.progress import Advance, Progress, Step
from paperfeed.cards.build import TAGGER_ENV, default_tagger_path
from paperfeed.catalog import Catalog
from paperfeed.settings import SettingsError
from paperfeed.store.jobs import ACTIVE, QUEUED, RUNNING, JobInfo, JobStore

CATCH_UP = "catch-up"
TAGGER_DATA = "tagger_data"  # in the job's payload: train the tagger from this folder
FIRST_PAPERS_ENV = "PAPERFEED_FIRST_PAPERS"
# About two weeks of arXiv cs listings (~300 papers a day), 35 s of embedding on 2 idle
# cores: with the corpus load and the cards the first page answers well within 3 minutes
# (docs/decisions/first-page.md).
FIRST_PAPERS = 3000

Beat = Callable[[dict[str, Any]], None]


def first_papers(env: dict[str, str] | None = None) -> int:
    """How many of the newest papers the quickstart indexes before serving."""
    raw = (os.environ if env is None else env).get(FIRST_PAPERS_ENV, "").strip()
    if not raw:
        return FIRST_PAPERS
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise SettingsError(f"{FIRST_PAPERS_ENV}: expected a whole number of papers >= 1, "
                            f"got {raw!r}")
    return value


@dataclass(frozen=True)
class Coverage:
    """How many stored papers search sees, and the state of the catch-up job finishing
    the rest ("queued", "running"; None when there is none)."""

    indexed: int
    papers: int
    job: str | None = None

    @property
    def partial(self) -> bool:
        return self.indexed < self.papers

    def message(self) -> str | None:
        """The line a searcher reads while the index is partial; None when it is whole."""
        if not self.partial:
            return None
        rest = {RUNNING: "the rest are being indexed",
                QUEUED: "the rest are queued for indexing (`paperfeed serve` or `paperfeed worker` "
                        "runs the job)"
                }.get(self.job or "", "the rest are not indexed yet (`paperfeed serve` or "
                                      "`paperfeed reindex` indexes them)")
        return f"searching {self.indexed:,} of {self.papers:,} papers; {rest}"


def indexing_job(catalog: Catalog) -> JobInfo | None:
    """The queued or running background catch-up, if any (whichever process runs it)."""
    job = JobStore(catalog.store).latest(CATCH_UP)
    return job if job is not None and job.state in ACTIVE else None


def coverage(catalog: Catalog, papers: int | None = None) -> Coverage:
    """What search covers now; `papers` when the caller already counted the store."""
    indexed = len(catalog.index)
    papers = catalog.store.count() if papers is None else papers
    job = indexing_job(catalog) if indexed < papers else None
    return Coverage(indexed=indexed, papers=papers, job=job.state if job else None)


def needs_catch_up(catalog: Catalog) -> bool:
    """True when papers wait for the index, or a first phase left it unfinished."""
    return catalog.index_unfinished() or catalog.pending_for_update() > 0


def queue_catch_up(catalog: Catalog, *, tagger_data: Path | None = None) -> JobInfo | None:
    """Queue the background catch-up when there is work and none is queued yet; the job,
    or None. A server starting on a partial index queues one (`paperfeed serve`); the
    quickstart queues one that also trains the cards' tagger from `tagger_data` (the
    annotated corpora), which it no longer makes the first page wait for.

    A job shown running may be a killed server's: another one is queued anyway. Two
    catch-ups are harmless: the second waits for the writer lock and finds nothing."""
    payload = {TAGGER_DATA: str(tagger_data)} if tagger_data is not None else {}
    if catalog.store.read_only or not (payload or needs_catch_up(catalog)):
        return None
    jobs = JobStore(catalog.store)
    latest = jobs.latest(CATCH_UP)
    if latest is not None and latest.state == QUEUED and (
            not payload or latest.payload == payload):
        return None
    return jobs.create(CATCH_UP, user_id=None, payload=payload)


def train_tagger(catalog: Catalog, data: Path, progress: Progress) -> bool:
    """Train the cards' tagger into the data folder unless one is there or set; the cards
    made before it (from the rules alone) are then stale and extracted again."""
    from paperfeed.cards.tagger import train_default  # CRF training: only this job needs it

    path = default_tagger_path(catalog.store)
    if path.exists() or os.environ.get(TAGGER_ENV):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    with progress.step(Step("cards", "training the cards' task/dataset tagger")):
        train_default(data, path)
    catalog.reset_card_maker()
    return True


class JobProgress:
    """Progress recorded on the job (`beat`: step, label, done, total), and drawn by
    `also` when given (the server's terminal)."""

    def __init__(self, beat: Beat, also: Progress | None = None) -> None:
        self.beat = beat
        self.also = also

    @contextmanager
    def step(self, step: Step) -> Iterator[Advance]:
        done = 0
        self.beat({"step": step.kind, "label": step.label, "done": done, "total": step.total})
        with ExitStack() as stack:
            shown = stack.enter_context(self.also.step(step)) if self.also else None

            def advance(n: int) -> None:
                nonlocal done
                done += n
                self.beat({"done": done})
                if shown is not None:
                    shown(n)

            yield advance

    def note(self, message: str) -> None:
        self.beat({"note": message})
        if self.also is not None:
            self.also.note(message)


def run_catch_up_job(catalog: Catalog, payload: dict[str, Any], beat: Beat,
                     also: Progress | None = None) -> str:
    """The job: catch up everything (resuming a first phase), training the tagger first
    when asked to; the message for the record."""
    data = payload.get(TAGGER_DATA)
    report = catch_up(catalog, JobProgress(beat, also), before_cards=(
        None if not data else lambda progress: train_tagger(catalog, Path(data), progress)))
    message = (f"{report.indexed:,} papers indexed, {report.cards:,} cards extracted; "
               f"every stored paper is searchable")
    if also is not None:
        also.note(message)
    return message
