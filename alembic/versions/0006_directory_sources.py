"""Directory: one record per establishment across sources, closed records, display names.

* ``structure_sources``: every source that describes a structure (source, source id, the
  source's date, the fields it gave, their hash). A structure's columns are the merge of
  its sources, field by field, the most recent source first.
* ``structures.finess_et`` is unique when known: one structure per FINESS ET.
* ``structures.status`` / ``closed_at``: records that disappear from a newer extract of
  their source are closed, not deleted, and leave search.
* ``services.opening_hours``: a service's own hours (FHIR ``availableTime``).
* ``display_name`` (normal case, for people) next to ``official_name`` (as registered);
  ``last_updated`` is the date of the most recent source.

Revision ID: 0006_directory_sources
Revises: 0005_security
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from alembic import op

revision = "0006_directory_sources"
down_revision = "0005_security"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("structures", sa.Column("display_name", sa.String(300)))
    op.add_column("structures", sa.Column("official_name", sa.String(300)))
    op.add_column("structures", sa.Column("last_updated", sa.Date))
    op.add_column("structures", sa.Column("status", sa.String(10), nullable=False,
                                          server_default="open"))
    op.add_column("structures", sa.Column("closed_at", sa.Date))
    op.create_check_constraint("structures_status", "structures",
                               "status IN ('open', 'closed')")
    # Earlier imports may hold the same FINESS ET twice (GISCO + FINESS CSV): keep the
    # most recently updated row's number, forget it on the others before the unique index.
    op.execute("""
        UPDATE structures s SET finess_et = NULL
        WHERE finess_et IS NOT NULL AND EXISTS (
            SELECT 1 FROM structures o WHERE o.finess_et = s.finess_et AND o.id <> s.id
            AND (o.updated_at, o.id) > (s.updated_at, s.id))""")
    op.create_index("ux_structures_finess_et", "structures", ["finess_et"], unique=True,
                    postgresql_where=sa.text("finess_et IS NOT NULL"))
    op.create_index("ix_structures_status", "structures", ["status"])
    op.add_column("services", sa.Column("opening_hours", sa.String(300)))
    op.create_table(
        "structure_sources",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("structure_id", sa.Integer,
                  sa.ForeignKey("structures.id", ondelete="CASCADE"), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("source_id", sa.String(100), nullable=False),
        sa.Column("source_date", sa.Date),
        sa.Column("fields", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("content_hash", sa.String(64), nullable=False, server_default=""),
        sa.Column("closed_at", sa.Date),
        sa.Column("seen_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.UniqueConstraint("source", "source_id", name="structure_sources_uid"),
    )
    op.create_index("ix_structure_sources_structure", "structure_sources", ["structure_id"])
    # Existing structures: their own source becomes their first source row, with the
    # fields they hold (an empty hash: the next import of that source refreshes it).
    op.execute("""
        INSERT INTO structure_sources (structure_id, source, source_id, source_date, fields)
        SELECT id, source, source_id, last_verified, jsonb_build_object(
            'source', source, 'source_id', source_id, 'name', name,
            'category_code', category_code, 'finess_et', finess_et, 'finess_ej', finess_ej,
            'siret', siret, 'address', address, 'postal_code', postal_code,
            'commune_code', commune_code, 'commune_name', commune_name,
            'lon', CASE WHEN approximate_location THEN NULL ELSE ST_X(point) END,
            'lat', CASE WHEN approximate_location THEN NULL ELSE ST_Y(point) END,
            'approximate', approximate_location, 'phone', phone, 'email', email,
            'website', website, 'opening_hours', opening_hours, 'description', description,
            'last_verified', last_verified, 'services', '[]'::jsonb)
        FROM structures""")
    op.execute("UPDATE structures SET official_name = name, display_name = name, "
               "last_updated = last_verified")


def downgrade() -> None:
    op.drop_column("services", "opening_hours")
    op.drop_table("structure_sources")
    op.drop_index("ix_structures_status", table_name="structures")
    op.drop_index("ux_structures_finess_et", table_name="structures")
    op.drop_constraint("structures_status", "structures", type_="check")
    for column in ("closed_at", "status", "last_updated", "official_name", "display_name"):
        op.drop_column("structures", column)
