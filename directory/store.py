"""Write directory records to PostGIS: upsert by (source, source id), one transaction.

A record without coordinates is placed at its commune's representative point and flagged
« localisation approximative »; a record with coordinates but no commune gets the commune
that contains its point.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from directory.records import ReadResult, Rejection, StructureRecord
from directory.taxonomy import KEYWORDS, Category
from geo.text import fold

#: A record not verified for longer than this is flagged stale.
STALE_AFTER = timedelta(days=365)


@dataclass
class ImportReport:
    source: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    approximate: list[str] = field(default_factory=list)

    def summary_fr(self) -> str:
        lines = [f"Import {self.source} : {len(self.created)} créée(s), {len(self.updated)} "
                 f"mise(s) à jour, {len(self.unchanged)} inchangée(s), "
                 f"{len(self.rejected)} rejetée(s)."]
        if self.approximate:
            lines.append(f"Localisation approximative (placées à leur commune) : "
                         f"{len(self.approximate)}")
        lines += [f"  rejet {r}" for r in self.rejected]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["rejected"] = [{"line": r.line, "id": r.source_id, "reason": r.reason}
                         for r in self.rejected]
        return d


def sync_categories(session: Session, categories: list[Category]) -> None:
    """Insert or update the taxonomy (idempotent)."""
    session.execute(text(
        "INSERT INTO categories (code, label, short_label, sector, source, active) "
        "VALUES (:code, :label, :short_label, :sector, :source, :active) "
        "ON CONFLICT (code) DO UPDATE SET label = EXCLUDED.label, "
        "short_label = EXCLUDED.short_label, sector = EXCLUDED.sector, "
        "source = EXCLUDED.source, active = EXCLUDED.active"),
        [asdict(c) for c in categories])


def _hash(record: StructureRecord) -> str:
    payload = json.dumps(asdict(record), sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def search_text(record: StructureRecord, *, category_label: str, commune_name: str) -> str:
    """Folded text indexed for full-text and trigram search."""
    parts = [record.name, category_label, KEYWORDS.get(record.category_code or "", ""),
             commune_name, record.description or ""]
    for service in record.services:
        parts += [service.name, " ".join(service.publics)]
    return fold(" ".join(p for p in parts if p))


def upsert(session: Session, result: ReadResult, *, source_label: str) -> ImportReport:
    """Upsert ``result.records``; rejections of the reader are carried into the report."""
    report = ImportReport(source=source_label, rejected=list(result.rejections))
    labels: dict[str, str] = {r.code: r.label for r in session.execute(
        text("SELECT code, label FROM categories"))}
    sectors: dict[str, str] = {r.code: r.sector for r in session.execute(
        text("SELECT code, sector FROM categories"))}
    existing = {(r.source, r.source_id): (r.id, r.content_hash) for r in session.execute(
        text("SELECT id, source, source_id, content_hash FROM structures"))}
    for record in result.records:
        if record.category_code and record.category_code not in labels:
            report.rejected.append(Rejection(0, f"catégorie inconnue « {record.category_code} »",
                                             record.source_id))
            continue
        commune = _resolve_commune(session, record)
        if commune is None and record.lon is None:
            report.rejected.append(Rejection(
                0, "ni coordonnées ni commune connue : impossible de localiser",
                record.source_id))
            continue
        digest = _hash(record)
        key = (record.source, record.source_id)
        if key in existing and existing[key][1] == digest:
            report.unchanged.append(record.source_id)
            continue
        approximate = record.lon is None or record.lat is None
        if approximate:
            report.approximate.append(record.source_id)
        values = {
            "source": record.source, "source_id": record.source_id, "name": record.name,
            "category_code": record.category_code,
            "sector": sectors.get(record.category_code or ""),
            "finess_et": record.finess_et, "finess_ej": record.finess_ej,
            "siret": record.siret, "address": record.address, "postal_code": record.postal_code,
            "commune_code": commune[0] if commune else None,
            "commune_name": commune[1] if commune else record.commune_name,
            "lon": record.lon, "lat": record.lat, "approximate": approximate,
            "phone": record.phone, "email": record.email, "website": record.website,
            "opening_hours": record.opening_hours, "description": record.description,
            "last_verified": record.last_verified,
            "search_text": search_text(record, category_label=labels.get(
                record.category_code or "", ""), commune_name=commune[1] if commune else ""),
            "hash": digest,
        }
        values["commune_ref"] = values["commune_code"]
        point_sql = ("CASE WHEN CAST(:approximate AS boolean) THEN (SELECT ST_Transform(point, 4326) "
                     "FROM communes WHERE code = CAST(:commune_ref AS varchar)) ELSE ST_SetSRID("
                     "ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326) END")
        # Constant SQL fragments only; every value is a bound parameter.
        row = session.execute(text(f"""
            INSERT INTO structures (source, source_id, name, category_code, sector, finess_et,
                finess_ej, siret, address, postal_code, commune_code, commune_name, point,
                approximate_location, phone, email, website, opening_hours, description,
                last_verified, search_text, content_hash)
            VALUES (:source, :source_id, :name, :category_code, :sector, :finess_et, :finess_ej,
                :siret, :address, :postal_code, :commune_code, :commune_name, {point_sql},
                :approximate, :phone, :email, :website, :opening_hours, :description,
                :last_verified, :search_text, :hash)
            ON CONFLICT (source, source_id) DO UPDATE SET
                name = EXCLUDED.name, category_code = EXCLUDED.category_code,
                sector = EXCLUDED.sector, finess_et = EXCLUDED.finess_et,
                finess_ej = EXCLUDED.finess_ej, siret = EXCLUDED.siret,
                address = EXCLUDED.address, postal_code = EXCLUDED.postal_code,
                commune_code = EXCLUDED.commune_code, commune_name = EXCLUDED.commune_name,
                point = EXCLUDED.point, approximate_location = EXCLUDED.approximate_location,
                phone = EXCLUDED.phone, email = EXCLUDED.email, website = EXCLUDED.website,
                opening_hours = EXCLUDED.opening_hours, description = EXCLUDED.description,
                last_verified = EXCLUDED.last_verified, search_text = EXCLUDED.search_text,
                content_hash = EXCLUDED.content_hash, updated_at = now()
            RETURNING id"""), values).one()  # noqa: S608
        session.execute(text("DELETE FROM services WHERE structure_id = :id"), {"id": row.id})
        for service in record.services:
            session.execute(text(
                "INSERT INTO services (structure_id, name, description, publics, thematiques, "
                "access_conditions, fees, fees_details, zone_type, zone_codes) VALUES (:sid, "
                ":name, :description, :publics, :thematiques, :access, :fees, :fees_details, "
                ":zone_type, :zone_codes)"),
                {"sid": row.id, "name": service.name, "description": service.description,
                 "publics": service.publics, "thematiques": service.thematiques,
                 "access": service.access_conditions, "fees": service.fees,
                 "fees_details": service.fees_details, "zone_type": service.zone_type,
                 "zone_codes": service.zone_codes})
        (report.updated if key in existing else report.created).append(record.source_id)
    return report


def _resolve_commune(session: Session, record: StructureRecord) -> tuple[str, str] | None:
    if record.commune_code:
        row = session.execute(text("SELECT code, nom FROM communes WHERE code = :c"),
                              {"c": record.commune_code}).one_or_none()
        if row is not None:
            return row.code, row.nom
    if record.lon is not None and record.lat is not None:
        row = session.execute(text(
            "SELECT code, nom FROM communes WHERE ST_Contains(geom, ST_Transform("
            "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 2154)) LIMIT 1"),
            {"lon": record.lon, "lat": record.lat}).one_or_none()
        if row is not None:
            return row.code, row.nom
    return None


def stale(session: Session, *, dept: str | None = None, today: date | None = None
          ) -> list[dict[str, Any]]:
    """Structures not verified for more than 12 months (or never)."""
    limit = (today or date.today()) - STALE_AFTER
    rows = session.execute(text(
        "SELECT id, name, source, source_id, commune_code, commune_name, last_verified "
        "FROM structures WHERE (last_verified IS NULL OR last_verified < :limit) "
        "AND (:dept = '' OR commune_code LIKE :dept || '%') ORDER BY last_verified NULLS FIRST, name"),
        {"limit": limit, "dept": dept or ""}).mappings().all()
    return [dict(r) for r in rows]
