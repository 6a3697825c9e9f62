"""Candidacies: promoter organisations, plans owned by an organisation, submitted snapshots.

Revision ID: 0007_candidacies
Revises: 0006_directory_sources
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision = "0007_candidacies"
down_revision = "0006_directory_sources"
branch_labels = None
depends_on = None

# A submitted candidacy is an immutable snapshot: only its decision may change.
_IMMUTABLE = """
CREATE FUNCTION candidacies_immutable() RETURNS trigger AS $$
BEGIN
    IF NEW.snapshot IS DISTINCT FROM OLD.snapshot OR NEW.name IS DISTINCT FROM OLD.name
       OR NEW.version IS DISTINCT FROM OLD.version
       OR NEW.departement IS DISTINCT FROM OLD.departement
       OR NEW.submitted_at IS DISTINCT FROM OLD.submitted_at
       OR NEW.submitted_by_name IS DISTINCT FROM OLD.submitted_by_name
       OR NEW.organisation_name IS DISTINCT FROM OLD.organisation_name THEN
        RAISE EXCEPTION 'candidature % : un dépôt est immuable (déposez une nouvelle version)',
            OLD.id;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
"""


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("siret", sa.String(14)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.CheckConstraint("siret IS NULL OR siret ~ '^[0-9]{14}$'", name="organisations_siret"),
    )
    op.add_column("users", sa.Column("organisation_id", sa.Integer,
                                     sa.ForeignKey("organisations.id", ondelete="SET NULL")))
    op.add_column("plans", sa.Column("organisation_id", sa.Integer,
                                     sa.ForeignKey("organisations.id", ondelete="SET NULL")))
    op.create_index("ix_plans_organisation_id", "plans", ["organisation_id"])
    op.create_table(
        "candidacies",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("plans.id", ondelete="SET NULL")),
        sa.Column("departement", sa.String(3), sa.ForeignKey("departements.code"),
                  nullable=False),
        sa.Column("organisation_id", sa.Integer,
                  sa.ForeignKey("organisations.id", ondelete="SET NULL")),
        sa.Column("organisation_name", sa.String(200)),
        sa.Column("candidate_key", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("snapshot", postgresql.JSONB, nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("submitted_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("submitted_by_name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="deposee"),
        sa.Column("decision_comment", sa.Text),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("decided_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("decided_by_name", sa.String(200)),
        sa.CheckConstraint("status IN ('deposee', 'retenue', 'non_retenue')",
                           name="candidacies_status"),
        sa.CheckConstraint("version >= 1", name="candidacies_version"),
        sa.UniqueConstraint("departement", "candidate_key", "version",
                            name="candidacies_version_unique"),
    )
    op.create_index("ix_candidacies_departement", "candidacies", ["departement"])
    op.create_index("ix_candidacies_plan_id", "candidacies", ["plan_id"])
    op.execute(_IMMUTABLE)
    op.execute("CREATE TRIGGER candidacies_immutable BEFORE UPDATE ON candidacies "
               "FOR EACH ROW EXECUTE FUNCTION candidacies_immutable()")


def downgrade() -> None:
    op.execute("DROP TRIGGER candidacies_immutable ON candidacies")
    op.execute("DROP FUNCTION candidacies_immutable()")
    op.drop_table("candidacies")
    op.drop_index("ix_plans_organisation_id", "plans")
    op.drop_column("plans", "organisation_id")
    op.drop_column("users", "organisation_id")
    op.drop_table("organisations")
