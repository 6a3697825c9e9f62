"""Search the directory: French full text, accent- and typo-tolerant, with filters.

Text is folded (lowercase, no accents) in Python when stored and when queried, so the
index needs no ``unaccent`` at query time. Each query word must match the structure's
text either through French stemming (``to_tsvector('french', …)``, prefix match) or
through trigram word similarity (``pg_trgm``), which absorbs typos: ``ehpad ysingeaux``
finds the EHPAD of Yssingeaux. Distances use PostGIS ``geography`` (metres on the
ellipsoid).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from directory.store import STALE_AFTER
from geo.errors import MaillageError
from geo.text import fold

MAX_PER_PAGE = 100
#: Minimum trigram word similarity for a query word to match despite a typo.
WORD_SIMILARITY = 0.5
SECTORS = ("sanitaire", "medico-social", "social")


@dataclass
class SearchQuery:
    q: str = ""
    sector: str | None = None
    category: str | None = None
    public: str | None = None
    commune: str | None = None     # INSEE code: centre of the radius search
    lat: float | None = None
    lon: float | None = None
    radius_km: float | None = None
    serves: str | None = None      # INSEE code: territory of intervention covers it
    sort: str = "relevance"        # relevance | distance
    page: int = 1
    per_page: int = 20

    def validate(self) -> None:
        if self.sector and self.sector not in SECTORS:
            raise MaillageError(f"Secteur inconnu « {self.sector} » (sanitaire, medico-social, social).")
        if self.sort not in {"relevance", "distance"}:
            raise MaillageError("Tri inconnu : relevance ou distance.")
        if self.page < 1 or self.per_page < 1:
            raise MaillageError("La page et la taille de page doivent être positives.")
        if self.per_page > MAX_PER_PAGE:
            raise MaillageError(f"Taille de page limitée à {MAX_PER_PAGE}.")
        if (self.lat is None) != (self.lon is None):
            raise MaillageError("Indiquez à la fois lat et lon.")
        if self.lat is not None and not (-90 <= self.lat <= 90 and -180 <= (self.lon or 0) <= 180):
            raise MaillageError("Coordonnées hors limites.")
        if self.radius_km is not None and not (0 < self.radius_km <= 500):
            raise MaillageError("Le rayon doit être compris entre 0 et 500 km.")


def _words(q: str) -> list[str]:
    return [w for w in fold(q).split() if len(w) >= 2][:8]


def search(conn: Connection, query: SearchQuery, *, today: date | None = None) -> dict[str, Any]:
    """Run a search; returns a GeoJSON FeatureCollection with ``total``, ``page``…"""
    query.validate()
    conn.execute(text("SELECT set_config('pg_trgm.word_similarity_threshold', :v, true)"),
                 {"v": str(WORD_SIMILARITY)})
    params: dict[str, Any] = {"limit": query.per_page,
                              "offset": (query.page - 1) * query.per_page}
    where: list[str] = ["s.point IS NOT NULL", "s.status = 'open'"]
    rank_terms: list[str] = []
    for i, word in enumerate(_words(query.q)):
        params[f"w{i}"] = word
        params[f"t{i}"] = re.sub(r"[^a-z0-9]", "", word) + ":*"
        # "<%" is word_similarity ≥ pg_trgm.word_similarity_threshold, served by the GIN
        # trigram index (a plain word_similarity() call would scan every row).
        where.append(f"(s.search_vector @@ to_tsquery('french', :t{i}) "
                     f"OR :w{i} <% s.search_text)")
        rank_terms.append(f"word_similarity(:w{i}, s.search_text)")
        rank_terms.append(f"ts_rank(s.search_vector, to_tsquery('french', :t{i}))")
    if query.sector:
        where.append("s.sector = :sector")
        params["sector"] = query.sector
    if query.category:
        where.append("s.category_code = :category")
        params["category"] = query.category
    if query.public:
        where.append("EXISTS (SELECT 1 FROM services v WHERE v.structure_id = s.id "
                     "AND :public = ANY(v.publics))")
        params["public"] = query.public
    center = None
    if query.commune:
        row = conn.execute(text("SELECT ST_X(ST_Transform(point, 4326)) AS lon, "
                                "ST_Y(ST_Transform(point, 4326)) AS lat FROM communes "
                                "WHERE code = :c"), {"c": query.commune}).one_or_none()
        if row is None:
            raise MaillageError(f"Commune inconnue « {query.commune} ».")
        center = (row.lon, row.lat)
    elif query.lat is not None and query.lon is not None:
        center = (query.lon, query.lat)
    distance_sql = "NULL::float"
    if center is not None:
        params["clon"], params["clat"] = center
        point = "ST_SetSRID(ST_MakePoint(:clon, :clat), 4326)::geography"
        distance_sql = f"ST_Distance(s.point::geography, {point}) / 1000.0"
        if query.radius_km:
            where.append(f"ST_DWithin(s.point::geography, {point}, :radius)")
            params["radius"] = query.radius_km * 1000.0
    if query.serves:
        row = conn.execute(text("SELECT code, epci, departement FROM communes WHERE code = :c"),
                           {"c": query.serves}).one_or_none()
        if row is None:
            raise MaillageError(f"Commune inconnue « {query.serves} ».")
        where.append(
            "EXISTS (SELECT 1 FROM services v WHERE v.structure_id = s.id AND ("
            "(v.zone_type = 'commune' AND :sc = ANY(v.zone_codes)) OR "
            "(v.zone_type = 'epci' AND :se = ANY(v.zone_codes)) OR "
            "(v.zone_type = 'departement' AND :sd = ANY(v.zone_codes))))")
        params.update(sc=row.code, se=row.epci or "", sd=row.departement)
    rank_sql = " + ".join(rank_terms) if rank_terms else "0"
    if query.sort == "distance" and center is not None:
        order = "distance_km ASC, s.name"
    elif rank_terms:
        order = "rank DESC, distance_km ASC NULLS LAST, s.name"
    else:
        order = "distance_km ASC NULLS LAST, s.name"
    # Built from constant fragments only; every user value is a bound parameter.
    sql = f"""
        SELECT s.id, s.name, s.category_code, c.label AS category_label, s.sector,
               s.commune_code, s.commune_name, s.address, s.phone, s.approximate_location,
               s.last_verified, s.finess_et, s.display_name, s.official_name,
               s.opening_hours, s.last_updated, {SOURCES_SQL} AS sources,
               ST_X(s.point) AS lon, ST_Y(s.point) AS lat,
               {distance_sql} AS distance_km, {rank_sql} AS rank,
               count(*) OVER () AS total
        FROM structures s LEFT JOIN categories c ON c.code = s.category_code
        WHERE {' AND '.join(where)}
        ORDER BY {order}
        LIMIT :limit OFFSET :offset"""  # noqa: S608
    rows = conn.execute(text(sql), params).mappings().all()
    limit_date = (today or date.today()) - STALE_AFTER
    features = []
    for r in rows:
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(r["lon"], 6), round(r["lat"], 6)]},
            "properties": {
                "id": r["id"], "name": r["name"], "category_code": r["category_code"],
                "category_label": r["category_label"], "sector": r["sector"],
                "commune_code": r["commune_code"], "commune_name": r["commune_name"],
                "address": r["address"], "phone": r["phone"],
                "distance_km": None if r["distance_km"] is None
                else round(float(r["distance_km"]), 2),
                "approximate_location": r["approximate_location"],
                "last_verified": r["last_verified"].isoformat() if r["last_verified"] else None,
                "stale": r["last_verified"] is None or r["last_verified"] < limit_date,
                "finess_et": r["finess_et"], "display_name": r["display_name"],
                "official_name": r["official_name"], "opening_hours": r["opening_hours"],
                "last_updated": r["last_updated"].isoformat() if r["last_updated"] else None,
                "sources": _sources(r["sources"]),
            }})
    total = int(rows[0]["total"]) if rows else 0
    return {"type": "FeatureCollection", "features": features, "total": total,
            "page": query.page, "per_page": query.per_page,
            "pages": math.ceil(total / query.per_page) if total else 0}


#: People-facing names of the sources (never a technical identifier on a page).
SOURCE_LABELS = {"finess": "FINESS", "gisco-finess-2020": "Eurostat GISCO (hôpitaux, dérivé de "
                 "FINESS)", "france-services": "ANCT, France Services",
                 "datainclusion": "data·inclusion", "csv": "Fichier de la coordination",
                 "ror": "ROR"}
SOURCES_SQL = ("(SELECT coalesce(json_agg(json_build_object('source', ss.source, 'date', "
               "ss.source_date) ORDER BY ss.source_date DESC NULLS LAST, ss.id), '[]'::json) "
               "FROM structure_sources ss WHERE ss.structure_id = s.id AND ss.closed_at IS NULL)")


def source_label_fr(source: str, day: date | str | None) -> str:
    """« FINESS (extraction du 08/01/2021) »: the source's name and date, for people."""
    name = SOURCE_LABELS.get(source, source.split(":")[0].replace("-", " ").capitalize())
    if isinstance(day, str):
        day = date.fromisoformat(day[:10])
    return f"{name} (extraction du {day.strftime('%d/%m/%Y')})" if day else name


def _sources(value: Any) -> list[dict[str, Any]]:
    return [{"source": item["source"], "date": item["date"],
             "label": source_label_fr(item["source"], item["date"])} for item in value or []]


def structure_detail(conn: Connection, structure_id: int, *, today: date | None = None
                     ) -> dict[str, Any] | None:
    # SOURCES_SQL is a constant fragment; the id is a bound parameter.
    row = conn.execute(text(
        f"SELECT s.*, ST_X(s.point) AS lon, ST_Y(s.point) AS lat, c.label AS category_label, "  # noqa: S608
        f"{SOURCES_SQL} AS sources "
        "FROM structures s LEFT JOIN categories c ON c.code = s.category_code "
        "WHERE s.id = :id"), {"id": structure_id}).mappings().one_or_none()
    if row is None:
        return None
    services = conn.execute(text(
        "SELECT id, name, description, publics, thematiques, access_conditions, fees, "
        "fees_details, zone_type, zone_codes, opening_hours FROM services "
        "WHERE structure_id = :id ORDER BY id"),
        {"id": structure_id}).mappings().all()
    limit_date = (today or date.today()) - STALE_AFTER
    out = {k: row[k] for k in ("id", "name", "category_code", "category_label", "sector",
                               "finess_et", "finess_ej", "siret", "address", "postal_code",
                               "commune_code", "commune_name", "approximate_location", "phone",
                               "email", "website", "opening_hours", "description", "source",
                               "source_id", "display_name", "official_name", "status")}
    out["sources"] = _sources(row["sources"])
    out["last_updated"] = row["last_updated"].isoformat() if row["last_updated"] else None
    out["closed_at"] = row["closed_at"].isoformat() if row["closed_at"] else None
    out["lon"], out["lat"] = row["lon"], row["lat"]
    out["last_verified"] = row["last_verified"].isoformat() if row["last_verified"] else None
    out["stale"] = row["last_verified"] is None or row["last_verified"] < limit_date
    out["services"] = [dict(s) for s in services]
    return out
