"""Communes reference: départements, EPCI, communes, load history.

Revision ID: 0001_communes
Revises:
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from geoalchemy2 import Geometry

from alembic import op

revision = "0001_communes"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Extensions need a superuser on most servers; the local cluster's script already
    # created them, so IF NOT EXISTS makes this a no-op there.
    for ext in ("postgis", "pg_trgm", "unaccent"):
        op.execute(f"CREATE EXTENSION IF NOT EXISTS {ext}")
    op.create_table(
        "departements",
        sa.Column("code", sa.String(3), primary_key=True),
        sa.Column("nom", sa.String(100)),
        sa.Column("region", sa.String(3)),
    )
    op.create_table(
        "epcis",
        sa.Column("code", sa.String(9), primary_key=True, comment="SIREN"),
        sa.Column("nom", sa.String(200), nullable=False),
        sa.Column("population", sa.Integer),
    )
    # spatial_index=False: the GiST indexes are created explicitly below, once
    # (GeoAlchemy2 would otherwise add a second, duplicated one).
    op.create_table(
        "communes",
        sa.Column("code", sa.String(5), primary_key=True, comment="code INSEE"),
        sa.Column("nom", sa.String(200), nullable=False),
        sa.Column("departement", sa.String(3), sa.ForeignKey("departements.code"),
                  nullable=False),
        sa.Column("region", sa.String(3)),
        sa.Column("epci", sa.String(9), sa.ForeignKey("epcis.code")),
        sa.Column("population", sa.Integer),
        sa.Column("population_vintage", sa.SmallInteger),
        sa.Column("cog_vintage", sa.SmallInteger),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=2154, spatial_index=False),
                  nullable=False),
        sa.Column("point", Geometry("POINT", srid=2154, spatial_index=False), nullable=False,
                  comment="point représentatif, toujours dans le polygone"),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.CheckConstraint(r"code ~ '^([0-9]{2}|2[AB])[0-9]{3}$'", name="communes_code_insee"),
        sa.CheckConstraint("ST_Within(point, geom)", name="communes_point_inside"),
    )
    op.create_index("ix_communes_departement", "communes", ["departement"])
    op.create_index("ix_communes_epci", "communes", ["epci"])
    op.create_index("ix_communes_geom", "communes", ["geom"], postgresql_using="gist")
    op.create_index("ix_communes_point", "communes", ["point"], postgresql_using="gist")
    # Accent- and case-insensitive name lookups (autocomplete).
    op.create_index("ix_communes_nom_trgm", "communes", [sa.text("lower(nom) gin_trgm_ops")],
                    postgresql_using="gin")
    op.create_table(
        "commune_loads",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("departement", sa.String(3), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("communes", sa.Integer, nullable=False),
        sa.Column("population", sa.Integer, nullable=False),
        sa.Column("changes", sa.JSON, nullable=False),
    )
    op.create_index("ix_commune_loads_departement", "commune_loads", ["departement"])


def downgrade() -> None:
    op.drop_table("commune_loads")
    op.drop_table("communes")
    op.drop_table("epcis")
    op.drop_table("departements")
