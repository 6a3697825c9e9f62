"""Search and editing: temporary closure of a structure (dates and reason).

A structure closed « du … au … » (works, holidays of the staff) stays in the directory,
shows a banner, and is left out of the « ouvert maintenant / ouvert le … » filters for
those days. ``closed_until`` may be empty (until further notice).

Revision ID: 0008_search
Revises: 0007_candidacies
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0008_search"
down_revision = "0007_candidacies"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("structures", sa.Column("closed_from", sa.Date))
    op.add_column("structures", sa.Column("closed_until", sa.Date))
    op.add_column("structures", sa.Column("closure_reason", sa.String(300)))
    op.create_check_constraint(
        "structures_temporary_closure", "structures",
        "closed_until IS NULL OR (closed_from IS NOT NULL AND closed_until >= closed_from)")


def downgrade() -> None:
    op.drop_constraint("structures_temporary_closure", "structures", type_="check")
    for column in ("closure_reason", "closed_until", "closed_from"):
        op.drop_column("structures", column)
