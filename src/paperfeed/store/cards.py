"""System cards in the store: saving them with their facets, finding stale ones, facet look-ups.

Owns the `cards` and `card_facets` tables (`store/models_cards.py`, migration
0008). A card is written in the same transaction as its facets, so a search by
facet never sees half a card; a batch of cards is one transaction, so an
interrupted build loses at most that batch and resumes from the stale ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Select, and_, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from paperfeed.card_types import Card
from paperfeed.clock import utc_now
from paperfeed.store import models as m
from paperfeed.store.models_cards import CardFacet, CardRow
from paperfeed.store.store import Store
from paperfeed.text import fold

__all__ = ["CardStore", "FacetCount", "PaperText", "facet_key"]

FACETS = ("dataset", "task")
# Words that name what kind of thing a dataset is, not which one: "LaSOT benchmark" is LaSOT.
_GENERIC_TAIL = re.compile(r"(?:\s+(?:dataset|datasets|benchmark|benchmarks|corpus|suite))+$")
_SEPARATORS = re.compile(r"[\s_\-‐‑–—/]+")
MAX_KEY = 255


def facet_key(value: str) -> str:
    """The folded form a dataset or task is matched by: case, accents, hyphens and spaces,
    and a trailing "dataset"/"benchmark" do not matter ("LaSOT", "lasot benchmark")."""
    text = _SEPARATORS.sub(" ", fold(value)).strip(" .,;:()[]{}\"'")
    stripped = _GENERIC_TAIL.sub("", text)
    return (stripped or text)[:MAX_KEY]


@dataclass(frozen=True)
class PaperText:
    """What the extractor reads of a paper, and the revision it read."""

    id: int
    title: str
    abstract: str
    comment: str | None
    revision: int


@dataclass(frozen=True)
class FacetCount:
    """A dataset or task as most papers write it, with how many papers name it."""

    key: str
    value: str
    papers: int


class CardStore:
    """The cards of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _session(self) -> Session:
        return Session(self.store.engine)

    # --- writing ------------------------------------------------------------------

    def save(self, cards: Sequence[tuple[int, int, Card]]) -> int:
        """Store (paper id, paper revision, card) triples in one transaction, replacing old
        cards. Papers deleted meanwhile are skipped. Returns how many were written."""
        if not cards:
            return 0
        now = utc_now()
        ids = [pid for pid, _, _ in cards]
        with self._session() as s, s.begin():
            present = set(s.scalars(select(m.Paper.id).where(m.Paper.id.in_(ids))))
            kept = [(pid, rev, card) for pid, rev, card in cards if pid in present]
            if not kept:
                return 0
            kept_ids = [pid for pid, _, _ in kept]
            s.execute(delete(CardFacet).where(CardFacet.paper_id.in_(kept_ids)))
            s.execute(delete(CardRow).where(CardRow.paper_id.in_(kept_ids)))
            s.execute(insert(CardRow), [
                {"paper_id": pid, "version": card.version, "paper_revision": rev,
                 "name": card.name, "kind": card.kind, "has_code": bool(card.code_urls),
                 "has_results": bool(card.results),
                 "data": card.to_json(), "extracted_at": now}
                for pid, rev, card in kept
            ])
            facets = [
                {"paper_id": pid, "facet": facet, "key": key, "value": value}
                for pid, _, card in kept
                for facet, values in (("dataset", card.datasets), ("task", card.tasks))
                for key, value in _unique_keys(values).items()
            ]
            if facets:
                s.execute(insert(CardFacet), facets)
        return len(kept)

    # --- what needs extracting --------------------------------------------------------

    @staticmethod
    def _stale_condition(version: int) -> ColumnElement[bool]:
        return or_(CardRow.paper_id.is_(None), CardRow.version != version,
                   CardRow.paper_revision != m.Paper.revision)

    def count_stale(self, version: int) -> int:
        """Papers with no card, or a card from another extractor version or paper revision."""
        with self._session() as s:
            return s.scalar(
                select(func.count(m.Paper.id))
                .outerjoin(CardRow, CardRow.paper_id == m.Paper.id)
                .where(self._stale_condition(version))) or 0

    def iter_stale(self, version: int, *, batch_size: int = 1000) -> Iterator[list[PaperText]]:
        """Batches of papers whose card is missing or stale, in id order."""
        last_id = 0
        while True:
            with self._session() as s:
                rows = s.execute(
                    select(m.Paper.id, m.Paper.title, m.Paper.abstract, m.Paper.comment,
                           m.Paper.revision)
                    .outerjoin(CardRow, CardRow.paper_id == m.Paper.id)
                    .where(self._stale_condition(version), m.Paper.id > last_id)
                    .order_by(m.Paper.id).limit(batch_size)).all()
            if not rows:
                return
            yield [PaperText(id=r.id, title=r.title, abstract=r.abstract or "",
                             comment=r.comment, revision=r.revision) for r in rows]
            last_id = rows[-1].id

    # --- reading ----------------------------------------------------------------------

    def get(self, paper_id: int) -> Card | None:
        return self.get_many([paper_id]).get(paper_id)

    def get_many(self, paper_ids: Iterable[int]) -> dict[int, Card]:
        ids = list(set(paper_ids))
        if not ids:
            return {}
        with self._session() as s:
            rows = s.execute(select(CardRow.paper_id, CardRow.data)
                             .where(CardRow.paper_id.in_(ids))).all()
        return {r.paper_id: Card.from_json(r.data) for r in rows}

    def count(self) -> int:
        with self._session() as s:
            return s.scalar(select(func.count(CardRow.paper_id))) or 0

    def matching(
        self,
        *,
        datasets: Sequence[str] = (),
        tasks: Sequence[str] = (),
        kinds: Sequence[str] = (),
        has: Mapping[str, bool] | None = None,
    ) -> set[int] | None:
        """Ids of the papers whose cards satisfy every given facet (None: no facet given).

        Several datasets (or tasks) must all be named; several kinds are any-of;
        `has` maps "code", "results" or "name" to whether the card must have it.
        A value ending in `*` matches as a prefix ("dataset:imagenet*").
        """
        has = dict(has or {})
        if not (datasets or tasks or kinds or has):
            return None
        query = select(CardRow.paper_id)
        if kinds:
            query = query.where(CardRow.kind.in_([k.strip().lower() for k in kinds]))
        for what, wanted in has.items():
            column = {"code": CardRow.has_code, "results": CardRow.has_results}.get(what)
            if column is not None:
                query = query.where(column.is_(wanted))
            elif what == "name":
                query = query.where(CardRow.name.isnot(None) if wanted else CardRow.name.is_(None))
            else:
                raise ValueError(f"unknown has: value {what!r}")
        for facet, values in (("dataset", datasets), ("task", tasks)):
            for value in values:
                query = query.where(CardRow.paper_id.in_(self._facet_papers(facet, value)))
        with self._session() as s:
            return set(s.scalars(query))

    @staticmethod
    def _facet_papers(facet: str, value: str) -> Select[int]:
        prefix = value.rstrip().endswith("*")
        key = facet_key(value.rstrip().rstrip("*"))
        condition = (CardFacet.key.startswith(key, autoescape=True) if prefix
                     else CardFacet.key == key)
        return select(CardFacet.paper_id).where(and_(CardFacet.facet == facet, condition))

    def top(self, facet: str, *, limit: int = 100, prefix: str = "") -> list[FacetCount]:
        """The datasets or tasks named by most papers, each in its most frequent spelling."""
        if facet not in FACETS:
            raise ValueError(f"unknown facet {facet!r}; expected one of {', '.join(FACETS)}")
        with self._session() as s:
            query = (select(CardFacet.key, func.count(CardFacet.paper_id).label("n"))
                     .where(CardFacet.facet == facet))
            if prefix:
                query = query.where(CardFacet.key.startswith(facet_key(prefix), autoescape=True))
            counts = s.execute(query.group_by(CardFacet.key)
                               .order_by(func.count(CardFacet.paper_id).desc(), CardFacet.key)
                               .limit(limit)).all()
            spellings = self._spellings(s, facet, [c.key for c in counts])
        return [FacetCount(key=c.key, value=spellings.get(c.key, c.key), papers=c.n)
                for c in counts]

    @staticmethod
    def _spellings(s: Session, facet: str, keys: Sequence[str]) -> dict[str, str]:
        if not keys:
            return {}
        rows = s.execute(
            select(CardFacet.key, CardFacet.value, func.count().label("n"))
            .where(CardFacet.facet == facet, CardFacet.key.in_(list(keys)))
            .group_by(CardFacet.key, CardFacet.value)).all()
        best: dict[str, tuple[int, str]] = {}
        for r in rows:
            if r.key not in best or (r.n, r.value) > best[r.key]:
                best[r.key] = (r.n, r.value)
        return {key: value for key, (_, value) in best.items()}

    def facet(self, facet: str, value: str) -> FacetCount | None:
        """One dataset or task by any spelling, or None when no card names it."""
        key = facet_key(value)
        with self._session() as s:
            n = s.scalar(select(func.count(CardFacet.paper_id))
                         .where(CardFacet.facet == facet, CardFacet.key == key)) or 0
            if not n:
                return None
            spelling = self._spellings(s, facet, [key]).get(key, value)
        return FacetCount(key=key, value=spelling, papers=n)

    def named_with(self, facet: str, key: str, other: str, *, limit: int = 12
                   ) -> list[FacetCount]:
        """The `other` facets (tasks of a dataset, datasets of a task) most often on the same
        cards as this one."""
        mine = select(CardFacet.paper_id).where(CardFacet.facet == facet, CardFacet.key == key)
        with self._session() as s:
            counts = s.execute(
                select(CardFacet.key, func.count(CardFacet.paper_id).label("n"))
                .where(CardFacet.facet == other, CardFacet.paper_id.in_(mine))
                .group_by(CardFacet.key)
                .order_by(func.count(CardFacet.paper_id).desc(), CardFacet.key)
                .limit(limit)).all()
            spellings = self._spellings(s, other, [c.key for c in counts])
        return [FacetCount(key=c.key, value=spellings.get(c.key, c.key), papers=c.n)
                for c in counts]

    def papers_naming(self, facet: str, value: str, *, limit: int = 50, offset: int = 0
                      ) -> list[tuple[int, date | None]]:
        """(paper id, listing date) of the papers naming a dataset or task, newest first."""
        key = facet_key(value)
        with self._session() as s:
            rows = s.execute(
                select(m.Paper.id, m.LISTED.label("listed"))
                .join(CardFacet, CardFacet.paper_id == m.Paper.id)
                .where(CardFacet.facet == facet, CardFacet.key == key)
                .order_by(m.LISTED.desc().nulls_last(), m.Paper.id.desc())
                .limit(limit).offset(offset)).all()
        return [(r.id, r.listed) for r in rows]


def _unique_keys(values: Iterable[str]) -> dict[str, str]:
    """Folded key → the first spelling, for the values that fold to something."""
    out: dict[str, str] = {}
    for value in values:
        key = facet_key(value)
        if key and key not in out:
            out[key] = value[:2000]
    return out
