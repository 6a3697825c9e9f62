"""Resource directory tables, aligned with data·inclusion (structure / service) and FINESS.

Points are stored in WGS84 (EPSG:4326) because the search measures distances with
PostGIS ``geography`` (metres on the ellipsoid), which needs lon/lat; a functional GiST
index on ``point::geography`` serves those queries.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    Boolean,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

import geo.models  # noqa: F401  (the referenced tables: departements, communes)
from geo.db import Base

SECTORS = ("sanitaire", "medico-social", "social")


class CategoryRow(Base):
    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    short_label: Mapped[str | None] = mapped_column(String(100))
    sector: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class StructureRow(Base):
    __tablename__ = "structures"
    __table_args__ = (
        UniqueConstraint("source", "source_id", name="structures_source_uid"),
        Index("ux_structures_finess_et", "finess_et", unique=True,
              postgresql_where=text("finess_et IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    source_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    display_name: Mapped[str | None] = mapped_column(String(300))
    official_name: Mapped[str | None] = mapped_column(String(300))
    category_code: Mapped[str | None] = mapped_column(ForeignKey("categories.code"))
    sector: Mapped[str | None] = mapped_column(String(20))
    finess_et: Mapped[str | None] = mapped_column(String(9))
    finess_ej: Mapped[str | None] = mapped_column(String(9))
    siret: Mapped[str | None] = mapped_column(String(14))
    address: Mapped[str | None] = mapped_column(String(300))
    postal_code: Mapped[str | None] = mapped_column(String(5))
    commune_code: Mapped[str | None] = mapped_column(ForeignKey("communes.code"))
    commune_name: Mapped[str | None] = mapped_column(String(200))
    point: Mapped[Any] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    approximate_location: Mapped[bool] = mapped_column(Boolean, default=False)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(String(300))
    opening_hours: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    last_verified: Mapped[date | None] = mapped_column(Date)
    last_updated: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), server_default="open")
    closed_at: Mapped[date | None] = mapped_column(Date)
    #: Temporary closure (works, staff holidays): from, until (None: until further notice).
    closed_from: Mapped[date | None] = mapped_column(Date)
    closed_until: Mapped[date | None] = mapped_column(Date)
    closure_reason: Mapped[str | None] = mapped_column(String(300))
    search_text: Mapped[str] = mapped_column(Text, default="")
    search_vector: Mapped[Any] = mapped_column(
        TSVECTOR, Computed("to_tsvector('french'::regconfig, search_text)", persisted=True))
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    services: Mapped[list[ServiceRow]] = relationship(
        back_populates="structure", cascade="all, delete-orphan", order_by="ServiceRow.id")
    sources: Mapped[list[StructureSourceRow]] = relationship(
        back_populates="structure", cascade="all, delete-orphan",
        order_by="StructureSourceRow.id")


class StructureSourceRow(Base):
    """One source describing a structure: its id there, its date, the fields it gave."""

    __tablename__ = "structure_sources"
    __table_args__ = (UniqueConstraint("source", "source_id", name="structure_sources_uid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(40))
    source_id: Mapped[str] = mapped_column(String(100))
    source_date: Mapped[date | None] = mapped_column(Date)
    fields: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    content_hash: Mapped[str] = mapped_column(String(64), server_default="")
    closed_at: Mapped[date | None] = mapped_column(Date)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    structure: Mapped[StructureRow] = relationship(back_populates="sources")


class ServiceRow(Base):
    __tablename__ = "services"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    publics: Mapped[list[str]] = mapped_column(ARRAY(String(60)), default=list)
    thematiques: Mapped[list[str]] = mapped_column(ARRAY(String(120)), default=list)
    access_conditions: Mapped[str | None] = mapped_column(Text)
    fees: Mapped[str | None] = mapped_column(String(40))
    fees_details: Mapped[str | None] = mapped_column(Text)
    zone_type: Mapped[str | None] = mapped_column(String(20))
    zone_codes: Mapped[list[str]] = mapped_column(ARRAY(String(9)), default=list)
    opening_hours: Mapped[str | None] = mapped_column(String(300))
    structure: Mapped[StructureRow] = relationship(back_populates="services")
