"""Keeping every stored paper's card current: which tagger to use, and the resumable build.

Owns the card version (extractor version and tagger model together), finding
the tagger model (configured path, then the data folder's), and extracting the
cards of papers whose card is missing or stale, a batch per transaction, on
several processes when there are many.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing import get_context
from pathlib import Path

from paperfeed.card_types import Card, Tagger
from paperfeed.errors import PaperfeedError
from paperfeed.store import Store
from paperfeed.store.cards import CardStore, PaperText

__all__ = ["BuildReport", "CardMaker", "TaggerNotFound", "build_cards", "card_version",
           "default_tagger_path", "load_tagger"]

log = logging.getLogger(__name__)

TAGGER_ENV = "PAPERFEED_CARD_TAGGER"
TAGGER_FILE = "card-tagger.crfsuite"
# Below this many stale papers, starting worker processes costs more than it saves.
PARALLEL_FROM = 2000

Progress = Callable[[int], None]


class TaggerNotFound(PaperfeedError):
    """A configured tagger model path that does not exist."""


@dataclass(frozen=True)
class BuildReport:
    extracted: int
    seconds: float
    version: int
    tagger: str | None


def default_tagger_path(store: Store) -> Path:
    """Where `paperfeed cards train` puts the model: the data folder's models/."""
    return store.data_dir / "models" / TAGGER_FILE


def load_tagger(store: Store) -> tuple[Tagger | None, Path | None]:
    """The tagger model: `PAPERFEED_CARD_TAGGER` if set (it must exist), else the data
    folder's if trained, else none (cards then come from the rules alone)."""
    from paperfeed.cards.tagger import CrfTagger

    configured = os.environ.get(TAGGER_ENV)
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise TaggerNotFound(f"{TAGGER_ENV}={configured}: no such model file")
        return CrfTagger.load(path), path
    path = default_tagger_path(store)
    if path.is_file():
        return CrfTagger.load(path), path
    return None, None


def card_version(tagger: Tagger | None) -> int:
    """One number for the extractor and the tagger model: a change in either refreshes cards,
    and cards made without a tagger are redone once one is trained."""
    from paperfeed.cards.extract import EXTRACTOR_VERSION
    from paperfeed.cards.tagger import MODEL_VERSION

    return EXTRACTOR_VERSION * 1000 + (MODEL_VERSION if tagger is not None else 0)


def extract(papers: Sequence[PaperText], tagger: Tagger | None, version: int
            ) -> list[tuple[int, int, Card]]:
    from paperfeed.cards.extract import extract_card

    return [(p.id, p.revision,
             replace(extract_card(p.title, p.abstract, p.comment, tagger=tagger), version=version))
            for p in papers]


@dataclass(frozen=True)
class CardMaker:
    """The tagger a store's cards are made with, loaded once, and the version it gives."""

    tagger: Tagger | None
    path: Path | None
    version: int

    @classmethod
    def for_store(cls, store: Store) -> CardMaker:
        tagger, path = load_tagger(store)
        return cls(tagger, path, card_version(tagger))

    def make(self, paper: PaperText) -> Card:
        return extract([paper], self.tagger, self.version)[0][2]


# --- worker processes: each loads the tagger once ---------------------------------------

_worker_tagger: Tagger | None = None


def _init_worker(path: str | None) -> None:
    global _worker_tagger
    if path is not None:
        from paperfeed.cards.tagger import CrfTagger

        _worker_tagger = CrfTagger.load(Path(path))


def _extract_in_worker(papers: Sequence[PaperText], version: int) -> list[tuple[int, int, Card]]:
    return extract(papers, _worker_tagger, version)


def build_cards(
    store: Store,
    *,
    progress: Progress | None = None,
    workers: int | None = None,
    batch_size: int = 500,
    maker: CardMaker | None = None,
) -> BuildReport:
    """Extract and store the card of every paper whose card is missing or stale.

    Each batch is written in one transaction after it is extracted, so an
    interrupted build keeps what it finished and the next build goes on from there.
    """
    started = time.perf_counter()
    maker = maker or CardMaker.for_store(store)
    tagger, path, version = maker.tagger, maker.path, maker.version
    cards = CardStore(store)
    todo = cards.count_stale(version)
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    done = 0
    batches = cards.iter_stale(version, batch_size=batch_size)
    if todo >= PARALLEL_FROM and workers > 1:
        # spawn: the parent may hold torch threads or open database handles; a clean child
        # imports only the extractor.
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn"),
                                 initializer=_init_worker,
                                 initargs=(str(path) if path else None,)) as pool:
            pending = []
            for batch in batches:
                pending.append(pool.submit(_extract_in_worker, batch, version))
                # Keep a few batches in flight: enough to keep every worker busy.
                while len(pending) >= workers * 2:
                    done += _store(cards, pending.pop(0).result(), progress)
            for future in pending:
                done += _store(cards, future.result(), progress)
    else:
        for batch in batches:
            done += _store(cards, extract(batch, tagger, version), progress)
    seconds = time.perf_counter() - started
    log.info("extracted %d cards in %.1f s (version %d)", done, seconds, version)
    return BuildReport(extracted=done, seconds=seconds, version=version,
                       tagger=str(path) if path else None)


def _store(cards: CardStore, extracted: list[tuple[int, int, Card]],
           progress: Progress | None) -> int:
    written = cards.save(extracted)
    if progress is not None:
        progress(len(extracted))
    return written
