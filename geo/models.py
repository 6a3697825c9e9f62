"""Communes reference tables (as PnX-SI RefGeo does for French administrative areas).

Geometries are stored in Lambert-93 (EPSG:2154), not WGS84: every measure the product
makes (areas, adjacency, distances to antennas, isochrones) is done in metres inside
PostGIS or GEOS without reprojecting on each query, and Lambert-93 is the legal CRS of
metropolitan France. Serving is the exception, done once per response with
``ST_Transform(geom, 4326)``. Overseas départements would need their own local CRS.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import JSON, DateTime, ForeignKey, Integer, SmallInteger, String, func
from sqlalchemy.orm import Mapped, mapped_column

from geo.db import Base


class Departement(Base):
    __tablename__ = "departements"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    nom: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(3))


class Epci(Base):
    __tablename__ = "epcis"

    code: Mapped[str] = mapped_column(String(9), primary_key=True, comment="SIREN")
    nom: Mapped[str] = mapped_column(String(200))
    population: Mapped[int | None] = mapped_column(Integer)


class Commune(Base):
    __tablename__ = "communes"

    code: Mapped[str] = mapped_column(String(5), primary_key=True, comment="code INSEE")
    nom: Mapped[str] = mapped_column(String(200))
    departement: Mapped[str] = mapped_column(ForeignKey("departements.code"), index=True)
    region: Mapped[str | None] = mapped_column(String(3))
    epci: Mapped[str | None] = mapped_column(ForeignKey("epcis.code"), index=True)
    population: Mapped[int | None] = mapped_column(Integer)
    population_vintage: Mapped[int | None] = mapped_column(SmallInteger)
    cog_vintage: Mapped[int | None] = mapped_column(SmallInteger)
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=2154, spatial_index=False))
    point: Mapped[Any] = mapped_column(Geometry("POINT", srid=2154, spatial_index=False),
                                       comment="point représentatif, toujours dans le polygone")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())


class CommuneLoad(Base):
    """History of loads: what changed, and the count used to catch a truncated source."""

    __tablename__ = "commune_loads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    departement: Mapped[str] = mapped_column(String(3), index=True)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                server_default=func.now())
    source: Mapped[str] = mapped_column(String(500))
    communes: Mapped[int] = mapped_column(Integer)
    population: Mapped[int] = mapped_column(Integer)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
