"""Resource directory: categories, structures, services (data·inclusion + FINESS).

Revision ID: 0003_directory
Revises: 0002_plans
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql as pg

from alembic import op

revision = "0003_directory"
down_revision = "0002_plans"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("code", sa.String(40), primary_key=True,
                  comment="FINESS categetab, or hors-finess:xxx"),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("short_label", sa.String(100)),
        sa.Column("sector", sa.String(20), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.CheckConstraint("sector IN ('sanitaire', 'medico-social', 'social')",
                           name="categories_sector"),
    )
    op.create_table(
        "structures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("source_id", sa.String(100), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("category_code", sa.String(40), sa.ForeignKey("categories.code")),
        sa.Column("sector", sa.String(20)),
        sa.Column("finess_et", sa.String(9)),
        sa.Column("finess_ej", sa.String(9)),
        sa.Column("siret", sa.String(14)),
        sa.Column("address", sa.String(300)),
        sa.Column("postal_code", sa.String(5)),
        sa.Column("commune_code", sa.String(5), sa.ForeignKey("communes.code")),
        sa.Column("commune_name", sa.String(200)),
        # WGS84 point: the search measures with geography (metres on the ellipsoid).
        sa.Column("point", Geometry("POINT", srid=4326, spatial_index=False)),
        sa.Column("approximate_location", sa.Boolean, nullable=False,
                  server_default=sa.false()),
        sa.Column("phone", sa.String(40)),
        sa.Column("email", sa.String(200)),
        sa.Column("website", sa.String(300)),
        sa.Column("opening_hours", sa.String(300)),
        sa.Column("description", sa.Text),
        sa.Column("last_verified", sa.Date),
        sa.Column("search_text", sa.Text, nullable=False, server_default=""),
        sa.Column("search_vector", pg.TSVECTOR,
                  sa.Computed("to_tsvector('french'::regconfig, search_text)", persisted=True)),
        sa.Column("content_hash", sa.String(64), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.UniqueConstraint("source", "source_id", name="structures_source_uid"),
        sa.CheckConstraint("sector IS NULL OR sector IN ('sanitaire', 'medico-social', 'social')",
                           name="structures_sector"),
    )
    op.create_index("ix_structures_category", "structures", ["category_code"])
    op.create_index("ix_structures_commune", "structures", ["commune_code"])
    op.create_index("ix_structures_sector", "structures", ["sector"])
    op.create_index("ix_structures_point_geog", "structures",
                    [sa.text("(point::geography)")], postgresql_using="gist")
    op.create_index("ix_structures_search_vector", "structures", ["search_vector"],
                    postgresql_using="gin")
    op.create_index("ix_structures_search_trgm", "structures",
                    [sa.text("search_text gin_trgm_ops")], postgresql_using="gin")
    op.create_table(
        "services",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("structure_id", sa.Integer,
                  sa.ForeignKey("structures.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("publics", pg.ARRAY(sa.String(60)), nullable=False, server_default="{}"),
        sa.Column("thematiques", pg.ARRAY(sa.String(120)), nullable=False, server_default="{}"),
        sa.Column("access_conditions", sa.Text),
        sa.Column("fees", sa.String(40)),
        sa.Column("fees_details", sa.Text),
        sa.Column("zone_type", sa.String(20)),
        sa.Column("zone_codes", pg.ARRAY(sa.String(9)), nullable=False, server_default="{}"),
        sa.CheckConstraint(
            "zone_type IS NULL OR zone_type IN ('commune', 'epci', 'departement')",
            name="services_zone_type"),
    )
    op.create_index("ix_services_structure", "services", ["structure_id"])
    op.create_index("ix_services_publics", "services", ["publics"], postgresql_using="gin")
    op.create_index("ix_services_zone_codes", "services", ["zone_codes"],
                    postgresql_using="gin")


def downgrade() -> None:
    op.drop_table("services")
    op.drop_table("structures")
    op.drop_table("categories")
