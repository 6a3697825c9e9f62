"""Plan versions (the editor's saves, proposals and reference migrations) and the COG
vintage of a plan's communes.

Revision ID: 0009_plan_versions
Revises: 0008_search
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision = "0009_plan_versions"
down_revision = "0008_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plan_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("plans.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False, server_default="enregistrement"),
        sa.Column("comment", sa.Text),
        sa.Column("snapshot", postgresql.JSONB, nullable=False),
        sa.Column("author_id", sa.Integer),
        sa.Column("author_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.UniqueConstraint("plan_id", "number", name="plan_versions_number"),
        sa.CheckConstraint("number >= 1", name="plan_versions_number_positive"),
        sa.CheckConstraint("kind IN ('initiale', 'enregistrement', 'proposition', 'migration')",
                           name="plan_versions_kind"),
    )
    op.create_index("ix_plan_versions_plan_id", "plan_versions", ["plan_id"])
    # The COG vintage of the commune codes a plan uses (NULL: before this column).
    op.add_column("plans", sa.Column("cog_vintage", sa.SmallInteger))


def downgrade() -> None:
    op.drop_column("plans", "cog_vintage")
    op.drop_index("ix_plan_versions_plan_id", table_name="plan_versions")
    op.drop_table("plan_versions")
