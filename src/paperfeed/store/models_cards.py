"""SQLAlchemy models of system cards: one card per paper and its searchable facets.

On the store's `Base`; the tables are made by migration 0008, not by `create_all`.
Written only by `paperfeed.store.cards`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from paperfeed.store.bounded import BoundedString
from paperfeed.store.models import Base


class CardRow(Base):
    """A paper's card as last extracted. `version` is the extractor's and `paper_revision`
    the paper's revision it read: a card behind either one is extracted again."""

    __tablename__ = "cards"

    paper_id: Mapped[int] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer)
    paper_revision: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(BoundedString(16), index=True)
    has_code: Mapped[bool] = mapped_column(Boolean, index=True)
    has_results: Mapped[bool] = mapped_column(Boolean)
    # tasks, datasets, results (with their sentences) and code_urls, as `Card.to_json` writes.
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    extracted_at: Mapped[datetime] = mapped_column(DateTime)


class CardFacet(Base):
    """One dataset or task a card names: `key` is the folded form searches and pages use."""

    __tablename__ = "card_facets"
    __table_args__ = (Index("ix_card_facets_facet_key", "facet", "key"),)

    paper_id: Mapped[int] = mapped_column(
        ForeignKey("cards.paper_id", ondelete="CASCADE"), primary_key=True
    )
    facet: Mapped[str] = mapped_column(BoundedString(16), primary_key=True)
    key: Mapped[str] = mapped_column(BoundedString(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
