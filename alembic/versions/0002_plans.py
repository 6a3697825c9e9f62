"""Coverage plans: plans, structures, antennas, commune assignments.

Revision ID: 0002_plans
Revises: 0001_communes
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from geoalchemy2 import Geometry

from alembic import op

revision = "0002_plans"
down_revision = "0001_communes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("departement", sa.String(3), sa.ForeignKey("departements.code"),
                  nullable=False),
        sa.Column("author", sa.String(200)),
        sa.Column("owner_id", sa.Integer),
        sa.Column("source_filename", sa.String(300)),
        sa.Column("sizing", sa.JSON, nullable=False, server_default="{}"),
        sa.Column("notes", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
    )
    op.create_index("ix_plans_departement", "plans", ["departement"])
    op.create_index("ix_plans_owner_id", "plans", ["owner_id"])
    op.create_table(
        "plan_structures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("plans.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("head_office", sa.String(5), sa.ForeignKey("communes.code")),
    )
    op.create_index("ix_plan_structures_plan_id", "plan_structures", ["plan_id"])
    op.create_table(
        "plan_antennas",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("structure_id", sa.Integer,
                  sa.ForeignKey("plan_structures.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("seat", sa.String(5), sa.ForeignKey("communes.code")),
        # spatial_index=False: no GiST needed on a handful of antenna points.
        sa.Column("point", Geometry("POINT", srid=2154, spatial_index=False)),
        sa.Column("coordinators", sa.Float),
    )
    op.create_index("ix_plan_antennas_structure_id", "plan_antennas", ["structure_id"])
    op.create_table(
        "plan_assignments",
        sa.Column("antenna_id", sa.Integer,
                  sa.ForeignKey("plan_antennas.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("commune", sa.String(5), sa.ForeignKey("communes.code"), primary_key=True),
    )
    op.create_index("ix_plan_assignments_commune", "plan_assignments", ["commune"])


def downgrade() -> None:
    op.drop_table("plan_assignments")
    op.drop_table("plan_antennas")
    op.drop_table("plan_structures")
    op.drop_table("plans")
