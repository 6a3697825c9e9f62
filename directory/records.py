"""Plain records produced by the readers, before they reach the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass
class ServiceRecord:
    """A service offered by a structure (data·inclusion « service »)."""

    name: str
    description: str | None = None
    publics: list[str] = field(default_factory=list)
    thematiques: list[str] = field(default_factory=list)
    access_conditions: str | None = None
    fees: str | None = None
    fees_details: str | None = None
    zone_type: str | None = None  # commune | epci | departement
    zone_codes: list[str] = field(default_factory=list)


@dataclass
class StructureRecord:
    """A structure (establishment, service provider), identified by (source, source_id)."""

    source: str
    source_id: str
    name: str
    category_code: str | None = None
    finess_et: str | None = None
    finess_ej: str | None = None
    siret: str | None = None
    address: str | None = None
    postal_code: str | None = None
    commune_code: str | None = None
    commune_name: str | None = None
    lon: float | None = None
    lat: float | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    opening_hours: str | None = None
    description: str | None = None
    last_verified: date | None = None
    services: list[ServiceRecord] = field(default_factory=list)


@dataclass
class Rejection:
    """A line left out, with the reason in French."""

    line: int
    reason: str
    source_id: str | None = None

    def __str__(self) -> str:
        ident = f" ({self.source_id})" if self.source_id else ""
        return f"ligne {self.line}{ident} : {self.reason}"


@dataclass
class ReadResult:
    records: list[StructureRecord] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
