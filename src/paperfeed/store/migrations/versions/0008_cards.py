"""cards: one system card per paper and its dataset/task facets

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cards",
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("paper_revision", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("has_code", sa.Boolean(), nullable=False),
        sa.Column("has_results", sa.Boolean(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("extracted_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["paper_id"], ["papers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("paper_id"),
    )
    op.create_index("ix_cards_kind", "cards", ["kind"])
    op.create_index("ix_cards_has_code", "cards", ["has_code"])
    op.create_table(
        "card_facets",
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("facet", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["paper_id"], ["cards.paper_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("paper_id", "facet", "key"),
    )
    op.create_index("ix_card_facets_facet_key", "card_facets", ["facet", "key"])


def downgrade() -> None:
    op.drop_table("card_facets")
    op.drop_table("cards")
