"""Catching up: bring the data derived from the store up to date, in dependency order.

First the search index (embeddings and the lexical index, only the papers changed
since its revision, or all of them in a new generation beside the one in use when the
embedding model changed, the index is damaged, a rebuild was interrupted, or `full`), then
the system cards of papers with none or an outdated one, then the personal feed's
tf-idf vocabulary (fitted here, about 40 s for 75k papers and only when the store grew
by a fifth, rather than inside someone's first feed request). `paperfeed ingest`,
`harvest`, `reindex`, `quickstart` and the upload job all run this one path.

A first phase (`newest`, the quickstart's) indexes only the newest papers and makes
their cards, leaving the index unfinished; the background catch-up
(`application.backfill`) resumes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from paperfeed.application.progress import Progress, QuietProgress, Step
from paperfeed.catalog import Catalog
from paperfeed.index.vocabulary import VOCABULARY_FILE
from paperfeed.store.cards import PaperText

REBUILD_NOTE = "The index was built with another model: rebuilding it."
DAMAGED_NOTE = "The search index is damaged ({}): rebuilding it."
RESUME_NOTE = "A full rebuild of the search index was interrupted: finishing it."
VOCABULARY_LABEL = "corpus vocabulary for the personal feed"


@dataclass(frozen=True)
class CatchUpReport:
    """What a catch-up did."""

    indexed: int  # papers (re-)embedded and indexed
    cards: int  # cards extracted
    rebuilt: bool  # the index was rebuilt from scratch (another model, or `full`)
    vocabulary: bool  # the vocabulary was checked (and refitted if the store had grown)
    complete: bool = True  # False after a first phase (`newest`): the rest is still to do


def update_cards(catalog: Catalog, progress: Progress | None = None, *,
                 workers: int | None = None) -> int:
    """Extract the cards of papers with none or a stale one; returns how many."""
    progress = progress or QuietProgress()
    pending = catalog.cards_pending()
    if not pending:
        return 0
    with progress.step(Step("cards", "cards", pending)) as advance:
        return catalog.update_cards(progress=advance, workers=workers).extracted


def cards_of(catalog: Catalog, keys: Iterable[int], progress: Progress | None = None,
             *, batch_size: int = 500) -> int:
    """Extract the cards of these papers only, where missing or stale; returns how many."""
    progress = progress or QuietProgress()
    maker = catalog.card_maker
    wanted = sorted(set(keys))
    have = catalog.cards.get_many(wanted)
    todo = [k for k in wanted if k not in have or have[k].version != maker.version]
    done = 0
    with progress.step(Step("cards", "cards", len(todo))) as advance:
        for start in range(0, len(todo), batch_size):
            papers = catalog.store.get_many(todo[start:start + batch_size], details=False)
            done += catalog.cards.save([
                (p.id, p.revision, maker.make(PaperText(
                    id=p.id, title=p.record.title, abstract=p.record.abstract,
                    comment=p.record.comment, revision=p.revision)))
                for p in papers])
            advance(len(papers))
    return done


def catch_up(catalog: Catalog, progress: Progress | None = None, *, full: bool = False,
             index_batch: int = 2048, card_workers: int | None = None,
             newest: int | None = None,
             before_cards: Callable[[Progress], object] | None = None) -> CatchUpReport:
    """Index, then cards, then vocabulary (see the module docstring).

    `index_batch` is the papers embedded per index commit: the upload job takes small
    ones so that searches running meanwhile wait at most one short commit. With
    `newest` and more papers waiting than that, only a first phase runs: the newest
    `newest` papers are indexed and get their cards, and the index is left unfinished
    (`complete` False) for the next catch-up to resume. `before_cards` runs between the
    index and the cards of a whole catch-up (the background job trains the tagger there).
    """
    progress = progress or QuietProgress()
    with catalog.writing_index(progress.note):  # one writer at a time; others wait
        damage = catalog.index_damage()
        if damage:
            progress.note(DAMAGED_NOTE.format(damage))
            full = True
        stale = not full and catalog.index_is_stale()
        if catalog.rebuild_unfinished() and not stale:
            progress.note(RESUME_NOTE)
        pending = catalog.pending_for_update(full=full)
        # A rebuild is written beside the index in use and switched to whole: it has
        # no first phase (readers keep the old index meanwhile).
        rebuild = full or stale or catalog.rebuild_unfinished()
        first = (newest if newest is not None and pending > newest and not rebuild
                 else None)
        indexed = 0
        if pending or damage or catalog.index_unfinished():
            if stale:
                progress.note(REBUILD_NOTE)
            total = pending if first is None else first
            with progress.step(Step("index", "index", total)) as advance:
                indexed = catalog.update_index(progress=advance, full=full,
                                               batch_size=index_batch, newest=first)
        if first is not None:
            keys = catalog.index.keys()
    if first is not None:  # the rest (cards, vocabulary) waits for the complete index
        cards = cards_of(catalog, keys, progress)
        return CatchUpReport(indexed=indexed, cards=cards, rebuilt=bool(damage) or stale,
                             vocabulary=False, complete=False)
    if before_cards is not None:
        before_cards(progress)
    cards = update_cards(catalog, progress, workers=card_workers)
    vocabulary = bool(indexed) or not (catalog.store.index_dir() / VOCABULARY_FILE).exists()
    if vocabulary:
        with progress.step(Step("vocabulary", VOCABULARY_LABEL)):
            catalog.vocabulary()
    return CatchUpReport(indexed=indexed, cards=cards,
                         rebuilt=bool(pending or damage) and (full or stale),
                         vocabulary=vocabulary)
