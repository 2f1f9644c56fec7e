"""votes, and an index on the listing day

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("voter", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["paper_id"], ["papers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("paper_id", "voter"),
    )
    op.create_index("ix_votes_paper_id", "votes", ["paper_id"])
    op.create_index("ix_votes_created_at", "votes", ["created_at"])
    op.create_index("ix_papers_listed", "papers",
                    [sa.text("coalesce(first_listed, submitted)")])


def downgrade() -> None:
    op.drop_index("ix_papers_listed", table_name="papers")
    op.drop_index("ix_votes_created_at", table_name="votes")
    op.drop_index("ix_votes_paper_id", table_name="votes")
    op.drop_table("votes")
