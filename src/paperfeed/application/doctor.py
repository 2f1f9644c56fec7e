"""`paperfeed doctor`: do the store, the index and the cards agree, and mend what can be.

Each check names one thing and says ok or what is wrong: the database file's
integrity, the schema's migrations, the secret key, the index's files, the index
against the store (papers not yet indexed, an unfinished catch-up, another model),
the cards and the feed's vocabulary. `repair` rebuilds what is derived from the
store, by the one catch-up path (`catch_up`: a damaged index is rebuilt, missing
papers indexed, missing cards extracted, the vocabulary fitted) and makes a missing
secret key; a damaged database or an old schema is left to the operator (restore a
backup; run a writing command), and stays a problem.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from paperfeed.application.catchup import catch_up
from paperfeed.application.progress import Progress
from paperfeed.catalog import Catalog
from paperfeed.errors import PaperfeedError
from paperfeed.index.vocabulary import VOCABULARY_FILE, Vocabulary, VocabularyError
from paperfeed.store.health import integrity_problem, migration_problem

__all__ = ["Check", "diagnose", "repair"]


@dataclass(frozen=True)
class Check:
    """One thing the doctor looked at: ok, or the problem in words."""

    name: str
    problem: str | None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None


def _secret_key(catalog: Catalog) -> Check:
    if os.environ.get("PAPERFEED_SECRET_KEY"):
        return Check("secret key", None, "from PAPERFEED_SECRET_KEY")
    path = catalog.store.data_dir / "secret_key"
    try:
        present = bool(path.read_text().strip())
    except OSError:
        present = False
    return Check("secret key", None if present else
                 f"{path} is missing or empty: log-ins and voter cookies cannot be checked",
                 str(path) if present else "")


def _index(catalog: Catalog) -> list[Check]:
    damage = catalog.index_damage()
    if damage is not None:
        return [Check("index files", damage),
                Check("index vs store", "the index is damaged: nothing in it counts")]
    files = Check("index files", None, f"generation {catalog.index.version()[1]:,}")
    stored, indexed, pending = catalog.store.count(), len(catalog.index), catalog.pending()
    counted = f"{indexed:,} indexed, {stored:,} stored"
    try:
        stale = catalog.index_is_stale()
    except PaperfeedError as exc:  # the model cannot be loaded: say so, check the rest
        return [files, Check("index vs store", f"cannot load the embedding model: {exc}")]
    if stale:
        problem: str | None = "the index was built with another embedding model"
    elif pending:
        problem = f"{pending:,} stored papers are not indexed yet ({counted})"
    elif catalog.index_unfinished():
        problem = "an interrupted catch-up has not finished"
    else:
        problem = None
    return [files, Check("index vs store", problem, counted)]


def _cards(catalog: Catalog) -> Check:
    pending = catalog.cards_pending()
    return Check("cards", f"{pending:,} papers have no card or an outdated one"
                 if pending else None, f"{catalog.cards.count():,} cards")


def _vocabulary(catalog: Catalog) -> Check:
    path = catalog.store.index_dir() / VOCABULARY_FILE
    if not path.exists():
        return Check("vocabulary", f"{path} is missing (the personal feed needs it)")
    try:
        vocabulary = Vocabulary.load(path)
    except VocabularyError as exc:
        return Check("vocabulary", f"{path} is unreadable: {exc}")
    return Check("vocabulary", None, f"{vocabulary.corpus_size:,} documents")


def diagnose(catalog: Catalog) -> list[Check]:
    """Every check, in the order a repair depends on them."""
    store = catalog.store
    checks = [Check("database", integrity_problem(store), store.url if store.embedded
                    else f"{store.url} (PostgreSQL checks its own pages)"),
              Check("migrations", migration_problem(store)), _secret_key(catalog)]
    checks += _index(catalog)
    checks += [_cards(catalog), _vocabulary(catalog)]
    return checks


def repair(catalog: Catalog, progress: Progress, on_step: Callable[[str], None]) -> None:
    """Rebuild what the checks found wrong and can be rebuilt from the store."""
    catalog.store.require_writable("doctor --repair")
    found = {c.name: c for c in diagnose(catalog)}
    if not found["secret key"].ok:
        on_step("making a new secret key (everyone signed in must sign in again)")
        catalog.store.secret_key()
    if not all(found[name].ok for name in ("index files", "index vs store", "cards",
                                           "vocabulary")):
        on_step("catching up the index, the cards and the vocabulary")
        catch_up(catalog, progress)
        if not _vocabulary(catalog).ok:  # there but unreadable: catch_up keeps a file
            catalog.vocabulary()
